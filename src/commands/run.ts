import { deploymentState } from '../core/status.js';
import { posix } from 'node:path';
import type { Layout, Workspace } from '../core/config/load.js';
import { InputError, SiteDeployError, type Problem } from '../core/errors.js';
import { buildRecord, configDigest, configRefusalRecord, digestingReader } from '../core/evidence/build.js';
import type {
  BindingEvidence,
  BrokenLink,
  ConfigDigest,
  EvidencePromotion,
  EvidenceRecord,
  RecoveredRun,
  Refusal,
} from '../core/evidence/record.js';
import { siteConfigDigest, type BreakGlassRecord } from '../core/promotion.js';
import type { SiteGraph } from '../core/graph/build.js';
import { loadProject } from '../core/project.js';
import { runGraph, type RunMode, type RunResult } from '../core/run/runner.js';
import { makeReview, type BindingReview } from '../core/binding.js';
import { bindingFor, bindingOff, type Binding } from './binding.js';
import { applyGates, type GateOutcome } from './gates.js';
import type {
  CommandPorts,
  DeploymentsPort,
  OpenRun,
  RunIsolation,
  Runtime,
  WrittenRecord,
} from './ports.js';

/** One plan or apply. */
export interface RunSettings {
  root: string;
  layout: Layout;
  site: string;
  env: string;
  mode: RunMode;
  maxParallel: number;
  /** How long to wait for another run of the same site × environment (and Terraform's state lock). */
  lockTimeoutMs: number;
  /**
   * On an ephemeral CI runner (GitHub Actions), where local state would start from nothing every
   * run: a site must say where its state lives.
   */
  ephemeralRunner?: boolean;
  /** apply: break-glass with this reason (overrides a freeze or a promotion check for an allowed actor). */
  breakGlass?: string;
  /**
   * Approval binding (in Actions): apply checks each module's fresh plan against the reviewed one
   * (`enabled: false` is `binding: off`, recorded); plan makes the review of `reviewCommit`, and
   * apply looks the review of `reviewCommit` up — on a pull request, its head commit; on a push or a
   * dispatch, unset: the run's own commit.
   */
  binding?: { enabled: boolean; maxPlanAgeMs: number; reviewCommit?: string; key?: string };
  /** `require-isolation`: refuse, before any step, unless every step runs sandboxed. */
  requireIsolation?: boolean;
  /** In Actions, `handoff`: write the run's handoff for a `report` step instead of publishing to GitHub. */
  publish?: 'handoff';
}

/** Refuses the implicit local state on an ephemeral runner, at the site's `site:` key. */
function checkStateOnRunner(workspace: Workspace, graph: SiteGraph): void {
  if (graph.site.state.origin) return; // `state:` is written down, local or not
  const at = workspace.files.get(graph.site.file)?.locate(['site'], true) ?? {
    file: graph.site.file,
    line: 1,
    column: 1,
  };
  throw new InputError([
    {
      ...at,
      severity: 'error',
      message:
        `site "${graph.site.name}" sets no state: in ${graph.site.file}, so its Terraform state would be local — on a GitHub runner ` +
        'that starts from nothing every run, and every module would be created again. Add state: { backend: s3, bucket: …, region: … }, ' +
        'or state: { backend: local } to keep local state knowingly',
    },
  ]);
}

/** What a plan or apply did, for every renderer. */
export interface RunOutcome {
  workspace: Workspace;
  graph: SiteGraph;
  result: RunResult;
  /** Config warnings found while loading. */
  warnings: Problem[];
  /** The run's evidence record: where it was written and its digest. */
  evidence?: { path: string; digest: string };
  /**
   * The record could not be written (the folder), or was written but could not be stored where
   * asked (S3, attestation): the run fails closed, and still reports what it did.
   */
  evidenceProblem?: string;
  /** Files under a record's name that are not a valid record, named in this run's record. */
  brokenLinks?: BrokenLink[];
  /** apply: the promotion check, and break-glass when it was used. */
  promotion: EvidencePromotion | null;
  breakGlass: BreakGlassRecord | null;
  /** plan with binding: the review the PR comment carries. */
  review?: BindingReview;
  /** apply with binding: what was checked against the review (or that binding was off). */
  binding: BindingEvidence | null;
  /** How the steps were isolated (absent: the runtime did not say). */
  isolation?: RunIsolation;
}

/** The files of a release: the site's folder and the catalog folders of every module type it uses. */
function releaseFolders(graph: SiteGraph, layout: Layout): string[] {
  const types = [...new Set(graph.site.modules.map((m) => m.type))].sort();
  return [graph.site.dir, ...types.map((t) => posix.join(layout.catalog, t))];
}

/**
 * The config digest of a run (SPEC §8.1, §8.4): every file it read plus every file of the release
 * — except other environments' files, which are not this run's business — and the release's
 * site-level digest.
 */
