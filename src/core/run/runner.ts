import type { ReviewedModule } from '../binding.js';
import type { Workspace } from '../config/load.js';
import { formatProblem, type Problem } from '../errors.js';
import type { GraphNode, SiteGraph } from '../graph/build.js';
import { bindInputs, type OutputValue } from '../inputs.js';
import { schedule, type StepOutcome } from '../graph/scheduler.js';
import type { ModuleStatus, StepStatus } from '../status.js';
import { collectReferences } from '../placeholders/resolve.js';
import type { PlanCounts, PlanSummary } from '../plan/summary.js';

/** plan: plan every module; apply: plan each module again right before applying it. */
export type RunMode = 'plan' | 'apply';

export type { OutputValue } from '../inputs.js';

/** What the edge asks an engine to do for one module. */
export interface StepRequest {
  node: GraphNode;
  mode: RunMode;
  inputs: Record<string, unknown>;
  /**
   * Inputs whose values are secret: declared `sensitive: true` in the manifest, or computed from
   * an upstream output that is sensitive (Terraform's flag or the manifest's `sensitive_outputs`).
   */
  sensitiveInputs: string[];
  /**
   * Plan: upstream outputs the inputs took from mock_outputs or from the upstream's state — values
   * apply may not see, so a review compares this module on its shape.
   */
  assumed: string[];
  signal: AbortSignal;
}

/** What the edge reports back for one module step. */
export interface StepReport {
  status: StepStatus;
  counts: PlanCounts;
  summary?: PlanSummary;
  /** Known outputs: at plan time those the plan knows, after apply all of them. */
  outputs: Record<string, OutputValue>;
  /** Plan: outputs known only after apply. */
  unknownOutputs: string[];
  planSha256?: string;
  /** The normalized plan digest (SPEC §8.3), `sha256:<hex>`. */
  planDigest?: string;
  /** Plan: what a review of this module records (approval binding). */
  review?: ReviewedModule;
  error?: string;
}

/** The edges the runner drives: the engine step, and outputs already in state. */
export interface RunPorts {
  step(req: StepRequest): Promise<StepReport>;
  /** Outputs in a module's current state (before this run), or undefined when it has none. */
  stateOutputs(node: GraphNode): Promise<Record<string, OutputValue> | undefined>;
  /** Progress: a module started or finished. Exceptions here are ignored. */
  onEvent?(
    e: { type: 'start'; node: GraphNode } | { type: 'finish'; node: GraphNode; module: ModuleResult },
  ): void;
}

/** One module's outcome. */
export interface ModuleResult extends PlanCounts {
  name: string;
  type: string;
  weight: number;
  status: ModuleStatus;
  durationMs: number;
  /** Upstream outputs answered with mock_outputs (plan only). */
  mocked: string[];
  /** Upstream outputs not known, so the module was not planned. */
  blockedOn: string[];
  /** Why it failed, halted, was skipped or cancelled. */
  reason?: string;
  /** Config problems found at run time (an upstream output of the wrong type), at their file and line. */
  problems: Problem[];
  summary?: PlanSummary;
  outputs: Record<string, OutputValue>;
  planSha256?: string;
  /** The normalized plan digest (SPEC §8.3), `sha256:<hex>`. */
  planDigest?: string;
  /** Plan: what a review of this module records (approval binding). */
  review?: ReviewedModule;
}

/** The one typed result that reports, evidence and the action outputs read. */
export interface RunResult {
  site: string;
  environment: string;
  command: RunMode;
  status: StepStatus;
  modules: ModuleResult[];
  startedAt: number;
  finishedAt: number;
}

/** Options of one run. */
export interface RunOptions {
  mode: RunMode;
  maxParallel: number;
  signal?: AbortSignal;
  now?: () => number;
}

const ZERO: PlanCounts = { add: 0, change: 0, destroy: 0, import: 0, forget: 0, replace: 0 };

/**
 * Runs a site × environment's module graph: waves (or dependencies) from the scheduler, inputs
 * resolved from upstream outputs as they become known, halting per the site's settings.
 * At plan time an upstream output comes from its plan, then its state, then its mock_outputs
 * (marked mocked), else the module is blocked. Apply never uses a mock.
 */
