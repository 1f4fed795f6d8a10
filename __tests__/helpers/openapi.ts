import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvImport, { type ErrorObject, type ValidateFunction } from 'ajv';
import nock from 'nock';

// ajv ships CommonJS: its default export is the class itself or sits on `.default`.
const Ajv = ((AjvImport as unknown as { default?: unknown }).default ??
  AjvImport) as unknown as typeof AjvImport.default;
type AjvInstance = InstanceType<typeof Ajv>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
}

interface Operation {
  method: string;
  template: string;
  parameters: Parameter[];
  /** JSON request body schema, refs unresolved; undefined when the operation takes no JSON body. */
  body?: JsonObject;
  bodyRequired: boolean;
}

interface Route {
  template: string;
  regex: RegExp;
  greedy: RegExp;
  names: string[];
  literals: number;
  operations: Map<string, Operation>;
}

interface Spec {
  routes: Route[];
  components: JsonObject;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let spec: Spec | undefined;
let ajv: AjvInstance | undefined;
const compiled = new Map<string, ValidateFunction>();
const knownFormats = new Set<string>();

/** Where GitHub's published OpenAPI description for api.github.com lives in node_modules. */
export function specFile(): string {
  return createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
}

// Parsed once per test file (Jest's module registry is per file) and kept small: only routes,
// operations and the component schemas/parameters that refs point to. Examples, responses and
// webhooks are dropped so the 13 MB document doesn't stay in memory whole.
function loadSpec(): Spec {
  if (spec) return spec;
  const doc = JSON.parse(readFileSync(specFile(), 'utf8')) as {
    paths: Record<string, Record<string, JsonObject>>;
    components: JsonObject;
  };
  const components: JsonObject = {
    schemas: doc.components['schemas'] ?? {},
    parameters: doc.components['parameters'] ?? {},
    requestBodies: doc.components['requestBodies'] ?? {},
  };
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    const names: string[] = [];
    const parts = template.split(/(\{[^}]+\})/).filter((part) => part !== '');
    const pattern = (multi: Set<string>): string =>
      parts
        .map((part) => {
          const m = /^\{([^}]+)\}$/.exec(part);
          if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          return multi.has(m[1] as string) ? '(.+)' : '([^/]+)';
        })
        .join('');
    for (const m of template.matchAll(/\{([^}]+)\}/g)) names.push(m[1] as string);
    const shared = (item['parameters'] as unknown as Parameter[] | undefined) ?? [];
    const operations = new Map<string, Operation>();
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const ownParams = ((op['parameters'] as unknown as JsonObject[] | undefined) ?? []).map(
        (p) => resolveRef(p, components) as unknown as Parameter,
      );
      const params = [
        ...shared.map((p) => resolveRef(p as unknown as JsonObject, components) as unknown as Parameter),
      ];
      for (const p of ownParams) {
        const i = params.findIndex((q) => q.name === p.name && q.in === p.in);
        if (i >= 0) params[i] = p;
        else params.push(p);
      }
      const requestBody = op['requestBody']
        ? (resolveRef(op['requestBody'] as JsonObject, components) as JsonObject)
        : undefined;
      const content = requestBody?.['content'] as JsonObject | undefined;
      const json = content?.['application/json'] as JsonObject | undefined;
      operations.set(method.toUpperCase(), {
        method: method.toUpperCase(),
        template,
        parameters: params,
        body: (json?.['schema'] as JsonObject | undefined) ?? (requestBody ? {} : undefined),
        bodyRequired: requestBody?.['required'] === true,
      });
    }
    // Parameters GitHub marks multi-segment (a branch `release/1.2`, a file path) may contain slashes.
    const multi = new Set(
      [...operations.values()].flatMap((op) =>
        op.parameters
          .filter(
            (q) =>
              q.in === 'path' &&
              (q.name === 'path' || (q as unknown as JsonObject)['x-multi-segment'] === true),
          )
          .map((q) => q.name),
      ),
    );
    const regex = new RegExp(`^${pattern(new Set())}$`);
    const greedy = new RegExp(`^${pattern(multi)}$`);
    routes.push({
      template,
      regex,
      greedy,
      names,
      literals: template.replace(/\{[^}]+\}/g, '').length,
      operations,
    });
  }
  // Most specific first: `/repos/{o}/{r}/issues/comments/{id}` before anything with more holes.
  routes.sort((a, b) => b.literals - a.literals);
  spec = { routes, components: reachable(routes, components) };
  return spec;
}

