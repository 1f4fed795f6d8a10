/**
 * The local runtime of plan and apply: the site × environment's run lock, a private work folder
 * per run (removed afterwards, and by the next run if this process was killed), owner-only local
 * state, and engine-backed steps with their AWS sessions.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { OpenRun, RunIsolation, RunOpening, Runtime } from '../../commands/ports.js';
import type { RecoveredRun } from '../../core/evidence/record.js';
import { startedSteps } from '../engines/workdir.js';
import { SiteDeployError } from '../../core/errors.js';
import { probeIsolation, type IsolationProbe } from '../engines/sandbox.js';
import type { StepIdentity } from '../../core/credentials/session.js';
import { RUN_LOCK, s3LockObject, type SiteGraph } from '../../core/graph/build.js';
import type { RunMode } from '../../core/run/runner.js';
import { s3Client } from '../aws/s3.js';
import { ensureToolDir, toolDir } from '../tool-dir.js';
import { GroupedLog } from './group-log.js';
import {
  acquireRunLock,
  describeHolder,
  forceUnlock,
  holderAlive,
  type LockHolder,
  type S3LockTarget,
} from './run-lock.js';
import { localStatePath, moduleStateOutputs } from './state.js';
import { enginePorts, unsandboxedEngine, type EnginePorts, type StepSettings } from './steps.js';

/** How this machine runs module steps. */
export interface RuntimeOptions {
  terraformBinary: string;
  /** Passed to Terraform's `-lock-timeout`. */
  lockTimeout: string;
  /** Folder for per-run work folders; default `<root>/.site-deploy/work`. */
  workRoot?: string;
  /** Extra environment for every step (e.g. AWS endpoints); credentials come per step. */
  stepEnv?: Record<string, string>;
  /** Per-step AWS sessions; absent: steps get no AWS credentials. */
  credentials?: StepSettings['credentials'];
  /** The workflow run's link, recorded with the lock. */
  runUrl?: string;
}

/** A run folder's record of who made it, so a later run can tell when its owner is gone. */
const OWNER_FILE = 'owner.json';

/** A run folder's owner record, when it is one (written by `open` below). */
function ownerRecord(text: string): LockHolder | undefined {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null) return undefined;
  const str = (k: string): string | undefined => {
    const x: unknown = Reflect.get(v, k);
    return typeof x === 'string' ? x : undefined;
  };
  const pid: unknown = Reflect.get(v, 'pid');
  const [id, command, site, environment, host, user, started, run] = [
    'id',
    'command',
    'site',
    'environment',
    'host',
    'user',
    'started',
    'run',
  ].map(str);
  if (typeof pid !== 'number' || host === undefined) return undefined;
  const pidStart = str('pidStart');
  return {
    id: id ?? '',
    command: command ?? '',
    site: site ?? '',
    environment: environment ?? '',
    host,
    pid,
    ...(pidStart === undefined ? {} : { pidStart }),
    user: user ?? '',
    started: started ?? '',
    run: run ?? '',
  };
}

