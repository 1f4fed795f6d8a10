import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { findExecutable } from './path-lookup.js';
import { sandboxArgv, type ProcessSandbox } from './sandbox.js';

/** How one child process is run. */
export interface ProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Receives whole lines of stderr, and of stdout unless `logStdout` is false. */
  log?: (chunk: string) => void;
  /** false keeps stdout out of the log (machine output that may hold sensitive values). */
  logStdout?: boolean;
  /** Streams stdout into this file instead of memory. */
  stdoutFile?: string;
  /** Keeps stdout in `ProcessResult.stdout`. */
  captureStdout?: boolean;
  signal?: AbortSignal;
  /** After an abort, how long before the whole process group gets SIGKILL. */
  killGraceMs?: number;
  /**
   * A private folder (the step's work folder) for output files: given, the child's output goes
   * through files and the child is stopped (SIGTERM) if this process dies.
   */
  spoolDir?: string;
  /** Runs the child in the step sandbox (sandbox.ts); without it, a reaper ends its group if we die. */
  sandbox?: ProcessSandbox;
}

/** How a child process ended. */
export interface ProcessResult {
  exitCode: number | null;
  /** The signal that ended it, if any. */
  exitSignal: NodeJS.Signals | null;
  /** Set when the process could not be started (ENOENT, EACCES, ...). */
  spawnError?: NodeJS.ErrnoException;
  /** The abort signal fired while it ran (or before it started). */
  cancelled: boolean;
  /** Captured stdout when `captureStdout` was set, else ''. */
  stdout: string;
  /** The first stderr lines (up to 500): where tools print the error that matters. */
  stderrHead: string[];
  /** The last 20 stderr lines. */
  stderrTail: string[];
}

const HEAD_LINES = 500;
const TAIL_LINES = 20;
/** Once the child exited, how long its stdio may stay open (a backgrounded grandchild can hold it forever). */
const CLOSE_WAIT_MS = 2000;

let pdeathsig: string | null | undefined;

/**
 * `setpriv --pdeathsig TERM` (util-linux; on GitHub's Ubuntu runners too): the kernel sends the
 * child SIGTERM when this process dies, even by SIGKILL or the OOM killer, so Terraform stops
 * gracefully instead of applying on unsupervised. Null where it does not exist (not Linux).
 */
export function parentDeathWrapper(): string | null {
  if (pdeathsig === undefined) {
    pdeathsig = null;
    if (process.platform === 'linux' && process.env.SITE_DEPLOY_NO_PDEATHSIG !== '1') {
      pdeathsig = findExecutable('setpriv') ?? null;
    }
  }
  return pdeathsig;
}

/** After an abort, how long a child gets before its group is killed, unless the caller says. */
const DEFAULT_GRACE_MS = 20_000;

/**
 * Waits for EOF on stdin, then for the leader ($1) to exit (at most $2 tenths of a second), then
 * kills its group. A leader whose parent died is a zombie until the host's init reaps it, which
 * `kill -0` still counts as running: on Linux its state in /proc says it is gone.
 */
const REAPER = `read -r _ || true
alive() {
  if [ -r "/proc/$1/stat" ]; then
    s=$(sed -n 's/^.*) \\(.\\).*$/\\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$s" ] && [ "$s" != Z ]
  else kill -0 "$1" 2>/dev/null; fi
}
i=0
while alive "$1" && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
kill -s KILL -- "-$1" 2>/dev/null
exit 0`;

/** The name of signal `n` (SIGTERM for 15). */
function signalName(n: number): NodeJS.Signals | undefined {
  const isSignal = (name: string): name is NodeJS.Signals => name in osConstants.signals;
  return Object.entries(osConstants.signals)
    .filter(([, num]) => num === n)
    .map(([name]) => name)
    .find(isSignal);
}

/** How setpriv reports that it could not exec the command (exit 126/127). */
const EXEC_FAILED = /^setpriv: failed to execute .*: (No such file or directory|Permission denied)$/;

/** Splits a byte stream into whole lines, so log readers never see half a line. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';
  constructor(private readonly onLines: (lines: string[]) => void) {}

  push(data: Buffer): void {
    const text = this.rest + this.decoder.write(data);
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      this.rest = text;
      return;
    }
    this.rest = text.slice(cut + 1);
    this.onLines(text.slice(0, cut).split('\n'));
  }

  end(): void {
    const text = this.rest + this.decoder.end();
    this.rest = '';
    if (text) this.onLines([text]);
  }
}

/** How often a spooled output file is read while its process runs. */
const SPOOL_POLL_MS = 20;
let spoolSeq = 0;