// Only the component schemas request bodies and parameters reach; response schemas are most of the
// document and never needed here.
function reachable(routes: Route[], components: JsonObject): JsonObject {
  const kept: { [section: string]: JsonObject } = { schemas: {}, parameters: {}, requestBodies: {} };
  const stack: Json[] = [];
  for (const r of routes) {
    for (const op of r.operations.values()) {
      if (op.body) stack.push(op.body);
      for (const p of op.parameters) if (p.schema) stack.push(p.schema);
    }
  }
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === 'object') {
      const ref = node['$ref'];
      if (typeof ref === 'string') {
        const [, section, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(ref) ?? [];
        if (section && name && kept[section] && !(name in (kept[section] as JsonObject))) {
          const target = (components[section] as JsonObject | undefined)?.[name];
          if (target !== undefined) {
            (kept[section] as JsonObject)[name] = target;
            stack.push(target);
          }
        }
      }
      for (const [key, value] of Object.entries(node))
        if (key !== 'example' && key !== 'examples') stack.push(value);
    }
  }
  return kept;
}

function resolveRef(node: JsonObject, components: JsonObject): JsonObject {
  let current = node;
  for (let hops = 0; typeof current['$ref'] === 'string' && hops < 20; hops++) {
    const path = (current['$ref'] as string).replace(/^#\/components\//, '').split('/');
    let target: Json | undefined = components;
    for (const seg of path)
      target = (target as JsonObject | undefined)?.[
        decodeURIComponent(seg.replace(/~1/g, '/').replace(/~0/g, '~'))
      ];
    if (!target || typeof target !== 'object')
      throw new Error(`unresolvable $ref ${String(current['$ref'])}`);
    current = target as JsonObject;
  }
  return current;
}

/**
 * Turns an OpenAPI 3.0 schema into JSON Schema ajv can compile: refs inlined (a cycle becomes `{}`),
 * `nullable` becomes a null type, and every object that lists its `properties` rejects others —
 * GitHub quietly ignores unknown fields, which would hide a misspelt one.
 */
function toJsonSchema(
  node: Json,
  components: JsonObject,
  formats: Set<string>,
  seen: string[] = [],
  closed = true,
): Json {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, components, formats, seen, closed));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node['$ref'] === 'string') {
    const ref = node['$ref'];
    if (seen.includes(ref)) return {};
    return toJsonSchema(resolveRef(node, components), components, formats, [...seen, ref], closed);
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'examples' || key === 'description' || key.startsWith('x-')) continue;
    if (key === 'nullable' || key === 'discriminator') continue;
    if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'boolean') continue;
    if (key === 'properties' && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, s]) => [name, toJsonSchema(s, components, formats, seen, true)]),
      );
    } else if (key === 'allOf') {
      // Members of allOf each describe part of one object: none may reject the others' fields.
      out[key] = toJsonSchema(value, components, formats, seen, false);
    } else if (
      key === 'anyOf' ||
      key === 'oneOf' ||
      key === 'items' ||
      key === 'not' ||
      key === 'additionalProperties'
    ) {
      out[key] = toJsonSchema(value, components, formats, seen, true);
    } else {
      out[key] = value;
    }
    if (key === 'format' && typeof value === 'string') formats.add(value);
  }
  if (closed && out['properties'] && out['additionalProperties'] === undefined && !out['allOf']) {
    out['additionalProperties'] = false;
  }
  if (node['nullable'] === true) {
    if (typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
    else return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

function validator(key: string, schema: Json): ValidateFunction {
  const hit = compiled.get(key);
  if (hit) return hit;
  const s = loadSpec();
  const formats = new Set<string>();
  const jsonSchema = toJsonSchema(schema, s.components, formats);
  ajv ??= new Ajv({ allErrors: true, strict: false, coerceTypes: false });
  for (const f of formats) {
    if (knownFormats.has(f)) continue;
    knownFormats.add(f);
    if (f === 'date-time') ajv.addFormat(f, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i);
    else if (f === 'uri') ajv.addFormat(f, (v: string) => URL.canParse(v));
    else ajv.addFormat(f, true);
  }
  const fn = ajv.compile(jsonSchema as object);
  compiled.set(key, fn);
  return fn;
}

function ajvProblems(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const at = `${where}${e.instancePath}`;
    if (e.keyword === 'additionalProperties') {
      return `${at}: unknown property "${String((e.params as { additionalProperty?: string }).additionalProperty)}"`;
    }
    if (e.keyword === 'enum')
      return `${at}: ${e.message ?? ''} ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`;
    return `${at}: ${e.message ?? e.keyword}`;
  });
}

