import { MAX_YAML_DEPTH } from '../yaml.js';
import { lookupFilter } from './filters.js';
import { parseTemplate, PlaceholderError, hasPlaceholder, type Reference, type Segment } from './parse.js';

/** What is known of an upstream output: its value, nothing until apply, or a mock for planning. */
export type OutputState =
  { state: 'known'; value: unknown } | { state: 'unknown' } | { state: 'mocked'; value: unknown };

/** The names a template may read. Lookups throw PlaceholderError-compatible messages via `undefined`. */
export interface ResolveScope {
  /** A variable's value, or undefined when no such variable exists. */
  variable(name: string): { value: unknown } | undefined;
  /** An error message for an unknown variable (with suggestions). */
  unknownVariable(name: string): string;
  /** An output's state; a string is an error message (unknown module, output not allowed here...). */
  output(module: string, output: string): OutputState | string;
}

/** The result of resolving a value: placeholders of not-yet-known outputs stay as their text. */
export interface Resolution {
  value: unknown;
  /** `module.output` references whose values are not known yet. */
  pending: string[];
  /** `module.output` references answered with mock values. */
  mocked: string[];
}

/** Turns a value into the text it takes when embedded in a longer string. */
export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? 'null';
}

function refText(ref: Reference): string {
  return ref.kind === 'variable' ? ref.name : `${ref.module}.${ref.output}`;
}

/**
 * Most lists, maps and scalars one resolved value may hold. Each placeholder that is exactly
 * `#{x}` shares x's value rather than copying it, so ten variables that each list the previous
 * one ten times would otherwise hold ten billion entries (a placeholder bomb) once written out.
 */
export const MAX_RESOLVED_NODES = 100_000;

/** A value's nesting depth (a scalar is 0, `[]` is 1; MAX_YAML_DEPTH + 1 means deeper) and its node count, written out. */
export interface ValueSize {
  depth: number;
  nodes: number;
}

// Sizes by identity: one value (a variable's, an output's) is substituted into many places and
// shares structure, so each object is measured once, and a bomb is measured in the time its
// distinct objects take. Resolved values are never modified afterwards.
const SIZES = new WeakMap<object, ValueSize>();

/**
 * Measures a value with its own stack (outputs may nest deeper than the call stack). Nesting past
 * MAX_YAML_DEPTH stops the walk: the depth is then MAX_YAML_DEPTH + 1 and the node count unknown (Infinity).
 */
export function measureValue(value: unknown): ValueSize {
  if (value === null || typeof value !== 'object') return { depth: 0, nodes: 1 };
  const known = SIZES.get(value);
  if (known) return known;
  interface Frame {
    v: object;
    children: unknown[];
    next: number;
    deepest: number;
    nodes: number;
  }
  const frame = (v: object): Frame => ({
    v,
    children: Array.isArray(v) ? v : Object.values(v),
    next: 0,
    deepest: 0,
    nodes: 1,
  });
  const root = frame(value);
  const stack: Frame[] = [root];
  for (let top = stack.at(-1); top; top = stack.at(-1)) {
    if (top.next < top.children.length) {
      const child = top.children[top.next++];
      const size = child === null || typeof child !== 'object' ? { depth: 0, nodes: 1 } : SIZES.get(child);
      if (size) {
        top.deepest = Math.max(top.deepest, size.depth);
        top.nodes += size.nodes;
      } else if (stack.length > MAX_YAML_DEPTH) {
        // Too deep already (or circular): the frames in between are left unmeasured.
        const tooDeep = { depth: MAX_YAML_DEPTH + 1, nodes: Infinity };
        SIZES.set(value, tooDeep);
        return tooDeep;
      } else {
        if (child !== null && typeof child === 'object') stack.push(frame(child));
      }
      continue;
    }
    stack.pop();
    const size = { depth: Math.min(top.deepest + 1, MAX_YAML_DEPTH + 1), nodes: top.nodes };
    SIZES.set(top.v, size);
    const parent = stack.at(-1);
    if (parent) {
      parent.deepest = Math.max(parent.deepest, size.depth);
      parent.nodes += size.nodes;
    }
  }
  return { depth: Math.min(root.deepest + 1, MAX_YAML_DEPTH + 1), nodes: root.nodes };
}

