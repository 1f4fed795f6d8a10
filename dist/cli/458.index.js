export const id = 458;
export const ids = [458];
export const modules = {

/***/ 32458:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  storeEvidence: () => (/* binding */ storeEvidence)
});

// UNUSED EXPORTS: EVIDENCE_PREDICATE_TYPE, artifactName, artifactServiceMissing, attestationSubjects, evidencePrefixArn

// EXTERNAL MODULE: ./src/core/evidence/record.ts
var record = __webpack_require__(64524);
// EXTERNAL MODULE: ./src/core/redact.ts
var redact = __webpack_require__(12258);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./node_modules/@actions/artifact/lib/artifact.js + 302 modules
var artifact = __webpack_require__(91252);
;// CONCATENATED MODULE: ./src/adapters/evidence/artifact.ts
/**
 * An evidence record as a workflow artifact (SPEC §8.1 "Stored"), through `@actions/artifact`.
 *
 * The artifact service is reached with the job's runtime token (`ACTIONS_RUNTIME_TOKEN`) at
 * `ACTIONS_RESULTS_URL`; the runner gives every step both, and no workflow permission is needed.
 * Outside a runner (the CLI, a local run) neither is set: the artifact is skipped, never failed.
 */


/** Characters an artifact name cannot hold (`@actions/artifact`'s list: NTFS limits, and `/`, `\`). */
const NOT_IN_ARTIFACT_NAMES = /["\\:<>|*?\r\n/]/g;
/**
 * The artifact name of a record: `evidence-<site>-<env>-<run-id>-<attempt>-<command>`, from the
 * record's key `<site>/<env>/<run-id>-<attempt>-<command>.json` (artifact names cannot hold `/`).
 */
function artifactName(key) {
    const base = key
        .replace(/\.json$/, '')
        .split('/')
        .join('-');
    return `evidence-${base}`.replace(NOT_IN_ARTIFACT_NAMES, '_');
}
/**
 * Why the artifact service cannot be used in this process, or undefined when it can: both
 * `ACTIONS_RUNTIME_TOKEN` and `ACTIONS_RESULTS_URL` must be set (a runner sets them for every step).
 */
function artifactServiceMissing(env = process.env) {
    const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((name) => !env[name]);
    if (missing.length === 0)
        return undefined;
    return `no workflow artifact service here (${missing.join(' and ')} not set: not a GitHub Actions job)`;
}
/**
 * Uploads the record file at `path` as the artifact {@link artifactName}(key) — a zip holding the
 * one file. Without the artifact service it is a notice and `{ skipped }`; an upload that fails is a
 * warning and `{ failed }` (the record is still on disk and, with a bucket, in S3).
 */
async function uploadRecordArtifact(path, key, log) {
    const name = artifactName(key);
    const missing = artifactServiceMissing();
    if (missing) {
        log.notice(`evidence record not uploaded as an artifact: ${missing}`);
        return { skipped: missing };
    }
    try {
        const { id } = await new artifact/* DefaultArtifactClient */.t9().uploadArtifact(name, [path], (0,external_node_path_.dirname)(path));
        if (id === undefined)
            throw new Error('the artifact service returned no artifact id');
        log.notice(`evidence record uploaded as artifact ${name} (id ${id})`);
        return { id, name };
    }
    catch (e) {
        const message = `evidence record could not be uploaded as artifact ${name}: ${e instanceof Error ? e.message : String(e)}`;
        log.warning(message);
        return { failed: message };
    }
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: ./node_modules/@actions/attest/lib/index.js + 9 modules
var lib = __webpack_require__(49842);
;// CONCATENATED MODULE: ./src/adapters/evidence/attest.ts
/**
 * Attesting an evidence record with `@actions/attest` (SPEC §8.1 "Stored", input `attest: true`):
 * an in-toto statement signed with a Sigstore certificate, stored with GitHub's attestations API.
 *
 * The job needs `permissions: id-token: write` (the OIDC token Fulcio exchanges for a signing
 * certificate) and `attestations: write` (`POST /repos/{owner}/{repo}/attestations`), plus a token
 * that carries the latter (`github-token`, normally `GITHUB_TOKEN`). Attestations of private or
 * internal repositories use GitHub's own Sigstore instance, which GitHub offers on its Enterprise
 * Cloud plan; public repositories use the public-good instance (Fulcio and the Rekor log) — the log
 * entry holds the signing certificate (repository, workflow, commit) and digests, not the record.
 */


/** The predicate type of an evidence attestation. */
const EVIDENCE_PREDICATE_TYPE = 'https://site-deploy.dev/evidence/v1';
/**
 * The statement's subjects: the record, then each plan. The record's digest is the sha256 of the
 * file's exact bytes, trailing newline included — what `sha256sum` and `gh attestation verify
 * <file>` compute — and so differs from the record digest (`recordDigest`, which leaves the newline
 * out).
 */
function attestationSubjects(key, bytes, plans = []) {
    const record = (0,external_node_crypto_.createHash)('sha256').update(bytes, 'utf8').digest('hex');
    return [
        { name: key, digest: { sha256: record } },
        ...plans.map((p) => ({ name: p.name, digest: { sha256: p.sha256.replace(/^sha256:/, '') } })),
    ];
}
/**
 * Why `attest: true` cannot work in this process, or undefined: Sigstore needs an OIDC token, which a
 * job gets only with `permissions: id-token: write` (or `SIGSTORE_ID_TOKEN`).
 */
function attestationUnavailable(env = process.env) {
    if (env.SIGSTORE_ID_TOKEN)
        return undefined;
    if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
        return undefined;
    return 'attest: true needs an OIDC token for Sigstore: give the job `permissions: id-token: write` (and `attestations: write`)';
}
/**
 * Signs the statement (predicate type {@link EVIDENCE_PREDICATE_TYPE}, predicate = the record) and
 * writes it to the repository's attestations. Throws on any failure; the caller reports it.
 */
async function attestRecord(req) {
    const predicate = JSON.parse(req.bytes);
    const attestation = await (0,lib/* attest */.st)({
        subjects: attestationSubjects(req.key, req.bytes, req.plans),
        predicateType: EVIDENCE_PREDICATE_TYPE,
        predicate,
        token: req.token,
        ...(req.sigstore ? { sigstore: req.sigstore } : {}),
    });
    const id = attestation.attestationID === undefined ? undefined : String(attestation.attestationID);
    const server = (process.env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
    const repository = process.env.GITHUB_REPOSITORY;
    return {
        ...(id ? { id } : {}),
        ...(id && repository ? { url: `${server}/${repository}/attestations/${id}` } : {}),
        bundle: attestation.bundle,
    };
}

// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-s3/dist-cjs/index.js
var dist_cjs = __webpack_require__(53711);
;// CONCATENATED MODULE: ./src/adapters/evidence/s3.ts
/**
 * An evidence record in the S3 `evidence-bucket` (SPEC §8.1 "Stored"): one conditional write that
 * never overwrites, with a SHA-256 integrity header, under Object Lock retention when the bucket
 * has a default one.
 *
 * Permissions the writing role needs, on `arn:aws:s3:::<bucket>/<site>/<env>/*`:
 * - `s3:PutObject` — the write itself (required);
 * - `kms:GenerateDataKey` on the bucket's key when the bucket encrypts with SSE-KMS;
 * - `s3:GetObject` and `s3:GetObjectRetention` — optional: reading back the retention date, and
 *   telling a retried write of the same bytes (already stored) from a different record (refused).
 */


function s3Error(e) {
    const err = (e ?? {});
    return {
        code: err.Code ?? err.name ?? 'Error',
        status: err.$metadata?.httpStatusCode,
        message: err.message ?? String(e),
    };
}
/** `arn:aws:s3:::<bucket>/<site>/<env>/*`: the prefix a role must be able to write. */
function evidencePrefixArn(bucket, key) {
    const slash = key.lastIndexOf('/');
    return `arn:aws:s3:::${bucket}/${slash >= 0 ? key.slice(0, slash + 1) : ''}*`;
}
/**
 * Writes the record's bytes to `s3://bucket/key` with `If-None-Match: *`, `Content-Type:
 * application/json` and `x-amz-checksum-sha256` (S3 refuses a write to an Object Lock bucket
 * without an integrity header). A bucket's default Object Lock retention is applied by S3; the
 * object's retain-until date is read back with HeadObject and reported when there is one.
 *
 * An object already at the key (412 PreconditionFailed, or 409 ConditionalRequestConflict when
 * another write to it is in flight) is `{ refused }` — records are never overwritten — unless it
 * holds exactly these bytes (same SHA-256: an earlier attempt of this very write, retried by the
 * SDK after a lost reply), which counts as stored. Any other S3 error throws, naming the object,
 * the error code and HTTP status, and the permission needed.
 */
async function putRecord(s3, bucket, key, bytes) {
    const uri = `s3://${bucket}/${key}`;
    const checksum = (0,external_node_crypto_.createHash)('sha256').update(bytes, 'utf8').digest('base64');
    let versionId;
    try {
        const put = await s3.send(new dist_cjs.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: bytes,
            IfNoneMatch: '*',
            ContentType: 'application/json',
            ChecksumAlgorithm: 'SHA256',
            ChecksumSHA256: checksum,
        }));
        versionId = put.VersionId;
    }
    catch (e) {
        const { code, status, message } = s3Error(e);
        if (status === 412 ||
            status === 409 ||
            code === 'PreconditionFailed' ||
            code === 'ConditionalRequestConflict') {
            const existing = await head(s3, bucket, key);
            if (existing?.ChecksumSHA256 === checksum) {
                return { uri, ...stored(existing.VersionId, existing.ObjectLockRetainUntilDate) };
            }
            return { refused: `evidence record ${uri} exists already: records are never overwritten` };
        }
        const hint = code === 'NoSuchBucket'
            ? `the evidence bucket ${bucket} does not exist (or is in another region)`
            : `the role needs s3:PutObject on ${evidencePrefixArn(bucket, key)}` +
                ' (and kms:GenerateDataKey when the bucket encrypts with a KMS key)';
        throw new Error(`evidence record could not be stored at ${uri}: ${code}${status ? ` (HTTP ${status})` : ''}: ${message}; ${hint}`);
    }
    const after = await head(s3, bucket, key, versionId);
    return { uri, ...stored(versionId ?? after?.VersionId, after?.ObjectLockRetainUntilDate) };
}
function stored(versionId, retainUntil) {
    return {
        ...(versionId && versionId !== 'null' ? { versionId } : {}),
        ...(retainUntil ? { retainUntil: retainUntil.toISOString() } : {}),
    };
}
/** HeadObject with the stored checksum, or undefined when it cannot be read (no s3:GetObject). */
async function head(s3, bucket, key, versionId) {
    try {
        return await s3.send(new dist_cjs.HeadObjectCommand({
            Bucket: bucket,
            Key: key,
            ChecksumMode: 'ENABLED',
            ...(versionId && versionId !== 'null' ? { VersionId: versionId } : {}),
        }));
    }
    catch {
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/adapters/evidence/store.ts








/** A JSON Web Token (an OIDC token in an error message): header.payload.signature, base64url. */
const JWT = /\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/g;
/**
 * Stores the record: (1) the workflow artifact `evidence-<site>-<env>-<run-id>-<attempt>-<command>`
 * (a notice and `skipped` outside GitHub Actions); (2) with a bucket, `s3://<bucket>/<key>` by a
 * conditional write — `s3.refused` when a different record is at the key already, **which the
 * caller must treat as a failed run** (records are never overwritten); other S3 errors throw, naming
 * the object and the permission needed (`s3:PutObject` on `<bucket>/<site>/<env>/*`), and then no
 * attestation is made; (3) with `attest`, an attestation of the record and every saved plan —
 * `attestation.failed` (and a warning) when it cannot be made.
 *
 * Permissions: artifacts need none beyond the runner's own token; `attest: true` needs
 * `id-token: write` and `attestations: write` on the job, and `githubToken`. No token, credential or
 * OIDC token ever reaches a message: every one passed to `log`, returned or thrown is redacted.
 */
async function storeEvidence(req, log) {
    const redactor = new redact/* Redactor */.pO();
    redactor.add([
        req.githubToken,
        process.env.ACTIONS_RUNTIME_TOKEN,
        process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
        process.env.SIGSTORE_ID_TOKEN,
    ].filter((s) => typeof s === 'string'));
    const clean = (m) => redactor.text(m).replace(JWT, '***');
    const safeLog = {
        notice: (m) => log.notice(clean(m)),
        warning: (m) => log.warning(clean(m)),
    };
    if (req.bucket && !req.s3)
        throw new Error(`evidence-bucket ${req.bucket} is set but no S3 client was given`);
    const actual = (0,record/* recordDigest */.kd)(req.bytes);
    if (actual !== req.digest) {
        throw new Error(`evidence record ${req.key}: its bytes have digest ${actual}, not ${req.digest}`);
    }
    const artifact = await uploadRecordArtifact(req.path, req.key, safeLog);
    const result = {
        artifact: 'failed' in artifact ? { failed: clean(artifact.failed) } : artifact,
    };
    if (req.bucket && req.s3) {
        let s3;
        try {
            s3 = await putRecord(req.s3, req.bucket, req.key, req.bytes);
        }
        catch (e) {
            throw new Error(clean(e instanceof Error ? e.message : String(e)));
        }
        result.s3 = s3;
        // A refusal is the caller's to report: it fails the run with it.
        if (!('refused' in s3)) {
            const version = s3.versionId ? `, version ${s3.versionId}` : '';
            const retention = s3.retainUntil ? `, retained until ${s3.retainUntil}` : '';
            safeLog.notice(`evidence record stored at ${s3.uri}${version}${retention}`);
        }
    }
    if (req.attest) {
        const fail = (why) => {
            const failed = clean(`evidence record not attested: ${why}`);
            safeLog.warning(failed);
            result.attestation = { failed };
        };
        const unavailable = attestationUnavailable();
        if (unavailable)
            fail(unavailable);
        else if (!req.githubToken)
            fail('attest: true needs a GitHub token with `attestations: write` (input github-token)');
        else {
            try {
                const attestation = await attestRecord({
                    key: req.key,
                    bytes: req.bytes,
                    plans: req.plans,
                    token: req.githubToken,
                    sigstore: req.sigstore,
                });
                result.attestation = attestation;
                safeLog.notice(`evidence record attested${attestation.url ? `: ${attestation.url}` : ''}`);
            }
            catch (e) {
                fail(e instanceof Error ? e.message : String(e));
            }
        }
    }
    return result;
}


/***/ })

};
