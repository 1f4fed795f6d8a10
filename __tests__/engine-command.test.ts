import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandEngine } from '../src/adapters/engines/command.js';
import {
  cleanTemp,
  FIXTURES,
  logSink,
  processGone,
  eventually,
  request,
  tempDir,
} from './fixtures/engine/harness.js';

// Real scripts, run the way SPEC §5 describes command modules.
const engine = new CommandEngine();
const ECHO = join(FIXTURES, 'command-echo');

afterAll(cleanTemp);

/** A command module folder with the given scripts (body after the shebang). */
function moduleWith(scripts: Record<string, string>, mode = 0o755): string {
  const dir = tempDir('sd-cmd-');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), mode);
  }
  return dir;
}

test('apply runs plan then apply in the module folder, with the inputs file, and reads the outputs back', async () => {
  const logs = logSink();
  const inputs = { domain: 'portal.example.com', replicas: 3, tags: { team: 'web' }, zones: ['a', 'b'] };
  const r = await engine.run(
    request({ moduleDir: ECHO, inputs, env: { EXTRA_VAR: 'from-request' }, log: logs.log }),
  );

  expect(r).toMatchObject({
    status: 'succeeded',
    hasChanges: true,
    changes: { add: 1, change: 0, destroy: 0 },
  });
  expect(r.outputs).toEqual({
    received: { value: inputs, sensitive: false },
    cwd: { value: ECHO, sensitive: false },
    extra: { value: 'from-request', sensitive: false },
    oidc: { value: '', sensitive: false },
    input_token: { value: '', sensitive: false },
    aws_secret: { value: '', sensitive: false },
  });
  expect(logs.text()).toMatch(/planning\n[^]*applying\n/);
});

test('plan mode runs only plan and reports its changes and the outputs it knows', async () => {
  const logs = logSink();
  const r = await engine.run(request({ mode: 'plan', moduleDir: ECHO, inputs: { a: 1 }, log: logs.log }));
  expect(r).toMatchObject({
    status: 'succeeded',
    hasChanges: true,
    changes: { add: 1, change: 0, destroy: 0 },
  });
  expect(r.outputs).toEqual({ known_at_plan: { value: 'yes', sensitive: false } });
  expect(logs.text()).not.toContain('applying');
});

test('a plan reporting zero changes makes apply a no-op that skips the apply script', async () => {
  const logs = logSink();
  const r = await engine.run(request({ moduleDir: ECHO, env: { FAKE_ADD: '0' }, log: logs.log }));
  expect(r).toMatchObject({ status: 'no-op', hasChanges: false, changes: { add: 0, change: 0, destroy: 0 } });
  expect(r.outputs).toEqual({ known_at_plan: { value: 'yes', sensitive: false } });
  expect(logs.text()).not.toContain('applying');
});

test('without a changes file, changes are assumed and apply runs', async () => {
  const dir = moduleWith({ plan: 'true', apply: 'echo \'{"url": "https://x"}\' > "$SITE_DEPLOY_OUTPUTS"' });
  const r = await engine.run(request({ moduleDir: dir }));
  expect(r).toMatchObject({
    status: 'succeeded',
    hasChanges: true,
    outputs: { url: { value: 'https://x', sensitive: false } },
  });
  expect(r.changes).toBeUndefined();
});

