import type { Layout, Workspace } from '../core/config/load.js';
import { InputError, type Problem } from '../core/errors.js';
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
}

/**
 * `plan` / `apply` of one site × environment: load and validate (bad input throws before anything
 * runs), take the run lock, run the module graph, release the lock whatever happened.
 */
export async function run(s: RunSettings, ports: CommandPorts, runtime: Runtime): Promise<RunOutcome> {
  const { workspace, graph, warnings } = loadProject(
    ports.files(s.root),
    s.layout,
    ports.context(s.root),
    s.site,
    s.env,
  );
  if (s.ephemeralRunner) checkStateOnRunner(workspace, graph);
  const open = await runtime.open({
    root: s.root,
    workspace,
    graph,
    mode: s.mode,
    lockTimeoutMs: s.lockTimeoutMs,
    reporter: ports.reporter,
    redactor: ports.redactor,
  });
  try {
    const { reporter } = ports;
    const result = await runGraph(
      workspace,
      graph,
      { mode: s.mode, maxParallel: s.maxParallel, signal: ports.signal },
      {
        ...open.ports,
        onEvent: (e) =>
          e.type === 'start' ? reporter.started?.(e.node) : reporter.finished?.(e.node, e.module),
      },
    );
    return { workspace, graph, result, warnings };
  } finally {
    await open.close();
  }
}