export async function runGraph(
  ws: Workspace,
  graph: SiteGraph,
  options: RunOptions,
  ports: RunPorts,
): Promise<RunResult> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const reports = new Map<string, StepReport>();
  const extras = new Map<
    string,
    { mocked: string[]; blockedOn: string[]; reason?: string; problems?: Problem[] }
  >();
  const stateCache = new Map<string, Promise<Record<string, OutputValue> | undefined>>();
  const stateOf = (n: GraphNode) => {
    let p = stateCache.get(n.name);
    if (!p) {
      p = ports.stateOutputs(n);
      // Read once for every reader; a failure reaches each module that needs it.
      p.catch(() => undefined);
      stateCache.set(n.name, p);
    }
    return p;
  };

  /** An upstream output as this run knows it: from a step that did not fail. */
  const fromRun = (module: string, output: string): OutputValue | undefined => {
    const report = reports.get(module);
    return report && report.status !== 'failed' && report.status !== 'cancelled'
      ? report.outputs[output]
      : undefined;
  };

  const step = async (id: string, signal: AbortSignal): Promise<StepOutcome> => {
    const node = byName.get(id) as GraphNode;
    // At plan time, read the state of the upstreams whose outputs this run does not know yet.
    const states = new Map<string, Record<string, OutputValue> | undefined>();
    if (options.mode === 'plan') {
      const needed = new Set<string>();
      for (const entry of node.module.inputs.values())
        for (const r of collectReferences(entry.value))
          if (r.ref.kind === 'output' && !fromRun(r.ref.module, r.ref.output)) needed.add(r.ref.module);
      for (const up of needed) {
        const u = byName.get(up);
        if (!u) continue;
        try {
          states.set(up, await stateOf(u));
        } catch (e) {
          extras.set(id, { mocked: [], blockedOn: [], reason: e instanceof Error ? e.message : String(e) });
          return 'failed';
        }
      }
    }
    const bound = bindInputs(ws, graph, node, {
      fromRun,
      fromState: options.mode === 'plan' ? (m, o) => states.get(m)?.[o] : undefined,
      mocks: options.mode === 'plan',
    });
    const errors = bound.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0) {
      // Found only now (an upstream output of the wrong type): the module fails before its engine
      // runs, with the message a config error has, and what depends on it halts.
      extras.set(id, {
        mocked: bound.mocked,
        blockedOn: [],
        reason: errors.map((p) => formatProblem(p)).join('\n'),
        problems: errors,
      });
      return 'failed';
    }
    if (bound.pending.length > 0) {
      if (options.mode === 'plan') {
        extras.set(id, {
          mocked: bound.mocked,
          blockedOn: bound.pending,
          reason: `waiting for ${bound.pending.map((p) => `#{${p}}`).join(', ')}`,
        });
        return 'blocked';
      }
      extras.set(id, {
        mocked: [],
        blockedOn: bound.pending,
        reason: `upstream output${bound.pending.length > 1 ? 's' : ''} ${bound.pending.map((p) => `#{${p}}`).join(', ')} not available after apply`,
      });
      return 'failed';
    }
    extras.set(id, { mocked: bound.mocked, blockedOn: [] });
    const report = await ports.step({
      node,
      mode: options.mode,
      inputs: bound.inputs,
      sensitiveInputs: bound.sensitive,
      assumed: [...bound.mocked, ...bound.fromState],
      signal,
    });
    reports.set(id, report);
    if (report.error) extras.set(id, { mocked: bound.mocked, blockedOn: [], reason: report.error });
    return report.status;
  };

  const runOne = async (id: string, signal: AbortSignal): Promise<StepOutcome> => {
    const node = byName.get(id) as GraphNode;
    emit({ type: 'start', node });
    const began = now();
    const outcome = await step(id, signal);
    emit({ type: 'finish', node, module: moduleResult(node, outcome, now() - began) });
    return outcome;
  };
  const emit: NonNullable<RunPorts['onEvent']> = (e) => {
    try {
      ports.onEvent?.(e);
    } catch {
      // a progress printer must not stop a deployment
    }
  };
  const moduleResult = (
    node: GraphNode,
    status: ModuleStatus,
    durationMs: number,
    reason?: string,
  ): ModuleResult => {
    const report = reports.get(node.name);
    const extra = extras.get(node.name);
    return {
      name: node.name,
      type: node.type,
      weight: node.weight,
      status,
      ...(report?.counts ?? ZERO),
      durationMs,
      mocked: extra?.mocked ?? [],
      blockedOn: extra?.blockedOn ?? [],
      reason: extra?.reason ?? reason,
      problems: extra?.problems ?? [],
      summary: report?.summary,
      outputs: report?.outputs ?? {},
      planSha256: report?.planSha256,
      planDigest: report?.planDigest,
      review: report?.review,
    };
  };

  const results = await schedule(
    graph.nodes.map((n) => ({ id: n.name, weight: n.weight, position: n.position, dependsOn: n.dependsOn })),
    runOne,
    {
      maxParallel: options.maxParallel,
      haltOnFailure: graph.site.haltOnFailure,
      ordering: graph.site.ordering,
      signal: options.signal,
      now,
    },
  );

  const modules = results.map((r) =>
    moduleResult(byName.get(r.id) as GraphNode, r.status, r.durationMs ?? 0, r.reason),
  );
  const statuses = new Set(modules.map((m) => m.status));
  const status: RunResult['status'] = statuses.has('failed')
    ? 'failed'
    : statuses.has('cancelled')
      ? 'cancelled'
      : modules.every((m) => m.status === 'no-op')
        ? 'no-op'
        : 'succeeded';
  return {
    site: graph.site.name,
    environment: graph.environment.name,
    command: options.mode,
    status,
    modules,
    startedAt,
    finishedAt: now(),
  };
}

