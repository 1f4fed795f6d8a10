import type { CredentialTarget } from '../credentials/session.js';
import type { YamlPath } from '../yaml.js';

/** Where a value came from: a file (relative to the root) and the path inside it. */
export interface Origin {
  file: string;
  path: YamlPath;
}

/** One module input, with where it was written. */
export interface InputEntry {
  value: unknown;
  origin: Origin;
}

/** Input types a catalog manifest may declare. */
export type InputType = 'string' | 'number' | 'bool' | 'list' | 'map' | 'any';

/** A declared input of a catalog module. */
export interface InputSpec {
  type: InputType;
  required: boolean;
  default?: unknown;
  hasDefault: boolean;
  sensitive: boolean;
}

/** A catalog entry: modules/<type>/module.yaml. */
export interface Manifest {
  type: string;
  /** Folder of the module type, relative to the root. */
  dir: string;
  file: string;
  engine: 'terraform' | 'command';
  services: string[];
  inputs?: Record<string, InputSpec>;
  outputs?: string[];
  sensitiveOutputs: string[];
  mockOutputs: Record<string, unknown>;
}

/** A module entry of site.yaml, inputs merged (config file, then seed-style keys and `inputs:`). */
export interface ModuleEntry {
  name: string;
  type: string;
  weight: number;
  /** 1-based position in `modules:`. */
  position: number;
  dependsOn: { name: string; origin: Origin }[];
  environments?: string[];
  inputs: Map<string, InputEntry>;
  origin: Origin;
}

/** A window of an environment's `freeze:` in which `apply` is refused (SPEC §8.4). */
export interface FreezeWindow {
  /** Start, milliseconds since the epoch (UTC); inside the window from here on. */
  from: number;
  /** End, milliseconds since the epoch (UTC), after `from`; outside the window from here on. */
  to: number;
  /** Why the environment is frozen (never empty). */
  reason: string;
  /** The window's entry in the environment file (`['freeze', i]`). */
  origin: Origin;
}

/** environments/<env>.yaml. */
export interface Environment {
  name: string;
  file: string;
  lifecycle: 'long-lived' | 'ephemeral';
  variables: Map<string, InputEntry>;
  verification?: InputEntry;
  /** Freeze windows, in file order; empty when the file has no `freeze:`. */
  freeze: FreezeWindow[];
}

/** One environment's AWS identity from credentials.yaml: what the STS chain reads, and where it was written. */
export interface CredentialEntry extends CredentialTarget {
  origin: Origin;
}

/** Where Terraform state lives. */
export interface StateConfig {
  backend: 'local' | 's3';
  bucket?: string;
  region?: string;
  keyPrefix?: string;
  origin?: Origin;
}

/** A site: its modules, environments and credentials, as loaded from its folder. */
export interface Site {
  name: string;
  slug: string;
  owner?: string;
  /** The site's folder, relative to the root. */
  dir: string;
  file: string;
  haltOnFailure: boolean;
  ordering: 'weights' | 'dependencies';
  promotion?: string[];
  /** `break_glass:` of site.yaml: the GitHub logins who may override a freeze or a promotion check. */
  breakGlass?: { allowed: string[]; origin: Origin };
  state: StateConfig;
  modules: ModuleEntry[];
  environments: Map<string, Environment>;
  /** `broken`: the file exists but could not be read; its problems were reported already. */
  credentials?: { file: string; entries: Map<string, CredentialEntry>; broken?: boolean };
}
