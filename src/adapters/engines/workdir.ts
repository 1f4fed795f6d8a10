import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, lstat, mkdir, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';

/** Throws (a programming error, not a step failure) unless `path` is absolute. */
export function assertAbsolute(name: string, path: string): void {
  if (!isAbsolute(path)) throw new Error(`${name} must be an absolute path, got '${path}'`);
}

/** Whether `child` is `parent` or lies inside it. */
function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Marks a folder as a step's work folder, so re-running the step may empty it. */
export const WORKDIR_MARKER = '.site-deploy-workdir';

/**
 * Empties and recreates a step's work folder (owner-only: it will hold inputs and plans).
 * A non-empty folder without the marker is refused rather than deleted: a wrong path must
 * not wipe someone's checkout.
 */
export async function freshWorkDir(workDir: string): Promise<void> {
  const entries = await readdir(workDir).catch(() => undefined);
  if (entries?.length && !entries.includes(WORKDIR_MARKER)) {
    throw new Error(`refusing to empty ${workDir}: it is not empty and was not made by site-deploy`);
  }
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  await writeFile(join(workDir, WORKDIR_MARKER), '');
}

/** Whether a catalog file stays behind when the folder is copied: local Terraform data and state. */
export function skipInCopy(path: string): boolean {
  const name = basename(path);
  return name === '.terraform' || name.includes('.tfstate');
}

/**
 * Copies a catalog module folder into a fresh work folder, without `.terraform` and any
 * `*.tfstate*` (a stray local state must never be planned against). Symlinks are copied as
 * the files they point to, so a link into a shared folder still works in the copy — but only
 * links that stay inside `containedIn` (the repository): one leading outside fails the copy,
 * naming it, before anything outside is read.
 */
export async function copyModule(moduleDir: string, workDir: string, containedIn?: string): Promise<void> {
  if (isInside(moduleDir, workDir) || isInside(workDir, moduleDir)) {
    throw new Error(`work folder '${workDir}' and module folder '${moduleDir}' must not contain each other`);
  }
  await freshWorkDir(workDir);
  const root = containedIn === undefined ? undefined : await realpath(containedIn);
  await cp(moduleDir, workDir, {
    recursive: true,
    dereference: true,
    filter: async (src) => {
      if (src === moduleDir) return true;
      if (skipInCopy(src)) return false;
      if (root !== undefined && (await lstat(src)).isSymbolicLink()) {
        const target = await realpath(src).catch(() => undefined);
        if (target === undefined || !isInside(root, target))
          throw new Error(`${src} is a symlink that resolves outside the repository: refusing to copy it`);
      }
      return true;
    },
  });
}

/** Writes JSON readable by the owner only (inputs may be secrets). */
export async function writePrivateJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}

/** The sha256 of a file, hex, streamed (plan files can be large). */
export function sha256File(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('error', fail)
      .on('end', () => ok(hash.digest('hex')));
  });
}

/** One line for any thrown value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