test('runner tokens, action inputs and ambient AWS credentials do not reach the scripts', async () => {
  const ambient = {
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token',
    'INPUT_GITHUB-TOKEN': 'ghs_input_token',
    AWS_SECRET_ACCESS_KEY: 'ambient-secret',
  };
  const saved = Object.fromEntries(Object.keys(ambient).map((k) => [k, process.env[k]]));
  Object.assign(process.env, ambient);
  try {
    const r = await engine.run(request({ moduleDir: ECHO }));
    expect(r.status).toBe('succeeded');
    expect(r.outputs.oidc?.value).toBe('');
    expect(r.outputs.input_token?.value).toBe('');
    expect(r.outputs.aws_secret?.value).toBe('');

    // The step's own session, given in the request, does.
    const withKeys = await engine.run(
      request({ moduleDir: ECHO, env: { AWS_SECRET_ACCESS_KEY: 'step-session-secret' } }),
    );
    expect(withKeys.outputs.aws_secret?.value).toBe('step-session-secret');
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test.each([
  [
    'plan',
    { plan: 'echo "plan: bucket policy is invalid" >&2; exit 7', apply: 'true' },
    /^plan failed \(exit 7\)\nplan: bucket policy is invalid$/,
  ],
  [
    'apply',
    { plan: 'true', apply: 'echo partial; echo "apply: throttled" >&2; exit 2' },
    /^apply failed \(exit 2\)\napply: throttled$/,
  ],
])('a failing %s script fails the step with its exit code and stderr', async (_name, scripts, error) => {
  const logs = logSink();
  const r = await engine.run(request({ moduleDir: moduleWith(scripts), log: logs.log }));
  expect(r.status).toBe('failed');
  expect(r.error).toMatch(error);
});

test('a missing script fails with a clear message before anything runs', async () => {
  const dir = moduleWith({ plan: 'touch "$SITE_DEPLOY_CHANGES.ran"' });
  const workDir = join(tempDir(), 'step');
  const r = await engine.run(request({ moduleDir: dir, workDir }));
  expect(r).toMatchObject({
    status: 'failed',
    error: `command module ${dir} has no 'apply' executable (expected ${dir}/apply)`,
  });
  expect(existsSync(workDir)).toBe(false);
  // Plan mode needs only `plan`.
  expect((await engine.run(request({ mode: 'plan', moduleDir: dir }))).status).toBe('succeeded');
});

test('a script without the executable bit fails with how to fix it', async () => {
  const dir = moduleWith({ plan: 'true' }, 0o644);
  const r = await engine.run(request({ mode: 'plan', moduleDir: dir }));
  expect(r).toMatchObject({
    status: 'failed',
    error: `${dir}/plan is not executable (chmod +x plan, and commit the mode)`,
  });
});

test.each([
  [
    'outputs that are not JSON',
    { plan: 'true', apply: 'echo "url=https://x" > "$SITE_DEPLOY_OUTPUTS"' },
    /^SITE_DEPLOY_OUTPUTS \(apply\) is not valid JSON: /,
  ],
  [
    'outputs that are not an object',
    { plan: 'true', apply: 'echo "[1]" > "$SITE_DEPLOY_OUTPUTS"' },
    /^SITE_DEPLOY_OUTPUTS must hold a JSON object of outputs$/,
  ],
  [
    'a negative change count',
    { plan: 'echo \'{"add": -1}\' > "$SITE_DEPLOY_CHANGES"', apply: 'true' },
    /^SITE_DEPLOY_CHANGES: "add" must be a non-negative integer, got -1$/,
  ],
])('a script writing %s fails the step, naming the file', async (_name, scripts, error) => {
  const r = await engine.run(request({ moduleDir: moduleWith(scripts) }));
  expect(r.status).toBe('failed');
  expect(r.error).toMatch(error);
});

test('abort stops the running script and whatever it started', async () => {
  const dir = moduleWith({ plan: 'sleep 300 & echo $! > "$SITE_DEPLOY_CHANGES.pid"; echo started; wait $!' });
  const workDir = join(tempDir(), 'step');
  const logs = logSink();
  const abort = new AbortController();
  const running = engine.run(
    request({ mode: 'plan', moduleDir: dir, workDir, log: logs.log, signal: abort.signal }),
  );
  await logs.waitFor(/started/);
  abort.abort();
  const r = await running;
  expect(r.status).toBe('cancelled');
  const pid = Number(readFileSync(join(workDir, 'changes.json.pid'), 'utf8'));
  expect(await eventually(() => processGone(pid))).toBe(true);
});

test('the inputs file holds exactly the resolved inputs and is readable only by its owner', async () => {
  const workDir = join(tempDir(), 'step');
  const inputs = { db_password: 'p@ss', port: 5432, flags: [true, false] };
  await engine.run(request({ mode: 'plan', moduleDir: ECHO, workDir, inputs }));
  const file = join(workDir, 'inputs.json');
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(inputs);
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

test('a script that ignores SIGTERM is killed, with what it started, after the grace period', async () => {
  const dir = moduleWith({
    plan: 'trap "" TERM; sleep 300 & echo $! > "$SITE_DEPLOY_CHANGES.pid"; echo started; wait $!; wait $!',
  });
  const workDir = join(tempDir(), 'step');
  const logs = logSink();
  const abort = new AbortController();
  const running = engine.run(
    request({ mode: 'plan', moduleDir: dir, workDir, log: logs.log, signal: abort.signal, killGraceMs: 200 }),
  );
  await logs.waitFor(/started/);
  abort.abort();
  const r = await running;
  expect(r).toMatchObject({
    status: 'cancelled',
    error: 'cancelled during plan; killed after the grace period',
  });
  const pid = Number(readFileSync(join(workDir, 'changes.json.pid'), 'utf8'));
  expect(await eventually(() => processGone(pid))).toBe(true);
});
