import { resolve } from 'node:path';
import { parseArgs as parseArgv } from 'node:util';
import type { Command } from '../../commands/descriptor.js';
import { COMMAND_LIST, findCommand } from '../../commands/index.js';
import { COMMON_FLAGS, FLAGS, type Flag, type Options } from '../../commands/options.js';
import { parseDuration } from '../../core/duration.js';
import { InputError } from '../../core/errors.js';
import { didYouMean } from '../../core/suggest.js';
import { staysInsideRoot } from '../paths.js';

/** The CLI's commands (SPEC §9), in the order the help lists them. */
export const COMMANDS: string[] = COMMAND_LIST.map((c) => c.name);

/** Parsed command line: the command, the options it gets, and what only the CLI reads. */
export interface CliArgs {
  command: Command;
  options: Options;
  json: boolean;
  markdown: boolean;
  terraformBinary: string;
  lockTimeout: string;
  verbose: boolean;
  /** ambient: assume each step's role from the AWS default credential chain; none: steps get no AWS credentials. */
  credentials: 'ambient' | 'none';
}

/** What the command line asks for: a command to run, or help to print. */
export type Parsed = CliArgs | { help: string } | 'version';

/** Raised for a bad command line; the CLI prints it with a usage hint and exits 2. */
export class UsageError extends InputError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super([{ file: '', line: 0, column: 0, message, severity: 'error' }], message);
    this.name = 'UsageError';
  }
}

/** A flag as its help shows it: `--name VALUE`. */
function label(f: Flag): string {
  const d = FLAGS[f];
  return `--${f}${'value' in d ? ` ${d.value}` : ''}`;
}

/** A command's own help: what it does, usage, its options, an example. */
export function commandHelp(name: string): string {
  const c = findCommand(name);
  if (!c) throw new UsageError(unknownCommand(name));
  const flags = [...c.flags, ...COMMON_FLAGS];
  const width = Math.max(...flags.map((f) => label(f).length));
  return [
    `site-deploy ${c.name} — ${c.summary}`,
    '',
    `Usage: ${c.usage}`,
    '',
    'Options:',
    ...flags.map((f) => `  ${label(f).padEnd(width)}  ${FLAGS[f].help}`),
    '',
    'Example:',
    `  ${c.example}`,
  ].join('\n');
}

/** The CLI's help text. */
export const USAGE = `site-deploy — deploy a site's ordered module graph to many AWS accounts

Usage:
${COMMAND_LIST.map((c) => `  ${c.usage}`).join('\n')}

Every command takes --root DIR, --config-root DIR, --catalog DIR and --help
("site-deploy <command> --help" shows that command's options and an example).

Exit codes: 0 success; 1 a step failed, a policy denied, a lock was held or verification
failed; 2 bad input (config, arguments, files); 3 drift found (drift only).`;

function unknownCommand(name: string): string {
  return `unknown command "${name}"${didYouMean(name, COMMANDS) || `; commands: ${COMMANDS.join(', ')}`}`;
}

const isFlag = (name: string): name is Flag => Object.hasOwn(FLAGS, name);

/** What util.parseArgs says about a bad option, as our message. */
function optionProblem(e: unknown, c: Command): string {
  // Duck-typed: util.parseArgs' errors may come from another realm than this module's Error.
  const field = (k: string): unknown => (typeof e === 'object' && e !== null ? Reflect.get(e, k) : undefined);
  const message = String(field('message') ?? e);
  const code = field('code');
  const name = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const own = [...c.flags, ...COMMON_FLAGS].map((f) => `--${f}`);
    return isFlag(name.replace(/^--/, ''))
      ? `${c.name} has no option "${name}"; its options: ${own.join(', ')}`
      : `unknown option "${name}"${didYouMean(name, own) || `; ${c.name}'s options: ${own.join(', ')}`}`;
  }
  if (/does not take an argument/.test(message)) return `${name} takes no value`;
  return `${name} needs a value`;
}

/** The flag values util.parseArgs read, by flag. */
type FlagValues = Partial<Record<Flag, string | boolean>>;

/** Reads a command's flags; util.parseArgs' complaints become usage errors. */
function readFlags(c: Command, rest: string[]): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const f of [...c.flags, ...COMMON_FLAGS]) options[f] = { type: FLAGS[f].type };
  try {
    const parsed = parseArgv({ args: rest, options, allowPositionals: true, strict: true });
    const values: FlagValues = {};
    for (const [k, v] of Object.entries(parsed.values))
      if (isFlag(k) && (typeof v === 'string' || typeof v === 'boolean')) values[k] = v;
    return { values, positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError(optionProblem(e, c), c.name);
  }
}