async function runConfig(
  s: RunSettings,
  graph: SiteGraph,
  read: Map<string, string>,
  ports: CommandPorts,
): Promise<ConfigDigest> {
  const trees = ports.evidence
    ? await ports.evidence.hashTrees(s.root, releaseFolders(graph, s.layout))
    : new Map<string, string>();
  const siteDigest = siteConfigDigest(new Map([...trees, ...read]), graph.site, s.layout, []);
  const envFiles = new Set([...graph.site.environments.values()].map((e) => e.file));
  const envDir = `${graph.site.dir}/environments/`;
  const files = new Map(read);
  for (const [path, sha] of trees)
    if (!files.has(path) && !envFiles.has(path) && !path.startsWith(envDir)) files.set(path, sha);
  return configDigest(files, siteDigest);
}

/** A run loaded and checked, before it takes the lock. */
interface Prepared {
  workspace: Workspace;
  graph: SiteGraph;
  warnings: Problem[];
  startedAt: number;
  config: ConfigDigest;
  commit: string;
  gates: GateOutcome;
  binding?: Binding;
}

/** Loads and validates (bad input throws before anything runs), digests the config, runs apply's checks. */
async function prepare(s: RunSettings, ports: CommandPorts): Promise<Prepared> {
  const reader = digestingReader(ports.files(s.root));
  const context = ports.context(s.root);
  const startedAt = Date.now();
  let loaded: ReturnType<typeof loadProject>;
  try {
    loaded = loadProject(reader, s.layout, context, s.site, s.env);
    if (s.ephemeralRunner) checkStateOnRunner(loaded.workspace, loaded.graph);
  } catch (e) {
    if (e instanceof SiteDeployError && e.code === 'bad-input')
      await recordConfigRefusal(s, ports, e, startedAt, reader.digests);
    throw e;
  }
  const { workspace, graph, warnings } = loaded;
  const config = await runConfig(s, graph, reader.digests, ports);
  const facts = ports.evidence?.run;
  const commit = facts?.commit ?? context.sha;
  if (s.mode !== 'apply')
    return {
      workspace,
      graph,
      warnings,
      startedAt,
      config,
      commit,
      gates: { promotion: null, breakGlass: null },
    };
  const gates = await applyGates(
    graph,
    { commit, siteDigest: config.site_digest ?? '' },
    facts?.triggering_actor ?? context.actor,
    s.breakGlass,
    ports.deployments,
  );
  const binding = s.binding
    ? s.binding.enabled && ports.binding
      ? await bindingFor(
          ports.binding,
          graph.site.name,
          graph.environment.name,
          s.binding.reviewCommit ?? commit,
          s.binding.maxPlanAgeMs,
          s.binding.key,
        )
      : bindingOff(s.binding.maxPlanAgeMs)
    : undefined;
  return { workspace, graph, warnings, startedAt, config, commit, gates, ...(binding ? { binding } : {}) };
}

/** How a run ended, for its evidence record. */
interface Ending {
  result?: RunResult;
  refusal?: Refusal;
  failure?: string;
  isolation?: RunIsolation['isolation'];
  /** A killed run whose lock this run took over. */
  recovered?: RecoveredRun;
}

/** Where the record went, or why it could not be kept where asked. */
interface Recorded {
  evidence?: RunOutcome['evidence'];
  problem?: string;
  /** Files under a record's name that are not a valid record: named in this record. */
  broken?: BrokenLink[];
}

/** Writes a record; a folder that cannot be written is the run's evidence problem, never a crash after the steps ran. */
async function writeRecord(
  ports: CommandPorts,
  root: string,
  built: EvidenceRecord,
): Promise<{ written?: WrittenRecord; problem?: string }> {
  if (!ports.evidence) return {};
  try {
    return { written: await ports.evidence.write(root, built) };
  } catch (e) {
    return { problem: e instanceof Error ? e.message : String(e) };
  }
}

/** Writes the run's evidence record (every run that got this far leaves one) and stores it where asked. */
async function record(
  s: RunSettings,
  ports: CommandPorts,
  p: Prepared,
  ending: Ending,
  review?: BindingReview,
): Promise<Recorded> {
  if (!ports.evidence) return {};
  const refusal = ending.refusal === undefined ? p.binding?.refusal() : undefined;
  const { written, problem } = await writeRecord(
    ports,
    s.root,
    buildRecord({
      command: s.mode,
      graph: p.graph,
      run: ports.evidence.run,
      startedAt: p.startedAt,
      finishedAt: Date.now(),
      config: p.config,
      promotion: p.gates.promotion,
      breakGlass: p.gates.breakGlass,
      binding:
        p.binding?.evidence() ?? (review ? reviewEvidence(review, s.binding?.maxPlanAgeMs ?? 0) : null),
      ...ending,
      ...(refusal ? { refusal: { kind: 'binding' as const, message: refusal } } : {}),
    }),
  );
  if (!written) return { problem };
  const evidence = { path: written.path, digest: written.digest };
  const broken = written.broken?.length ? { broken: written.broken } : {};
  try {
    await ports.evidence.store?.(written, p.graph);
  } catch (e) {
    // Kept locally but not where it was asked to go: the run fails closed, with its report.
    return { evidence, problem: e instanceof Error ? e.message : String(e), ...broken };
  }
  return { evidence, ...broken };
}

