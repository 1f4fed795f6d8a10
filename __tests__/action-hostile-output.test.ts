// What a hostile module prints, judged by the runner's own command-parsing rules (helpers/
// runner-commands.ts): through the bundled action and through the CLI run in a workflow step,
// no workflow command from module output runs, and the log groups stay balanced.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { actionBundle, runBundledAction, type ActionRun } from './helpers/action-runner.js';
import { cleanupRepos, writeRepo, type Files } from './helpers/repo.js';
import { readAsRunner, type RunnerReading } from './helpers/runner-commands.js';
import { cleanupSites, cliSnapshot } from './helpers/site.js';

/** Every way a line can reach the runner's command parser, each tagged PWNED. */
const HOSTILE_LINES = [
  '::error::PWNED-error',
  '   ::set-output name=x::PWNED-set-output',
  '::endgroup::',
  '::group::PWNED-group',
  'prefix ##[error]PWNED-legacy',
  '::add-mask::PWNED-mask',
  '::save-state name=s::PWNED-state',
  '::stop-commands::attacker-token',
  '::attacker-token::',
  '::error::PWNED-after-own-stop',
  '::warning file=x,line=1::PWNED-warning',
  '##[group]PWNED-legacy-group',
  '##[endgroup]',
];
const printf = (lines: string[]): string =>
  lines.map((l) => `printf '%s\\n' '${l.replace(/'/g, `'\\''`)}'`).join('\n');
const HOSTILE_SH = `${printf(HOSTILE_LINES)}\n{\n${printf(HOSTILE_LINES.map((l) => l.replace('PWNED', 'PWNED-stderr')))}\n} >&2\nprintf 'carriage\\r::error::PWNED-cr\\n'`;

const script = (body: string): { script: string } => ({ script: `#!/bin/sh\nset -e\n${body}\n` });

/** A site whose modules print every hostile line, in Terraform's plan and apply and from scripts. */
function hostileRepo(): Files {
  return {
    'sites/evil/site.yaml': {
      site: {
        name: 'evil',
        owner: 'x',
        state: { backend: 'local' },
        modules: [
          { type: 'tf', name: 'tf', note: '##[warning]PWNED-plan-value' },
          { type: 'noisy', name: 'noisy', weight: 20 },
          { type: 'failing', name: 'failing', weight: 30 },
        ],
      },
    },
    'sites/evil/environments/dev.yaml': { environment: 'dev', lifecycle: 'ephemeral' },
    'modules/tf/module.yaml': { engine: 'terraform', services: [], outputs: ['note'] },
    'modules/tf/main.tf': `variable "note" {
  type = string
}
resource "terraform_data" "x" {
  input = var.note
  provisioner "local-exec" {
    command = <<-EOT
${HOSTILE_SH.split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
    EOT
  }
}
output "note" {
  value = "##[error]PWNED-output-\${var.note}"
}
`,
    'modules/noisy/module.yaml': { engine: 'command', services: [], outputs: ['msg'] },
    'modules/noisy/plan': script(
      `${HOSTILE_SH}\necho '{"add":1,"change":0,"destroy":0}' > "$SITE_DEPLOY_CHANGES"`,
    ),
    'modules/noisy/apply': script(
      `${HOSTILE_SH}\necho '{"msg":"::error::PWNED-json-output ##[error]PWNED-json-legacy"}' > "$SITE_DEPLOY_OUTPUTS"`,
    ),
    'modules/failing/module.yaml': { engine: 'command', services: [] },
    'modules/failing/plan': script(`echo '{"add":1,"change":0,"destroy":0}' > "$SITE_DEPLOY_CHANGES"`),
    // The failure reason quotes the script's stderr: it reaches annotations, summaries and outputs.
    'modules/failing/apply': script(`${HOSTILE_SH}\nexit 3`),
  };
}

/** Executed commands that came from module output. */
function injected(r: RunnerReading): string[] {
  return r.commands
    .filter((c) => /PWNED/.test(c.data) || /PWNED/.test(JSON.stringify(c.props)) || /PWNED/.test(c.name))
    .map((c) => `line ${c.line}: ${c.form}${c.name} ${c.data}`);
}

function expectInert(stream: string): RunnerReading {
  const r = readAsRunner(stream);
  expect(injected(r)).toEqual([]);
  expect(r.masks.filter((m) => m.includes('PWNED'))).toEqual([]);
  expect(r.unbalanced).toBe(false);
  expect(r.openGroups).toBe(0);
  expect(r.stoppedAtEnd).toBe(false);
  return r;
}

let root: string;
beforeAll(async () => {
  await actionBundle();
  await cliSnapshot();
  root = await writeRepo(hostileRepo());
}, 300_000);
afterAll(async () => {
  await cleanupRepos();
  await cleanupSites();
});

describe('the bundled action', () => {
  let plan: ActionRun;
  let apply: ActionRun;
  beforeAll(async () => {
    const inputs = { site: 'evil', environment: 'dev' };
    plan = await runBundledAction({ root, inputs: { ...inputs, command: 'plan' } });
    // No pull request reviewed these plans; binding would (rightly) halt before the modules run.
    apply = await runBundledAction({ root, inputs: { ...inputs, command: 'apply', binding: 'off' } });
  }, 300_000);

  test('the modules really printed every hostile line (the test can fail)', () => {
    for (const run of [plan, apply]) {
      const shown = readAsRunner(run.stdout).shown.join('\n');
      expect(shown).toContain('::error::PWNED-error');
      expect(shown).toContain('prefix ##[error]PWNED-legacy');
      expect(shown).toContain('::stop-commands::attacker-token');
    }
    expect(readAsRunner(apply.stdout).shown.join('\n')).toMatch(/local-exec\): ::error::PWNED-error/);
  });

  test('plan: no command from module output runs; groups balanced; one group per module', () => {
    expect(plan.code).toBe(0);
    const r = expectInert(plan.stdout);
    expect(r.commands.filter((c) => c.name === 'group').map((c) => c.data)).toEqual([
      'tf (tf) — plan evil/dev',
      'noisy (noisy) — plan evil/dev',
      'failing (failing) — plan evil/dev',
    ]);
    expectInert(plan.stderr);
  });

  test('apply: no command from module output or from failure reasons runs; the failure is reported', () => {
    expect(apply.code).toBe(1);
    const r = expectInert(apply.stdout);
    expectInert(apply.stderr);
    const errors = r.commands.filter((c) => c.name === 'error').map((c) => c.data);
    // The tool's own annotation and step failure, with the module's text as escaped data.
    expect(errors.some((e) => e.startsWith('failing: apply failed (exit 3)'))).toBe(true);
    expect(errors.at(-1)).toBe('apply failed: failing');
    expect(apply.outputs.status).toBe('failed');
  });
});

describe('the bundled CLI in a workflow step (GITHUB_ACTIONS=true)', () => {
  const cli = async (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const script = await cliSnapshot();
    return new Promise((ok) =>
      execFile(
        resolve('node_modules/.bin/node'),
        [script, ...args, '--root', root, '--site', 'evil', '--env', 'dev', '--credentials', 'none'],
        {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_ACTIONS: 'true' },
          maxBuffer: 1 << 26,
        },
        (e, stdout, stderr) =>
          ok({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr }),
      ),
    );
  };

  test('apply --verbose: engine output and failure reasons run nothing', async () => {
    const r = await cli('apply', '--verbose');
    expect(r.code).toBe(1);
    expect(readAsRunner(r.stderr).shown.join('\n')).toContain('::error::PWNED-error');
    expectInert(r.stdout);
    expectInert(r.stderr);
  }, 120_000);

  test('apply --json: one JSON document that parses, holds the reason, and runs nothing', async () => {
    const r = await cli('apply', '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { modules: { name: string; reason?: string }[] };
    expect(doc.modules.find((m) => m.name === 'failing')?.reason).toContain('##[error]PWNED-stderr-legacy');
    expectInert(r.stdout);
    expectInert(r.stderr);
  }, 120_000);
});
