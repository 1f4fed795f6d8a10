/**
 * The JSON Schema of an evidence record, schema_version 1 (schemas/evidence.schema.json, written
 * by `npm run schemas`). Assessors and tools can check a record without reading site-deploy's code.
 */

const SHA256 = '^sha256:[0-9a-f]{64}$';
const HEX = '^[0-9a-f]{64}$';
const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({
  anyOf: [schema, { type: 'null' }],
});
const strings = { type: 'array', items: { type: 'string' } };
const counts = {
  type: 'object',
  additionalProperties: false,
  required: ['add', 'change', 'destroy', 'import', 'forget', 'replace'],
  properties: Object.fromEntries(
    ['add', 'change', 'destroy', 'import', 'forget', 'replace'].map((k) => [
      k,
      { type: 'integer', minimum: 0 },
    ]),
  ),
};

/** The record's schema. */
export const EVIDENCE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://site-deploy.dev/schemas/evidence.schema.json',
  title: 'site-deploy evidence record',
  description:
    'What one plan, apply, destroy, drift or verify run did: who, where, when, under which review. Serialized as canonical JSON (RFC 8785); the sha256 of those bytes is the record digest. Never holds a secret or a sensitive value.',
  type: 'object',
  additionalProperties: false,
  required: [
    'schema_version',
    'command',
    'status',
    'refusal',
    'error',
    'site',
    'environment',
    'lifecycle',
    'account',
    'region',
    'run',
    'started_at',
    'finished_at',
    'config',
    'modules',
    'plan_digest',
    'policy',
    'binding',
    'promotion',
    'break_glass',
    'previous',
  ],
  properties: {
    schema_version: { const: 1 },
    command: { enum: ['plan', 'apply', 'destroy', 'drift', 'verify'] },
    status: { enum: ['succeeded', 'no-op', 'failed', 'cancelled', 'refused'] },
    refusal: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'message'],
      properties: {
        kind: { enum: ['lock', 'binding', 'promotion', 'freeze', 'break-glass', 'policy'] },
        message: { type: 'string' },
      },
    }),
    error: nullable({ type: 'string' }),
    site: { type: 'string', minLength: 1 },
    environment: { type: 'string', minLength: 1 },
    lifecycle: { enum: ['long-lived', 'ephemeral'] },
    account: nullable({ type: 'string', pattern: '^\\d{12}$' }),
    region: nullable({ type: 'string' }),
    run: {
      type: 'object',
      additionalProperties: false,
      required: [
        'repository',
        'pull_request',
        'commit',
        'ref',
        'ref_protected',
        'actor',
        'triggering_actor',
        'event',
        'workflow_ref',
        'id',
        'attempt',
        'url',
      ],
      properties: {
        repository: { type: 'string' },
        pull_request: nullable({ type: 'integer', minimum: 1 }),
        commit: { type: 'string' },
        ref: { type: 'string' },
        ref_protected: nullable({ type: 'boolean' }),
        actor: { type: 'string' },
        triggering_actor: { type: 'string' },
        event: { type: 'string' },
        workflow_ref: nullable({ type: 'string' }),
        id: { type: 'string', minLength: 1 },
        attempt: { type: 'integer', minimum: 1 },
        url: nullable({ type: 'string' }),
      },
    },
    started_at: { type: 'string', format: 'date-time' },
    finished_at: { type: 'string', format: 'date-time' },
    config: {
      type: 'object',
      additionalProperties: false,
      required: ['digest', 'files', 'site_digest'],
      properties: {
        digest: { type: 'string', pattern: SHA256 },
        files: { type: 'object', additionalProperties: { type: 'string', pattern: HEX } },
        site_digest: nullable({ type: 'string', pattern: SHA256 }),
      },
    },
    modules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'name',
          'type',
          'weight',
          'status',
          'duration_ms',
          'session_name',
          'services',
          'plan_sha256',
          'plan_digest',
          'counts',
          'resources',
          'outputs',
          'error',
        ],
        properties: {
          name: { type: 'string' },
          type: { type: 'string' },
          weight: { type: 'number' },
          status: {
            enum: ['succeeded', 'no-op', 'failed', 'cancelled', 'blocked', 'halted', 'skipped', 'pending'],
          },
          duration_ms: { type: 'integer', minimum: 0 },
          session_name: nullable({ type: 'string', maxLength: 64 }),
          services: strings,
          plan_sha256: nullable({ type: 'string', pattern: HEX }),
          plan_digest: nullable({ type: 'string', pattern: SHA256 }),
          counts,
          resources: { type: 'object', additionalProperties: strings },
          outputs: strings,
          error: nullable({ type: 'string' }),
        },
      },
    },
    plan_digest: nullable({ type: 'string', pattern: SHA256 }),
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['decisions', 'exceptions'],
      properties: { decisions: { type: 'array' }, exceptions: { type: 'array' } },
    },
    binding: {},
    promotion: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['order', 'required', 'release', 'result', 'applied_in_required', 'message'],
      properties: {
        order: strings,
        required: nullable({ type: 'string' }),
        release: {
          type: 'object',
          additionalProperties: false,
          required: ['commit', 'site_digest'],
          properties: { commit: { type: 'string' }, site_digest: { type: 'string', pattern: SHA256 } },
        },
        result: { enum: ['passed', 'refused', 'overridden', 'not-required'] },
        applied_in_required: nullable({
          type: 'object',
          additionalProperties: false,
          required: ['commit', 'status', 'at', 'url'],
          properties: {
            commit: { type: 'string' },
            status: { type: 'string' },
            at: { type: 'string' },
            url: nullable({ type: 'string' }),
          },
        }),
        message: nullable({ type: 'string' }),
      },
    }),
    break_glass: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['actor', 'reason', 'overrides'],
      properties: {
        actor: { type: 'string', minLength: 1 },
        reason: { type: 'string', minLength: 1 },
        overrides: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['check', 'message'],
            properties: { check: { enum: ['freeze', 'promotion'] }, message: { type: 'string' } },
          },
        },
      },
    }),
    previous: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['digest', 'run', 'changed'],
      properties: {
        digest: { type: 'string', pattern: SHA256 },
        run: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'attempt', 'url'],
          properties: {
            id: { type: 'string' },
            attempt: { type: 'integer', minimum: 1 },
            url: nullable({ type: 'string' }),
          },
        },
        changed: {
          type: 'object',
          additionalProperties: false,
          required: ['files', 'modules'],
          properties: {
            files: {
              type: 'object',
              additionalProperties: false,
              required: ['added', 'removed', 'changed'],
              properties: { added: strings, removed: strings, changed: strings },
            },
            modules: strings,
          },
        },
      },
    }),
  },
} as const;
