import type { ErrorObject } from 'ajv';

// What each config file holds once it has passed its schema (schemas.ts): the types the compiled
// validators guard. Keep each in step with its schema.

type Obj = Record<string, unknown>;

/** A module entry of site.yaml: its own keys, and any other key is an input. */
export interface ModuleDoc extends Obj {
  type: string;
  name?: string;
  weight?: number;
  config?: string;
  inputs?: Obj;
  depends_on?: string[];
  environments?: string[];
  outputs?: string[];
}

/** sites/<site>/site.yaml. */
export interface SiteDoc {
  site: {
    name: string;
    slug?: string;
    owner?: string;
    description?: string;
    halt_on_failure?: boolean;
    ordering?: 'weights' | 'dependencies';
    promotion?: string[];
    break_glass?: { allowed: string[] };
    state?: { backend: 'local' | 's3'; bucket?: string; region?: string; key_prefix?: string };
    modules: ModuleDoc[];
    environments?: { path: string }[];
  };
}

/** One freeze window of an environment file. */
export interface FreezeDoc {
  from: string;
  to: string;
  reason: string;
}

/** sites/<site>/environments/<env>.yaml. */
export interface EnvironmentDoc {
  environment: string;
  lifecycle?: 'long-lived' | 'ephemeral';
  variables?: Obj;
  verification?: { probes?: Obj[] };
  freeze?: FreezeDoc[];
}

/** One environment's entry of credentials.yaml. */
export interface CredentialDoc {
  aws_account: string;
  role: string;
  plan_role?: string;
  via?: string;
  region: string;
  session_duration?: number;
  boundary_policy?: string;
  allowed_services?: string[];
  require_mfa?: boolean;
  external_id?: string;
}

/** sites/<site>/credentials.yaml. */
export interface CredentialsDoc {
  credentials: Record<string, CredentialDoc>;
}

/** One input of a catalog manifest. */
export interface InputDoc {
  type?: 'string' | 'number' | 'bool' | 'list' | 'map' | 'any';
  required?: boolean;
  default?: unknown;
  sensitive?: boolean;
  description?: string;
}

/** modules/<type>/module.yaml, the catalog manifest. */
export interface ManifestDoc {
  engine?: 'terraform' | 'command';
  description?: string;
  services?: string[];
  inputs?: Record<string, InputDoc>;
  outputs?: string[];
  sensitive_outputs?: string[];
  mock_outputs?: Obj;
}

/** A module's `config:` file: a map of inputs. */
export type ModuleConfigDoc = Obj;

/** The document type each schema admits, by the schema's published name. */
export interface Documents {
  'site.schema.json': SiteDoc;
  'environment.schema.json': EnvironmentDoc;
  'credentials.schema.json': CredentialsDoc;
  'module.schema.json': ManifestDoc;
  'module-config.schema.json': ModuleConfigDoc;
}

/** A compiled schema (ajv's contract): a guard of its document; on false, the errors on `errors`. */
export interface Validator<T> {
  (data: unknown): data is T;
  errors?: ErrorObject[] | null;
}
