/**
 * Approval binding (SPEC §8.3), the pure part: what a plan on a pull request records per module
 * for its review, the hidden header that carries it in the PR comment, and the check `apply` makes
 * right before it applies a module.
 *
 * A module's review holds its normalized plan digest (`digest`, the one in the evidence) and the
 * value paths that were unknown when it was planned (`unknown`): at apply, the fresh plan's digest
 * is recomputed with those values written as unknown too — the reviewer never saw them. A module
 * planned with mocked upstream outputs is compared on its shape alone (addresses and actions,
 * `shape_digest`), because its values came from mocks; so is a module with more than
 * {@link MAX_UNKNOWN_PATHS} unknown values. Per change, a 6-byte digest of its key and a 6-byte
 * digest of its normalized change (`changes`) let a halt name the addresses that differ — never a
 * value.
 */
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import {
  canonicalSha256,
  combinedDigest,
  keyedChanges,
  parseValuePath,
  planDigest,
  unknownValuePaths,
  type KeyedChange,
} from './plan/digest.js';

/** At most this many unknown value paths are recorded per module; beyond, it is compared on its shape. */
export const MAX_UNKNOWN_PATHS = 200;
/** At most this many characters of unknown value paths per module; beyond, it is compared on its shape. */
export const MAX_UNKNOWN_CHARS = 16_384;
/** Default `max-plan-age`: 7 days. */
export const DEFAULT_MAX_PLAN_AGE_MS = 7 * 86_400_000;
/** A review dated further than this in the future is not trusted (clocks differ by seconds, not minutes). */
const FUTURE_SKEW_MS = 5 * 60_000;
/** Bytes of a key's digest and of a change's digest in `changes`. */
const HASH_BYTES = 6;
const ENTRY_BYTES = 2 * HASH_BYTES;
/** The most differing addresses a message lists. */
const MESSAGE_ADDRESSES = 20;

/** What apply compares a module on: its normalized values (unknowns masked), or its shape alone. */
export type CompareBasis = 'values' | 'shape';

/**
 * Why a module that was not mocked is compared on its shape: more unknown values than a review
 * records (`unknown-cap`), or the PR comment's size limit (`size`).
 */
export type ShapeReason = 'unknown-cap' | 'size';

/** What a review recorded for one module. */
export interface ReviewedModule {
  /** `sha256:<hex>`: the normalized plan digest ({@link planDigest}), as in the evidence. */
  digest: string;
  /** `sha256:<hex>`: the digest of the plan's shape, addresses and actions only. */
  shape_digest: string;
  /** What apply compares: `digest` with `unknown` masked (`values`), or `shape_digest` (`shape`). */
  compare: CompareBasis;
  /** Planned with an upstream's mock_outputs: compared on its shape. */
  mocked: boolean;
  /** Value paths (`address#pointer`) unknown at review; empty when compared on shape. */
  unknown: string[];
  /** Set when a module that is not mocked is compared on its shape, saying why. */
  reduced?: ShapeReason;
  /**
   * base64url of 12-byte entries sorted by bytes: 6 bytes of sha256 of a change's key (address or
   * `output.<name>`), 6 bytes of sha256 of its normalized change (or shape). Names what differs;
   * left out when the header had to shrink.
   */
  changes?: string;
}

/** A whole review: one plan run of one site × environment on a pull request. */
export interface BindingReview {
  site: string;
  env: string;
  /** The commit that was planned. */
  commit: string;
  /** When the plan was made, ISO 8601 (UTC). */
  created_at: string;
  /** By module name. */
  modules: Record<string, ReviewedModule>;
  /** `sha256:<hex>`: {@link combinedDigest} over the modules' `digest`. */
  combined: string;
}

/** The result of {@link checkModule}. */
export type BindingCheck =
  | {
      ok: true;
      compare: CompareBasis;
      reviewedDigest: string;
      currentDigest: string;
    }
  | {
      ok: false;
      reason: 'missing' | 'stale' | 'differs';
      /** Digests and addresses only, never a value. */
      message: string;
      /** The digest compared (`digest` or `shape_digest`); null when nothing was reviewed. */
      reviewedDigest: string | null;
      /** The fresh plan's digest on the same basis (its plain digest when nothing was reviewed). */
      currentDigest: string;
      /** Keys (resource addresses, `output.<name>`) whose normalized change differs or is new. */
      differing: string[];
      /** Reviewed changes the fresh plan no longer has (the review records no addresses for them). */
      vanished: number;
      /** False when the review kept no per-change digests, so `differing` cannot be named. */
      named: boolean;
    };

