import type { StepStatus } from '../../core/status.js';
import type { S3CredentialSource } from '../aws/s3.js';

/** A sandboxed step: its own uid, and what runs `unshare` as root (sandbox.ts). */
export interface StepSandbox {
  uid: number;
  prefix: string[];
}

/** Where a module's Terraform state lives: a local file or an S3 object locked with `use_lockfile`. */
export type Backend =
  | { kind: 'local'; path: string /* absolute .tfstate path */ }
  | {
      kind: 's3';
      bucket: string;
      key: string;
      region: string;
      /** AWS SDK retries for the backend; 1 makes a dead endpoint fail in well under a second. */
      maxRetries?: number;
    };

/** Resource counts of a plan, as Terraform's `Plan:` line (or a command module's CHANGES file) gives them. */
export interface ChangeCounts {
  add: number;
  change: number;
  destroy: number;
}

/** What a saved plan looks like to a `beforeApply` gate. */
export interface PlanReady {
  planJsonPath?: string;
  planSha256?: string;
  changes?: ChangeCounts;
}

/** One module step for an engine to run: plan, or plan then apply. */
export interface EngineStepRequest {
  /**
   * apply = [init] → plan -out → (changes) show -json → apply the saved plan; outputs from the
   * state the step wrote (local file, or the S3 object read with the step's credentials).
   */
  mode: 'plan' | 'apply';
  /** 'terraform' | 'tofu' (or a path); ignored by the command engine. */
  binary: string;
  /** Absolute catalog folder of the module type (copied, never modified). */
  moduleDir: string;
  /**
   * Command engine: the outputs the manifest's `outputs:` declares, and where (`file:line`); an
   * output the scripts write beyond them fails the step. Absent: the manifest has no `outputs:`
   * list, and any output is accepted.
   */
  declaredOutputs?: { names: readonly string[]; at: string };
  /** The repository root: symlinks in the module folder may not lead outside it. */
  root?: string;
  /** Absolute folder for this step; the engine empties and recreates it. */
  workDir: string;
  /** Resolved inputs: written to `<workDir>/site-deploy.auto.tfvars.json` or the SITE_DEPLOY_INPUTS file. */
  inputs: Record<string, unknown>;
  backend: Backend;
  /**
   * Terraform: this module's data folder (`TF_DATA_DIR`), kept between runs so `init` runs only
   * when the module's code, lock file, backend or binary changed (absent: init every step).
   */
  dataDir?: string;
  /** Terraform: the provider plugin cache every step shares (`TF_PLUGIN_CACHE_DIR`). */
  pluginCacheDir?: string;
  /** Terraform: this step's folder, made ahead of it by `TerraformEngine.warm`. */
  warmup?: Promise<Warmed>;
  /** Passed as `-lock-timeout`, e.g. '30s'. */
  lockTimeout: string;
  /** Extra child environment (AWS credential variables, endpoints); never logged, never written to disk. */
  env: Record<string, string>;
  /**
   * The step's own AWS credentials (its session, or the static keys its `env` carries), for what
   * the engine reads on the step's behalf: the S3 state object a step wrote. In memory only, never
   * logged; absent, an S3 step's outputs come from `output -json`.
   */
  credentials?: S3CredentialSource;
  /**
   * Run the step's processes in the sandbox (sandbox.ts) as this uid: its own PID and mount
   * namespace, its folders lent to it while they run. Absent: plain processes (`isolation: none`).
   */
  sandbox?: StepSandbox;
  /** Receives engine output, one or more whole lines per call. */
  log: (chunk: string) => void;
  /** Abort forwards SIGTERM to the running child so Terraform stops gracefully and releases its lock. */
  signal?: AbortSignal;
  /** After an abort, how long the child gets before its process group is killed (default 20 000 ms). */
  killGraceMs?: number;
  /**
   * Both modes: called with the parsed plan document (`show -json`) as soon as it exists, before
   * anything is applied — so its sensitive values are registered with the redaction first.
   */
  onPlan?: (plan: unknown) => void;
  /**
   * Apply mode only: called with the fresh plan before it is applied (approval binding).
   * Return a reason to refuse and the step fails with it, unapplied.
   */
  beforeApply?: (plan: PlanReady) => Promise<string | undefined>;
}

/** A module's work folder, made for its step. */
export interface Folder {
  /** Where Terraform runs: the module inside the copy. */
  cwd: string;
  /** What the data folder must have been made from ('' without a data folder). */
  key: string;
  /** The module commits a `.terraform.lock.hcl`. */
  committedLock: boolean;
  /** Set once `init` ran (`fresh`) or the kept data folder was found current (`kept`). */
  initialised?: 'fresh' | 'kept';
}

/** A folder made (and initialised) ahead of its step, with the log of doing so; or why it could not be. */
export type Warmed = (Folder & { log: string[] }) | { failed: string };

/** What one module step produced. */
export interface EngineStepResult {
  status: StepStatus;
  /** From `plan -detailed-exitcode` (2 = changes) or the command module's CHANGES file. */
  hasChanges: boolean;
  /** Terraform: path of the `show -json` output. */
  planJsonPath?: string;
  /** Terraform: the `show -json` document, parsed once (the runner summarizes it). */
  plan?: unknown;
  /** sha256 (hex) of the saved binary plan file. */
  planSha256?: string;
  /** Command engine only: counts from SITE_DEPLOY_CHANGES. */
  changes?: ChangeCounts;
  /** Apply: `output -json`; plan: outputs already known at plan time. Sensitive values are plaintext here. */
  outputs: Record<string, { value: unknown; sensitive: boolean }>;
  /** Plan: outputs known only after apply. */
  unknownOutputs?: string[];
  /** Failed or cancelled: a one-line reason, then the last lines of stderr. */
  error?: string;
  durationMs: number;
}

/** Runs module steps with one tool (Terraform/OpenTofu or a command module's scripts). */
export interface Engine {
  /** Runs one step; tool failures come back as `status: 'failed'`, never as a thrown error. */
  run(req: EngineStepRequest): Promise<EngineStepResult>;
}
