import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TerraformEngine,
  backendOverride,
  plannedOutputs,
  terraformReason,
} from '../src/adapters/engines/terraform.js';
import {
  catalogCopy,
  cleanTemp,
  eventually,
  filesUnder,
  FIXTURES,
  logSink,
  processGone,
  request,
  tempDir,
} from './fixtures/engine/harness.js';

// Real Terraform, offline (built-in terraform_data only). See docs/local-stack.md §2.
const engine = new TerraformEngine();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PASSWORD = 'pa55-never-in-logs';

afterAll(cleanTemp);

describe('apply', () => {
  const catalog = catalogCopy('site');
  const statePath = join(tempDir(), 'state', 'site.tfstate');
  const inputs = { name: 'portal', tags: { team: 'web', tier: 'front' }, password: PASSWORD };
  let firstId: unknown;

  test('creates the resources and returns the real outputs; the catalog folder is never modified', async () => {
    // Leftovers in a catalog checkout must not leak into the step.
    writeFileSync(join(catalog, 'terraform.tfstate'), '{"not": "a state"}');
    mkdirSync(join(catalog, '.terraform'));
    writeFileSync(join(catalog, '.terraform', 'junk'), 'x');
    const before = filesUnder(catalog).map((f) => [f, readFileSync(f, 'utf8')]);
    const logs = logSink();

    const r = await engine.run(
      request({ moduleDir: catalog, inputs, backend: { kind: 'local', path: statePath }, log: logs.log }),
    );

    expect(r).toMatchObject({ status: 'succeeded', hasChanges: true });
    expect(r.error).toBeUndefined();
    expect(r.outputs.greeting).toEqual({ value: 'hello portal', sensitive: false });
    expect(r.outputs.tags).toEqual({ value: { team: 'web', tier: 'front' }, sensitive: false });
    expect(r.outputs.id?.value).toMatch(UUID);
    firstId = r.outputs.id?.value;
    // The state is where the backend says, and holds the resource.
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { resources: { type: string }[] };
    expect(state.resources.map((x) => x.type)).toEqual(['terraform_data']);
    // The saved plan was summarizable and hashed.
    expect(r.planSha256).toMatch(/^[0-9a-f]{64}$/);
    const plan = JSON.parse(readFileSync(r.planJsonPath!, 'utf8')) as {
      resource_changes: { address: string; change: { actions: string[] } }[];
    };
    expect(plan.resource_changes.map((c) => [c.address, c.change.actions])).toEqual([
      ['terraform_data.site', ['create']],
    ]);
    // Logs carry the commands and Terraform's own text.
    expect(logs.text()).toMatch(/\$ terraform apply .*-auto-approve/);
    expect(logs.text()).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect(filesUnder(catalog).map((f) => [f, readFileSync(f, 'utf8')])).toEqual(before);
  });

  test('a sensitive output comes back flagged, and its value never reaches the log', async () => {
    const logs = logSink();
    const r = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'site'),
        inputs: { name: 'vault', password: PASSWORD },
        log: logs.log,
      }),
    );
    expect(r.status).toBe('succeeded');
    expect(r.outputs.password).toEqual({ value: PASSWORD, sensitive: true });
    expect(logs.text()).toContain('+ password = (sensitive value)');
    expect(logs.text()).toContain('password = <sensitive>');
    expect(logs.text()).not.toContain(PASSWORD);
  });

  test('applying again is a no-op that still returns the existing outputs', async () => {
    const logs = logSink();
    const r = await engine.run(
      request({ moduleDir: catalog, inputs, backend: { kind: 'local', path: statePath }, log: logs.log }),
    );
    expect(r).toMatchObject({ status: 'no-op', hasChanges: false });
    expect(r.outputs.id?.value).toBe(firstId);
    expect(r.outputs.greeting?.value).toBe('hello portal');
    expect(logs.text()).toContain('No changes.');
    expect(logs.text()).not.toMatch(/\$ terraform apply/);
  });

  test('a changed input is planned and applied as an update', async () => {
    const r = await engine.run(
      request({
        moduleDir: catalog,
        inputs: { ...inputs, name: 'portal-2' },
        backend: { kind: 'local', path: statePath },
      }),
    );
    expect(r).toMatchObject({ status: 'succeeded', hasChanges: true });
    expect(r.outputs.greeting?.value).toBe('hello portal-2');
    const plan = JSON.parse(readFileSync(r.planJsonPath!, 'utf8')) as {
      resource_changes: { change: { actions: string[] } }[];
    };
    expect(plan.resource_changes[0]?.change.actions).toEqual(['update']);
  });
});

