import { isAbsolute, join, resolve } from 'node:path';
import type { Workspace } from '../../core/config/load.js';
import { isSensitiveInput, type GraphNode, type SiteGraph } from '../../core/graph/build.js';
import { summarizePlan, type PlanCounts, type PlanSummary } from '../../core/plan/summary.js';
import { missingOutputs } from '../../core/plan/outputs.js';
import { planDigest } from '../../core/plan/digest.js';
import { commandPlan, reviewedModule } from '../../core/binding.js';
import { normalizedPlan } from '../../core/report/handoff.js';
import { formatProblem } from '../../core/errors.js';
import type { Manifest } from '../../core/config/model.js';
import { sensitivePlanValues } from '../../core/plan/sensitive.js';
import type { Redactor } from '../../core/redact.js';
import type { OutputValue, RunPorts, StepReport, StepRequest } from '../../core/run/runner.js';
import { engineFor, TerraformEngine, type Warmed } from '../engines/index.js';
import type { EngineStepRequest, EngineStepResult } from '../engines/types.js';
import type { GroupedLog, ModuleLog } from './group-log.js';
import { serveStepCredentials, type SessionSettings, type StepCredentials } from './sessions.js';
import { backendFor, moduleStateOutputs } from './state.js';
import { staticKeys } from '../aws/s3.js';
import { toolDir } from '../tool-dir.js';
import { releaseUid, takeUid, type IsolationProbe } from '../engines/sandbox.js';
import { binaryUnreachable } from '../engines/terraform-sandbox.js';
import type { StepSandbox } from '../engines/types.js';

/** How module steps run on this machine. */
export interface StepSettings {
  /** Absolute repository root. */
  root: string;
  /** Absolute folder of this run; each step works in `<workRoot>/<module>`. */
  workRoot: string;
  terraformBinary: string;
  lockTimeout: string;
  log: GroupedLog;
  /** Every secret a step meets (sensitive inputs, plan values, outputs) is registered here first. */
  redactor: Redactor;
  /** Extra environment for every step's child (e.g. AWS endpoints); credentials come per step. */
  env?: Record<string, string>;
  /** Per-step AWS sessions; absent means steps run with no AWS credentials at all. */
  credentials?: SessionSettings;
  /**
   * Apply: called with a module's fresh plan (a command module's as {@link commandPlan} makes it)
   * right before it would be applied; a reason refuses it, unapplied (approval binding).
   */
  beforeApply?: (module: string, plan: unknown) => string | undefined;
  /** The `binding-key` secret: a plan's review binds sensitive values by HMAC under it. */
  bindingKey?: string;
  /** Whether steps run in the sandbox (engines/sandbox.ts); absent: `isolation: none`. */
  isolation?: IsolationProbe;
}

/**
 * Why a step of this engine cannot run sandboxed even where the sandbox is available: a Terraform
 * binary the step's uid cannot execute (under a folder only root may enter).
 */
export function unsandboxedEngine(engine: string, terraformBinary: string): string | undefined {
  return engine === 'terraform' ? binaryUnreachable(terraformBinary) : undefined;
}

/** A step's sandbox, or why it has none: the step's log line says which. */
function stepSandbox(
  settings: StepSettings,
  manifest: Manifest,
): { sandbox?: StepSandbox; line: string; release(): void } {
  const probe = settings.isolation;
  const why =
    probe?.isolation !== 'namespace'
      ? (probe?.reason ?? 'not set up')
      : unsandboxedEngine(manifest.engine, settings.terraformBinary);
  if (probe?.isolation !== 'namespace' || why !== undefined)
    return { line: `isolation: none (${why})\n`, release: () => undefined };
  const uid = takeUid();
  return {
    sandbox: { uid, prefix: probe.prefix },
    line: `isolation: namespace (uid ${uid})\n`,
    release: () => releaseUid(uid),
  };
}

/**
 * The provider plugin cache every Terraform step shares: the user's `TF_PLUGIN_CACHE_DIR` when it
 * names a folder, else `<root>/.site-deploy/plugin-cache`.
 */
