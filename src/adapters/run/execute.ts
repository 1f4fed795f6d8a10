import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Layout, Workspace } from '../../core/config/load.js';
import type { RunContext } from '../../core/config/scope.js';
import type { Problem } from '../../core/errors.js';
import type { SiteGraph } from '../../core/graph/build.js';
import { loadProject } from '../../core/project.js';
import { runGraph, type RunMode, type RunPorts, type RunResult } from '../../core/run/runner.js';
import { fsReader } from '../fs-reader.js';
import { GroupedLog, type LogSink } from './group-log.js';
import { enginePorts, type StepSettings } from './steps.js';

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
  /** Folder for per-step work folders; default `<root>/.site-deploy/work`. */
  workRoot?: string;
  sink: LogSink;
  /** Called once for each secret value met (the action registers it with the runner's masking). */
  onSecret?: (value: string) => void;
  onEvent?: RunPorts['onEvent'];
  signal?: AbortSignal;
  /** Extra environment for every step (e.g. AWS endpoints for S3 state). */
  stepEnv?: Record<string, string>;
  /** Per-step AWS sessions (absent: steps get no AWS credentials). */
  credentials?: StepSettings['credentials'];
}

/** Loads, validates and runs one site × environment; throws InputError on bad config before anything runs. */
export async function execute(
  o: ExecuteOptions,
): Promise<{ workspace: Workspace; graph: SiteGraph; result: RunResult; warnings: Problem[] }> {
  const { workspace, graph, warnings } = loadProject(fsReader(o.root), o.layout, o.ctx, o.site, o.env);
  const log = new GroupedLog(o.sink, o.onSecret);
  // Each run gets its own work folders, so two runs in one checkout never empty each other's;
  // they are removed afterwards (saved plans hold sensitive values in plaintext).
  const base = join(o.workRoot ?? join(o.root, '.site-deploy', 'work'), o.site, o.env);
  await mkdir(base, { recursive: true });
  const workRoot = await mkdtemp(join(base, 'run-'));
  const ports = enginePorts(workspace, graph, {
    root: o.root,
    workRoot,
    terraformBinary: o.terraformBinary,
    lockTimeout: o.lockTimeout,
    log,
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
  }
  return { workspace, graph, result, warnings };
}
