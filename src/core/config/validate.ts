import type { ErrorObject } from 'ajv';
import type { Problems } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { SCHEMAS } from './schemas.js';
import type { Documents, Validator } from './documents.js';
import * as generated from './validators.generated.js';
import type { YamlFile, YamlPath } from '../yaml.js';

/** Which schema a config file is checked against. */
export type SchemaName = keyof typeof SCHEMAS;

/**
 * The config schemas, compiled ahead of time by `npm run schemas` (ajv standalone code, with
 * `allErrors` and `verbose`): nothing is compiled when a run starts.
 */
const VALIDATORS: { [S in SchemaName]: Validator<Documents[S]> } = {
  'site.schema.json': generated.site,
  'environment.schema.json': generated.environment,
  'credentials.schema.json': generated.credentials,
  'module.schema.json': generated.module,
  'module-config.schema.json': generated.moduleConfig,
};

/** Renders a path the way a user reads it: `site.modules[2].weight`. */
export function displayPath(path: YamlPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(top level)';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object';
}

/** A named parameter of an ajv error (or of the error itself) when it is a string. */
function param(e: ErrorObject, name: string): string | undefined {
  const own: unknown = Object.getOwnPropertyDescriptor(e, name)?.value;
  const v: unknown = own ?? (isRecord(e.params) ? e.params[name] : undefined);
  return typeof v === 'string' ? v : undefined;
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
      node = isRecord(node) ? node[seg] : undefined;
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
  const props: unknown = isRecord(e.parentSchema) ? e.parentSchema.properties : undefined;
  const parentProps = isRecord(props) ? Object.keys(props) : [];
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = param(e, 'additionalProperty') ?? '';
      const hint =
        didYouMean(key, parentProps) ||
        (parentProps.length ? `; allowed keys: ${parentProps.join(', ')}` : '');
      return { path: [...path, key], key: true, message: `unknown key "${key}" in ${where}${hint}` };
    }
    case 'required': {
      const key = param(e, 'missingProperty') ?? '';
      return { path, key: true, message: `${where} is missing required key "${key}"` };
    }
    case 'type':
      return {
        path,
        key: false,
        message: `${where} must be ${article(param(e, 'type') ?? 'valid value')}, not ${show(e.data)}${accountHint(path, e.data)}`,
      };
    case 'enum':
      return {
        path,
        key: false,
        message: `${where} is ${show(e.data)}; expected one of: ${allowed(e).join(', ')}`,
      };
    case 'const':
      return undefined;
    case 'pattern': {
      const pattern = param(e, 'pattern') ?? '';
      return { path, key: false, message: `${where} is ${show(e.data)}, which ${patternWords(pattern)}` };
    }
    case 'propertyNames': {
      const name = param(e, 'propertyName') ?? '';
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

/** An enum error's allowed values, as text. */
function allowed(e: ErrorObject): string[] {
  const values: unknown = isRecord(e.params) ? e.params.allowedValues : undefined;
  return Array.isArray(values) ? values.map((v) => String(v)) : [];
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

/**
 * Checks a parsed file against its schema and records every violation at its line and column;
 * the file's value as the document its schema describes, or undefined when it breaks the schema.
 */
export function validateAgainstSchema<S extends SchemaName>(
  yaml: YamlFile,
  schema: S,
  problems: Problems,
): Documents[S] | undefined {
  const validate: Validator<Documents[S]> = VALIDATORS[schema];
  const value = yaml.value;
  if (validate(value)) return value;
  const errors = validate.errors ?? [];
  // A propertyNames failure also reports the inner pattern error for the same name: keep one.
  const named = new Set(errors.filter((e) => e.keyword === 'propertyNames').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword !== 'propertyNames' && 'propertyName' in e && named.has(e.instancePath)) continue;
    const d = describe(e, pathOf(e.instancePath, value));
    if (d) problems.error(yaml.locate(d.path, d.key), d.message);
  }
  return undefined;
}