/**
 * Follows a file a child writes its output into: everything written so far, in order, each
 * time it is read. A file, unlike a pipe, outlives this process — a child told to stop after we
 * died (SIGTERM from the kernel) can still print its last lines and exit cleanly instead of dying
 * of SIGPIPE with its state lock held.
 */
class SpoolReader {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private done = false;

  constructor(
    readonly path: string,
    private readonly onData: (d: Buffer) => void,
  ) {
    this.fd = openSync(path, 'r');
  }

  /** Reads what is new; at most `maxBytes` at a time so a flood never stalls the event loop. */
  read(maxBytes = 4 * 1024 * 1024): void {
    if (this.done) return;
    let total = 0;
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      if (n <= 0) return;
      this.onData(Buffer.from(this.buf.subarray(0, n)));
      total += n;
      if (total >= maxBytes) return;
    }
  }

  /** Reads the rest, closes and removes the file (it may hold what a module printed). */
  finish(): void {
    this.read(Number.POSITIVE_INFINITY);
    this.done = true;
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}

/**
 * Runs one command from an argv array (never through a shell) in its own process group.
 * On abort it sends SIGTERM to the command only — Terraform then stops gracefully and
 * releases its state lock — and SIGKILLs the whole group after `killGraceMs`. Its own group
 * keeps terminal and runner signals from reaching the child twice (Terraform exits at once,
 * lock held, on a second interrupt). With `spoolDir`, output goes through files there rather
 * than pipes, and the child is started under `setpriv --pdeathsig TERM`: if this process dies
 * outright, the child is told to stop and can still finish its output.
 */
export function runProcess(opts: ProcessOptions): Promise<ProcessResult> {
  if (opts.signal?.aborted) return Promise.resolve({ ...emptyResult(), cancelled: true });
  return new ProcessRun(opts).start();
}

function emptyResult(): ProcessResult {
  return { exitCode: null, exitSignal: null, cancelled: false, stdout: '', stderrHead: [], stderrTail: [] };
}

/** Where a child's output goes: descriptors it is started with, and the spool files behind them. */
class ChildOutputs {
  readonly fds: number[] = [];
  stdoutPath?: string;
  stderrPath?: string;
  stdoutFd?: number;
  stderrFd?: number;

  constructor(opts: ProcessOptions) {
    const spool = opts.spoolDir;
    const seq = ++spoolSeq;
    const spoolPath = (dir: string, what: string): string =>
      join(dir, `.site-deploy-${what}-${process.pid}-${seq}.log`);
    if (opts.stdoutFile !== undefined) this.stdoutFd = this.open(opts.stdoutFile);
    else if (spool !== undefined) this.stdoutFd = this.open((this.stdoutPath = spoolPath(spool, 'out')));
    if (spool !== undefined) this.stderrFd = this.open((this.stderrPath = spoolPath(spool, 'err')));
  }

  private open(path: string): number {
    const fd = openSync(path, 'w', 0o600);
    this.fds.push(fd);
    return fd;
  }

  /** The child holds its own copies of the descriptors now (or never started). */
  closeOurs(): void {
    for (const fd of this.fds) closeSync(fd);
  }

  removeSpools(): void {
    for (const p of [this.stdoutPath, this.stderrPath]) if (p) rmSync(p, { force: true });
  }
}

/** One child process from spawn to its result: output split into lines, abort, kill, settle. */
class ProcessRun {
  private readonly result = emptyResult();
  private readonly outputs: ChildOutputs;
  private readonly wrapper: string | null;
  /** Something between us and the command reports a failed exec on stderr (setpriv). */
  private readonly execReported: boolean;
  private reaper?: ChildProcess;
  private readonly stdoutChunks: Buffer[] = [];
  private readonly readers: SpoolReader[] = [];
  private readonly stdoutLines: LineSplitter;
  private readonly stderrLines: LineSplitter;
  private firstStderr = true;
  private child!: ChildProcess;
  private poll?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;
  private closeTimer?: NodeJS.Timeout;
  private settled = false;
  private resolve: (r: ProcessResult) => void = () => undefined;

  constructor(private readonly opts: ProcessOptions) {
    this.outputs = new ChildOutputs(opts);
    this.wrapper = opts.spoolDir !== undefined && !opts.sandbox ? parentDeathWrapper() : null;
    this.execReported = this.wrapper !== null || opts.sandbox !== undefined;
    this.stdoutLines = new LineSplitter((lines) => this.logLines(lines));
    this.stderrLines = new LineSplitter((lines) => this.onStderrLines(lines));
  }