export function pluginCache(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const own = env.TF_PLUGIN_CACHE_DIR;
  return own && isAbsolute(own) ? own : join(toolDir(root), 'plugin-cache');
}

const ZERO = { add: 0, change: 0, destroy: 0, import: 0, forget: 0, replace: 0 };

/** `file:line:col: error: …` for outputs a manifest declares that the module's Terraform code lacks. */
function manifestOutputsProblem(ws: Workspace, manifest: Manifest, plan: unknown): string | undefined {
  const missing = missingOutputs(manifest.outputs, plan);
  if (missing.length === 0) return undefined;
  const file = ws.files.get(manifest.file);
  return missing
    .map((o) => {
      const at = file?.locate(['outputs', manifest.outputs!.indexOf(o)]) ?? {
        file: manifest.file,
        line: 1,
        column: 1,
      };
      return formatProblem({
        ...at,
        severity: 'error',
        message: `output "${o}" is declared in ${manifest.file}, but the module's Terraform code has no output "${o}": add it to the code or remove it from outputs:`,
      });
    })
    .join('\n');
}

/** A command module's declared outputs and the `file:line` of its manifest's `outputs:`. */
function declaredOutputs(ws: Workspace, manifest: Manifest): Pick<EngineStepRequest, 'declaredOutputs'> {
  if (manifest.engine !== 'command' || !manifest.outputs) return {};
  const line = ws.files.get(manifest.file)?.locate(['outputs'], true).line ?? 1;
  return { declaredOutputs: { names: manifest.outputs, at: `${manifest.file}:${line}` } };
}

/** Engine-backed ports for the runner: one work folder per step, grouped logs, plan summaries. */
/** The step's environment before any session: no shared credentials or config file, no instance metadata. */
function baseStepEnv(settings: StepSettings): Record<string, string> {
  return {
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(settings.env ?? {}),
  };
}

/** {@link enginePorts}, and what to do before the run's work folders are removed. */
export type EnginePorts = RunPorts & {
  /** Stops the Terraform warm-ups still running and waits for them. */
  dispose(): Promise<void>;
};

/** Where a module step's Terraform works: its copy, data folder, plugin cache, state and binary. */
function stepFolder(settings: StepSettings, graph: SiteGraph, node: GraphNode, manifest: Manifest) {
  return {
    binary: settings.terraformBinary,
    moduleDir: resolve(settings.root, manifest.dir),
    root: settings.root,
    workDir: join(settings.workRoot, node.name),
    dataDir: join(toolDir(settings.root), 'terraform', graph.site.name, graph.environment.name, node.name),
    pluginCacheDir: pluginCache(settings.root),
    backend: backendFor(settings.root, graph, node),
    lockTimeout: settings.lockTimeout,
  };
}

/**
 * Terraform modules that do not start at once get their folder copied and `init` run ahead, one
 * after another in the order they will run, while earlier modules plan and apply. Only with local
 * state: an S3 backend's init needs the step's own session.
 */
function warmAhead(
  terraform: TerraformEngine,
  graph: SiteGraph,
  settings: StepSettings,
): { warmups: Map<string, Promise<Warmed>>; dispose(): Promise<void> } {
  const stop = new AbortController();
  const warmups = new Map<string, Promise<Warmed>>();
  const first = Math.min(...graph.nodes.map((n) => n.weight));
  let chain: Promise<unknown> = Promise.resolve();
  for (const node of [...graph.nodes].sort((a, b) => a.weight - b.weight)) {
    const manifest = node.manifest;
    if (manifest?.engine !== 'terraform' || node.weight === first) continue;
    const folder = stepFolder(settings, graph, node, manifest);
    if (folder.backend.kind !== 'local') continue;
    const warmed = chain.then(async () => {
      // Sandboxed, the warm-up's init runs as a uid of its own too (the step lends the folder anew).
      const probe = settings.isolation;
      const sandbox = probe?.isolation === 'namespace' ? { uid: takeUid(), prefix: probe.prefix } : undefined;
      try {
        const env = baseStepEnv(settings);
        return await terraform.warm({
          ...folder,
          ...(sandbox ? { sandbox } : {}),
          env,
          log: () => undefined,
          signal: stop.signal,
        });
      } finally {
        if (sandbox) releaseUid(sandbox.uid);
      }
    });
    chain = warmed;
    warmups.set(node.name, warmed);
  }
  return {
    warmups,
    async dispose() {
      stop.abort();
      await chain;
    },
  };
}

