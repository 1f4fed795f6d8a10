// JSON Schemas of every config file. `npm run schemas` writes them to schemas/*.schema.json for
// editors; a test keeps the two in step. Self-contained (no imports) so Node can run it directly.

const NAME = '^[A-Za-z0-9][A-Za-z0-9_-]*$';
const VARIABLE = '^[A-Za-z_][A-Za-z0-9_-]*$';
const REGION = '^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$';

const probe = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: { enum: ['http', 'dns', 'tls'], description: 'What to check from outside.' },
    name: { type: 'string' },
    url: { type: 'string', description: 'http: the URL to GET.' },
    record: { type: 'string', description: 'dns: the name to resolve.' },
    host: { type: 'string', description: 'tls: the host to connect to.' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    timeout_ms: { type: 'integer', minimum: 1 },
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: {
        status: { type: 'integer' },
        body_contains: { type: 'string' },
        latency_ms_max: { type: 'number' },
        cname: { type: 'string' },
        a: { type: 'array', items: { type: 'string' } },
        issuer: { type: 'string' },
        days_until_expiry_min: { type: 'number' },
      },
    },
  },
  allOf: [
    { if: { properties: { type: { const: 'http' } } }, then: { required: ['url'] } },
    { if: { properties: { type: { const: 'dns' } } }, then: { required: ['record'] } },
    { if: { properties: { type: { const: 'tls' } } }, then: { required: ['host'] } },
  ],
};

/** Schema of sites/<site>/site.yaml. */
export const siteSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'site-deploy/site.schema.json',
  title: 'site-deploy site',
  type: 'object',
  required: ['site'],
  additionalProperties: false,
  properties: {
    site: {
      type: 'object',
      required: ['name', 'modules'],
      additionalProperties: false,
      properties: {
        name: {
          type: 'string',
          pattern: NAME,
          maxLength: 64,
          description: "The site's folder name under sites/.",
        },
        slug: { type: 'string', pattern: NAME, maxLength: 64 },
        owner: { type: 'string' },
        description: { type: 'string' },
        halt_on_failure: {
          type: 'boolean',
          description: 'Stop starting modules after a failure (default true).',
        },
        ordering: {
          enum: ['weights', 'dependencies'],
          description:
            'weights (default): waves by weight; dependencies: start each module when its own dependencies are done.',
        },
        promotion: {
          type: 'array',
          items: { type: 'string' },
          uniqueItems: true,
          description: 'Environments a release must pass through, in order.',
        },
        break_glass: {
          type: 'object',
          required: ['allowed'],
          additionalProperties: false,
          description:
            'Who may override a freeze or a promotion check with break-glass: "<reason>" (recorded in the evidence and the PR comment).',
          properties: {
            allowed: {
              type: 'array',
              items: { type: 'string' },
              description: 'GitHub logins (not teams) allowed to break glass.',
            },
          },
        },
        state: {
          type: 'object',
          required: ['backend'],
          additionalProperties: false,
          properties: {
            backend: { enum: ['local', 's3'] },
            bucket: { type: 'string', minLength: 3, maxLength: 63 },
            region: { type: 'string' },
            key_prefix: { type: 'string' },
          },
          if: { properties: { backend: { const: 's3' } } },
          then: { required: ['bucket', 'region'] },
        },
        modules: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['type'],
            properties: {
              type: { type: 'string', pattern: NAME, description: 'A folder of the module catalog.' },
              name: {
                type: 'string',
                pattern: NAME,
                maxLength: 64,
                description: 'Unique in the site; default: type.',
              },
              weight: { type: 'number', description: 'Lower runs first; default 10 x position.' },
              config: { type: 'string', description: 'A YAML file of inputs, relative to the site folder.' },
              inputs: { type: 'object' },
              depends_on: { type: 'array', items: { type: 'string' }, uniqueItems: true },
              environments: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
              outputs: { type: 'array', items: { type: 'string' } },
            },
            additionalProperties: true,
          },
        },
        environments: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path'],
            additionalProperties: false,
            properties: { path: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

/** Schema of sites/<site>/environments/<env>.yaml. */
export const environmentSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'site-deploy/environment.schema.json',
  title: 'site-deploy environment',
  type: 'object',
  required: ['environment'],
  additionalProperties: false,
  properties: {
    environment: {
      type: 'string',
      pattern: NAME,
      maxLength: 64,
      description: 'Must equal the file name without .yaml.',
    },
    lifecycle: { enum: ['long-lived', 'ephemeral'] },
    variables: { type: 'object', propertyNames: { pattern: VARIABLE } },
    verification: {
      type: 'object',
      additionalProperties: false,
      properties: { probes: { type: 'array', items: probe } },
    },
    freeze: {
      type: 'array',
      description: 'Windows in which apply is refused (break-glass overrides them).',
      items: {
        type: 'object',
        required: ['from', 'to', 'reason'],
        additionalProperties: false,
        properties: {
          from: {
            type: 'string',
            description: 'ISO 8601 date-time with a zone, e.g. 2026-12-20T00:00:00Z; the window starts here.',
          },
          to: {
            type: 'string',
            description: 'ISO 8601 date-time with a zone, after from; the window ends here (not included).',
          },
          reason: { type: 'string', description: 'Why; shown to whoever is refused.' },
        },
      },
    },
  },
} as const;

/** Schema of sites/<site>/credentials.yaml. */
export const credentialsSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'site-deploy/credentials.schema.json',
  title: 'site-deploy credentials',
  type: 'object',
  required: ['credentials'],
  additionalProperties: false,
  properties: {
    credentials: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        required: ['aws_account', 'role', 'region'],
        additionalProperties: false,
        properties: {
          aws_account: { type: 'string', pattern: '^[0-9]{12}$', description: 'Quoted 12-digit account id.' },
          role: { type: 'string', description: 'Role ARN assumed for apply.' },
          plan_role: { type: 'string', description: 'Read-only role ARN for plan, drift and verify.' },
          via: { type: 'string', description: 'Optional hub role the OIDC token goes to first.' },
          region: { type: 'string', pattern: REGION },
          session_duration: { type: 'integer', description: 'Seconds, 900-43200 (at most 3600 with via).' },
          boundary_policy: { type: 'string', description: 'Managed policy ARN passed as a session policy.' },
          allowed_services: {
            type: 'array',
            items: { type: 'string', pattern: '^[a-z0-9-]+$' },
            uniqueItems: true,
          },
          require_mfa: { type: 'boolean' },
          external_id: { type: 'string', minLength: 2, maxLength: 1224 },
        },
      },
    },
  },
} as const;

