import { afterAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { inspect } from 'node:util';
import {
  PlanFormatError,
  parsePlanJson,
  summarizePlan,
  toSummaryJson,
  type PlanSummary,
} from '../src/core/plan/summary.js';
import { renderReport, renderSummaryMarkdown, renderSummaryText } from '../src/core/report/markdown.js';
import { SiteDeployError } from '../src/core/errors.js';
import { TerraformWorkspace, parseHumanPlan, type TerraformPlan } from './helpers/terraform-plans.js';

const workspaces: TerraformWorkspace[] = [];
afterAll(() => workspaces.forEach((w) => w.dispose()));

function workspace(files: Record<string, string>): TerraformWorkspace {
  const w = new TerraformWorkspace().write(files);
  workspaces.push(w);
  return w;
}

/** Addresses Terraform itself lists as changing (`# addr will be …` / `# addr must be …`), in its order. */
function humanAddresses(text: string): string[] {
  return [...text.matchAll(/^\s*# (\S+) (?:will|must) (?:no longer )?be/gm)].map((m) => m[1] ?? '');
}

/** The summary must agree with Terraform's own rendering of the very same plan file. */
function expectMatchesTerraform(plan: TerraformPlan): PlanSummary {
  const s = summarizePlan(parsePlanJson(plan.jsonText));
  const human = parseHumanPlan(plan.humanPlanText);
  expect({
    import: s.import,
    add: s.add,
    change: s.change,
    destroy: s.destroy,
    noChanges: s.no_changes,
  }).toEqual(human);
  expect(s.no_changes).toBe(plan.exitCode === 0);
  // Same resources, in the order of Terraform's own plan text.
  expect(s.resources.map((r) => r.address)).toEqual(humanAddresses(plan.humanPlanText));
  return s;
}

const actionsOf = (s: PlanSummary): Record<string, string> =>
  Object.fromEntries(s.resources.map((r) => [r.address, r.actions.join(',')]));

const nested = {
  'mod/main.tf': `
variable "rev" { type = string }
resource "terraform_data" "inner" { triggers_replace = [var.rev] }
module "deep" {
  source = "./deep"
  rev    = var.rev
}
output "id" { value = terraform_data.inner.id }
`,
  'mod/deep/main.tf': `
variable "rev" { type = string }
resource "terraform_data" "d" { input = { rev = var.rev } }
`,
};

const siteV1 = `
variable "rev" { type = string }
resource "terraform_data" "keep" { input = "same" }
resource "terraform_data" "upd" { input = { name = "v\${var.rev}" } }
resource "terraform_data" "rep" { triggers_replace = [var.rev] }
resource "terraform_data" "cbd" {
  triggers_replace = [var.rev]
  lifecycle { create_before_destroy = true }
}
resource "terraform_data" "gone" {}
resource "terraform_data" "n" {
  count = var.rev == "1" ? 3 : 2
  input = count.index
}
resource "terraform_data" "each" {
  for_each = var.rev == "1" ? toset(["a", "b"]) : toset(["b", "c"])
  input    = each.key
}
module "m" {
  source = "./mod"
  rev    = var.rev
}
`;

describe('summaries of real Terraform plans equal its own Plan: line', () => {
  test('create: count, for_each and nested modules on an empty state', () => {
    const s = expectMatchesTerraform(
      workspace({ 'main.tf': siteV1, ...nested }).plan({ vars: { rev: '1' } }),
    );
    expect(s).toMatchObject({ add: 12, change: 0, destroy: 0, replace: 0, import: 0, forget: 0 });
    expect(s.resources.map((r) => r.address)).toEqual([
      'terraform_data.cbd',
      'terraform_data.each["a"]',
      'terraform_data.each["b"]',
      'terraform_data.gone',
      'terraform_data.keep',
      'terraform_data.n[0]',
      'terraform_data.n[1]',
      'terraform_data.n[2]',
      'terraform_data.rep',
      'terraform_data.upd',
      'module.m.terraform_data.inner',
      'module.m.module.deep.terraform_data.d',
    ]);
    expect(s.risks).toEqual([]);
  });

  test('update, replace (also create_before_destroy), delete, count and for_each shrink, nested modules', () => {
    const w = workspace({ 'main.tf': siteV1, ...nested }).apply({ rev: '1' });
    w.write({ 'main.tf': siteV1.replace('resource "terraform_data" "gone" {}', ''), ...nested });
    const s = expectMatchesTerraform(w.plan({ vars: { rev: '2' } }));
    expect(actionsOf(s)).toEqual({
      'module.m.module.deep.terraform_data.d': 'update',
      'module.m.terraform_data.inner': 'delete,create',
      'terraform_data.cbd': 'create,delete',
      'terraform_data.each["a"]': 'delete',
      'terraform_data.each["c"]': 'create',
      'terraform_data.gone': 'delete',
      'terraform_data.n[2]': 'delete',
      'terraform_data.rep': 'delete,create',
      'terraform_data.upd': 'update',
    });
    expect(s).toMatchObject({ add: 4, change: 2, destroy: 6, replace: 3, forget: 0, import: 0 });
    expect(s.resources.find((r) => r.address === 'terraform_data.rep')?.reason).toBe(
      'replace_because_cannot_update',
    );
    // Every destroy is flagged; no terraform_data type is high-risk by default.
    expect(s.risks.map((r) => `${r.kind} ${r.address}`)).toEqual([
      'destructive terraform_data.cbd',
      'destructive terraform_data.each["a"]',
      'destructive terraform_data.gone',
      'destructive terraform_data.n[2]',
      'destructive terraform_data.rep',
      'destructive module.m.terraform_data.inner',
    ]);
    // The same plan, with terraform_data declared high-risk.
    const high = summarizePlan(parsePlanJson(w.plan({ vars: { rev: '2' } }).jsonText), {
      highRiskTypes: ['terraform_*'],
    });
    expect(high.risks.filter((r) => r.kind === 'high-risk-replace').map((r) => r.address)).toEqual([
      'terraform_data.cbd',
      'terraform_data.rep',
      'module.m.terraform_data.inner',
    ]);
    expect(high.risks.map((r) => r.kind)).toEqual([
      ...Array(3).fill('high-risk-replace'),
      ...Array(3).fill('high-risk-destroy'),
    ]);
    expect(high.risks.filter((r) => r.kind === 'high-risk-destroy')).toHaveLength(3);
  });

  test('-destroy plans every resource away, in nested modules too', () => {
    const w = workspace({ 'main.tf': siteV1, ...nested }).apply({ rev: '1' });
    const s = expectMatchesTerraform(w.plan({ vars: { rev: '1' }, destroy: true }));
    expect(s).toMatchObject({ add: 0, change: 0, destroy: 12, replace: 0 });
    expect(new Set(s.resources.map((r) => r.actions.join(',')))).toEqual(new Set(['delete']));
  });

  test('no changes after an apply', () => {
    const w = workspace({ 'main.tf': siteV1, ...nested }).apply({ rev: '1' });
    const plan = w.plan({ vars: { rev: '1' } });
    const s = expectMatchesTerraform(plan);
    expect(plan.humanPlanText).toMatch(/^No changes\./m);
    expect(toSummaryJson(s)).toMatchObject({
      add: 0,
      change: 0,
      destroy: 0,
      no_changes: true,
      resources: [],
    });
  });

  test('moved: a move alone is a change with zero counts', () => {
    const w = workspace({ 'main.tf': 'resource "terraform_data" "old" { input = "x" }\n' }).apply();
    w.write({
      'main.tf': `
resource "terraform_data" "new" { input = "x" }
moved {
  from = terraform_data.old
  to   = terraform_data.new
}
`,
    });
    const plan = w.plan();
    const s = expectMatchesTerraform(plan);
    expect(plan.humanPlanText).toMatch(/^Plan: 0 to add, 0 to change, 0 to destroy\./m);
    expect(s.no_changes).toBe(false);
    expect(s.moved).toEqual([{ from: 'terraform_data.old', to: 'terraform_data.new' }]);
    expect(s.resources).toEqual([]);
  });

  test('removed with destroy = false counts as forget, which the Plan: line omits; import is counted', () => {
    const w = workspace({
      'main.tf': 'resource "terraform_data" "legacy" { input = "x" }\nresource "terraform_data" "a" {}\n',
    }).apply();
    w.write({
      'main.tf': `
resource "terraform_data" "a" {}
removed {
  from = terraform_data.legacy
  lifecycle { destroy = false }
}
import {
  to = terraform_data.adopted
  id = "0b7e59c2-6a37-4c52-9b8b-0d1e4e7b2f11"
}
resource "terraform_data" "adopted" {}
`,
    });
    const plan = w.plan();
    const s = expectMatchesTerraform(plan);
    expect(plan.humanPlanText).toMatch(/^Plan: 1 to import, 0 to add, 0 to change, 0 to destroy\./m);
    expect(s).toMatchObject({ import: 1, forget: 1, add: 0, destroy: 0 });
    expect(s.resources).toEqual([
      { address: 'terraform_data.adopted', actions: ['no-op'], type: 'terraform_data', importing: true },
      {
        address: 'terraform_data.legacy',
        actions: ['forget'],
        type: 'terraform_data',
        reason: 'delete_because_no_resource_config',
      },
    ]);
    expect(s.risks).toEqual([]);
    expect(toSummaryJson(s).importing).toEqual(['terraform_data.adopted']);
    // The import id is a value from the plan: it stays out.
    expect(JSON.stringify(toSummaryJson(s))).not.toContain('0b7e59c2');
  });

  test('outputs-only changes: no Plan: line, yet a plan with changes', () => {
    const w = workspace({ 'main.tf': 'output "a" { value = "1" }\noutput "b" { value = "same" }\n' }).apply();
    w.write({
      'main.tf':
        'output "a" { value = "2" }\noutput "b" { value = "same" }\noutput "c" {\n  value = "new"\n  sensitive = true\n}\n',
    });
    const plan = w.plan();
    expect(plan.humanPlanText).not.toMatch(/^Plan:/m);
    const s = expectMatchesTerraform(plan);
    expect(s.no_changes).toBe(false);
    expect(s.outputChanges).toEqual([
      { name: 'a', actions: ['update'], sensitive: false },
      { name: 'c', actions: ['create'], sensitive: true },
    ]);
    expect(renderSummaryText(s)).toMatch(/^Only outputs change/);
    expect(renderSummaryMarkdown(s)).toMatch(/^\*\*Only outputs change:\*\*/);
  });
});

describe('sensitive values never leave the plan', () => {
  const SECRET = 'S3CR3T-planted-value';
  test('a sensitive variable and output appear in the plan JSON, and nowhere in any rendering', () => {
    const config = `
variable "password" {
  type      = string
  sensitive = true
}
variable "rev" { type = string }
resource "terraform_data" "db" {
  input            = var.password
  triggers_replace = [var.password, var.rev]
}
resource "terraform_data" "plain" { input = var.rev }
output "password" {
  value     = var.password
  sensitive = true
}
output "rev" { value = var.rev }
`;
    const w = workspace({ 'main.tf': config }).apply({ password: `${SECRET}-old`, rev: '1' });
    const plan = w.plan({ vars: { password: SECRET, rev: '2' } });
    // Terraform writes it in plaintext, so this test can catch a leak.
    expect(plan.jsonText).toContain(SECRET);
    const s = expectMatchesTerraform(plan);
    expect(s).toMatchObject({ add: 1, change: 1, destroy: 1, replace: 1 });
    expect(s.outputChanges).toEqual([
      { name: 'password', actions: ['update'], sensitive: true },
      { name: 'rev', actions: ['update'], sensitive: false },
    ]);
    const report = renderReport({
      marker: '<!-- site-deploy:secret:test -->',
      site: 'secret',
      environment: 'test',
      command: 'plan',
      status: 'succeeded',
      modules: [{ name: 'db', weight: 10, status: 'succeeded', summary: s }],
    });
    for (const out of [
      JSON.stringify(s),
      JSON.stringify(toSummaryJson(s)),
      renderSummaryText(s),
      renderSummaryMarkdown(s),
      report,
    ]) {
      expect(out).not.toContain('S3CR3T');
    }
    // A syntax error next to the secret must not quote it either.
    // An unquoted secret: V8's own message quotes the text around it.
    const broken = plan.jsonText.replace(`"${SECRET}"`, SECRET);
    expect(() => JSON.parse(broken)).toThrow(/S3CR3T/);
    expect(() => parsePlanJson(broken)).toThrow(PlanFormatError);
    try {
      parsePlanJson(broken);
    } catch (e) {
      // Not in the message, nor anywhere in the error (a `cause` would print with --verbose).
      expect(inspect(e, { depth: 10 })).not.toContain('S3CR3T');
      expect((e as Error).message).toMatch(/not valid JSON at position \d+ \(line 1, column \d+\)/);
    }
  });
});

describe('input that is not a plan gets a clear error', () => {
  const errorOf = (f: () => unknown): PlanFormatError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(PlanFormatError);
      expect(e).toBeInstanceOf(SiteDeployError);
      expect((e as PlanFormatError).code).toBe('bad-input');
      return e as PlanFormatError;
    }
    throw new Error('expected a PlanFormatError');
  };

  test('state files, from `terraform show -json` and raw terraform.tfstate', () => {
    const w = workspace({ 'main.tf': 'resource "terraform_data" "a" { input = "x" }\n' }).apply();
    const plan = w.plan();
    expect(() => summarizePlan(parsePlanJson(plan.jsonText))).not.toThrow();
    expect(errorOf(() => summarizePlan(parsePlanJson(w.showStateJson()))).message).toMatch(
      /`terraform show -json` of a state, not of a plan/,
    );
    expect(errorOf(() => summarizePlan(parsePlanJson(w.rawState()))).message).toMatch(
      /Terraform state file \(it has version\/serial\/lineage\)/,
    );
  });

  test.each([
    ['cut after 100 characters', 100],
    ['cut in the middle', 0.5],
    ['missing the last brace', -1],
  ])('truncated JSON: %s', (_name, cut) => {
    const text = JSON.stringify({
      format_version: '1.2',
      resource_changes: [{ address: 'a.b', type: 'a', change: { actions: ['create'] } }],
    });
    const at = cut === -1 ? text.length - 1 : cut < 1 ? Math.floor(text.length * cut) : cut;
    const e = errorOf(() => parsePlanJson(text.slice(0, at), 'plan.json'));
    expect(e.message).toMatch(
      /^plan\.json is truncated: the JSON ends at position \d+ \(line 1, column \d+\)/,
    );
    expect(e.position).toBe(at);
  });

  test('invalid JSON names line and column', () => {
    const e = errorOf(() => parsePlanJson('{\n  "format_version": "1.2",\n  "resource_changes": [,]\n}'));
    expect(e.message).toMatch(/not valid JSON at position \d+ \(line 3, column 24\)/);
  });

  test('an empty file', () => {
    expect(errorOf(() => parsePlanJson('  \n')).message).toMatch(/empty/);
  });

  test.each([
    ['2.0', /unsupported plan format_version "2.0": site-deploy reads 1.x/],
    ['0.1', /unsupported plan format_version "0.1"/],
  ])('format_version %s is refused', (fv, message) => {
    expect(errorOf(() => summarizePlan({ format_version: fv, planned_values: {} })).message).toMatch(message);
  });

  test.each([
    ['1.0', 1],
    ['1.2', 1],
    ['1.9', 1],
  ])('format_version %s is read', (fv, add) => {
    const plan = {
      format_version: fv,
      resource_changes: [{ address: 'x.y', type: 'x', change: { actions: ['create'] } }],
    };
    expect(summarizePlan(plan).add).toBe(add);
  });

  test.each([
    ['an array', [], /got an array/],
    ['no format_version', { resource_changes: [] }, /no format_version/],
    [
      'resource_changes not a list',
      { format_version: '1.2', resource_changes: {} },
      /resource_changes: expected a list/,
    ],
    [
      'a change without actions',
      { format_version: '1.2', resource_changes: [{ address: 'x.y', change: {} }] },
      /resource_changes\[0\] \(x\.y\): expected a non-empty list of actions/,
    ],
  ])('malformed: %s', (_name, plan, message) => {
    expect(errorOf(() => summarizePlan(plan)).message).toMatch(message);
  });
});

describe('plan shapes real Terraform 1.11 cannot produce here', () => {
  const rc = (
    address: string,
    actions: string[],
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> => ({
    address,
    mode: 'managed',
    type: address.split('.').at(-2) ?? '',
    change: { actions, before: { secret: 'S3CR3T-planted-value' }, after: null },
    ...extra,
  });

  test('["create","forget"] (Terraform >= 1.14, lifecycle destroy = false) is an add, a forget and a replace', () => {
    const s = summarizePlan({
      format_version: '1.2',
      resource_changes: [rc('aws_s3_bucket.logs', ['create', 'forget'])],
    });
    expect(s).toMatchObject({ add: 1, destroy: 0, forget: 1, replace: 1 });
    expect(s.risks).toEqual([
      {
        address: 'aws_s3_bucket.logs',
        type: 'aws_s3_bucket',
        kind: 'high-risk-replace',
        actions: ['create', 'forget'],
      },
    ]);
  });

  test('default high-risk types: a database replace, a key destroy; data sources and reads are not risks', () => {
    const s = summarizePlan({
      format_version: '1.2',
      resource_changes: [
        rc('module.db.aws_db_instance.main', ['delete', 'create'], {
          action_reason: 'replace_because_cannot_update',
        }),
        rc('aws_kms_key.k', ['delete']),
        rc('aws_route53_zone.z', ['update']),
        rc('aws_instance.web', ['create', 'delete']),
        { ...rc('data.aws_iam_policy.p', ['delete']), mode: 'data' },
        { ...rc('data.aws_ami.x', ['read']), mode: 'data' },
      ],
    });
    expect(s.risks).toEqual([
      {
        address: 'module.db.aws_db_instance.main',
        type: 'aws_db_instance',
        kind: 'high-risk-replace',
        actions: ['delete', 'create'],
        reason: 'replace_because_cannot_update',
      },
      { address: 'aws_kms_key.k', type: 'aws_kms_key', kind: 'high-risk-destroy', actions: ['delete'] },
      {
        address: 'aws_instance.web',
        type: 'aws_instance',
        kind: 'destructive',
        actions: ['create', 'delete'],
      },
    ]);
    // Terraform neither shows nor counts a data source leaving the state; a read is shown, not counted.
    expect(s.resources.map((r) => r.address)).not.toContain('data.aws_iam_policy.p');
    expect(s.resources.map((r) => r.address)).toContain('data.aws_ami.x');
    expect(s).toMatchObject({ add: 2, change: 1, destroy: 3, replace: 2 });
    expect(JSON.stringify(s)).not.toContain('S3CR3T');
  });

  test('an overriding high-risk list replaces the default one', () => {
    const plan = { format_version: '1.2', resource_changes: [rc('aws_db_instance.a', ['delete'])] };
    expect(summarizePlan(plan, { highRiskTypes: [] }).risks[0]?.kind).toBe('destructive');
  });

  test('drift and deposed objects', () => {
    const s = summarizePlan({
      format_version: '1.2',
      resource_drift: [
        rc('aws_instance.b', ['update']),
        rc('aws_instance.a', ['delete']),
        rc('aws_instance.c', ['no-op']),
      ],
      resource_changes: [rc('aws_instance.web', ['delete'], { deposed: '00000001' })],
    });
    expect(s.drift).toEqual([
      { address: 'aws_instance.b', actions: ['update'] },
      { address: 'aws_instance.a', actions: ['delete'] },
    ]);
    expect(s.resources).toEqual([
      { address: 'aws_instance.web', actions: ['delete'], type: 'aws_instance', deposed: '00000001' },
    ]);
  });

  test("resources keep the plan's order (Terraform's); risks group by severity, then that order", () => {
    const s = summarizePlan({
      format_version: '1.2',
      resource_changes: [
        rc('b.x', ['delete']),
        rc('aws_kms_key.z', ['delete']),
        rc('a.x', ['update']),
        rc('c.x', ['delete']),
        rc('aws_kms_key.a', ['delete', 'create']),
      ],
    });
    expect(s.resources.map((r) => r.address)).toEqual([
      'b.x',
      'aws_kms_key.z',
      'a.x',
      'c.x',
      'aws_kms_key.a',
    ]);
    expect(s.risks.map((r) => r.address)).toEqual(['aws_kms_key.a', 'aws_kms_key.z', 'b.x', 'c.x']);
  });

  test('summarize --json: the SPEC keys come first, in order', () => {
    const s = summarizePlan({ format_version: '1.2', resource_changes: [rc('a.x', ['create'])] });
    const json = toSummaryJson(s);
    expect(Object.keys(json).slice(0, 8)).toEqual([
      'add',
      'change',
      'destroy',
      'import',
      'forget',
      'replace',
      'no_changes',
      'resources',
    ]);
    expect(json.resources).toEqual([{ address: 'a.x', actions: ['create'] }]);
  });
});

describe('JSON error positions', () => {
  const docs = fc
    .dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 })
    .map((d) => JSON.stringify(d, null, 1));

  test('every proper prefix of a plan-like document is reported as truncated at its end', () => {
    fc.assert(
      fc.property(docs, fc.double({ min: 0, max: 1, noNaN: true }), (text, f) => {
        const cut = text.slice(0, Math.min(text.length - 1, Math.floor(text.length * f)));
        fc.pre(cut.trim() !== '');
        try {
          parsePlanJson(cut);
        } catch (e) {
          expect((e as Error).message).toMatch(/is truncated/);
          expect((e as PlanFormatError).position).toBe(cut.length);
          return;
        }
        throw new Error('a truncated document parsed');
      }),
    );
  });

  test('where V8 names a position, ours is the same', () => {
    fc.assert(
      fc.property(
        docs,
        fc.nat(),
        fc.constantFrom(',', ']', '}', ':', 'x', '"', '\\', '\u0001', '-', '.', ' '),
        (text, k, c) => {
          const at = k % text.length;
          const bad = text.slice(0, at) + c + text.slice(at + 1);
          let native: string | undefined;
          try {
            JSON.parse(bad);
            return;
          } catch (e) {
            native = (e as Error).message;
          }
          const m = / at position (\d+)/.exec(native);
          fc.pre(m !== null && Number(m[1]) < bad.trimEnd().length);
          try {
            parsePlanJson(bad);
          } catch (e) {
            expect((e as PlanFormatError).position).toBe(Number(m?.[1]));
            return;
          }
          throw new Error('a broken document parsed');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('a plan cut inside a string escape', () => {
  test.each([
    ['right after a backslash', '{"format_version": "1.2", "x": "a\\'],
    ['inside a \\u escape', '{"format_version": "1.2", "x": "a\\u00'],
  ])('%s is reported as truncated, at its end', (_name, text) => {
    expect(() => parsePlanJson(text, 'plan.json')).toThrow(
      new RegExp(`^plan\\.json is truncated: the JSON ends at position ${text.length} `),
    );
  });

  test('a bad escape in the middle is not called truncated', () => {
    expect(() => parsePlanJson('{"x": "a\\u00zz", "y": 1}', 'plan.json')).toThrow(
      /not valid JSON .*bad \\u escape/,
    );
  });
});
