import { relative, resolve } from 'node:path';
import { validateProject, loadProject } from '../../core/project.js';
import { formatProblem, SiteDeployError, type Problem } from '../../core/errors.js';
import { graphDocument } from '../../core/graph/build.js';
import { Problems } from '../../core/errors.js';
import { fsReader } from '../fs-reader.js';
import { runContext } from '../run-context.js';
import { parseArgs, USAGE, UsageError, type CliArgs } from './args.js';
import { execute } from '../run/execute.js';
import { renderTrustReport, trustReport } from '../../core/credentials/trust.js';
import { defaultCredentialSource, SessionBroker } from '../aws/sts.js';
import { readFileSync, statSync } from 'node:fs';
import { parsePlanJson, summarizePlan, toSummaryJson } from '../../core/plan/summary.js';
import { renderSummaryMarkdown, renderSummaryText } from '../../core/plan/markdown.js';
import { runDocument } from '../../core/run/runner.js';
import { progressLine, renderRunTable } from '../../core/run/table.js';
import type { Layout } from '../../core/config/load.js';
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

/** Turns anything thrown into one line of text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the CLI and returns its exit code; never throws, never prints a stack trace unless --verbose. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let args: CliArgs | 'help' | 'version' | undefined;
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
    return await dispatch(args, io);
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

async function dispatch(args: CliArgs, io: CliIo): Promise<number> {
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
        io.out(`${JSON.stringify({ ok: v.ok, errors, warnings })}\n`);
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
      const doc = graphDocument(workspace, graph, new Problems()) as GraphDoc;
      if (args.json) {
        io.out(`${JSON.stringify(doc)}\n`);
        return 0;
      }
      printProblems(warnings, io, args);
      io.out(renderGraph(doc));
      return 0;
    }
    case 'plan':
    case 'apply':
      return runCommand(args, io, root, layout, ctx);
    case 'summarize':
      return summarize(args, io);
    case 'trust-policy': {
      const { graph } = loadProject(reader, layout, ctx, args.site as string, args.env as string);
      const report = trustReport(graph, ctx.repository);
      if (!report)
        throw new SiteDeployError(
          'bad-input',
          `${graph.site.dir}/credentials.yaml has no entry for environment ${graph.environment.name}`,
        );
      io.out(args.json ? `${JSON.stringify(report)}\n` : `${renderTrustReport(report)}\n`);
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
      signal: controller.signal,
      credentials:
        args.credentials === 'none'
          ? undefined
          : {
              broker: new SessionBroker({ source: defaultCredentialSource(process.env) }),
              mode: 'server',
              ctx,
            },
      sink: args.verbose
        ? { startGroup: (t) => io.err(`▼ ${t}\n`), endGroup: () => io.err('▲\n'), write: (t) => io.err(t) }
        : { startGroup: () => {}, endGroup: () => {}, write: () => {} },
      onEvent: (e) => {
        if (e.type === 'start') io.err(`▶ ${e.node.name} (${e.node.type}, weight ${e.node.weight})\n`);
        else io.err(`${progressLine(e.module, args.command)}\n`);
      },
    });
    printProblems(warnings, io, args);
    if (args.json) io.out(`${JSON.stringify(runDocument(graph, result))}\n`);
    else {
      io.out(`\n${renderRunTable(result)}`);
      for (const m of result.modules.filter((x) => x.status === 'failed' && x.reason))
        io.out(`\n${m.name} failed:\n${m.reason}\n`);
    }
    return result.status === 'failed' || result.status === 'cancelled' ? 1 : 0;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

/** `summarize PLAN.json`: counts and addresses from `terraform show -json`, never a value. */
function summarize(args: CliArgs, io: CliIo): number {
  const file = resolve(io.cwd, args.positional[0] as string);
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
    text = readFileSync(file, 'utf8');
  } catch {
    throw new SiteDeployError(
      'bad-input',
      `${args.positional[0]}: no such plan file (write one with \`terraform show -json PLANFILE > plan.json\`)`,
    );
  }
  const summary = summarizePlan(parsePlanJson(text, args.positional[0]));
  if (args.json) io.out(`${JSON.stringify(toSummaryJson(summary))}\n`);
  else if (args.markdown) io.out(renderSummaryMarkdown(summary));
  else io.out(renderSummaryText(summary));
  return 0;
}
