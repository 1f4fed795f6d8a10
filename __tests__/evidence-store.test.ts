// Storing evidence records (SPEC §8.1 "Stored"): the workflow artifact against a local stand-in for
// the artifact service, S3 against a real moto server, and the attestation against @sigstore/mock's
// Fulcio, timestamp authority and Rekor, verified with @sigstore/verify.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  recordDigest,
  recordFileName,
  serializeRecord,
  type EvidenceRecord,
} from '../src/core/evidence/record.js';
import {
  artifactName,
  EVIDENCE_PREDICATE_TYPE,
  storeEvidence,
  type StoreRequest,
} from '../src/adapters/evidence/store.js';
import { startMoto, type Moto } from './helpers/moto.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { startArtifactService, unzip, type ArtifactService } from './helpers/artifact-service.js';
import { GITHUB_SIGSTORE, mockSigstore, PUBLIC_GOOD_SIGSTORE } from './helpers/sigstore.js';
import { DEFAULT_CLAIMS, startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.js';
import { githubApi } from './helpers/openapi.js';

const GITHUB_TOKEN = 'ghs_PLANTEDgithubTOKENvalue0123456789';
const REGION = 'us-east-1';

/** Every env var the code under test or the libraries it calls read; restored after each test. */
const ENV_KEYS = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'SIGSTORE_ID_TOKEN',
  'GITHUB_REPOSITORY',
  'GITHUB_SERVER_URL',
  'GITHUB_WORKSPACE',
];
let savedEnv: Record<string, string | undefined> = {};
beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

