import type { ReviewedModule } from '../binding.js';
import type { Workspace } from '../config/load.js';
import { formatProblem, SiteDeployError, type Problem } from '../errors.js';
import type { GraphNode, SiteGraph } from '../graph/build.js';
import { upstreamReads, withOutputs, type BoundInputs, type OutputValue } from '../inputs.js';
import { schedule, type StepOutcome } from '../graph/scheduler.js';
import type { ModuleStatus, StepStatus } from '../status.js';
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
  /** Plan: the plan that review was made from, normalized (for the reporting job's handoff). */
  reviewedPlan?: unknown;
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
  /** Plan: the plan that review was made from, normalized (for the reporting job's handoff). */
  reviewedPlan?: unknown;
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

/** What the runner learnt about a module besides its engine's report. */
interface Extra {
  mocked: string[];
  blockedOn: string[];
  reason?: string;
  problems?: Problem[];
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One run of a graph: the steps' reports, what else each module's outcome says, and states read. */
class GraphRun {
  private readonly byName: Map<string, GraphNode>;
  private readonly reports = new Map<string, StepReport>();
  private readonly extras = new Map<string, Extra>();
  private readonly stateCache = new Map<string, Promise<Record<string, OutputValue> | undefined>>();
  readonly now: () => number;

  constructor(
    private readonly ws: Workspace,
    private readonly graph: SiteGraph,
    private readonly options: RunOptions,
    private readonly ports: RunPorts,
  ) {
    this.byName = new Map(graph.nodes.map((n) => [n.name, n]));
    this.now = options.now ?? Date.now;
  }

  node(id: string): GraphNode {
    const node = this.byName.get(id);
    if (!node) throw new SiteDeployError('internal', `runner: no module "${id}" in the graph`);
    return node;
  }

  /** A module's outputs in state before this run, read once for every reader. */
  private stateOf(n: GraphNode): Promise<Record<string, OutputValue> | undefined> {
    let p = this.stateCache.get(n.name);
    if (!p) {
      p = this.ports.stateOutputs(n);
      // A failure reaches each module that needs it.
      p.catch(() => undefined);
      this.stateCache.set(n.name, p);
    }
    return p;
  }

  /** An upstream output as this run knows it: from a step that did not fail. */
  private readonly fromRun = (module: string, output: string): OutputValue | undefined => {
    const report = this.reports.get(module);
    return report && report.status !== 'failed' && report.status !== 'cancelled'
      ? report.outputs[output]
      : undefined;
  };

  /** At plan time, the state of the upstreams whose outputs this run does not know yet. */
  private async upstreamStates(
    node: GraphNode,
  ): Promise<Map<string, Record<string, OutputValue> | undefined>> {
    const states = new Map<string, Record<string, OutputValue> | undefined>();
    if (this.options.mode !== 'plan') return states;
    const needed = new Set<string>();
    for (const r of upstreamReads(node.bound)) if (!this.fromRun(r.module, r.output)) needed.add(r.module);
    for (const up of needed) {
      const u = this.byName.get(up);
      if (u) states.set(up, await this.stateOf(u));
    }
    return states;
  }

  /** The module's inputs with every output known now, and why it cannot run yet, if it cannot. */
  private bind(
    node: GraphNode,
    states: Map<string, Record<string, OutputValue> | undefined>,
  ): { bound: BoundInputs; stop?: { outcome: StepOutcome; extra: Extra } } {
    const plan = this.options.mode === 'plan';
    const bound = withOutputs(this.ws, this.graph, node.bound, {
      fromRun: this.fromRun,
      fromState: plan ? (m, o) => states.get(m)?.[o] : undefined,
      mocks: plan,
    });
    const errors = bound.problems.filter((p) => p.severity === 'error');
    const refs = bound.pending.map((p) => `#{${p}}`).join(', ');
    // Found only now (an upstream output of the wrong type): the module fails before its engine
    // runs, with the message a config error has, and what depends on it halts.
    if (errors.length > 0) {
      const reason = errors.map((p) => formatProblem(p)).join('\n');
      return {
        bound,
        stop: { outcome: 'failed', extra: { mocked: bound.mocked, blockedOn: [], reason, problems: errors } },
      };
    }
    if (bound.pending.length === 0) return { bound };
    if (plan) {
      const extra = { mocked: bound.mocked, blockedOn: bound.pending, reason: `waiting for ${refs}` };
      return { bound, stop: { outcome: 'blocked', extra } };
    }
    const reason = `upstream output${bound.pending.length > 1 ? 's' : ''} ${refs} not available after apply`;
    return { bound, stop: { outcome: 'failed', extra: { mocked: [], blockedOn: bound.pending, reason } } };
  }

