import type { Layout } from '../core/config/load.js';
import type { Problem } from '../core/errors.js';
import { graphDocument, type GraphDocument } from '../core/graph/build.js';
import { loadProject } from '../core/project.js';
import { Problems } from '../core/errors.js';
import { renderGraphTable } from '../core/report/table.js';
import { defineCommand } from './descriptor.js';
import { siteEnv } from './options.js';
import type { CommandPorts } from './ports.js';

/** One site × environment. */
export interface SiteEnvSettings {
  root: string;
  layout: Layout;
  site: string;
  env: string;
}

/** `graph`: waves, edges and resolved inputs (sensitive ones redacted) of one site × environment. */
export function graph(s: SiteEnvSettings, ports: CommandPorts): { doc: GraphDocument; warnings: Problem[] } {
  const {
    workspace,
    graph: g,
    warnings,
  } = loadProject(ports.files(s.root), s.layout, ports.context(s.root), s.site, s.env);
  const doc = graphDocument(workspace, g, new Problems(), (v) => ports.redactor.add(v));
  return { doc, warnings };
}

export const graphCommand = defineCommand({
  name: 'graph',
  summary: "show a site × environment's waves, edges and resolved inputs (secrets redacted)",
  usage: 'site-deploy graph --site S --env E [--json]',
  example: 'site-deploy graph --root examples --site client-portal --env dev',
  flags: ['site', 'env', 'json'],
  needs: ['site', 'env'],
  settings: siteEnv,
  run: graph,
  json: (r) => r.doc,
  text: (r) => renderGraphTable(r.doc),
  notes: (r, _s, format) => (format === 'json' ? {} : { problems: r.warnings }),
});
