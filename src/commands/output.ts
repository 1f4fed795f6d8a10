/**
 * `output`: the outputs of a site × environment's modules as their state holds them (SPEC §9),
 * sensitive ones — by the state's flag or the manifest's `sensitive_outputs` — shown as
 * `(sensitive)` and registered with the run's redaction, so no other value can carry them.
 */
import { SiteDeployError } from '../core/errors.js';
import type { GraphNode } from '../core/graph/build.js';
import type { OutputValue } from '../core/inputs.js';
import { loadProject } from '../core/project.js';
import { didYouMean } from '../core/suggest.js';
import { defineCommand } from './descriptor.js';
import type { SiteEnvSettings } from './graph.js';
import { siteEnv } from './options.js';
import { runtimeOf, type CommandPorts } from './ports.js';

/** What a sensitive output shows instead of its value. */
export const SENSITIVE = '(sensitive)';

/** One module's outputs; `applied: false` when it has no state yet. */
export interface ModuleOutputs {
  name: string;
  type: string;
  applied: boolean;
  outputs: Record<string, unknown>;
}

/** The `output --json` document. */
export interface OutputDocument {
  site: string;
  environment: string;
  modules: ModuleOutputs[];
}

/** The modules asked for: all of them, or the one `--module` names. */
function chosen(nodes: GraphNode[], module: string | undefined, where: string): GraphNode[] {
  if (module === undefined) return nodes;
  const node = nodes.find((n) => n.name === module);
  if (!node) {
    const names = nodes.map((n) => n.name);
    throw new SiteDeployError(
      'bad-input',
      `${where} has no module "${module}"${didYouMean(module, names) || `; its modules: ${names.join(', ')}`}`,
    );
  }
  return [node];
}

/** A module's outputs with sensitive values replaced, each of them registered as a secret first. */
function shown(
  node: GraphNode,
  state: Record<string, OutputValue>,
  ports: CommandPorts,
): Record<string, unknown> {
  const hidden = new Set(node.manifest?.sensitiveOutputs ?? []);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    const sensitive = v.sensitive || hidden.has(k);
    if (sensitive) ports.redactor.add(v.value);
    out[k] = sensitive ? SENSITIVE : v.value;
  }
  return out;
}

/** Reads the outputs of the chosen modules from their state. */
export async function outputs(
  s: SiteEnvSettings & { module?: string },
  ports: CommandPorts,
): Promise<OutputDocument> {
  const { graph } = loadProject(ports.files(s.root), s.layout, ports.context(s.root), s.site, s.env);
  const runtime = await runtimeOf(ports);
  const where = `${graph.site.name}/${graph.environment.name}`;
  const modules: ModuleOutputs[] = [];
  for (const node of chosen(graph.nodes, s.module, where)) {
    const state = await runtime.stateOutputs(s.root, graph, node);
    modules.push({
      name: node.name,
      type: node.type,
      applied: state !== undefined,
      outputs: state ? shown(node, state, ports) : {},
    });
  }
  return { site: graph.site.name, environment: graph.environment.name, modules };
}

/** The terminal text: each module and its outputs, one `name = value` a line. */
function outputText(doc: OutputDocument): string {
  return doc.modules
    .map((m) => {
      if (!m.applied) return `${m.name} (${m.type}): no state yet (never applied)\n`;
      const lines = Object.entries(m.outputs).map(
        ([k, v]) => `  ${k} = ${v === SENSITIVE ? SENSITIVE : JSON.stringify(v)}`,
      );
      return `${m.name} (${m.type})\n${lines.length ? `${lines.join('\n')}\n` : '  (no outputs)\n'}`;
    })
    .join('');
}

export const outputCommand = defineCommand({
  name: 'output',
  summary: "show the outputs of a site × environment's modules from their state (sensitive ones hidden)",
  usage: 'site-deploy output --site S --env E [--module M] [--json]',
  example: 'site-deploy output --root examples --site client-portal --env dev --module network',
  flags: ['site', 'env', 'module', 'json', 'credentials'],
  needs: ['site', 'env'],
  uses: 'state',
  settings: (o) => ({ ...siteEnv(o), module: o.flags.module }),
  run: outputs,
  json: (doc) => doc,
  text: outputText,
});