const sha = (text: string): Buffer => createHash('sha256').update(text).digest();
const canon = (value: unknown): string => canonicalize(value) ?? 'null';

/** Change key → digest of its normalized change (or shape), grouping repeated keys. */
function changeDigests(changes: KeyedChange[], basis: CompareBasis): Map<string, string> {
  const groups = new Map<string, unknown[]>();
  for (const c of changes) {
    const { after, ...shape } = c.change;
    const list = groups.get(c.key) ?? [];
    list.push(basis === 'shape' ? shape : { ...shape, after });
    groups.set(c.key, list);
  }
  const out = new Map<string, string>();
  for (const [key, list] of groups) {
    const entries = list.map(canon).sort();
    out.set(key, sha(entries.join('\n')).subarray(0, HASH_BYTES).toString('hex'));
  }
  return out;
}

const keyHash = (key: string): string => sha(key).subarray(0, HASH_BYTES).toString('hex');

function encodeTable(digests: Map<string, string>): string {
  const entries = [...digests].map(([key, d]) => keyHash(key) + d).sort();
  return Buffer.from(entries.join(''), 'hex').toString('base64url');
}

function decodeTable(table: string): Map<string, string> {
  const bytes = Buffer.from(table, 'base64url');
  const out = new Map<string, string>();
  for (let i = 0; i + ENTRY_BYTES <= bytes.length; i += ENTRY_BYTES) {
    const hex = bytes.subarray(i, i + ENTRY_BYTES).toString('hex');
    out.set(hex.slice(0, 2 * HASH_BYTES), hex.slice(2 * HASH_BYTES));
  }
  return out;
}

/**
 * What a review records for one module's `terraform show -json` plan. `mocked`: the module was
 * planned with an upstream's mock_outputs, so it is compared on its shape.
 */
export function reviewedModule(plan: unknown, opts: { mocked: boolean }): ReviewedModule {
  const digest = planDigest(plan);
  const shape_digest = planDigest(plan, { shapeOnly: true });
  const unknown = opts.mocked ? [] : unknownValuePaths(plan);
  const tooMany =
    unknown.length > MAX_UNKNOWN_PATHS || unknown.reduce((n, p) => n + p.length, 0) > MAX_UNKNOWN_CHARS;
  const compare: CompareBasis = opts.mocked || tooMany ? 'shape' : 'values';
  const changes = encodeTable(changeDigests(keyedChanges(plan), compare));
  const m: ReviewedModule = {
    digest,
    shape_digest,
    compare,
    mocked: opts.mocked,
    unknown: compare === 'values' ? unknown : [],
    changes,
  };
  if (!opts.mocked && tooMany) m.reduced = 'unknown-cap';
  return m;
}

/**
 * A command module's plan as a review sees it: the inputs its apply will get (sensitive ones
 * digested as hashes, like Terraform's sensitive values) and the changes its plan script declared,
 * in the shape of a Terraform plan so the same digests and checks apply.
 */
export function commandPlan(
  module: string,
  inputs: Record<string, unknown>,
  sensitive: readonly string[],
  changes: unknown,
): unknown {
  return {
    resource_changes: [
      {
        address: `site_deploy_command.${module}`,
        mode: 'managed',
        type: 'site_deploy_command',
        name: module,
        change: {
          actions: ['update'],
          before: null,
          after: { inputs, changes: changes ?? null },
          after_unknown: {},
          before_sensitive: false,
          after_sensitive: { inputs: Object.fromEntries(sensitive.map((k) => [k, true])) },
        },
      },
    ],
  };
}

/** A review of a plan run, `combined` computed from its modules' digests. */
export function makeReview(r: Omit<BindingReview, 'combined'>): BindingReview {
  const modules = Object.entries(r.modules).map(([name, m]) => ({ name, digest: m.digest }));
  return { ...r, combined: combinedDigest(modules) ?? `sha256:${canonicalSha256({})}` };
}

