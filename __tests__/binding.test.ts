import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import {
  bindingHeader,
  checkModule,
  DEFAULT_MAX_PLAN_AGE_MS,
  fitReview,
  makeReview,
  MAX_UNKNOWN_PATHS,
  parseBindingHeader,
  reviewedFor,
  reviewedModule,
  type BindingReview,
  type ReviewedModule,
} from '../src/core/binding.js';
import { parseDuration } from '../src/core/duration.js';
import {
  normalizePlan,
  parseValuePath,
  planDigest,
  UNKNOWN,
  unknownValuePaths,
  valuePath,
} from '../src/core/plan/digest.js';
import { TerraformWorkspace } from './helpers/terraform-plans.js';

// A module as Terraform plans it: a web server whose settings come from variables, a database
// password (sensitive), an optional extra resource, and an output known only after apply.
const MAIN_TF = `
variable "name" { type = string }
variable "size" { type = number }
variable "password" {
  type      = string
  sensitive = true
}
variable "extra" {
  type    = bool
  default = false
}
resource "terraform_data" "web" {
  input = { name = var.name, size = var.size }
}
resource "terraform_data" "db" {
  input = var.password
}
resource "terraform_data" "extra" {
  count = var.extra ? 1 : 0
  input = "extra"
}
output "web_out" { value = terraform_data.web.output }
`;

const PASSWORD = 'pw-Hunter1-Zulu5';
const OTHER_PASSWORD = 'pw-Tango9-Quebec2';
const VARS = { name: 'web', size: '1', password: PASSWORD };

const workspaces: TerraformWorkspace[] = [];
function workspace(files: Record<string, string>): TerraformWorkspace {
  const ws = new TerraformWorkspace().write(files);
  workspaces.push(ws);
  return ws;
}
afterAll(() => workspaces.forEach((w) => w.dispose()));

let ws: TerraformWorkspace;
const plans = new Map<string, unknown>();
/** A real `show -json` plan of MAIN_TF with these variables (cached by variables). */
function plan(vars: Record<string, string> = VARS): unknown {
  const key = JSON.stringify(vars);
  if (!plans.has(key)) plans.set(key, ws.plan({ vars }).json);
  return structuredClone(plans.get(key));
}

beforeAll(() => {
  ws = workspace({ 'main.tf': MAIN_TF });
});

const NOW = Date.parse('2025-03-10T12:00:00Z');
const CREATED = '2025-03-09T12:00:00Z';
const SEVEN_DAYS = parseDuration('7d') as number;

type Obj = Record<string, unknown>;
/** A resource change of a plan, to edit a real plan by hand where Terraform cannot make the case. */
function changeOf(p: unknown, address: string): Obj {
  const rc = ((p as Obj).resource_changes as Obj[]).find((r) => r.address === address);
  if (!rc) throw new Error(`no ${address} in plan`);
  return rc.change as Obj;
}

