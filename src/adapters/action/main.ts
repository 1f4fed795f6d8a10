/**
 * The action front door: inputs into settings, the command, its result rendered for the runner and
 * GitHub (annotations, step outputs, job summary, PR comment, check run). Everything it writes goes
 * through the run's one redaction (see io.ts).
 */
import type * as core from '@actions/core';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { CommandPorts } from '../../commands/ports.js';
import { matrix } from '../../commands/matrix.js';
import { breakGlassNotice, run as runSite, type RunOutcome } from '../../commands/run.js';
import { renderMatrixTable } from '../../core/report/table.js';
import { gitChanges } from '../git.js';
import { defaultChangedFrom, readEvent } from './event.js';
import { validate } from '../../commands/validate.js';
import { InputError, SiteDeployError, type Problem } from '../../core/errors.js';
import { renderReport } from '../../core/report/markdown.js';
import { Redactor } from '../../core/redact.js';
import { applyCheckLines, commentMarker, toRunReport } from '../../core/report/run-report.js';
import { publicOutputs, runDocument, type RunResult } from '../../core/run/runner.js';
import { githubOidcSource } from '../aws/oidc.js';
import { SessionBroker, type ApprovalCheck } from '../aws/sts.js';
import { fsReader } from '../fs-reader.js';
import { runApproval } from '../github/approvals.js';
import type { Annotation } from '../github/check-run.js';
import { runContext } from '../run-context.js';
import { guardRun } from '../run-guard.js';
import { localRuntime } from '../run/runtime.js';
import { actionEvidence } from '../evidence/port.js';
import { githubDeployments } from '../github/deployments.js';
import { reviewedPlan } from '../github/binding.js';
import { actionGitHub, problemAnnotations, runUrl, startFeedback, type Feedback } from './feedback.js';
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

/** The ports of a command run as a workflow step. */
function actionPorts(
  io: ActionIo,
  site: string,
  environment: string,
  extra: Pick<CommandPorts, 'signal' | 'evidence' | 'deployments' | 'binding'> = {},
): CommandPorts {
  return {
    ...extra,
    files: fsReader,
    context: (root) => runContext(root),
    redactor: io.redactor,
    reporter: {
      engine: io.engine,
      finished: (node, m) => {
        if (m.status === 'failed')
          io.error(`${node.name}: ${m.reason?.split('\n')[0] ?? 'failed'}`, {
            title: `site-deploy / ${site} / ${environment}`,
          });
      },
      notice: (m) => io.info(m),
    },
  };
}

function runValidate(s: ActionSettings, io: ActionIo): void {
  const v = validate(
    {
      root: s.root,
      layout: { configRoot: s.configRoot, catalog: s.catalog },
      site: s.site,
      env: s.environment,
    },
    actionPorts(io, s.site ?? '', s.environment ?? ''),
  );
  annotate(io, v.problems, s.root, workspaceDir(s));
  const errors = v.problems.filter((p) => p.severity === 'error');
  io.setOutput('status', v.ok ? 'succeeded' : 'failed');
  io.setOutput('summary', { ok: v.ok, errors: errors.length, warnings: v.problems.length - errors.length });
  if (!v.ok) {
    io.setFailed(
      `${errors.length} configuration error${errors.length === 1 ? '' : 's'}: see the annotations`,
    );
  } else {
    io.info(`configuration is valid: ${v.graphs.length} site×environment graphs`);
  }
}

function required(s: ActionSettings): { site: string; environment: string } {
  const missing = (['site', 'environment'] as const).filter((k) => !s[k]);
  if (missing.length) {
    const message = `command "${s.command}" needs the input${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}`;
    throw new InputError([{ file: '', line: 0, column: 0, message, severity: 'error' }], message);
  }
  return { site: s.site as string, environment: s.environment as string };
}

/** Config problems (found before anything ran) on the PR comment and the check run. */
async function reportRefusal(
  e: unknown,
  s: ActionSettings,
  site: string,
  environment: string,
  feedback: Feedback,
  io: ActionIo,
): Promise<void> {
  if (e instanceof SiteDeployError && e.problems.length > 0) {
    const n = e.problems.filter((p) => p.severity === 'error').length;
    const text = [
      `${commentMarker(site, environment)}`,
      `### site-deploy ${s.command}: ${site} / ${environment} — ❌ ${n} configuration error${n === 1 ? '' : 's'}`,
      '',
      ...e.problems.map(
        (p) =>
          `- \`${p.file}:${p.line}:${p.column}\` ${p.severity}: ${p.message.replace(/[<>&|`]/g, (c) => `&#${c.charCodeAt(0)};`)}`,
      ),
    ].join('\n');
    await feedback.complete(
      'failure',
      `${n} configuration error${n === 1 ? '' : 's'}`,
      text,
      problemAnnotations(e.problems, s.root, workspaceDir(s)),
    );
    await feedback.comment(commentMarker(site, environment), text);
  } else {
    // Refused before any module ran (a freeze, promotion, the run lock): the check run must not
    // stay in progress, and the job summary says why.
    const message = e instanceof Error ? e.message : String(e);
    const refused = e instanceof SiteDeployError && (e.code === 'refused' || e.code === 'locked');
    if (refused)
      await io.summary(
        [
          `### site-deploy ${s.command}: ${site} / ${environment} — ⛔ refused`,
          '',
          message.replace(/[<>&|`]/g, (c) => `&#${c.charCodeAt(0)};`),
          ...(e.evidence
            ? ['', `Evidence: \`${relative(workspaceDir(s), e.evidence.path)}\` (${e.evidence.digest})`]
            : []),
          '',
        ].join('\n'),
      );
    await feedback.complete('failure', `${s.command} did not start`, message, []);
  }
}