  /** One module: its upstreams' state (plan), its inputs, then its engine. */
  private async step(node: GraphNode, signal: AbortSignal): Promise<StepOutcome> {
    let states;
    try {
      states = await this.upstreamStates(node);
    } catch (e) {
      this.extras.set(node.name, { mocked: [], blockedOn: [], reason: messageOf(e) });
      return 'failed';
    }
    const { bound, stop } = this.bind(node, states);
    if (stop) {
      this.extras.set(node.name, stop.extra);
      return stop.outcome;
    }
    this.extras.set(node.name, { mocked: bound.mocked, blockedOn: [] });
    const report = await this.ports.step({
      node,
      mode: this.options.mode,
      inputs: bound.inputs,
      sensitiveInputs: bound.sensitive,
      assumed: [...bound.mocked, ...bound.fromState],
      signal,
    });
    this.reports.set(node.name, report);
    if (report.error)
      this.extras.set(node.name, { mocked: bound.mocked, blockedOn: [], reason: report.error });
    return report.status;
  }

  /** A step as the scheduler runs it, with its progress events. */
  readonly runOne = async (id: string, signal: AbortSignal): Promise<StepOutcome> => {
    const node = this.node(id);
    this.emit({ type: 'start', node });
    const began = this.now();
    const outcome = await this.step(node, signal);
    this.emit({ type: 'finish', node, module: this.moduleResult(node, outcome, this.now() - began) });
    return outcome;
  };

  private emit(e: Parameters<NonNullable<RunPorts['onEvent']>>[0]): void {
    try {
      this.ports.onEvent?.(e);
    } catch {
      // a progress printer must not stop a deployment
    }
  }

  moduleResult(node: GraphNode, status: ModuleStatus, durationMs: number, reason?: string): ModuleResult {
    const report = this.reports.get(node.name);
    const extra = this.extras.get(node.name);
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
      reviewedPlan: report?.reviewedPlan,
    };
  }
}

/** A run's status from its modules': failed, else cancelled, else no-op when nothing changed, else succeeded. */
function runStatus(modules: ModuleResult[]): RunResult['status'] {
  const statuses = new Set(modules.map((m) => m.status));
  if (statuses.has('failed')) return 'failed';
  if (statuses.has('cancelled')) return 'cancelled';
  return modules.every((m) => m.status === 'no-op') ? 'no-op' : 'succeeded';
}

/**
 * Runs a site × environment's module graph: waves (or dependencies) from the scheduler, inputs
 * finished with upstream outputs as they become known, halting per the site's settings.
 * At plan time an upstream output comes from its plan, then its state, then its mock_outputs
 * (marked mocked), else the module is blocked. Apply never uses a mock.
 */
export async function runGraph(
  ws: Workspace,
  graph: SiteGraph,
  options: RunOptions,
  ports: RunPorts,
): Promise<RunResult> {
  const run = new GraphRun(ws, graph, options, ports);
  const startedAt = run.now();
  const results = await schedule(
    graph.nodes.map((n) => ({ id: n.name, weight: n.weight, position: n.position, dependsOn: n.dependsOn })),
    run.runOne,
    {
      maxParallel: options.maxParallel,
      haltOnFailure: graph.site.haltOnFailure,
      ordering: graph.site.ordering,
      signal: options.signal,
      now: run.now,
    },
  );
  const modules = results.map((r) => run.moduleResult(run.node(r.id), r.status, r.durationMs ?? 0, r.reason));
  return {
    site: graph.site.name,
    environment: graph.environment.name,
    command: options.mode,
    status: runStatus(modules),
    modules,
    startedAt,
    finishedAt: run.now(),
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
