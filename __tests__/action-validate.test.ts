import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runBundledAction } from './helpers/action-runner.js';
import { baseRepo, cleanupRepos, ensureBundle, writeRepo } from './helpers/repo.js';

// The bundled action, run the way the runner runs it: only PATH/HOME plus the runner's variables.
beforeAll(ensureBundle);
afterAll(cleanupRepos);

/** The bundled action run by the one runner harness: its exit code, stdout and GITHUB_OUTPUT as written. */
async function runAction(
  workspace: string,
  inputs: Record<string, string>,
): Promise<{ code: number | null; stdout: string; output: string }> {
  const run = await runBundledAction({ root: workspace, inputs });
  return { code: run.code, stdout: run.stdout, output: readFileSync(run.files.output, 'utf8') };
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
    /::error::input "command" must be one of plan, apply, validate, verify, drift, matrix, report, not "destroy"/,
  );
  expect(run.stdout).not.toMatch(/\n\s+at /);
});

test.each([
  ['config-root', '../../..'],
  ['config-root', '..'],
  ['catalog', '/etc'],
])(
  'input %s: %s outside the workspace is bad input: refused before anything is read, no outside folder named',
  async (name, value) => {
    const root = await writeRepo(baseRepo(), {});
    // A folder beside the workspace, which a listing of `..` would name.
    const outside = join(root, '..', `sd-outside-${process.pid}-${Date.now()}`);
    mkdirSync(outside);
    try {
      const run = await runAction(root, { command: 'validate', [name]: value });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `::error::input "${name}" must be a folder inside the workspace, not "${value}"`,
      );
      expect(run.output).toMatch(/status<<ghadelimiter_[\w-]+\nfailed\n/);
      expect(run.stdout).not.toContain(basename(outside));
      expect(run.stdout).not.toMatch(/passwd|\n\s+at /);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  },
);
