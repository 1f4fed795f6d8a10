import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { S3CredentialSource } from '../aws/s3.js';
import { readStateOutputs } from '../run/state.js';
import { goDuration } from '../../core/duration.js';
import { parsePlanJson } from '../../core/plan/summary.js';
import { runProcess, terraformEnv, type ProcessResult } from './process.js';
import {
  binaryIdentity,
  initIsCurrent,
  initKey,
  KEPT_LOCK_FILE,
  LOCK_FILE,
  needsInit,
  resetDataDir,
  stampDataDir,
  treeDigest,
} from './terraform-init.js';
import { withCacheLock } from './cache-lock.js';
import {
  prepareSandbox,
  sandboxedBackend,
  sandboxEnv,
  terraformProcessSandbox,
} from './terraform-sandbox.js';
import type { Backend, Engine, EngineStepRequest, EngineStepResult, Folder, Warmed } from './types.js';
import {
  assertAbsolute,
  copyModule,
  copyModuleTree,
  errorText,
  sha256File,
  stepFinisher,
  type StepEnd,
  WORKDIR_MARKER,
  writePrivateJson,
} from './workdir.js';

/** File names the engine writes into a step's work folder. */
export const TERRAFORM_FILES = {
  tfvars: 'site-deploy.auto.tfvars.json',
  backendOverride: 'site_deploy_backend_override.tf.json',
  plan: 'tfplan',
  planJson: 'plan.json',
} as const;

type Outputs = EngineStepResult['outputs'];

/**
 * The backend override file's content. Credentials never go here (plan files and
 * `.terraform/` keep backend config): Terraform reads them from the environment.
 */
export function backendOverride(backend: Backend, env: NodeJS.ProcessEnv): unknown {
  if (backend.kind === 'local') return { terraform: { backend: { local: { path: backend.path } } } };
  const s3: Record<string, unknown> = {
    bucket: backend.bucket,
    key: backend.key,
    region: backend.region,
    use_lockfile: true,
  };
  // A custom endpoint (moto, MinIO, a VPC endpoint by IP) has no virtual-host DNS names.
  if (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL) s3.use_path_style = true;
  if (backend.maxRetries !== undefined) s3.max_retries = backend.maxRetries;
  return { terraform: { backend: { s3 } } };
}

/** Whether a `*_unknown` tree marks anything unknown. */
function anyUnknown(tree: unknown): boolean {
  if (tree === true) return true;
  if (Array.isArray(tree)) return tree.some(anyUnknown);
  if (tree && typeof tree === 'object') return Object.values(tree).some(anyUnknown);
  return false;
}

interface PlanJson {
  planned_values?: { outputs?: Record<string, { sensitive?: boolean; value?: unknown }> };
  output_changes?: Record<string, { actions?: string[]; after_unknown?: unknown; after_sensitive?: unknown }>;
}

/**
 * Outputs a plan already knows (`planned_values.outputs`), and the names of those known only
 * after apply (any part unknown in `output_changes[name].after_unknown`).
 */
export function plannedOutputs(plan: unknown): { outputs: Outputs; unknown: string[] } {
  const p = (plan ?? {}) as PlanJson;
  const planned = p.planned_values?.outputs ?? {};
  const changes = p.output_changes ?? {};
  const outputs: Outputs = {};
  const unknown: string[] = [];
  const names = new Set([...Object.keys(planned), ...Object.keys(changes)]);
  for (const name of [...names].sort()) {
    const change = changes[name];
    if (change?.actions?.includes('delete') && !change.actions.includes('create')) continue;
    const value = planned[name];
    if (anyUnknown(change?.after_unknown) || value === undefined || !('value' in value)) {
      unknown.push(name);
      continue;
    }
    outputs[name] = {
      value: value.value,
      sensitive: value.sensitive === true || anyUnknown(change?.after_sensitive),
    };
  }
  return { outputs, unknown };
}

/** Parses `terraform output -json`. */
export function parseOutputJson(text: string): Outputs {
  const raw = JSON.parse(text || '{}') as Record<string, { value?: unknown; sensitive?: boolean }>;
  const outputs: Outputs = {};
  for (const [name, o] of Object.entries(raw))
    outputs[name] = { value: o.value, sensitive: o.sensitive === true };
  return outputs;
}

/**
 * The outputs in the state a step just wrote — the document `output -json` reads — from the local
 * file, or from the S3 object with the step's own credentials from its request (its session may
 * read its state object). Undefined when an S3 step has no credentials of its own to read it with.
 */
