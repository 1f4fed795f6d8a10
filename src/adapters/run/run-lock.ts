/**
 * One run per site × environment at a time. A local lock file under `.site-deploy/locks/` (created
 * atomically, holding who has it), and with S3 state a lock object beside the state, created with a
 * conditional write (`If-None-Match: *`) so two runners can never both hold it. A second run waits
 * up to its lock timeout, then fails naming the holder. A local lock whose holder is provably gone
 * — on this host, its pid runs no process, or a process whose start time is not the holder's — is
 * taken over, as `flock` would be, and the taker told who it was; S3 locks are only ever cleared by
 * `force-unlock`.
 */
import type { S3Client } from '@aws-sdk/client-s3';

/** The S3 SDK's commands, loaded when a lock lives in S3. */
const s3Commands = () => import('@aws-sdk/client-s3');
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { SiteDeployError } from '../../core/errors.js';
import { toolDir } from '../tool-dir.js';

/** Who holds a run lock. */
export interface LockHolder {
  id: string;
  command: string;
  site: string;
  environment: string;
  host: string;
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid from the holder. */
  pidStart?: string;
  user: string;
  /** ISO 8601. */
  started: string;
  /** A link to the workflow run, or `local`. */
  run: string;
  /** The run's id and attempt, as its evidence record names them (absent: an older lock). */
  runId?: string;
  attempt?: number;
}

/** Where a run's S3 lock object lives. */
export interface S3LockTarget {
  client: S3Client;
  bucket: string;
  key: string;
}

/** What {@link acquireRunLock} needs. */
export interface RunLockOptions {
  root: string;
  site: string;
  environment: string;
  command: string;
  /** How long to wait for a held lock; 0 fails at once. */
  timeoutMs: number;
  /** The workflow run link, or `local`. */
  run?: string;
  /** The run's id and attempt (its evidence record's), kept in the lock. */
  runId?: { id: string; attempt: number };
  s3?: S3LockTarget;
  /** Told once when the lock is busy and the run starts waiting. */
  onWait?: (holder: LockHolder | undefined, where: string) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** A held lock. */
export interface RunLock {
  holder: LockHolder;
  /** The holder of a local lock whose process was gone (killed), which this run took over. */
  recovered?: LockHolder;
  /** Removes the lock (local and S3); safe to call twice; never throws. */
  release(): Promise<string[]>;
}

/** The local lock file of a site × environment. */
export function localLockPath(root: string, site: string, env: string): string {
  return join(toolDir(root), 'locks', site, `${env}.lock`);
}

/** The start time of a process (field 22 of /proc/<pid>/stat), where Linux tells it. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the holder's process still runs: only decidable on the same host. */
export function holderAlive(h: LockHolder): boolean | undefined {
  if (h.host !== hostname()) return undefined;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // A zombie is a process that has ended, not yet reaped by its parent.
  if (processState(h.pid) === 'Z') return false;
  const start = processStart(h.pid);
  return !(h.pidStart && start && start !== h.pidStart);
}

/** The state letter of a process (field 3 of /proc/<pid>/stat: R, S, Z...), where Linux tells it. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** One line describing a holder, for messages. */
export function describeHolder(h: LockHolder | undefined): string {
  if (!h) return 'an unknown holder (the lock has no readable record)';
  const run = h.run && h.run !== 'local' ? `, run ${h.run}` : '';
  return `${h.command} by ${h.user} on ${h.host} (pid ${h.pid}${run}), since ${h.started}`;
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (!text) return undefined;
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    return typeof h.id === 'string' && typeof h.pid === 'number' ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

const errorCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** Creates the local lock file atomically with its content; the holder already there, or undefined when taken. */
async function tryLocal(path: string, holder: LockHolder): Promise<LockHolder | 'taken'> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${holder.id}.tmp`;
  await writeFile(tmp, `${JSON.stringify(holder, null, 2)}\n`, { mode: 0o600 });
  try {
    // link() fails with EEXIST atomically: no moment where the file exists without its holder.
    await link(tmp, path);
    return 'taken';
  } catch (e) {
    if (errorCode(e) !== 'EEXIST') throw e;
    return parseHolder(await readFile(path, 'utf8').catch(() => undefined)) ?? unknownHolder();
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

function unknownHolder(): LockHolder {
  return {
    id: '',
    command: 'unknown',
    site: '',
    environment: '',
    host: '',
    pid: 0,
    user: 'unknown',
    started: 'an unknown time',
    run: 'local',
  };
}

async function tryS3(t: S3LockTarget, holder: LockHolder): Promise<LockHolder | 'taken'> {
  const { GetObjectCommand, PutObjectCommand } = await s3Commands();
  try {
    await t.client.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: t.key,
        Body: JSON.stringify(holder),
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
    return 'taken';
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 412 && status !== 409) throw lockStoreError(t, 'create', e);
  }
  try {
    const r = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key }));
    const found = parseHolder(await r.Body?.transformToString('utf8'));
    // Our own write, retried by the SDK after its answer was lost, is refused as a conflict.
    if (found?.id === holder.id) return 'taken';
    return found ?? unknownHolder();
  } catch (e) {
    // Released between our write and our read: try again on the next round.
    if ((e as { name?: string }).name === 'NoSuchKey') return unknownHolder();
    throw lockStoreError(t, 'read', e);
  }
}

function lockStoreError(t: S3LockTarget, what: string, e: unknown): SiteDeployError {
  const name = (e as { name?: string }).name ?? 'Error';
  const message = e instanceof Error ? e.message : String(e);
  return new SiteDeployError(
    'locked',
    `could not ${what} the run lock s3://${t.bucket}/${t.key}: ${name}: ${message} — the role needs s3:PutObject, s3:GetObject and s3:DeleteObject on that object`,
    { cause: e },
  );
}

