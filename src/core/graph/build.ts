import type { Problems, SourcePos } from '../errors.js';
import type { Workspace } from '../config/load.js';
import type { CredentialEntry, Environment, Manifest, ModuleEntry, Site } from '../config/model.js';
import { reportPathErrors, Variables, type RunContext } from '../config/scope.js';
import {
  bindInputs,
  deploysTo,
  outputProblem,
  withOutputs,
  type ModuleBinding,
  type OutputSources,
} from '../inputs.js';
import { collectReferences, resolveValue, type PathError } from '../placeholders/resolve.js';
import { didYouMean } from '../suggest.js';
import { findCycle, waves as layoutWaves } from './scheduler.js';

export { deploysTo } from '../inputs.js';

/** A module as it runs in one environment. */
export interface GraphNode {
  name: string;
  type: string;
  weight: number;
  position: number;
  /** Every upstream module: from placeholders and `depends_on`, sorted. */
  dependsOn: string[];
  module: ModuleEntry;
  manifest?: Manifest;
  /** Its inputs, bound once with the graph; a run finishes them with upstream outputs. */
  bound: ModuleBinding;
}

/** The ordered module graph of one site × environment. */
export interface SiteGraph {
  site: Site;
  environment: Environment;
  credentials?: CredentialEntry;
  variables: Variables;
  /** Modules deployed to this environment, in declaration order. */
  nodes: GraphNode[];
  waves: GraphNode[][];
}

/** Input names treated as secrets in any report, whatever the manifest says. */
const SECRET_NAME = /(password|passwd|secret|token|private_?key|api_?key|credential)/i;
/** What stands in for a redacted value. */
export const REDACTED = '(sensitive)';

function pos(ws: Workspace, file: string, path: readonly (string | number)[], key = false): SourcePos {
  return ws.files.get(file)?.locate(path, key) ?? { file, line: 1, column: 1 };
}

/** What finding one environment's edges reads and reports to. */
interface EdgeContext {
  ws: Workspace;
  site: Site;
  envName: string;
  /** The modules by name (the first of a duplicated name). */
  byName: Map<string, ModuleEntry>;
  problems: Problems;
  /** Set when an edge breaks the strictly-lower-weight rule. */
  sideways: boolean;
  /** Where each edge `module->upstream` was first written, for a cycle's fix hint. */
  edges: Map<string, { what: string; at: () => SourcePos }>;
}

/** Records where an edge comes from (its first placeholder or `depends_on` entry). */
function noteEdge(cx: EdgeContext, m: string, up: string, what: string, at: () => SourcePos): void {
  const key = `${m}->${up}`;
  if (!cx.edges.has(key)) cx.edges.set(key, { what, at });
}

/**
 * How to break a cycle: each of its edges with the placeholder or `depends_on` it comes from and
 * where, and what to do about one of them.
 */
function cycleHint(cx: EdgeContext, cycle: string[]): string {
  const lines: string[] = [];
  for (let i = 0; i + 1 < cycle.length; i++) {
    const edge = cx.edges.get(`${cycle[i]}->${cycle[i + 1]}`);
    if (!edge) continue;
    const p = edge.at();
    lines.push(`"${cycle[i]}" ${edge.what} "${cycle[i + 1]}" (${p.file}:${p.line})`);
  }
  return (
    (lines.length ? `: ${lines.join('; ')}` : '') +
    ' — remove one of these edges (the placeholder or the depends_on entry), or drop `ordering: dependencies` and give the modules weights that order them'
  );
}

/** Checks one edge against the strictly-lower-weight rule of `ordering: weights`. */
function checkWeight(
  cx: EdgeContext,
  m: ModuleEntry,
  up: ModuleEntry,
  at: () => SourcePos,
  what: string,
): void {
  if (cx.site.ordering !== 'weights' || up.weight < m.weight) return;
  cx.sideways = true;
  cx.problems.error(
    at(),
    `module "${m.name}" (weight ${m.weight}) ${what} module "${up.name}" (weight ${up.weight}): an upstream must have a strictly lower weight — lower "${up.name}"'s weight or raise "${m.name}"'s`,
  );
}

/** The upstreams a module's placeholders read, each checked where it is written. */
function placeholderEdges(cx: EdgeContext, m: ModuleEntry, deps: Set<string>): void {
  const { ws, problems } = cx;
  for (const [, input] of m.inputs) {
    const errors: PathError[] = [];
    for (const ref of collectReferences(input.value, [], [], errors)) {
      if (ref.ref.kind !== 'output') continue;
      // Positions cost a full parse of the file: only work them out for a problem.
      const at = () =>
        ws.files.get(input.origin.file)?.locateInString([...input.origin.path, ...ref.path], ref.offset) ??
        pos(ws, input.origin.file, input.origin.path);
      const problem = outputProblem(ws, cx.site, cx.envName, ref.ref.module, ref.ref.output, m.name);
      if (problem) {
        problems.error(at(), problem);
        continue;
      }
      const up = cx.byName.get(ref.ref.module);
      if (!up) continue;
      deps.add(up.name);
      noteEdge(cx, m.name, up.name, `reads ${ref.source} from`, at);
      checkWeight(cx, m, up, at, `reads ${ref.source} from`);
    }
    reportPathErrors(ws, input.origin, errors, problems);
  }
}