/** Non-sensitive outputs per module (sensitive ones, by Terraform's flag or the manifest, and mock-derived ones are left out). */
export function publicOutputs(graph: SiteGraph, result: RunResult): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of result.modules) {
    // Values computed from mock_outputs are not real: a plan reports no outputs for such modules.
    if (m.mocked.length > 0) continue;
    const hidden = new Set(graph.nodes.find((n) => n.name === m.name)?.manifest?.sensitiveOutputs ?? []);
    const entries = Object.entries(m.outputs).filter(([k, v]) => !v.sensitive && !hidden.has(k));
    if (entries.length) out[m.name] = Object.fromEntries(entries.map(([k, v]) => [k, v.value]));
  }
  return out;
}

/** The `plan --json` / `apply --json` document of SPEC §9. */
export interface RunDocument {
  site: string;
  environment: string;
  command: RunMode;
  status: RunResult['status'];
  /** Path of the run's evidence record (null when none was written). */
  evidence: string | null;
  modules: (PlanCounts & {
    name: string;
    type: string;
    weight: number;
    status: ModuleStatus;
    duration_ms: number;
    mocked: string[];
    blocked_on: string[];
    reason?: string;
  })[];
  outputs: Record<string, Record<string, unknown>>;
}

/** The `plan --json` / `apply --json` document of SPEC §9. */
export function runDocument(graph: SiteGraph, result: RunResult, evidence?: string): RunDocument {
  return {
    site: result.site,
    environment: result.environment,
    command: result.command,
    status: result.status,
    evidence: evidence ?? null,
    modules: result.modules.map((m) => ({
      name: m.name,
      type: m.type,
      weight: m.weight,
      status: m.status,
      add: m.add,
      change: m.change,
      destroy: m.destroy,
      import: m.import,
      forget: m.forget,
      replace: m.replace,
      duration_ms: m.durationMs,
      mocked: m.mocked,
      blocked_on: m.blockedOn,
      ...(m.reason && ['failed', 'halted', 'skipped', 'cancelled', 'blocked'].includes(m.status)
        ? { reason: m.reason }
        : {}),
    })),
    outputs: publicOutputs(graph, result),
  };
}
