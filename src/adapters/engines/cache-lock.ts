/**
 * The provider plugin cache's init lock. Terraform does not promise its plugin cache is safe for
 * concurrent installs, so inits that share one take turns: a queue in this process, and an
 * exclusively created lock file naming the pid across processes on this machine.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** In-process queues of inits per plugin cache. */
const queues = new Map<string, Promise<void>>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while holding the plugin cache's init lock: one init at a time in this process (a
 * queue) and across processes on this machine (`<cache>/.site-deploy-init.lock`, created
 * exclusively, naming its pid; a lock whose process is gone is taken over).
 */
export async function withCacheLock<T>(
  cacheDir: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const before = queues.get(cacheDir) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((ok) => (release = ok));
  const tail = before.then(() => mine);
  queues.set(cacheDir, tail);
  await before;
  const lockPath = join(cacheDir, '.site-deploy-init.lock');
  try {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    for (;;) {
      try {
        const h = await open(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
        await h.writeFile(String(process.pid));
        await h.close();
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const text = (await readFile(lockPath, 'utf8').catch(() => '')).trim();
        const holder = Number(text);
        const age = Date.now() - ((await stat(lockPath).catch(() => undefined))?.mtimeMs ?? 0);
        // A lock naming a process that is gone is taken over; an empty one only once it is old
        // (its writer may be between creating it and writing its pid).
        if (text ? !(Number.isInteger(holder) && holder > 0 && alive(holder)) : age > 5_000) {
          await rm(lockPath, { force: true });
          continue;
        }
        if (signal?.aborted) throw new Error('cancelled while waiting for the plugin cache');
        await new Promise((ok) => setTimeout(ok, 100));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lockPath, { force: true });
    }
  } finally {
    release();
    if (queues.get(cacheDir) === tail) queues.delete(cacheDir);
  }
}
