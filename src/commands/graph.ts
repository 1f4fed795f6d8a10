import type { Layout } from '../core/config/load.js';
import type { Problem } from '../core/errors.js';
import { graphDocument, type GraphDocument, type SiteGraph } from '../core/graph/build.js';
import { upstreamReads, type OutputValue } from '../core/inputs.js';
import { loadProject } from '../core/project.js';
import { Problems } from '../core/errors.js';
import { renderGraphTable } from '../core/report/table.js';
import { thrownMessage } from '../core/result.js';
import { defineCommand } from './descriptor.js';
import { siteEnv } from './options.js';
import { runtimeOf, type CommandPorts } from './ports.js';

/** One site × environment. */
export interface SiteEnvSettings {
  root: string;
  layout: Layout;
  site: string;
  env: string;
}

/** What `graph` shows: the document, config warnings, and the upstream states it could not read. */
export interface GraphResult {
  doc: GraphDocument;
  warnings: Problem[];
  unread: string[];
}

/**
 * The outputs of every module another one reads, from its state: what the inputs resolve to as
 * of the last apply. A state that cannot be read (no credentials, no access) is named, and the
 * inputs reading it keep their placeholders.
 */
async function upstreamStates(
  s: SiteEnvSettings,
  graph: SiteGraph,
  ports: CommandPorts,
): Promise<{ states: Map<string, Record<string, OutputValue> | undefined>; unread: string[] }> {
  const read = new Set(graph.nodes.flatMap((n) => upstreamReads(n.bound).map((r) => r.module)));
  const states = new Map<string, Record<string, OutputValue> | undefined>();
  const unread: string[] = [];
  if (read.size === 0 || !ports.runtime) return { states, unread };
  const runtime = await runtimeOf(ports);
  for (const node of graph.nodes.filter((n) => read.has(n.name))) {
    try {
      states.set(node.name, await runtime.stateOutputs(s.root, graph, node));
    } catch (e) {
      unread.push(`${node.name}: ${thrownMessage(e).split('\n')[0]}`);
    }
  }
  return { states, unread };
}

/** `graph`: waves, edges and resolved inputs (sensitive ones redacted) of one site × environment. */
export async function graph(s: SiteEnvSettings, ports: CommandPorts): Promise<GraphResult> {
  const {
    workspace,
    graph: g,
    warnings,
  } = loadProject(ports.files(s.root), s.layout, ports.context(s.root), s.site, s.env);
  const { states, unread } = await upstreamStates(s, g, ports);
  const doc = graphDocument(workspace, g, new Problems(), (v) => ports.redactor.add(v), {
    fromRun: () => undefined,
    fromState: (m, o) => states.get(m)?.[o],
    mocks: false,
  });
  return { doc, warnings, unread };
}

export const graphCommand = defineCommand({
  name: 'graph',
  summary: "show a site × environment's waves, edges and resolved inputs (secrets redacted)",
  usage: 'site-deploy graph --site S --env E [--json]',
  example: 'site-deploy graph --root examples --site client-portal --env dev',
  flags: ['site', 'env', 'json', 'credentials'],
  needs: ['site', 'env'],
  uses: 'state',
  settings: siteEnv,
  run: graph,
  json: (r) => r.doc,
  text: (r) => renderGraphTable(r.doc),
  notes: (r, _s, format) => ({
    ...(format === 'json' ? {} : { problems: r.warnings }),
    warnings: r.unread.map((u) => `the state of ${u}; inputs reading its outputs are shown as placeholders`),
  }),
});