  start(): Promise<ProcessResult> {
    return new Promise<ProcessResult>((resolve) => {
      this.resolve = resolve;
      if (!this.spawnChild()) return;
      this.outputs.closeOurs();
      this.startReaper();
      this.follow();
      this.opts.signal?.addEventListener('abort', this.onAbort, { once: true });
      this.child.once('error', (e: NodeJS.ErrnoException) => {
        // 'error' without a pid means it never started; 'close' may not follow.
        if (this.child.pid === undefined) {
          this.result.spawnError = e;
          this.settle();
        }
      });
      this.child.once('exit', (code, sig) => this.onExit(code, sig));
      this.child.once('close', () => this.settle());
    });
  }

  /** Starts the child; false (and the result resolved) when spawn refused its arguments. */
  private spawnChild(): boolean {
    const { opts, outputs, wrapper } = this;
    try {
      // Through the wrapper the command is exec'd in place: same pid, same process group.
      const [file, argv] = opts.sandbox
        ? sandboxArgv(opts.sandbox, opts.killGraceMs ?? DEFAULT_GRACE_MS, opts.command, opts.args)
        : wrapper
          ? [wrapper, ['--pdeathsig', 'TERM', '--', opts.command, ...opts.args]]
          : [opts.command, opts.args];
      this.child = spawn(file, argv, {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        // The sandbox's init stops the command when this pipe closes (abort, or this process dying).
        stdio: [opts.sandbox ? 'pipe' : 'ignore', outputs.stdoutFd ?? 'pipe', outputs.stderrFd ?? 'pipe'],
      });
      return true;
    } catch (e) {
      // spawn throws synchronously only for malformed arguments; report it like a failed start.
      outputs.closeOurs();
      outputs.removeSpools();
      this.resolve({ ...this.result, spawnError: e as NodeJS.ErrnoException });
      return false;
    }
  }

  private logLines(lines: string[]): void {
    if (this.opts.log && lines.length) this.opts.log(lines.join('\n') + '\n');
  }

  private onStderrLines(all: string[]): void {
    let lines = all;
    const first = lines[0];
    if (this.execReported && this.firstStderr && first !== undefined && EXEC_FAILED.test(first)) {
      // The command never started: report it as the spawn failure it is, not as its output.
      const denied = first.endsWith('Permission denied');
      this.result.spawnError = Object.assign(new Error(first.replace(/^setpriv: /, '')), {
        code: denied ? 'EACCES' : 'ENOENT',
      });
      lines = lines.slice(1);
    }
    this.firstStderr = false;
    const { stderrHead, stderrTail } = this.result;
    for (const l of lines) {
      if (stderrHead.length < HEAD_LINES) stderrHead.push(l);
      stderrTail.push(l);
      if (stderrTail.length > TAIL_LINES) stderrTail.shift();
    }
    this.logLines(lines);
  }

  private readonly onStdout = (d: Buffer): void => {
    if (this.opts.captureStdout) this.stdoutChunks.push(d);
    if (this.opts.logStdout !== false) this.stdoutLines.push(d);
  };

  private readonly onStderr = (d: Buffer): void => this.stderrLines.push(d);

  /** Reads the child's pipes, or polls its spool files. */
  private follow(): void {
    const { stdoutPath, stderrPath } = this.outputs;
    if (stdoutPath) this.readers.push(new SpoolReader(stdoutPath, this.onStdout));
    if (stderrPath) this.readers.push(new SpoolReader(stderrPath, this.onStderr));
    this.child.stdout?.on('data', this.onStdout);
    this.child.stderr?.on('data', this.onStderr);
    if (this.readers.length > 0)
      this.poll = setInterval(() => {
        for (const r of this.readers) r.read();
      }, SPOOL_POLL_MS);
  }

  private readonly killGroup = (): void => {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  };

  private readonly onAbort = (): void => {
    this.result.cancelled = true;
    // Sandboxed: closing the init's stdin makes it send the command SIGTERM (it runs as another uid).
    if (this.opts.sandbox) this.child.stdin?.end();
    else this.child.kill('SIGTERM');
    this.killTimer = setTimeout(this.killGroup, this.opts.killGraceMs ?? DEFAULT_GRACE_MS);
  };

