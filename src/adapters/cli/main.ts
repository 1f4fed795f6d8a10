/**
 * The CLI front door: argv into settings, the command, its result rendered for a terminal (or, in a
 * workflow step, for the runner too), one exit code. Everything it writes goes through the run's
 * one redaction.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type { LogSink, Reporter } from '../../commands/ports.js';
import { formatProblem, SiteDeployError, type Problem } from '../../core/errors.js';
import { Redactor, STRUCTURAL_FIELDS } from '../../core/redact.js';
import { failureDocument, type FailureDocument } from '../../core/result.js';
import { progressLine } from '../../core/report/table.js';
import { runnerSafeJson } from '../../core/workflow-commands.js';
import { readHandoffFiles } from '../handoff-files.js';
import { readPlanFile } from '../plan-file.js';
import { localEnvironment } from '../run/environment.js';
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
    json: (doc) => io.out(`${runnerSafeJson(JSON.stringify(redactor.document(doc, STRUCTURAL_FIELDS)))}\n`),
    engine: engineOutput({ write: (t) => io.err(t), redactor, runner }),
  };
}

const SILENT: LogSink = { startGroup: () => {}, endGroup: () => {}, write: () => {} };

/** Runs the CLI and returns its exit code; never throws, never prints a stack trace unless --verbose. */
export async function main(argv: string[], rawIo: CliIo = defaultIo): Promise<number> {
  const out = output(rawIo, new Redactor());
  const cwd = rawIo.cwd;
  let args: CliArgs | undefined;
  try {
    const parsed = parseArgs(argv, cwd);
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
    const doc = failedResult(e, argv, args);
    printFailure(e, doc, out, cwd, args);
    // --json: the one document on stdout, on this outcome too (also when the arguments did not parse).
    if (args?.json ?? argv.includes('--json')) out.json(doc);
    return doc.exit_code;
  }
}

/** The result document of a run that threw, with where it was asked to run. */
function failedResult(e: unknown, argv: string[], args: CliArgs | undefined): FailureDocument {
  const o = args?.options;
  const command = args?.command.name ?? (e instanceof UsageError ? e.command : undefined) ?? argv[0];
  return failureDocument(e, {
    ...(command && !command.startsWith('-') ? { command } : {}),
    ...(o?.site ? { site: o.site } : {}),
    ...(o?.env ? { environment: o.env } : {}),
    usage: e instanceof UsageError,
  });
}

/** Prints what went wrong on stderr; the document says what it was and gives the exit code. */
function printFailure(
  e: unknown,
  doc: FailureDocument,
  out: Out,
  cwd: string,
  args: CliArgs | undefined,
): void {
  if (e instanceof UsageError) {
    const help = e.command ? `site-deploy ${e.command} --help` : 'site-deploy --help';
    out.err(`error: ${e.message}\nRun "${help}" for usage.\n`);
  } else if (e instanceof SiteDeployError && e.code === 'bad-input') {
    printProblems(e.problems, out, cwd, args);
    if (e.problems.length === 0) out.err(`error: ${e.message}\n`);
    if (e.evidence) out.err(`evidence: ${shownPath(cwd, e.evidence.path)}\n`);
  } else if (!doc.internal) {
    out.err(`error: ${doc.message}\n`);
  } else {
    out.err(`internal error: ${doc.message}\n`);
    if (args?.verbose && e instanceof Error && e.stack) out.err(`${e.stack}\n`);
    else out.err('(run again with --verbose for details)\n');
  }
}

/** A path as the user reads it: relative when it lies under the current directory, else absolute. */
function shownPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function printProblems(problems: Problem[], out: Out, cwd: string, args: CliArgs | undefined): void {
  const root = args?.options.root ?? resolve(cwd, '.');
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

/** The reporter of a command run from a terminal: progress on stderr, engine output with --verbose. */
function reporter(out: Out, args: CliArgs): Reporter {
  return {
    engine: args.verbose ? out.engine : SILENT,
    started: (n) => out.err(`▶ ${n.name} (${n.type}, weight ${n.weight})\n`),
    finished: (_n, m) => out.err(`${progressLine(m, args.command.name)}\n`),
    notice: (m) => out.err(`${m}\n`),
  };
}

/** Runs the command in its environment and prints its result: notes on stderr, the result on stdout. */
async function dispatch(args: CliArgs, out: Out, cwd: string): Promise<number> {
  const c = args.command;
  if (c.unavailable) throw new UsageError(`command "${c.name}" is not available in this version yet`, c.name);
  const env = localEnvironment({
    command: c,
    root: args.options.root,
    terraformBinary: args.terraformBinary,
    lockTimeout: args.lockTimeout,
    credentials: args.credentials,
    redactor: out.redactor,
    reporter: reporter(out, args),
    planFile: (p) => readPlanFile(resolve(cwd, p), p),
    handoffs: (p) => readHandoffFiles(p, cwd),
    warn: (m) => out.err(`warning: ${m}\n`),
    cancelled: (signal) =>
      out.err(`\n${signal}: cancelling — running steps are stopping and releasing their locks\n`),
  });
  try {
    const r = await c.execute(args.options, env.ports);
    const format = args.json ? 'json' : args.markdown && r.markdown ? 'markdown' : 'text';
    const notes = r.notes(format);
    printProblems(notes.problems ?? [], out, cwd, args);
    for (const w of notes.warnings ?? []) out.err(`warning: ${w}\n`);
    if (format === 'json') out.json(r.json());
    else
      out.text(
        r.markdown && format === 'markdown' ? r.markdown() : r.text({ path: (p) => shownPath(cwd, p) }),
      );
    if (notes.error) out.err(`error: ${notes.error}\n`);
    return r.exitCode;
  } finally {
    env.dispose();
  }
}
