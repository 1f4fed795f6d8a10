import { parseArgs as parseArgv } from 'node:util';
import { parseDuration } from '../../core/duration.js';
import { InputError } from '../../core/errors.js';
import { didYouMean } from '../../core/suggest.js';

/** Every option, once: its kind, the value it takes, and its one-line help. */
const FLAGS = {
  site: { type: 'string', value: 'S', help: 'the site (its folder under the config root)' },
  env: { type: 'string', value: 'E', help: 'the environment' },
  json: { type: 'boolean', help: 'print one JSON document on stdout and nothing else there' },
  markdown: { type: 'boolean', help: 'print markdown (as the PR comment shows it)' },
  root: { type: 'string', value: 'DIR', help: 'repository root holding sites/ and modules/ (default: .)' },
  'config-root': {
    type: 'string',
    value: 'DIR',
    help: 'sites folder, relative to the root (default: sites)',
  },
  catalog: { type: 'string', value: 'DIR', help: 'module catalog, relative to the root (default: modules)' },
  'max-parallel': {
    type: 'string',
    value: 'N',
    help: 'most module steps of one wave at once, 1–64 (default: 4)',
  },
  'changed-from': { type: 'string', value: 'REF', help: 'only what changed since this git ref' },
  'terraform-binary': { type: 'string', value: 'BIN', help: 'terraform or tofu (default: terraform)' },
  'lock-timeout': {
    type: 'string',
    value: 'T',
    help: "how long to wait for another run's lock, and Terraform's state lock (default: 5m)",
  },
  credentials: {
    type: 'string',
    value: 'C',
    help: 'ambient (default): each step assumes its role from the AWS default credential chain; none: steps get no AWS credentials',
  },
  'break-glass': {
    type: 'string',
    value: 'REASON',
    help: "apply despite a freeze or promotion check, with a recorded reason (only for site.yaml's break_glass.allowed)",
  },
  verbose: { type: 'boolean', help: "show engine output (plan/apply) and internal errors' stack traces" },
  help: { type: 'boolean', help: 'show this help' },
} as const;

type Flag = keyof typeof FLAGS;

/** Options every command takes. */
const COMMON: Flag[] = ['root', 'config-root', 'catalog', 'verbose', 'help'];
const RUN_FLAGS: Flag[] = [
  'site',
  'env',
  'json',
  'max-parallel',
  'terraform-binary',
  'lock-timeout',
  'credentials',
];

/** One command: what it does, how it is called, its own options and an example. */
interface CommandSpec {
  summary: string;
  usage: string;
  flags: Flag[];
  example: string;
  /** Options it cannot run without. */
  needs?: ('site' | 'env')[];
  /** Its positional arguments, exactly. */
  positional?: string[];
}