const HEADER_PREFIX = '<!-- site-deploy-binding:v1:';
const HEADER_SUFFIX = ' -->';
const HEADER_LINE = /^<!-- site-deploy-binding:v1:([A-Za-z0-9_-]*) -->\r?$/gm;

/**
 * The hidden header line carrying a review in the PR comment:
 * `<!-- site-deploy-binding:v1:<base64url of the review's canonical JSON (RFC 8785)> -->`.
 * Only `[A-Za-z0-9_-]` between the fixed parts, so neither Markdown nor GitHub's storage changes it.
 */
export function bindingHeader(review: BindingReview): string {
  return `${HEADER_PREFIX}${Buffer.from(canon(review), 'utf8').toString('base64url')}${HEADER_SUFFIX}`;
}

/** The length of {@link bindingHeader}'s line for a review whose canonical JSON has this many bytes. */
function headerLength(jsonBytes: number): number {
  return HEADER_PREFIX.length + Math.ceil((jsonBytes * 4) / 3) + HEADER_SUFFIX.length;
}

/** A review made smaller to fit, and what had to go. */
export interface FittedReview {
  review: BindingReview;
  /** Modules whose per-change digests were left out: a halt cannot name what differs. */
  unnamed: string[];
  /** Modules reduced to shape-only comparison for size. */
  shaped: string[];
}

/**
 * The review whose {@link bindingHeader} is at most `maxChars` long, or undefined when not even
 * every module on its shape fits. Shrinks in this order, the largest module first each time: per-
 * change digests left out, then modules compared on their shape (`reduced: 'size'`).
 */
