import type { ErrorObject } from 'ajv';
import type { Problems } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { SCHEMAS } from './schemas.js';
import * as generated from './validators.generated.js';
import type { YamlFile, YamlPath } from '../yaml.js';

/** Which schema a config file is checked against. */
export type SchemaName = keyof typeof SCHEMAS;

/** A compiled schema: true when valid, else the errors on `errors` (ajv's contract). */
interface ValidateFunction {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * The config schemas, compiled ahead of time by `npm run schemas` (ajv standalone code, with
 * `allErrors` and `verbose`): nothing is compiled when a run starts.
 */
const VALIDATORS: Record<SchemaName, ValidateFunction> = {
  'site.schema.json': generated.site as ValidateFunction,
  'environment.schema.json': generated.environment as ValidateFunction,
  'credentials.schema.json': generated.credentials as ValidateFunction,
  'module.schema.json': generated.module as ValidateFunction,
  'module-config.schema.json': generated.moduleConfig as ValidateFunction,
};

/** Renders a path the way a user reads it: `site.modules[2].weight`. */
export function displayPath(path: YamlPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(top level)';
}

function pathOf(instancePath: string, root: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let node = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      const i = Number(seg);
      out.push(i);
      node = node[i];
    } else {
      out.push(seg);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function describe(
  e: ErrorObject,
  path: (string | number)[],
): { path: (string | number)[]; key: boolean; message: string } | undefined {
  const where = displayPath(path);
  const parentProps = Object.keys(
    ((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object,
  );
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const hint =
        didYouMean(key, parentProps) ||
        (parentProps.length ? `; allowed keys: ${parentProps.join(', ')}` : '');
      return { path: [...path, key], key: true, message: `unknown key "${key}" in ${where}${hint}` };
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return { path, key: true, message: `${where} is missing required key "${key}"` };
    }
    case 'type':
      return {
        path,
        key: false,
        message: `${where} must be ${article((e.params as { type: string }).type)}, not ${show(e.data)}${accountHint(path, e.data)}`,
      };
    case 'enum':
      return {
        path,
        key: false,
        message: `${where} is ${show(e.data)}; expected one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => String(v)).join(', ')}`,
      };
    case 'const':
      return undefined;
    case 'pattern': {
      const pattern = (e.params as { pattern: string }).pattern;
      return { path, key: false, message: `${where} is ${show(e.data)}, which ${patternWords(pattern)}` };
    }
    case 'propertyNames': {
      const name =
        (e as { propertyName?: string }).propertyName ??
        (e.params as { propertyName?: string }).propertyName ??
        '';
      return {
        path: [...path, name],
        key: true,
        message: `invalid name "${name}" in ${where}: use letters, digits, "_" and "-", starting with a letter or digit`,
      };
    }
    case 'if':
      return undefined;
    default:
      return { path, key: false, message: `${where} ${e.message ?? 'is invalid'}` };
  }
}

function article(type: string): string {
  const word =
    type === 'object'
      ? 'map'
      : type === 'array'
        ? 'list'
        : type === 'boolean'
          ? 'boolean (true or false)'
          : type;
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

function accountHint(path: (string | number)[], data: unknown): string {
  return path.at(-1) === 'aws_account' && typeof data === 'number'
    ? ' (quote the 12-digit account id so leading zeros survive)'
    : '';
}

function patternWords(pattern: string): string {
  if (pattern === '^[0-9]{12}$') return 'is not a 12-digit AWS account id';
  if (pattern.startsWith('^[a-z]{2}')) return 'is not an AWS region name such as us-east-1 or us-gov-west-1';
  if (pattern.startsWith('^[A-Za-z0-9]') || pattern.startsWith('^[A-Za-z_]'))
    return 'may contain only letters, digits, "_" and "-"';
  if (pattern === '^[a-z0-9-]+$') return 'is not an AWS service prefix such as ec2 or s3 (lower case)';
  return `does not match ${pattern}`;
}

/** Checks a parsed file against its schema and records every violation at its line and column. */
export function validateAgainstSchema(yaml: YamlFile, schema: SchemaName, problems: Problems): boolean {
  const validate = VALIDATORS[schema];
  if (validate(yaml.value)) return true;
  const errors = validate.errors ?? [];
  // A propertyNames failure also reports the inner pattern error for the same name: keep one.
  const named = new Set(errors.filter((e) => e.keyword === 'propertyNames').map((e) => e.instancePath));
  for (const e of errors) {
    if (
      e.keyword !== 'propertyNames' &&
      (e as { propertyName?: string }).propertyName !== undefined &&
      named.has(e.instancePath)
    )
      continue;
    const d = describe(e, pathOf(e.instancePath, yaml.value));
    if (d) problems.error(yaml.locate(d.path, d.key), d.message);
  }
  return false;
}
