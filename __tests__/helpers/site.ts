// A small site-deploy repository for runner tests, written to a temp folder: sites/<site>/site.yaml,
// environments/<env>.yaml, optional credentials.yaml, and catalog modules (Terraform main.tf using
// only the built-in terraform_data, or command-engine `plan`/`apply` scripts). Plus helpers to run
// it through `execute` (runGraph + enginePorts) or through the bundled CLI, and to read its state.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { run } from '../../src/commands/run.js';
import { localRuntime } from '../../src/adapters/run/runtime.js';
import { fsReader } from '../../src/adapters/fs-reader.js';
import type { LogSink } from '../../src/adapters/run/group-log.js';
import type { RunContext } from '../../src/core/config/scope.js';
import type { SiteGraph } from '../../src/core/graph/build.js';
import type { ModuleResult, RunMode, RunResult } from '../../src/core/run/runner.js';
import { Redactor } from '../../src/core/redact.js';
import { testDist } from './dist.js';
import { parseDuration } from '../../src/core/duration.js';

/** One catalog module type. */
export interface CatalogModule {
  engine?: 'terraform' | 'command';
  /** Terraform: the text of main.tf. */
  tf?: string;
  /** Command engine: shell scripts (a `#!/bin/sh` line is added), written executable. */
  plan?: string;
  apply?: string;
  /** Manifest fields. `services` is always `[]` (credentials are not wired into steps yet). */
  inputs?: Record<string, unknown>;
  outputs?: string[];
  mock_outputs?: Record<string, unknown>;
}

/** A one-site, one-environment repository. */
export interface SiteSpec {
  /** Site folder and name; default `s`. */
  site?: string;
  /** Environment; default `dev`. */
  env?: string;
  /** Other keys of `site:` (halt_on_failure, ordering, state...). */
  settings?: Record<string, unknown>;
  /** Entries of `site.modules`. */
  modules: Record<string, unknown>[];
  /** Catalog modules by type. */
  catalog: Record<string, CatalogModule>;
  /** The environment's variables. */
  variables?: Record<string, unknown>;
  /** A credentials.yaml entry for the environment (needed for S3 state); none by default. */
  credentials?: Record<string, unknown>;
}

/** A Terraform state document (the parts tests read). */
export interface TfState {
  outputs: Record<string, { value: unknown; sensitive?: boolean }>;
  resources: {
    type: string;
    name: string;
    instances: { status?: string; attributes: Record<string, unknown> }[];
  }[];
}

/** A written repository. */
export interface SiteRepo {
  root: string;
  site: string;
  env: string;
  /** `<root>/.site-deploy/state/<site>/<env>/<module>.tfstate`. */
  statePath(module: string): string;
  /** The parsed local state of a module. */
  readState(module: string): TfState;
  /** The `input` value of the module's terraform_data resource (first, or by name) in its local state. */
  stateInput(module: string, resource?: string): unknown;
  /** Lock files left in the local state folder (`.*.lock.info`). */
  lockFiles(): string[];
  /** Rewrites the environment file with new variables. */
  setVariables(vars: Record<string, unknown>): Promise<void>;
}

const made: string[] = [];

/** Writes files under `root`, making folders as needed: text as it is, anything else as YAML. */
export function filePutter(root: string): (path: string, content: unknown) => Promise<void> {
  return async (path, content) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === 'string' ? content : stringify(content));
  };
}