export async function writtenStateOutputs(
  module: string,
  backend: Backend,
  env: Record<string, string | undefined>,
  credentials?: S3CredentialSource,
): Promise<Outputs | undefined> {
  if (backend.kind === 's3' && credentials === undefined) return undefined;
  return (
    (await readStateOutputs(module, backend, env, backend.kind === 's3' ? credentials : undefined)) ?? {}
  );
}

/** A plan with nothing to do, as `show -json` would describe it for the digest and the summary. */
export const NO_CHANGES_PLAN = Object.freeze({
  format_version: '1.2',
  resource_changes: [],
  output_changes: {},
});

/** The first `Error: …` line Terraform printed, with the lock holder when it is a lock error. */
export function terraformReason(stderr: string[]): string | undefined {
  const lines = stderr.map((l) => l.replace(/^[│╷╵]\s?/, '').trim());
  const err = lines.find((l) => l.startsWith('Error: '));
  if (!err) return undefined;
  let reason = err.slice('Error: '.length);
  if (/state lock/i.test(reason)) {
    const field = (f: string): string | undefined =>
      lines
        .find((l) => l.startsWith(`${f}:`))
        ?.slice(f.length + 1)
        .trim() || undefined;
    const who = field('Who');
    const created = field('Created');
    const id = field('ID');
    const holder = [who && `held by ${who}`, created && `since ${created}`, id && `lock ID ${id}`]
      .filter(Boolean)
      .join(', ');
    if (holder) reason += ` (${holder})`;
  }
  return reason;
}

/** A failed result's `error`: one line, then the stderr tail. */
function errorWithTail(reason: string, tail: string[]): string {
  const t = [...tail];
  while (t.length && !t[t.length - 1]!.trim()) t.pop();
  while (t.length && !t[0]!.trim()) t.shift();
  return t.length ? `${reason}\n${t.join('\n')}` : reason;
}

/** The one-line description of a binary that could not start. */
function startFailure(binary: string, e: NodeJS.ErrnoException): string {
  const where = binary.includes('/') ? '' : ' on PATH';
  if (e.code === 'ENOENT') return `terraform binary '${binary}' not found${where}`;
  if (e.code === 'EACCES') return `terraform binary '${binary}' is not executable`;
  return `terraform binary '${binary}' could not start: ${e.message}`;
}

class StepFailed extends Error {
  constructor(
    readonly result: Pick<EngineStepResult, 'status' | 'error'>,
    /** What the process printed on stderr (head and tail), when it ran and failed. */
    readonly stderr: string[] = [],
  ) {
    super(result.error);
  }
}

/** What the Terraform helpers below need of a step. */
type FolderRequest = Omit<EngineStepRequest, 'mode' | 'inputs' | 'onPlan' | 'beforeApply' | 'warmup'>;

/**
 * A step's Terraform environment: no prompts, its data folder and the shared plugin cache (in the
 * sandbox: at their mount paths, with a HOME of its own).
 */
function stepEnv(req: FolderRequest): NodeJS.ProcessEnv {
  const env = terraformEnv(req.env);
  if (req.sandbox) return { ...env, ...sandboxEnv(req, env) };
  if (req.dataDir !== undefined) env.TF_DATA_DIR = req.dataDir;
  if (req.pluginCacheDir !== undefined) env.TF_PLUGIN_CACHE_DIR = req.pluginCacheDir;
  return env;
}

/**
 * Copies the module (with the repository root known, keeping the catalog's layout so local
 * module sources such as `../shared` resolve), writes the backend override, and works out what
 * the data folder must be made from.
 */
async function prepareFolder(req: FolderRequest, env: NodeJS.ProcessEnv): Promise<Folder> {
  let cwd = req.workDir;
  if (req.root !== undefined) cwd = await copyModuleTree(req.moduleDir, req.workDir, req.root);
  else await copyModule(req.moduleDir, cwd);
  if (req.sandbox) await prepareSandbox(req, terraformEnv(req.env));
  // Sandboxed, Terraform sees the local state at its fixed staged path (the init key stays put).
  const backend = sandboxedBackend(req.backend, req.sandbox !== undefined);
  await writePrivateJson(join(cwd, TERRAFORM_FILES.backendOverride), backendOverride(backend, env));
  if (req.backend.kind === 'local') await mkdir(dirname(req.backend.path), { recursive: true, mode: 0o700 });
  const committedLock = existsSync(join(cwd, LOCK_FILE));
  if (req.dataDir === undefined) return { cwd, key: '', committedLock };
  const generated = new Set<string>([
    TERRAFORM_FILES.tfvars,
    TERRAFORM_FILES.backendOverride,
    WORKDIR_MARKER,
  ]);
  const key = initKey({
    code: await treeDigest(req.workDir, (rel) => generated.has(basename(rel))),
    backend: backendOverride(backend, env),
    binary: await binaryIdentity(req.binary, env),
  });
  return { cwd, key, committedLock };
}