// Nothing may leave the machine: Sigstore and the GitHub API answer through nock, everything else
// (moto, the artifact stand-in, the OIDC issuer) is on 127.0.0.1.
beforeAll(() => {
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => nock.cleanAll());
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

// The record's content does not matter to storing it (only its bytes do); asserted as the model so
// the fixture survives fields being added to the model.
function record(overrides: Partial<EvidenceRecord> = {}): EvidenceRecord {
  return {
    schema_version: 1,
    command: 'apply',
    status: 'succeeded',
    refusal: null,
    error: null,
    site: 'client-portal',
    environment: 'production',
    lifecycle: 'long-lived',
    account: '111122223333',
    region: REGION,
    run: {
      repository: 'org/repo',
      pull_request: null,
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      ref_protected: true,
      actor: 'octocat',
      triggering_actor: 'octocat',
      event: 'push',
      workflow_ref: 'org/repo/.github/workflows/deploy.yml@refs/heads/main',
      id: '4242',
      attempt: 1,
      url: 'https://github.com/org/repo/actions/runs/4242/attempts/1',
    },
    started_at: '2026-01-02T03:04:05.000Z',
    finished_at: '2026-01-02T03:09:05.000Z',
    config: {
      digest: `sha256:${'c'.repeat(64)}`,
      files: { 'sites/client-portal/site.yaml': 'd'.repeat(64) },
      site_digest: null,
    },
    modules: [],
    plan_digest: null,
    policy: { decisions: [], exceptions: [] },
    binding: null,
    promotion: null,
    break_glass: null,
    previous: null,
    ...overrides,
  } as EvidenceRecord;
}

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Writes the record where the run would and returns the store request for it. */
function written(rec: EvidenceRecord = record(), extra: Partial<StoreRequest> = {}): StoreRequest {
  const root = mkdtempSync(join(tmpdir(), 'sd-evidence-'));
  roots.push(root);
  const name = recordFileName(rec.run, rec.command);
  const dir = join(root, '.site-deploy', 'evidence', rec.site, rec.environment);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const bytes = serializeRecord(rec);
  writeFileSync(path, bytes);
  return {
    path,
    bytes,
    key: `${rec.site}/${rec.environment}/${name}`,
    digest: recordDigest(bytes),
    ...extra,
  };
}

interface Logged {
  notices: string[];
  warnings: string[];
  notice(m: string): void;
  warning(m: string): void;
}
function logger(): Logged {
  const notices: string[] = [];
  const warnings: string[] = [];
  return { notices, warnings, notice: (m) => notices.push(m), warning: (m) => warnings.push(m) };
}

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

describe('workflow artifact', () => {
  test('its name is evidence-<site>-<env>-<run-id>-<attempt>-<command>, with no character an artifact name cannot hold', () => {
    expect(artifactName('client-portal/production/4242-1-apply.json')).toBe(
      'evidence-client-portal-production-4242-1-apply',
    );
    expect(artifactName('s/e/2026-01-02T03_04_05Z-1-plan.json')).toBe(
      'evidence-s-e-2026-01-02T03_04_05Z-1-plan',
    );
    expect(artifactName('a/b/x:y*z?-1-plan.json')).toBe('evidence-a-b-x_y_z_-1-plan');
  });

  test('without the runtime service (a local run, the CLI) it is skipped with a notice, never a failure', async () => {
    const log = logger();
    const req = written();
    const result = await storeEvidence(req, log);
    expect(result).toEqual({
      artifact: { skipped: expect.stringMatching(/ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL not set/) },
    });
    expect(log.notices).toEqual([
      expect.stringMatching(/^evidence record not uploaded as an artifact: no workflow artifact service/),
    ]);
    expect(log.warnings).toEqual([]);
  });

  test('half a runtime (no ACTIONS_RESULTS_URL) is skipped too, naming what is missing', async () => {
    process.env.ACTIONS_RUNTIME_TOKEN = 'x.y.z';
    const result = await storeEvidence(written(), logger());
    expect(result.artifact).toEqual({ skipped: expect.stringMatching(/\(ACTIONS_RESULTS_URL not set/) });
  });

  describe('against a stand-in for the artifact service', () => {
    let service: ArtifactService;
    beforeAll(async () => {
      service = await startArtifactService();
    });
    afterAll(async () => {
      await service.stop();
    });

    test('the record is uploaded as a zip holding exactly its bytes, created, uploaded and finalized', async () => {
      process.env.ACTIONS_RUNTIME_TOKEN = service.runtimeToken;
      process.env.ACTIONS_RESULTS_URL = `${service.url}/`;
      const log = logger();
      const req = written();
      const result = await storeEvidence(req, log);

      const name = 'evidence-client-portal-production-4242-1-apply';
      expect(service.problems).toEqual([]);
      expect(result.artifact).toEqual({ id: expect.any(Number), name });
      const stored = service.artifacts.find((a) => a.name === name);
      expect(stored).toMatchObject({ finalized: true, mimeType: 'application/zip', version: 7 });
      expect(result.artifact).toEqual({ id: stored?.id, name });
      expect(stored?.hash).toBe(`sha256:${sha256(stored?.blob ?? '')}`);
      const files = unzip(stored?.blob ?? Buffer.alloc(0));
      expect([...files.keys()]).toEqual(['4242-1-apply.json']);
      expect(files.get('4242-1-apply.json')?.toString('utf8')).toBe(req.bytes);
      // Create, then the blob (Put Block… and Put Block List), then Finalize.
      const blobPuts = service.calls.filter((c) => c === `PUT /blob/${stored?.id}`);
      expect(blobPuts.length).toBeGreaterThanOrEqual(2);
      expect(service.calls).toEqual([
        'POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact',
        ...blobPuts,
        'POST /twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact',
      ]);
      expect(log.notices).toEqual([`evidence record uploaded as artifact ${name} (id ${stored?.id})`]);
      expect(log.warnings).toEqual([]);
    });

    test('a refused upload (the name is taken in this run) is a warning and `failed`, not a thrown error', async () => {
      process.env.ACTIONS_RUNTIME_TOKEN = service.runtimeToken;
      process.env.ACTIONS_RESULTS_URL = service.url;
      service.problems.length = 0;
      const log = logger();
      // The previous test stored this very name.
      const result = await storeEvidence(written(), log);
      expect(result.artifact).toEqual({
        failed: expect.stringMatching(
          /^evidence record could not be uploaded as artifact evidence-client-portal-production-4242-1-apply: .*409/,
        ),
      });
      expect(log.warnings).toHaveLength(1);
      expect(log.warnings.join('\n')).not.toContain(service.runtimeToken);
    });
  });
});

describe('S3 evidence bucket (moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  const PLAIN = 'evidence-plain';
  const LOCKED = 'evidence-locked';

  const client = (endpoint: string): S3Client =>
    new S3Client({
      region: REGION,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' },
      // Only the checksums the code asks for: proves the integrity header is ours, not the SDK's default.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });

  beforeAll(async () => {
    moto = await startMoto();
    s3 = client(moto.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: PLAIN }));
    await s3.send(new CreateBucketCommand({ Bucket: LOCKED, ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: LOCKED,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
        },
      }),
    );
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  const read = async (bucket: string, key: string): Promise<string> =>
    (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString('utf8') ?? '';

  test('the first write stores the record byte for byte: If-None-Match *, JSON, its SHA-256 checksum', async () => {
    const req = written(record(), { bucket: PLAIN, s3 });
    const log = logger();
    const result = await storeEvidence(req, log);
    expect(result.s3).toEqual({ uri: `s3://${PLAIN}/client-portal/production/4242-1-apply.json` });
    expect(await read(PLAIN, req.key)).toBe(req.bytes);
    expect(log.notices).toContain(`evidence record stored at s3://${PLAIN}/${req.key}`);

    const puts = moto.requests().filter((r) => r.method === 'PUT' && r.url.includes(req.key));
    expect(puts).toHaveLength(1);
    const headers = Object.fromEntries(
      Object.entries(puts[0]?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(headers['if-none-match']).toBe('*');
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-amz-checksum-sha256']).toBe(createHash('sha256').update(req.bytes).digest('base64'));
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: PLAIN, Key: req.key, ChecksumMode: 'ENABLED' }),
    );
    expect(head.ContentType).toBe('application/json');
  });

  test('a second, different record at the same key is refused and the stored one is unchanged', async () => {
    const first = written(record({ run: { ...record().run, id: '5000' } }), { bucket: PLAIN, s3 });
    await storeEvidence(first, logger());
    const second = written(record({ run: { ...record().run, id: '5000' }, status: 'failed' }), {
      bucket: PLAIN,
      s3,
    });
    expect(second.key).toBe(first.key);
    expect(second.bytes).not.toBe(first.bytes);

    const log = logger();
    const result = await storeEvidence(second, log);
    expect(result.s3).toEqual({
      refused: `evidence record s3://${PLAIN}/${first.key} exists already: records are never overwritten`,
    });
    expect(await read(PLAIN, first.key)).toBe(first.bytes);
    // The refusal is the caller's to report (it fails the run): no notice claims it was stored.
    expect(log.notices.filter((n) => n.includes('stored at'))).toEqual([]);
  });

  test('the same bytes again (a retried write whose first reply was lost) count as stored, not refused', async () => {
    const req = written(record({ run: { ...record().run, id: '6000' } }), { bucket: PLAIN, s3 });
    await storeEvidence(req, logger());
    const again = await storeEvidence(req, logger());
    expect(again.s3).toEqual({ uri: `s3://${PLAIN}/${req.key}` });
    expect(await read(PLAIN, req.key)).toBe(req.bytes);
  });

  test('an Object Lock bucket applies its default retention, and the retain-until date is reported', async () => {
    const req = written(record(), { bucket: LOCKED, s3 });
    const log = logger();
    const result = await storeEvidence(req, log);
    const head = await s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: req.key }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockRetainUntilDate).toBeInstanceOf(Date);
    expect(result.s3).toEqual({
      uri: `s3://${LOCKED}/${req.key}`,
      versionId: head.VersionId,
      retainUntil: head.ObjectLockRetainUntilDate?.toISOString(),
    });
    // 30 days from the write: well past 29 days from before it.
    expect(Date.parse((result.s3 as { retainUntil: string }).retainUntil)).toBeGreaterThan(
      Date.now() + 29 * 86_400_000,
    );
    expect(log.notices).toContain(
      `evidence record stored at s3://${LOCKED}/${req.key}, version ${head.VersionId}, retained until ${head.ObjectLockRetainUntilDate?.toISOString()}`,
    );

    // Versioning would keep both, but the conditional write never makes a second version.
    const other = written(record({ status: 'failed' }), { bucket: LOCKED, s3 });
    expect((await storeEvidence(other, logger())).s3).toEqual({
      refused: expect.stringMatching(/exists already/),
    });
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: LOCKED, Prefix: req.key }));
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([head.VersionId]);
    expect(await read(LOCKED, req.key)).toBe(req.bytes);
  });

  test('a missing bucket throws, naming the object, the error and its status', async () => {
    const req = written(record(), { bucket: 'no-such-evidence-bucket', s3 });
    await expect(storeEvidence(req, logger())).rejects.toThrow(
      `evidence record could not be stored at s3://no-such-evidence-bucket/${req.key}: NoSuchBucket (HTTP 404)`,
    );
  });

  describe('through a proxy that denies the write', () => {
    let proxy: FaultProxy;
    let denied: S3Client;
    beforeAll(async () => {
      proxy = await startFaultProxy(moto.endpoint);
      denied = client(proxy.endpoint);
    });
    afterAll(async () => {
      denied.destroy();
      await proxy.stop();
    });

    test('AccessDenied throws with the object, code, status and the permission the role needs', async () => {
      proxy.failNext(
        1,
        { status: 403, code: 'AccessDenied', message: 'Access Denied' },
        { service: 's3', method: 'PUT' },
      );
      const req = written(record({ run: { ...record().run, id: '7000' } }), { bucket: PLAIN, s3: denied });
      const err = await storeEvidence(req, logger()).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toBe(
        `evidence record could not be stored at s3://${PLAIN}/${req.key}: AccessDenied (HTTP 403): Access Denied; ` +
          `the role needs s3:PutObject on arn:aws:s3:::${PLAIN}/client-portal/production/* ` +
          '(and kms:GenerateDataKey when the bucket encrypts with a KMS key)',
      );
      expect(err?.message).not.toContain('secret-example');
    });
  });
});

interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: unknown;
}
const statementOf = (bundle: unknown): Statement =>
  JSON.parse(
    Buffer.from((bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString(
      'utf8',
    ),
  ) as Statement;

describe('attestation (@actions/attest against @sigstore/mock)', () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(async () => {
    await issuer.stop();
  });
  const inActions = (): void => {
    Object.assign(process.env, issuer.env());
    process.env.GITHUB_REPOSITORY = 'org/repo';
  };
  const plans = [
    { name: 'client-portal/production/network.tfplan', sha256: 'e'.repeat(64) },
    { name: 'client-portal/production/app.tfplan', sha256: 'f'.repeat(64) },
  ];
  // What @actions/github's Octokit posts to: GITHUB_API_URL as the module saw it, else api.github.com.
  const apiBase = (): string => process.env.GITHUB_API_URL ?? 'https://api.github.com';

  for (const [instance, origins] of [
    ['github', GITHUB_SIGSTORE],
    ['public-good', PUBLIC_GOOD_SIGSTORE],
  ] as const) {
    test(`sigstore ${instance}: a statement of the record and every plan, signed, verifiable, written to the attestations API`, async () => {
      inActions();
      const sigstore = await mockSigstore(origins);
      const api = githubApi({ baseUrl: apiBase() });
      api.intercept('POST', '/repos/org/repo/attestations').reply(201, { id: 987654 });
      const req = written(record(), { attest: true, githubToken: GITHUB_TOKEN, plans, sigstore: instance });
      const log = logger();
      const minted = issuer.tokens.length;

      const result = await storeEvidence(req, log);
      api.done();
      sigstore.done();

      expect(result.attestation).toEqual({
        id: '987654',
        url: 'https://github.com/org/repo/attestations/987654',
        bundle: expect.any(Object),
      });
      const bundle = (result.attestation as { bundle: unknown }).bundle;
      // The bundle GitHub received is the one returned.
      expect(JSON.parse(api.requests[0]?.body ?? '{}')).toEqual({ bundle });
      expect(api.requests[0]?.headers.authorization).toBe(`token ${GITHUB_TOKEN}`);

      // Verified against the mock's trusted root; the certificate names the OIDC token's subject and issuer.
      const signer = sigstore.verify(bundle, {
        subjectAlternativeName: DEFAULT_CLAIMS.sub,
        extensions: { issuer: issuer.issuer },
      });
      expect(signer.identity?.subjectAlternativeName).toBe(DEFAULT_CLAIMS.sub);
      // One OIDC token, for Sigstore's audience, from the job's token service.
      const tokens = issuer.tokens.slice(minted);
      expect(tokens).toHaveLength(1);
      expect(JSON.parse(Buffer.from(tokens[0]?.split('.')[1] ?? '', 'base64url').toString())).toMatchObject({
        aud: 'sigstore',
      });
      expect(sigstore.requests.map((r) => `${r.service} ${r.status}`)).toEqual(
        instance === 'github' ? ['fulcio 201', 'tsa 201'] : ['fulcio 201', 'rekor 201'],
      );

      const statement = statementOf(bundle);
      expect(statement._type).toBe('https://in-toto.io/Statement/v1');
      expect(statement.predicateType).toBe(EVIDENCE_PREDICATE_TYPE);
      expect(statement.predicate).toEqual(JSON.parse(req.bytes));
      // The record's subject digest is the sha256 of the file's exact bytes (newline included),
      // which is what `sha256sum` / `gh attestation verify <file>` compute — not recordDigest.
      expect(statement.subject).toEqual([
        { name: req.key, digest: { sha256: sha256(req.bytes) } },
        ...plans.map((p) => ({ name: p.name, digest: { sha256: p.sha256 } })),
      ]);
      expect(`sha256:${statement.subject[0]?.digest.sha256}`).not.toBe(req.digest);

      // The verification is real: a changed statement no longer verifies.
      const tampered = structuredClone(bundle) as { dsseEnvelope: { payload: string } };
      tampered.dsseEnvelope.payload = Buffer.from(
        JSON.stringify({ ...statement, predicate: { ...(statement.predicate as object), status: 'failed' } }),
      ).toString('base64');
      expect(() => sigstore.verify(tampered, { subjectAlternativeName: DEFAULT_CLAIMS.sub })).toThrow();

      expect(log.notices).toContain(
        'evidence record attested: https://github.com/org/repo/attestations/987654',
      );
      const everything = JSON.stringify([log.notices, log.warnings]);
      expect(everything).not.toContain(GITHUB_TOKEN);
      expect(everything).not.toContain(issuer.requestToken);
      expect(everything).not.toContain(tokens[0]);
    });
  }

  test('without an OIDC token (no id-token: write) it fails with the permissions to grant, and calls nothing', async () => {
    process.env.GITHUB_REPOSITORY = 'org/repo';
    const sigstore = await mockSigstore(GITHUB_SIGSTORE);
    const log = logger();
    const result = await storeEvidence(
      written(record(), { attest: true, githubToken: GITHUB_TOKEN, sigstore: 'github' }),
      log,
    );
    expect(result.attestation).toEqual({
      failed:
        'evidence record not attested: attest: true needs an OIDC token for Sigstore: give the job `permissions: id-token: write` (and `attestations: write`)',
    });
    expect(log.warnings).toEqual([(result.attestation as { failed: string }).failed]);
    expect(sigstore.requests).toEqual([]);
  });

  test('without a GitHub token it fails, naming attestations: write', async () => {
    inActions();
    const result = await storeEvidence(written(record(), { attest: true, sigstore: 'github' }), logger());
    expect(result.attestation).toEqual({
      failed: expect.stringMatching(/needs a GitHub token with `attestations: write`/),
    });
  });

  test('a refused attestations API call is `failed` with a warning, and the token is in neither', async () => {
    inActions();
    const sigstore = await mockSigstore(GITHUB_SIGSTORE);
    const api = githubApi({ baseUrl: apiBase() });
    api.intercept('POST', '/repos/org/repo/attestations').reply(403, {
      message: `Resource not accessible by integration (token ${GITHUB_TOKEN})`,
      documentation_url: 'https://docs.github.com/rest',
    });
    const log = logger();
    const result = await storeEvidence(
      written(record(), { attest: true, githubToken: GITHUB_TOKEN, sigstore: 'github' }),
      log,
    );
    api.done();
    sigstore.done();
    expect(result.attestation).toEqual({
      failed: expect.stringMatching(
        /^evidence record not attested: Failed to persist attestation: Resource not accessible/,
      ),
    });
    expect(log.warnings).toHaveLength(1);
    expect(JSON.stringify([result.attestation, log.warnings, log.notices])).not.toContain(GITHUB_TOKEN);
  });
});

test('bytes that do not match the digest are refused before anything is stored', async () => {
  const req = written();
  await expect(storeEvidence({ ...req, digest: `sha256:${'0'.repeat(64)}` }, logger())).rejects.toThrow(
    /its bytes have digest sha256:[0-9a-f]{64}, not sha256:0{64}/,
  );
});