/** A temp folder removed by `cleanupSites()`. */
export async function tempFolder(prefix = 'sd-run-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/**
 * A temp folder a module's Terraform may write marker files into: sandboxed, a step runs as a uid
 * of its own, so the folder is world-writable (sticky, like /tmp). Removed by `cleanupSites()`.
 */
export async function markerFolder(): Promise<string> {
  const d = await tempFolder('sd-marker-');
  await chmod(d, 0o1777);
  return d;
}

/** Removes every folder made by this helper. */
export async function cleanupSites(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

async function put(path: string, text: string, mode?: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  if (mode !== undefined) await chmod(path, mode);
}

const yamlText = (v: unknown): string => stringify(v, { lineWidth: 0 });

/** Writes a repository into a fresh temp folder (or `into`). */
export async function writeSite(spec: SiteSpec, into?: string): Promise<SiteRepo> {
  const root = into ?? (await tempFolder());
  const site = spec.site ?? 's';
  const env = spec.env ?? 'dev';
  const envFile = join(root, 'sites', site, 'environments', `${env}.yaml`);
  for (const [type, m] of Object.entries(spec.catalog)) {
    const dir = join(root, 'modules', type);
    const engine = m.engine ?? (m.tf !== undefined ? 'terraform' : 'command');
    const manifest: Record<string, unknown> = { engine, services: [] };
    if (m.inputs) manifest.inputs = m.inputs;
    if (m.outputs) manifest.outputs = m.outputs;
    if (m.mock_outputs) manifest.mock_outputs = m.mock_outputs;
    await put(join(dir, 'module.yaml'), yamlText(manifest));
    if (engine === 'terraform') await put(join(dir, 'main.tf'), m.tf ?? '');
    else {
      await put(join(dir, 'plan'), `#!/bin/sh\nset -e\n${m.plan ?? 'exit 0'}\n`, 0o755);
      await put(join(dir, 'apply'), `#!/bin/sh\nset -e\n${m.apply ?? 'exit 0'}\n`, 0o755);
    }
  }
  const siteDoc = {
    site: {
      name: site,
      ...(spec.settings ?? {}),
      modules: spec.modules,
      environments: [{ path: `environments/${env}.yaml` }],
    },
  };
  await put(join(root, 'sites', site, 'site.yaml'), yamlText(siteDoc));
  const writeEnv = (vars: Record<string, unknown>) =>
    put(envFile, yamlText({ environment: env, variables: vars }));
  await writeEnv(spec.variables ?? {});
  if (spec.credentials)
    await put(
      join(root, 'sites', site, 'credentials.yaml'),
      yamlText({ credentials: { [env]: spec.credentials } }),
    );

  const stateDir = join(root, '.site-deploy', 'state', site, env);
  const statePath = (m: string) => join(stateDir, `${m}.tfstate`);
  const readState = (m: string) => JSON.parse(readFileSync(statePath(m), 'utf8')) as TfState;
  return {
    root,
    site,
    env,
    statePath,
    readState,
    stateInput(m, resource) {
      const r = readState(m).resources.find(
        (x) => x.type === 'terraform_data' && (resource === undefined || x.name === resource),
      );
      const input = r?.instances[0]?.attributes.input as { value?: unknown } | null | undefined;
      return input?.value;
    },
    lockFiles() {
      if (!existsSync(stateDir)) return [];
      return readdirSync(stateDir).filter((f) => f.endsWith('.lock.info'));
    },
    setVariables: writeEnv,
  };
}

/** Terraform snippets built only on `terraform.io/builtin/terraform`. */
export const tf = {
  /** `var.<name>` of type any with an optional default. */
  variable(name: string, dflt?: unknown): string {
    return `variable "${name}" {\n  type = any\n${dflt === undefined ? '' : `  default = ${JSON.stringify(dflt)}\n`}}\n`;
  },
  /** A terraform_data resource whose `input` is an expression, with an optional local-exec command. */
  data(name: string, input: string, localExec?: string): string {
    const prov =
      localExec === undefined
        ? ''
        : `  provisioner "local-exec" {\n    command = ${JSON.stringify(localExec)}\n  }\n`;
    return `resource "terraform_data" "${name}" {\n  input = ${input}\n${prov}}\n`;
  },
  output(name: string, value: string): string {
    return `output "${name}" {\n  value = ${value}\n}\n`;
  },
};

/** The run context tests use (no git, no GitHub). */
export const CTX: RunContext = {
  repository: 'org/repo',
  sha: '0'.repeat(40),
  ref: 'refs/heads/main',
  runId: '1',
  actor: 'tester',
};

/** A progress event with the time it arrived. */
export interface RunEvent {
  type: 'start' | 'finish';
  name: string;
  at: number;
  status?: string;
}

/** One sink call, as recorded. */
export type SinkCall = { kind: 'start'; title: string } | { kind: 'end' } | { kind: 'write'; text: string };

/** A LogSink that records every call in order. */
export function recordingSink(): LogSink & { calls: SinkCall[] } {
  const calls: SinkCall[] = [];
  return {
    calls,
    startGroup: (title) => calls.push({ kind: 'start', title }),
    endGroup: () => calls.push({ kind: 'end' }),
    write: (text) => calls.push({ kind: 'write', text }),
  };
}

/** Options of `runSite`. */
export interface RunSiteOptions {
  maxParallel?: number;
  lockTimeout?: string;
  signal?: AbortSignal;
  sink?: LogSink;
  redactor?: Redactor;
  stepEnv?: Record<string, string>;
  workRoot?: string;
  onEvent?: (e: RunEvent) => void;
}

/** Runs plan or apply through the `run` command and the local runtime, as the CLI does, recording progress events. */
export async function runSite(
  repo: SiteRepo,
  mode: RunMode,
  o: RunSiteOptions = {},
): Promise<{
  result: RunResult;
  graph: SiteGraph;
  events: RunEvent[];
  byName: (name: string) => ModuleResult;
}> {
  const events: RunEvent[] = [];
  const event = (ev: RunEvent): void => {
    events.push(ev);
    o.onEvent?.(ev);
  };
  const redactor = o.redactor ?? new Redactor();
  const { result, graph } = await run(
    {
      root: repo.root,
      layout: { configRoot: 'sites', catalog: 'modules' },
      site: repo.site,
      env: repo.env,
      mode,
      maxParallel: o.maxParallel ?? 4,
      lockTimeoutMs: parseDuration(o.lockTimeout ?? '30s') ?? 0,
    },
    {
      files: fsReader,
      context: () => CTX,
      redactor,
      signal: o.signal,
      reporter: {
        engine: o.sink ?? { startGroup: () => {}, endGroup: () => {}, write: () => {} },
        started: (n) => event({ type: 'start', name: n.name, at: performance.now() }),
        finished: (n, m) => event({ type: 'finish', name: n.name, at: performance.now(), status: m.status }),
        notice: () => {},
      },
    },
    localRuntime({
      terraformBinary: 'terraform',
      lockTimeout: o.lockTimeout ?? '30s',
      workRoot: o.workRoot,
      stepEnv: o.stepEnv,
    }),
  );
  const byName = (name: string): ModuleResult => {
    const m = result.modules.find((x) => x.name === name);
    if (!m)
      throw new Error(`no module ${name} in the result: ${result.modules.map((x) => x.name).join(', ')}`);
    return m;
  };
  return { result, graph, events, byName };
}

/** The most modules running at once, from start/finish events. */
export function maxConcurrency(events: RunEvent[]): number {
  let running = 0;
  let most = 0;
  for (const e of events) {
    running += e.type === 'start' ? 1 : -1;
    most = Math.max(most, running);
  }
  return most;
}

/** Index of an event in the list; throws when missing. */
export function eventIndex(events: RunEvent[], type: RunEvent['type'], name: string): number {
  const i = events.findIndex((e) => e.type === type && e.name === name);
  if (i < 0) throw new Error(`no ${type} event for ${name}: ${JSON.stringify(events)}`);
  return i;
}

// ---------------------------------------------------------------------------------------------
// The bundled CLI.

/** The bundled CLI under test (built from the sources for this run; SD_TEST_CLI names another). */
export async function cliSnapshot(): Promise<string> {
  return Promise.resolve(resolve(process.env.SD_TEST_CLI ?? join(testDist(), 'cli.js')));
}

/** A running CLI process: its output so far, a way to wait for a line, and its exit. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches; rejects after `ms` or when the process exits first. */
  waitForStderr(re: RegExp, ms?: number): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `node <cli snapshot> ...args` with an environment free of GitHub Actions variables. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const script = await cliSnapshot();
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('GITHUB_') && !k.startsWith('ACTIONS_') && !k.startsWith('INPUT_'),
    ),
  ) as Record<string, string>;
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...base, NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((ok) => child.once('close', (code, signal) => ok({ code, signal, stdout: out, stderr: err })));
  let exited = false;
  void exit.then(() => (exited = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitForStderr: (re, ms = 30_000) =>
      new Promise((ok, fail) => {
        const until = Date.now() + ms;
        const poll = (): void => {
          if (re.test(err)) return ok();
          if (exited) return fail(new Error(`CLI exited before stderr matched ${re}:\n${err}`));
          if (Date.now() > until) return fail(new Error(`stderr never matched ${re}:\n${err}`));
          setTimeout(poll, 25);
        };
        poll();
      }),
  };
}