type Tf = (
  args: string[],
  opts?: { stdoutFile?: string; captureStdout?: boolean; logStdout?: boolean; okCodes?: number[] },
) => Promise<ProcessResult>;

/** Runs Terraform in `cwd`, logging the command; a failure or cancellation throws {@link StepFailed}. */
function terraformRunner(req: FolderRequest, env: NodeJS.ProcessEnv, cwd: string): Tf {
  return async (args, opts = {}) => {
    const { okCodes = [0], ...rest } = opts;
    req.log(`$ ${req.binary} ${args.join(' ')}\n`);
    const r = await runProcess({
      command: req.binary,
      args,
      cwd,
      spoolDir: req.workDir,
      env,
      log: req.log,
      signal: req.signal,
      killGraceMs: req.killGraceMs,
      ...(req.sandbox ? { sandbox: terraformProcessSandbox(req.sandbox, req, args[0] === 'init') } : {}),
      ...rest,
    });
    const what = `${req.binary} ${args[0]}`;
    if (r.cancelled) {
      const how =
        r.exitCode === null && r.exitSignal === 'SIGKILL' ? 'killed after the grace period' : 'stopped';
      throw new StepFailed({
        status: 'cancelled',
        error: errorWithTail(`cancelled during ${what}; Terraform ${how}`, r.stderrTail),
      });
    }
    if (r.spawnError)
      throw new StepFailed({ status: 'failed', error: startFailure(req.binary, r.spawnError) });
    if (r.exitCode === null || !okCodes.includes(r.exitCode)) {
      const exit = r.exitCode === null ? `signal ${r.exitSignal}` : `exit ${r.exitCode}`;
      let reason = terraformReason(r.stderrHead) ?? terraformReason(r.stderrTail);
      if (reason && /state lock/i.test(reason)) reason += `; lock-timeout was ${req.lockTimeout}`;
      const head = `${what} failed (${exit})${reason ? `: ${reason}` : ''}`;
      throw new StepFailed({ status: 'failed', error: errorWithTail(head, r.stderrTail) }, [
        ...r.stderrHead,
        ...r.stderrTail,
      ]);
    }
    return r;
  };
}

/** `init` into a data folder emptied first, then stamped; one at a time per plugin cache. */
async function initFolder(req: FolderRequest, folder: Folder, tf: Tf): Promise<void> {
  const dataDir = req.dataDir;
  const run = async (): Promise<void> => {
    if (dataDir !== undefined) await resetDataDir(dataDir);
    await tf(['init', '-input=false', '-no-color']);
    if (dataDir === undefined) return;
    // A module that commits no lock file keeps the one init wrote, for the runs that skip init.
    if (!folder.committedLock && existsSync(join(folder.cwd, LOCK_FILE)))
      await copyFile(join(folder.cwd, LOCK_FILE), join(dataDir, KEPT_LOCK_FILE));
    await stampDataDir(dataDir, folder.key);
  };
  if (req.pluginCacheDir !== undefined) await withCacheLock(req.pluginCacheDir, run, req.signal);
  else await run();
  folder.initialised = 'fresh';
}

/**
 * `init`, unless the module's data folder was initialised from exactly this code, backend and
 * binary and is as that init left it. True when the kept folder is used.
 */
async function ensureInit(req: FolderRequest, folder: Folder, tf: Tf): Promise<boolean> {
  const dataDir = req.dataDir;
  if (dataDir !== undefined && (await initIsCurrent(dataDir, folder.key))) {
    if (!folder.committedLock && existsSync(join(dataDir, KEPT_LOCK_FILE)))
      await copyFile(join(dataDir, KEPT_LOCK_FILE), join(folder.cwd, LOCK_FILE));
    req.log('init skipped: this module, its lock file, backend and Terraform are as at the last init\n');
    folder.initialised = 'kept';
    return true;
  }
  await initFolder(req, folder, tf);
  return false;
}

