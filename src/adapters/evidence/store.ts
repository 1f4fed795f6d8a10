/**
 * Storing an evidence record once it is written locally (SPEC §8.1 "Stored"): as a workflow
 * artifact, in the S3 `evidence-bucket` (never overwritten), and with `attest: true` as a signed
 * attestation. See artifact.ts, s3.ts and attest.ts for each, and the permissions each needs.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { recordDigest } from '../../core/evidence/record.js';
import { Redactor } from '../../core/redact.js';
import { uploadRecordArtifact, type ArtifactOutcome, type StoreLog } from './artifact.js';
import { attestationUnavailable, attestRecord, type AttestOutcome, type SigstoreInstance } from './attest.js';
import { putRecord, type S3Outcome } from './s3.js';

export { artifactName, artifactServiceMissing, type ArtifactOutcome, type StoreLog } from './artifact.js';
export { attestationSubjects, EVIDENCE_PREDICATE_TYPE, type SigstoreInstance } from './attest.js';
export { evidencePrefixArn, type S3Outcome } from './s3.js';

/** One record to store. */
export interface StoreRequest {
  /** Absolute path of the record file already written locally (<root>/.site-deploy/evidence/<site>/<env>/<name>.json). */
  path: string;
  /** The record's bytes exactly as written (canonical JSON + '\n'). */
  bytes: string;
  /** `<site>/<env>/<run-id>-<attempt>-<command>.json` — the S3 key below the bucket, and the artifact's name basis. */
  key: string;
  /** `sha256:<hex>` of the record (recordDigest); checked against `bytes`. */
  digest: string;
  /** S3 bucket (the `evidence-bucket` input), or undefined. */
  bucket?: string;
  /**
   * The S3 client to write with — region, endpoint (`AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`) and the
   * evidence role's credentials, e.g. `s3Client()` of adapters/aws/s3.ts; required with `bucket`.
   */
  s3?: S3Client;
  /** Attest with @actions/attest (input `attest: true`): needs `id-token: write` and `attestations: write`. */
  attest?: boolean;
  /** sha256 hex of every saved plan of the run, with a name each (attestation subjects besides the record). */
  plans?: { name: string; sha256: string }[];
  /** GitHub token for the attestations API (`attestations: write`). Never logged. */
  githubToken?: string;
  /** Sigstore instance; unset: `@actions/attest` picks by repository visibility (public → public-good). */
  sigstore?: SigstoreInstance;
}

/** What became of each place the record goes. */
export interface StoreResult {
  /** Uploaded; skipped (no artifact service: a local run, the CLI); or failed (a warning, not fatal). */
  artifact: ArtifactOutcome;
  /** Absent without a bucket. `refused`: a record is at the key already — the caller fails the run. */
  s3?: S3Outcome;
  /** Absent without `attest: true`. `failed`: signing or writing the attestation failed (also a warning). */
  attestation?: AttestOutcome | { failed: string };
}

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
export async function storeEvidence(req: StoreRequest, log: StoreLog): Promise<StoreResult> {
  const redactor = new Redactor();
  redactor.add(
    [
      req.githubToken,
      process.env.ACTIONS_RUNTIME_TOKEN,
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
      process.env.SIGSTORE_ID_TOKEN,
    ].filter((s): s is string => typeof s === 'string'),
  );
  const clean = (m: string): string => redactor.text(m).replace(JWT, '***');
  const safeLog: StoreLog = {
    notice: (m) => log.notice(clean(m)),
    warning: (m) => log.warning(clean(m)),
  };

  if (req.bucket && !req.s3)
    throw new Error(`evidence-bucket ${req.bucket} is set but no S3 client was given`);
  const actual = recordDigest(req.bytes);
  if (actual !== req.digest) {
    throw new Error(`evidence record ${req.key}: its bytes have digest ${actual}, not ${req.digest}`);
  }

  const artifact = await uploadRecordArtifact(req.path, req.key, safeLog);
  const result: StoreResult = {
    artifact: 'failed' in artifact ? { failed: clean(artifact.failed) } : artifact,
  };

  if (req.bucket && req.s3) {
    let s3: S3Outcome;
    try {
      s3 = await putRecord(req.s3, req.bucket, req.key, req.bytes);
    } catch (e) {
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
    const fail = (why: string): void => {
      const failed = clean(`evidence record not attested: ${why}`);
      safeLog.warning(failed);
      result.attestation = { failed };
    };
    const unavailable = attestationUnavailable();
    if (unavailable) fail(unavailable);
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
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e));
      }
    }
  }
  return result;
}