/** The upstreams a module's `depends_on` names. */
function dependsOnEdges(cx: EdgeContext, m: ModuleEntry, deps: Set<string>): void {
  for (const d of m.dependsOn) {
    const at = () => pos(cx.ws, d.origin.file, d.origin.path);
    const up = cx.byName.get(d.name);
    if (!up) {
      cx.problems.error(
        at(),
        `module "${m.name}" depends_on unknown module "${d.name}"${didYouMean(
          d.name,
          [...cx.byName.keys()].filter((n) => n !== m.name),
        )}`,
      );
      continue;
    }
    if (up.name === m.name) {
      cx.problems.error(at(), `module "${m.name}" depends on itself`);
      continue;
    }
    if (!deploysTo(up, cx.envName)) continue; // nothing to wait for where the upstream is not deployed
    deps.add(up.name);
    noteEdge(cx, m.name, up.name, 'depends_on', at);
    checkWeight(cx, m, up, at, 'depends_on');
  }
}

/**
 * The waves of a graph, unless its edges forbid them: a dependency cycle (reported at its first
 * module) or, with `ordering: weights`, an edge to a module that is not lighter.
 */
function graphWaves(cx: EdgeContext, nodes: GraphNode[]): GraphNode[][] {
  const { site } = cx;
  const scheduleNodes = nodes.map((n) => ({
    id: n.name,
    weight: n.weight,
    position: n.position,
    dependsOn: n.dependsOn,
  }));
  if (site.ordering === 'dependencies') {
    const cycle = findCycle(scheduleNodes);
    if (cycle) {
      const first = cycle[0] === undefined ? undefined : cx.byName.get(cycle[0]);
      cx.problems.error(
        first ? pos(cx.ws, first.origin.file, first.origin.path) : { file: site.file, line: 1, column: 1 },
        `dependency cycle: ${cycle.join(' -> ')}${cycleHint(cx, cycle)}`,
      );
      return [];
    }
  } else if (cx.sideways) {
    return []; // waves need every edge to point to a lighter module; the errors say which do not
  }
  const index = new Map(nodes.map((n) => [n.name, n]));
  return layoutWaves(scheduleNodes, site.ordering).map((w) =>
    w.flatMap((id) => {
      const node = index.get(id);
      return node ? [node] : [];
    }),
  );
}

/**
 * Builds and checks the graph of one site × environment: edges from placeholders and depends_on,
 * the strictly-lower-weight rule (or cycles with `ordering: dependencies`), unknown names, input
 * declarations and types. Every problem is recorded; the graph is returned when usable.
 */
export function buildGraph(
  ws: Workspace,
  site: Site,
  envName: string,
  ctx: RunContext,
  problems: Problems,
): SiteGraph | undefined {
  const environment = site.environments.get(envName);
  if (!environment) return undefined;
  const credentials = site.credentials?.entries.get(envName);
  const variables = new Variables(ws, site, environment, credentials, ctx, problems);
  for (const name of environment.variables.keys()) variables.get(name);

  const byName = new Map<string, ModuleEntry>();
  for (const m of site.modules) if (!byName.has(m.name)) byName.set(m.name, m);
  const cx: EdgeContext = { ws, site, envName, byName, problems, sideways: false, edges: new Map() };
  const graph: SiteGraph = { site, environment, credentials, variables, nodes: [], waves: [] };
  // A duplicate name is reported by the loader; the graph keeps the first module of that name.
  const drafts = [...byName.values()]
    .filter((m) => deploysTo(m, envName))
    .map((m) => {
      const deps = new Set<string>();
      placeholderEdges(cx, m, deps);
      dependsOnEdges(cx, m, deps);
      const { name, type, weight, position } = m;
      const dependsOn = [...deps].sort();
      return { name, type, weight, position, dependsOn, module: m, manifest: ws.manifests.get(m.type) };
    });
  // Bind every input once now, so unknown variables, bad filters and types surface at validate time.
  for (const draft of drafts) {
    const bound = bindInputs(ws, graph, draft);
    problems.list.push(...bound.unresolved.problems);
    graph.nodes.push({ ...draft, bound });
  }
  checkVerification(ws, graph, problems);
  checkState(ws, graph, problems);
  graph.waves = graphWaves(cx, graph.nodes);
  return graph;
}