/**
 * Runs Terraform or OpenTofu steps: a fresh copy of the catalog folder with generated
 * inputs and backend override; `init` (only when the kept data folder is not current) →
 * `plan -out -detailed-exitcode` → with changes, `show -json` → `apply` the saved plan. Outputs
 * come from the state the step wrote (local file, or the S3 object read with the step's own
 * credentials; `output -json` only when it has none). Machine output (`show -json`,
 * `output -json`, state) holds sensitive values in plaintext and never reaches the log.
 */
export class TerraformEngine implements Engine {
  /**
   * Copies a module and runs `init` if it needs it, ahead of its step (while earlier modules plan
   * and apply); its step takes the folder and the log over through `warmup`. Never throws.
   */
  async warm(req: FolderRequest): Promise<Warmed> {
    const log: string[] = [];
    const r: FolderRequest = { ...req, log: (chunk) => void log.push(chunk) };
    try {
      const env = stepEnv(r);
      const folder = await prepareFolder(r, env);
      await ensureInit(r, folder, terraformRunner(r, env, folder.cwd));
      return { ...folder, log };
    } catch (e) {
      return { failed: e instanceof StepFailed ? (e.result.error ?? e.message) : errorText(e) };
    }
  }

  /** Runs one step; never throws for tool failures. */
  async run(req: EngineStepRequest): Promise<EngineStepResult> {
    assertAbsolute('moduleDir', req.moduleDir);
    assertAbsolute('workDir', req.workDir);
    if (req.backend.kind === 'local') assertAbsolute('backend.path', req.backend.path);
    const done = stepFinisher(Date.now());
    if (req.signal?.aborted) return done({ status: 'cancelled', error: 'cancelled before it started' });

    const env = stepEnv(req);
    // A step whose folder was made (and initialised) ahead of it takes it over, log included;
    // a warm-up that failed is simply done again here, so its failure is the step's own.
    const warm = req.warmup ? await req.warmup.catch(() => undefined) : undefined;
    if (req.signal?.aborted) return done({ status: 'cancelled', error: 'cancelled before it started' });
    const warmed = warm && !('failed' in warm) ? warm : undefined;
    if (warmed) for (const chunk of warmed.log) req.log(chunk);
    let folder: Folder;
    try {
      folder = warmed ?? (await prepareFolder(req, env));
      await writePrivateJson(join(folder.cwd, TERRAFORM_FILES.tfvars), req.inputs);
    } catch (e) {
      return done({
        status: 'failed',
        error: `could not prepare the work folder ${req.workDir}: ${errorText(e)}`,
      });
    }
    return new TerraformStep(req, env, folder, done).run();
  }
}

/** One step in its prepared folder: init if needed, plan, then show and apply what it changes. */
class TerraformStep {
  private readonly tf: Tf;
  private readonly planJsonPath: string;
  private readonly lock: string;
  private hasChanges = false;
  private planSha256: string | undefined;
  private parsed: unknown;

  constructor(
    private readonly req: EngineStepRequest,
    private readonly env: NodeJS.ProcessEnv,
    private readonly folder: Folder,
    private readonly done: (r: StepEnd) => EngineStepResult,
  ) {
    this.tf = terraformRunner(req, this.env, folder.cwd);
    this.planJsonPath = join(folder.cwd, TERRAFORM_FILES.planJson);
    this.lock = `-lock-timeout=${goDuration(req.lockTimeout)}`;
  }

  async run(): Promise<EngineStepResult> {
    try {
      await this.plan();
      if (!this.hasChanges) return await this.noChanges();
      await this.show();
      if (this.req.mode === 'plan') return this.planned();
      return await this.apply();
    } catch (e) {
      return this.failure(e);
    }
  }

