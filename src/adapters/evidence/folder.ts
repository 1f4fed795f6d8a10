/**
 * The local evidence folder (SPEC §8.1): `<root>/.site-deploy/evidence/<site>/<env>/
 * <run-id>-<attempt>-<command>.json`, each record chained to the one before it of the same command.
 * A record is written once, never partially and never overwritten (a temporary name, fsync, link);
 * a file under a record's name that is not a valid record is a broken link, named by the next record.
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { chainRecord } from '../../core/evidence/build.js';
import { chainState, readLink, type ChainFile, type ChainOf } from '../../core/evidence/chain.js';
import {
  type BrokenLink,
  recordDigest,
  recordFileName,
  serializeRecord,
  type EvidenceCommand,
  type EvidenceRecord,
} from '../../core/evidence/record.js';
import { SiteDeployError } from '../../core/errors.js';
import { ensureToolDir } from '../tool-dir.js';

/** The folder of a site × environment's records. */
export function evidenceDir(root: string, site: string, env: string): string {
  return join(root, '.site-deploy', 'evidence', site, env);
}

/** A record's temporary name while it is written: hidden and `.tmp`, so no chain ever reads it. */
function tempName(name: string): string {
  return `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

/** How old a temporary record must be before any run removes it, whoever wrote it. */
const OLD_TEMP_MS = 24 * 60 * 60 * 1000;

/** Removes temporaries left by writers that were killed: their process is gone, or they are a day old. */
async function removeOldTemps(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    const m = /^\..+\.(\d+)-[0-9a-f]+\.tmp$/.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && (!running(Number(m[1])) || Date.now() - info.mtimeMs > OLD_TEMP_MS))
      await unlink(path).catch(() => undefined);
  }
}

/** Whether a process runs (EPERM: it does, as another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === 'EPERM';
  }
}

const errnoOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;

/**
 * The chain of a command's records in a folder: the newest valid record (by when it finished) with
 * its exact bytes, and the files under a record's name that are broken links not yet named by a
 * record. Temporaries (`.<name>.<pid>-<hex>.tmp`) are never read.
 */
export async function readChain(
  dir: string,
  of: ChainOf,
): Promise<{ latest?: { record: EvidenceRecord; bytes: string }; broken: BrokenLink[] }> {
  const all = await readdir(dir).catch(() => [] as string[]);
  const files: ChainFile[] = [];
  for (const name of all.filter((n) => !n.startsWith('.') && n.endsWith(`-${of.command}.json`))) {
    const bytes = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    // Not a readable file (a folder, say): nothing a chain could link to.
    files.push(bytes === undefined ? { name, broken: 'cannot be read' } : readLink(name, bytes, of));
  }
  return chainState(files);
}

/** The newest valid record of a command in a folder (by when it finished), with its exact bytes. */
export async function latestRecord(
  dir: string,
  command: EvidenceCommand,
  where: { site: string; environment: string },
): Promise<{ record: EvidenceRecord; bytes: string } | undefined> {
  return (await readChain(dir, { command, ...where })).latest;
}

/** A plain-words cause of a file system error, naming the path a file stands in for a folder. */
function plainCause(e: unknown, dir: string): string {
  switch (errnoOf(e)) {
    case 'ENOTDIR':
    case 'EEXIST':
      return `a file is where a folder should be (${blockingFile(dir) ?? 'on the way there'})`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: this user may not write there';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the device';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

/** The first path from the root down to `dir` that exists and is not a folder. */
function blockingFile(dir: string): string | undefined {
  const chain: string[] = [];
  for (let p = dir; dirname(p) !== p; p = dirname(p)) chain.unshift(p);
  for (const p of chain) {
    let info;
    try {
      info = statSync(p);
    } catch {
      return undefined;
    }
    if (!info.isDirectory()) return p;
  }
  return undefined;
}

/** The error of a folder that cannot be written: names it and the cause, in plain words. */
function folderError(dir: string, e: unknown): SiteDeployError {
  return new SiteDeployError(
    'evidence',
    `cannot write the evidence record in ${dir}: ${plainCause(e, dir)}. Make it a folder this user can write, then run again`,
    { cause: e },
  );
}

/**
 * Writes bytes under `name` in `dir` never partially and never over another file: to a temporary
 * name first, fsynced (the file, then the folder), then linked into place — link() fails when the
 * name is taken — and the folder fsynced again so the name lasts. A kill at any point leaves the
 * name either absent or whole.
 */
async function writeOnce(dir: string, name: string, bytes: string): Promise<void> {
  const tmp = join(dir, tempName(name));
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await syncFolder(dir);
    await link(tmp, join(dir, name));
    await syncFolder(dir);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What {@link writeRecord} returns: where the record went, its bytes and digest, and the broken links it names. */
export interface WrittenLocally {
  path: string;
  bytes: string;
  digest: string;
  record: EvidenceRecord;
  /** Files under a record's name that are not one, named in this record (absent: none). */
  broken?: BrokenLink[];
}

/**
 * Chains a record to the last valid one before it, naming the broken links since; writes it
 * (owner-only, never partial, never over another); returns where. A folder that cannot be written
 * throws SiteDeployError('evidence') naming it and why.
 */
export async function writeRecord(root: string, record: EvidenceRecord): Promise<WrittenLocally> {
  const dir = evidenceDir(root, record.site, record.environment);
  try {
    await ensureToolDir(root);
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw folderError(dir, e);
  }
  await removeOldTemps(dir, await readdir(dir).catch(() => [] as string[]));
  const { latest, broken } = await readChain(dir, {
    command: record.command,
    site: record.site,
    environment: record.environment,
  });
  const chained = chainRecord(record, latest, broken);
  const bytes = serializeRecord(chained);
  const name = recordFileName(chained.run, chained.command);
  const path = join(dir, name);
  try {
    await writeOnce(dir, name, bytes);
  } catch (e) {
    if (errnoOf(e) !== 'EEXIST') throw folderError(dir, e);
    throw new SiteDeployError(
      'evidence',
      `evidence record ${path} already exists — a record is never overwritten, so this run fails closed. ` +
        'Two runs of the same command in one job attempt share a name: run each in its own job, or re-run the job',
    );
  }
  return { path, bytes, digest: recordDigest(bytes), record: chained, ...(broken.length ? { broken } : {}) };
}

/**
 * sha256 hex of every regular file under each folder (relative to the root), by root-relative path
 * — the files a release is made of (SPEC §8.4). `.terraform/` and `.git/` folders are skipped;
 * a symbolic link counts as the regular file it names; FIFOs, devices and sockets never are read.
 */
export async function hashTrees(root: string, dirs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch {
      return; // a folder that is not there has no files
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== '.terraform' && e.name !== '.git') await walk(path);
        continue;
      }
      const info = e.isSymbolicLink() ? await stat(join(root, path)).catch(() => undefined) : e;
      if (!info?.isFile() || out.has(path)) continue;
      out.set(
        path,
        createHash('sha256')
          .update(await readFile(join(root, path)))
          .digest('hex'),
      );
    }
  };
  for (const d of dirs) await walk(d.replace(/^\.\/+|\/+$/g, ''));
  return out;
}
