/**
 * Approval binding (SPEC §8.3), the pure part: what a plan on a pull request records per module
 * for its review, the hidden header that carries it (in the check run and the PR comment), its seal,
 * and the check `apply` makes right before it applies a module.
 *
 * A module's review holds its normalized plan digest (`digest`) and every value path that was
 * unknown when it was planned (`unknown`): at apply, the fresh plan's digest is recomputed with
 * those values written as unknown too — the reviewer never saw them — and every known value is
 * compared. Sensitive values enter the digests as HMAC-SHA256 under the binding key when one is
 * given, else as a fixed marker (`sensitive`); never as an unkeyed hash, which a short secret does
 * not survive. A module planned with mocked upstream outputs is compared on its shape alone
 * (addresses and actions, `shape_digest`), because its values came from mocks. Nothing else is ever
 * reduced silently: a module whose unknown values the review cannot hold is `unbound`, named in the
 * comment at plan time and halted at apply. Per change, a 6-byte digest of its key and a 6-byte
 * (keyed, with a key) digest of its normalized change (`changes`) let a halt name the addresses
 * that differ — never a value. With a key, `seal` is an HMAC over the whole review.
 */
import canonicalize from 'canonicalize';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import {
  canonicalSha256,
  combinedDigest,
  keyedChanges,
  parseValuePath,
  planDigest,
  unknownValuePaths,
  type KeyedChange,
} from './plan/digest.js';

/** Default `max-plan-age`: 7 days. */
export const DEFAULT_MAX_PLAN_AGE_MS = 7 * 86_400_000;
/** A review dated further than this in the future is not trusted (clocks differ by seconds, not minutes). */
const FUTURE_SKEW_MS = 5 * 60_000;
/** Bytes of a key's digest and of a change's digest in `changes`. */
const HASH_BYTES = 6;
const ENTRY_BYTES = 2 * HASH_BYTES;
/** The most differing addresses a message lists. */
const MESSAGE_ADDRESSES = 20;
/** The most bytes one module's unknown value paths may inflate to when a header is read. */
const UNPACKED_LIMIT = 32 * 1024 * 1024;

/** What apply compares a module on: its normalized values (unknowns masked), or its shape alone (mocked). */
export type CompareBasis = 'values' | 'shape';

/** How sensitive values entered a review's digests: HMAC-SHA256 under the binding key, or a fixed marker. */
export type SensitiveBinding = 'hmac' | 'marker';