  /** `init` unless the kept data folder is current, then `plan -out -detailed-exitcode`. */
  private async plan(): Promise<void> {
    const { req, folder, tf } = this;
    let reused = folder.initialised === 'kept';
    if (!folder.initialised) reused = await ensureInit(req, folder, tf);
    const args = [
      'plan',
      '-input=false',
      '-no-color',
      this.lock,
      '-detailed-exitcode',
      `-out=${TERRAFORM_FILES.plan}`,
    ];
    let plan: ProcessResult;
    try {
      plan = await tf(args, { okCodes: [0, 2] });
    } catch (e) {
      // A reused data folder Terraform does not accept after all: rebuild it once.
      if (!(reused && e instanceof StepFailed && e.result.status === 'failed' && needsInit(e.stderr)))
        throw e;
      req.log('the kept Terraform data folder needs init after all: rebuilding it\n');
      await initFolder(req, folder, tf);
      plan = await tf(args, { okCodes: [0, 2] });
    }
    this.hasChanges = plan.exitCode === 2;
    this.planSha256 = await sha256File(join(folder.cwd, TERRAFORM_FILES.plan));
  }

  /**
   * The outputs a step leaves: from the state Terraform just wrote (local backend: the file, as
   * `output -json` reads it; S3: the object, with the step's credentials), else `output -json`.
   */
  private async outputs(): Promise<Outputs> {
    const { req, env } = this;
    const module = basename(req.workDir);
    if (req.backend.kind === 'local') return (await writtenStateOutputs(module, req.backend, env)) ?? {};
    try {
      const read = await writtenStateOutputs(module, req.backend, env, req.credentials);
      if (read) return read;
    } catch (e) {
      req.log(`outputs: ${errorText(e)}; asking Terraform instead\n`);
    }
    const out = await this.tf(['output', '-json', '-no-color'], { captureStdout: true, logStdout: false });
    return parseOutputJson(out.stdout);
  }

  /** Nothing to do (-detailed-exitcode 0): no `show -json`, nothing to apply; the state's outputs, unchanged. */
  private async noChanges(): Promise<EngineStepResult> {
    this.parsed = NO_CHANGES_PLAN;
    this.req.onPlan?.(this.parsed);
    return this.done({
      status: 'no-op',
      hasChanges: false,
      plan: this.parsed,
      planSha256: this.planSha256,
      outputs: await this.outputs(),
      ...(this.req.mode === 'plan' ? { unknownOutputs: [] } : {}),
    });
  }

  /** `show -json` into the plan file (never the log), parsed and handed to `onPlan` before any apply. */
  private async show(): Promise<void> {
    await this.tf(['show', '-json', '-no-color', TERRAFORM_FILES.plan], {
      stdoutFile: this.planJsonPath,
      logStdout: false,
    });
    this.parsed = parsePlanJson(await readFile(this.planJsonPath, 'utf8'), 'terraform show -json');
    this.req.onPlan?.(this.parsed);
  }

  /** What a plan with changes leaves: its document and the outputs it already knows. */
  private planned(): EngineStepResult {
    const { outputs, unknown } = plannedOutputs(this.parsed);
    return this.done({ status: 'succeeded', ...this.planFields(), outputs, unknownOutputs: unknown });
  }

  /** The saved plan applied, unless `beforeApply` refuses it; then the outputs of the new state. */
  private async apply(): Promise<EngineStepResult> {
    const { planJsonPath, planSha256 } = this;
    const refused = await this.req.beforeApply?.({ planJsonPath, planSha256 });
    if (refused !== undefined) return this.done({ status: 'failed', ...this.planFields(), error: refused });
    await this.tf(['apply', '-input=false', '-no-color', '-auto-approve', this.lock, TERRAFORM_FILES.plan]);
    return this.done({ status: 'succeeded', ...this.planFields(), outputs: await this.outputs() });
  }

  private planFields(): Pick<EngineStepResult, 'hasChanges' | 'planJsonPath' | 'plan' | 'planSha256'> {
    return {
      hasChanges: this.hasChanges,
      planJsonPath: this.planJsonPath,
      plan: this.parsed,
      planSha256: this.planSha256,
    };
  }

  /** A Terraform failure or cancellation, with what the step got to; anything else names the folder. */
  private failure(e: unknown): EngineStepResult {
    const { hasChanges, planSha256, planJsonPath, parsed } = this;
    if (!(e instanceof StepFailed)) {
      // fs or JSON trouble after Terraform succeeded: still the step's failure, with the cause.
      return this.done({
        status: 'failed',
        hasChanges,
        planSha256,
        error: `terraform step failed in ${this.folder.cwd}: ${errorText(e)}`,
      });
    }
    return this.done({
      ...e.result,
      hasChanges,
      planSha256,
      ...(planSha256 && existsSync(planJsonPath) ? { planJsonPath } : {}),
      ...(parsed !== undefined ? { plan: parsed } : {}),
    });
  }
}
