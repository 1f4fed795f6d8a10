/**
 * Checks a parsed document against the evidence record's JSON Schema (schema.ts) at run time, so a
 * record that does not validate is a broken link of the chain, never a crash. A small interpreter
 * of the keywords that schema uses (type, const, enum, anyOf, required, properties,
 * additionalProperties, items, pattern, minLength, maxLength, minimum, minItems, format date-time);
 * the tests hold it to ajv's verdict.
 */
import { EVIDENCE_SCHEMA } from './schema.js';
import type { EvidenceRecord } from './record.js';

/** Where a document fails the schema (a JSON pointer) and what the schema wants there. */
export interface SchemaFailure {
  at: string;
  wants: string;
}

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function typeOk(type: unknown, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    default:
      return true;
  }
}

/** Each pattern compiled once (a record may hold hundreds of thousands of digests). */
const patterns = new Map<string, RegExp>();
function matches(pattern: string, s: string): boolean {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp(pattern, 'u')));
  return re.test(s);
}

/** Code points, as JSON Schema counts a string's length. */
const length = (s: string): number => [...s].length;

function scalarFailure(s: Schema, v: unknown, at: string): SchemaFailure | undefined {
  if ('const' in s && v !== s.const) return { at, wants: `the value ${JSON.stringify(s.const)}` };
  if (Array.isArray(s.enum) && !s.enum.includes(v))
    return { at, wants: `one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` };
  if (s.type !== undefined && !typeOk(s.type, v)) return { at, wants: `a value of type ${String(s.type)}` };
  if (typeof v === 'string') {
    if (typeof s.minLength === 'number' && length(v) < s.minLength)
      return { at, wants: `at least ${s.minLength} characters` };
    if (typeof s.maxLength === 'number' && length(v) > s.maxLength)
      return { at, wants: `at most ${s.maxLength} characters` };
    if (typeof s.pattern === 'string' && !matches(s.pattern, v))
      return { at, wants: `a string matching ${s.pattern}` };
    if (s.format === 'date-time' && (!DATE_TIME.test(v) || Number.isNaN(Date.parse(v))))
      return { at, wants: 'a date-time (RFC 3339)' };
  }
  if (typeof v === 'number' && typeof s.minimum === 'number' && v < s.minimum)
    return { at, wants: `a number of at least ${s.minimum}` };
  return undefined;
}

function objectFailure(s: Schema, v: Record<string, unknown>, at: string): SchemaFailure | undefined {
  const props = isObject(s.properties) ? s.properties : {};
  if (Array.isArray(s.required))
    for (const k of s.required)
      if (typeof k === 'string' && !(k in v)) return { at: `${at}/${k}`, wants: 'this property (missing)' };
  for (const [k, value] of Object.entries(v)) {
    const sub = props[k];
    if (isObject(sub)) {
      const f = failure(sub, value, `${at}/${k}`);
      if (f) return f;
    } else if (s.additionalProperties === false) {
      // The key is the document's, not the schema's: never repeated (it could be anything).
      return { at, wants: 'only the properties the schema names (it has another)' };
    } else if (isObject(s.additionalProperties)) {
      const f = failure(s.additionalProperties, value, `${at}/*`);
      if (f) return f;
    }
  }
  return undefined;
}

function failure(s: Schema, v: unknown, at: string): SchemaFailure | undefined {
  if (Array.isArray(s.anyOf)) {
    const failures = s.anyOf.filter(isObject).map((alt) => failure(alt, v, at));
    if (failures.some((f) => f === undefined)) return undefined;
    // The deepest failure says most (a nullable object's inner problem rather than "not null").
    return failures.reduce((a, b) => ((b?.at.length ?? 0) > (a?.at.length ?? 0) ? b : a));
  }
  const scalar = scalarFailure(s, v, at);
  if (scalar) return scalar;
  if (isObject(v)) return objectFailure(s, v, at);
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems)
      return { at, wants: `at least ${s.minItems} items` };
    if (isObject(s.items))
      for (const [i, item] of v.entries()) {
        const f = failure(s.items, item, `${at}/${i}`);
        if (f) return f;
      }
  }
  return undefined;
}

/** The first place a document fails the evidence schema, or undefined when it is a valid record. */
export function evidenceSchemaFailure(doc: unknown): SchemaFailure | undefined {
  return failure(EVIDENCE_SCHEMA, doc, '');
}

/** Whether a document is a valid evidence record (schema_version 1). */
export function isEvidenceRecord(doc: unknown): doc is EvidenceRecord {
  return evidenceSchemaFailure(doc) === undefined;
}
