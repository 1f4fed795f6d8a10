/**
 * What a sandboxed Terraform step's uid is given (sandbox.ts): its work folder and a HOME of its
 * own (lent), the module's data folder and the plugin cache bind-mounted at fixed paths (so a kept
 * data folder, whose provider links and backend configuration name those paths, stays valid from
 * run to run), and the local state staged: copied into a folder of its own before each process and
 * back after it, even when site-deploy died meanwhile.
 */
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathCandidates } from './path-lookup.js';
import { sandboxMounts, type ProcessSandbox } from './sandbox.js';
import type { Backend, StepSandbox } from './types.js';

/** The local state's name inside the step's state folder (mounted at `sandboxMounts().state`). */
const STAGED_STATE = 'terraform.tfstate';

/** A sandboxed step's HOME and state folder, beside its work folder (lent with it). */
export const sandboxFolders = (workDir: string): { home: string; state: string } => ({
  home: `${workDir}.home`,
  state: `${workDir}.state`,
});

/** The backend Terraform is told about: a sandboxed local state lives at the fixed staged path. */
export function sandboxedBackend(backend: Backend, sandboxed: boolean): Backend {
  if (!sandboxed || backend.kind !== 'local') return backend;
  return { kind: 'local', path: join(sandboxMounts().state, STAGED_STATE) };
}

/** The folders a Terraform step works with. */
export interface TerraformPlaces {
  workDir: string;
  dataDir?: string;
  pluginCacheDir?: string;
  backend: Backend;
}

/** The user's CLI configuration: TF_CLI_CONFIG_FILE, else `~/.terraformrc`, when it is a file. */
function cliConfig(env: NodeJS.ProcessEnv): string | undefined {
  const cfg = env.TF_CLI_CONFIG_FILE;
  const rc =
    cfg !== undefined ? (cfg === '/dev/null' ? undefined : cfg) : env.HOME && join(env.HOME, '.terraformrc');
  return rc && existsSync(rc) && statSync(rc).isFile() ? rc : undefined;
}

/**
 * The environment a sandboxed step's processes get on top of the step's: its own HOME, a copy of
 * the CLI configuration it can read (the user's may live in root's home), and the data folder and
 * plugin cache at their fixed mount paths.
 */
export function sandboxEnv(places: TerraformPlaces, env: NodeJS.ProcessEnv): Record<string, string> {
  const mounts = sandboxMounts();
  const { home } = sandboxFolders(places.workDir);
  const extra: Record<string, string> = { HOME: home };
  if (cliConfig(env) !== undefined) extra.TF_CLI_CONFIG_FILE = join(home, '.terraformrc');
  else if (env.TF_CLI_CONFIG_FILE !== undefined) extra.TF_CLI_CONFIG_FILE = '/dev/null';
  if (places.dataDir !== undefined) extra.TF_DATA_DIR = mounts.data;
  if (places.pluginCacheDir !== undefined) extra.TF_PLUGIN_CACHE_DIR = mounts.plugins;
  return extra;
}

/**
 * Makes the step's HOME (with the copy of the CLI configuration) and state folder, and lets every
 * step read the plugin cache (provider binaries, nothing secret). `env`: the step's environment
 * before {@link sandboxEnv}.
 */
export async function prepareSandbox(places: TerraformPlaces, env: NodeJS.ProcessEnv): Promise<void> {
  const { home, state } = sandboxFolders(places.workDir);
  for (const d of [home, state]) {
    await rm(d, { recursive: true, force: true });
    await mkdir(d, { mode: 0o700 });
  }
  const rc = cliConfig(env);
  if (rc !== undefined) await copyFile(rc, join(home, '.terraformrc'));
  if (places.pluginCacheDir !== undefined) {
    await mkdir(places.pluginCacheDir, { recursive: true, mode: 0o755 });
    await chmod(places.pluginCacheDir, 0o755);
  }
}

/**
 * What one Terraform process of a sandboxed step gets: the work folder, HOME, state folder and
 * data folder lent; `init` also borrows the plugin cache (it installs there, one init at a time
 * per cache), every other command only reads it.
 */
export function terraformProcessSandbox(
  sb: StepSandbox,
  places: TerraformPlaces,
  init: boolean,
): ProcessSandbox {
  const mounts = sandboxMounts();
  const { home, state } = sandboxFolders(places.workDir);
  const lend = [places.workDir, home, state];
  const binds: [string, string][] = [[state, mounts.state]];
  if (places.dataDir !== undefined) {
    lend.push(places.dataDir);
    binds.push([places.dataDir, mounts.data]);
  }
  if (places.pluginCacheDir !== undefined) {
    if (init) lend.push(places.pluginCacheDir);
    binds.push([places.pluginCacheDir, mounts.plugins]);
  }
  const stage: [string, string][] =
    places.backend.kind === 'local' ? [[places.backend.path, join(state, STAGED_STATE)]] : [];
  return { ...sb, lend, binds, stage };
}

/** Whether a uid of no group, not the owner, may execute `path`: every folder on its way and the file. */
function reachableByOthers(path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
    accessSync(real, constants.X_OK);
  } catch {
    return false;
  }
  for (let p = real; ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (dirname(p) === p) return true;
  }
}

/**
 * Why a step's uid could not run this Terraform binary (it lies under a folder only root may
 * enter, say), or undefined when it can.
 */
export function binaryUnreachable(binary: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const found = pathCandidates(binary, env).find((c) => existsSync(c));
  // Not found at all: the step fails with its own message, sandboxed or not.
  if (found === undefined || reachableByOthers(found)) return undefined;
  return `the Terraform binary ${found} cannot be run by a step's uid (a folder on its path, or the file, is not executable by others)`;
}