describe('reviewedModule and checkModule on real Terraform plans', () => {
  test('the same plan made again → ok; the review digest is the plain normalized digest', () => {
    const reviewed = reviewedModule(plan(), { mocked: false });
    expect(reviewed.digest).toBe(planDigest(plan()));
    expect(reviewed.compare).toBe('values');
    // A fresh plan, from a fresh `terraform plan` run (its own timestamp).
    const again = ws.plan({ vars: VARS }).json;
    expect(checkModule(reviewed, again, NOW, CREATED, SEVEN_DAYS)).toEqual({
      ok: true,
      compare: 'values',
      reviewedDigest: reviewed.digest,
      currentDigest: reviewed.digest,
    });
  });

  test('what was unknown at review is recorded as address#pointer', () => {
    const reviewed = reviewedModule(plan(), { mocked: false });
    expect(reviewed.unknown).toEqual(
      expect.arrayContaining([
        'terraform_data.web#/id',
        'terraform_data.web#/output',
        'terraform_data.db#/id',
        'output.web_out#',
      ]),
    );
    expect(reviewed.unknown).toEqual(unknownValuePaths(plan()));
    expect(reviewed.mocked).toBe(false);
  });

  test('a changed attribute → differs, naming that resource only, with both digests', () => {
    const reviewed = reviewedModule(plan(), { mocked: false });
    const r = checkModule(reviewed, plan({ ...VARS, size: '2' }), NOW, CREATED, SEVEN_DAYS, 'app');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('differs');
    expect(r.differing).toEqual(['terraform_data.web']);
    expect(r.vanished).toBe(0);
    expect(r.reviewedDigest).toBe(reviewed.digest);
    expect(r.currentDigest).toBe(planDigest(plan({ ...VARS, size: '2' })));
    expect(r.currentDigest).not.toBe(r.reviewedDigest);
    expect(r.message).toContain('module app');
    expect(r.message).toContain(r.reviewedDigest);
    expect(r.message).toContain(r.currentDigest);
    expect(r.message).toContain('terraform_data.web');
    expect(r.message).not.toContain('terraform_data.db');
  });

  test('an added resource → differs, naming it', () => {
    const reviewed = reviewedModule(plan(), { mocked: false });
    const r = checkModule(reviewed, plan({ ...VARS, extra: 'true' }), NOW, CREATED, SEVEN_DAYS);
    expect(r).toMatchObject({
      ok: false,
      reason: 'differs',
      differing: ['terraform_data.extra[0]'],
      vanished: 0,
    });
  });

  test('a resource no longer planned → differs, counted (the review keeps no addresses)', () => {
    const reviewed = reviewedModule(plan({ ...VARS, extra: 'true' }), { mocked: false });
    const r = checkModule(reviewed, plan(), NOW, CREATED, SEVEN_DAYS);
    expect(r).toMatchObject({ ok: false, reason: 'differs', differing: [], vanished: 1 });
    if (!r.ok) expect(r.message).toContain('1 reviewed change is no longer planned');
  });

  test('a value unknown at review and known now → ok; a known value changing with it → differs', () => {
    const reviewedPlan = plan();
    const reviewed = reviewedModule(reviewedPlan, { mocked: false });
    // The fresh plan knows web.output and the web_out output, as show -json writes known values.
    const now = plan();
    const web = changeOf(now, 'terraform_data.web');
    expect((web.after_unknown as Obj).output).toBe(true);
    web.after = { ...(web.after as Obj), output: { name: 'web', size: 1 } };
    web.after_unknown = { ...(web.after_unknown as Obj), output: false };
    const out = ((now as Obj).output_changes as Obj).web_out as Obj;
    expect(out.after_unknown).toBe(true);
    out.after = { name: 'web', size: 1 };
    out.after_unknown = false;
    expect(planDigest(now)).not.toBe(planDigest(reviewedPlan)); // plainly, it differs …
    expect(checkModule(reviewed, now, NOW, CREATED, SEVEN_DAYS)).toMatchObject({ ok: true }); // … but not what was reviewed

    (web.after as Obj).input = { name: 'web', size: 2 };
    const r = checkModule(reviewed, now, NOW, CREATED, SEVEN_DAYS);
    expect(r).toMatchObject({ ok: false, reason: 'differs', differing: ['terraform_data.web'] });
  });

  test('a value known at review and unknown now → differs', () => {
    const reviewed = reviewedModule(plan(), { mocked: false });
    const now = plan();
    const web = changeOf(now, 'terraform_data.web');
    web.after_unknown = { ...(web.after_unknown as Obj), input: true };
    expect(checkModule(reviewed, now, NOW, CREATED, SEVEN_DAYS)).toMatchObject({
      ok: false,
      differing: ['terraform_data.web'],
    });
  });

  test('a sensitive value changing → differs, without the value in the message or the header', () => {
    const reviewedPlan = plan();
    expect(JSON.stringify(reviewedPlan)).toContain(PASSWORD); // show -json carries it in plaintext
    const reviewed = reviewedModule(reviewedPlan, { mocked: false });
    const now = plan({ ...VARS, password: OTHER_PASSWORD });
    const r = checkModule(reviewed, now, NOW, CREATED, SEVEN_DAYS, 'app');
    expect(r).toMatchObject({ ok: false, reason: 'differs', differing: ['terraform_data.db'] });
    if (r.ok) return;
    for (const secret of [PASSWORD, OTHER_PASSWORD]) {
      expect(r.message).not.toContain(secret);
      expect(JSON.stringify(r)).not.toContain(secret);
    }
    const review = makeReview({
      site: 'portal',
      env: 'production',
      commit: 'a'.repeat(40),
      created_at: CREATED,
      modules: { app: reviewed },
    });
    const header = bindingHeader(review);
    const decoded = Buffer.from(/v1:([\w-]+) /.exec(header)?.[1] ?? '', 'base64url').toString('utf8');
    expect(decoded).toContain('"digest"');
    expect(header + decoded).not.toContain(PASSWORD);
  });

  test('a mocked module: same shape with other values → ok; another address set → differs', () => {
    // Planned with mock upstream outputs (name, size), applied with the real ones.
    const reviewed = reviewedModule(plan({ ...VARS, name: 'mock-name', size: '99' }), { mocked: true });
    expect(reviewed).toMatchObject({ compare: 'shape', mocked: true, unknown: [] });
    expect(reviewed.reduced).toBeUndefined();
    const real = plan();
    expect(planDigest(real)).not.toBe(reviewed.digest);
    expect(checkModule(reviewed, real, NOW, CREATED, SEVEN_DAYS)).toEqual({
      ok: true,
      compare: 'shape',
      reviewedDigest: reviewed.shape_digest,
      currentDigest: planDigest(real, { shapeOnly: true }),
    });
    const r = checkModule(reviewed, plan({ ...VARS, extra: 'true' }), NOW, CREATED, SEVEN_DAYS);
    expect(r).toMatchObject({ ok: false, reason: 'differs', differing: ['terraform_data.extra[0]'] });
    if (!r.ok) expect(r.message).toContain('shape');
  });

  test('a mocked module whose actions change (an update becomes a replace) → differs', () => {
    const ws2 = workspace({
      'main.tf': `
variable "v" { type = string }
resource "terraform_data" "r" {
  input            = var.v
  triggers_replace = var.v == "replace" ? "r" : "k"
}`,
    });
    ws2.apply({ v: 'a' });
    const reviewed = reviewedModule(ws2.plan({ vars: { v: 'mock' } }).json, { mocked: true });
    expect(checkModule(reviewed, ws2.plan({ vars: { v: 'b' } }).json, NOW, CREATED, SEVEN_DAYS).ok).toBe(
      true,
    );
    const replaced = ws2.plan({ vars: { v: 'replace' } }).json;
    expect(changeOf(replaced, 'terraform_data.r').actions).toEqual(['delete', 'create']);
    expect(checkModule(reviewed, replaced, NOW, CREATED, SEVEN_DAYS)).toMatchObject({
      ok: false,
      differing: ['terraform_data.r'],
    });
  });

  test(`more than ${MAX_UNKNOWN_PATHS} unknown values → the module is compared on its shape, and says why`, () => {
    const big = workspace({
      'main.tf': `
variable "v" { type = string }
resource "terraform_data" "many" {
  count = 101
  input = var.v
}`,
    });
    const first = big.plan({ vars: { v: 'a' } }).json;
    expect(unknownValuePaths(first).length).toBe(202); // id and output of each
    const reviewed = reviewedModule(first, { mocked: false });
    expect(reviewed).toMatchObject({ compare: 'shape', reduced: 'unknown-cap', mocked: false, unknown: [] });
    expect(checkModule(reviewed, big.plan({ vars: { v: 'b' } }).json, NOW, CREATED, SEVEN_DAYS).ok).toBe(
      true,
    );
  });

  test('a review older than max-plan-age → stale, with both digests; within it → ok', () => {
    const reviewed = reviewedModule(plan(), { mocked: false });
    const eightDaysAgo = new Date(NOW - 8 * 86_400_000).toISOString();
    const r = checkModule(reviewed, plan(), NOW, eightDaysAgo, SEVEN_DAYS, 'app');
    expect(r).toMatchObject({ ok: false, reason: 'stale', reviewedDigest: reviewed.digest });
    if (!r.ok) {
      expect(r.message).toContain('8 d old');
      expect(r.message).toContain('max-plan-age (7 d)');
      expect(r.message).toContain(reviewed.digest);
    }
    const sixDaysAgo = new Date(NOW - 6 * 86_400_000).toISOString();
    expect(checkModule(reviewed, plan(), new Date(NOW), sixDaysAgo, SEVEN_DAYS).ok).toBe(true);
    expect(checkModule(reviewed, plan(), NOW, eightDaysAgo, parseDuration('9d') as number).ok).toBe(true);
    expect(DEFAULT_MAX_PLAN_AGE_MS).toBe(SEVEN_DAYS);
    // Dated in the future (beyond clock skew), or not a time: not trusted.
    const future = new Date(NOW + 3_600_000).toISOString();
    expect(checkModule(reviewed, plan(), NOW, future, SEVEN_DAYS)).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(checkModule(reviewed, plan(), NOW, 'yesterday', SEVEN_DAYS)).toMatchObject({
      ok: false,
      reason: 'stale',
    });
  });

  test('no review → missing, naming the module and its current digest', () => {
    const r = checkModule(undefined, plan(), NOW, CREATED, SEVEN_DAYS, 'app');
    expect(r).toMatchObject({
      ok: false,
      reason: 'missing',
      reviewedDigest: null,
      currentDigest: planDigest(plan()),
    });
    if (!r.ok) expect(r.message).toMatch(/^module app has no reviewed plan/);
  });

  test('a review without per-change digests still halts on a difference, saying it cannot name it', () => {
    const { changes: _gone, ...reviewed } = reviewedModule(plan(), { mocked: false });
    const r = checkModule(reviewed, plan({ ...VARS, size: '3' }), NOW, CREATED, SEVEN_DAYS);
    expect(r).toMatchObject({ ok: false, reason: 'differs', differing: [], named: false });
    if (!r.ok) expect(r.message).toContain('cannot be named');
  });

  test('an address carrying control characters is neutralized in the message', () => {
    const address = 'x.y["a\n::error::forged\u001b[31m"]';
    const mk = (v: string): unknown => ({
      resource_changes: [{ address, change: { actions: ['update'], after: { v } } }],
    });
    const r = checkModule(reviewedModule(mk('1'), { mocked: false }), mk('2'), NOW, CREATED, SEVEN_DAYS);
    expect(r).toMatchObject({ ok: false, differing: [address] });
    if (!r.ok) {
      expect(r.message).not.toContain('\n');
      expect(r.message).not.toContain('\u001b');
      expect(r.message).toContain('x.y["a?::error::forged?[31m"]');
    }
  });

  test('an output whose value changes is named as output.<name>', () => {
    const ws3 = workspace({ 'main.tf': 'variable "v" { type = string }\noutput "url" { value = var.v }\n' });
    const reviewed = reviewedModule(ws3.plan({ vars: { v: 'https://a.example' } }).json, { mocked: false });
    const r = checkModule(
      reviewed,
      ws3.plan({ vars: { v: 'https://b.example' } }).json,
      NOW,
      CREATED,
      SEVEN_DAYS,
    );
    expect(r).toMatchObject({ ok: false, differing: ['output.url'] });
    if (!r.ok) expect(r.message).not.toContain('example');
  });
});

