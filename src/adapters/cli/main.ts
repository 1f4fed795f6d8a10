/**
 * The CLI front door: argv into settings, the command, its result rendered for a terminal (or, in a
 * workflow step, for the runner too), one exit code. Everything it writes goes through the run's
 * one redaction.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { forceUnlock } from '../../commands/force-unlock.js';
import { graph } from '../../commands/graph.js';
import { matrix } from '../../commands/matrix.js';
import { gitChanges } from '../git.js';
import type { CommandPorts, LogSink } from '../../commands/ports.js';
import { breakGlassNotice, run } from '../../commands/run.js';
import { summarize } from '../../commands/summarize.js';
import { trustPolicy } from '../../commands/trust-policy.js';
import { validate } from '../../commands/validate.js';
import { CredentialError } from '../../core/credentials/errors.js';
import { renderTrustReport } from '../../core/report/trust.js';
import { formatProblem, SiteDeployError, type Problem } from '../../core/errors.js';
import { renderSummaryMarkdown, renderSummaryText } from '../../core/report/markdown.js';
import { toSummaryJson } from '../../core/plan/summary.js';
import { Redactor } from '../../core/redact.js';
import { runDocument } from '../../core/run/runner.js';
import {
  progressLine,
  renderGraphTable,
  renderMatrixTable,
  renderRunTable,
} from '../../core/report/table.js';
import { runnerSafeJson } from '../../core/workflow-commands.js';
import { fsReader } from '../fs-reader.js';
import { readPlanFile } from '../plan-file.js';
import { localEvidence } from '../evidence/port.js';
import { localDeployments } from '../evidence/previous-applies.js';
import { runContext } from '../run-context.js';
import { guardRun } from '../run-guard.js';
import { engineOutput, safeText } from '../run/engine-output.js';
import { parseArgs, UsageError, type CliArgs } from './args.js';

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

const VERSION = '0.1.0';

/**
 * What the CLI writes, through the run's one redaction. Inside GitHub Actions (a `run:` step) the
 * runner reads this output too: text that may quote engine output is kept from running as a
 * workflow command, and JSON is written so it cannot carry one.
 */
interface Out {
  redactor: Redactor;
  text(t: string): void;
  err(t: string): void;
  json(doc: unknown): void;
  engine: LogSink;
}

function output(io: CliIo, redactor: Redactor): Out {
  const runner = process.env.GITHUB_ACTIONS === 'true';
  return {
    redactor,
    text: (t) => io.out(safeText(t, redactor, runner)),
    err: (t) => io.err(safeText(t, redactor, runner)),
    json: (doc) => io.out(`${runnerSafeJson(JSON.stringify(redactor.value(doc)))}\n`),
    engine: engineOutput({ write: (t) => io.err(t), redactor, runner }),
  };
}

const SILENT: LogSink = { startGroup: () => {}, endGroup: () => {}, write: () => {} };

/** Turns anything thrown into one line of text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the CLI and returns its exit code; never throws, never prints a stack trace unless --verbose. */
export async function main(argv: string[], rawIo: CliIo = defaultIo): Promise<number> {
  const out = output(rawIo, new Redactor());
  const cwd = rawIo.cwd;
  let args: CliArgs | undefined;
  try {
    const parsed = parseArgs(argv);
    if (parsed === 'version') {
      out.text(`site-deploy ${VERSION}\n`);
      return 0;
    }
    if ('help' in parsed) {
      out.text(`${parsed.help}\n`);
      return 0;
    }
    args = parsed;
    return await dispatch(args, out, cwd);
  } catch (e) {
    return failure(e, out, cwd, args);
  }
}

