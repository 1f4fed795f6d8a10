import type * as core from '@actions/core';
import { join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { InputError, SiteDeployError, type Problem } from '../../core/errors.js';
import { renderReport } from '../../core/plan/markdown.js';
import { validateProject } from '../../core/project.js';
import { toRunReport } from '../../core/run/report.js';
import { publicOutputs, runDocument } from '../../core/run/runner.js';
import { fsReader } from '../fs-reader.js';
import { execute } from '../run/execute.js';
import { runApproval } from '../github/approvals.js';
import type { ApprovalCheck } from '../aws/sts.js';
import { SessionBroker } from '../aws/sts.js';
import { githubOidcSource } from '../aws/oidc.js';
import { Redactor } from '../../core/redact.js';
import { actionIo, type ActionIo } from './io.js';
import { runContext } from '../run-context.js';
import { readSettings, type ActionSettings } from './inputs.js';
import { describeHolder } from '../run/run-lock.js';
import { actionGitHub, problemAnnotations, runUrl, startFeedback } from './feedback.js';
import { commentMarker } from '../../core/run/report.js';

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

async function validate(s: ActionSettings, io: ActionIo): Promise<void> {
  const v = validateProject(
    fsReader(s.root),
    { configRoot: s.configRoot, catalog: s.catalog },
    runContext(s.root),
    {
      site: s.site,
      env: s.environment,
    },
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

async function plan(s: ActionSettings, io: ActionIo): Promise<void> {
  const { site, environment } = required(s);
  const ctx = runContext(s.root);
  const controller = new AbortController();
  const cancel = (): void => {
    if (!controller.signal.aborted)
      io.warning('cancelled: running steps are stopping and releasing their state locks');
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  const feedback = await startFeedback(io, s.githubToken, site, environment, s.comment);
  const mask = (v: string): void => io.redactor.add(v);
  const workspace = workspaceDir(s);
  try {
    let executed;
    try {
      executed = await execute({
        root: s.root,
        layout: { configRoot: s.configRoot, catalog: s.catalog },
        ctx,
        site,
        env: environment,
        mode: s.command as 'plan' | 'apply',
        maxParallel: s.maxParallel,
        terraformBinary: s.terraformBinary,
        lockTimeout: s.lockTimeout,
        lockTimeoutMs: s.lockTimeoutMs,
        runUrl: runUrl(),
        workRoot: join(process.env.RUNNER_TEMP || tmpdir(), 'site-deploy', 'work'),
        signal: controller.signal,
        credentials: {
          broker: new SessionBroker({
            source: { kind: 'github-oidc', token: githubOidcSource(s.audience, { mask }) },
            mask,
            approval: approvalReadBack(io, s.githubToken),
          }),
          mode: s.credentialsMode,
          ctx,
          mask,
        },
        redactor: io.redactor,
        sink: io.engine,
        onLockWait: (holder, where) =>
          io.info(`waiting for the run lock (${where}), held by ${describeHolder(holder)}`),
        onEvent: (e) => {
          if (e.type === 'finish' && e.module.status === 'failed')
            io.error(`${e.node.name}: ${e.module.reason?.split('\n')[0] ?? 'failed'}`, {
              title: `site-deploy / ${site} / ${environment}`,
            });
        },
      });
    } catch (e) {
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
          problemAnnotations(e.problems, s.root, workspace),
        );
        await feedback.comment(commentMarker(site, environment), text);
      } else {
        // Refused before any module ran (the run lock): the check run must not stay in progress.
        const message = e instanceof Error ? e.message : String(e);
        await feedback.complete('failure', `${s.command} did not start`, message, []);
      }
      throw e;
    }
    const { graph, result, warnings } = executed;
    annotate(io, warnings, s.root, workspace);
    const report = toRunReport(graph, result, ctx, { runUrl: runUrl() });
    const markdown = renderReport(report);
    await io.summary(markdown);
    await feedback.comment(report.marker, markdown);
    const failedModules = result.modules.filter((m) => m.status === 'failed');
    await feedback.complete(
      result.status === 'failed' ? 'failure' : result.status === 'cancelled' ? 'cancelled' : 'success',
      `${s.command} ${result.status}: ${result.modules.length} modules`,
      markdown,
      [
        ...problemAnnotations(warnings, s.root, workspace),
        ...failedModules.map((m) => {
          const node = graph.nodes.find((n) => n.name === m.name);
          const pos = node
            ? (executed.workspace.files.get(node.module.origin.file)?.locate(node.module.origin.path) ?? {
                file: graph.site.file,
                line: 1,
                column: 1,
              })
            : { file: graph.site.file, line: 1, column: 1 };
          return {
            path: relative(workspace, resolve(s.root, pos.file)),
            start_line: pos.line,
            end_line: pos.line,
            annotation_level: 'failure' as const,
            message: `${m.name} failed: ${m.reason ?? ''}`.slice(0, 60000),
            title: `site-deploy / ${site} / ${environment}`,
          };
        }),
      ],
    );
    const doc = runDocument(graph, result) as Record<string, unknown>;
    io.setOutput('status', result.status);
    io.setOutput('summary', { ...doc, outputs: undefined });
    io.setOutput('outputs', publicOutputs(graph, result));
    if (result.status === 'failed' || result.status === 'cancelled') {
      const bad = result.modules
        .filter((m) => m.status === 'failed' || m.status === 'cancelled')
        .map((m) => m.name);
      io.setFailed(`${s.command} ${result.status}: ${bad.join(', ') || 'see the log'}`);
    }
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
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
    const gh = actionGitHub(io, token);
    return runApproval(gh, {
      owner,
      repo,
      runId,
      environment: claims.environment ?? '',
      actor: claims.actor,
    });
  };
}

/** The action's entry: reads inputs, runs the command, fails the step with a readable message. */
export async function run(): Promise<void> {
  const io = actionIo(new Redactor());
  try {
    const settings = readSettings(io);
    // Local state, saved plans and tfvars written from here on (and by Terraform) are owner-only.
    process.umask(0o077);
    switch (settings.command) {
      case 'validate':
        await validate(settings, io);
        return;
      case 'plan':
      case 'apply':
        await plan(settings, io);
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