export function enginePorts(ws: Workspace, graph: SiteGraph, settings: StepSettings): EnginePorts {
  const steps = new EngineSteps(ws, graph, settings);
  return {
    dispose: () => steps.dispose(),
    stateOutputs: (node) => steps.stateOutputs(node),
    step: (request) => steps.step(request),
  };
}

/** A step's report when it failed before or after its engine ran. */
function failedStep(error: string, counts = ZERO, outputs: StepReport['outputs'] = {}): StepReport {
  return { status: 'failed', counts, outputs, unknownOutputs: [], error };
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Plan counts from a Terraform plan's summary. */
function countsOf(summary: PlanSummary): PlanCounts {
  const { add, change, destroy, import: imported, forget, replace } = summary;
  return { add, change, destroy, import: imported, forget, replace };
}

/** What one step learns from its engine's hooks while it runs: the plan, and why it may not be applied. */
interface StepWatch {
  planned?: unknown;
  outputsProblem?: string;
}

/** What one step's engine run is given besides the request: environment, session, log, sandbox. */
interface EngineSettings {
  stepEnv: Record<string, string>;
  served: StepCredentials | undefined;
  log: ModuleLog;
  sandbox?: StepSandbox;
}

/** The module steps of one graph: engines, warm-ups, the step's session and what its report says. */
class EngineSteps {
  private readonly terraform = new TerraformEngine();
  private readonly warmups: Map<string, Promise<Warmed>>;
  readonly dispose: () => Promise<void>;

  constructor(
    private readonly ws: Workspace,
    private readonly graph: SiteGraph,
    private readonly settings: StepSettings,
  ) {
    const warm = warmAhead(this.terraform, graph, settings);
    this.warmups = warm.warmups;
    this.dispose = warm.dispose;
  }

  stateOutputs(node: GraphNode): Promise<Record<string, OutputValue> | undefined> {
    const { root, env, credentials } = this.settings;
    return moduleStateOutputs(root, this.graph, node, env ?? {}, credentials);
  }

  async step(request: StepRequest): Promise<StepReport> {
    const { node, mode, inputs } = request;
    const manifest = node.manifest;
    if (!manifest) return failedStep(`module type ${node.type} has no manifest`);
    const secretInputs = Object.keys(inputs).filter(
      (k) => request.sensitiveInputs.includes(k) || isSensitiveInput(node, k),
    );
    // Before the engine starts, so its very first line is already redacted.
    for (const k of secretInputs) this.settings.redactor.add(inputs[k]);
    const { site, environment } = this.graph;
    const log = this.settings.log.open(
      `${node.name} (${node.type}) — ${mode} ${site.name}/${environment.name}`,
    );
    const watch: StepWatch = {};
    // What binding reads as this step's plan: Terraform's, or a command module's inputs and changes.
    const bindable = (changes: unknown): unknown =>
      watch.planned ?? commandPlan(node.name, inputs, secretInputs, changes);
    let served: StepCredentials | undefined;
    const sandbox = stepSandbox(this.settings, manifest);
    try {
      log.write(sandbox.line);
      const stepEnv = baseStepEnv(this.settings);
      try {
        served = await this.serveSession(node, mode, log, stepEnv);
      } catch (e) {
        log.write(`${errorMessage(e)}\n`);
        return failedStep(errorMessage(e));
      }
      const engineSettings = { stepEnv, served, log, sandbox: sandbox.sandbox };
      const r = await this.runEngine(request, manifest, engineSettings, watch, bindable);
      return this.report(request, manifest, r, log, watch, bindable);
    } finally {
      sandbox.release();
      await served?.close();
      log.close();
    }
  }

  /** The step sees only its own session: served on its loopback endpoint into `stepEnv`. */
  private async serveSession(
    node: GraphNode,
    mode: StepRequest['mode'],
    log: ModuleLog,
    stepEnv: Record<string, string>,
  ): Promise<StepCredentials | undefined> {
    if (!this.settings.credentials) return undefined;
    const backend = backendFor(this.settings.root, this.graph, node);
    const served = await serveStepCredentials(this.settings.credentials, this.graph, node, backend, mode);
    if (!served) return undefined;
    const { session } = served;
    const hops = session.hops.length;
    log.write(
      `AWS session ${session.sessionName} as ${session.assumedRoleArn ?? session.roleArn} (${hops} hop${hops === 1 ? '' : 's'})\n`,
    );
    Object.assign(stepEnv, served.env);
    return served;
  }

  private runEngine(
    request: StepRequest,
    manifest: Manifest,
    { stepEnv, served, log, sandbox }: EngineSettings,
    watch: StepWatch,
    bindable: (changes: unknown) => unknown,
  ): Promise<EngineStepResult> {
    const { node, mode, inputs, signal } = request;
    const warmup = this.warmups.get(node.name);
    this.warmups.delete(node.name);
    const engine = manifest.engine === 'terraform' ? this.terraform : engineFor(manifest.engine);
    return engine.run({
      mode,
      ...stepFolder(this.settings, this.graph, node, manifest),
      ...declaredOutputs(this.ws, manifest),
      ...(warmup ? { warmup } : {}),
      ...(sandbox ? { sandbox } : {}),
      inputs,
      env: stepEnv,
      // The step's own session (or the static keys its environment carries), for the state it writes.
      credentials: served?.credentials ?? staticKeys(stepEnv),
      log: (chunk) => log.write(chunk),
      onPlan: (plan) => {
        watch.planned = plan;
        this.settings.redactor.add(sensitivePlanValues(plan));
        watch.outputsProblem = manifestOutputsProblem(this.ws, manifest, plan);
      },
      // Refused before anything is applied: downstream modules would wait for what never comes;
      // and a plan that is not the reviewed one is never applied.
      beforeApply: (ready) =>
        Promise.resolve(
          watch.outputsProblem ?? this.settings.beforeApply?.(node.name, bindable(ready.changes)),
        ),
      signal,
    });
  }

  /** The runner's report of a step the engine ran: counts from the plan, outputs registered as secrets. */
  private report(
    request: StepRequest,
    manifest: Manifest,
    r: EngineStepResult,
    log: ModuleLog,
    watch: StepWatch,
    bindable: (changes: unknown) => unknown,
  ): StepReport {
    const { node, mode, assumed } = request;
    if (watch.outputsProblem && r.status !== 'failed' && r.status !== 'cancelled')
      return failedStep(watch.outputsProblem);
    for (const [k, v] of Object.entries(r.outputs))
      if (v.sensitive || manifest.sensitiveOutputs.includes(k)) this.settings.redactor.add(v.value);
    let summary: PlanSummary | undefined;
    let counts: PlanCounts = { ...ZERO, ...(r.changes ?? {}) };
    if (r.plan !== undefined && r.status !== 'cancelled') {
      try {
        summary = summarizePlan(r.plan);
        counts = countsOf(summary);
      } catch (e) {
        if (r.status !== 'failed')
          return failedStep(`could not read the plan of ${node.name}: ${errorMessage(e)}`, counts, r.outputs);
      }
    }
    if (r.error) log.write(`\n${r.error}\n`);
    return {
      status: r.status,
      counts,
      summary,
      outputs: r.outputs,
      unknownOutputs: r.unknownOutputs ?? [],
      planSha256: r.planSha256,
      ...(r.plan !== undefined ? { planDigest: planDigest(r.plan) } : {}),
      ...(mode === 'plan' && (r.status === 'succeeded' || r.status === 'no-op')
        ? {
            review: reviewedModule(bindable(r.changes), {
              mocked: assumed.length > 0,
              key: this.settings.bindingKey,
            }),
            reviewedPlan: normalizedPlan(bindable(r.changes)),
          }
        : {}),
      error: r.error,
    };
  }
}