/** Prints what went wrong and gives its exit code: 2 for bad input, 1 for the rest. */
function failure(e: unknown, out: Out, cwd: string, args: CliArgs | undefined): number {
  if (e instanceof UsageError) {
    const help = e.command ? `site-deploy ${e.command} --help` : 'site-deploy --help';
    out.err(`error: ${e.message}\nRun "${help}" for usage.\n`);
    return 2;
  }
  if (e instanceof SiteDeployError && e.code === 'bad-input') {
    printProblems(e.problems, out, cwd, args);
    if (e.problems.length === 0) out.err(`error: ${e.message}\n`);
    return 2;
  }
  if (e instanceof SiteDeployError) {
    out.err(`error: ${e.message}\n`);
    return 1;
  }
  if (e instanceof CredentialError) {
    // Found locally (a policy STS would refuse): bad input; from STS or the issuer: a failed step.
    out.err(`error: ${e.message}\n`);
    return e.kind === 'bad-input' ? 2 : 1;
  }
  out.err(`internal error: ${errorMessage(e)}\n`);
  if (args?.verbose && e instanceof Error && e.stack) out.err(`${e.stack}\n`);
  else out.err('(run again with --verbose for details)\n');
  return 1;
}

/** A path as the user reads it: relative when it lies under the current directory, else absolute. */
function shownPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function printProblems(problems: Problem[], out: Out, cwd: string, args: CliArgs | undefined): void {
  const root = resolve(cwd, args?.root ?? '.');
  for (const p of problems) {
    const shown = p.file ? relative(cwd, resolve(root, p.file)) || p.file : '';
    out.err(`${shown ? formatProblem(p, shown) : `${p.severity}: ${p.message}`}\n`);
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (errors)
    out.err(
      `✗ ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`,
    );
}

/** The ports of a command run from a terminal. */
function cliPorts(out: Out, args: CliArgs, signal?: AbortSignal, root?: string): CommandPorts {
  return {
    // plan and apply leave a record in the local evidence folder; promotion reads earlier applies there.
    ...(root === undefined
      ? {}
      : {
          evidence: localEvidence(root),
          deployments: localDeployments(root, (m) => out.err(`warning: ${m}\n`)),
        }),
    files: fsReader,
    context: (root) => runContext(root),
    redactor: out.redactor,
    signal,
    reporter: {
      engine: args.verbose ? out.engine : SILENT,
      started: (n) => out.err(`▶ ${n.name} (${n.type}, weight ${n.weight})\n`),
      finished: (_n, m) => out.err(`${progressLine(m, args.command)}\n`),
      notice: (m) => out.err(`${m}\n`),
    },
  };
}

async function dispatch(args: CliArgs, out: Out, cwd: string): Promise<number> {
  const root = resolve(cwd, args.root);
  const layout = { configRoot: args.configRoot, catalog: args.catalog };
  const where = { root, layout, site: args.site as string, env: args.env as string };
  const ports = cliPorts(out, args);
  switch (args.command) {
    case 'validate': {
      const v = validate({ root, layout, site: args.site, env: args.env }, ports);
      if (args.json) {
        const pick = (severity: Problem['severity']) =>
          v.problems
            .filter((p) => p.severity === severity)
            .map(({ file, line, column, message }) => ({ file, line, column, message }));
        out.json({ ok: v.ok, errors: pick('error'), warnings: pick('warning') });
        return v.ok ? 0 : 2;
      }
      printProblems(v.problems, out, cwd, args);
      if (!v.ok) return 2;
      const envs = v.graphs.length;
      const modules = v.graphs.reduce((n, g) => n + g.nodes.length, 0);
      const sites = v.workspace.sites.size;
      out.text(
        `✓ ${sites} site${sites === 1 ? '' : 's'}, ${envs} site×environment${envs === 1 ? '' : 's'}, ${modules} module steps: configuration is valid\n`,
      );
      return 0;
    }
    case 'graph': {
      const { doc, warnings } = graph(where, ports);
      if (args.json) out.json(doc);
      else {
        printProblems(warnings, out, cwd, args);
        out.text(renderGraphTable(doc));
      }
      return 0;
    }
    case 'plan':
    case 'apply':
      return planOrApply(args, out, where, cwd);
    case 'summarize': {
      const summary = summarize(args.positional[0] as string, (p) => readPlanFile(resolve(cwd, p), p));
      if (args.json) out.json(toSummaryJson(summary));
      else out.text(args.markdown ? renderSummaryMarkdown(summary) : renderSummaryText(summary));
      return 0;
    }
    case 'trust-policy': {
      const { report, notes } = trustPolicy(where, ports);
      for (const n of notes) out.err(`warning: ${n}\n`);
      if (args.json) out.json(report);
      else out.text(`${renderTrustReport(report)}\n`);
      return 0;
    }
    case 'matrix': {
      const doc = matrix(
        { root, layout },
        ports,
        args.changedFrom === undefined ? undefined : gitChanges(root, args.changedFrom),
      );
      if (args.json) out.json(doc);
      else out.text(renderMatrixTable(doc, args.changedFrom));
      return 0;
    }
    case 'force-unlock': {
      // The AWS SDK and the engines load only for the commands that use them: the others start fast.
      const { localRuntime } = await import('../run/runtime.js');
      const runtime = localRuntime({ terraformBinary: args.terraformBinary, lockTimeout: args.lockTimeout });
      const { target, removed, holders } = await forceUnlock(where, ports, runtime);
      if (removed.length === 0) out.text(`${target} is not locked\n`);
      removed.forEach((r, i) => out.text(`removed the run lock ${r}, held by ${holders[i]}\n`));
      return 0;
    }
    default:
      throw new UsageError(`command "${args.command}" is not available in this version yet`, args.command);
  }
}

/** Plan or apply one site × environment; Ctrl-C (SIGINT) or SIGTERM cancels it cleanly. */
async function planOrApply(
  args: CliArgs,
  out: Out,
  where: { root: string; layout: { configRoot: string; catalog: string }; site: string; env: string },
  cwd: string,
): Promise<number> {
  const guard = guardRun((signal) =>
    out.err(`\n${signal}: cancelling — running steps are stopping and releasing their locks\n`),
  );
  const mask = (v: string): void => out.redactor.add(v);
  try {
    // The AWS SDK and the STS chain load only when steps get sessions.
    const [{ localRuntime }, sts] = await Promise.all([
      import('../run/runtime.js'),
      args.credentials === 'none' ? undefined : import('../aws/sts.js'),
    ]);
    const runtime = localRuntime({
      terraformBinary: args.terraformBinary,
      lockTimeout: args.lockTimeout,
      credentials: sts
        ? {
            broker: new sts.SessionBroker({ source: sts.defaultCredentialSource(process.env), mask }),
            mode: 'server',
            ctx: runContext(where.root),
            mask,
          }
        : undefined,
    });
    const {
      graph: g,
      result,
      warnings,
      evidence,
      evidenceProblem,
      breakGlass,
    } = await run(
      {
        ...where,
        mode: args.command as 'plan' | 'apply',
        maxParallel: args.maxParallel,
        lockTimeoutMs: args.lockTimeoutMs,
        ephemeralRunner: process.env.GITHUB_ACTIONS === 'true',
        breakGlass: args.breakGlass,
      },
      cliPorts(out, args, guard.signal, where.root),
      runtime,
    );
    printProblems(warnings, out, cwd, args);
    if (args.json) out.json(runDocument(g, result, evidence?.path));
    else {
      out.text(`\n${renderRunTable(result)}`);
      if (breakGlass) out.text(`${breakGlassNotice(breakGlass)}\n`);
      if (evidence) out.text(`evidence: ${shownPath(cwd, evidence.path)} (${evidence.digest})\n`);
      for (const m of result.modules.filter((x) => x.status === 'failed' && x.reason))
        out.text(`\n${m.name} failed:\n${m.reason}\n`);
    }
    if (evidenceProblem) {
      out.err(`error: ${evidenceProblem}\n`);
      return 1;
    }
    return result.status === 'failed' || result.status === 'cancelled' ? 1 : 0;
  } finally {
    guard.dispose();
  }
}
