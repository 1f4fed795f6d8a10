import { loadProject } from '../core/project.js';
import { defineCommand } from './descriptor.js';
import type { SiteEnvSettings } from './graph.js';
import { siteEnv } from './options.js';
import { runtimeOf, type CommandPorts, type Runtime } from './ports.js';

/** What force-unlock removed. */
export interface Unlocked {
  target: string;
  removed: string[];
  holders: (string | undefined)[];
}

/** `force-unlock`: removes the run lock of a site × environment left by a run that is gone. */
export async function forceUnlock(
  s: SiteEnvSettings,
  ports: CommandPorts,
  runtime: Runtime,
): Promise<Unlocked> {
  const { graph } = loadProject(ports.files(s.root), s.layout, ports.context(s.root), s.site, s.env);
  const { removed, holders } = await runtime.forceUnlock(s.root, graph);
  return { target: `${graph.site.name}/${graph.environment.name}`, removed, holders };
}

export const forceUnlockCommand = defineCommand({
  name: 'force-unlock',
  summary: 'remove the run lock of a site × environment left by a run that was killed',
  usage: 'site-deploy force-unlock --site S --env E',
  example: 'site-deploy force-unlock --site client-portal --env production',
  flags: ['site', 'env'],
  needs: ['site', 'env'],
  uses: 'lock',
  settings: siteEnv,
  run: async (s, ports) => forceUnlock(s, ports, await runtimeOf(ports)),
  json: (r) => r,
  text: (r) =>
    [
      ...(r.removed.length === 0 ? [`${r.target} is not locked\n`] : []),
      ...r.removed.map((x, i) => `removed the run lock ${x}, held by ${r.holders[i]}\n`),
    ].join(''),
});
