import { MAX_YAML_DEPTH } from '../yaml.js';
import { lookupFilter } from './filters.js';
import { parseTemplate, PlaceholderError, hasPlaceholder, type Reference } from './parse.js';

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
  const stack: Frame[] = [frame(value)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
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
        stack.push(frame(child as object));
      }
      continue;
    }
    stack.pop();
    const size = { depth: Math.min(top.deepest + 1, MAX_YAML_DEPTH + 1), nodes: top.nodes };
    SIZES.set(top.v, size);
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.deepest = Math.max(parent.deepest, size.depth);
      parent.nodes += size.nodes;
    }
  }
  return SIZES.get(value) as ValueSize;
}

/** How deeply lists and maps nest in a value (see measureValue). */
export function nestingDepth(value: unknown): number {
  return measureValue(value).depth;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Resolves one string. A string that is exactly one placeholder without filters keeps the value's
 * type; anything else is a string. Throws PlaceholderError on any problem.
 */
export function resolveTemplate(text: string, scope: ResolveScope): Resolution {
  const pending: string[] = [];
  const mocked: string[] = [];
  if (!hasPlaceholder(text)) return { value: text, pending, mocked };
  const segments = parseTemplate(text);
  const values: { known: boolean; value: unknown; text: string }[] = [];
  for (const seg of segments) {
    if (seg.kind === 'text') {
      values.push({ known: true, value: seg.text, text: seg.text.replaceAll('#{', '##{') });
      continue;
    }
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
        pending.push(refText(seg.ref));
      } else {
        value = o.value;
        if (o.state === 'mocked') mocked.push(refText(seg.ref));
      }
    }
    // Values from outside the config (engine outputs) have no limits of their own.
    if (known) {
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
    for (const name of seg.filters) {
      const fn = lookupFilter(name);
      if (typeof fn === 'string') throw new PlaceholderError(fn, seg.offset, seg.length);
      if (known) {
        try {
          value = fn(stringify(value));
        } catch (e) {
          throw new PlaceholderError(
            `filter ${name} failed on ${seg.source}: ${e instanceof Error ? e.message : String(e)}`,
            seg.offset,
            seg.length,
          );
        }
      }
    }
    values.push({ known, value, text: seg.source });
  }
  const only = segments.length === 1 ? values[0] : undefined;
  if (only && only.known) return { value: only.value, pending, mocked };
  if (pending.length > 0) {
    // Keep the unresolved placeholders readable: known parts substituted, the rest as written.
    return {
      value: values.map((v) => (v.known ? stringify(v.value).replaceAll('#{', '##{') : v.text)).join(''),
      pending,
      mocked,
    };
  }
  return { value: values.map((v) => stringify(v.value)).join(''), pending, mocked };
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

/**
 * Resolves every string inside a value (lists and maps too), collecting errors instead of stopping.
 * Walks with its own stack. A substitution that would nest the result deeper than MAX_YAML_DEPTH,
 * or make it hold more than MAX_RESOLVED_NODES nodes, is an error and leaves its string as written:
 * no resolved value is deeper than a config file may be, nor a placeholder bomb.
 */
export function resolveValue(
  value: unknown,
  scope: ResolveScope,
  errors: PathError[],
  path: (string | number)[] = [],
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
  while (stack.length > 0) {
    const { v, depth, at, put } = stack.pop() as Task;
    nodes++;
    if (typeof v === 'string') {
      try {
        const r = resolveTemplate(v, scope);
        const size = measureValue(r.value);
        if (size.depth > 0 && depth + size.depth > MAX_YAML_DEPTH) {
          throw new PlaceholderError(
            `nesting deeper than ${MAX_YAML_DEPTH} levels once ${clip(v)} is substituted here: flatten the value`,
            0,
            v.length,
          );
        }
        if (size.nodes > 1 && nodes - 1 + size.nodes > MAX_RESOLVED_NODES) {
          throw new PlaceholderError(
            `more than ${MAX_RESOLVED_NODES.toLocaleString('en-US')} list items, map entries and scalars once ${clip(v)} is substituted here: a placeholder bomb?`,
            0,
            v.length,
          );
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
    } else if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      put(out);
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i] as [string, unknown];
        stack.push({ v: x, depth: depth + 1, at: { key: k, up: at }, put: (y) => setOwn(out, k, y) });
      }
    } else {
      put(v);
    }
  }
  return { value: resolved, pending: [...new Set(pending)], mocked: [...new Set(mocked)] };
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
  while (stack.length > 0) {
    const { v, at } = stack.pop() as { v: unknown; at: PathNode | undefined };
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
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i] as [string, unknown];
        stack.push({ v: x, at: { key: k, up: at } });
      }
    }
  }
  return out;
}