/** How deeply lists and maps nest in a value (see measureValue). */
export function nestingDepth(value: unknown): number {
  return measureValue(value).depth;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

type Placeholder = Extract<Segment, { kind: 'placeholder' }>;

/** One part of a template: settled (text, a variable, a known output), or an output not known yet. */
type Part = { known: true; value: unknown } | { known: false; seg: Placeholder };

/** A part's text where the whole string stays a template: settled parts escaped, open ones as written. */
function partText(p: Part): string {
  return p.known ? stringify(p.value).replaceAll('#{', '##{') : p.seg.source;
}

/** Throws when a value substituted for a placeholder is nested too deeply or is a placeholder bomb. */
function checkSize(seg: Placeholder, value: unknown): void {
  const size = measureValue(value);
  if (size.depth > MAX_YAML_DEPTH || size.nodes > MAX_RESOLVED_NODES) {
    throw new PlaceholderError(
      size.depth > MAX_YAML_DEPTH
        ? `${clip(seg.source)} holds a value nested deeper than ${MAX_YAML_DEPTH} levels: flatten it`
        : `${clip(seg.source)} holds more than ${MAX_RESOLVED_NODES.toLocaleString('en-US')} list items, map entries and scalars: a placeholder bomb?`,
      seg.offset,
      seg.length,
    );
  }
}

/** Applies a placeholder's filters, left to right, to a known value (names are checked either way). */
function applyFilters(seg: Placeholder, value: unknown, known: boolean): unknown {
  let v = value;
  for (const name of seg.filters) {
    const fn = lookupFilter(name);
    if (typeof fn === 'string') throw new PlaceholderError(fn, seg.offset, seg.length);
    if (!known) continue;
    try {
      v = fn(stringify(v));
    } catch (e) {
      throw new PlaceholderError(
        `filter ${name} failed on ${seg.source}: ${e instanceof Error ? e.message : String(e)}`,
        seg.offset,
        seg.length,
      );
    }
  }
  return v;
}

/** One placeholder's part, recording what is pending or mocked. Throws PlaceholderError. */
function resolvePlaceholder(seg: Placeholder, scope: ResolveScope, found: Resolution): Part {
  let value: unknown;
  let known = true;
  if (seg.ref.kind === 'variable') {
    const v = scope.variable(seg.ref.name);
    if (!v) throw new PlaceholderError(scope.unknownVariable(seg.ref.name), seg.offset, seg.length);
    value = v.value;
  } else {
    const o = scope.output(seg.ref.module, seg.ref.output);
    if (typeof o === 'string') throw new PlaceholderError(o, seg.offset, seg.length);
    if (o.state === 'unknown') {
      known = false;
      found.pending.push(refText(seg.ref));
    } else {
      value = o.value;
      if (o.state === 'mocked') found.mocked.push(refText(seg.ref));
    }
  }
  // Values from outside the config (engine outputs) have no limits of their own.
  if (known) checkSize(seg, value);
  value = applyFilters(seg, value, known);
  return known ? { known, value } : { known, seg };
}

/**
 * A template's value from its parts: a string that is exactly one known placeholder without
 * filters keeps the value's type; with a part still open, the readable template; else a string.
 */
function compose(parts: Part[], single: boolean): unknown {
  const [only] = parts;
  if (single && only?.known) return only.value;
  if (parts.some((p) => !p.known)) return parts.map(partText).join('');
  return parts.map((p) => (p.known ? stringify(p.value) : '')).join('');
}

/** Resolves one string into its parts (see resolveTemplate). */
function resolveParts(text: string, scope: ResolveScope): { r: Resolution; parts: Part[]; single: boolean } {
  const r: Resolution = { value: text, pending: [], mocked: [] };
  if (!hasPlaceholder(text)) return { r, parts: [], single: false };
  const segments = parseTemplate(text);
  const parts = segments.map((seg): Part =>
    seg.kind === 'text' ? { known: true, value: seg.text } : resolvePlaceholder(seg, scope, r),
  );
  r.value = compose(parts, segments.length === 1);
  return { r, parts, single: segments.length === 1 };
}

/**
 * Resolves one string. A string that is exactly one placeholder without filters keeps the value's
 * type; anything else is a string. Throws PlaceholderError on any problem.
 */
export function resolveTemplate(text: string, scope: ResolveScope): Resolution {
  return resolveParts(text, scope).r;
}

/** A placeholder problem found while walking a structured value, with the path to the string. */
export interface PathError {
  path: (string | number)[];
  error: PlaceholderError;
}

/** Where a string sits in the value being resolved: its key and its parent, for error paths. */
interface PathNode {
  key: string | number;
  up: PathNode | undefined;
}

function pathOf(base: (string | number)[], node: PathNode | undefined): (string | number)[] {
  const rest: (string | number)[] = [];
  for (let n = node; n; n = n.up) rest.push(n.key);
  return [...base, ...rest.reverse()];
}

/** Sets a key as an own property, `__proto__` included (plain assignment would set the prototype). */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** Throws when substituting a value of this size into a string at this depth, after `before` nodes, goes past a limit. */
function checkFit(source: string, size: ValueSize, depth: number, before: number): void {
  if (size.depth > 0 && depth + size.depth > MAX_YAML_DEPTH) {
    throw new PlaceholderError(
      `nesting deeper than ${MAX_YAML_DEPTH} levels once ${clip(source)} is substituted here: flatten the value`,
      0,
      source.length,
    );
  }
  if (size.nodes > 1 && before + size.nodes > MAX_RESOLVED_NODES) {
    throw new PlaceholderError(
      `more than ${MAX_RESOLVED_NODES.toLocaleString('en-US')} list items, map entries and scalars once ${clip(source)} is substituted here: a placeholder bomb?`,
      0,
      source.length,
    );
  }
}

/**
 * A string of a resolved value that outputs known later may change: one whose output placeholders
 * were not known yet (`open`), or one a large value was substituted into (`added` nodes), which
 * counts towards the limit of every string after it. See fillValue.
 */
export interface Checkpoint {
  /** Where the string sits in the value. */
  path: (string | number)[];
  /** Lists and maps around it. */
  depth: number;
  /** Nodes of the result walked before it. */
  before: number;
  /** The string as written. */
  source: string;
  /** Nodes its substitution added. */
  added: number;
  open?: { parts: Part[]; single: boolean };
}

/**
 * Resolves every string inside a value (lists and maps too), collecting errors instead of stopping.
 * Walks with its own stack. A substitution that would nest the result deeper than MAX_YAML_DEPTH,
 * or make it hold more than MAX_RESOLVED_NODES nodes, is an error and leaves its string as written:
 * no resolved value is deeper than a config file may be, nor a placeholder bomb. With `checkpoints`,
 * the strings later outputs may change are recorded there, for fillValue.
 */
export function resolveValue(
  value: unknown,
  scope: ResolveScope,
  errors: PathError[],
  path: (string | number)[] = [],
  checkpoints?: Checkpoint[],
): Resolution {
  const pending: string[] = [];
  const mocked: string[] = [];
  interface Task {
    v: unknown;
    /** Lists and maps around v, within the value being resolved. */
    depth: number;
    at: PathNode | undefined;
    put: (x: unknown) => void;
  }
  let resolved: unknown;
  // Nodes of the result so far: each one walked, plus everything a substitution brings in.
  let nodes = 0;
  const stack: Task[] = [{ v: value, depth: 0, at: undefined, put: (x) => (resolved = x) }];
  for (let task = stack.pop(); task; task = stack.pop()) {
    const { v, depth, at, put } = task;
    nodes++;
    if (typeof v === 'string') {
      try {
        const { r, parts, single } = resolveParts(v, scope);
        const size = measureValue(r.value);
        checkFit(v, size, depth, nodes - 1);
        if (checkpoints && (r.pending.length > 0 || size.nodes > 1)) {
          const point: Checkpoint = {
            path: pathOf([], at),
            depth,
            before: nodes - 1,
            source: v,
            added: size.nodes - 1,
          };
          if (r.pending.length > 0) point.open = { parts, single };
          checkpoints.push(point);
        }
        nodes += size.nodes - 1;
        // Not push(...list): a string may hold more placeholders than a call takes arguments.
        for (const x of r.pending) pending.push(x);
        for (const x of r.mocked) mocked.push(x);
        put(r.value);
      } catch (e) {
        if (!(e instanceof PlaceholderError)) throw e;
        errors.push({ path: pathOf(path, at), error: e });
        put(v);
      }
    } else if (Array.isArray(v)) {
      const out: unknown[] = new Array<unknown>(v.length);
      put(out);
      // Last pushed is first taken: children go in last to first so errors come in document order.
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ v: v[i], depth: depth + 1, at: { key: i, up: at }, put: (x) => (out[i] = x) });
    } else if (isMap(v)) {
      const out: Record<string, unknown> = {};
      put(out);
      for (const [k, x] of Object.entries(v).reverse())
        stack.push({ v: x, depth: depth + 1, at: { key: k, up: at }, put: (y) => setOwn(out, k, y) });
    } else {
      put(v);
    }
  }
  return { value: resolved, pending: [...new Set(pending)], mocked: [...new Set(mocked)] };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A copy of a list or map, `__proto__` keys included; anything else as it is. */
