/**
 * The action front door: inputs into options, the command in its run environment, its report
 * published for the runner and GitHub (annotations, step outputs, job summary, PR comment, check
 * run) and the step failed — in one place each. Everything it writes goes through the run's one
 * redaction (see io.ts).
 */
import type * as core from '@actions/core';
import { join, relative, resolve } from 'node:path';
import type { ActionReport, CheckNote, Command } from '../../commands/descriptor.js';
import type { Options } from '../../commands/options.js';
import { InputError, SiteDeployError, type Problem } from '../../core/errors.js';
import { Redactor } from '../../core/redact.js';
import { failureDocument } from '../../core/result.js';
import { commentMarker, refusalMarkdown } from '../../core/report/run-report.js';
import { refusedHandoff, type Handoff } from '../../core/report/handoff.js';
import { writeHandoff } from '../handoff-files.js';
import { tmpdir } from 'node:os';
import type { Annotation } from '../github/check-run.js';
import { actionEnvironment } from './environment.js';
import { defaultChangedFrom, readEvent } from './event.js';
import { problemAnnotations, runUrl, startFeedback, type Feedback } from './feedback.js';
import { readSettings, type ActionSettings } from './inputs.js';
import { actionIo, type ActionIo } from './io.js';

/** Emits each problem as an annotation on its file and line (paths relative to the workspace). */
export function annotate(io: ActionIo, problems: Problem[], root: string, workspace: string): void {
  for (const p of problems) {
    const props: core.AnnotationProperties = { title: 'site-deploy' };
    if (p.file && p.line > 0) {
      props.file = relative(workspace, resolve(root, p.file));
      props.startLine = p.line;
      props.startColumn = p.column;
    }
    if (p.severity === 'error') io.error(p.message, props);
    else io.warning(p.message, props);
  }
}

function workspaceDir(s: ActionSettings): string {
  return process.env.GITHUB_WORKSPACE || s.root;
}

/** The options a command gets from the step's inputs and event. */
function options(s: ActionSettings): Options {
  const event = readEvent();
  return {
    root: s.root,
    layout: { configRoot: s.configRoot, catalog: s.catalog },
    site: s.site,
    env: s.environment,
    positional: [],
    maxParallel: s.maxParallel,
    lockTimeoutMs: s.lockTimeoutMs,
    changedFrom: s.changedFrom ?? defaultChangedFrom(process.env.GITHUB_EVENT_NAME, event),
    breakGlass: s.breakGlass,
    flags: s.requireIsolation ? { 'require-isolation': 'true' } : {},
    ephemeralRunner: true,
    publish: s.publish,
    ...(s.handoff ? { handoff: s.handoff } : {}),
    binding: {
      enabled: s.binding,
      maxPlanAgeMs: s.maxPlanAgeMs,
      ...(s.bindingKey ? { key: s.bindingKey } : {}),
      // The plan of a pull request is reviewed as the plan of its head commit.
      reviewCommit: event.pull_request?.head?.sha,
    },
  };
}

/** The inputs a command cannot run without. */
function required(c: Command, s: ActionSettings): void {
  const given = { site: s.site, env: s.environment };
  const missing = (c.needs ?? []).filter((k) => !given[k]).map((k) => (k === 'env' ? 'environment' : k));
  if (missing.length) {
    const message = `command "${c.name}" needs the input${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}`;
    throw new InputError([{ file: '', line: 0, column: 0, message, severity: 'error' }], message);
  }
}

/** Where a plan step writes its handoff for the reporting job: the runner's temporary folder. */
export function handoffDir(): string {
  return join(process.env.RUNNER_TEMP || tmpdir(), 'site-deploy', 'handoff');
}

/** Writes a handoff (through the run's redaction) and names it in the step output `handoff-path`. */
function handOff(io: ActionIo, site: string, env: string, handoff: unknown): void {
  const path = writeHandoff(handoffDir(), site, env, `${JSON.stringify(io.redactor.value(handoff))}\n`);
  io.setOutput('handoff-path', path);
  io.info(`handoff for the report job: ${path}`);
}

