/**
 * The JSON Schema of what `--json` prints (schemas/result.schema.json, written by `npm run
 * schemas`): each command's own document when it ran to its result, or the failure document
 * (core/result.ts) when it was refused, given bad input, or broken off by an error. One document,
 * on every outcome (SPEC §9).
 */
// No imports: scripts/schemas.mjs loads this file with Node's type stripping. A test holds these
// words to FAILURE_STATUSES (result.ts) and STATUSES (status.ts).
/** The failure document's statuses. */
export const RESULT_FAILURE_STATUSES = ['refused', 'invalid', 'error'];
/** A module's statuses. */
export const RESULT_MODULE_STATUSES = [
  'succeeded',
  'no-op',
  'failed',
  'blocked',
  'cancelled',
  'halted',
  'skipped',
  'pending',
  'refused',
];

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({
  anyOf: [schema, { type: 'null' }],
});
const count = { type: 'integer', minimum: 0 };
const strings = { type: 'array', items: { type: 'string' } };
const COUNTS = ['add', 'change', 'destroy', 'import', 'forget', 'replace'];
const position = {
  file: { type: 'string' },
  line: { type: 'integer', minimum: 0 },
  column: { type: 'integer', minimum: 0 },
  message: { type: 'string' },
};
/** An object that names the keys it must have, and may have more (documents other tools may grow). */
const withKeys = (required: string[], properties: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'object',
  required,
  properties: { ...Object.fromEntries(required.map((k) => [k, {}])), ...properties },
});

const failure = {
  type: 'object',
  additionalProperties: false,
  required: [
    'ok',
    'command',
    'site',
    'environment',
    'status',
    'exit_code',
    'message',
    'errors',
    'refusal',
    'evidence',
    'internal',
  ],
  properties: {
    ok: { const: false },
    command: nullable({ type: 'string' }),
    site: nullable({ type: 'string' }),
    environment: nullable({ type: 'string' }),
    status: { enum: RESULT_FAILURE_STATUSES },
    exit_code: { enum: [1, 2] },
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['file', 'line', 'column', 'message', 'severity'],
        properties: { ...position, severity: { enum: ['error', 'warning'] } },
      },
    },
    refusal: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'message'],
      properties: { kind: { type: 'string' }, message: { type: 'string' } },
    }),
    evidence: nullable({ type: 'string' }),
    internal: { type: 'boolean' },
  },
};

const run = {
  type: 'object',
  additionalProperties: false,
  required: ['site', 'environment', 'command', 'status', 'evidence', 'modules', 'outputs'],
  properties: {
    site: { type: 'string' },
    environment: { type: 'string' },
    command: { enum: ['plan', 'apply', 'destroy'] },
    status: { enum: ['succeeded', 'no-op', 'failed', 'cancelled'] },
    evidence: nullable({ type: 'string' }),
    evidence_error: { type: 'string' },
    broken_links: {
      type: 'array',
      items: withKeys(['name', 'reason'], { name: { type: 'string' }, reason: { type: 'string' } }),
    },
    modules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'weight', 'status', ...COUNTS, 'duration_ms', 'mocked', 'blocked_on'],
        properties: {
          name: { type: 'string' },
          type: { type: 'string' },
          weight: { type: 'number' },
          status: { enum: RESULT_MODULE_STATUSES },
          ...Object.fromEntries(COUNTS.map((k) => [k, count])),
          duration_ms: { type: 'number', minimum: 0 },
          mocked: strings,
          blocked_on: strings,
          reason: { type: 'string' },
        },
      },
    },
    outputs: { type: 'object' },
  },
};

const validate = {
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'errors', 'warnings'],
  properties: {
    ok: { type: 'boolean' },
    errors: { type: 'array', items: withKeys(['file', 'line', 'column', 'message'], position) },
    warnings: { type: 'array', items: withKeys(['file', 'line', 'column', 'message'], position) },
  },
};

/** The schema of every `--json` document. */
export const RESULT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://site-deploy.dev/schemas/result.schema.json',
  title: 'site-deploy --json result',
  description:
    "What `site-deploy <command> --json` prints on stdout: the command's own document when it ran to its result, or the failure document (`ok: false`, with `status` refused, invalid or error, `exit_code`, every problem at its place, the refusal, and the evidence record when one was written) on every other outcome.",
  anyOf: [
    { $ref: '#/definitions/failure' },
    { $ref: '#/definitions/run' },
    { $ref: '#/definitions/validate' },
    { $ref: '#/definitions/graph' },
    { $ref: '#/definitions/matrix' },
    { $ref: '#/definitions/summarize' },
    { $ref: '#/definitions/output' },
    { $ref: '#/definitions/trust_policy' },
    { $ref: '#/definitions/force_unlock' },
    { $ref: '#/definitions/report' },
  ],
  definitions: {
    failure,
    run,
    validate,
    graph: withKeys(['site', 'environment', 'waves'], { waves: { type: 'array', items: { type: 'array' } } }),
    matrix: withKeys(['include'], { include: { type: 'array', items: withKeys(['site', 'environment']) } }),
    summarize: withKeys([...COUNTS, 'no_changes', 'resources']),
    output: withKeys(['site', 'environment', 'modules']),
    trust_policy: withKeys(['site', 'environment', 'account', 'region', 'repository', 'roles', 'steps']),
    force_unlock: withKeys(['target', 'removed', 'holders']),
    report: withKeys(['reports'], { reports: { type: 'array' } }),
  },
} as const;