function checkVerification(ws: Workspace, graph: SiteGraph, problems: Problems): void {
  const v = graph.environment.verification;
  if (!v) return;
  const errors: PathError[] = [];
  const scope = graph.variables.withOutputs(
    (m, o) => outputProblem(ws, graph.site, graph.environment.name, m, o) ?? { state: 'unknown' },
  );
  resolveValue(v.value, scope, errors);
  reportPathErrors(ws, v.origin, errors, problems);
}

function checkState(ws: Workspace, graph: SiteGraph, problems: Problems): void {
  const { state } = graph.site;
  if (!state.origin) return;
  const errors: PathError[] = [];
  const fields = { bucket: state.bucket, region: state.region, key_prefix: state.keyPrefix };
  resolveValue(fields, graph.variables.scope(), errors);
  reportPathErrors(ws, state.origin, errors, problems);
}

/** Resolved state settings of a site × environment (placeholders read variables only). */
export function resolveState(graph: SiteGraph): {
  backend: 'local' | 's3';
  bucket?: string;
  region?: string;
  keyPrefix?: string;
} {
  const { state } = graph.site;
  const r = resolveValue(
    { bucket: state.bucket, region: state.region, keyPrefix: state.keyPrefix },
    graph.variables.scope(),
    [],
  );
  const v = r.value as { bucket?: string; region?: string; keyPrefix?: string };
  return { backend: state.backend, bucket: v.bucket, region: v.region, keyPrefix: v.keyPrefix };
}

/** The S3 state object of one module (SPEC §5: `<key_prefix>/<site>/<env>/<module>.tfstate`), or undefined for local state. */
export function s3StateObject(
  graph: SiteGraph,
  module: string,
): { bucket: string; key: string; region: string } | undefined {
  const state = resolveState(graph);
  if (state.backend !== 's3' || !state.bucket || !state.region) return undefined;
  const key = [state.keyPrefix, graph.site.name, graph.environment.name, `${module}.tfstate`]
    .filter((p) => p)
    .join('/');
  return { bucket: state.bucket, key, region: state.region };
}

/** The name the run lock's AWS session carries in place of a module's (`sd-<site>-<env>-run-lock`). */
export const RUN_LOCK = 'run-lock';
/** The session name's module part of the session that writes evidence records to the evidence bucket. */
export const EVIDENCE_SESSION = 'evidence';

/** The S3 run lock object of a site × environment (beside its modules' state), or undefined for local state. */
export function s3LockObject(graph: SiteGraph): { bucket: string; key: string; region: string } | undefined {
  const state = resolveState(graph);
  if (state.backend !== 's3' || !state.bucket || !state.region) return undefined;
  const key = [state.keyPrefix, graph.site.name, graph.environment.name, 'site-deploy.lock']
    .filter((p) => p)
    .join('/');
  return { bucket: state.bucket, key, region: state.region };
}

/** Whether an input's value must never be shown. */
export function isSensitiveInput(node: GraphNode, name: string): boolean {
  return node.manifest?.inputs?.[name]?.sensitive === true || SECRET_NAME.test(name);
}

/** The `graph --json` document of SPEC §9. */
export interface GraphDocument {
  site: string;
  environment: string;
  ordering: 'weights' | 'dependencies';
  waves: {
    name: string;
    type: string;
    weight: number;
    depends_on: string[];
    inputs: Record<string, unknown>;
  }[][];
}

/**
 * The `graph --json` document of SPEC §9. Sensitive inputs are REDACTED; their resolved values go
 * to `secret` too, so the caller's redaction also hides them where another input repeats them.
 * With `sources`, inputs that read upstream outputs are resolved from what those answer (the
 * upstreams' state); an output not known stays as its `#{module.output}` text.
 */
export function graphDocument(
  ws: Workspace,
  graph: SiteGraph,
  problems: Problems,
  secret: (value: unknown) => void = () => undefined,
  sources?: OutputSources,
): GraphDocument {
  const inputsOf = (n: GraphNode): Record<string, unknown> => {
    const bound = sources ? withOutputs(ws, graph, n.bound, sources) : n.bound.unresolved;
    problems.list.push(...bound.problems);
    const tainted = new Set(bound.sensitive);
    const hidden = (k: string): boolean => isSensitiveInput(n, k) || tainted.has(k);
    for (const [k, v] of Object.entries(bound.inputs)) if (hidden(k)) secret(v);
    return Object.fromEntries(Object.entries(bound.inputs).map(([k, v]) => [k, hidden(k) ? REDACTED : v]));
  };
  return {
    site: graph.site.name,
    environment: graph.environment.name,
    ordering: graph.site.ordering,
    waves: graph.waves.map((wave) =>
      wave.map((n) => ({
        name: n.name,
        type: n.type,
        weight: n.weight,
        depends_on: n.dependsOn,
        inputs: inputsOf(n),
      })),
    ),
  };
}