/** A run refused before any module (bad config, a freeze, promotion, the run lock), for a `report` step. */
function refusalHandoff(e: unknown, s: ActionSettings): Handoff {
  const url = runUrl();
  const head = readEvent().pull_request?.head?.sha;
  return refusedHandoff({
    command: s.command.name === 'apply' ? 'apply' : 'plan',
    site: s.site ?? '',
    environment: s.environment ?? '',
    ...(process.env.GITHUB_SHA ? { commit: process.env.GITHUB_SHA } : {}),
    ...(head ? { reviewCommit: head } : {}),
    ...(url ? { runUrl: url } : {}),
    problems: e instanceof SiteDeployError ? e.problems : [],
    refused: e instanceof Error ? e.message : String(e),
  });
}

/** Config problems (found before anything ran) on the PR comment and the check run. */
async function reportRefusal(e: unknown, s: ActionSettings, feedback: Feedback, io: ActionIo): Promise<void> {
  const [site, environment, command] = [s.site ?? '', s.environment ?? '', s.command.name];
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof SiteDeployError && e.problems.some((p) => p.severity === 'error')) {
    const n = e.problems.filter((p) => p.severity === 'error').length;
    const text = refusalMarkdown(site, environment, command, e.problems, message);
    await feedback.complete(
      'failure',
      `${n} configuration error${n === 1 ? '' : 's'}`,
      text,
      problemAnnotations(e.problems, s.root, workspaceDir(s)),
    );
    await feedback.comment(commentMarker(site, environment), text);
    return;
  }
  // Refused before any module ran (a freeze, promotion, the run lock): the check run must not
  // stay in progress, and the job summary says why.
  const refused = e instanceof SiteDeployError && (e.code === 'refused' || e.code === 'locked');
  if (refused)
    await io.summary(
      [
        refusalMarkdown(site, environment, command, [], message).split('\n').slice(1).join('\n'),
        ...(e.evidence
          ? [`Evidence: \`${relative(workspaceDir(s), e.evidence.path)}\` (${e.evidence.digest})`, '']
          : []),
      ].join('\n'),
    );
  await feedback.complete('failure', `${command} did not start`, message, []);
}

/** Check-run annotations of a report's notes, paths relative to the workspace. */
function checkAnnotations(notes: CheckNote[], s: ActionSettings): Annotation[] {
  const ws = workspaceDir(s);
  return notes
    .filter((p) => p.file && p.line > 0)
    .map((p) => ({
      path: relative(ws, resolve(s.root, p.file)),
      start_line: p.line,
      end_line: p.line,
      annotation_level: p.severity === 'error' ? 'failure' : 'warning',
      message: p.message,
      title: p.title ?? 'site-deploy',
    }));
}

const HEADER_LINE = /^<!-- site-deploy-binding:v\d{1,3}:[A-Za-z0-9_-]* -->$/m;

/**
 * The review a plan's comment carries, for its check run's `output.text`: apply binds against the
 * check run (only a GitHub App can write one) and halts when the comment's copy differs.
 */
export function reviewText(markdown: string | undefined): string | undefined {
  return markdown?.match(HEADER_LINE)?.[0];
}

/** Publishes a command's report: annotations, log, job summary, PR comment, check run, outputs. Returns its failure. */
async function publish(
  io: ActionIo,
  r: ActionReport,
  s: ActionSettings,
  feedback: Feedback | undefined,
): Promise<string | undefined> {
  annotate(io, r.annotations ?? [], s.root, workspaceDir(s));
  for (const w of r.warnings ?? []) io.warning(w.message, { title: w.title });
  if (r.info) io.info(r.info);
  if (r.handoff !== undefined) handOff(io, s.site ?? '', s.environment ?? '', r.handoff);
  if (r.summary) await io.summary(r.summary);
  // The comment's marker and binding header are built from config and digests, never from a
  // secret: kept whole wherever they are written, so a secret equal to a fragment cannot break them.
  if (r.comment) io.redactor.keep(r.comment.marker);
  const header = reviewText(r.comment?.markdown);
  if (header) io.redactor.keep(header);
  if (r.comment) await feedback?.comment(r.comment.marker, r.comment.markdown);
  if (r.check)
    await feedback?.complete(
      r.check.conclusion,
      r.check.title,
      r.check.markdown,
      checkAnnotations(r.check.notes, s),
      header,
    );
  for (const [name, value] of r.outputs) io.setOutput(name, value);
  return r.failure;
}

