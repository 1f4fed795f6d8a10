import * as core from '@actions/core';
import { InputError } from '../../core/errors.js';

/** Action commands (SPEC §9). */
export const ACTION_COMMANDS = ['plan', 'apply', 'validate', 'verify', 'drift', 'matrix'] as const;

/** Every action input, read and checked once. */
export interface ActionSettings {
  command: (typeof ACTION_COMMANDS)[number];
  site?: string;
  environment?: string;
  root: string;
  configRoot: string;
  catalog: string;
  terraformBinary: string;
  maxParallel: number;
  githubToken?: string;
  audience: string;
  comment: boolean;
  evidenceBucket?: string;
  lockTimeout: string;
  credentialsMode: 'server' | 'env';
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

/** Reads the action's inputs. Defaults mirror action.yml, because the runner, not the toolkit, applies those. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): ActionSettings {
  const command = input('command', 'plan');
  if (!(ACTION_COMMANDS as readonly string[]).includes(command)) {
    throw badInput(`input "command" must be one of ${ACTION_COMMANDS.join(', ')}, not "${command}"`);
  }
  const maxParallelText = input('max-parallel', '4');
  const maxParallel = Number(maxParallelText);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64) {
    throw badInput(`input "max-parallel" must be a whole number from 1 to 64, not "${maxParallelText}"`);
  }
  const settings: ActionSettings = {
    command: command as ActionSettings['command'],
    site: input('site') || undefined,
    environment: input('environment') || undefined,
    root: env.GITHUB_WORKSPACE || process.cwd(),
    configRoot: input('config-root', 'sites'),
    catalog: input('catalog', 'modules'),
    terraformBinary: input('terraform-binary', 'terraform'),
    maxParallel,
    githubToken: input('github-token') || undefined,
    audience: input('audience', 'sts.amazonaws.com'),
    comment: bool('comment', true),
    evidenceBucket: input('evidence-bucket') || undefined,
    lockTimeout: input('lock-timeout', '5m'),
    credentialsMode: 'server',
  };
  const mode = input('credentials-mode', 'server');
  if (mode !== 'server' && mode !== 'env')
    throw badInput(`input "credentials-mode" must be server or env, not "${mode}"`);
  settings.credentialsMode = mode;
  if (settings.githubToken) core.setSecret(settings.githubToken);
  for (const [k, v] of Object.entries(settings))
    if (k !== 'githubToken') core.debug(`input ${k} = ${String(v)}`);
  return settings;
}
