import { InputError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { didYouMean } from '../../core/suggest.js';

/** The CLI's commands (SPEC §9). */
export const COMMANDS = [
  'validate',
  'graph',
  'plan',
  'apply',
  'verify',
  'drift',
  'matrix',
  'summarize',
  'trust-policy',
  'force-unlock',
] as const;
/** One CLI command. */
export type Command = (typeof COMMANDS)[number];

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
  verbose: boolean;
  /** ambient: assume each step's role from the AWS default credential chain; none: steps get no AWS credentials. */
  credentials: 'ambient' | 'none';
}

const VALUE_FLAGS = [
  'site',
  'env',
  'root',
  'config-root',
  'catalog',
  'max-parallel',
  'changed-from',
  'terraform-binary',
  'lock-timeout',
  'credentials',
] as const;
const BOOL_FLAGS = ['json', 'markdown', 'verbose'] as const;

/** Raised for a bad command line; the CLI prints it with usage and exits 2. */
export class UsageError extends InputError {
  constructor(message: string) {
    super([{ file: '', line: 0, column: 0, message, severity: 'error' }], message);
    this.name = 'UsageError';
  }
}

/** Parses argv (without node and script). Throws UsageError on anything it does not understand. */
export function parseArgs(argv: string[]): CliArgs | 'help' | 'version' {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return 'help';
  if (argv[0] === '--version' || argv[0] === '-v') return 'version';
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    throw new UsageError(
      `unknown command "${cmd}"${didYouMean(cmd, COMMANDS) || `; commands: ${COMMANDS.join(', ')}`}`,
    );
  }
  const values = new Map<string, string>();
  const bools = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if ((BOOL_FLAGS as readonly string[]).includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      bools.add(name);
    } else if ((VALUE_FLAGS as readonly string[]).includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--')))
        throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(
        `unknown option "--${name}"${didYouMean(
          `--${name}`,
          [...VALUE_FLAGS, ...BOOL_FLAGS].map((f) => `--${f}`),
        )}`,
      );
    }
  }
  const maxParallelText = values.get('max-parallel') ?? '4';
  const maxParallel = Number(maxParallelText);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64) {
    throw new UsageError(`--max-parallel must be a whole number from 1 to 64, not "${maxParallelText}"`);
  }
  const command = cmd as Command;
  const args: CliArgs = {
    command,
    positional,
    site: values.get('site'),
    env: values.get('env'),
    json: bools.has('json'),
    markdown: bools.has('markdown'),
    root: values.get('root') ?? '.',
    configRoot: values.get('config-root') ?? 'sites',
    catalog: values.get('catalog') ?? 'modules',
    maxParallel,
    changedFrom: values.get('changed-from'),
    terraformBinary: values.get('terraform-binary') ?? 'terraform',
    lockTimeout: values.get('lock-timeout') ?? '5m',
    lockTimeoutMs: 0,
    verbose: bools.has('verbose'),
    credentials: 'ambient',
  };
  const credentials = values.get('credentials') ?? 'ambient';
  if (credentials !== 'ambient' && credentials !== 'none')
    throw new UsageError(`--credentials must be ambient or none, not "${credentials}"`);
  args.credentials = credentials;
  const lockMs = parseDuration(args.lockTimeout);
  if (lockMs === undefined)
    throw new UsageError(`--lock-timeout must be a duration like 30s, 5m or 1h, not "${args.lockTimeout}"`);
  args.lockTimeoutMs = lockMs;
  const needsSiteEnv: Command[] = [
    'graph',
    'plan',
    'apply',
    'verify',
    'drift',
    'trust-policy',
    'force-unlock',
  ];
  if (needsSiteEnv.includes(command)) {
    const missing = (['site', 'env'] as const).filter((k) => !args[k]).map((k) => `--${k}`);
    if (missing.length) throw new UsageError(`${command} needs ${missing.join(' and ')}`);
  }
  if (command === 'summarize' && positional.length !== 1)
    throw new UsageError('summarize needs exactly one PLAN.json argument');
  if (command !== 'summarize' && positional.length > 0)
    throw new UsageError(`unexpected argument "${positional[0]}"`);
  if (args.json && args.markdown) throw new UsageError('--json and --markdown cannot be used together');
  for (const [k, v] of [
    ['config-root', args.configRoot],
    ['catalog', args.catalog],
  ] as const) {
    if (v.startsWith('/') || v.split('/').includes('..'))
      throw new UsageError(`--${k} must be a path inside --root, not "${v}"`);
  }
  return args;
}

/** The CLI's help text. */
export const USAGE = `site-deploy — deploy a site's ordered module graph to many AWS accounts

Usage:
  site-deploy validate   [--site S] [--env E] [--json]
  site-deploy graph      --site S --env E [--json]
  site-deploy plan|apply --site S --env E [--max-parallel N] [--json]
  site-deploy verify|drift --site S --env E
  site-deploy matrix     [--changed-from REF] [--json]
  site-deploy summarize  PLAN.json [--json | --markdown]
  site-deploy trust-policy --site S --env E
  site-deploy force-unlock --site S --env E   # remove the run lock of a run that is gone

Options:
  --root DIR          repository root holding sites/ and modules/ (default: .)
  --config-root DIR   sites folder, relative to the root (default: sites)
  --catalog DIR       module catalog, relative to the root (default: modules)
  --terraform-binary  terraform or tofu (default: terraform)
  --lock-timeout T    how long to wait for another run's lock, and Terraform's state
                      lock (default: 5m)
  --credentials C     ambient (default): each module step assumes its role from the AWS
                      default credential chain; none: steps run with no AWS credentials
                      (modules that need no AWS, like the offline example)
  --verbose           show stack traces of internal errors

Exit codes: 0 success; 1 a step failed, a policy denied or verification failed;
2 bad input (config, arguments, files); 3 drift found (drift only).`;