/** Runs the CLI to the end. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = await startCli(args, env);
  return p.exit;
}

/** `plan|apply --root R --site S --env E` arguments for a repository. */
export function cliArgs(repo: SiteRepo, command: string, ...extra: string[]): string[] {
  return [command, '--root', repo.root, '--site', repo.site, '--env', repo.env, ...extra];
}

/** Resolves true as soon as `check()` holds, false after `ms`. */
export async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return true;
}

/**
 * Terraform catalog modules shared by the runner tests (built-in terraform_data only):
 * - `src`: an upstream with an output known at plan time (`label`) and two known only after
 *   apply (`id`, `raw`); `mock_outputs` answers `id` only. `rev` forces a replacement.
 * - `echo`: a downstream that stores `value` in its state and outputs it.
 * - `step`: a general step whose apply sleeps `sleep` seconds in the background (its pid in
 *   `<marker>.pid`), touches `marker`, prints `say` lines, waits for the file `wait_for`, then exits
 *   with `exit_code`; `healthy = false` fails its plan with a precondition.
 */
export const TF_MODULES: Record<string, CatalogModule> = {
  src: {
    tf: `variable "label" {
  type = any
}
variable "rev" {
  type    = any
  default = "1"
}
resource "terraform_data" "this" {
  input            = var.label
  triggers_replace = [var.rev]
}
output "label" {
  value = var.label
}
output "id" {
  value = terraform_data.this.id
}
output "raw" {
  value = "raw-\${terraform_data.this.id}"
}
`,
    outputs: ['label', 'id', 'raw'],
    mock_outputs: { id: 'mock-id' },
  },
  echo: {
    tf: `variable "value" {
  type = any
}
resource "terraform_data" "this" {
  input = var.value
}
output "value" {
  value = var.value
}
`,
    outputs: ['value'],
  },
  step: {
    tf: `variable "value" {
  type    = any
  default = null
}
variable "sleep" {
  type    = number
  default = 0
}
variable "exit_code" {
  type    = number
  default = 0
}
variable "marker" {
  type    = string
  default = ""
}
variable "wait_for" {
  type    = string
  default = ""
}
variable "say" {
  type    = string
  default = ""
}
variable "healthy" {
  type    = bool
  default = true
}
resource "terraform_data" "this" {
  input = var.value
  lifecycle {
    precondition {
      condition     = var.healthy
      error_message = "The database is not healthy."
    }
  }
  provisioner "local-exec" {
    command = <<-EOT
      sleep \${var.sleep} &
      pid=$!
      if [ -n "\${var.marker}" ]; then echo $pid > "\${var.marker}.pid"; touch "\${var.marker}"; fi
      if [ -n "\${var.say}" ]; then for i in $(seq 1 15); do echo "\${var.say}-line-$i"; sleep 0.03; done; fi
      if [ -n "\${var.wait_for}" ]; then
        i=0
        while [ ! -e "\${var.wait_for}" ]; do i=$((i+1)); if [ $i -gt 300 ]; then echo "gave up waiting for \${var.wait_for}" >&2; exit 7; fi; sleep 0.1; done
      fi
      wait $pid
      exit \${var.exit_code}
    EOT
  }
}
output "value" {
  value = var.value
}
output "id" {
  value = terraform_data.this.id
}
`,
    outputs: ['value', 'id'],
  },
};
