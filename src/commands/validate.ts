import type { Layout } from '../core/config/load.js';
import { validateProject, type Validation } from '../core/project.js';
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