describe('the digest extensions', () => {
  test('value paths: JSON Pointer escapes, % and # encoded, split at the last #', () => {
    const path = valuePath('x.y["a#b"]', ['tags', 'a/b~c', '50%#1', '0']);
    expect(path).toBe('x.y["a#b"]#/tags/a~1b~0c/50%25%231/0');
    expect(parseValuePath(path)).toEqual({ key: 'x.y["a#b"]', segments: ['tags', 'a/b~c', '50%#1', '0'] });
    expect(parseValuePath('x.y#')).toEqual({ key: 'x.y', segments: [] });
    for (const bad of ['no-hash', '#/a', 'x#a', 'x#/%41', 'x#/~2'])
      expect(parseValuePath(bad)).toBeUndefined();
  });

  test('masking writes unknown only where the plan has a value, and never into a missing place', () => {
    const p = {
      resource_changes: [
        {
          address: 'a.b',
          change: { actions: ['update'], after: { tags: { k: 'v' }, list: ['x', 'y'] }, after_unknown: {} },
        },
      ],
    };
    const masked = normalizePlan(p, {
      unknownPaths: [
        'a.b#/tags/k',
        'a.b#/list/1',
        'a.b#/list/5',
        'a.b#/missing',
        'a.b#/tags/k/deeper',
        'c.d#/x',
      ],
    });
    expect(masked.resources[0]?.after).toEqual({ tags: { k: UNKNOWN }, list: ['x', UNKNOWN] });
    expect(normalizePlan(p, { unknownPaths: ['a.b#'] }).resources[0]?.after).toBe(UNKNOWN);
  });

  test('a map key named __proto__ is part of the digest (its value changing changes the digest)', () => {
    const mk = (v: string): unknown =>
      JSON.parse(
        `{"resource_changes":[{"address":"x.y","change":{"actions":["create"],"after":{"m":{"__proto__":{"a":"${v}"}}},"after_unknown":{"m":{"__proto__":false}},"after_sensitive":{}}}]}`,
      );
    expect(planDigest(mk('1'))).not.toBe(planDigest(mk('2')));
    expect(normalizePlan(mk('1')).resources[0]?.after).toEqual(JSON.parse('{"m":{"__proto__":{"a":"1"}}}'));
  });

  test('shapeOnly ignores values, not addresses or actions', () => {
    const mk = (address: string, actions: string[], v: string): unknown => ({
      resource_changes: [{ address, change: { actions, after: { v } } }],
    });
    const shape = (p: unknown): string => planDigest(p, { shapeOnly: true });
    expect(shape(mk('a.b', ['update'], '1'))).toBe(shape(mk('a.b', ['update'], '2')));
    expect(shape(mk('a.b', ['update'], '1'))).not.toBe(shape(mk('a.c', ['update'], '1')));
    expect(shape(mk('a.b', ['update'], '1'))).not.toBe(shape(mk('a.b', ['delete', 'create'], '1')));
    expect(shape(mk('a.b', ['update'], '1'))).not.toBe(planDigest(mk('a.b', ['update'], '1')));
  });

  test('a deposed object keeps its own masks: a whole unknown after-value does not mask its sibling', () => {
    const p = (deposedAfter: unknown): unknown => ({
      resource_changes: [
        { address: 'a.b', change: { actions: ['create'], after: {}, after_unknown: true } },
        { address: 'a.b', deposed: '00000001', change: { actions: ['delete'], after: deposedAfter } },
      ],
    });
    const reviewed = reviewedModule(p(null), { mocked: false });
    expect(reviewed.unknown).toEqual(['a.b#']);
    expect(reviewed.digest).toBe(planDigest(p(null)));
    expect(checkModule(reviewed, p({ x: 1 }), NOW, CREATED, SEVEN_DAYS)).toMatchObject({
      ok: false,
      differing: ['a.b (deposed 00000001)'],
    });
  });
});