/** Check-run annotations for the modules that failed: their config problems, or their entry in site.yaml. */
function failureAnnotations(
  result: RunResult,
  graph: RunOutcome['graph'],
  workspace: RunOutcome['workspace'],
  s: ActionSettings,
  title: string,
): Annotation[] {
  const ws = workspaceDir(s);
  return result.modules
    .filter((m) => m.status === 'failed')
    .flatMap((m) => {
      if (m.problems.length > 0) return problemAnnotations(m.problems, s.root, ws);
      const node = graph.nodes.find((n) => n.name === m.name);
      const pos = (node && workspace.files.get(node.module.origin.file)?.locate(node.module.origin.path)) ?? {
        file: graph.site.file,
        line: 1,
        column: 1,
      };
      return [
        {
          path: relative(ws, resolve(s.root, pos.file)),
          start_line: pos.line,
          end_line: pos.line,
          annotation_level: 'failure' as const,
          message: `${m.name} failed: ${m.reason ?? ''}`.slice(0, 60000),
          title,
        },
      ];
    });
}

async function planOrApply(s: ActionSettings, io: ActionIo): Promise<void> {
  const { site, environment } = required(s);
  const guard = guardRun(() =>
    io.warning('cancelled: running steps are stopping and releasing their state locks'),
  );
  const feedback = await startFeedback(io, s.githubToken, site, environment, s.comment);
  const mask = (v: string): void => io.redactor.add(v);
  try {
    const broker = new SessionBroker({
      source: { kind: 'github-oidc', token: githubOidcSource(s.audience, { mask }) },
      mask,
      approval: approvalReadBack(io, s.githubToken),
    });
    const url = runUrl();
    const runtime = localRuntime({
      terraformBinary: s.terraformBinary,
      lockTimeout: s.lockTimeout,
      runUrl: url,
      workRoot: join(process.env.RUNNER_TEMP || tmpdir(), 'site-deploy', 'work'),
      credentials: {
        broker,
        mode: s.credentialsMode,
        ctx: runContext(s.root),
        mask,
      },
    });
    let outcome;
    try {
      outcome = await runSite(
        {
          root: s.root,
          layout: { configRoot: s.configRoot, catalog: s.catalog },
          site,
          env: environment,
          mode: s.command as 'plan' | 'apply',
          maxParallel: s.maxParallel,
          lockTimeoutMs: s.lockTimeoutMs,
          ephemeralRunner: true,
          breakGlass: s.breakGlass,
          binding: {
            enabled: s.binding,
            maxPlanAgeMs: s.maxPlanAgeMs,
            // The plan of a pull request is reviewed as the plan of its head commit.
            reviewCommit: readEvent().pull_request?.head?.sha,
          },
        },
        actionPorts(io, site, environment, {
          signal: guard.signal,
          evidence: actionEvidence(s.root, {
            bucket: s.evidenceBucket,
            attest: s.attest,
            githubToken: s.githubToken,
            broker,
            log: { notice: (m) => io.info(m), warning: (m) => io.warning(m) },
          }),
          deployments: actionDeployments(io, s.githubToken, url ?? null, s.tokenLogin),
          binding: actionBinding(io, s.githubToken, s.tokenLogin),
        }),
        runtime,
      );
    } catch (e) {
      if (e instanceof SiteDeployError && e.evidence) io.setOutput('evidence-path', e.evidence.path);
      await reportRefusal(e, s, site, environment, feedback, io);
      throw e;
    }
    const {
      graph,
      result,
      warnings,
      workspace,
      evidence,
      evidenceProblem,
      breakGlass,
      promotion,
      binding,
      review,
    } = outcome;
    annotate(io, warnings, s.root, workspaceDir(s));
    if (evidence) io.setOutput('evidence-path', evidence.path);
    if (breakGlass)
      io.warning(breakGlassNotice(breakGlass), {
        title: `site-deploy / ${site} / ${environment}: break-glass`,
      });
    if (binding?.mode === 'off')
      io.warning(
        'binding: off — the plans applied were not compared with a reviewed plan (recorded in the evidence)',
        {
          title: `site-deploy / ${site} / ${environment}: binding off`,
        },
      );
    const report = toRunReport(graph, result, runContext(s.root), {
      runUrl: url,
      // The record is uploaded as an artifact of the run.
      evidenceUrl: evidence && url ? `${url}#artifacts` : undefined,
      binding: review,
      breakGlass: breakGlass
        ? {
            actor: breakGlass.actor,
            reason: breakGlass.reason,
            overrides: breakGlass.overrides.map((o) => o.check),
          }
        : undefined,
      checks: applyCheckLines(promotion, binding),
    });
    const markdown = renderReport(report);
    await io.summary(markdown);
    await feedback.comment(report.marker, markdown);
    await feedback.complete(
      result.status === 'failed' ? 'failure' : result.status === 'cancelled' ? 'cancelled' : 'success',
      `${s.command} ${result.status}: ${result.modules.length} modules`,
      markdown,
      [
        ...problemAnnotations(warnings, s.root, workspaceDir(s)),
        ...failureAnnotations(result, graph, workspace, s, `site-deploy / ${site} / ${environment}`),
      ],
    );
    const doc = runDocument(graph, result, evidence?.path);
    io.setOutput('status', result.status);
    io.setOutput('summary', { ...doc, outputs: undefined });
    io.setOutput('outputs', publicOutputs(graph, result));
    if (result.status === 'failed' || result.status === 'cancelled') {
      const bad = result.modules
        .filter((m) => m.status === 'failed' || m.status === 'cancelled')
        .map((m) => m.name);
      io.setFailed(`${s.command} ${result.status}: ${bad.join(', ') || 'see the log'}`);
    } else if (evidenceProblem) io.setFailed(evidenceProblem);
  } finally {
    guard.dispose();
  }
}

