import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, lstat, mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { EngineStepResult } from './types.js';

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

/** Copies one folder as copyModule does (no `.terraform`, no state; links only inside `root`). */
async function copyFolder(from: string, to: string, root: string | undefined): Promise<void> {
  await cp(from, to, {
    recursive: true,
    dereference: true,
    filter: async (src) => {
      if (src === from) return true;
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
  await copyFolder(moduleDir, workDir, root);
}

/** `source = "../shared"` and `"./sub"`: the local module paths a folder's Terraform files call. */
export async function localModuleSources(dir: string): Promise<string[]> {
  const found = new Set<string>();
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.tf(\.json)?$/.test(f));
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8').catch(() => '');
    for (const m of text.matchAll(/"?source"?\s*[=:]\s*"(\.{1,2}\/[^"]*)"/g)) found.add(m[1] as string);
  }
  return [...found].sort();
}

/**
 * Copies a catalog module into a fresh work folder keeping the repository's layout, so local
 * module sources (`source = "../shared"`) resolve in the copy as they do in the catalog: the
 * module lands at `<workDir>/tree/<its path in the repository>`, and every folder its Terraform
 * (transitively) calls by a local path beside it. Returns the folder Terraform runs in. A local
 * source outside the repository is refused.
 */
export async function copyModuleTree(moduleDir: string, workDir: string, root: string): Promise<string> {
  const realRoot = await realpath(root);
  const mirror = (dir: string): string => join(workDir, 'tree', relative(root, dir));
  await freshWorkDir(workDir);
  const copied = new Set<string>();
  const queue = [resolve(moduleDir)];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (copied.has(dir)) continue;
    copied.add(dir);
    if (!isInside(root, dir) || !isInside(realRoot, await realpath(dir).catch(() => dir)))
      throw new Error(`${dir} is a local module source outside the repository: refusing to copy it`);
    await mkdir(dirname(mirror(dir)), { recursive: true, mode: 0o700 });
    await copyFolder(dir, mirror(dir), realRoot);
    for (const src of await localModuleSources(dir)) {
      const next = resolve(dir, src);
      // A subfolder is already in the copy; only folders beside or above need their own.
      if (!isInside(dir, next)) queue.push(next);
    }
  }
  return mirror(resolve(moduleDir));
}

/** The files a step writes its inputs to as it starts (command steps, Terraform); a warm-up writes neither. */
const STARTED_FILES = new Set(['inputs.json', 'site-deploy.auto.tfvars.json']);

/**
 * The module steps a run had started, from its work folder: each module's folder (`<run>/<module>`,
 * beside its `.home` and `.state`) where the step wrote its inputs — a folder only warmed up
 * (copied, initialised ahead) is not one. Sorted; none when the folder cannot be read.
 */
export async function startedSteps(runFolder: string): Promise<string[]> {
  const wroteInputs = async (dir: string, depth: number): Promise<boolean> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isFile() && STARTED_FILES.has(e.name)) return true;
    if (depth === 0) return false;
    for (const e of entries)
      if (e.isDirectory() && e.name !== '.terraform' && (await wroteInputs(join(dir, e.name), depth - 1)))
        return true;
    return false;
  };
  const steps: string[] = [];
  for (const e of await readdir(runFolder, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory() || /\.(home|state)$/.test(e.name)) continue;
    // A Terraform step runs in <module>/tree/<its path in the repository>: a few levels down.
    if (await wroteInputs(join(runFolder, e.name), 8)) steps.push(e.name);
  }
  return steps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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

/** What a finished step says; `hasChanges` and `outputs` default to false and none. */
export type StepEnd = Omit<EngineStepResult, 'durationMs' | 'outputs' | 'hasChanges'> &
  Partial<EngineStepResult>;

/** Ends a step that started at `started` (ms): its result, with how long it took. */
export function stepFinisher(started: number): (r: StepEnd) => EngineStepResult {
  return (r) => ({ hasChanges: false, outputs: {}, ...r, durationMs: Date.now() - started });
}
