import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformEngine } from '../src/adapters/engines/terraform.js';
import type { Backend } from '../src/adapters/engines/types.js';
import { cleanTemp, filesUnder, FIXTURES, logSink, request, tempDir } from './fixtures/engine/harness.js';
import { startMoto, type Moto } from './helpers/moto.js';

// Real Terraform with its S3 backend (use_lockfile) on moto. See docs/local-stack.md §4.
const engine = new TerraformEngine();
const BUCKET = 'tfstate';
const SECRET = 'moto-secret-key-never-on-disk';
let moto: Moto;
let s3: S3Client;
let env: Record<string, string>;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDENGINETEST', secretAccessKey: SECRET },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  env = {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDENGINETEST',
    AWS_SECRET_ACCESS_KEY: SECRET,
  };
});

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
  cleanTemp();
});

const backend = (key: string): Backend => ({
  kind: 's3',
  bucket: BUCKET,
  key,
  region: 'us-east-1',
  // moto's server sometimes closes a kept-alive connection as Terraform reuses it ("use of closed
  // network connection"); a retry rides that out, as it would a real S3 hiccup.
  maxRetries: 3,
});

async function keys(): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

test('the state lands at the given key; credentials stay out of the work folder and the log', async () => {
  const key = 'sites/portal/prod/site.tfstate';
  const workDir = join(tempDir(), 'step');
  const logs = logSink();
  const r = await engine.run(
    request({
      moduleDir: join(FIXTURES, 'site'),
      workDir,
      inputs: { name: 'portal' },
      backend: backend(key),
      env,
      log: logs.log,
    }),
  );

  expect(r.status).toBe('succeeded');
  expect(await keys()).toContain(key);
  expect(await keys()).not.toContain(`${key}.tflock`);
  const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const state = JSON.parse(await obj.Body!.transformToString()) as {
    outputs: Record<string, { value: unknown }>;
  };
  expect(state.outputs.greeting?.value).toBe('hello portal');
  expect(state.outputs.id?.value).toBe(r.outputs.id?.value);

  // Not in any file Terraform or the engine wrote, nor inside the (zipped) saved plan.
  for (const f of filesUnder(workDir)) expect(readFileSync(f, 'latin1')).not.toContain(SECRET);
  expect(execFileSync('unzip', ['-p', join(workDir, 'tfplan')]).toString('latin1')).not.toContain(SECRET);
  expect(logs.text()).not.toContain(SECRET);
  // Terraform did talk to moto with those credentials.
  expect(moto.requests().some((q) => q.method === 'PUT' && q.url.includes(key))).toBe(true);
});

test('a second apply with lock-timeout 0s fails naming the state lock; SIGTERM releases the lock; a re-run succeeds', async () => {
  const key = 'sites/portal/prod/slow.tfstate';
  const logsA = logSink();
  const abort = new AbortController();
  const a = engine.run(
    request({
      moduleDir: join(FIXTURES, 'slow'),
      inputs: { sleep_seconds: 300 },
      backend: backend(key),
      env,
      log: logsA.log,
      signal: abort.signal,
    }),
  );
  await logsA.waitFor(/provisioning/);
  expect(await keys()).toContain(`${key}.tflock`);

  const b = await engine.run(
    request({
      moduleDir: join(FIXTURES, 'slow'),
      inputs: { sleep_seconds: 0 },
      backend: backend(key),
      env,
      lockTimeout: '0s',
    }),
  );
  expect(b.status).toBe('failed');
  expect(b.error?.split('\n')[0]).toMatch(
    /^terraform plan failed \(exit 1\): Error acquiring the state lock \(held by .*, lock ID .*\); lock-timeout was 0s$/,
  );
  expect(b.error).toContain('PreconditionFailed');

  abort.abort();
  const ra = await a;
  expect(ra.status).toBe('cancelled');
  expect(logsA.text()).toContain('Gracefully shutting down...');
  expect(await keys()).not.toContain(`${key}.tflock`);

  const c = await engine.run(
    request({
      moduleDir: join(FIXTURES, 'slow'),
      inputs: { sleep_seconds: 0 },
      backend: backend(key),
      env,
      lockTimeout: '0s',
    }),
  );
  expect(c.status).toBe('succeeded');
  expect(await keys()).not.toContain(`${key}.tflock`);
});

test('a second apply with a long lock-timeout waits for the first, then plans against its result', async () => {
  const key = 'sites/portal/prod/wait.tfstate';
  const logsA = logSink();
  const logsB = logSink();
  const a = engine.run(
    request({
      moduleDir: join(FIXTURES, 'slow'),
      inputs: { sleep_seconds: 3 },
      backend: backend(key),
      env,
      log: logsA.log,
    }),
  );
  await logsA.waitFor(/provisioning/);
  const b = engine.run(
    request({
      moduleDir: join(FIXTURES, 'slow'),
      inputs: { sleep_seconds: 3 },
      backend: backend(key),
      env,
      lockTimeout: '60s',
      log: logsB.log,
    }),
  );
  const [ra, rb] = await Promise.all([a, b]);

  expect(ra.status).toBe('succeeded');
  // B planned only after A's apply released the lock: it saw A's resource, so nothing to do.
  expect(rb).toMatchObject({ status: 'no-op', hasChanges: false });
  expect(rb.outputs.id?.value).toBe(ra.outputs.id?.value);
});
