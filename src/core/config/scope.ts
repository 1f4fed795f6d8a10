import type { Problems } from '../errors.js';
import { PlaceholderError } from '../placeholders/parse.js';
import {
  resolveValue,
  type OutputState,
  type PathError,
  type ResolveScope,
} from '../placeholders/resolve.js';
import { didYouMean } from '../suggest.js';
import { BUILTINS, type Workspace } from './load.js';
import type { CredentialEntry, Environment, Origin, Site } from './model.js';

/** Facts about the run that built-in variables expose. */
export interface RunContext {
  repository: string;
  sha: string;
  ref: string;
  runId: string;
  actor: string;
}

/** Records placeholder errors of one value at their exact file, line and column. */
export function reportPathErrors(
  ws: Workspace,
  origin: Origin,
  errors: PathError[],
  problems: Problems,
  suffix = '',
): void {
  const file = ws.files.get(origin.file);
  for (const { path, error } of errors) {
    const pos = file
      ? file.locateInString([...origin.path, ...path.slice(0)], error.offset)
      : { file: origin.file, line: 1, column: 1 };
    problems.error(pos, `${error.message}${suffix}`);
  }
}

/**
 * The variables of one site × environment: built-ins plus the environment's `variables`, which may
 * read each other (never module outputs). Resolved lazily, once each; cycles are errors.
 */
export class Variables {
  private readonly values = new Map<string, unknown>();
  private readonly resolving: string[] = [];
  private readonly builtins = new Map<string, unknown>();
  private readonly missingBuiltins = new Map<string, string>();

  constructor(
    private readonly ws: Workspace,
    readonly site: Site,
    readonly env: Environment,
    readonly credentials: CredentialEntry | undefined,
    ctx: RunContext,
    private readonly problems: Problems,
  ) {
    const b = this.builtins;
    b.set('Environment', env.name);
    b.set('Lifecycle', env.lifecycle);
    b.set('Site', site.name);
    b.set('SiteSlug', site.slug);
    if (site.owner !== undefined) b.set('Owner', site.owner);
    else this.missingBuiltins.set('Owner', 'built-in #{Owner} is not set: add site.owner to site.yaml');
    b.set('Repository', ctx.repository);
    b.set('GitSha', ctx.sha);
    b.set('GitShortSha', ctx.sha.slice(0, 7));
    b.set('Ref', ctx.ref);
    b.set('RunId', ctx.runId);
    b.set('Actor', ctx.actor);
    if (credentials) {
      b.set('Account', credentials.account);
      b.set('Region', credentials.region);
    } else {
      const why = `credentials.yaml has no entry for environment "${env.name}"`;
      this.missingBuiltins.set('Account', `built-in #{Account} is not available: ${why}`);
      this.missingBuiltins.set('Region', `built-in #{Region} is not available: ${why}`);
    }
    this.missingBuiltins.set('Module', 'built-in #{Module} is only available in module inputs');
    this.missingBuiltins.set('ModuleType', 'built-in #{ModuleType} is only available in module inputs');
  }

  /** Every name a placeholder may read here, for suggestions. */
  names(): string[] {
    return [...this.env.variables.keys(), ...BUILTINS];
  }

  /** The message for an unknown or unavailable name. */
  unknown(name: string): string {
    return this.missingBuiltins.get(name) ?? `unknown variable "${name}"${didYouMean(name, this.names())}`;
  }

  /** A variable's resolved value, or undefined when there is no such variable. */
  get(name: string): { value: unknown } | undefined {
    if (this.builtins.has(name)) return { value: this.builtins.get(name) };
    if (this.values.has(name)) return { value: this.values.get(name) };
    const entry = this.env.variables.get(name);
    if (!entry) return undefined;
    if (this.resolving.includes(name)) {
      const cycle = [...this.resolving.slice(this.resolving.indexOf(name)), name].join(' -> ');
      throw new PlaceholderError(`variable cycle: ${cycle}`, 0);
    }
    this.resolving.push(name);
    try {
      const errors: PathError[] = [];
      const r = resolveValue(entry.value, this.scope(), errors);
      // Report a cycle once, where it closes, not at every variable on it.
      const [first] = errors;
      if (first && first.error.message.startsWith('variable cycle:') && this.resolving.length > 1)
        throw first.error;
      reportPathErrors(this.ws, entry.origin, errors, this.problems);
      this.values.set(name, r.value);
      return { value: r.value };
    } finally {
      this.resolving.pop();
    }
  }

  /** A scope that reads variables only: module outputs are an error. */
  scope(extra?: Map<string, unknown>): ResolveScope {
    return {
      variable: (n) => (extra?.has(n) ? { value: extra.get(n) } : this.get(n)),
      unknownVariable: (n) => this.unknown(n),
      output: (m, o) =>
        `#{${m}.${o}}: environment variables and state settings read variables only, never module outputs`,
    };
  }

  /** A scope reading variables plus module outputs through `output`. */
  withOutputs(
    output: (module: string, name: string) => OutputState | string,
    extra?: Map<string, unknown>,
  ): ResolveScope {
    return { ...this.scope(extra), output };
  }
}