function forceUnlockHint(site: string, env: string): string {
  return `site-deploy force-unlock --site ${site} --env ${env}`;
}

/** This run as a lock's holder. */
function thisHolder(o: RunLockOptions, now: () => number): LockHolder {
  return {
    id: randomUUID(),
    command: o.command,
    site: o.site,
    environment: o.environment,
    host: hostname(),
    pid: process.pid,
    pidStart: processStart(process.pid),
    user: safeUser(),
    started: new Date(now()).toISOString(),
    run: o.run ?? 'local',
    ...(o.runId ? { runId: o.runId.id, attempt: o.runId.attempt } : {}),
  };
}

/** Waits for a held lock with growing pauses; tells once who holds it; throws past the deadline. */
function lockWaiter(
  o: RunLockOptions,
  now: () => number,
): (other: LockHolder | undefined, where: string) => Promise<void> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.timeoutMs;
  let told = false;
  let delay = 200;
  return async (other, where) => {
    if (now() >= deadline) {
      throw new SiteDeployError(
        'locked',
        `${o.site}/${o.environment} is locked by ${describeHolder(other)} (${where}); gave up after waiting ${Math.round(o.timeoutMs / 1000)}s (--lock-timeout / lock-timeout). ` +
          `Run again when it ends; if that run is gone, clear the lock with \`${forceUnlockHint(o.site, o.environment)}\`.`,
      );
    }
    if (!told) o.onWait?.(other, where);
    told = true;
    await sleep(Math.min(delay, Math.max(0, deadline - now())));
    delay = Math.min(delay * 2, 2000);
  };
}

/**
 * The local lock file, taken or waited for. A holder whose process is provably gone is removed —
 * under `<lock>.takeover`, which one taker at a time creates, and only while the lock still names
 * that holder — and the lock taken again like any free one; returns that holder.
 */
async function takeLocal(path: string, holder: LockHolder, wait: LockWait): Promise<LockHolder | undefined> {
  let recovered: LockHolder | undefined;
  for (;;) {
    const got = await tryLocal(path, holder);
    if (got === 'taken') return recovered;
    if (holderAlive(got) === false && got.id !== '') {
      if (await removeDeadLock(path, got, holder)) recovered = got;
      else await wait(got, path); // another run is taking it over
      continue;
    }
    await wait(got, path);
  }
}