/** A name that is safe as one folder of the evidence path (the settings' site and environment are user input). */
const FOLDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Config errors stopped the run before anything ran: it still leaves a record (SPEC §8.1), under
 * the site and environment it was asked for, when those can name a folder. The error carries
 * where it went.
 */
async function recordConfigRefusal(
  s: RunSettings,
  ports: CommandPorts,
  error: SiteDeployError,
  startedAt: number,
  read: Map<string, string>,
): Promise<void> {
  if (!ports.evidence || !FOLDER_NAME.test(s.site) || !FOLDER_NAME.test(s.env)) return;
  if (s.site.includes('..') || s.env.includes('..')) return;
  const built = configRefusalRecord({
    command: s.mode,
    site: s.site,
    environment: s.env,
    run: ports.evidence.run,
    startedAt,
    finishedAt: Date.now(),
    config: configDigest(read),
    errors: error.problems.filter((p) => p.severity === 'error'),
  });
  const { written, problem } = await writeRecord(ports, s.root, built);
  if (problem) ports.reporter.notice(problem);
  if (!written) return;
  error.evidence = { path: written.path, digest: written.digest };
  if (built.refusal) error.refusal = built.refusal;
}

/** Records a refusal and throws its error, carrying where the record went. */
async function refuse(
  s: RunSettings,
  ports: CommandPorts,
  p: Prepared,
  refusal: Refusal,
  error: SiteDeployError,
): Promise<never> {
  const { evidence, problem } = await record(s, ports, p, { refusal });
  error.refusal = refusal;
  if (evidence) {
    error.evidence = evidence;
    ports.reporter.notice(`evidence: ${evidence.path}`);
  }
  if (problem) ports.reporter.notice(problem);
  throw error;
}

/** Refuses what apply's checks refused; tells break-glass and binding off. */
async function enforceGates(s: RunSettings, ports: CommandPorts, p: Prepared): Promise<void> {
  const { gates } = p;
  if (gates.refusal)
    await refuse(s, ports, p, gates.refusal, new SiteDeployError('refused', gates.refusal.message));
  if (gates.breakGlass) ports.reporter.notice(breakGlassNotice(gates.breakGlass));
  if (p.binding?.evidence().mode === 'off')
    ports.reporter.notice(
      'binding: off — plans are applied without comparing them with a reviewed plan (recorded in the evidence)',
    );
}

/** Takes the run lock and a work folder; a lock held by another run is a refusal on the record. */
async function openRun(s: RunSettings, ports: CommandPorts, runtime: Runtime, p: Prepared): Promise<OpenRun> {
  try {
    return await runtime.open({
      root: s.root,
      workspace: p.workspace,
      graph: p.graph,
      mode: s.mode,
      lockTimeoutMs: s.lockTimeoutMs,
      reporter: ports.reporter,
      redactor: ports.redactor,
      ...(p.binding ? { beforeApply: p.binding.check } : {}),
      ...(s.requireIsolation ? { requireIsolation: true } : {}),
      ...(s.binding?.key ? { bindingKey: s.binding.key } : {}),
      ...(ports.evidence
        ? { runId: { id: ports.evidence.run.id, attempt: ports.evidence.run.attempt } }
        : {}),
    });
  } catch (e) {
    if (e instanceof SiteDeployError && e.code === 'locked')
      await refuse(s, ports, p, { kind: 'lock', message: e.message }, e);
    if (e instanceof SiteDeployError && e.code === 'refused' && s.requireIsolation)
      await refuse(s, ports, p, { kind: 'isolation', message: e.message }, e);
    throw e;
  }
}

/** apply: records the deployment that starts (GitHub Deployments), when the front door records them. */
async function startDeployment(
  s: RunSettings,
  ports: CommandPorts,
  p: Prepared,
): Promise<Deployment | undefined> {
  if (s.mode !== 'apply' || !ports.deployments?.start) return undefined;
  const { graph } = p;
  return ports.deployments.start({
    site: graph.site.name,
    env: graph.environment.name,
    lifecycle: graph.environment.lifecycle,
    commit: p.commit,
    siteDigest: p.config.site_digest ?? '',
    configDigest: p.config.digest,
    environmentUrl: environmentUrl(graph),
  });
}

type Deployment = Awaited<ReturnType<NonNullable<DeploymentsPort['start']>>>;