  /**
   * Unsandboxed step processes: a detached watcher that, once this process is gone (even by
   * SIGKILL: its stdin pipe closes) or the child has exited, gives the child the grace period and
   * then kills its whole process group — `pdeathsig` reaches only the direct child.
   */
  private startReaper(): void {
    if (this.opts.sandbox || this.opts.spoolDir === undefined || this.child.pid === undefined) return;
    const tenths = String(Math.ceil((this.opts.killGraceMs ?? DEFAULT_GRACE_MS) / 100));
    try {
      this.reaper = spawn('/bin/sh', ['-c', REAPER, 'site-deploy-reaper', String(this.child.pid), tenths], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      this.reaper.on('error', () => undefined);
      this.reaper.stdin?.on('error', () => undefined);
      this.reaper.unref();
    } catch {
      // No shell: the pdeathsig wrapper alone.
    }
  }

  private onExit(code: number | null, sig: NodeJS.Signals | null): void {
    const byInit = this.opts.sandbox && code !== null && code > 128 && code < 128 + 65;
    // The sandbox's init reports a command killed by a signal as 128 + its number, as shells do.
    const signal = byInit ? signalName(code - 128) : undefined;
    this.result.exitCode = signal ? null : code;
    this.result.exitSignal = signal ?? sig;
    // Whatever the step left in its group goes now (the reaper kills it once the leader is gone).
    this.reaper?.stdin?.end();
    // Cancelled: reap what the tool left behind (a provisioner's `sleep` outlives its shell).
    if (this.result.cancelled) this.killGroup();
    // Spooled output is complete at exit, whatever a backgrounded grandchild still holds open.
    if (this.readers.length > 0 && !this.child.stdout && !this.child.stderr) return this.settle();
    this.closeTimer = setTimeout(() => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      this.settle();
    }, CLOSE_WAIT_MS);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.killTimer);
    clearTimeout(this.closeTimer);
    clearInterval(this.poll);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    for (const r of this.readers) r.finish();
    this.stdoutLines.end();
    this.stderrLines.end();
    const result = this.result;
    if (this.opts.captureStdout) result.stdout = Buffer.concat(this.stdoutChunks).toString('utf8');
    if (result.spawnError) result.exitCode = null;
    this.resolve(result);
  }
}

/**
 * What a step's child never inherits from this process — the one list (childEnvWith in
 * aws/credential-server.ts uses it too). The runner's file-command files (a module could set
 * variables and PATH of later steps, or forge outputs), action inputs (github-token among them),
 * every Actions and GitHub token (with the OIDC request token a module could mint its own
 * identity token and assume the environment's whole role), and ambient AWS identity: a step gets
 * exactly the credentials its request carries.
 */
export const STRIPPED_ENV: readonly RegExp[] = [
  /^GITHUB_(ENV|PATH|OUTPUT|STATE|STEP_SUMMARY)$/,
  /^INPUT_/i,
  /^ACTIONS_/,
  /^(GITHUB|GH|GH_ENTERPRISE|GITHUB_ENTERPRISE)_TOKEN$/,
  /^(GITHUB|GH)_[A-Z0-9_]*(TOKEN|SECRET|PASSWORD|KEY)$/,
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|CREDENTIAL_EXPIRATION)$/,
  /^AWS_(PROFILE|DEFAULT_PROFILE|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE)$/,
  /^AWS_CONTAINER_(CREDENTIALS_FULL_URI|CREDENTIALS_RELATIVE_URI|AUTHORIZATION_TOKEN|AUTHORIZATION_TOKEN_FILE)$/,
];

/** Whether a variable of this process must not reach a step's child. */
export function strippedFromChild(name: string): boolean {
  return STRIPPED_ENV.some((re) => re.test(name));
}

/**
 * The environment for a step's child: this process's environment without action inputs,
 * runner tokens and ambient AWS credentials, then `extra` on top. Credentials reach a step
 * only through `extra`.
 */
export function childEnv(
  extra: Record<string, string>,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined && !strippedFromChild(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Terraform's environment on top of `childEnv`: no prompts, automation output, and a CLI
 * config that exists (a TF_CLI_CONFIG_FILE naming a missing file makes every command warn).
 */
export function terraformEnv(
  extra: Record<string, string>,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env = childEnv({}, base);
  env.TF_IN_AUTOMATION = '1';
  env.TF_INPUT = '0';
  const cfg = env.TF_CLI_CONFIG_FILE;
  if (cfg !== undefined && (cfg === '' || !existsSync(cfg))) env.TF_CLI_CONFIG_FILE = '/dev/null';
  return { ...env, ...extra };
}