function shallowCopy(v: unknown): unknown {
  if (Array.isArray(v)) return [...v];
  if (!isMap(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) setOwn(out, k, x);
  return out;
}

/** A value with `x` at `path`, copying the lists and maps on the way (each once: `copies`). */
function setAt(root: unknown, path: readonly (string | number)[], x: unknown, copies: Set<unknown>): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return x;
  const node = copies.has(root) ? root : shallowCopy(root);
  copies.add(node);
  if (Array.isArray(node) && typeof key === 'number') node[key] = setAt(node[key], rest, x, copies);
  else if (isMap(node) && typeof key === 'string') setOwn(node, key, setAt(node[key], rest, x, copies));
  return node;
}

/** The output references of a value's open strings, in document order (repeats included). */
export function openReferences(checkpoints: readonly Checkpoint[]): { module: string; output: string }[] {
  return checkpoints.flatMap((c) =>
    (c.open?.parts ?? []).flatMap((p) =>
      !p.known && p.seg.ref.kind === 'output' ? [{ module: p.seg.ref.module, output: p.seg.ref.output }] : [],
    ),
  );
}

/**
 * Finishes a value resolveValue left open: its open strings' output placeholders resolved through
 * `scope` (as resolveValue would have with it), the node limit counted again with what they bring
 * in. The value resolveValue returned is not changed: lists and maps on the way are copied.
 */
