// `site-deploy output` (SPEC §9) with REAL Terraform: the outputs of an environment's modules as
// their state holds them, a sensitive one shown as (sensitive) and never its value.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runMain } from './helpers/cli-in-process.js';
import { cleanupSites, writeSite, type SiteRepo } from './helpers/site.js';

const SECRET = 'S3CR3T-output-planted-42';

const VAULT = `variable "label" {
  type = string
}
variable "password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "this" {
  input = var.label
}
output "label" {
  value = var.label
}
output "password" {
  value     = var.password
  sensitive = true
}
`;

let repo: SiteRepo;
const where = (): string[] => ['--root', repo.root, '--site', repo.site, '--env', repo.env];
const output = (...extra: string[]) => runMain(['output', ...where(), '--credentials', 'none', ...extra]);

beforeAll(async () => {
  repo = await writeSite({
    modules: [
      { type: 'vault', name: 'db', weight: 10, label: 'hello', password: SECRET },
      { type: 'vault', name: 'cache', weight: 20, label: 'later', password: SECRET },
    ],
    catalog: { vault: { tf: VAULT, outputs: ['label', 'password'] } },
  });
});
afterAll(cleanupSites);

describe('output', () => {
  test('before any apply: every module says it has no state yet', async () => {
    const r = await output();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'db (vault): no state yet (never applied)\ncache (vault): no state yet (never applied)\n',
    );
  });

  test('after apply: the outputs from state, the sensitive one as (sensitive), never its value', async () => {
    const applied = await runMain(['apply', ...where(), '--credentials', 'none']);
    expect(applied.code).toBe(0);
    // The state really holds the planted value: the command had something to hide.
    expect(repo.readState('db').outputs.password?.value).toBe(SECRET);

    const text = await output();
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      'db (vault)\n  label = "hello"\n  password = (sensitive)\ncache (vault)\n  label = "later"\n  password = (sensitive)\n',
    );
    const json = await output('--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      site: 's',
      environment: 'dev',
      modules: [
        { name: 'db', type: 'vault', applied: true, outputs: { label: 'hello', password: '(sensitive)' } },
        { name: 'cache', type: 'vault', applied: true, outputs: { label: 'later', password: '(sensitive)' } },
      ],
    });
    for (const r of [text, json]) expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET);
  }, 180_000);

  test('--module shows one module; an unknown one is bad input with a suggestion', async () => {
    const one = await output('--module', 'cache', '--json');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).modules.map((m: { name: string }) => m.name)).toEqual(['cache']);
    const bad = await output('--module', 'dbb');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: s/dev has no module "dbb" — did you mean "db"?\n');
    expect(bad.stdout).toBe('');
  });
});