/** Runs the module graph in the open run; releases the lock and ends the deployment whatever happened. */
async function runSteps(s: RunSettings, ports: CommandPorts, p: Prepared, open: OpenRun): Promise<RunResult> {
  let result: RunResult;
  let deployment: Deployment | undefined;
  try {
    deployment = await startDeployment(s, ports, p);
    const { reporter } = ports;
    result = await runGraph(
      p.workspace,
      p.graph,
      { mode: s.mode, maxParallel: s.maxParallel, signal: ports.signal },
      {
        ...open.ports,
        onEvent: (e) =>
          e.type === 'start' ? reporter.started?.(e.node) : reporter.finished?.(e.node, e.module),
      },
    );
  } catch (e) {
    await open.close();
    await finishDeployment(deployment, 'error', ports);
    const failure = e instanceof Error ? e.message : String(e);
    await record(s, ports, p, { failure, ...(open.recovered ? { recovered: open.recovered } : {}) });
    throw e;
  }
  await open.close();
  await finishDeployment(deployment, deploymentState(result.status), ports);
  return result;
}

/** plan with binding: the review of the planned commit, for the PR comment. */
function planReview(s: RunSettings, graph: SiteGraph, result: RunResult): BindingReview | undefined {
  if (s.mode !== 'plan' || !s.binding?.reviewCommit) return undefined;
  return makeReview({
    site: graph.site.name,
    env: graph.environment.name,
    commit: s.binding.reviewCommit,
    created_at: new Date().toISOString(),
    modules: Object.fromEntries(result.modules.flatMap((m) => (m.review ? [[m.name, m.review]] : []))),
  });
}

/**
 * `plan` / `apply` of one site × environment: load and validate (bad input throws before anything
 * runs); for apply, the freeze and promotion checks (break-glass overriding them for an allowed
 * actor); take the run lock; record the deployment; run the module graph; release the lock
 * whatever happened; and leave an evidence record of every outcome — succeeded, failed,
 * cancelled, refused.
 */
export async function run(s: RunSettings, ports: CommandPorts, runtime: Runtime): Promise<RunOutcome> {
  const p = await prepare(s, ports);
  await enforceGates(s, ports, p);
  const open = await openRun(s, ports, runtime, p);
  const result = await runSteps(s, ports, p, open);
  const review = planReview(s, p.graph, result);
  const isolation = open.isolation;
  const { evidence, problem, broken } = await record(
    s,
    ports,
    p,
    {
      result,
      isolation: isolation?.isolation ?? 'none',
      ...(open.recovered ? { recovered: open.recovered } : {}),
    },
    review,
  );
  return {
    workspace: p.workspace,
    graph: p.graph,
    result,
    warnings: p.warnings,
    evidence,
    evidenceProblem: problem,
    ...(broken ? { brokenLinks: broken } : {}),
    promotion: p.gates.promotion,
    breakGlass: p.gates.breakGlass,
    ...(review ? { review } : {}),
    binding: p.binding?.evidence() ?? null,
    ...(isolation ? { isolation } : {}),
  };
}

/** A plan run's review as the evidence records it (the PR comment's hidden header carries the same). */
function reviewEvidence(review: BindingReview, maxPlanAgeMs: number): BindingEvidence {
  return {
    mode: 'review',
    pull_request: null,
    comment_url: null,
    reviewed_commit: review.commit,
    reviewed_at: review.created_at,
    combined: review.combined,
    max_plan_age_ms: maxPlanAgeMs,
    missing: null,
    modules: [],
  };
}

/** Sets how an apply's deployment ended; a failure to say so is told, not fatal (promotion then sees it unfinished). */
async function finishDeployment(
  deployment: { finish(state: 'success' | 'failure' | 'error'): Promise<void> } | undefined,
  state: 'success' | 'failure' | 'error',
  ports: CommandPorts,
): Promise<void> {
  if (!deployment) return;
  try {
    await deployment.finish(state);
  } catch (e) {
    ports.reporter.notice(
      `could not mark the deployment ${state}: ${e instanceof Error ? e.message : String(e)} — it stays in progress, so promotion will not count it`,
    );
  }
}

/** The environment's `url` variable, when it is a plain string (GitHub shows it on the deployment). */
function environmentUrl(graph: SiteGraph): string | undefined {
  const url = graph.environment.variables.get('url')?.value;
  return typeof url === 'string' && /^https?:\/\//.test(url) && !url.includes('#{') ? url : undefined;
}

/** The line every log shows when break-glass is used. */
export function breakGlassNotice(b: BreakGlassRecord): string {
  const what = b.overrides.length
    ? b.overrides.map((o) => o.check).join(' and ')
    : 'nothing (no check refused)';
  return `BREAK-GLASS by ${b.actor}: "${b.reason}" — overriding ${what}`;
}