/** Removes the lock file if it still names `dead`, holding the takeover mutex; whether it did. */
async function removeDeadLock(path: string, dead: LockHolder, taker: LockHolder): Promise<boolean> {
  const mutex = `${path}.takeover`;
  const mine = await tryLocal(mutex, taker);
  if (mine !== 'taken') {
    // A taker killed mid-takeover leaves its mutex: gone with it, it is cleared for the next one.
    if (holderAlive(mine) === false) await unlink(mutex).catch(() => undefined);
    return false;
  }
  try {
    const now = parseHolder(await readFile(path, 'utf8').catch(() => undefined));
    if (now?.id !== dead.id) return false;
    await unlink(path);
    return true;
  } finally {
    await unlink(mutex).catch(() => undefined);
  }
}

type LockWait = (other: LockHolder | undefined, where: string) => Promise<void>;

/** The S3 lock object, taken or waited for. */
async function takeS3(
  s3: NonNullable<RunLockOptions['s3']>,
  holder: LockHolder,
  wait: LockWait,
): Promise<void> {
  for (;;) {
    const got = await tryS3(s3, holder);
    if (got === 'taken') return;
    await wait(got, `s3://${s3.bucket}/${s3.key}`);
  }
}

/** Releases what this run holds: the S3 object (when taken) and the local file (when still ours). */
function releaser(o: RunLockOptions, path: string, holder: LockHolder, s3Held: { held: boolean }) {
  return async (): Promise<string[]> => {
    const removed: string[] = [];
    const s3 = o.s3;
    if (s3 && s3Held.held) {
      s3Held.held = false;
      const { DeleteObjectCommand } = await s3Commands();
      await s3.client
        .send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: s3.key }))
        .then(() => removed.push(`s3://${s3.bucket}/${s3.key}`))
        .catch(() => undefined);
    }
    const mine = parseHolder(await readFile(path, 'utf8').catch(() => undefined));
    if (mine?.id === holder.id) {
      await unlink(path).catch(() => undefined);
      removed.push(path);
    }
    return removed;
  };
}

/**
 * Takes the run lock of a site × environment, waiting up to `timeoutMs` while another run holds it.
 * Throws SiteDeployError('locked') naming the holder when it cannot.
 */
export async function acquireRunLock(o: RunLockOptions): Promise<RunLock> {
  const now = o.now ?? Date.now;
  const holder = thisHolder(o, now);
  const path = localLockPath(o.root, o.site, o.environment);
  const wait = lockWaiter(o, now);
  const recovered = await takeLocal(path, holder, wait);
  const s3Held = { held: false };
  const release = releaser(o, path, holder, s3Held);
  if (o.s3) {
    try {
      await takeS3(o.s3, holder, wait);
      s3Held.held = true;
    } catch (e) {
      await release();
      throw e;
    }
  }
  return { holder, release, ...(recovered ? { recovered } : {}) };
}

/** Removes a site × environment's run lock whoever holds it; returns what was removed and who held it. */
export async function forceUnlock(
  root: string,
  site: string,
  env: string,
  s3?: S3LockTarget,
): Promise<{ removed: string[]; holders: (LockHolder | undefined)[] }> {
  const removed: string[] = [];
  const holders: (LockHolder | undefined)[] = [];
  const path = localLockPath(root, site, env);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    holders.push(parseHolder(text));
    await unlink(path);
    removed.push(path);
  }
  if (s3) {
    const { DeleteObjectCommand, GetObjectCommand } = await s3Commands();
    try {
      const r = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key }));
      holders.push(parseHolder(await r.Body?.transformToString('utf8')));
      await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: s3.key }));
      removed.push(`s3://${s3.bucket}/${s3.key}`);
    } catch (e) {
      if ((e as { name?: string }).name !== 'NoSuchKey') throw lockStoreError(s3, 'remove', e);
    }
  }
  return { removed, holders };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
