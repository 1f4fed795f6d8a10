import { relative, resolve } from 'node:path';
import { validateProject, loadProject } from '../../core/project.js';
import { formatProblem, SiteDeployError, type Problem } from '../../core/errors.js';
import { graphDocument } from '../../core/graph/build.js';
import { Problems } from '../../core/errors.js';
import { fsReader, kindOf } from '../fs-reader.js';
import { runContext } from '../run-context.js';
import { parseArgs, USAGE, UsageError, type CliArgs } from './args.js';
import { execute } from '../run/execute.js';
import { renderTrustReport, trustReport } from '../../core/credentials/trust.js';
import { CredentialError } from '../../core/credentials/errors.js';
import { defaultCredentialSource, SessionBroker } from '../aws/sts.js';
import { readFileSync, statSync } from 'node:fs';
import { parsePlanJson, summarizePlan, toSummaryJson } from '../../core/plan/summary.js';
import { renderSummaryMarkdown, renderSummaryText } from '../../core/plan/markdown.js';
import { runDocument } from '../../core/run/runner.js';
import { progressLine, renderRunTable } from '../../core/run/table.js';
import type { Layout } from '../../core/config/load.js';
import { Redactor } from '../../core/redact.js';
import { runnerSafeJson } from '../../core/workflow-commands.js';
import { s3LockObject } from '../../core/graph/build.js';
import { engineOutput, safeText } from '../run/engine-output.js';
import type { LogSink } from '../run/group-log.js';
import { describeHolder, forceUnlock, type S3LockTarget } from '../run/run-lock.js';
import { s3Client } from '../aws/s3.js';
import type { RunContext } from '../../core/config/scope.js';

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  cwd: process.cwd(),
};

/**
 * What the CLI writes, through the run's one redaction. Inside GitHub Actions (a `run:` step) the
 * runner reads this output too: text that may quote engine output is kept from running as a
 * workflow command, and JSON is written so it cannot carry one.
 */
interface Out {
  redactor: Redactor;
  runner: boolean;
  text(t: string): void;
  err(t: string): void;
  json(doc: unknown): void;
  engine: LogSink;
}

function output(io: CliIo, redactor: Redactor): Out {
  const runner = process.env.GITHUB_ACTIONS === 'true';
  const err = (t: string): void => io.err(safeText(t, redactor, runner));
  return {
    redactor,
    runner,
    text: (t) => io.out(safeText(t, redactor, runner)),
    err,
    json: (doc) => io.out(`${runnerSafeJson(JSON.stringify(redactor.value(doc)))}\n`),
    engine: engineOutput({ write: (t) => io.err(t), redactor, runner }),
  };
}

/** Turns anything thrown into one line of text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the CLI and returns its exit code; never throws, never prints a stack trace unless --verbose. */
export async function main(argv: string[], rawIo: CliIo = defaultIo): Promise<number> {
  let args: CliArgs | 'help' | 'version' | undefined;
  const out = output(rawIo, new Redactor());
  const io: CliIo = { out: out.text, err: out.err, cwd: rawIo.cwd };
  try {
    args = parseArgs(argv);
    if (args === 'help') {
      io.out(`${USAGE}\n`);
      return 0;
    }
    if (args === 'version') {
      io.out(`site-deploy ${VERSION}\n`);
      return 0;
    }
    return await dispatch(args, io, out);
  } catch (e) {
    const verbose = typeof args === 'object' && args.verbose;
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}\nRun "site-deploy --help" for usage.\n`);
      return 2;
    }
    if (e instanceof SiteDeployError && e.code === 'bad-input') {
      printProblems(e.problems, io, typeof args === 'object' ? args : undefined);
      if (e.problems.length === 0) io.err(`error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof SiteDeployError && e.code === 'locked') {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    if (e instanceof CredentialError) {
      // Found locally (a policy STS would refuse): bad input; from STS or the issuer: a failed step.
      io.err(`error: ${e.message}\n`);
      return e.kind === 'bad-input' ? 2 : 1;
    }
    io.err(`internal error: ${errorMessage(e)}\n`);
    if (verbose && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    else io.err('(run again with --verbose for details)\n');
    return 1;
  }
}

const VERSION = '0.1.0';

