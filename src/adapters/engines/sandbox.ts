/**
 * The step sandbox (SPEC §6): each process of a module step runs in its own PID and mount
 * namespace (`unshare --pid --fork --mount-proc --kill-child`) under an unprivileged uid of its own
 * (`setpriv --reuid U --regid U --clear-groups --no-new-privs`). It sees no other process (its
 * /proc holds only its own namespace), cannot write what belongs to the action or the runner, and
 * everything it started dies with it: when the namespace's first process exits, the kernel kills
 * the rest.
 *
 * The first process in the namespace is a small root shell (SANDBOX_INIT): it lends the step its
 * folders (chown to the step's uid), bind-mounts what lives outside them, starts the command as the
 * step's uid, and gives the folders back when it ends. It watches its stdin, a pipe only this
 * process holds: at EOF (an abort here, or this process dying, even by SIGKILL) it sends the
 * command SIGTERM — so Terraform stops gracefully and releases its state lock — and after the grace
 * period kills whatever is left (`kill -1`, every process it may signal: only while it is PID 1 of
 * the namespace, where that means the step's processes; anywhere else it would mean the whole host).
 *
 * Available when this process is root, or where `sudo -n` works (GitHub-hosted runners); the
 * step's environment then reaches the child through `sudo -E`, never through its command line.
 * `SITE_DEPLOY_ISOLATION=off` turns it off (the run then says `isolation: none`).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { findExecutable } from './path-lookup.js';
import { join } from 'node:path';

/** How a run's steps are isolated: `namespace` (the sandbox above) or `none`. */
export type Isolation = 'namespace' | 'none';

/** Whether steps can be sandboxed here, and how. */
export interface IsolationProbe {
  isolation: Isolation;
  /** Why not, when `none`. */
  reason?: string;
  /** What runs `unshare` as root: [] when this process is root, else `sudo -n -E --`. */
  prefix: string[];
}

/** What one sandboxed process gets. */
export interface ProcessSandbox {
  /** The step's own uid (and gid). */
  uid: number;
  /** `probe.prefix`. */
  prefix: string[];
  /** Folders (and files) lent to the step's uid while the process runs, given back after. */
  lend: string[];
  /** Folders mounted at a fixed place inside the namespace: [host path, path inside]. */
  binds?: [string, string][];
  /** Files copied in before the process and back after (local state): [real path, staged path]. */
  stage?: [string, string][];
}

/**
 * The namespace's first process (root, PID 1 inside). Arguments: uid, owner (uid:gid to give the
 * folders back to), grace seconds, then actions until `--` (`lend P`, `bind SRC DST`,
 * `stage REAL STAGED`), then the command.
 */
const SANDBOX_INIT = `exec 3<&0 </dev/null
u=$1; o=$2; g=$3; shift 3
lent=""; staged=""
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    lend) chown -R "$u:$u" "$2" || exit 125; lent="$lent
$2"; shift 2 ;;
    bind) mount --bind "$2" "$3" || exit 125; shift 3 ;;
    stage) if [ -f "$2" ]; then { cp "$2" "$3" && chown "$u:$u" "$3"; } || exit 125; fi; staged="$staged
$2
$3"; shift 3 ;;
    *) echo "site-deploy sandbox: unknown action $1" >&2; exit 125 ;;
  esac
done
shift
setpriv --reuid "$u" --regid "$u" --clear-groups --no-new-privs -- "$@" 3<&- &
c=$!
{ read -r _ <&3 || true; kill -TERM "$c" 2>/dev/null; sleep "$g"; [ "$$" = 1 ] && kill -KILL -1 2>/dev/null; } &
wait "$c"; s=$?
printf '%s\\n' "$staged" | { while read -r real; do
  [ -n "$real" ] || continue
  read -r st || break
  if [ -f "$st" ] && ! cmp -s "$st" "$real"; then
    cp "$st" "$real.sd-tmp" && chown "$o" "$real.sd-tmp" && chmod 600 "$real.sd-tmp" && mv -f "$real.sd-tmp" "$real"
  fi
done; }
printf '%s\\n' "$lent" | while read -r p; do [ -n "$p" ] && chown -R "$o" "$p"; done
exit "$s"`;

