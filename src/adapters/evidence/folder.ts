/**
 * The local evidence folder (SPEC §8.1): `<root>/.site-deploy/evidence/<site>/<env>/
 * <run-id>-<attempt>-<command>.json`, each record chained to the one before it of the same command.
 * A record is written once and never overwritten.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chainRecord } from '../../core/evidence/build.js';
import {
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

/** The newest record of a command in a folder (by when it finished), with its exact bytes. */
export async function latestRecord(
  dir: string,
  command: EvidenceCommand,
): Promise<{ record: EvidenceRecord; bytes: string } | undefined> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
    n.endsWith(`-${command}.json`),
  );
  let best: { record: EvidenceRecord; bytes: string } | undefined;
  for (const name of names) {
    const bytes = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (bytes === undefined) continue;
    let record: EvidenceRecord;
    try {
      record = JSON.parse(bytes) as EvidenceRecord;
    } catch {
      continue; // not a record: the chain starts again after it
    }
    if (record.schema_version !== 1 || record.command !== command) continue;
    if (!best || record.finished_at > best.record.finished_at) best = { record, bytes };
  }
  return best;
}

/** Chains a record to the newest one before it, writes it (owner-only, never over another), and returns where. */
export async function writeRecord(
  root: string,
  record: EvidenceRecord,
): Promise<{ path: string; bytes: string; digest: string; record: EvidenceRecord }> {
  await ensureToolDir(root);
  const dir = evidenceDir(root, record.site, record.environment);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const chained = chainRecord(record, await latestRecord(dir, record.command));
  const bytes = serializeRecord(chained);
  const path = join(dir, recordFileName(chained.run, chained.command));
  try {
    await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new SiteDeployError(
      'evidence',
      `evidence record ${path} already exists — a record is never overwritten, so this run fails closed. ` +
        'Two runs of the same command in one job attempt share a name: run each in its own job, or re-run the job',
    );
  }
  return { path, bytes, digest: recordDigest(bytes), record: chained };
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