/** A checked value of each flag, or the usage error saying what is wrong with it. */
class FlagReader {
  constructor(
    private readonly v: FlagValues,
    private readonly c: string,
  ) {}

  fail(message: string): never {
    throw new UsageError(message, this.c);
  }

  str(f: Flag): string | undefined {
    const x = this.v[f];
    if (x === '') this.fail(`--${f} needs a value`);
    return typeof x === 'string' ? x : undefined;
  }

  on(f: Flag): boolean {
    return this.v[f] === true;
  }

  maxParallel(): number {
    const text = this.str('max-parallel') ?? '4';
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 64)
      this.fail(`--max-parallel must be a whole number from 1 to 64, not "${text}"`);
    return n;
  }

  credentials(): 'ambient' | 'none' {
    const c = this.str('credentials') ?? 'ambient';
    if (c !== 'ambient' && c !== 'none') this.fail(`--credentials must be ambient or none, not "${c}"`);
    return c;
  }

  lockTimeout(): { text: string; ms: number } {
    const text = this.str('lock-timeout') ?? '5m';
    const ms = parseDuration(text);
    if (ms === undefined) this.fail(`--lock-timeout must be a duration like 30s, 5m or 1h, not "${text}"`);
    return { text, ms };
  }

  /** A folder inside --root. */
  inside(f: 'config-root' | 'catalog', p: string): void {
    if (!staysInsideRoot(p)) this.fail(`--${f} must be a path inside --root, not "${p}"`);
  }
}

/** The command's arguments, checked: values, needs, positionals, and formats that exclude each other. */
function commandArgs(c: Command, rest: string[], cwd: string): CliArgs | { help: string } {
  const { values, positionals } = readFlags(c, rest);
  if (values.help) return { help: commandHelp(c.name) };
  const r = new FlagReader(values, c.name);
  const maxParallel = r.maxParallel();
  const credentials = r.credentials();
  const lock = r.lockTimeout();
  const site = r.str('site');
  const env = r.str('env');
  const root = r.str('root') ?? '.';
  const layout = { configRoot: r.str('config-root') ?? 'sites', catalog: r.str('catalog') ?? 'modules' };
  const changedFrom = r.str('changed-from');
  const terraformBinary = r.str('terraform-binary') ?? 'terraform';
  const breakGlass = r.str('break-glass');
  const flags: Partial<Record<Flag, string>> = {};
  for (const f of c.flags) {
    const v = FLAGS[f].type === 'string' ? r.str(f) : r.on(f) ? 'true' : undefined;
    if (v !== undefined) flags[f] = v;
  }
  if (breakGlass !== undefined && !breakGlass.trim())
    r.fail('--break-glass needs a reason: --break-glass "<why this cannot wait>"');
  const given = { site, env };
  const missing = (c.needs ?? []).filter((k) => !given[k]).map((k) => `--${k}`);
  if (missing.length) r.fail(`${c.name} needs ${missing.join(' and ')}`);
  const wanted = c.positional ?? [];
  if (positionals.length > wanted.length) r.fail(`unexpected argument "${positionals[wanted.length]}"`);
  if (positionals.length < wanted.length)
    r.fail(
      `${c.name} needs ${wanted.length === 1 ? 'exactly one' : wanted.length} ${wanted.join(' ')} argument`,
    );
  if (r.on('json') && r.on('markdown')) r.fail('--json and --markdown cannot be used together');
  r.inside('config-root', layout.configRoot);
  r.inside('catalog', layout.catalog);
  return {
    command: c,
    options: {
      root: resolve(cwd, root),
      layout,
      site,
      env,
      positional: positionals,
      maxParallel,
      lockTimeoutMs: lock.ms,
      changedFrom,
      breakGlass,
      flags,
      ephemeralRunner: process.env.GITHUB_ACTIONS === 'true',
    },
    json: r.on('json'),
    markdown: r.on('markdown'),
    terraformBinary,
    lockTimeout: lock.text,
    verbose: r.on('verbose'),
    credentials,
  };
}

/** Parses argv (without node and script). Throws UsageError on anything it does not understand. */
export function parseArgs(argv: string[], cwd = process.cwd()): Parsed {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') return { help: USAGE };
  if (cmd === 'help') return rest[0] === undefined ? { help: USAGE } : { help: commandHelp(rest[0]) };
  if (cmd === '--version' || cmd === '-v') return 'version';
  const c = findCommand(cmd);
  if (!c) throw new UsageError(unknownCommand(cmd));
  return commandArgs(c, rest, cwd);
}