/** What a review recorded for one module. */
export interface ReviewedModule {
  /**
   * `sha256:<hex>`: the normalized plan digest ({@link planDigest}), sensitive values as `sensitive`
   * says (without a key it is the evidence's digest).
   */
  digest: string;
  /** `sha256:<hex>`: the digest of the plan's shape, addresses and actions only. */
  shape_digest: string;
  /** What apply compares: `digest` with `unknown` masked (`values`), or `shape_digest` (`shape`, mocked). */
  compare: CompareBasis;
  /** Planned with an upstream's mock_outputs: compared on its shape. */
  mocked: boolean;
  /** How sensitive values entered `digest` and `changes`. */
  sensitive: SensitiveBinding;
  /** Every value path (`address#pointer`) unknown at review; empty when mocked or unbound. */
  unknown: string[];
  /**
   * Set when the review could not hold the module's unknown value paths (the header's size): it
   * is not bound by values, the comment says so, and apply halts it.
   */
  unbound?: 'unknowns';
  /**
   * base64url of 12-byte entries sorted by bytes: 6 bytes of sha256 of a change's key (address or
   * `output.<name>`), 6 bytes of sha256 — HMAC-SHA256 under the key when there is one — of its
   * normalized change (or shape). Names what differs; left out when the header had to shrink.
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
  /** `hmac` when every module bound its sensitive values under the key, else `marker`. */
  sensitive: SensitiveBinding;
  /** hex HMAC-SHA256 under the binding key over the canonical JSON of the review without `seal`. */
  seal?: string;
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
      /** `missing` also when the review holds nothing apply can compare (unbound, or keyed without a key). */
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

/** The binding key option of {@link reviewedModule} and {@link checkModule}. */
export interface KeyOption {
  /** The `binding-key` secret; empty counts as none. */
  key?: string;
}

const sha = (text: string): Buffer => createHash('sha256').update(text).digest();
const hmac = (key: string, domain: string, text: string): Buffer =>
  createHmac('sha256', key).update(`site-deploy:${domain}:v2\n`).update(text).digest();
const canon = (value: unknown): string => canonicalize(value) ?? 'null';
const keyOf = (o: KeyOption | undefined): string | undefined =>
  o?.key !== undefined && o.key !== '' ? o.key : undefined;

/** Change key → digest of its normalized change (or shape), grouping repeated keys; keyed with `key`. */
function changeDigests(
  changes: KeyedChange[],
  basis: CompareBasis,
  key: string | undefined,
): Map<string, string> {
  const groups = new Map<string, unknown[]>();
  for (const c of changes) {
    const { after, ...shape } = c.change;
    const list = groups.get(c.key) ?? [];
    list.push(basis === 'shape' ? shape : { ...shape, after });
    groups.set(c.key, list);
  }
  const out = new Map<string, string>();
  for (const [k, list] of groups) {
    const text = list.map(canon).sort().join('\n');
    const digest = key === undefined ? sha(text) : hmac(key, 'change', text);
    out.set(k, digest.subarray(0, HASH_BYTES).toString('hex'));
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
 * planned with an upstream's mock_outputs, so it is compared on its shape. `key`: the binding key,
 * under which sensitive values enter the digests as HMAC-SHA256; without it they enter as a marker.
 * Every unknown value path is recorded, however many.
 */
export function reviewedModule(plan: unknown, opts: { mocked: boolean } & KeyOption): ReviewedModule {
  const key = keyOf(opts);
  const compare: CompareBasis = opts.mocked ? 'shape' : 'values';
  return {
    digest: planDigest(plan, { key }),
    shape_digest: planDigest(plan, { shapeOnly: true }),
    compare,
    mocked: opts.mocked,
    sensitive: key === undefined ? 'marker' : 'hmac',
    unknown: opts.mocked ? [] : unknownValuePaths(plan),
    // A shape holds no value: its per-change digests need no key.
    changes: encodeTable(changeDigests(keyedChanges(plan, { key }), compare, opts.mocked ? undefined : key)),
  };
}

/**
 * A command module's plan as a review sees it: the inputs its apply will get (sensitive ones
 * marked sensitive, so the digests bind them as HMAC under the key, or as the marker) and the
 * changes its plan script declared, in the shape of a Terraform plan so the same digests and
 * checks apply. The key is given to {@link reviewedModule} / {@link checkModule}, not here.
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

/**
 * A review of a plan run, `combined` computed from its modules' digests and `sensitive` from
 * theirs (`hmac` only when every module is). Never sealed: seal it with {@link sealReview} last.
 */
export function makeReview(
  r: Omit<BindingReview, 'combined' | 'sensitive' | 'seal'> & Partial<Pick<BindingReview, 'sensitive'>>,
): BindingReview {
  const modules = Object.entries(r.modules).map(([name, m]) => ({ name, digest: m.digest }));
  return {
    site: r.site,
    env: r.env,
    commit: r.commit,
    created_at: r.created_at,
    modules: r.modules,
    combined: combinedDigest(modules) ?? `sha256:${canonicalSha256({})}`,
    sensitive: reviewSensitive(r.modules),
  };
}

const reviewSensitive = (modules: Record<string, ReviewedModule>): SensitiveBinding =>
  Object.values(modules).every((m) => m.sensitive === 'hmac') ? 'hmac' : 'marker';

/** The seal of a review (its `seal` left out) under `key`: hex HMAC-SHA256 of its canonical JSON. */
function sealOf(review: BindingReview, key: string): string {
  const { seal: _ignored, ...rest } = review;
  return hmac(key, 'seal', canon(rest)).toString('hex');
}

/** The review with `seal` set: an HMAC under the binding key over everything else in it. */
export function sealReview(review: BindingReview, key: string): BindingReview {
  if (key === '') throw new Error('sealReview: the binding key is empty');
  return { ...review, seal: sealOf(review, key) };
}

/**
 * Whether a review's seal holds under the binding key: undefined when it does (or when there is
 * neither a key nor a seal), else a one-line problem. A seal without a key at apply is a problem
 * too: what cannot be checked is not trusted.
 */
export function verifyReviewSeal(review: BindingReview, key: string | undefined): string | undefined {
  const k = keyOf({ key });
  if (k === undefined)
    return review.seal === undefined
      ? undefined
      : "the reviewed plan's header is sealed but no binding key is set at apply, so its seal cannot be checked";
  if (review.seal === undefined) return "the reviewed plan's header has no seal but a binding key is set";
  const want = Buffer.from(sealOf(review, k), 'hex');
  const got = Buffer.from(review.seal, 'hex');
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return 'the seal does not match: the header was changed after the reporting job wrote it (or the binding key is not the one it was sealed with)';
  return undefined;
}

const HEADER_VERSION = 2;
const HEADER_PREFIX = `<!-- site-deploy-binding:v${HEADER_VERSION}:`;
const HEADER_SUFFIX = ' -->';
const HEADER_LINE = /^<!-- site-deploy-binding:v(\d{1,3}):([A-Za-z0-9_-]*) -->\r?$/gm;
/** What `,"seal":"<64 hex>"` adds to a review's JSON. */
const SEAL_BYTES = ',"seal":""'.length + 64;

/** A module's unknown value paths on the wire: base64url of the deflated canonical JSON list ('' for none). */
function packUnknown(paths: readonly string[]): string {
  return paths.length === 0 ? '' : deflateSync(canon(paths), { level: 9 }).toString('base64url');
}

/** The paths {@link packUnknown} packed; undefined when they are not a list of value paths. */
function unpackUnknown(packed: string): string[] | undefined {
  if (packed === '') return [];
  const bytes = Buffer.from(packed, 'base64url');
  if (bytes.toString('base64url') !== packed) return undefined;
  const text = inflateSync(bytes, { maxOutputLength: UNPACKED_LIMIT }).toString('utf8');
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list) || list.length === 0 || canon(list) !== text) return undefined;
  const paths: string[] = [];
  for (const p of list) {
    if (typeof p !== 'string' || parseValuePath(p) === undefined) return undefined;
    paths.push(p);
  }
  return paths;
}

/** A module as the header carries it: its unknown value paths packed. */
const wireModule = (m: ReviewedModule, packed = packUnknown(m.unknown)): Record<string, unknown> => ({
  ...m,
  unknown: packed,
});

function wireReview(review: BindingReview): Record<string, unknown> {
  const modules: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(review.modules))
    Object.defineProperty(modules, name, { value: wireModule(m), enumerable: true });
  return { ...review, modules };
}