/** Promotion reads earlier applies from GitHub Deployments; every apply records one. Without a token, promotion fails closed. */
function actionDeployments(
  io: ActionIo,
  token: string | undefined,
  url: string | null,
  tokenLogin: string,
): CommandPorts['deployments'] {
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  if (!token)
    return {
      previousApplies: () =>
        Promise.reject(
          new Error('no github-token to read GitHub Deployments with (it needs deployments: read)'),
        ),
    };
  return githubDeployments(actionGitHub(io, token), repository, url, tokenLogin);
}

/** Approval binding reads the reviewed plan from the pull request that produced the commit. */
function actionBinding(io: ActionIo, token: string | undefined, tokenLogin: string): CommandPorts['binding'] {
  const [owner = '', repo = ''] = (process.env.GITHUB_REPOSITORY ?? '').split('/');
  return {
    async reviewed(site, env, sha) {
      if (!token)
        throw new Error('no github-token to read the pull request with (it needs pull-requests: read)');
      if (!owner || !repo) throw new Error('no GITHUB_REPOSITORY to look the pull request up in');
      return reviewedPlan(actionGitHub(io, token), { owner, repo, sha, site, env, ownLogin: tokenLogin });
    },
  };
}

/** `require_mfa`: reads this run's human approval for the token's GitHub environment back from the API. */
function approvalReadBack(io: ActionIo, token: string | undefined): ApprovalCheck {
  return async ({ claims }) => {
    const [owner, repo] = (process.env.GITHUB_REPOSITORY ?? '').split('/');
    const runId = Number(process.env.GITHUB_RUN_ID);
    if (!token || !owner || !repo || !Number.isInteger(runId)) {
      return {
        approved: false,
        detail: 'no github-token, repository or run id to read the approval back with',
      };
    }
    return runApproval(actionGitHub(io, token), {
      owner,
      repo,
      runId,
      environment: claims.environment ?? '',
      actor: claims.actor,
    });
  };
}

/** `command: matrix`: the `matrix` output, the entries a change affects (SPEC §9). */
function runMatrix(s: ActionSettings, io: ActionIo): void {
  const ref = s.changedFrom ?? defaultChangedFrom(process.env.GITHUB_EVENT_NAME, readEvent());
  const doc = matrix(
    { root: s.root, layout: { configRoot: s.configRoot, catalog: s.catalog } },
    actionPorts(io, '', ''),
    ref === undefined ? undefined : gitChanges(s.root, ref),
  );
  io.setOutput('matrix', doc);
  io.setOutput('status', 'succeeded');
  io.setOutput('summary', { entries: doc.include.length, changed_from: ref ?? null });
  io.info(renderMatrixTable(doc, ref));
}

/** The action's entry: reads inputs, runs the command, fails the step with a readable message. */
export async function run(): Promise<void> {
  const io = actionIo(new Redactor());
  try {
    const settings = readSettings(io);
    switch (settings.command) {
      case 'validate':
        runValidate(settings, io);
        return;
      case 'plan':
      case 'apply':
        await planOrApply(settings, io);
        return;
      case 'matrix':
        runMatrix(settings, io);
        return;
      default:
        throw new SiteDeployError(
          'bad-input',
          `command "${settings.command}" is not available in this version yet`,
        );
    }
  } catch (e) {
    if (e instanceof SiteDeployError && e.problems.length > 0)
      annotate(
        io,
        e.problems,
        process.env.GITHUB_WORKSPACE || process.cwd(),
        process.env.GITHUB_WORKSPACE || process.cwd(),
      );
    io.setOutput('status', 'failed');
    io.setFailed(e instanceof Error ? e.message : String(e));
  }
}
