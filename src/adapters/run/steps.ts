import { isAbsolute, join, resolve } from 'node:path';
import type { Workspace } from '../../core/config/load.js';
import { isSensitiveInput, type GraphNode, type SiteGraph } from '../../core/graph/build.js';
import { summarizePlan } from '../../core/plan/summary.js';
import { missingOutputs } from '../../core/plan/outputs.js';
import { planDigest } from '../../core/plan/digest.js';
import { commandPlan, reviewedModule } from '../../core/binding.js';
import { formatProblem } from '../../core/errors.js';
import type { Manifest } from '../../core/config/model.js';
import { sensitivePlanValues } from '../../core/plan/sensitive.js';
import type { Redactor } from '../../core/redact.js';
import type { RunPorts, StepReport } from '../../core/run/runner.js';
import { engineFor, TerraformEngine, type Warmed } from '../engines/index.js';
import type { GroupedLog } from './group-log.js';
import { serveStepCredentials, stepSession, type SessionSettings, type StepCredentials } from './sessions.js';
import { backendFor, readStateOutputs } from './state.js';
import { toolDir } from '../tool-dir.js';

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
    const warmed = chain.then(() =>
      terraform.warm({ ...folder, env: baseStepEnv(settings), log: () => undefined, signal: stop.signal }),
    );
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
  const site = graph.site.name;
  const env = graph.environment.name;
  const terraform = new TerraformEngine();
  const { warmups, dispose } = warmAhead(terraform, graph, settings);
  return {
    dispose,
    async stateOutputs(node) {
      const backend = backendFor(settings.root, graph, node);
      const c = settings.credentials;
      const session = c && (await stepSession(c, graph, node, backend, 'plan'));
      return readStateOutputs(node.name, backend, settings.env ?? {}, session?.credentials);
    },
    async step({ node, mode, inputs, sensitiveInputs, assumed, signal }): Promise<StepReport> {
      const manifest = node.manifest;
      if (!manifest)
        return {
          status: 'failed',
          counts: ZERO,
          outputs: {},
          unknownOutputs: [],
          error: `module type ${node.type} has no manifest`,
        };
      // Before the engine starts, so its very first line is already redacted.
      for (const [k, v] of Object.entries(inputs))
        if (sensitiveInputs.includes(k) || isSensitiveInput(node, k)) settings.redactor.add(v);
      const log = settings.log.open(`${node.name} (${node.type}) — ${mode} ${site}/${env}`);
      let outputsProblem: string | undefined;
      let planned: unknown;
      const secretInputs = Object.keys(inputs).filter(
        (k) => sensitiveInputs.includes(k) || isSensitiveInput(node, k),
      );
      // What binding reads as this step's plan: Terraform's, or a command module's inputs and changes.
      const bindable = (changes: unknown): unknown =>
        planned ?? commandPlan(node.name, inputs, secretInputs, changes);
      const backend = backendFor(settings.root, graph, node);
      let served: StepCredentials | undefined;
      try {
        // The step sees only its own session: no shared credentials or config file, no instance metadata.
        const stepEnv = baseStepEnv(settings);
        if (settings.credentials) {
          try {
            served = await serveStepCredentials(settings.credentials, graph, node, backend, mode);
          } catch (e) {
            const error = e instanceof Error ? e.message : String(e);
            log.write(`${error}\n`);
            return { status: 'failed', counts: ZERO, outputs: {}, unknownOutputs: [], error };
          }
          if (served) {
            const { session } = served;
            log.write(
              `AWS session ${session.sessionName} as ${session.assumedRoleArn ?? session.roleArn} (${session.hops.length} hop${session.hops.length === 1 ? '' : 's'})\n`,
            );
            Object.assign(stepEnv, served.env);
          }
        }
        const warmup = warmups.get(node.name);
        warmups.delete(node.name);
        const engine = manifest.engine === 'terraform' ? terraform : engineFor(manifest.engine);
        const r = await engine.run({
          mode,
          ...stepFolder(settings, graph, node, manifest),
          ...(warmup ? { warmup } : {}),
          inputs,
          env: stepEnv,
          log: (chunk) => log.write(chunk),
          onPlan: (plan) => {
            planned = plan;
            settings.redactor.add(sensitivePlanValues(plan));
            outputsProblem = manifestOutputsProblem(ws, manifest, plan);
          },
          // Refused before anything is applied: downstream modules would wait for what never comes;
          // and a plan that is not the reviewed one is never applied.
          beforeApply: (ready) =>
            Promise.resolve(outputsProblem ?? settings.beforeApply?.(node.name, bindable(ready.changes))),
          signal,
        });
        if (outputsProblem && r.status !== 'failed' && r.status !== 'cancelled')
          return { status: 'failed', counts: ZERO, outputs: {}, unknownOutputs: [], error: outputsProblem };
        for (const [k, v] of Object.entries(r.outputs)) {
          if (v.sensitive || manifest.sensitiveOutputs.includes(k)) settings.redactor.add(v.value);
        }
        let summary;
        let counts = { ...ZERO, ...(r.changes ?? {}) };
        if (r.plan !== undefined && r.status !== 'cancelled') {
          try {
            summary = summarizePlan(r.plan);
            counts = {
              add: summary.add,
              change: summary.change,
              destroy: summary.destroy,
              import: summary.import,
              forget: summary.forget,
              replace: summary.replace,
            };
          } catch (e) {
            if (r.status !== 'failed')
              return {
                status: 'failed',
                counts,
                outputs: r.outputs,
                unknownOutputs: [],
                error: `could not read the plan of ${node.name}: ${e instanceof Error ? e.message : String(e)}`,
              };
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
            ? { review: reviewedModule(bindable(r.changes), { mocked: assumed.length > 0 }) }
            : {}),
          error: r.error,
        };
      } finally {
        await served?.close();
        log.close();
      }
    },
  };
}
