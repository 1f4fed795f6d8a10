// Runs the bundled action (dist/index.js) the way the runner does (local-stack §6): Node 24, a
// clean environment with only PATH, HOME and what a runner sets, every input as INPUT_*, command
// files that exist. SD_TEST_ACTION=<path of an index.js> runs another build (e.g. an older one, to
// show that a test fails on it).
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { testDist } from './dist.js';
import { tempFolder } from './site.js';

/** Run attempts handed out so far (see GITHUB_RUN_ATTEMPT). */
let attempts = 0;

const NODE24 = resolve('node_modules/.bin/node');

/** The action.yml defaults, which the runner (not the toolkit) applies; expressions (`${{ github.token }}`) as empty. */
export const ACTION_DEFAULTS: Record<string, string> = Object.fromEntries(
  Object.entries(
    (parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }).inputs,
  ).map(([k, v]) => [k, /\$\{\{/.test(v.default ?? '') ? '' : (v.default ?? '')]),
);

/** The bundled action under test (built from the sources for this run; SD_TEST_ACTION names another). */
export async function actionBundle(): Promise<string> {
  const index = resolve(process.env.SD_TEST_ACTION ?? join(testDist(), 'index.js'));
  if (!existsSync(index)) throw new Error(`${index} is missing: run the tests with \`npm test\``);
  return Promise.resolve(index);
}

/** The runner's command files of one step. */
export interface RunnerFiles {
  output: string;
  summary: string;
  env: string;
  path: string;
  state: string;
}

/** One run of the bundled action. */
export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  files: RunnerFiles;
  /** Parsed GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** The runner folder: RUNNER_TEMP and the command files live under it. */
  runnerDir: string;
  runnerTemp: string;
}

/** Parses a GITHUB_OUTPUT-style file (`name<<delimiter` blocks and `name=value` lines). */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc as unknown as [string, string, string];
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) body.push(lines[i] as string);
      out[name] = body.join('\n');
    } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return out;
}

/** Runs the bundled action in `root` (the workspace) with the given inputs, environment and event. */
export async function runBundledAction(o: {
  root: string;
  inputs: Record<string, string>;
  env?: Record<string, string>;
  event?: { name: string; payload: unknown };
  timeoutMs?: number;
  /** Called once the action's process is started (its pid, say, for a test to hand a module). */
  onStart?: (child: ChildProcess, files: RunnerFiles) => void;
  /** stdout and stderr as real pipes, as the runner gives them (Node's own are socket pairs). */
  fifos?: boolean;
}): Promise<ActionRun> {
  const script = await actionBundle();
  const runnerDir = await tempFolder('sd-runner-');
  const runnerTemp = join(runnerDir, 'tmp');
  await mkdir(runnerTemp, { recursive: true });
  const files: RunnerFiles = {
    output: join(runnerDir, 'output'),
    summary: join(runnerDir, 'step_summary'),
    env: join(runnerDir, 'env'),
    path: join(runnerDir, 'path'),
    state: join(runnerDir, 'state'),
  };
  for (const f of Object.values(files)) await writeFile(f, '');
  const eventPath = join(runnerDir, 'event.json');
  await writeFile(eventPath, JSON.stringify(o.event?.payload ?? {}));
  const inputs = { ...ACTION_DEFAULTS, ...o.inputs };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: o.event?.name ?? 'push',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STATE: files.state,
    GITHUB_REPOSITORY: 'org/repo',
    GITHUB_REPOSITORY_OWNER: 'org',
    GITHUB_SHA: 'c'.repeat(40),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKSPACE: o.root,
    GITHUB_ACTOR: 'octocat',
    GITHUB_RUN_ID: '4242',
    // Each run its own attempt: records are named <run id>-<attempt>-<command> and never overwritten.
    GITHUB_RUN_ATTEMPT: String(++attempts),
    GITHUB_JOB: 'deploy',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    ...(o.env ?? {}),
  };
  const pipes = o.fifos ? [fifo(join(runnerDir, 'stdout')), fifo(join(runnerDir, 'stderr'))] : [];
  const stdio: StdioOptions = pipes.length
    ? ['ignore', ...pipes.map((p) => p.write)]
    : ['ignore', 'pipe', 'pipe'];
  const child: ChildProcess = spawn(NODE24, [script], { cwd: o.root, env, stdio });
  for (const p of pipes) closeSync(p.write);
  o.onStart?.(child, files);
  let stdout = '';
  let stderr = '';
  const [out, err] = pipes.length ? pipes.map((p) => p.read) : [child.stdout!, child.stderr!];
  out!.on('data', (d: Buffer) => (stdout += d.toString()));
  err!.on('data', (d: Buffer) => (stderr += d.toString()));
  const drained = pipes.map((p) => new Promise((ok) => p.read.once('close', ok)));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 150_000);
  const code = await new Promise<number | null>((ok) => child.once('close', (c) => ok(c)));
  await Promise.all(drained);
  clearTimeout(timer);
  return {
    code,
    stdout,
    stderr,
    files,
    outputs: parseCommandFile(readFileSync(files.output, 'utf8')),
    runnerDir,
    runnerTemp,
  };
}

/**
 * A real pipe, as the runner gives a step's stdout and stderr: a FIFO opened at both ends. (What
 * Node's `spawn` makes are socket pairs, which cannot be opened again through `/proc/<pid>/fd/N`.)
 */
function fifo(path: string): { write: number; read: Socket } {
  execFileSync('mkfifo', ['-m', '600', path]);
  const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return {
    write: openSync(path, constants.O_WRONLY),
    read: new Socket({ fd: read, readable: true, writable: false }),
  };
}
