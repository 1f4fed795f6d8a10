/**
 * The normalized digest of a plan (SPEC §8.3): what a reviewer approved, independent of run ids,
 * timestamps and the plan file's own bytes. sha256 of the canonical JSON (RFC 8785) of the planned
 * resource changes — address, actions, the after-values with every sensitive value replaced by an
 * HMAC-SHA256 under the binding key when one is given, else by a fixed marker, and every value not
 * known yet written as unknown — plus the output changes. Never an unkeyed hash of a sensitive
 * value: a digest is public (PR comment, check run, evidence), and a short secret behind an unkeyed
 * hash is found by trying every candidate.
 *
 * Approval binding compares a fresh plan with a reviewed one, so two variants exist: values that
 * were unknown when the plan was reviewed can be masked as unknown in the fresh plan
 * (`unknownPaths`), and a plan made with mocked inputs can be compared on its shape alone —
 * addresses and actions (`shapeOnly`). Without options, the digest is the plain normalized one.
 */
import { createHash, createHmac } from 'node:crypto';
import canonicalize from 'canonicalize';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
// An own property only: a map key such as `__proto__` or `constructor` must never reach Object.prototype.
const own = (o: Obj, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/** What stands in for a value not known at plan time. */
export const UNKNOWN = '(known after apply)';

/** The key under which a sensitive value stands in the normalized plan, with its marker or HMAC. */
export const SENSITIVE_KEY = '(sensitive)';
/** What stands in for a sensitive value when no binding key is given: the same for every value. */
export const SENSITIVE_MARKER = 'marker';

/** HMAC-SHA256 (hex) under `key` of a value's canonical JSON, domain-separated from other uses of the key. */
export function sensitiveHmac(key: string, value: unknown): string {
  return createHmac('sha256', key)
    .update('site-deploy:sensitive:v2\n')
    .update(canonicalize(value) ?? 'null')
    .digest('hex');
}

/** A sensitive value as the digest sees it: its keyed HMAC, or the marker without a key. */
function sensitiveStandIn(value: unknown, key: string | undefined): Record<string, string> {
  return {
    [SENSITIVE_KEY]:
      key === undefined ? SENSITIVE_MARKER : `hmac-sha256:${sensitiveHmac(key, value ?? null)}`,
  };
}

/** sha256 (hex) of a value's canonical JSON. */
export function canonicalSha256(value: unknown): string {
  return createHash('sha256')
    .update(canonicalize(value) ?? 'null')
    .digest('hex');
}

/** One JSON Pointer segment (RFC 6901), with `%` and `#` percent-encoded so a value path splits at its last `#`. */
function pointerSegment(key: string): string {
  return `/${key.replace(/~/g, '~0').replace(/\//g, '~1').replace(/%/g, '%25').replace(/#/g, '%23')}`;
}

// The walk behind normalizeValue; with `found`, it also records the pointer of every unknown it
// writes. `key`: the binding key sensitive values are HMACed under (else they become the marker).
function normalizeAt(
  value: unknown,
  unknown: unknown,
  sensitive: unknown,
  found: { pointer: string; paths: string[] } | undefined,
  key: string | undefined,
): unknown {
  if (unknown === true) {
    found?.paths.push(found.pointer);
    return UNKNOWN;
  }
  if (sensitive === true) return sensitiveStandIn(value, key);
  const at = (seg: string): { pointer: string; paths: string[] } | undefined =>
    found ? { pointer: `${found.pointer}${pointerSegment(seg)}`, paths: found.paths } : undefined;
  if (Array.isArray(value)) {
    const u = Array.isArray(unknown) ? unknown : [];
    const s = Array.isArray(sensitive) ? sensitive : [];
    const out = value.map((v, i) => normalizeAt(v, u[i], s[i], at(String(i)), key));
    // A list Terraform knows only partly may be longer than its after-value.
    for (let i = value.length; i < u.length; i++) {
      if (u[i] !== true) continue;
      found?.paths.push(`${found.pointer}${pointerSegment(String(out.length))}`);
      out.push(UNKNOWN);
    }
    return out;
  }
  if (isObj(value) || isObj(unknown)) {
    const v = isObj(value) ? value : {};
    const u = isObj(unknown) ? unknown : {};
    const s = isObj(sensitive) ? sensitive : {};
    const entries: [string, unknown][] = [];
    for (const k of new Set([...Object.keys(v), ...Object.keys(u)]))
      entries.push([k, normalizeAt(own(v, k), own(u, k), own(s, k), at(k), key)]);
    // fromEntries defines own properties: a `__proto__` key stays a key (and in the digest).
    return Object.fromEntries(entries);
  }
  return value ?? null;
}

/**
 * An after-value as the digest sees it: sensitive parts as their HMAC under `key` (or the marker
 * without one), unknown parts `UNKNOWN`. `unknown` and `sensitive` are Terraform's
 * `after_unknown` / `after_sensitive` trees.
 */
export function normalizeValue(value: unknown, unknown: unknown, sensitive: unknown, key?: string): unknown {
  return normalizeAt(value, unknown, sensitive, undefined, key);
}

/** One planned change as the digest sees it. */
export interface NormalizedChange {
  address: string;
  actions: string[];
  after: unknown;
}

/** The normalized content of a plan: changed resources by address, changed outputs by name. */
export interface NormalizedPlan {
  resources: NormalizedChange[];
  outputs: { name: string; actions: string[]; after: unknown }[];
}

/** A plan's shape: addresses and actions, no values. */
export interface PlanShape {
  resources: { address: string; actions: string[] }[];
  outputs: { name: string; actions: string[] }[];
}

/** Options of {@link normalizePlan} and {@link planDigest}. */
export interface DigestOptions {
  /**
   * Value paths (`address#pointer`, see {@link valuePath}) to compare as unknown: each is written
   * as {@link UNKNOWN} wherever the plan has a value there (an object key or list index that
   * exists; a path the plan lacks changes nothing). What was unknown when a plan was reviewed.
   */
  unknownPaths?: ReadonlySet<string> | readonly string[];
  /** Addresses and actions only, no values (for {@link planDigest}). */
  shapeOnly?: boolean;
  /**
   * The binding key: sensitive values enter as HMAC-SHA256 under it. Without one they enter as a
   * fixed marker, so a change to a sensitive value alone does not change the digest.
   */
  key?: string;
}

/** The key of an output change among a plan's changes: `output.<name>`, Terraform's own address for it. */
export function outputKey(name: string): string {
  return `output.${name}`;
}

/**
 * The key of a resource change among a plan's changes: its address, or for a deposed object
 * `<address> (deposed <key>)` — Terraform lists a deposed object under its resource's address.
 */
export function resourceKey(address: string, deposed?: string): string {
  return deposed === undefined ? address : `${address} (deposed ${deposed})`;
}

/**
 * A value path: a change's key ({@link resourceKey} or {@link outputKey}), `#`, then a JSON Pointer
 * (RFC 6901) into its after-value whose `%` and `#` are percent-encoded — e.g.
 * `aws_instance.web#/tags/Name`; `aws_instance.web#` is the whole after-value.
 */
export function valuePath(key: string, segments: readonly string[]): string {
  return `${key}#${segments.map(pointerSegment).join('')}`;
}

/** The key and pointer segments of a value path, or undefined when it is not one. */
export function parseValuePath(path: string): { key: string; segments: string[] } | undefined {
  const hash = path.lastIndexOf('#');
  if (hash <= 0) return undefined;
  const pointer = path.slice(hash + 1);
  if (pointer !== '' && !pointer.startsWith('/')) return undefined;
  if (/%(?!2[35])/i.test(pointer) || /~(?![01])/.test(pointer)) return undefined;
  const segments =
    pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map((s) =>
            s
              .replace(/%2[35]/gi, (c) => (c === '%23' ? '#' : '%'))
              .replace(/~1/g, '/')
              .replace(/~0/g, '~'),
          );
  return { key: path.slice(0, hash), segments };
}

const INDEX = /^(0|[1-9]\d*)$/;

function child(node: unknown, seg: string): unknown {
  if (Array.isArray(node)) return INDEX.test(seg) ? node[Number(seg)] : undefined;
  return isObj(node) ? own(node, seg) : undefined;
}

// Writes UNKNOWN at each pointer where the value has something; returns the (possibly replaced) root.
function maskValue(after: unknown, pointers: string[][]): unknown {
  let root = after;
  for (const segs of pointers) {
    const last = segs.at(-1);
    if (last === undefined) {
      root = UNKNOWN;
      continue;
    }
    let node = root;
    for (const seg of segs.slice(0, -1)) node = child(node, seg);
    if (Array.isArray(node)) {
      if (INDEX.test(last) && Number(last) < node.length) node[Number(last)] = UNKNOWN;
    } else if (isObj(node) && Object.hasOwn(node, last)) {
      node[last] = UNKNOWN;
    }
  }
  return root;
}

function actionsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

const isNoOp = (actions: string[]): boolean => actions.length === 1 && actions[0] === 'no-op';

/**
 * One normalized change with its key ({@link resourceKey} or {@link outputKey}); `change` as in
 * {@link NormalizedPlan}: `{address, actions, after}` or `{name, actions, after}`.
 */
export type KeyedChange = KeyedResource | KeyedOutput;
interface KeyedResource {
  key: string;
  kind: 'resource';
  change: NormalizedChange;
}
interface KeyedOutput {
  key: string;
  kind: 'output';
  change: NormalizedPlan['outputs'][number];
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function keyedInternal(
  plan: unknown,
  unknownPaths: Iterable<string> | undefined,
  collect: string[] | undefined,
  bindingKey: string | undefined,
): KeyedChange[] {
  const masks = new Map<string, string[][]>();
  for (const path of unknownPaths ?? []) {
    const parsed = parseValuePath(path);
    if (!parsed) continue;
    const list = masks.get(parsed.key) ?? [];
    list.push(parsed.segments);
    masks.set(parsed.key, list);
  }
  const normalize = (key: string, value: unknown, unknown: unknown, sensitive: unknown): unknown => {
    const found: { pointer: string; paths: string[] } | undefined = collect
      ? { pointer: '', paths: [] }
      : undefined;
    let after = normalizeAt(value, unknown, sensitive, found, bindingKey);
    if (found) for (const p of found.paths) collect?.push(`${key}#${p}`);
    const m = masks.get(key);
    if (m) after = maskValue(after, m);
    return after;
  };

  const p = isObj(plan) ? plan : {};
  const resources: KeyedResource[] = [];
  for (const rc of Array.isArray(p.resource_changes) ? p.resource_changes : []) {
    if (!isObj(rc) || !isObj(rc.change) || typeof rc.address !== 'string') continue;
    const actions = actionsOf(rc.change.actions);
    if (isNoOp(actions)) continue;
    const key = resourceKey(rc.address, typeof rc.deposed === 'string' ? rc.deposed : undefined);
    const after = normalize(key, rc.change.after, rc.change.after_unknown, rc.change.after_sensitive);
    resources.push({ key, kind: 'resource', change: { address: rc.address, actions, after } });
  }
  // By address; a stable sort keeps Terraform's own order among a resource's deposed objects.
  resources.sort((a, b) => byString(a.change.address, b.change.address));
  const outputs: KeyedOutput[] = [];
  if (isObj(p.output_changes)) {
    for (const [name, c] of Object.entries(p.output_changes)) {
      if (!isObj(c)) continue;
      const actions = actionsOf(c.actions);
      if (isNoOp(actions)) continue;
      const key = outputKey(name);
      const after = normalize(key, c.after, c.after_unknown, c.after_sensitive);
      outputs.push({ key, kind: 'output', change: { name, actions, after } });
    }
  }
  outputs.sort((a, b) => byString(a.key, b.key));
  return [...resources, ...outputs];
}

function normalizeInternal(
  plan: unknown,
  unknownPaths: Iterable<string> | undefined,
  collect: string[] | undefined,
  key: string | undefined,
): NormalizedPlan {
  const keyed = keyedInternal(plan, unknownPaths, collect, key);
  return {
    resources: keyed.flatMap((k) => (k.kind === 'resource' ? [k.change] : [])),
    outputs: keyed.flatMap((k) => (k.kind === 'output' ? [k.change] : [])),
  };
}

/**
 * A plan's normalized changes one by one, each with its key: resources by address, then outputs by
 * name — the entries of {@link normalizePlan}, masked the same way.
 */
export function keyedChanges(
  plan: unknown,
  options: Pick<DigestOptions, 'unknownPaths' | 'key'> = {},
): KeyedChange[] {
  return keyedInternal(plan, options.unknownPaths, undefined, options.key);
}

/**
 * The changes of a `terraform show -json` plan, normalized (no-op changes left out); with
 * `unknownPaths`, those values are written as unknown too.
 */
export function normalizePlan(
  plan: unknown,
  options: Pick<DigestOptions, 'unknownPaths' | 'key'> = {},
): NormalizedPlan {
  return normalizeInternal(plan, options.unknownPaths, undefined, options.key);
}

/**
 * Every value path (`address#pointer`) the plan does not know yet — where its normalized form holds
 * {@link UNKNOWN} because Terraform's `after_unknown` says so — in plan order.
 */
export function unknownValuePaths(plan: unknown): string[] {
  const paths: string[] = [];
  normalizeInternal(plan, undefined, paths, undefined);
  return paths;
}

/** A normalized plan's shape: addresses and actions, the values left out. */
export function planShape(normalized: NormalizedPlan): PlanShape {
  return {
    resources: normalized.resources.map((r) => ({ address: r.address, actions: r.actions })),
    outputs: normalized.outputs.map((o) => ({ name: o.name, actions: o.actions })),
  };
}

/**
 * `sha256:<hex>` of a plan's normalized changes. `unknownPaths` masks values as unknown;
 * `shapeOnly` digests addresses and actions alone; `key` binds sensitive values by HMAC.
 * `planDigest(plan)` is the plain digest, sensitive values as the marker.
 */
export function planDigest(plan: unknown, options: DigestOptions = {}): string {
  const unknownPaths = options.shapeOnly ? undefined : options.unknownPaths;
  const normalized = normalizeInternal(plan, unknownPaths, undefined, options.key);
  return `sha256:${canonicalSha256(options.shapeOnly ? planShape(normalized) : normalized)}`;
}

/** `sha256:<hex>` over every module's digest, by module name: what a whole run's review covers. */
export function combinedDigest(modules: { name: string; digest: string }[]): string | undefined {
  if (modules.length === 0) return undefined;
  const byName = Object.fromEntries(modules.map((m) => [m.name, m.digest]));
  return `sha256:${canonicalSha256(byName)}`;
}
