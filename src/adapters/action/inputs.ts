import * as core from '@actions/core';
import { parseDuration } from '../../core/duration.js';
import { InputError } from '../../core/errors.js';
import type { Command } from '../../commands/descriptor.js';
import { COMMAND_LIST } from '../../commands/index.js';
import { staysInsideRoot } from '../paths.js';
import type { ActionIo } from './io.js';

/**
 * Action commands (SPEC §9): the commands that read action inputs, those that run module steps
 * first (as action.yml lists them).
 */
export const ACTION_COMMANDS: readonly Command[] = [
  ...COMMAND_LIST.filter((c) => c.inputs && c.uses === 'steps'),
  ...COMMAND_LIST.filter((c) => c.inputs && c.uses !== 'steps'),
];

/**
 * Inputs of the run environment every action command reads (beside each command's own inputs):
 * the command, where the config lives, and how the step reaches GitHub and AWS.
 */
export const ENVIRONMENT_INPUTS = [
  'command',
  'config-root',
  'catalog',
  'github-token',
  'github-token-login',
  'audience',
  'comment',
  'evidence-bucket',
  'attest',
  'credentials-mode',
] as const;

/** Every action input, read and checked once. */
export interface ActionSettings {
  command: Command;
  site?: string;
  environment?: string;
  root: string;
  configRoot: string;
  catalog: string;
  terraformBinary: string;
  maxParallel: number;
  githubToken?: string;
  /** `binding-key`: seals the plan's review and binds sensitive values by HMAC (masked at once). */
  bindingKey?: string;
  audience: string;
  /** The login github-token writes as: only its comments and deployments are read back as site-deploy's. */
  tokenLogin: string;
  comment: boolean;
  evidenceBucket?: string;
  /** Attest every evidence record (`attest: true`). */
  attest: boolean;
  /** apply: compare each module's plan with the one reviewed on the pull request (`binding: on`). */
  binding: boolean;
  /** apply: the reviewed plan may be at most this old. */
  maxPlanAgeMs: number;
  /** plan/apply: refuse unless every step runs sandboxed. */
  requireIsolation?: boolean;
  /** apply: the break-glass reason, when given. */
  breakGlass?: string;
  /** Passed to Terraform's `-lock-timeout`, and how long the run lock is waited for. */
  lockTimeout: string;
  lockTimeoutMs: number;
  credentialsMode: 'server' | 'env';
  /** matrix: the ref to measure changes from (empty: the event's default, see event.ts). */
  changedFrom?: string;
  /** plan/apply: `github` posts the comment and check run; `handoff` writes the handoff for a `report` step. */
  publish: 'github' | 'handoff';
  /** report: the handoff file or folder, relative to the workspace. */
  handoff?: string;
}

function input(name: string, fallback = ''): string {
  return core.getInput(name) || fallback;
}

function bool(name: string, fallback: boolean): boolean {
  const raw = core.getInput(name);
  if (raw === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(raw)) return true;
  if (['false', 'False', 'FALSE'].includes(raw)) return false;
  throw badInput(`input "${name}" must be true or false, not "${raw}"`);
}

function badInput(message: string): InputError {
  return new InputError([{ file: 'action.yml', line: 0, column: 0, message, severity: 'error' }], message);
}

/** config-root and catalog stay inside the workspace, by the rule the CLI applies to --root. */
function confine(s: ActionSettings): void {
  for (const [name, value] of [
    ['config-root', s.configRoot],
    ['catalog', s.catalog],
  ] as const)
    if (!staysInsideRoot(value))
      throw badInput(`input "${name}" must be a folder inside the workspace, not "${value}"`);
}

/** Reads the action's inputs. Defaults mirror action.yml, because the runner, not the toolkit, applies those. */
export function readSettings(io: ActionIo, env: NodeJS.ProcessEnv = process.env): ActionSettings {
  // The token is a secret before anything else is read or written.
  const githubToken = input('github-token') || undefined;
  if (githubToken) io.redactor.add(githubToken);
  const bindingKey = input('binding-key') || undefined;
  if (bindingKey) io.redactor.add(bindingKey);
  const name = input('command', 'plan');
  const command = ACTION_COMMANDS.find((c) => c.name === name);
  if (!command) {
    const names = ACTION_COMMANDS.map((c) => c.name);
    throw badInput(`input "command" must be one of ${names.join(', ')}, not "${name}"`);
  }
  const maxParallelText = input('max-parallel', '4');
  const maxParallel = Number(maxParallelText);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64) {
    throw badInput(`input "max-parallel" must be a whole number from 1 to 64, not "${maxParallelText}"`);
  }
  const settings: ActionSettings = {
    command,
    site: input('site') || undefined,
    environment: input('environment') || undefined,
    root: env.GITHUB_WORKSPACE || process.cwd(),
    configRoot: input('config-root', 'sites'),
    catalog: input('catalog', 'modules'),
    terraformBinary: input('terraform-binary', 'terraform'),
    maxParallel,
    githubToken,
    bindingKey,
    audience: input('audience', 'sts.amazonaws.com'),
    tokenLogin: input('github-token-login', 'github-actions[bot]').trim(),
    comment: bool('comment', true),
    evidenceBucket: input('evidence-bucket') || undefined,
    attest: bool('attest', false),
    requireIsolation: bool('require-isolation', false),
    binding: true,
    maxPlanAgeMs: 0,
    breakGlass: input('break-glass').trim() || undefined,
    lockTimeout: input('lock-timeout', '5m'),
    lockTimeoutMs: 0,
    credentialsMode: 'server',
    changedFrom: input('changed-from') || undefined,
    publish: 'github',
    handoff: input('handoff') || undefined,
  };
  confine(settings);
  const lockMs = parseDuration(settings.lockTimeout);
  if (lockMs === undefined)
    throw badInput(
      `input "lock-timeout" must be a duration like 30s, 5m or 1h, not "${settings.lockTimeout}"`,
    );
  settings.lockTimeoutMs = lockMs;
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(\[bot\])?$/.test(settings.tokenLogin))
    throw badInput(
      `input "github-token-login" must be a GitHub login such as github-actions[bot] or my-app[bot], not "${settings.tokenLogin}"`,
    );
  const binding = input('binding', 'on');
  if (binding !== 'on' && binding !== 'off')
    throw badInput(`input "binding" must be on or off, not "${binding}"`);
  settings.binding = binding === 'on';
  const age = input('max-plan-age', '7d');
  const ageMs = parseDuration(age);
  if (ageMs === undefined || ageMs <= 0)
    throw badInput(`input "max-plan-age" must be a duration like 7d, 36h or 90m, not "${age}"`);
  settings.maxPlanAgeMs = ageMs;
  const mode = input('credentials-mode', 'server');
  if (mode !== 'server' && mode !== 'env')
    throw badInput(`input "credentials-mode" must be server or env, not "${mode}"`);
  settings.credentialsMode = mode;
  const publish = input('publish', 'github');
  if (publish !== 'github' && publish !== 'handoff')
    throw badInput(`input "publish" must be github or handoff, not "${publish}"`);
  settings.publish = publish;
  for (const [k, v] of Object.entries(settings))
    if (k !== 'githubToken' && k !== 'bindingKey')
      core.debug(`input ${k} = ${k === 'command' ? command.name : String(v)}`);
  return settings;
}