function printProblems(problems: Problem[], io: CliIo, args: CliArgs | undefined): void {
  const root = resolve(io.cwd, args?.root ?? '.');
  for (const p of problems) {
    const shown = p.file ? relative(io.cwd, resolve(root, p.file)) || p.file : '';
    io.err(`${shown ? formatProblem(p, shown) : `${p.severity}: ${p.message}`}\n`);
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (errors)
    io.err(
      `✗ ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`,
    );
}

async function dispatch(args: CliArgs, io: CliIo, out: Out): Promise<number> {
  const root = resolve(io.cwd, args.root);
  const reader = fsReader(root);
  const layout = { configRoot: args.configRoot, catalog: args.catalog };
  const ctx = runContext(root);
  switch (args.command) {
    case 'validate': {
      const v = validateProject(reader, layout, ctx, { site: args.site, env: args.env });
      if (args.json) {
        const errors = v.problems
          .filter((p) => p.severity === 'error')
          .map(({ file, line, column, message }) => ({ file, line, column, message }));
        const warnings = v.problems
          .filter((p) => p.severity === 'warning')
          .map(({ file, line, column, message }) => ({ file, line, column, message }));
        out.json({ ok: v.ok, errors, warnings });
        return v.ok ? 0 : 2;
      }
      printProblems(v.problems, io, args);
      if (!v.ok) return 2;
      const envs = v.graphs.length;
      const modules = v.graphs.reduce((n, g) => n + g.nodes.length, 0);
      io.out(
        `✓ ${v.workspace.sites.size} site${v.workspace.sites.size === 1 ? '' : 's'}, ${envs} site×environment${envs === 1 ? '' : 's'}, ${modules} module steps: configuration is valid\n`,
      );
      return 0;
    }
    case 'graph': {
      const { workspace, graph, warnings } = loadProject(
        reader,
        layout,
        ctx,
        args.site as string,
        args.env as string,
      );
      const doc = graphDocument(workspace, graph, new Problems(), (v) => out.redactor.add(v)) as GraphDoc;
      if (args.json) {
        out.json(doc);
        return 0;
      }
      printProblems(warnings, io, args);
      io.out(renderGraph(doc));
      return 0;
    }
    case 'plan':
    case 'apply':
      return runCommand(args, io, out, root, layout, ctx);
    case 'summarize':
      return summarize(args, io, out);
    case 'force-unlock':
      return unlock(args, io, root, layout, ctx);
    case 'trust-policy': {
      const { graph } = loadProject(reader, layout, ctx, args.site as string, args.env as string);
      const report = trustReport(graph, ctx.repository);
      if (!report)
        throw new SiteDeployError(
          'bad-input',
          `${graph.site.dir}/credentials.yaml has no entry for environment ${graph.environment.name}`,
        );
      if (args.json) out.json(report);
      else io.out(`${renderTrustReport(report)}\n`);
      return 0;
    }
    default:
      throw new UsageError(`command "${args.command}" is not available in this version yet`);
  }
}

interface GraphDoc {
  site: string;
  environment: string;
  ordering: string;
  waves: { name: string; type: string; weight: number; depends_on: string[] }[][];
}

function renderGraph(doc: GraphDoc): string {
  const lines = [
    `${doc.site} / ${doc.environment} — ${doc.waves.flat().length} modules in ${doc.waves.length} waves (ordering: ${doc.ordering})`,
    '',
  ];
  const rows = doc.waves.flatMap((wave, i) =>
    wave.map((n, j) => [
      j === 0 ? `wave ${i + 1}` : '',
      String(n.weight),
      n.name,
      n.type,
      n.depends_on.join(', ') || '—',
    ]),
  );
  const head = ['WAVE', 'WEIGHT', 'MODULE', 'TYPE', 'AFTER'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd();
  lines.push(fmt(head), ...rows.map(fmt), '');
  return lines.join('\n');
}

/** Plan or apply one site × environment; Ctrl-C (SIGINT) or SIGTERM cancels it cleanly. */
async function runCommand(
  args: CliArgs,
  io: CliIo,
  out: Out,
  root: string,
  layout: Layout,
  ctx: RunContext,
): Promise<number> {
  const controller = new AbortController();
  const cancel = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted)
      io.err(`\n${signal}: cancelling — running steps are stopping and releasing their locks\n`);
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  const mask = (v: string): void => out.redactor.add(v);
  // Local state, saved plans and tfvars written from here on (and by Terraform) are owner-only.
  const umask = process.umask(0o077);
  try {
    const { graph, result, warnings } = await execute({
      root,
      layout,
      ctx,
      site: args.site as string,
      env: args.env as string,
      mode: args.command as 'plan' | 'apply',
      maxParallel: args.maxParallel,
      terraformBinary: args.terraformBinary,
      lockTimeout: args.lockTimeout,
      lockTimeoutMs: args.lockTimeoutMs,
      signal: controller.signal,
      credentials:
        args.credentials === 'none'
          ? undefined
          : {
              broker: new SessionBroker({ source: defaultCredentialSource(process.env), mask }),
              mode: 'server',
              ctx,
              mask,
            },
      redactor: out.redactor,
      sink: args.verbose ? out.engine : { startGroup: () => {}, endGroup: () => {}, write: () => {} },
      onLockWait: (holder, where) =>
        io.err(`waiting for the run lock (${where}), held by ${describeHolder(holder)}\n`),
      onEvent: (e) => {
        if (e.type === 'start') io.err(`▶ ${e.node.name} (${e.node.type}, weight ${e.node.weight})\n`);
        else io.err(`${progressLine(e.module, args.command)}\n`);
      },
    });
    printProblems(warnings, io, args);
    if (args.json) out.json(runDocument(graph, result));
    else {
      io.out(`\n${renderRunTable(result)}`);
      for (const m of result.modules.filter((x) => x.status === 'failed' && x.reason))
        io.out(`\n${m.name} failed:\n${m.reason}\n`);
    }
    return result.status === 'failed' || result.status === 'cancelled' ? 1 : 0;
  } finally {
    process.umask(umask);
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

/** The largest plan file `summarize` reads: JavaScript strings stop a little above 512 MiB. */
export const MAX_PLAN_BYTES = 512 * 1024 * 1024;

/** `summarize PLAN.json`: counts and addresses from `terraform show -json`, never a value. */
function summarize(args: CliArgs, io: CliIo, out: Out): number {
  const name = args.positional[0] as string;
  const file = resolve(io.cwd, name);
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) {
    throw new SiteDeployError(
      'bad-input',
      `${name}: no such plan file (write one with \`terraform show -json PLANFILE > plan.json\`)`,
    );
  }
  if (!st.isFile())
    throw new SiteDeployError(
      'bad-input',
      `${name}: a ${kindOf(st)}, not a regular file; give the plan JSON file`,
    );
  if (st.size > MAX_PLAN_BYTES) {
    throw new SiteDeployError(
      'bad-input',
      `${name}: the plan file is ${formatBytes(st.size)}, over the ${formatBytes(MAX_PLAN_BYTES)} limit summarize can read; ` +
        "summarize each module's plan separately",
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SiteDeployError(
      'bad-input',
      `${name}: cannot read the plan file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const summary = summarizePlan(parsePlanJson(text, name));
  if (args.json) out.json(toSummaryJson(summary));
  else if (args.markdown) io.out(renderSummaryMarkdown(summary));
  else io.out(renderSummaryText(summary));
  return 0;
}

/** `1.2 GiB`, `600.0 MiB`, `12 KiB`. */
function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1).replace(/\.0$/, '')} ${units[u]}`;
}

/** `force-unlock`: removes the run lock of a site × environment left by a run that is gone. */
async function unlock(
  args: CliArgs,
  io: CliIo,
  root: string,
  layout: Layout,
  ctx: RunContext,
): Promise<number> {
  const { graph } = loadProject(fsReader(root), layout, ctx, args.site as string, args.env as string);
  const lock = s3LockObject(graph);
  const s3: S3LockTarget | undefined = lock && {
    client: s3Client(lock.region, process.env),
    bucket: lock.bucket,
    key: lock.key,
  };
  const { removed, holders } = await forceUnlock(root, graph.site.name, graph.environment.name, s3);
  if (removed.length === 0) {
    io.out(`${graph.site.name}/${graph.environment.name} is not locked\n`);
    return 0;
  }
  for (const [i, where] of removed.entries())
    io.out(`removed the run lock ${where}, held by ${describeHolder(holders[i])}\n`);
  return 0;
}