describe('parseDuration', () => {
  test('days and hours for max-plan-age; the Go forms still read the same', () => {
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('36h')).toBe(129_600_000);
    expect(parseDuration('1d12h')).toBe(129_600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('0')).toBe(0);
    for (const bad of ['d7', '7days', '7 d', '', '-1d', '1w']) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('bindingHeader and parseBindingHeader', () => {
  let review: BindingReview;
  beforeAll(() => {
    review = makeReview({
      site: 'client-portal',
      env: 'production',
      commit: '0123456789abcdef0123456789abcdef01234567',
      created_at: CREATED,
      modules: {
        app: reviewedModule(plan(), { mocked: false }),
        edge: reviewedModule(plan({ ...VARS, name: 'mock' }), { mocked: true }),
      },
    });
  });
  const body = (header: string): string =>
    `<!-- site-deploy:client-portal:production -->\n${header}\n### site-deploy plan: client-portal / production\n`;

  test('one hidden line that round-trips, also through CRLF line endings', () => {
    const header = bindingHeader(review);
    expect(header).toMatch(/^<!-- site-deploy-binding:v1:[A-Za-z0-9_-]+ -->$/);
    expect(header).not.toContain('\n');
    expect(parseBindingHeader(body(header))).toEqual(review);
    expect(parseBindingHeader(body(header).replace(/\n/g, '\r\n'))).toEqual(review);
    expect(review.combined).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('the parsed review looks modules up as own entries only', () => {
    const parsed = parseBindingHeader(body(bindingHeader(review)));
    expect(reviewedFor(parsed, 'app')).toEqual(review.modules.app);
    expect(reviewedFor(parsed, 'constructor')).toBeUndefined();
    expect(reviewedFor(parsed, '__proto__')).toBeUndefined();
    expect(reviewedFor(undefined, 'app')).toBeUndefined();
  });

  const encode = (value: unknown): string =>
    `<!-- site-deploy-binding:v1:${Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')} -->`;
  // Canonical JSON of the review: what the header holds.
  const canonicalEncode = (r: unknown): string => {
    const sort = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sort)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sort((v as Obj)[k])]),
            )
          : v;
    return encode(sort(r));
  };

  test('the canonical re-encoding of the review parses (the tamper cases below differ in one thing)', () => {
    expect(parseBindingHeader(body(canonicalEncode(review)))).toEqual(review);
  });

  test('tampered headers → undefined, never a throw', () => {
    const header = bindingHeader(review);
    const payload = /v1:([\w-]+) /.exec(header)?.[1] ?? '';
    const app = review.modules.app as ReviewedModule;
    const cases: Record<string, string> = {
      'one character changed': header.replace(
        `v1:${payload.slice(0, 10)}`,
        `v1:${payload.slice(0, 9)}${payload[9] === 'A' ? 'B' : 'A'}`,
      ),
      truncated: header.replace(payload, payload.slice(0, -7)),
      'not base64url': header.replace(payload, `${payload.slice(0, 20)}+/${payload.slice(22)}`),
      'not JSON': encode('{"site":'),
      'JSON, not canonical': encode(JSON.stringify(review, null, 1)),
      'a module digest swapped, combined left': canonicalEncode({
        ...review,
        modules: { ...review.modules, app: { ...app, digest: `sha256:${'0'.repeat(64)}` } },
      }),
      'a module moved to shape compare without a reason': canonicalEncode({
        ...review,
        modules: { ...review.modules, app: { ...app, compare: 'shape', unknown: [] } },
      }),
      'a mocked module compared on values': canonicalEncode({
        ...review,
        modules: { ...review.modules, edge: { ...review.modules.edge, compare: 'values' } },
      }),
      'an extra field': canonicalEncode({ ...review, approved_by: 'mallory' }),
      'a missing field': canonicalEncode({ ...review, created_at: undefined }),
      'a bad time': canonicalEncode({ ...review, created_at: 'tomorrow' }),
      'unknown paths that are not paths': canonicalEncode({
        ...review,
        modules: { ...review.modules, app: { ...app, unknown: ['no-hash'] } },
      }),
      'too many unknown paths': canonicalEncode({
        ...review,
        modules: {
          ...review.modules,
          app: { ...app, unknown: Array.from({ length: MAX_UNKNOWN_PATHS + 1 }, (_, i) => `a.b#/${i}`) },
        },
      }),
      'a change table of partial entries': canonicalEncode({
        ...review,
        modules: { ...review.modules, app: { ...app, changes: 'AAAA' } },
      }),
      'no modules': canonicalEncode({ ...review, modules: {} }),
      'an array': encode([review]),
      null: encode('null'),
    };
    for (const [what, text] of Object.entries(cases)) {
      expect([what, parseBindingHeader(body(text))]).toEqual([what, undefined]);
    }
    expect(parseBindingHeader(body(`${header}\n${header}`))).toBeUndefined(); // two headers: ambiguous
    expect(parseBindingHeader(`quoted: ${header}`)).toBeUndefined(); // not on a line of its own
    expect(parseBindingHeader('')).toBeUndefined();
    expect(parseBindingHeader(undefined as unknown as string)).toBeUndefined();
  });

  // The header is not signed: what makes it trustworthy is who wrote the comment (the adapter's
  // job). Parsing is strict instead: whatever parses is exactly what the line says, byte for byte.
  test('random edits of a header never throw; whatever parses re-encodes to the same line', () => {
    const header = bindingHeader(review);
    fc.assert(
      fc.property(
        fc.nat({ max: header.length - 1 }),
        fc.nat({ max: 8 }),
        fc.string({ maxLength: 4 }),
        (at, cut, insert) => {
          const edited = header.slice(0, at) + insert + header.slice(at + cut);
          const parsed = parseBindingHeader(body(edited));
          if (parsed === undefined) return true;
          return (
            bindingHeader(parsed) === edited &&
            (edited !== header || canonicalize(parsed) === canonicalize(review))
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('fitReview drops per-change digests first, then binds modules on their shape, largest first', () => {
    const full = bindingHeader(review).length;
    expect(fitReview(review, full)).toEqual({ review, unnamed: [], shaped: [] });
    const noTables = makeReview({
      ...review,
      modules: Object.fromEntries(Object.entries(review.modules).map(([n, { changes: _c, ...m }]) => [n, m])),
    });
    const dropped = fitReview(review, bindingHeader(noTables).length);
    expect(dropped?.unnamed).toEqual(['app', 'edge']);
    expect(dropped?.shaped).toEqual([]);
    expect(dropped && bindingHeader(dropped.review).length).toBeLessThanOrEqual(
      bindingHeader(noTables).length,
    );
    const shaped = fitReview(review, bindingHeader(noTables).length - 1);
    expect(shaped?.shaped).toEqual(['app']);
    expect(shaped?.review.modules.app).toMatchObject({ compare: 'shape', reduced: 'size', unknown: [] });
    expect(parseBindingHeader(body(bindingHeader(shaped?.review as BindingReview)))).toEqual(shaped?.review);
    expect(fitReview(review, 100)).toBeUndefined();
  });
});