const SPECS = {
  validate: {
    summary: 'check every config file, placeholder, graph rule and credential rule; all problems at once',
    usage: 'site-deploy validate [--site S] [--env E] [--json]',
    flags: ['site', 'env', 'json'],
    example: 'site-deploy validate --root examples',
  },
  graph: {
    summary: "show a site × environment's waves, edges and resolved inputs (secrets redacted)",
    usage: 'site-deploy graph --site S --env E [--json]',
    flags: ['site', 'env', 'json'],
    needs: ['site', 'env'],
    example: 'site-deploy graph --root examples --site client-portal --env dev',
  },
  plan: {
    summary: 'plan every module of a site × environment in order',
    usage: 'site-deploy plan --site S --env E [--max-parallel N] [--json]',
    flags: RUN_FLAGS,
    needs: ['site', 'env'],
    example: 'site-deploy plan --root examples --site client-portal --env dev --credentials none',
  },
  apply: {
    summary: 'plan and apply every module in order, each right after its upstreams; halts on failure',
    usage: 'site-deploy apply --site S --env E [--max-parallel N] [--break-glass REASON] [--json]',
    flags: [...RUN_FLAGS, 'break-glass'],
    needs: ['site', 'env'],
    example: 'site-deploy apply --root examples --site client-portal --env dev --credentials none',
  },
  verify: {
    summary: 'verify a deployed site × environment (not available in this version yet)',
    usage: 'site-deploy verify --site S --env E [--json]',
    flags: ['site', 'env', 'json'],
    needs: ['site', 'env'],
    example: 'site-deploy verify --site client-portal --env production',
  },
  drift: {
    summary: 'detect drift (not available in this version yet)',
    usage: 'site-deploy drift --site S --env E [--json]',
    flags: ['site', 'env', 'json'],
    needs: ['site', 'env'],
    example: 'site-deploy drift --site client-portal --env production',
  },
  matrix: {
    summary: 'list the site × environment pairs for a GitHub Actions matrix, or only those a change affects',
    usage: 'site-deploy matrix [--changed-from REF] [--json]',
    flags: ['changed-from', 'json'],
    example: 'site-deploy matrix --changed-from origin/main --json',
  },
  summarize: {
    summary: 'summarize a plan file (terraform show -json): counts and addresses, never a value',
    usage: 'site-deploy summarize PLAN.json [--json | --markdown]',
    flags: ['json', 'markdown'],
    positional: ['PLAN.json'],
    example: 'terraform show -json tfplan > plan.json && site-deploy summarize plan.json',
  },
  'trust-policy': {
    summary: 'print the IAM trust and session policies a site × environment needs',
    usage: 'site-deploy trust-policy --site S --env E [--json]',
    flags: ['site', 'env', 'json'],
    needs: ['site', 'env'],
    example: 'site-deploy trust-policy --root examples --site client-portal --env production',
  },
  'force-unlock': {
    summary: 'remove the run lock of a site × environment left by a run that was killed',
    usage: 'site-deploy force-unlock --site S --env E',
    flags: ['site', 'env'],
    needs: ['site', 'env'],
    example: 'site-deploy force-unlock --site client-portal --env production',
  },
} satisfies Record<string, CommandSpec>;

/** The CLI's commands (SPEC §9). */
export const COMMANDS = Object.keys(SPECS) as Command[];
/** One CLI command. */
export type Command = keyof typeof SPECS;

/** Parsed command line. */
export interface CliArgs {
  command: Command;
  positional: string[];
  site?: string;
  env?: string;
  json: boolean;
  markdown: boolean;
  root: string;
  configRoot: string;
  catalog: string;
  maxParallel: number;
  changedFrom?: string;
  terraformBinary: string;
  lockTimeout: string;
  /** The run lock's wait, from --lock-timeout. */
  lockTimeoutMs: number;
  /** apply: the break-glass reason. */
  breakGlass?: string;
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
    readonly command?: Command,
  ) {
    super([{ file: '', line: 0, column: 0, message, severity: 'error' }], message);
    this.name = 'UsageError';
  }
}

const spec = (c: Command): CommandSpec => SPECS[c];

/** A command's own help: what it does, usage, its options, an example. */
export function commandHelp(c: Command): string {
  const s = spec(c);
  const flags = [...s.flags, ...COMMON];
  const label = (f: Flag): string => {
    const d = FLAGS[f];
    return `--${f}${'value' in d ? ` ${d.value}` : ''}`;
  };
  const width = Math.max(...flags.map((f) => label(f).length));
  return [
    `site-deploy ${c} — ${s.summary}`,
    '',
    `Usage: ${s.usage}`,
    '',
    'Options:',
    ...flags.map((f) => `  ${label(f).padEnd(width)}  ${FLAGS[f].help}`),
    '',
    'Example:',
    `  ${s.example}`,
  ].join('\n');
}

/** The CLI's help text. */
export const USAGE = `site-deploy — deploy a site's ordered module graph to many AWS accounts

Usage:
${COMMANDS.map((c) => `  ${spec(c).usage}`).join('\n')}

Every command takes --root DIR, --config-root DIR, --catalog DIR and --help
("site-deploy <command> --help" shows that command's options and an example).

Exit codes: 0 success; 1 a step failed, a policy denied, a lock was held or verification
failed; 2 bad input (config, arguments, files); 3 drift found (drift only).`;

/** What util.parseArgs says about a bad option, as our message. */
function optionProblem(e: { code?: string; message: string }, c: Command): string {
  const name = /'(-[^' ]+)/.exec(e.message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const own = [...spec(c).flags, ...COMMON].map((f) => `--${f}`);
    const elsewhere = (Object.keys(FLAGS) as Flag[]).some((f) => `--${f}` === name);
    return elsewhere
      ? `${c} has no option "${name}"; its options: ${own.join(', ')}`
      : `unknown option "${name}"${didYouMean(name, own) || `; ${c}'s options: ${own.join(', ')}`}`;
  }
  if (/does not take an argument/.test(e.message)) return `${name} takes no value`;
  return `${name} needs a value`;
}