/**
 * The hidden header line carrying a review in the check run and the PR comment:
 * `<!-- site-deploy-binding:v2:<base64url of the review's canonical JSON (RFC 8785)> -->`, each
 * module's unknown value paths deflated and base64url-encoded in it. Only `[A-Za-z0-9_-]` between
 * the fixed parts, so neither Markdown nor GitHub's storage changes it.
 */
export function bindingHeader(review: BindingReview): string {
  return `${HEADER_PREFIX}${Buffer.from(canon(wireReview(review)), 'utf8').toString('base64url')}${HEADER_SUFFIX}`;
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
  /** Always empty: no module is compared on its shape to fit any more (kept for callers). */
  shaped: string[];
  /** Modules whose unknown value paths the review could not hold (how many): apply halts them. */
  unbound: { module: string; unknown: number }[];
}

/**
 * The review whose {@link bindingHeader} is at most `maxChars` long, or undefined when not even
 * every module without its unknown values and per-change digests fits. Shrinks in this order, the
 * largest module first each time: per-change digests left out (`unnamed`), then modules left
 * unbound (`unknown` dropped, apply halts them). With `key`, the result is sealed (room for the
 * seal counted); a review that changes loses a seal it had without a key to renew it.
 */
export function fitReview(
  review: BindingReview,
  maxChars: number,
  opts: KeyOption = {},
): FittedReview | undefined {
  const key = keyOf(opts);
  const modules: Record<string, ReviewedModule> = { ...review.modules };
  const packed = new Map(Object.entries(modules).map(([n, m]) => [n, packUnknown(m.unknown)]));
  const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
  // The JSON is `{…,"modules":{"a":{…},"b":{…}},…}`: its length is the rest plus each entry's.
  const entryLength = (name: string): number =>
    bytes(canon(name)) +
    1 +
    bytes(canon(wireModule(modules[name] ?? review.modules[name]!, packed.get(name))));
  const sizes = new Map(Object.keys(modules).map((n) => [n, entryLength(n)]));
  const { seal: _seal, ...unsealed } = review;
  let json = bytes(canon(wireReview(unsealed))) + (key !== undefined || review.seal ? SEAL_BYTES : 0);
  const unnamed: string[] = [];
  const unbound: { module: string; unknown: number }[] = [];
  const shrink = (pick: (m: ReviewedModule) => boolean, change: (m: ReviewedModule) => ReviewedModule) => {
    const order = Object.keys(modules)
      .filter((n) => pick(modules[n]!))
      .sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
    const done: string[] = [];
    for (const name of order) {
      if (headerLength(json) <= maxChars) break;
      modules[name] = change(modules[name]!);
      packed.set(name, packUnknown(modules[name].unknown));
      const size = entryLength(name);
      json += size - (sizes.get(name) ?? 0);
      sizes.set(name, size);
      done.push(name);
    }
    return done;
  };
  unnamed.push(
    ...shrink(
      (m) => m.changes !== undefined,
      ({ changes: _dropped, ...m }) => m,
    ),
  );
  for (const name of shrink(
    (m) => m.unknown.length > 0,
    ({ changes: _dropped, ...m }) => ({ ...m, unknown: [], unbound: 'unknowns' }),
  ))
    unbound.push({ module: name, unknown: review.modules[name]?.unknown.length ?? 0 });
  const changed = unnamed.length > 0 || unbound.length > 0;
  let result: BindingReview = changed ? { ...unsealed, modules } : review;
  if (key !== undefined) result = sealReview(changed ? result : unsealed, key);
  if (bindingHeader(result).length > maxChars) return undefined;
  unbound.sort((a, b) => (a.module < b.module ? -1 : a.module > b.module ? 1 : 0));
  return { review: result, unnamed: unnamed.sort(), shaped: [], unbound };
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

/** A module of a v2 header, its unknown value paths unpacked; undefined when it is not well-formed. */
function readModule(m: unknown): ReviewedModule | undefined {
  if (!isObj(m)) return undefined;
  const required = ['digest', 'shape_digest', 'compare', 'mocked', 'sensitive', 'unknown'];
  if (!onlyKeys(m, [...required, 'unbound', 'changes'], required)) return undefined;
  const { digest, shape_digest, compare, mocked, sensitive, unbound, changes } = m;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) return undefined;
  if (typeof shape_digest !== 'string' || !DIGEST.test(shape_digest)) return undefined;
  if (typeof mocked !== 'boolean') return undefined;
  const basis: CompareBasis = mocked ? 'shape' : 'values';
  if (compare !== basis) return undefined;
  if (sensitive !== 'hmac' && sensitive !== 'marker') return undefined;
  if (unbound !== undefined && (unbound !== 'unknowns' || mocked || changes !== undefined)) return undefined;
  if (typeof m.unknown !== 'string' || !/^[A-Za-z0-9_-]*$/.test(m.unknown)) return undefined;
  if ((mocked || unbound !== undefined) && m.unknown !== '') return undefined;
  const unknown = unpackUnknown(m.unknown);
  if (unknown === undefined) return undefined;
  const out: ReviewedModule = { digest, shape_digest, compare: basis, mocked, sensitive, unknown };
  if (unbound !== undefined) out.unbound = unbound;
  if (changes !== undefined) {
    if (typeof changes !== 'string' || !/^[A-Za-z0-9_-]*$/.test(changes)) return undefined;
    const bytes = Buffer.from(changes, 'base64url');
    if (bytes.length % ENTRY_BYTES !== 0 || bytes.toString('base64url') !== changes) return undefined;
    out.changes = changes;
  }
  return out;
}

