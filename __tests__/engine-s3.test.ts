import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { staticKeys } from '../src/adapters/aws/s3.js';
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

describe('outputs from the S3 state object, not `output -json`', () => {
  /** A `terraform` first on PATH that logs each subcommand, then runs the real one. */
  function shim(): { path: string; calls: () => string[] } {
    const bin = tempDir('sd-s3shim-');
    const log = join(bin, 'calls.log');
    const real = execFileSync('sh', ['-c', 'command -v terraform'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'terraform'), `#!/bin/sh\necho "$1" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, 'terraform'), 0o755);
    return {
      path: `${bin}:${process.env.PATH}`,
      calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    };
  }

  async function stateOutputs(key: string): Promise<Record<string, { value: unknown; sensitive?: boolean }>> {
    const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return (
      JSON.parse(await obj.Body!.transformToString()) as {
        outputs: Record<string, { value: unknown; sensitive?: boolean }>;
      }
    ).outputs;
  }

  test('static keys: four processes; the outputs, sensitive ones flagged, are the state object’s', async () => {
    const key = 'sites/portal/prod/static.tfstate';
    const tf = shim();
    const r = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'site'),
        inputs: { name: 'portal', password: 'pw-s3-outputs' },
        backend: backend(key),
        env: { ...env, PATH: tf.path },
        credentials: staticKeys(env),
      }),
    );
    expect(r.status).toBe('succeeded');
    expect(tf.calls()).toEqual(['init', 'plan', 'show', 'apply']);
    const state = await stateOutputs(key);
    expect(Object.keys(r.outputs).sort()).toEqual(Object.keys(state).sort());
    for (const [k, v] of Object.entries(state))
      expect(r.outputs[k]).toEqual({ value: v.value, sensitive: v.sensitive === true });
    expect(r.outputs.password).toEqual({ value: 'pw-s3-outputs', sensitive: true });
  });

  test('no credentials in the request: the outputs come from `output -json`, not from the object', async () => {
    const key = 'sites/portal/prod/no-credentials.tfstate';
    const tf = shim();
    const r = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'site'),
        inputs: { name: 'portal', password: 'pw-s3-no-credentials' },
        backend: backend(key),
        env: { ...env, PATH: tf.path },
      }),
    );
    expect(r.status).toBe('succeeded');
    expect(tf.calls()).toEqual(['init', 'plan', 'show', 'apply', 'output']);
    expect(r.outputs.password).toEqual({ value: 'pw-s3-no-credentials', sensitive: true });
  });

  test('a loopback credential endpoint: Terraform uses the step’s token, the engine the session its request carries', async () => {
    const token = 'endpoint-token-s3-outputs';
    const seen: (string | undefined)[] = [];
    let served = 0;
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== token) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          AccessKeyId: 'AKIDENGINETEST',
          SecretAccessKey: SECRET,
          Token: 'session-token',
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const { port } = server.address() as AddressInfo;
      const key = 'sites/portal/prod/endpoint.tfstate';
      const tf = shim();
      const r = await engine.run(
        request({
          moduleDir: join(FIXTURES, 'site'),
          inputs: { name: 'endpoint' },
          backend: backend(key),
          env: {
            AWS_ENDPOINT_URL: moto.endpoint,
            AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/creds`,
            AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
            PATH: tf.path,
          },
          // The session the endpoint serves, as the step's request carries it: read on demand.
          credentials: () => {
            served++;
            return Promise.resolve({
              accessKeyId: 'AKIDENGINETEST',
              secretAccessKey: SECRET,
              sessionToken: 'session-token',
            });
          },
        }),
      );
      expect(r.status).toBe('succeeded');
      expect(tf.calls()).toEqual(['init', 'plan', 'show', 'apply']);
      expect(r.outputs.greeting).toEqual({ value: 'hello endpoint', sensitive: false });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((a) => a === token)).toBe(true);
      expect(served).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });
});