/** The documented operation a request path (no query) and method hit, e.g. `POST /repos/{owner}/{repo}/check-runs`. */
export function findOperation(
  method: string,
  path: string,
): { template: string; params: Record<string, string> } | undefined {
  const upper = method.toUpperCase();
  for (const pass of ['regex', 'greedy'] as const) {
    for (const route of loadSpec().routes) {
      const m = route[pass].exec(path);
      if (!m || !route.operations.has(upper)) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? '')));
      return { template: route.template, params };
    }
  }
  return undefined;
}

// Path and query values arrive as strings: check them the way GitHub reads them.
function paramProblems(where: string, p: Parameter, raw: string | string[]): string[] {
  if (!p.schema) return [];
  const schema = p.schema;
  const type = schema['type'];
  let value: Json = raw;
  if (type === 'integer' || type === 'number') {
    const text = String(raw);
    if (!/^-?\d+(\.\d+)?$/.test(text)) return [`${where}: must be ${String(type)}, got "${text}"`];
    value = Number(text);
  } else if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') return [`${where}: must be true or false, got "${String(raw)}"`];
    value = raw === 'true';
  } else if (type === 'array' && typeof raw === 'string') {
    value = raw.split(',');
  }
  const fn = validator(`param ${where} ${JSON.stringify(schema)}`, schema);
  return fn(value) ? [] : ajvProblems(where, fn.errors);
}

/**
 * Checks one request against GitHub's REST description: documented path and method, path and
 * query parameters (an undeclared query parameter is a problem), and the JSON body's shape.
 * Returns every problem found; an empty list means GitHub would accept the request's form.
 */
export function validateRequest(method: string, pathWithQuery: string, body?: unknown): string[] {
  const upper = method.toUpperCase();
  const url = new URL(pathWithQuery, 'https://api.github.invalid');
  const path = url.pathname;
  const found = findOperation(upper, path);
  if (!found) {
    const any = loadSpec().routes.find((r) => r.regex.test(path) || r.greedy.test(path));
    return any
      ? [`${upper} ${path}: ${any.template} is documented only for ${[...any.operations.keys()].join(', ')}`]
      : [`${upper} ${path}: no such path in GitHub's REST API description`];
  }
  const op = loadSpec()
    .routes.find((r) => r.template === found.template)
    ?.operations.get(upper) as Operation;
  const label = `${upper} ${found.template}`;
  const problems: string[] = [];

  for (const p of op.parameters.filter((q) => q.in === 'path')) {
    const raw = found.params[p.name];
    if (raw === undefined) problems.push(`${label}: path parameter ${p.name} missing`);
    else problems.push(...paramProblems(`${label} path ${p.name}`, p, raw));
  }
  const queryParams = op.parameters.filter((q) => q.in === 'query');
  const seenKeys = new Set(url.searchParams.keys());
  for (const key of seenKeys) {
    const p = queryParams.find((q) => q.name === key);
    if (!p) {
      const known = queryParams.map((q) => q.name);
      problems.push(
        `${label}: unknown query parameter "${key}"${known.length ? ` (documented: ${known.join(', ')})` : ''}`,
      );
      continue;
    }
    const values = url.searchParams.getAll(key);
    problems.push(
      ...paramProblems(`${label} query ${key}`, p, values.length === 1 ? (values[0] as string) : values),
    );
  }
  for (const p of queryParams) {
    if (p.required && !seenKeys.has(p.name))
      problems.push(`${label}: required query parameter "${p.name}" missing`);
  }

  const hasBody = body !== undefined && body !== '';
  if (op.body === undefined) {
    if (hasBody && upper !== 'GET' && upper !== 'HEAD')
      problems.push(`${label}: takes no request body, got one`);
  } else if (!hasBody) {
    if (op.bodyRequired) problems.push(`${label}: request body required`);
  } else {
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        problems.push(`${label}: request body is not JSON`);
        return problems;
      }
    }
    const fn = validator(`body ${label}`, op.body);
    if (!fn(parsed)) problems.push(...ajvProblems(`${label} body`, fn.errors));
  }
  return problems;
}