export function fillValue(
  value: unknown,
  checkpoints: readonly Checkpoint[],
  scope: ResolveScope,
  errors: PathError[],
  path: (string | number)[] = [],
): Resolution {
  const out: Resolution = { value, pending: [], mocked: [] };
  const copies = new Set<unknown>();
  // Nodes the filled strings brought in so far, beyond what resolveValue counted.
  let extra = 0;
  for (const point of checkpoints) {
    const { open } = point;
    try {
      if (!open) {
        if (extra > 0) checkFit(point.source, { depth: 0, nodes: point.added + 1 }, 0, point.before + extra);
        continue;
      }
      const found: Resolution = { value: undefined, pending: [], mocked: [] };
      const parts = open.parts.map((p) => (p.known ? p : resolvePlaceholder(p.seg, scope, found)));
      const filled = compose(parts, open.single);
      const size = measureValue(filled);
      checkFit(point.source, size, point.depth, point.before + extra);
      extra += size.nodes - 1;
      for (const x of found.pending) out.pending.push(x);
      for (const x of found.mocked) out.mocked.push(x);
      out.value = setAt(out.value, point.path, filled, copies);
    } catch (e) {
      if (!(e instanceof PlaceholderError)) throw e;
      errors.push({ path: [...path, ...point.path], error: e });
      if (!open) extra -= point.added;
      out.value = setAt(out.value, point.path, point.source, copies);
    }
  }
  return { value: out.value, pending: [...new Set(out.pending)], mocked: [...new Set(out.mocked)] };
}

/** Every reference inside a structured value, with the path of the string holding it. */
export function collectReferences(
  value: unknown,
  path: (string | number)[] = [],
  out: { path: (string | number)[]; ref: Reference; offset: number; length: number; source: string }[] = [],
  errors: PathError[] = [],
): { path: (string | number)[]; ref: Reference; offset: number; length: number; source: string }[] {
  // Its own stack, last to first: document order without recursion.
  const stack: { v: unknown; at: PathNode | undefined }[] = [{ v: value, at: undefined }];
  for (let task = stack.pop(); task; task = stack.pop()) {
    const { v, at } = task;
    if (typeof v === 'string') {
      if (!hasPlaceholder(v)) continue;
      const p = pathOf(path, at);
      try {
        for (const seg of parseTemplate(v)) {
          if (seg.kind === 'placeholder')
            out.push({ path: p, ref: seg.ref, offset: seg.offset, length: seg.length, source: seg.source });
        }
      } catch (e) {
        if (e instanceof PlaceholderError) errors.push({ path: p, error: e });
        else throw e;
      }
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], at: { key: i, up: at } });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v).reverse()) stack.push({ v: x, at: { key: k, up: at } });
    }
  }
  return out;
}
