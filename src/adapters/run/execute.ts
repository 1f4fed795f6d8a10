import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Layout, Workspace } from '../../core/config/load.js';
import type { RunContext } from '../../core/config/scope.js';
import type { Problem } from '../../core/errors.js';
import { RUN_LOCK, s3LockObject, type SiteGraph } from '../../core/graph/build.js';
import { loadProject } from '../../core/project.js';
import type { Redactor } from '../../core/redact.js';
import { runGraph, type RunMode, type RunPorts, type RunResult } from '../../core/run/runner.js';
import { s3Client } from '../aws/s3.js';
import { fsReader } from '../fs-reader.js';
import { ensureToolDir } from '../tool-dir.js';
import { GroupedLog, type LogSink } from './group-log.js';
import { acquireRunLock, holderAlive, type LockHolder, type S3LockTarget } from './run-lock.js';
import type { StepIdentity } from '../../core/credentials/session.js';
import { enginePorts, localStatePath, type StepSettings } from './steps.js';

/** Everything one plan or apply needs from its front door (CLI or action). */
export interface ExecuteOptions {
  root: string;
  layout: Layout;
  ctx: RunContext;
  site: string;
  env: string;
  mode: RunMode;
  maxParallel: number;
  terraformBinary: string;
  lockTimeout: string;
  /** The run lock's wait, parsed from `lockTimeout`. */
  lockTimeoutMs: number;
  /** Folder for per-step work folders; default `<root>/.site-deploy/work`. */
  workRoot?: string;
  sink: LogSink;
  /** The run's one redaction: every secret a step meets is registered with it. */
  redactor: Redactor;
  onEvent?: RunPorts['onEvent'];
  /** Told when the run waits for another run's lock. */
  onLockWait?: (holder: LockHolder | undefined, where: string) => void;
  signal?: AbortSignal;
  /** Extra environment for every step (e.g. AWS endpoints for S3 state). */
  stepEnv?: Record<string, string>;
  /** Per-step AWS sessions (absent: steps get no AWS credentials). */
  credentials?: StepSettings['credentials'];
  /** The workflow run's link, recorded in the lock. */
  runUrl?: string;
}

/** A run folder's record of who made it, so a later run can tell when its owner is gone. */
const OWNER_FILE = 'owner.json';

/** Removes the work folders of earlier runs whose process is gone (killed before it could clean up). */
async function removeOrphanedWork(base: string): Promise<void> {
  const entries = await readdir(base).catch(() => [] as string[]);
  for (const name of entries.filter((n) => n.startsWith('run-'))) {
    const dir = join(base, name);
    const owner = await readFile(join(dir, OWNER_FILE), 'utf8')
      .then((t) => JSON.parse(t) as LockHolder)
      .catch(() => undefined);
    if (owner && holderAlive(owner) === false) await rm(dir, { recursive: true, force: true });
  }
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

/** The run's S3 lock object, beside the site × environment's state, with a session allowed only that object. */
async function s3LockTarget(o: ExecuteOptions, graph: SiteGraph): Promise<S3LockTarget | undefined> {
  const lock = s3LockObject(graph);
  if (!lock) return undefined;
  const c = o.credentials;
  const identity: StepIdentity = {
    site: graph.site.name,
    environment: graph.environment.name,
    module: RUN_LOCK,
    services: [],
    stateObject: { bucket: lock.bucket, key: lock.key },
    repository: o.ctx.repository,
    runId: o.ctx.runId,
    actor: o.ctx.actor,
    purpose: o.mode,
  };
  const session = c && graph.credentials ? await c.broker.get(graph.credentials, identity) : undefined;
  return {
    client: s3Client(lock.region, o.stepEnv ?? {}, session?.credentials),
    bucket: lock.bucket,
    key: lock.key,
  };
}

/**
 * Loads, validates and runs one site × environment; throws InputError on bad config before anything
 * runs, and SiteDeployError('locked') when another run holds the site × environment.
 */
export async function execute(
  o: ExecuteOptions,
): Promise<{ workspace: Workspace; graph: SiteGraph; result: RunResult; warnings: Problem[] }> {
  const { workspace, graph, warnings } = loadProject(fsReader(o.root), o.layout, o.ctx, o.site, o.env);
  await ensureToolDir(o.root);
  const lock = await acquireRunLock({
    root: o.root,
    site: o.site,
    environment: o.env,
    command: o.mode,
    timeoutMs: o.lockTimeoutMs,
    run: o.runUrl,
    s3: await s3LockTarget(o, graph),
    onWait: o.onLockWait,
  });
  try {
    const log = new GroupedLog(o.sink);
    // Each run gets its own work folders, so two runs in one checkout never empty each other's;
    // they are removed afterwards (saved plans hold sensitive values in plaintext).
    const base = join(o.workRoot ?? join(o.root, '.site-deploy', 'work'), o.site, o.env);
    await mkdir(base, { recursive: true, mode: 0o700 });
    await removeOrphanedWork(base);
    const workRoot = await mkdtemp(join(base, 'run-'));
    await writeFile(join(workRoot, OWNER_FILE), JSON.stringify(lock.holder), { mode: 0o600 });
    await protectLocalState(o.root, graph);
    const ports = enginePorts(workspace, graph, {
      root: o.root,
      workRoot,
      terraformBinary: o.terraformBinary,
      lockTimeout: o.lockTimeout,
      log,
      redactor: o.redactor,
      env: o.stepEnv,
      credentials: o.credentials,
    });
    let result: RunResult;
    try {
      result = await runGraph(
        workspace,
        graph,
        { mode: o.mode, maxParallel: o.maxParallel, signal: o.signal },
        { ...ports, onEvent: o.onEvent },
      );
    } finally {
      if (!process.env.SITE_DEPLOY_KEEP_WORK) await rm(workRoot, { recursive: true, force: true });
      await protectLocalState(o.root, graph);
    }
    return { workspace, graph, result, warnings };
  } finally {
    await lock.release();
  }
}