/**
 * A `report` step publishes each handoff on the check run and comment of its own site ×
 * environment — only for the commit this workflow run is about.
 */
async function publishTargeted(
  io: ActionIo,
  r: ActionReport,
  s: ActionSettings,
): Promise<string | undefined> {
  const { site, environment, commit } = r.target ?? { site: '', environment: '' };
  const head = readEvent().pull_request?.head?.sha ?? process.env.GITHUB_SHA;
  if (commit && head && commit !== head)
    return `the handoff of ${site} / ${environment} is the plan of commit ${commit}, not of this run's ${head}: it is not published`;
  const feedback = await startFeedback(io, s.githubToken, site, environment, s.comment);
  return publish(io, r, s, feedback);
}

/** Runs the step's command in its environment and publishes its report; returns why the step fails, if it does. */
async function execute(io: ActionIo): Promise<string | undefined> {
  const s = readSettings(io);
  const c = s.command;
  if (c.unavailable)
    throw new SiteDeployError('bad-input', `command "${c.name}" is not available in this version yet`);
  required(c, s);
  const env = await actionEnvironment(c, s, io);
  try {
    let rendered;
    try {
      rendered = await c.execute(options(s), env.ports);
    } catch (e) {
      if (e instanceof SiteDeployError && e.evidence) io.setOutput('evidence-path', e.evidence.path);
      if (s.publish === 'handoff' && c.uses === 'steps')
        handOff(io, s.site ?? '', s.environment ?? '', refusalHandoff(e, s));
      if (env.feedback) await reportRefusal(e, s, env.feedback, io);
      throw e;
    }
    const report = rendered.action?.();
    if (!report) throw new Error(`command "${c.name}" has no report for a workflow step`);
    if (!Array.isArray(report)) return await publish(io, report, s, env.feedback);
    const failures: string[] = [];
    for (const r of report) {
      const failed = await publishTargeted(io, r, s);
      if (failed) failures.push(failed);
    }
    return failures.length ? failures.join('; ') : undefined;
  } finally {
    env.dispose();
  }
}

/**
 * Why the step fails when a command threw: its problems annotated, and the outputs set from its
 * result document (SPEC §9: on every outcome) — `status` failed, `summary` the document (whose
 * `status` is refused, invalid or error), `evidence-path` when a record was written.
 */
function thrown(io: ActionIo, e: unknown): string {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  if (e instanceof SiteDeployError && e.problems.length > 0) annotate(io, e.problems, workspace, workspace);
  const doc = failureDocument(e, {
    command: process.env.INPUT_COMMAND?.trim() || 'plan',
    site: process.env.INPUT_SITE?.trim() ?? '',
    environment: process.env.INPUT_ENVIRONMENT?.trim() ?? '',
  });
  // `failed`, as it always was for a step that did not run to its result; `summary` says which outcome.
  io.setOutput('status', 'failed');
  io.setOutput('summary', doc);
  if (doc.evidence) io.setOutput('evidence-path', doc.evidence);
  return doc.message;
}

/** The action's entry: reads inputs, runs the command, fails the step with a readable message. */
export async function run(): Promise<void> {
  const io = actionIo(new Redactor());
  const failure = await execute(io).catch((e: unknown) => thrown(io, e));
  if (failure !== undefined) io.setFailed(failure);
}