/** Schema of modules/<type>/module.yaml (the catalog manifest). */
export const manifestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'site-deploy/module.schema.json',
  title: 'site-deploy module manifest',
  type: 'object',
  additionalProperties: false,
  properties: {
    engine: { enum: ['terraform', 'command'] },
    description: { type: 'string' },
    services: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9-]+$' }, uniqueItems: true },
    inputs: {
      type: 'object',
      propertyNames: { pattern: VARIABLE },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          type: { enum: ['string', 'number', 'bool', 'list', 'map', 'any'] },
          required: { type: 'boolean' },
          default: {},
          sensitive: { type: 'boolean' },
          description: { type: 'string' },
        },
      },
    },
    outputs: { type: 'array', items: { type: 'string', pattern: VARIABLE }, uniqueItems: true },
    sensitive_outputs: { type: 'array', items: { type: 'string', pattern: VARIABLE }, uniqueItems: true },
    mock_outputs: { type: 'object' },
  },
} as const;

/** A module's `config:` file: a flat map of inputs. */
export const moduleConfigSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'site-deploy/module-config.schema.json',
  title: 'site-deploy module inputs',
  type: 'object',
  propertyNames: { pattern: VARIABLE },
} as const;

/** Every schema with the file name it is published under. */
export const SCHEMAS = {
  'site.schema.json': siteSchema,
  'environment.schema.json': environmentSchema,
  'credentials.schema.json': credentialsSchema,
  'module.schema.json': manifestSchema,
  'module-config.schema.json': moduleConfigSchema,
} as const;