export function fitReview(review: BindingReview, maxChars: number): FittedReview | undefined {
  const modules: Record<string, ReviewedModule> = { ...review.modules };
  const fitted = (): BindingReview => ({ ...review, modules: { ...modules } });
  // The JSON is `{…,"modules":{"a":{…},"b":{…}},…}`: its length is the rest plus each entry's.
  const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
  const entryLength = (name: string): number => bytes(canon(name)) + 1 + bytes(canon(modules[name]));
  const names = Object.keys(modules);
  const sizes = new Map(names.map((n) => [n, entryLength(n)]));
  let json = bytes(canon(fitted()));
  const unnamed: string[] = [];
  const shaped: string[] = [];
  const shrink = (
    pick: (m: ReviewedModule) => boolean,
    change: (m: ReviewedModule) => ReviewedModule,
    into: string[],
  ): void => {
    const order = Object.entries(modules)
      .filter(([, m]) => pick(m))
      .map(([n]) => n)
      .sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
    for (const name of order) {
      if (headerLength(json) <= maxChars) return;
      const before = modules[name];
      if (before === undefined) continue;
      modules[name] = change(before);
      const size = entryLength(name);
      json += size - (sizes.get(name) ?? 0);
      sizes.set(name, size);
      into.push(name);
    }
  };
  shrink(
    (m) => m.changes !== undefined,
    ({ changes: _dropped, ...m }) => m,
    unnamed,
  );
  shrink(
    (m) => m.compare === 'values',
    (m) => ({ ...m, compare: 'shape', unknown: [], reduced: 'size' }),
    shaped,
  );
  const result = fitted();
  if (bindingHeader(result).length > maxChars) return undefined;
  return { review: result, unnamed: unnamed.sort(), shaped: shaped.sort() };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const onlyKeys = (o: Record<string, unknown>, allowed: string[], required: string[]): boolean =>
  Object.keys(o).every((k) => allowed.includes(k)) && required.every((k) => Object.hasOwn(o, k));
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const shortText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max && !CONTROL.test(v);

function validModule(m: unknown): m is ReviewedModule {
  if (!isObj(m)) return false;
  const keys = ['digest', 'shape_digest', 'compare', 'mocked', 'unknown', 'reduced', 'changes'];
  if (!onlyKeys(m, keys, ['digest', 'shape_digest', 'compare', 'mocked', 'unknown'])) return false;
  if (typeof m.digest !== 'string' || !DIGEST.test(m.digest)) return false;
  if (typeof m.shape_digest !== 'string' || !DIGEST.test(m.shape_digest)) return false;
  if (m.compare !== 'values' && m.compare !== 'shape') return false;
  if (typeof m.mocked !== 'boolean') return false;
  if (m.reduced !== undefined && m.reduced !== 'unknown-cap' && m.reduced !== 'size') return false;
  // values ⇔ neither mocked nor reduced; shape ⇔ mocked or reduced, never both reasons.
  if (m.compare === 'values' && (m.mocked || m.reduced !== undefined)) return false;
  if (m.compare === 'shape' && m.mocked === (m.reduced !== undefined)) return false;
  if (!Array.isArray(m.unknown) || m.unknown.length > MAX_UNKNOWN_PATHS) return false;
  if (m.compare === 'shape' && m.unknown.length > 0) return false;
  let chars = 0;
  const unknownPaths: unknown[] = m.unknown;
  for (const p of unknownPaths) {
    if (typeof p !== 'string' || parseValuePath(p) === undefined) return false;
    chars += p.length;
  }
  if (chars > MAX_UNKNOWN_CHARS) return false;
  if (m.changes !== undefined) {
    if (typeof m.changes !== 'string' || !/^[A-Za-z0-9_-]*$/.test(m.changes)) return false;
    const bytes = Buffer.from(m.changes, 'base64url');
    if (bytes.length % ENTRY_BYTES !== 0 || bytes.toString('base64url') !== m.changes) return false;
  }
  return true;
}

/**
 * The review in a PR comment's body, or undefined when there is none or it is not exactly one
 * well-formed header: canonical base64url of canonical JSON, every field of the right shape, and
 * `combined` matching the modules' digests. Never throws.
 */
export function parseBindingHeader(commentBody: string): BindingReview | undefined {
  try {
    if (typeof commentBody !== 'string') return undefined;
    const found = [...commentBody.matchAll(HEADER_LINE)];
    if (found.length !== 1) return undefined;
    const payload = found[0]?.[1];
    if (payload === undefined) return undefined;
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.toString('base64url') !== payload) return undefined;
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const data: unknown = JSON.parse(text);
    if (!isObj(data) || canonicalize(data) !== text) return undefined;
    const keys = ['site', 'env', 'commit', 'created_at', 'modules', 'combined'];
    if (!onlyKeys(data, keys, keys)) return undefined;
    if (!shortText(data.site, 256) || !shortText(data.env, 256) || !shortText(data.commit, 256))
      return undefined;
    if (
      typeof data.created_at !== 'string' ||
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(data.created_at) ||
      !Number.isFinite(Date.parse(data.created_at))
    )
      return undefined;
    if (typeof data.combined !== 'string' || !DIGEST.test(data.combined)) return undefined;
    if (!isObj(data.modules)) return undefined;
    // A null prototype: a module named `constructor` or `__proto__` is only ever its own entry.
    const modules: Record<string, ReviewedModule> = {};
    Object.setPrototypeOf(modules, null);
    for (const [name, m] of Object.entries(data.modules)) {
      if (!shortText(name, 256) || !validModule(m)) return undefined;
      Object.defineProperty(modules, name, {
        value: m,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const names = Object.keys(modules);
    if (names.length === 0) return undefined;
    if (
      combinedDigest(names.map((name) => ({ name, digest: modules[name]?.digest ?? '' }))) !== data.combined
    )
      return undefined;
    return {
      site: data.site,
      env: data.env,
      commit: data.commit,
      created_at: data.created_at,
      modules,
      combined: data.combined,
    };
  } catch {
    return undefined;
  }
}

/** A module's entry in a review, only when the review really has it (never an inherited property). */
export function reviewedFor(review: BindingReview | undefined, module: string): ReviewedModule | undefined {
  return review && Object.hasOwn(review.modules, module) ? review.modules[module] : undefined;
}

// Control characters (terminal escapes) and bidi overrides in an address are never shown as is.
// eslint-disable-next-line no-control-regex
const UNSHOWN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** A key for a message: addresses are plan text, so control characters are neutralized. */
const shown = (key: string): string => key.replace(UNSHOWN, '?');

function age(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  if (h < 1) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (h < 48) return `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/**
 * Checks a module's fresh plan against its review, right before apply. `missing` when nothing was
 * reviewed for it; `stale` when the review is older than `maxAgeMs` (or dated in the future);
 * `differs` when the fresh plan's digest — values unknown at review masked as unknown, or the
 * shape alone for a mocked or shape-only module — is not the reviewed one. The message gives both
 * digests and the differing addresses, never a value. `module` names the module in the message.
 */
export function checkModule(
  reviewed: ReviewedModule | undefined,
  plan: unknown,
  now: Date | number,
  createdAt: string,
  maxAgeMs: number,
  module?: string,
): BindingCheck {
  const who = module === undefined ? 'this module' : `module ${shown(module)}`;
  if (reviewed === undefined) {
    const currentDigest = planDigest(plan);
    return {
      ok: false,
      reason: 'missing',
      message: `${who} has no reviewed plan (its plan now: ${currentDigest}); plan it on the pull request before applying`,
      reviewedDigest: null,
      currentDigest,
      differing: [],
      vanished: 0,
      named: false,
    };
  }
  const shape = reviewed.compare === 'shape';
  const options = shape ? { shapeOnly: true } : { unknownPaths: reviewed.unknown };
  const reviewedDigest = shape ? reviewed.shape_digest : reviewed.digest;
  const currentDigest = planDigest(plan, options);
  const digests = `reviewed ${reviewedDigest}, now ${currentDigest}${shape ? ' (shape: addresses and actions)' : ''}`;
  const staleWhy = staleness(typeof now === 'number' ? now : now.getTime(), createdAt, maxAgeMs);
  if (staleWhy !== undefined) {
    return {
      ok: false,
      reason: 'stale',
      message: `${who}: ${staleWhy}; plan the pull request again (${digests})`,
      reviewedDigest,
      currentDigest,
      differing: [],
      vanished: 0,
      named: false,
    };
  }
  if (currentDigest === reviewedDigest)
    return { ok: true, compare: reviewed.compare, reviewedDigest, currentDigest };
  const { differing, vanished } = changedSinceReview(reviewed, plan);
  const named = reviewed.changes !== undefined;
  return {
    ok: false,
    reason: 'differs',
    message: `${who}: its plan differs from the reviewed plan (${digests}); ${differences(differing, vanished, named)}`,
    reviewedDigest,
    currentDigest,
    differing,
    vanished,
    named,
  };
}

/** Why a review dated `createdAt` is too old (or in the future) at `nowMs`; undefined when it is not. */
function staleness(nowMs: number, createdAt: string, maxAgeMs: number): string | undefined {
  const created = Date.parse(createdAt);
  if (!Number.isFinite(created)) return 'its review has no readable time';
  if (created - nowMs > FUTURE_SKEW_MS) return 'its review is dated in the future';
  if (nowMs - created > maxAgeMs)
    return `its review is ${age(nowMs - created)} old, over max-plan-age (${age(maxAgeMs)})`;
  return undefined;
}

/**
 * The changes whose digest is not the reviewed one, by address, and how many reviewed changes are
 * no longer planned; none when the review kept no per-change digests.
 */
function changedSinceReview(
  reviewed: ReviewedModule,
  plan: unknown,
): { differing: string[]; vanished: number } {
  const differing: string[] = [];
  let vanished = 0;
  if (reviewed.changes === undefined) return { differing, vanished };
  const before = decodeTable(reviewed.changes);
  const seen = new Set<string>();
  const current = changeDigests(
    keyedChanges(plan, reviewed.compare === 'shape' ? {} : { unknownPaths: reviewed.unknown }),
    reviewed.compare,
  );
  for (const [key, d] of current) {
    const k = keyHash(key);
    seen.add(k);
    if (before.get(k) !== d) differing.push(key);
  }
  for (const k of before.keys()) if (!seen.has(k)) vanished++;
  return { differing, vanished };
}

/** The part of a `differs` message that names what differs. */
function differences(differing: string[], vanished: number, named: boolean): string {
  const parts: string[] = [];
  if (differing.length > 0) {
    const list = differing.slice(0, MESSAGE_ADDRESSES).map(shown).join(', ');
    const more =
      differing.length > MESSAGE_ADDRESSES ? ` and ${differing.length - MESSAGE_ADDRESSES} more` : '';
    parts.push(`differing: ${list}${more}`);
  }
  if (vanished > 0)
    parts.push(`${vanished} reviewed change${vanished === 1 ? ' is' : 's are'} no longer planned`);
  if (!named) parts.push('the review kept no per-change digests, so the differing addresses cannot be named');
  else if (parts.length === 0) parts.push('no single change can be named');
  return parts.join('; ');
}
