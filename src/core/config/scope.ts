import type { Problems } from '../errors.js';
import { PlaceholderError } from '../placeholders/parse.js';
import {
  collectReferences,
  resolveValue,
  type OutputState,
  type PathError,
  type ResolveScope,
} from '../placeholders/resolve.js';
import { didYouMean } from '../suggest.js';
import { BUILTINS, type Workspace } from './load.js';
import type { CredentialEntry, Environment, InputEntry, Origin, Site } from './model.js';

/**
 * Most variables one chain of references may pass through (`a` reads `#{b}`, which reads `#{c}`...,
 * `a` included). Each link is a nested resolution, so a longer chain could exhaust the call stack.
 */
export const MAX_VARIABLE_CHAIN = 32;

/** Thrown when resolving one more variable would make the chain longer than MAX_VARIABLE_CHAIN. */
class ChainLimit extends PlaceholderError {
  constructor(readonly variable: string) {
    super(`variable chain longer than ${MAX_VARIABLE_CHAIN}`, 0);
  }
}

/** A variable's first reference on its longest chain: the variable read, and where. */
interface Link {
  next: string;
  path: (string | number)[];
  offset: number;
}

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
  /** Longest chain from each resolved variable, itself included (Infinity: cut at the limit). */
  private readonly chainLength = new Map<string, number>();
  private readonly longest = new Map<string, Link>();
  /** Variables on a chain already reported too long: another start that reaches them is not reported again. */
  private readonly onLongChain = new Set<string>();
  private readonly builtins = new Map<string, unknown>();
  private readonly missingBuiltins = new Map<string, string>();
  private readonly unknownMessages = new Map<string, string>();

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
    // Once per name: a file can misspell one name thousands of times, and suggestions cost.
    let message = this.unknownMessages.get(name);
    if (message === undefined) {
      message =
        this.missingBuiltins.get(name) ?? `unknown variable "${name}"${didYouMean(name, this.names())}`;
      this.unknownMessages.set(name, message);
    }
    return message;
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
    // Stop before the chain gets longer than the limit; the start of the chain reports it.
    if (this.resolving.length >= MAX_VARIABLE_CHAIN) {
      this.onLongChain.add(name);
      throw new ChainLimit(name);
    }
    this.resolving.push(name);
    try {
      const errors: PathError[] = [];
      const r = resolveValue(entry.value, this.scope(), errors);
      // Report a cycle once, where it closes, not at every variable on it.
      const [first] = errors;
      if (first && first.error.message.startsWith('variable cycle:') && this.resolving.length > 1)
        throw first.error;
      const cut = errors.find((e) => e.error instanceof ChainLimit);
      reportPathErrors(
        this.ws,
        entry.origin,
        errors.filter((e) => !(e.error instanceof ChainLimit)),
        this.problems,
      );
      this.values.set(name, r.value);
      this.measureChain(name, entry, cut && (cut.error as ChainLimit).variable);
      if (this.resolving.length === 1) this.checkChain(name);
      return { value: r.value };
    } finally {
      this.resolving.pop();
    }
  }

  /**
   * Records the longest chain from a resolved variable. Resolved variables are cached, so a chain
   * is measured through the cache too: its length does not depend on which variable is read first.
   */
  private measureChain(name: string, entry: InputEntry, cutAt: string | undefined): void {
    let length = 1;
    let link: Link | undefined;
    for (const ref of collectReferences(entry.value)) {
      if (ref.ref.kind !== 'variable') continue;
      const next = ref.ref.name;
      const below = next === cutAt ? Infinity : this.chainLength.get(next);
      if (below !== undefined && below + 1 > length) {
        length = below + 1;
        link = { next, path: ref.path, offset: ref.offset };
      }
    }
    this.chainLength.set(name, length);
    if (link) this.longest.set(name, link);
  }

  /** Reports a chain longer than the limit once, at the reference that goes past the limit. */
  private checkChain(start: string): void {
    if ((this.chainLength.get(start) ?? 0) <= MAX_VARIABLE_CHAIN) return;
    const chain = [start];
    let link = this.longest.get(start);
    while (link && chain.length < MAX_VARIABLE_CHAIN) {
      const further = this.longest.get(link.next);
      if (!further) break;
      chain.push(link.next);
      link = further;
    }
    const seen = chain.some((v) => this.onLongChain.has(v));
    chain.forEach((v) => this.onLongChain.add(v));
    const last = chain.at(-1) as string;
    const origin = this.env.variables.get(last)?.origin;
    if (seen || !link || !origin) return;
    this.onLongChain.add(link.next);
    const file = this.ws.files.get(origin.file);
    const pos = file
      ? file.locateInString([...origin.path, ...link.path], link.offset)
      : { file: origin.file, line: 1, column: 1 };
    this.problems.error(
      pos,
      `variable chain starting at "${start}" is longer than ${MAX_VARIABLE_CHAIN} variables: ` +
        `#{${link.next}} here would be variable ${chain.length + 1}; shorten the chain`,
    );
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