describe('plan', () => {
  test('reports the outputs known at plan time and names those known only after apply; nothing is applied', async () => {
    const logs = logSink();
    const statePath = join(tempDir(), 'site.tfstate');
    const r = await engine.run(
      request({
        mode: 'plan',
        moduleDir: join(FIXTURES, 'site'),
        inputs: { name: 'docs', password: PASSWORD },
        backend: { kind: 'local', path: statePath },
        log: logs.log,
      }),
    );
    expect(r).toMatchObject({ status: 'succeeded', hasChanges: true });
    expect(r.outputs).toEqual({
      greeting: { value: 'hello docs', sensitive: false },
      tags: { value: {}, sensitive: false },
      password: { value: PASSWORD, sensitive: true },
    });
    expect(r.unknownOutputs).toEqual(['id']);
    expect(r.planSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(r.planJsonPath!)).toBe(true);
    expect(logs.text()).not.toContain(PASSWORD);
    expect(logs.text()).not.toMatch(/\$ terraform apply/);
    expect(existsSync(statePath)).toBe(false);
  });
});

describe('failures', () => {
  test('a plan that breaks a variable rule fails with the rule in the error', async () => {
    const r = await engine.run(
      request({ moduleDir: join(FIXTURES, 'invalid-input'), inputs: { env: 'qa' } }),
    );
    expect(r.status).toBe('failed');
    expect(r.error?.split('\n')[0]).toBe('terraform plan failed (exit 1): Invalid value for variable');
    expect(r.error).toContain('env must be dev or prod.');
  });

  test('a failing apply (provisioner exit 3) fails with the command output in the error and the log', async () => {
    const logs = logSink();
    const r = await engine.run(request({ moduleDir: join(FIXTURES, 'fail-apply'), log: logs.log }));
    expect(r.status).toBe('failed');
    expect(r.hasChanges).toBe(true);
    expect(r.error?.split('\n')[0]).toBe('terraform apply failed (exit 1): local-exec provisioner error');
    expect(r.error).toMatch(/exit status\s+3/);
    expect(logs.text()).toContain('provisioner giving up');
  });

  test('a missing binary fails with a clear message', async () => {
    const r = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'site'),
        binary: 'tofu',
        inputs: { name: 'x' },
        env: { PATH: tempDir() },
      }),
    );
    expect(r).toMatchObject({ status: 'failed', error: "terraform binary 'tofu' not found on PATH" });
  });

  test('a helpful error and no crash when the work folder cannot be created', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    const r = await engine.run(
      request({ moduleDir: join(FIXTURES, 'site'), workDir: join(file, 'step'), inputs: { name: 'x' } }),
    );
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^could not prepare the work folder .*a-file\/step/);
  });

  test('a work folder it did not make is refused and left intact; its own is reused', async () => {
    const foreign = tempDir();
    writeFileSync(join(foreign, 'precious.txt'), 'keep me');
    const r = await engine.run(
      request({ moduleDir: join(FIXTURES, 'site'), workDir: foreign, inputs: { name: 'x' } }),
    );
    expect(r.status).toBe('failed');
    expect(r.error).toContain('it is not empty and was not made by site-deploy');
    expect(readFileSync(join(foreign, 'precious.txt'), 'utf8')).toBe('keep me');

    const workDir = join(tempDir(), 'step');
    const statePath = join(tempDir(), 'x.tfstate');
    const first = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'site'),
        workDir,
        inputs: { name: 'x' },
        backend: { kind: 'local', path: statePath },
      }),
    );
    const second = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'site'),
        workDir,
        inputs: { name: 'x' },
        backend: { kind: 'local', path: statePath },
      }),
    );
    expect([first.status, second.status]).toEqual(['succeeded', 'no-op']);
  });

  test('relative paths are a programming error', async () => {
    await expect(engine.run(request({ moduleDir: 'modules/site' }))).rejects.toThrow(
      'moduleDir must be an absolute path',
    );
  });
});

