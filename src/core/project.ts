import { checkCredentials, checkSessionPolicies, type ServiceNeed } from './checks/credentials.js';
import { loadWorkspace, type ConfigReader, type Layout, type Workspace } from './config/load.js';
import type { RunContext } from './config/scope.js';
import { InputError, Problems, sortProblems, type Problem } from './errors.js';
import { buildGraph, deploysTo, type SiteGraph } from './graph/build.js';
import { didYouMean } from './suggest.js';

/** What validating a repository found: every problem (sorted), and the graph of each site × environment. */
export interface Validation {
  ok: boolean;
  problems: Problem[];
  workspace: Workspace;
  graphs: SiteGraph[];
}

/** Which sites and environments to look at; all by default. */
export interface Selection {
  site?: string;
  env?: string;
}

/**
 * Loads and checks sites, every environment of each: config files, schemas, placeholders,
 * graph rules and credentials. A problem found in several environments is reported once.
 */
export function validateProject(
  reader: ConfigReader,
  layout: Layout,
  ctx: RunContext,
  selection: Selection = {},
): Validation {
  const problems = new Problems();
  const ws = loadWorkspace(reader, layout, problems, selection.site);
  const graphs: SiteGraph[] = [];
  for (const site of ws.sites.values()) {
    const envNames = [...site.environments.keys()];
    if (selection.env !== undefined && !site.environments.has(selection.env)) {
      problems.error(
        { file: site.file, line: 1, column: 1 },
        `site ${site.name} has no environment "${selection.env}"${didYouMean(selection.env, envNames) || `; environments: ${envNames.join(', ') || 'none'}`}`,
      );
      continue;
    }
    const chosen = selection.env === undefined ? envNames : [selection.env];
    const perEnv = new Map<string, Problems>();
    const needs = new Map<string, ServiceNeed[]>();
    for (const env of chosen) {
      const p = new Problems();
      perEnv.set(env, p);
      const graph = buildGraph(ws, site, env, ctx, p);
      if (graph) {
        graphs.push(graph);
        checkSessionPolicies(ws, graph, p);
      }
      needs.set(
        env,
        site.modules
          .filter((m) => deploysTo(m, env))
          .map((m) => ({ module: m.name, services: ws.manifests.get(m.type)?.services ?? [] })),
      );
    }
    checkCredentials(ws, site, needs, problems);
    mergeEnvironmentProblems(perEnv, envNames.length, problems);
  }
  const sorted = sortProblems(problems.list);
  return { ok: !sorted.some((p) => p.severity === 'error'), problems: sorted, workspace: ws, graphs };
}

/** Folds the same problem seen in several environments into one, naming them when not all. */
function mergeEnvironmentProblems(perEnv: Map<string, Problems>, total: number, into: Problems): void {
  const groups = new Map<string, { problem: Problem; envs: string[] }>();
  for (const [env, p] of perEnv) {
    for (const problem of p.list) {
      const key = `${problem.file}\0${problem.line}\0${problem.column}\0${problem.severity}\0${problem.message}`;
      const g = groups.get(key);
      if (g) {
        if (!g.envs.includes(env)) g.envs.push(env);
      } else groups.set(key, { problem, envs: [env] });
    }
  }
  for (const { problem, envs } of groups.values()) {
    const suffix =
      envs.length < total && total > 1
        ? ` (environment${envs.length > 1 ? 's' : ''} ${envs.join(', ')})`
        : '';
    into.list.push({ ...problem, message: problem.message + suffix });
  }
}

/** Loads one site × environment and returns its graph, or throws InputError with every problem. */
export function loadProject(
  reader: ConfigReader,
  layout: Layout,
  ctx: RunContext,
  site: string,
  env: string,
): { workspace: Workspace; graph: SiteGraph; warnings: Problem[] } {
  const v = validateProject(reader, layout, ctx, { site, env });
  const graph = v.graphs[0];
  if (!v.ok || !graph) throw new InputError(v.problems);
  return { workspace: v.workspace, graph, warnings: v.problems };
}
