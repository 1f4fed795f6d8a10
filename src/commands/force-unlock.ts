import { loadProject } from '../core/project.js';
import type { SiteEnvSettings } from './graph.js';
import type { CommandPorts, Runtime } from './ports.js';

/** `force-unlock`: removes the run lock of a site × environment left by a run that is gone. */
export async function forceUnlock(
  s: SiteEnvSettings,
  ports: CommandPorts,
  runtime: Runtime,
): Promise<{ target: string; removed: string[]; holders: (string | undefined)[] }> {
  const { graph } = loadProject(ports.files(s.root), s.layout, ports.context(s.root), s.site, s.env);
  const { removed, holders } = await runtime.forceUnlock(s.root, graph);
  return { target: `${graph.site.name}/${graph.environment.name}`, removed, holders };
}