/** The argv that runs `command args` in the sandbox (nothing secret: the environment carries that). */
export function sandboxArgv(
  sb: ProcessSandbox,
  graceMs: number,
  command: string,
  args: string[],
): [string, string[]] {
  const owner = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  const actions = [
    ...sb.lend.flatMap((p) => ['lend', p]),
    ...(sb.binds ?? []).flatMap(([from, to]) => ['bind', from, to]),
    ...(sb.stage ?? []).flatMap(([real, staged]) => ['stage', real, staged]),
  ];
  const grace = String(Math.max(0.1, graceMs / 1000));
  const argv = [
    ...[UNSHARE, '--pid', '--fork', '--mount-proc', '--kill-child', '--', '/bin/sh', '-c', SANDBOX_INIT],
    ...['site-deploy-sandbox', String(sb.uid), owner, grace, ...actions, '--', command, ...args],
  ];
  // Under sudo, PATH is reset by secure_path: the command is found on this process's PATH instead.
  if (sb.prefix.length === 0) return [argv[0]!, argv.slice(1)];
  return [sb.prefix[0]!, [...sb.prefix.slice(1), 'env', `PATH=${process.env.PATH ?? ''}`, ...argv]];
}

const UNSHARE = 'unshare';

/** The exit code the init uses when it could not set the sandbox up. */
export const SANDBOX_SETUP_FAILED = 125;

const onPath = (name: string): boolean => findExecutable(name) !== undefined;

let probed: IsolationProbe | undefined;

/**
 * Whether this process may sandbox steps: Linux, unshare and setpriv, root or passwordless sudo —
 * and a real trial (a container may refuse new namespaces). Asked once per process.
 */
export function probeIsolation(env: NodeJS.ProcessEnv = process.env): IsolationProbe {
  const off = (reason: string): IsolationProbe => ({ isolation: 'none', reason, prefix: [] });
  if (env.SITE_DEPLOY_ISOLATION === 'off') return off('turned off (SITE_DEPLOY_ISOLATION=off)');
  if (probed) return probed;
  probed = probeOnce();
  return probed;

  function probeOnce(): IsolationProbe {
    if (process.platform !== 'linux') return off(`no Linux namespaces on ${process.platform}`);
    for (const tool of ['unshare', 'setpriv'])
      if (!onPath(tool)) return off(`${tool} (util-linux) is not on PATH`);
    let prefix: string[] = [];
    if (process.getuid?.() !== 0) {
      if (!onPath('sudo') || spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status !== 0)
        return off('not root, and no passwordless sudo');
      prefix = ['sudo', '-n', '-E', '--'];
    }
    const uid = String(SANDBOX_UID_BASE);
    const argv = [
      ...prefix,
      ...[UNSHARE, '--pid', '--fork', '--mount-proc', '--kill-child', '--', 'setpriv'],
      ...['--reuid', uid, '--regid', uid, '--clear-groups', '--no-new-privs', '--', 'true'],
    ];
    const trial = spawnSync(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
    });
    if (trial.status !== 0) {
      const why = trial.stderr?.toString().trim().split('\n')[0] || `exit ${trial.status ?? trial.signal}`;
      return off(`new namespaces refused here: ${why}`);
    }
    return { isolation: 'namespace', prefix };
  }
}

/** Forgets the probe (tests that change the environment). */
export function resetIsolationProbe(): void {
  probed = undefined;
}

/** First uid of the steps' own uids (`SITE_DEPLOY_SANDBOX_UID_BASE` moves it). */
export const SANDBOX_UID_BASE = Number(process.env.SITE_DEPLOY_SANDBOX_UID_BASE) || 61000;
/** How many steps may run sandboxed at once on this host (max-parallel is at most 64 per run). */
const SANDBOX_UIDS = 256;
const taken = new Set<number>();

