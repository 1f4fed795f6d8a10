import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { baseRepo, cleanupRepos, ensureBundle, writeRepo } from './helpers/repo.js';
import { testDist } from './helpers/dist.js';

// The bundled action, run the way the runner runs it: only PATH/HOME plus the runner's variables.
let dist: string;
beforeAll(async () => {
  await ensureBundle();
  dist = testDist();
});
afterAll(cleanupRepos);

async function runAction(
  workspace: string,
  inputs: Record<string, string>,
): Promise<{ code: number; stdout: string; output: string }> {
  const w = mkdtempSync(join(tmpdir(), 'sd-action-'));
  for (const f of ['out', 'summary', 'env', 'path', 'state']) writeFileSync(join(w, f), '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: join(w, 'out'),
    GITHUB_STEP_SUMMARY: join(w, 'summary'),
    GITHUB_ENV: join(w, 'env'),
    GITHUB_PATH: join(w, 'path'),
    GITHUB_STATE: join(w, 'state'),
    GITHUB_REPOSITORY: 'acme/portal',
    GITHUB_SHA: 'a'.repeat(40),
    RUNNER_TEMP: w,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((ok) => {
    execFile(
      resolve('node_modules/.bin/node'),
      [join(dist, 'index.js')],
      { env, cwd: workspace },
      (err, stdout) => {
        ok({
          code: err ? Number((err as { code?: number }).code ?? 1) : 0,
          stdout,
          output: readFileSync(join(w, 'out'), 'utf8'),
        });
      },
    );
  });
}

test('command validate turns each config problem into an annotation on its file and line, and fails the step', async () => {
  const repo = baseRepo();
  const root = await writeRepo(repo, {});
  const site = readFileSync(join(root, 'sites/s1/site.yaml'), 'utf8');
  const lines = site.split('\n');
  const cidr = lines.findIndex((l) => /cidr:/.test(l));
  lines.splice(cidr + 1, 0, lines[cidr]!.replace(/cidr:.*/, 'wieght: 10'));
  writeFileSync(join(root, 'sites/s1/site.yaml'), lines.join('\n'));
  const run = await runAction(root, { command: 'validate' });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(
    new RegExp(
      `::error title=site-deploy,file=sites/s1/site.yaml,line=${cidr + 2},col=\\d+::.*"wieght".*did you mean "weight"`,
    ),
  );
  expect(run.stdout).toMatch(/::error::1 configuration error: see the annotations/);
  expect(run.output).toMatch(/status<<ghadelimiter_[\w-]+\nfailed\n/);
  expect(run.stdout).not.toMatch(/\n\s+at /);
});

test('command validate on a valid repository succeeds and says so', async () => {
  const root = await writeRepo(baseRepo(), {});
  const run = await runAction(root, { command: 'validate' });
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/configuration is valid/);
  expect(run.output).toMatch(/status<<ghadelimiter_[\w-]+\nsucceeded\n/);
});

test('a bad input value fails the step with a readable message, not a stack trace', async () => {
  const root = await writeRepo(baseRepo(), {});
  const run = await runAction(root, { command: 'destroy' });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(
    /::error::input "command" must be one of plan, apply, validate, verify, drift, matrix, not "destroy"/,
  );
  expect(run.stdout).not.toMatch(/\n\s+at /);
});
