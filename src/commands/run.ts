import type { Layout, Workspace } from '../core/config/load.js';
import { InputError, SiteDeployError, type Problem } from '../core/errors.js';
import { buildRecord, configDigest, digestingReader } from '../core/evidence/build.js';
import type { Refusal } from '../core/evidence/record.js';
import type { SiteGraph } from '../core/graph/build.js';
import { loadProject } from '../core/project.js';
import { runGraph, type RunMode, type RunResult } from '../core/run/runner.js';
import type { CommandPorts, Runtime } from './ports.js';

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
}

/**
 * `plan` / `apply` of one site × environment: load and validate (bad input throws before anything
 * runs), take the run lock, run the module graph, release the lock whatever happened.
 */
export async function run(s: RunSettings, ports: CommandPorts, runtime: Runtime): Promise<RunOutcome> {
  const reader = digestingReader(ports.files(s.root));
  const { workspace, graph, warnings } = loadProject(reader, s.layout, ports.context(s.root), s.site, s.env);
  if (s.ephemeralRunner) checkStateOnRunner(workspace, graph);
  const startedAt = Date.now();
  // Every run that got this far leaves a record — succeeded, failed, cancelled or refused.
  const record = async (outcome: {
    result?: RunResult;
    refusal?: Refusal;
    failure?: string;
  }): Promise<RunOutcome['evidence']> => {
    if (!ports.evidence) return undefined;
    const r = buildRecord({
      command: s.mode,
      graph,
      run: ports.evidence.run,
      startedAt,
      finishedAt: Date.now(),
      config: configDigest(reader.digests),
      ...outcome,
    });
    return ports.evidence.write(s.root, r);
  };
  let open;
  try {
    open = await runtime.open({
      root: s.root,
      workspace,
      graph,
      mode: s.mode,
      lockTimeoutMs: s.lockTimeoutMs,
      reporter: ports.reporter,
      redactor: ports.redactor,
    });
  } catch (e) {
    if (e instanceof SiteDeployError && e.code === 'locked') {
      const evidence = await record({ refusal: { kind: 'lock', message: e.message } });
      if (evidence) ports.reporter.notice(`evidence: ${evidence.path}`);
    }
    throw e;
  }
  let result: RunResult | undefined;
  try {
    const { reporter } = ports;
    result = await runGraph(
      workspace,
      graph,
      { mode: s.mode, maxParallel: s.maxParallel, signal: ports.signal },
      {
        ...open.ports,
        onEvent: (e) =>
          e.type === 'start' ? reporter.started?.(e.node) : reporter.finished?.(e.node, e.module),
      },
    );
  } catch (e) {
    await open.close();
    await record({ failure: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  await open.close();
  const evidence = await record({ result });
  return { workspace, graph, result, warnings, evidence };
}