/** Parses argv (without node and script). Throws UsageError on anything it does not understand. */
export function parseArgs(argv: string[]): Parsed {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') return { help: USAGE };
  if (cmd === 'help') {
    const about = rest[0];
    if (about === undefined) return { help: USAGE };
    if (!(COMMANDS as string[]).includes(about))
      throw new UsageError(
        `unknown command "${about}"${didYouMean(about, COMMANDS) || `; commands: ${COMMANDS.join(', ')}`}`,
      );
    return { help: commandHelp(about as Command) };
  }
  if (cmd === '--version' || cmd === '-v') return 'version';
  if (!(COMMANDS as string[]).includes(cmd)) {
    throw new UsageError(
      `unknown command "${cmd}"${didYouMean(cmd, COMMANDS) || `; commands: ${COMMANDS.join(', ')}`}`,
    );
  }
  const command = cmd as Command;
  const s = spec(command);
  const options = Object.fromEntries(
    [...s.flags, ...COMMON].map((f) => [f, { type: FLAGS[f].type }]),
  ) as Record<Flag, { type: 'string' | 'boolean' }>;
  let parsed: ReturnType<typeof parseArgv>;
  try {
    parsed = parseArgv({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(optionProblem(e as { code?: string; message: string }, command), command);
  }
  const v = parsed.values as Partial<Record<Flag, string | boolean>>;
  if (v.help) return { help: commandHelp(command) };
  const str = (f: Flag): string | undefined => {
    const x = v[f];
    if (x === '') throw new UsageError(`--${f} needs a value`, command);
    return typeof x === 'string' ? x : undefined;
  };
  const maxParallelText = str('max-parallel') ?? '4';
  const maxParallel = Number(maxParallelText);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64)
    throw new UsageError(
      `--max-parallel must be a whole number from 1 to 64, not "${maxParallelText}"`,
      command,
    );
  const credentials = str('credentials') ?? 'ambient';
  if (credentials !== 'ambient' && credentials !== 'none')
    throw new UsageError(`--credentials must be ambient or none, not "${credentials}"`, command);
  const lockTimeout = str('lock-timeout') ?? '5m';
  const lockTimeoutMs = parseDuration(lockTimeout);
  if (lockTimeoutMs === undefined)
    throw new UsageError(
      `--lock-timeout must be a duration like 30s, 5m or 1h, not "${lockTimeout}"`,
      command,
    );
  const args: CliArgs = {
    command,
    positional: parsed.positionals,
    site: str('site'),
    env: str('env'),
    json: v.json === true,
    markdown: v.markdown === true,
    root: str('root') ?? '.',
    configRoot: str('config-root') ?? 'sites',
    catalog: str('catalog') ?? 'modules',
    maxParallel,
    changedFrom: str('changed-from'),
    terraformBinary: str('terraform-binary') ?? 'terraform',
    lockTimeout,
    lockTimeoutMs,
    breakGlass: str('break-glass'),
    verbose: v.verbose === true,
    credentials,
  };
  if (args.breakGlass !== undefined && !args.breakGlass.trim())
    throw new UsageError('--break-glass needs a reason: --break-glass "<why this cannot wait>"', command);
  const missing = (s.needs ?? []).filter((k) => !args[k]).map((k) => `--${k}`);
  if (missing.length) throw new UsageError(`${command} needs ${missing.join(' and ')}`, command);
  const wanted = s.positional ?? [];
  if (parsed.positionals.length > wanted.length)
    throw new UsageError(`unexpected argument "${parsed.positionals[wanted.length]}"`, command);
  if (parsed.positionals.length < wanted.length)
    throw new UsageError(
      `${command} needs ${wanted.length === 1 ? 'exactly one' : wanted.length} ${wanted.join(' ')} argument`,
      command,
    );
  if (args.json && args.markdown)
    throw new UsageError('--json and --markdown cannot be used together', command);
  for (const [k, p] of [
    ['config-root', args.configRoot],
    ['catalog', args.catalog],
  ] as const) {
    if (p.startsWith('/') || p.split('/').includes('..'))
      throw new UsageError(`--${k} must be a path inside --root, not "${p}"`, command);
  }
  return args;
}
