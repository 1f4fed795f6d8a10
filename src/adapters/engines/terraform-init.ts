/**
 * When a Terraform step may skip `init`: each module × site × environment keeps its data folder
 * (`TF_DATA_DIR`) between runs, stamped after every successful init with what it was made from —
 * the module's code (every file of the copy, its lock file included), the backend configuration and
 * the Terraform binary — and with a fingerprint of the folder itself. A step reuses the folder only
 * when both still match; a changed input rebuilds it from nothing, and so does a folder that was
 * deleted, edited or corrupted (never trusted blindly). Inits sharing a plugin cache take turns
 * (cache-lock.ts).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import canonicalize from 'canonicalize';
import { hashTrees } from '../evidence/folder.js';
import { pathCandidates } from './path-lookup.js';

/** The stamp a successful init leaves in the data folder. */
export const INIT_STAMP = 'site-deploy-init.json';
/** The lock file `init` generated for a module that commits none, kept for the next run. */
export const KEPT_LOCK_FILE = 'site-deploy.terraform.lock.hcl';
/** Terraform's dependency lock file. */
export const LOCK_FILE = '.terraform.lock.hcl';
/** Bump when the stamp's meaning changes: every older folder is rebuilt once. */
const STAMP_VERSION = 1;

interface Stamp {
  version: number;
  /** What the folder was made from: {@link initKey}. */
  key: string;
  /** The folder's own fingerprint right after init: {@link folderFingerprint}. */
  folder: string;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * sha256 over every file under `dir` (path and bytes, as {@link hashTrees} reads them), skipping
 * `skip(relativePath)`: the module's code as this step's copy holds it.
 */
export async function treeDigest(dir: string, skip: (rel: string) => boolean): Promise<string> {
  const files = await hashTrees(dir, ['']);
  const lines = [...files]
    .filter(([rel]) => !skip(rel))
    .map(([rel, hash]) => `${rel}\0${hash}`)
    .sort();
  return sha256(lines.join('\n'));
}

/**
 * The data folder's fingerprint: every entry's path, kind, size and mtime (symlinks — providers
 * from the plugin cache — by target), plus the bytes of the small files Terraform reads to decide
 * what is installed (`terraform.tfstate`: the backend; `modules/modules.json`). Anything deleted,
 * added, rewritten or truncated changes it.
 */
export async function folderFingerprint(dataDir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const name of (await readdir(at)).sort()) {
      const path = join(at, name);
      const rel = relative(dataDir, path);
      if (rel === INIT_STAMP || rel === KEPT_LOCK_FILE) continue;
      const s = await lstat(path);
      if (s.isDirectory()) {
        lines.push(`d ${rel}`);
        await walk(path);
      } else if (s.isSymbolicLink()) lines.push(`l ${rel} ${await readlink(path)}`);
      else if (s.isFile()) {
        const small = rel === 'terraform.tfstate' || rel === join('modules', 'modules.json');
        lines.push(
          `f ${rel} ${s.size} ${Math.trunc(s.mtimeMs)}${small ? ` ${sha256(await readFile(path))}` : ''}`,
        );
      } else lines.push(`? ${rel}`);
    }
  };
  await walk(dataDir);
  return sha256(lines.join('\n'));
}

/** The binary Terraform runs as, resolved on PATH like the shell would, with its size and mtime. */
export async function binaryIdentity(binary: string, env: NodeJS.ProcessEnv): Promise<string> {
  for (const c of pathCandidates(binary, env)) {
    const s = await stat(c).catch(() => undefined);
    if (s?.isFile()) return `${c} ${s.size} ${Math.trunc(s.mtimeMs)}`;
  }
  return `${binary} (not found)`;
}

/** What a data folder is made from: code, backend configuration, binary. */
export function initKey(parts: { code: string; backend: unknown; binary: string }): string {
  return sha256(canonicalize({ v: STAMP_VERSION, ...parts }) ?? '');
}

/**
 * Whether the data folder was initialised from `key` and is as that init left it. A missing,
 * unreadable or mismatched stamp, or a folder changed since, is a no.
 */
export async function initIsCurrent(dataDir: string, key: string): Promise<boolean> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(join(dataDir, INIT_STAMP), 'utf8')) as Stamp;
  } catch {
    return false;
  }
  if (stamp.version !== STAMP_VERSION || stamp.key !== key) return false;
  try {
    return (await folderFingerprint(dataDir)) === stamp.folder;
  } catch {
    return false;
  }
}

/** Empties a data folder before an init (owner-only: it holds the backend configuration). */
export async function resetDataDir(dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
}

/** Stamps a data folder after a successful init. */
export async function stampDataDir(dataDir: string, key: string): Promise<void> {
  const stamp: Stamp = { version: STAMP_VERSION, key, folder: await folderFingerprint(dataDir) };
  await writeFile(join(dataDir, INIT_STAMP), JSON.stringify(stamp) + '\n', { mode: 0o600 });
}

/** Whether Terraform's error output says the working directory needs `init`. */
export function needsInit(stderr: string[]): boolean {
  const text = stderr.join('\n');
  return (
    /\b(terraform|tofu) init\b/.test(text) ||
    /Backend initialization required|Inconsistent dependency lock file|Module not installed|Required plugins are not installed|Missing required provider/i.test(
      text,
    )
  );
}
