import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, ensureBundle } from './helpers/repo.js';
import { parseHumanPlan, TerraformWorkspace } from './helpers/terraform-plans.js';

// `site-deploy summarize` through the bundled CLI, on plans real Terraform made.
const SECRET = 'S3CR3T-summarize-cli';
const dir = mkdtempSync(join(tmpdir(), 'sd-summarize-'));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(resolve('node_modules/.bin/node'), [CLI, ...args], (err, stdout, stderr) =>
      ok({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let ws: TerraformWorkspace;
let planFile: string;
let human: string;
beforeAll(async () => {
  await ensureBundle();
  ws = new TerraformWorkspace();
  ws.write({
    'main.tf': `
variable "password" {
  type      = string
  sensitive = true
  default   = "${SECRET}"
}
variable "rev" {
  type    = string
  default = "1"
}
resource "terraform_data" "db" {
  input            = { name = "db", password = var.password }
  triggers_replace = [var.rev]
}
resource "terraform_data" "app" {
  count = 2
  input = "app-\${count.index}"
}
output "password" {
  value     = var.password
  sensitive = true
}
`,
  });
  ws.apply();
  const plan = ws.plan({ vars: { rev: '2' } });
  planFile = join(dir, 'plan.json');
  writeFileSync(planFile, plan.jsonText);
  human = plan.humanPlanText;
  expect(plan.jsonText).toContain(SECRET); // the plan really carries the secret in plaintext
});
afterAll(() => ws?.dispose());

test("--json counts equal the numbers of Terraform's own Plan: line, with replace and addresses", async () => {
  const r = await cli(['summarize', planFile, '--json']);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  const expected = parseHumanPlan(human);
  expect({ add: doc.add, change: doc.change, destroy: doc.destroy, import: doc.import }).toEqual({
    add: expected.add,
    change: expected.change,
    destroy: expected.destroy,
    import: expected.import,
  });
  expect(doc).toMatchObject({
    replace: 1,
    forget: 0,
    no_changes: false,
    resources: [{ address: 'terraform_data.db', actions: ['delete', 'create'] }],
  });
});

test.each([['--json'], ['--markdown'], []])(
  'the sensitive value never appears (summarize %s)',
  async (...flags) => {
    const r = await cli(['summarize', planFile, ...flags.filter(Boolean)]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout).toMatch(/terraform\\?_data\.db/);
  },
);

test.each([
  ['a truncated plan', '{"format_version":"1.2","resource_changes":[', /truncated/],
  ['a state file, not a plan', '{"version":4,"serial":1,"lineage":"x","resources":[]}', /state/],
  ['an unknown format_version major', '{"format_version":"2.0","resource_changes":[]}', /format_version/],
])('%s is bad input: exit 2, one clear line, no stack trace', async (_name, text, message) => {
  const f = join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, text);
  const r = await cli(['summarize', f, '--json']);
  expect(r.code).toBe(2);
  // --json: the failure document, and only it, on stdout.
  expect(JSON.parse(r.stdout)).toMatchObject({
    ok: false,
    command: 'summarize',
    status: 'invalid',
    exit_code: 2,
  });
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test('a missing plan file is bad input', async () => {
  const r = await cli(['summarize', join(dir, 'nope.json')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/no such plan file/);
});
