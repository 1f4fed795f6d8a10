import type { Layout } from '../core/config/load.js';
import type { Problem } from '../core/errors.js';
import { validateProject, type Validation } from '../core/project.js';
import { defineCommand } from './descriptor.js';
import type { CommandPorts } from './ports.js';

/** Where the repository is and what of it to check. */
export interface ValidateSettings {
  root: string;
  layout: Layout;
  site?: string;
  env?: string;
}

/** `validate`: every config file, placeholder, graph rule and credential rule; all problems at once. */
export function validate(s: ValidateSettings, ports: CommandPorts): Validation {
  return validateProject(ports.files(s.root), s.layout, ports.context(s.root), { site: s.site, env: s.env });
}

const errorsOf = (v: Validation): Problem[] => v.problems.filter((p) => p.severity === 'error');
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check every config file, placeholder, graph rule and credential rule; all problems at once',
  usage: 'site-deploy validate [--site S] [--env E] [--json]',
  example: 'site-deploy validate --root examples',
  flags: ['site', 'env', 'json'],
  inputs: ['site', 'environment'],
  settings: (o): ValidateSettings => ({ root: o.root, layout: o.layout, site: o.site, env: o.env }),
  run: validate,
  json(v) {
    const pick = (severity: Problem['severity']) =>
      v.problems
        .filter((p) => p.severity === severity)
        .map(({ file, line, column, message }) => ({ file, line, column, message }));
    return { ok: v.ok, errors: pick('error'), warnings: pick('warning') };
  },
  text(v) {
    if (!v.ok) return '';
    const envs = v.graphs.length;
    const modules = v.graphs.reduce((n, g) => n + g.nodes.length, 0);
    const sites = v.workspace.sites.size;
    return `✓ ${plural(sites, 'site')}, ${plural(envs, 'site×environment')}, ${modules} module steps: configuration is valid\n`;
  },
  notes: (v, _s, format) => (format === 'json' ? {} : { problems: v.problems }),
  exitCode: (v) => (v.ok ? 0 : 2),
  action(v) {
    const errors = errorsOf(v).length;
    return {
      annotations: v.problems,
      outputs: [
        ['status', v.ok ? 'succeeded' : 'failed'],
        ['summary', { ok: v.ok, errors, warnings: v.problems.length - errors }],
      ],
      ...(v.ok
        ? { info: `configuration is valid: ${v.graphs.length} site×environment graphs` }
        : { failure: `${plural(errors, 'configuration error')}: see the annotations` }),
    };
  },
});