test('runs OpenTofu through the binary input (a `tofu` on PATH)', async () => {
  const bin = tempDir('sd-bin-');
  const calls = join(bin, 'calls.log');
  writeFileSync(join(bin, 'tofu'), `#!/bin/sh\necho "$1" >> '${calls}'\nexec terraform "$@"\n`);
  chmodSync(join(bin, 'tofu'), 0o755);
  const logs = logSink();
  const r = await engine.run(
    request({
      moduleDir: join(FIXTURES, 'site'),
      binary: 'tofu',
      inputs: { name: 'tofu' },
      env: { PATH: `${bin}:${process.env.PATH}` },
      log: logs.log,
    }),
  );
  expect(r.status).toBe('succeeded');
  expect(r.outputs.greeting?.value).toBe('hello tofu');
  expect(readFileSync(calls, 'utf8').split('\n').filter(Boolean)).toEqual(['init', 'plan', 'show', 'apply']);
  expect(logs.text()).toMatch(/^\$ tofu init/m);
});

describe('cancellation', () => {
  test('abort during a slow apply cancels it, leaves no process behind and no lock: a re-run succeeds', async () => {
    const statePath = join(tempDir(), 'slow.tfstate');
    const workDir = join(tempDir(), 'step');
    const logs = logSink();
    const abort = new AbortController();
    const running = engine.run(
      request({
        moduleDir: join(FIXTURES, 'slow'),
        workDir,
        inputs: { sleep_seconds: 300 },
        backend: { kind: 'local', path: statePath },
        log: logs.log,
        signal: abort.signal,
      }),
    );
    await logs.waitFor(/provisioning/);
    const sleepPid = Number(readFileSync(join(workDir, 'sleep.pid'), 'utf8'));
    abort.abort();
    const r = await running;

    expect(r.status).toBe('cancelled');
    expect(r.error).toMatch(/^cancelled during terraform apply; Terraform stopped/);
    expect(logs.text()).toContain('Gracefully shutting down...');
    expect(await eventually(() => processGone(sleepPid))).toBe(true);

    const again = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'slow'),
        inputs: { sleep_seconds: 0 },
        backend: { kind: 'local', path: statePath },
        lockTimeout: '0s',
      }),
    );
    expect(again.status).toBe('succeeded');
    expect(again.outputs.id?.value).toMatch(UUID);
  });

  test('an already aborted signal runs nothing', async () => {
    const abort = new AbortController();
    abort.abort();
    const workDir = join(tempDir(), 'step');
    const r = await engine.run(request({ moduleDir: join(FIXTURES, 'site'), workDir, signal: abort.signal }));
    expect(r.status).toBe('cancelled');
    expect(existsSync(workDir)).toBe(false);
  });
});

describe('pieces', () => {
  test.each([
    ['local', { kind: 'local', path: '/s/m.tfstate' } as const, {}, { local: { path: '/s/m.tfstate' } }],
    [
      's3 on AWS',
      { kind: 's3', bucket: 'b', key: 'k', region: 'us-gov-west-1' } as const,
      {},
      { s3: { bucket: 'b', key: 'k', region: 'us-gov-west-1', use_lockfile: true } },
    ],
    [
      's3 on a custom endpoint',
      { kind: 's3', bucket: 'b', key: 'k', region: 'us-east-1', maxRetries: 1 } as const,
      { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5000' },
      {
        s3: {
          bucket: 'b',
          key: 'k',
          region: 'us-east-1',
          use_lockfile: true,
          use_path_style: true,
          max_retries: 1,
        },
      },
    ],
  ])('backend override: %s', (_name, backend, env, expected) => {
    expect(backendOverride(backend, env)).toEqual({ terraform: { backend: expected } });
  });

  test('planned outputs: partly unknown values count as unknown, removed outputs are dropped', () => {
    const plan = {
      planned_values: {
        outputs: {
          a: { sensitive: false, value: 1 },
          b: { sensitive: false },
          c: { sensitive: false, value: { x: 1 } },
        },
      },
      output_changes: {
        a: { actions: ['create'], after_unknown: false },
        b: { actions: ['create'], after_unknown: true },
        c: { actions: ['create'], after_unknown: { y: true } },
        gone: { actions: ['delete'], after_unknown: false },
      },
    };
    expect(plannedOutputs(plan)).toEqual({
      outputs: { a: { value: 1, sensitive: false } },
      unknown: ['b', 'c'],
    });
  });

  test('the lock error names who holds the lock', () => {
    const stderr = [
      '',
      'Error: Error acquiring the state lock',
      '',
      'Lock Info:',
      '  ID:        abc',
      '  Who:       ci@runner',
      '  Created:   2026-01-01 00:00:00 UTC',
    ];
    expect(terraformReason(stderr)).toBe(
      'Error acquiring the state lock (held by ci@runner, since 2026-01-01 00:00:00 UTC, lock ID abc)',
    );
  });
});
