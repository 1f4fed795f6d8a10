/**
 * The options commands take, once for both front doors: the CLI flags with their help, the action
 * inputs, and the checked values a front door hands a command (its `Options`).
 */
import type { Layout } from '../core/config/load.js';

/** Every CLI flag, once: its kind, the value it takes, and its one-line help. */
export const FLAGS = {
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
  'require-isolation': { type: 'boolean', help: 'fail before any step unless every step runs sandboxed' },
  module: { type: 'string', value: 'M', help: 'only this module' },
  verbose: { type: 'boolean', help: "show engine output (plan/apply) and internal errors' stack traces" },
  help: { type: 'boolean', help: 'show this help' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; value?: string; help: string }>;

/** One CLI flag. */
export type Flag = keyof typeof FLAGS;

/** Flags every command takes. */
export const COMMON_FLAGS: readonly Flag[] = ['root', 'config-root', 'catalog', 'verbose', 'help'];

/** The flags of a command that runs module steps. */
export const STEP_FLAGS: readonly Flag[] = [
  'site',
  'env',
  'json',
  'max-parallel',
  'terraform-binary',
  'lock-timeout',
  'credentials',
];

/** Action inputs a command may read (each is in action.yml). */
export const INPUTS = [
  'site',
  'environment',
  'max-parallel',
  'terraform-binary',
  'lock-timeout',
  'break-glass',
  'binding',
  'max-plan-age',
  'binding-key',
  'changed-from',
  'require-isolation',
  'publish',
  'handoff',
] as const;

/** One command-specific action input. */
export type Input = (typeof INPUTS)[number];

/** The action inputs a command that runs module steps reads. */
export const STEP_INPUTS: readonly Input[] = [
  'site',
  'environment',
  'max-parallel',
  'terraform-binary',
  'lock-timeout',
];

/** What a front door hands a command: every option, checked, whichever door it came through. */
export interface Options {
  /** The repository root, absolute. */
  root: string;
  layout: Layout;
  site?: string;
  env?: string;
  positional: string[];
  maxParallel: number;
  /** How long to wait for another run of the same site × environment. */
  lockTimeoutMs: number;
  /** matrix: the ref changes are measured from (the action resolves its event's default). */
  changedFrom?: string;
  /** apply: the break-glass reason. */
  breakGlass?: string;
  /** The command's string flags as given on the command line (a command reads its own from here). */
  flags: Partial<Record<Flag, string>>;
  /** On an ephemeral CI runner (GitHub Actions), where local state starts from nothing every run. */
  ephemeralRunner: boolean;
  /** plan/apply in Actions: `handoff` writes the run's handoff for a `report` step instead of publishing to GitHub. */
  publish?: 'github' | 'handoff';
  /** report in Actions: where the handoffs are (a file or a folder). */
  handoff?: string;
  /** Approval binding (in Actions; absent on the CLI). */
  binding?: { enabled: boolean; maxPlanAgeMs: number; reviewCommit?: string; key?: string };
}

/** The site and environment a command needs (the front door checked `needs`). */
export function siteEnv(o: Options): { root: string; layout: Layout; site: string; env: string } {
  return { root: o.root, layout: o.layout, site: o.site ?? '', env: o.env ?? '' };
}