/** The review a v2 header's JSON holds, or undefined when any field is not of the right shape. */
function readReview(data: Record<string, unknown>): BindingReview | undefined {
  const keys = ['site', 'env', 'commit', 'created_at', 'modules', 'combined', 'sensitive'];
  if (!onlyKeys(data, [...keys, 'seal'], keys)) return undefined;
  if (!shortText(data.site, 256) || !shortText(data.env, 256) || !shortText(data.commit, 256))
    return undefined;
  if (
    typeof data.created_at !== 'string' ||
    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(data.created_at) ||
    !Number.isFinite(Date.parse(data.created_at))
  )
    return undefined;
  if (typeof data.combined !== 'string' || !DIGEST.test(data.combined)) return undefined;
  if (data.seal !== undefined && (typeof data.seal !== 'string' || !/^[0-9a-f]{64}$/.test(data.seal)))
    return undefined;
  if (!isObj(data.modules)) return undefined;
  // A null prototype: a module named `constructor` or `__proto__` is only ever its own entry.
  const modules: Record<string, ReviewedModule> = Object.create(null);
  for (const [name, m] of Object.entries(data.modules)) {
    const read = readModule(m);
    if (!shortText(name, 256) || read === undefined) return undefined;
    Object.defineProperty(modules, name, {
      value: read,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const names = Object.keys(modules);
  if (names.length === 0) return undefined;
  const combined = combinedDigest(names.map((name) => ({ name, digest: modules[name]?.digest ?? '' })));
  const sensitive = reviewSensitive(modules);
  if (combined !== data.combined || data.sensitive !== sensitive) return undefined;
  const review: BindingReview = {
    site: data.site,
    env: data.env,
    commit: data.commit,
    created_at: data.created_at,
    modules,
    combined,
    sensitive,
  };
  if (typeof data.seal === 'string') review.seal = data.seal;
  return review;
}

/** The review a header's payload holds; undefined when it is not canonical or not well-formed. Never throws. */
function readPayload(payload: string): BindingReview | undefined {
  try {
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.toString('base64url') !== payload) return undefined;
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const data: unknown = JSON.parse(text);
    if (!isObj(data) || canonicalize(data) !== text) return undefined;
    return readReview(data);
  } catch {
    return undefined;
  }
}

/**
 * The review in a comment's (or check run's) text, or why there is none: no header, more than one
 * (ambiguous), one of an older format, or one that is not well-formed. A v1 header (before sealing,
 * keyed sensitive values and complete unknown paths) is never trusted: its plan must be run again.
 * Never throws.
 */
export function readBindingHeader(text: string): { review: BindingReview } | { problem: string } {
  if (typeof text !== 'string') return { problem: 'there is no binding header' };
  const found = [...text.matchAll(HEADER_LINE)];
  if (found.length === 0) return { problem: 'there is no binding header' };
  if (found.length > 1) return { problem: 'there is more than one binding header, so none is trusted' };
  const version = Number(found[0]?.[1]);
  if (version !== HEADER_VERSION)
    return {
      problem:
        version < HEADER_VERSION
          ? `the reviewed plan's binding header is of an older format (v${version}) that apply no longer trusts; run the plan on the pull request again`
          : `the reviewed plan's binding header is of a newer format (v${version}) than this site-deploy reads`,
    };
  const review = readPayload(found[0]?.[2] ?? '');
  return review === undefined ? { problem: 'the binding header is not well-formed' } : { review };
}

/**
 * The review in a PR comment's body, or undefined when there is none or it is not exactly one
 * well-formed v2 header: canonical base64url of canonical JSON, every field of the right shape,
 * `combined` matching the modules' digests. Its seal is checked by {@link verifyReviewSeal}.
 * Never throws; {@link readBindingHeader} says why there is none.
 */
export function parseBindingHeader(commentBody: string): BindingReview | undefined {
  const read = readBindingHeader(commentBody);
  return 'review' in read ? read.review : undefined;
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

/** Why apply cannot compare a reviewed module at all, when it cannot. */
function uncomparable(reviewed: ReviewedModule, key: string | undefined): string | undefined {
  if (reviewed.unbound !== undefined)
    return 'its review could not hold its unknown values, so it was not bound by values (the plan comment said so); plan it with fewer resources per module, or apply with binding: off (recorded in the evidence)';
  if (reviewed.sensitive === 'hmac' && key === undefined)
    return 'its review bound sensitive values under a binding key, but none is set at apply, so they cannot be compared; give apply the same binding-key';
  return undefined;
}

/**
 * Checks a module's fresh plan against its review, right before apply. `missing` when nothing was
 * reviewed for it, or nothing apply can compare (an unbound module; sensitive values keyed but no
 * key); `stale` when the review is older than `maxAgeMs` (or dated in the future); `differs` when
 * the fresh plan's digest — values unknown at review masked as unknown, every known value compared,
 * or the shape alone for a mocked module — is not the reviewed one. The message gives both
 * digests and the differing addresses, never a value. `module` names the module in the message;
 * `opts.key` is the binding key, used the way the review says (`sensitive`).
 */
export function checkModule(
  reviewed: ReviewedModule | undefined,
  plan: unknown,
  now: Date | number,
  createdAt: string,
  maxAgeMs: number,
  module?: string,
  opts: KeyOption = {},
): BindingCheck {
  const who = module === undefined ? 'this module' : `module ${shown(module)}`;
  const key = keyOf(opts);
  const refused = (
    reason: 'missing' | 'stale',
    message: string,
    reviewedDigest: string | null,
    currentDigest: string,
  ): BindingCheck => ({
    ok: false,
    reason,
    message,
    reviewedDigest,
    currentDigest,
    differing: [],
    vanished: 0,
    named: false,
  });
  if (reviewed === undefined) {
    const currentDigest = planDigest(plan, { key });
    const message = `${who} has no reviewed plan (its plan now: ${currentDigest}); plan it on the pull request before applying`;
    return refused('missing', message, null, currentDigest);
  }
  const shape = reviewed.compare === 'shape';
  const boundKey = reviewed.sensitive === 'hmac' ? key : undefined;
  const reviewedDigest = shape ? reviewed.shape_digest : reviewed.digest;
  const cannot = uncomparable(reviewed, key);
  if (cannot !== undefined)
    return refused('missing', `${who}: ${cannot}`, reviewedDigest, planDigest(plan, { key }));
  const options = shape ? { shapeOnly: true } : { unknownPaths: reviewed.unknown, key: boundKey };
  const currentDigest = planDigest(plan, options);
  const digests = `reviewed ${reviewedDigest}, now ${currentDigest}${shape ? ' (shape: addresses and actions)' : ''}`;
  const staleWhy = staleness(typeof now === 'number' ? now : now.getTime(), createdAt, maxAgeMs);
  if (staleWhy !== undefined)
    return refused(
      'stale',
      `${who}: ${staleWhy}; plan the pull request again (${digests})`,
      reviewedDigest,
      currentDigest,
    );
  if (currentDigest === reviewedDigest)
    return { ok: true, compare: reviewed.compare, reviewedDigest, currentDigest };
  const { differing, vanished } = changedSinceReview(reviewed, plan, boundKey);
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
  key: string | undefined,
): { differing: string[]; vanished: number } {
  const differing: string[] = [];
  let vanished = 0;
  if (reviewed.changes === undefined) return { differing, vanished };
  const before = decodeTable(reviewed.changes);
  const seen = new Set<string>();
  const shape = reviewed.compare === 'shape';
  const current = changeDigests(
    keyedChanges(plan, shape ? {} : { unknownPaths: reviewed.unknown, key }),
    reviewed.compare,
    shape ? undefined : key,
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