/** Removes the work folders of earlier runs whose process is gone (killed before it could clean up). */
async function removeOrphanedWork(base: string): Promise<void> {
  const entries = await readdir(base).catch((): string[] => []);
  for (const name of entries.filter((n) => n.startsWith('run-'))) {
    const dir = join(base, name);
    const owner = await readFile(join(dir, OWNER_FILE), 'utf8')
      .then(ownerRecord)
      .catch(() => undefined);
    if (owner && holderAlive(owner) === false) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A killed run whose lock this run took over: its work folders (by its lock id, in each base) are
 * read for the module steps it had started and removed, and the run is told, naming it.
 */
async function recoverDeadRun(
  dead: LockHolder,
  bases: string[],
  reporter: RunOpening['reporter'],
): Promise<RecoveredRun> {
  const steps = new Set<string>();
  for (const base of bases)
    for (const name of (await readdir(base).catch((): string[] => [])).filter((n) => n.startsWith('run-'))) {
      const dir = join(base, name);
      const owner = await readFile(join(dir, OWNER_FILE), 'utf8')
        .then(ownerRecord)
        .catch(() => undefined);
      if (owner?.id !== dead.id) continue;
      for (const step of await startedSteps(dir)) steps.add(step);
      await rm(dir, { recursive: true, force: true });
    }
  const started = [...steps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const run = dead.runId ? `run ${dead.runId}${dead.attempt ? `-${dead.attempt}` : ''}, ` : '';
  reporter.notice(
    `warning: took over the run lock of a killed run: ${run}${describeHolder(dead)} — its process is gone. ` +
      (started.length
        ? `It had started module step${started.length === 1 ? '' : 's'} ${started.join(', ')}: ` +
          'they may have stopped half-way, so check their state. '
        : 'It had started no module step. ') +
      'Its work folder was removed.',
  );
  return {
    run: {
      id: dead.runId ?? null,
      attempt: dead.attempt ?? null,
      url: dead.run && dead.run !== 'local' ? dead.run : null,
    },
    command: dead.command,
    host: dead.host,
    pid: dead.pid,
    user: dead.user,
    started_at: dead.started,
    steps: started,
  };
}

/** Makes local state files (and their backups) readable by their owner only. */
async function protectLocalState(root: string, graph: SiteGraph): Promise<void> {
  for (const node of graph.nodes) {
    const path = localStatePath(root, graph.site.name, graph.environment.name, node.name);
    for (const p of [path, `${path}.backup`]) {
      const s = await stat(p).catch(() => undefined);
      if (s && (s.mode & 0o077) !== 0) await chmod(p, 0o600);
    }
  }
}

/** The S3 run lock beside the state, reached with a session allowed only that object. */
async function s3Lock(o: RuntimeOptions, graph: SiteGraph, mode: RunMode): Promise<S3LockTarget | undefined> {
  const lock = s3LockObject(graph);
  if (!lock) return undefined;
  const c = o.credentials;
  const identity: StepIdentity = {
    site: graph.site.name,
    environment: graph.environment.name,
    module: RUN_LOCK,
    services: [],
    stateObject: { bucket: lock.bucket, key: lock.key },
    repository: c?.ctx.repository,
    runId: c?.ctx.runId,
    actor: c?.ctx.actor,
    purpose: mode,
  };
  const session = c && graph.credentials ? await c.broker.get(graph.credentials, identity) : undefined;
  return {
    client: await s3Client(lock.region, o.stepEnv ?? {}, session?.credentials),
    bucket: lock.bucket,
    key: lock.key,
  };
}

/**
 * Where a run's own work folder goes (each run gets one, so two runs in one checkout never empty
 * each other's), with the folders of earlier runs whose owner is gone removed.
 */
async function workBase(o: RuntimeOptions, root: string, graph: SiteGraph): Promise<string> {
  const base = join(o.workRoot ?? join(toolDir(root), 'work'), graph.site.name, graph.environment.name);
  await mkdir(base, { recursive: true, mode: 0o700 });
  await removeOrphanedWork(base);
  return base;
}

/** Whether a uid of no group may pass through `dir` (or, not made yet, its nearest existing folder). */
function passable(dir: string): boolean {
  let p = dir;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  for (; ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (dirname(p) === p) return true;
  }
}

/**
 * Where a sandboxed run's work folders may go: the configured work root (the runner's temp
 * folder, in the action) when every step's uid can pass through it, else `<tmp>/site-deploy-work`;
 * undefined when neither is reachable.
 */
function sandboxBaseFor(o: RuntimeOptions): string | undefined {
  if (o.workRoot !== undefined && passable(o.workRoot)) return o.workRoot;
  const tmp = join(tmpdir(), 'site-deploy-work');
  return passable(tmp) ? tmp : undefined;
}

/** The run's isolation: the sandbox where this machine has it and every module's engine uses it. */
function runIsolation(
  probe: IsolationProbe,
  graph: SiteGraph,
  terraformBinary: string,
  base: string | undefined,
): RunIsolation {
  if (probe.isolation !== 'namespace') return { isolation: 'none', reason: probe.reason };
  if (base === undefined)
    return {
      isolation: 'none',
      reason: `no work folder a step's uid can reach (the temp folder is ${tmpdir()})`,
    };
  for (const n of graph.nodes) {
    const why = n.manifest && unsandboxedEngine(n.manifest.engine, terraformBinary);
    if (why) return { isolation: 'none', reason: `${n.name}: ${why}` };
  }
  return { isolation: 'namespace' };
}

/**
 * Makes the base of a sandboxed run's work folder ({@link sandboxBaseFor}): anyone may pass through
 * but not list it (0711), so each step's own folder (0700, its uid's) is reachable by it — a
 * checkout's folders usually are not.
 */
async function sandboxWorkBase(base: string): Promise<string> {
  await mkdir(base, { recursive: true, mode: 0o711 });
  await chmod(base, 0o711);
  await removeOrphanedWork(base);
  return base;
}

/** Takes the run lock, makes the work folder and the engine-backed steps; `close` undoes all of it. */
async function openRun(o: RuntimeOptions, run: RunOpening): Promise<OpenRun> {
  const { root, graph } = run;
  const probe = probeIsolation();
  const sandboxBase = sandboxBaseFor(o);
  const isolation = runIsolation(probe, graph, o.terraformBinary, sandboxBase);
  if (run.requireIsolation && isolation.isolation !== 'namespace')
    throw new SiteDeployError(
      'refused',
      `require-isolation: module steps cannot be sandboxed here (${isolation.reason ?? 'unknown'}); nothing was run`,
    );
  run.reporter.notice(`isolation: ${isolation.isolation}${isolation.reason ? ` (${isolation.reason})` : ''}`);
  await ensureToolDir(root);
  const lock = await acquireRunLock({
    root,
    site: graph.site.name,
    environment: graph.environment.name,
    command: run.mode,
    timeoutMs: run.lockTimeoutMs,
    run: o.runUrl,
    ...(run.runId ? { runId: run.runId } : {}),
    s3: await s3Lock(o, graph, run.mode),
    onWait: (holder, where) =>
      run.reporter.notice(`waiting for the run lock (${where}), held by ${describeHolder(holder)}`),
  });
  let workRoot: string | undefined;
  let ports: EnginePorts | undefined;
  const close = async (): Promise<void> => {
    try {
      // No warm-up may still be writing into the folders about to go.
      await ports?.dispose();
      if (workRoot && !process.env.SITE_DEPLOY_KEEP_WORK)
        await rm(workRoot, { recursive: true, force: true });
      await protectLocalState(root, graph);
    } finally {
      await lock.release();
    }
  };
  try {
    const ownBase = join(o.workRoot ?? join(toolDir(root), 'work'), graph.site.name, graph.environment.name);
    const recovered = lock.recovered
      ? await recoverDeadRun(lock.recovered, [ownBase, ...(sandboxBase ? [sandboxBase] : [])], run.reporter)
      : undefined;
    // Removed afterwards: saved plans hold sensitive values in plaintext.
    // All or nothing: a run with a step that cannot be sandboxed runs none sandboxed, and says so.
    const sandboxed = isolation.isolation === 'namespace';
    // The checkout's work folder is cleaned of dead runs' folders either way (a sandboxed run may
    // follow one that was not).
    const own = await workBase(o, root, graph);
    const base = sandboxed && sandboxBase !== undefined ? await sandboxWorkBase(sandboxBase) : own;
    workRoot = await mkdtemp(join(base, 'run-'));
    if (sandboxed) await chmod(workRoot, 0o711);
    await writeFile(join(workRoot, OWNER_FILE), JSON.stringify(lock.holder), { mode: 0o600 });
    await protectLocalState(root, graph);
    ports = enginePorts(run.workspace, graph, {
      root,
      workRoot,
      terraformBinary: o.terraformBinary,
      lockTimeout: o.lockTimeout,
      log: new GroupedLog(run.reporter.engine),
      redactor: run.redactor,
      env: o.stepEnv,
      credentials: o.credentials,
      beforeApply: run.beforeApply,
      ...(run.bindingKey ? { bindingKey: run.bindingKey } : {}),
      isolation: sandboxed ? probe : { isolation: 'none', reason: isolation.reason, prefix: [] },
    });
    return { ports, close, isolation, ...(recovered ? { recovered } : {}) };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The runtime that runs steps on this machine. */
export function localRuntime(o: RuntimeOptions): Runtime {
  return {
    open: (run) => openRun(o, run),
    stateOutputs: (root, graph, node) =>
      moduleStateOutputs(root, graph, node, o.stepEnv ?? {}, o.credentials),
    async forceUnlock(root, graph) {
      const { removed, holders } = await forceUnlock(
        root,
        graph.site.name,
        graph.environment.name,
        await s3Lock(o, graph, 'apply'),
      );
      return { removed, holders: holders.map((h) => describeHolder(h)) };
    },
  };
}
