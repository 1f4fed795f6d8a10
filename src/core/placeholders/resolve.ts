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

/** Resolves every string inside a value (lists and maps too), collecting errors instead of stopping. */
export function resolveValue(
  value: unknown,
  scope: ResolveScope,
  errors: PathError[],
  path: (string | number)[] = [],
): Resolution {
  const pending: string[] = [];
  const mocked: string[] = [];
  const walk = (v: unknown, p: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      try {
        const r = resolveTemplate(v, scope);
        pending.push(...r.pending);
        mocked.push(...r.mocked);
        return r.value;
      } catch (e) {
        if (e instanceof PlaceholderError) {
          errors.push({ path: p, error: e });
          return v;
        }
        throw e;
      }
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...p, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...p, k]);
      return out;
    }
    return v;
  };
  const resolved = walk(value, path);
  return { value: resolved, pending: [...new Set(pending)], mocked: [...new Set(mocked)] };
}

/** Every reference inside a structured value, with the path of the string holding it. */
export function collectReferences(
  value: unknown,
  path: (string | number)[] = [],
  out: { path: (string | number)[]; ref: Reference; offset: number; length: number; source: string }[] = [],
  errors: PathError[] = [],
): { path: (string | number)[]; ref: Reference; offset: number; length: number; source: string }[] {
  if (typeof value === 'string') {
    if (!hasPlaceholder(value)) return out;
    try {
      for (const seg of parseTemplate(value)) {
        if (seg.kind === 'placeholder')
          out.push({ path, ref: seg.ref, offset: seg.offset, length: seg.length, source: seg.source });
      }
    } catch (e) {
      if (e instanceof PlaceholderError) errors.push({ path, error: e });
      else throw e;
    }
  } else if (Array.isArray(value)) {
    value.forEach((x, i) => collectReferences(x, [...path, i], out, errors));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, x] of Object.entries(value)) collectReferences(x, [...path, k], out, errors);
  }
  return out;
}