/** One request the mock received, recorded for assertions (e.g. that a secret stayed out of bodies). */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A nock interceptor whose reply first checks the request against GitHub's REST description. */
export interface ValidatedInterceptor {
  /** Replies with this status, JSON body and headers — or, when the request breaks the description, with a 422. */
  reply(status: number, body?: nock.Body, headers?: Record<string, string>): GitHubApiMock;
  /** Matches this many requests instead of one. */
  times(n: number): ValidatedInterceptor;
}

/** A mocked GitHub REST API: a nock scope where every interceptor validates what it receives. */
export interface GitHubApiMock {
  scope: nock.Scope;
  /** Every problem any request had: undocumented operations, wrong bodies, unmatched requests. */
  problems: string[];
  /** Every request that reached an interceptor, in order. */
  requests: RecordedRequest[];
  /**
   * Expects one request. Throws now if `method path` is not a documented operation or its path or
   * query break the description; `body` (optional) is nock's body matcher.
   */
  intercept(method: string, path: string, body?: nock.RequestBodyMatcher): ValidatedInterceptor;
  /** Throws listing every problem and every interceptor that was never called; detaches listeners. */
  done(): void;
}

/**
 * Mocks `baseUrl` (default https://api.github.com) with nock so each request is validated against
 * GitHub's OpenAPI description. A bad request gets a 422 like GitHub's, and `done()` fails the
 * test with the problem; a request no interceptor matches is recorded as a problem too.
 */
export function githubApi(options: { baseUrl?: string } = {}): GitHubApiMock {
  const baseUrl = (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const prefix = new URL(baseUrl).pathname.replace(/\/+$/, '');
  const scope = nock(baseUrl);
  const problems: string[] = [];
  const requests: RecordedRequest[] = [];
  const apiPath = (url: string): string => {
    const u = new URL(url);
    const path = u.pathname.startsWith(prefix) ? u.pathname.slice(prefix.length) : u.pathname;
    return path + u.search;
  };

  const onNoMatch = (req: Request): void => {
    if (!req.url.startsWith(baseUrl)) return;
    problems.push(`unexpected request ${req.method} ${apiPath(req.url)} (no interceptor matched)`);
  };
  nock.emitter.on('no match', onNoMatch);

  const mock: GitHubApiMock = {
    scope,
    problems,
    requests,
    intercept(method, path, body) {
      const upper = method.toUpperCase();
      const declared = validateRequest(upper, path);
      // A request body is checked when it arrives; here only the operation, path and query count.
      const fatal = declared.filter((p) => !/request body required/.test(p));
      if (fatal.length) throw new Error(`mock of an invalid GitHub request:\n  ${fatal.join('\n  ')}`);
      const interceptor = scope.intercept(path, upper, body);
      const wrapped: ValidatedInterceptor = {
        times(n) {
          interceptor.times(n);
          return wrapped;
        },
        reply(status, replyBody, headers) {
          interceptor.reply(async (req: Request): Promise<nock.ReplyFnResult> => {
            const text = await req.clone().text();
            const reqPath = apiPath(req.url);
            requests.push({
              method: req.method,
              path: reqPath,
              headers: Object.fromEntries(req.headers),
              body: text,
            });
            const found = validateRequest(req.method, reqPath, text === '' ? undefined : text);
            if (found.length) {
              problems.push(...found);
              return [
                422,
                {
                  message: 'Validation Failed (OpenAPI harness)',
                  errors: found,
                  documentation_url: 'https://docs.github.com/rest',
                },
              ];
            }
            return [status, replyBody ?? '', headers ?? {}];
          });
          return mock;
        },
      };
      return wrapped;
    },
    done() {
      nock.emitter.off('no match', onNoMatch);
      const pending = scope.pendingMocks();
      const all = [...problems, ...pending.map((p) => `expected request never made: ${p}`)];
      if (all.length) throw new Error(`GitHub API mock:\n  ${all.join('\n  ')}`);
    },
  };
  return mock;
}
