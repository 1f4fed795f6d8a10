import type { Layout } from '../core/config/load.js';
import type { Problem } from '../core/errors.js';
import { graphDocument, type GraphDocument } from '../core/graph/build.js';
import { loadProject } from '../core/project.js';
import { Problems } from '../core/errors.js';
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
