import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

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
      for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
        const p = join(dir || '.', 'setpriv');
        try {
          accessSync(p, constants.X_OK);
          pdeathsig = p;
          break;
        } catch {
          // not here
        }
      }
    }
  }
  return pdeathsig;
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
  const result: ProcessResult = {
    exitCode: null,
    exitSignal: null,
    cancelled: false,
    stdout: '',
    stderrHead: [],
    stderrTail: [],
  };
  if (opts.signal?.aborted) return Promise.resolve({ ...result, cancelled: true });

  const spool = opts.spoolDir;
  const seq = ++spoolSeq;
  const spoolPath = (what: string): string =>
    join(spool as string, `.site-deploy-${what}-${process.pid}-${seq}.log`);
  const fds: number[] = [];
  const open = (path: string): number => {
    const fd = openSync(path, 'w', 0o600);
    fds.push(fd);
    return fd;
  };
  let stdoutPath: string | undefined;
  let stderrPath: string | undefined;
  let stdoutFd: number | undefined;
  let stderrFd: number | undefined;
  if (opts.stdoutFile !== undefined) stdoutFd = open(opts.stdoutFile);
  else if (spool !== undefined) stdoutFd = open((stdoutPath = spoolPath('out')));
  if (spool !== undefined) stderrFd = open((stderrPath = spoolPath('err')));
  const stdoutChunks: Buffer[] = [];

  const wrapper = spool !== undefined ? parentDeathWrapper() : null;
  return new Promise<ProcessResult>((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      // Through the wrapper the command is exec'd in place: same pid, same process group.
      const [file, argv] = wrapper
        ? [wrapper, ['--pdeathsig', 'TERM', '--', opts.command, ...opts.args]]
        : [opts.command, opts.args];
      child = spawn(file, argv, {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio: ['ignore', stdoutFd ?? 'pipe', stderrFd ?? 'pipe'],
      });
    } catch (e) {
      // spawn throws synchronously only for malformed arguments; report it like a failed start.
      for (const fd of fds) closeSync(fd);
      for (const p of [stdoutPath, stderrPath]) if (p) rmSync(p, { force: true });
      resolve({ ...result, spawnError: e as NodeJS.ErrnoException });
      return;
    }
    // The child holds its own copies of the descriptors now.
    for (const fd of fds) closeSync(fd);

    const log = opts.log;
    const logLines = (lines: string[]): void => {
      if (log && lines.length) log(lines.join('\n') + '\n');
    };
    let firstStderr = true;
    const stderrLines = new LineSplitter((all) => {
      let lines = all;
      if (wrapper && firstStderr && lines[0] !== undefined && EXEC_FAILED.test(lines[0])) {
        // The command never started: report it as the spawn failure it is, not as its output.
        const denied = lines[0].endsWith('Permission denied');
        result.spawnError = Object.assign(new Error(lines[0].replace(/^setpriv: /, '')), {
          code: denied ? 'EACCES' : 'ENOENT',
        });
        lines = lines.slice(1);
      }
      firstStderr = false;
      for (const l of lines) {
        if (result.stderrHead.length < HEAD_LINES) result.stderrHead.push(l);
        result.stderrTail.push(l);
        if (result.stderrTail.length > TAIL_LINES) result.stderrTail.shift();
      }
      logLines(lines);
    });
    const stdoutLines = new LineSplitter(logLines);
    const logStdout = opts.logStdout !== false;
    const onStdout = (d: Buffer): void => {
      if (opts.captureStdout) stdoutChunks.push(d);
      if (logStdout) stdoutLines.push(d);
    };
    const onStderr = (d: Buffer): void => stderrLines.push(d);

    const readers: SpoolReader[] = [];
    if (stdoutPath) readers.push(new SpoolReader(stdoutPath, onStdout));
    if (stderrPath) readers.push(new SpoolReader(stderrPath, onStderr));
    child.stdout?.on('data', onStdout);
    child.stderr?.on('data', onStderr);
    const poll =
      readers.length > 0
        ? setInterval(() => {
            for (const r of readers) r.read();
          }, SPOOL_POLL_MS)
        : undefined;

    let killTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const onAbort = (): void => {
      result.cancelled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(killGroup, opts.killGraceMs ?? 20_000);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      clearTimeout(closeTimer);
      clearInterval(poll);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const r of readers) r.finish();
      stdoutLines.end();
      stderrLines.end();
      if (opts.captureStdout) result.stdout = Buffer.concat(stdoutChunks).toString('utf8');
      if (result.spawnError) result.exitCode = null;
      resolve(result);
    };

    child.once('error', (e: NodeJS.ErrnoException) => {
      // 'error' without a pid means it never started; 'close' may not follow.
      if (child.pid === undefined) {
        result.spawnError = e;
        settle();
      }
    });
    child.once('exit', (code, sig) => {
      result.exitCode = code;
      result.exitSignal = sig;
      // Cancelled: reap what the tool left behind (a provisioner's `sleep` outlives its shell).
      if (result.cancelled) killGroup();
      // Spooled output is complete at exit, whatever a backgrounded grandchild still holds open.
      if (readers.length > 0 && !child.stdout && !child.stderr) return settle();
      closeTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle();
      }, CLOSE_WAIT_MS);
    });
    child.once('close', settle);
  });
}

/** Environment variables a step's child must not inherit from this process. */
const STRIPPED_ENV: RegExp[] = [
  // Action inputs (github-token among them) and the runner's tokens: with the OIDC request
  // token a module could mint its own identity token and assume the apply role.
  /^INPUT_/,
  /^ACTIONS_ID_TOKEN_REQUEST_(TOKEN|URL)$/,
  /^ACTIONS_RUNTIME_TOKEN$/,
  // Ambient AWS identity: a step gets exactly the credentials its request carries.
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|CREDENTIAL_EXPIRATION)$/,
  /^AWS_(PROFILE|DEFAULT_PROFILE|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE)$/,
  /^AWS_CONTAINER_(CREDENTIALS_FULL_URI|CREDENTIALS_RELATIVE_URI|AUTHORIZATION_TOKEN|AUTHORIZATION_TOKEN_FILE)$/,
];

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
    if (v !== undefined && !STRIPPED_ENV.some((re) => re.test(k))) env[k] = v;
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