/** Where a running step's uid is leased, so two site-deploy processes on one host never share one. */
function leaseDir(): string {
  const dir = join(tmpdir(), 'site-deploy-sandbox', 'uids');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const s = lstatSync(dir);
  if (!s.isDirectory() || s.uid !== (process.getuid?.() ?? 0))
    throw new Error(`${dir} is not a folder of this user: refusing to lease step uids there`);
  return dir;
}

/** An error's `code` (ENOENT, EEXIST...), when it has one. */
const codeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;

/** Whether process `pid` is running (a zombie counts as gone). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return !(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').startsWith('Z');
  } catch (e) {
    return codeOf(e) === 'EPERM';
  }
}

/** The start time of a process (field 22 of /proc/<pid>/stat), where Linux tells it. */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A lease's text: `<pid> <start time>` — the start time tells a reused pid from the holder. */
const leaseText = (): string => `${process.pid} ${startOf(process.pid) ?? ''}`.trim() + '\n';

/** The pid of a lease, and whether its process still runs (the same process: its start time too). */
function leaseHolder(text: string): { pid: number; alive: boolean } {
  const [pid, start] = text.trim().split(/\s+/);
  const n = Number(pid);
  return {
    pid: n,
    alive: alive(n) && (start === undefined || startOf(n) === undefined || startOf(n) === start),
  };
}

/**
 * Leases `uid` for this process: the lease file holds its pid and start time. A lease whose process
 * is gone (killed, crashed; its pid reused by another process) is taken over — by one process only:
 * whoever creates `<uid>.takeover` first.
 */
function lease(dir: string, uid: number): boolean {
  const file = join(dir, String(uid));
  try {
    writeFileSync(file, leaseText(), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if (codeOf(e) !== 'EEXIST') throw e;
  }
  const holder = leaseHolder(readFileSync(file, 'utf8'));
  if (holder.pid === process.pid || holder.alive) return false;
  const mutex = `${file}.takeover`;
  try {
    writeFileSync(mutex, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch {
    return false; // another process is taking it over
  }
  try {
    writeFileSync(file, leaseText(), { mode: 0o600 });
    return true;
  } finally {
    rmSync(mutex, { force: true });
  }
}

/**
 * A uid no other running step has — of this process, or of another site-deploy process on the host
 * (leased in a file); give it back with {@link releaseUid}.
 */
export function takeUid(base = SANDBOX_UID_BASE): number {
  const dir = leaseDir();
  for (let i = 1; i < SANDBOX_UIDS; i++) {
    const uid = base + i;
    if (!taken.has(uid) && lease(dir, uid)) {
      taken.add(uid);
      return uid;
    }
  }
  throw new Error(`more than ${SANDBOX_UIDS - 1} sandboxed steps at once on this host`);
}

export function releaseUid(uid: number): void {
  if (!taken.delete(uid)) return;
  const file = join(leaseDir(), String(uid));
  try {
    if (leaseHolder(readFileSync(file, 'utf8')).pid === process.pid) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

/**
 * The fixed folder inside every step's namespace where folders outside its work folder are mounted
 * (`<tmp>/site-deploy-sandbox/{data,plugins,state}`): the same paths in every run, so a kept
 * Terraform data folder stays valid. Empty on the host; made once, and refused unless it is a real
 * folder of this process's user.
 */
export function sandboxMounts(): { data: string; plugins: string; state: string } {
  const base = join(tmpdir(), 'site-deploy-sandbox');
  const dirs = { data: join(base, 'data'), plugins: join(base, 'plugins'), state: join(base, 'state') };
  for (const d of [base, ...Object.values(dirs)]) {
    mkdirSync(d, { recursive: true, mode: 0o755 });
    const s = lstatSync(d);
    if (!s.isDirectory() || s.uid !== (process.getuid?.() ?? 0))
      throw new Error(`${d} is not a folder of this user: refusing to mount step folders there`);
    // Every step's uid passes through (a umask may have made it owner-only).
    if ((s.mode & 0o777) !== 0o755) chmodSync(d, 0o755);
  }
  return dirs;
}
