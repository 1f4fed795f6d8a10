import * as core from '@actions/core';
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
import { createGitHubClient } from '../github/client.js';
import type { ApprovalCheck } from '../aws/sts.js';
import { defaultCredentialSource, SessionBroker } from '../aws/sts.js';
import { runContext } from '../run-context.js';
import { readSettings, type ActionSettings } from './inputs.js';
import { problemAnnotations, runUrl, startFeedback } from './feedback.js';
import { commentMarker } from '../../core/run/report.js';

/** Emits each problem as an annotation on its file and line (paths relative to the workspace). */
export function annotate(problems: Problem[], root: string, workspace: string): void {
  for (const p of problems) {
    const props: core.AnnotationProperties = { title: 'site-deploy' };
    if (p.file && p.line > 0) {
      props.file = relative(workspace, resolve(root, p.file));
      props.startLine = p.line;
      props.startColumn = p.column;
    }
    if (p.severity === 'error') core.error(p.message, props);
    else core.warning(p.message, props);
  }
}

function workspaceDir(s: ActionSettings): string {
  return process.env.GITHUB_WORKSPACE || s.root;
}

async function validate(s: ActionSettings): Promise<void> {
  const v = validateProject(
    fsReader(s.root),
    { configRoot: s.configRoot, catalog: s.catalog },
    runContext(s.root),
    {
      site: s.site,
      env: s.environment,
    },
  );
  annotate(v.problems, s.root, workspaceDir(s));
  const errors = v.problems.filter((p) => p.severity === 'error');
  core.setOutput('status', v.ok ? 'succeeded' : 'failed');
  core.setOutput(
    'summary',
    JSON.stringify({ ok: v.ok, errors: errors.length, warnings: v.problems.length - errors.length }),
  );
  if (!v.ok) {
    core.setFailed(
      `${errors.length} configuration error${errors.length === 1 ? '' : 's'}: see the annotations`,
    );
  } else {
    core.info(`configuration is valid: ${v.graphs.length} site×environment graphs`);
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

async function plan(s: ActionSettings): Promise<void> {
  const { site, environment } = required(s);
  const ctx = runContext(s.root);
  const controller = new AbortController();
  const cancel = (): void => {
    if (!controller.signal.aborted)
      core.warning('cancelled: running steps are stopping and releasing their state locks');
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  const feedback = await startFeedback(s.githubToken, site, environment, s.comment);
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
        workRoot: join(process.env.RUNNER_TEMP || tmpdir(), 'site-deploy', 'work'),
        signal: controller.signal,
        credentials: {
          broker: new SessionBroker({
            source: defaultCredentialSource(process.env, s.audience),
            mask: (v) => core.setSecret(v),
            approval: approvalReadBack(s.githubToken),
          }),
          mode: s.credentialsMode,
          ctx,
          mask: (v) => core.setSecret(v),
        },
        onSecret: (v) => core.setSecret(v),
        sink: {
          startGroup: (t) => core.startGroup(t),
          endGroup: () => core.endGroup(),
          write: (t) => process.stdout.write(t),
        },
        onEvent: (e) => {
          if (e.type === 'finish' && e.module.status === 'failed')
            core.error(`${e.node.name}: ${e.module.reason?.split('\n')[0] ?? 'failed'}`, {
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
      }
      throw e;
    }
    const { graph, result, warnings } = executed;
    annotate(warnings, s.root, workspace);
    const report = toRunReport(graph, result, ctx, { runUrl: runUrl() });
    const markdown = renderReport(report);
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write();
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
    core.setOutput('status', result.status);
    core.setOutput('summary', JSON.stringify({ ...doc, outputs: undefined }));
    core.setOutput('outputs', JSON.stringify(publicOutputs(graph, result)));
    if (result.status === 'failed' || result.status === 'cancelled') {
      const bad = result.modules
        .filter((m) => m.status === 'failed' || m.status === 'cancelled')
        .map((m) => m.name);
      core.setFailed(`${s.command} ${result.status}: ${bad.join(', ') || 'see the log'}`);
    }
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

/** `require_mfa`: reads this run's human approval for the token's GitHub environment back from the API. */
function approvalReadBack(token: string | undefined): ApprovalCheck {
  return async ({ claims }) => {
    const [owner, repo] = (process.env.GITHUB_REPOSITORY ?? '').split('/');
    const runId = Number(process.env.GITHUB_RUN_ID);
    if (!token || !owner || !repo || !Number.isInteger(runId)) {
      return {
        approved: false,
        detail: 'no github-token, repository or run id to read the approval back with',
      };
    }
    const gh = createGitHubClient(token, {
      baseUrl: process.env.GITHUB_API_URL,
      log: (m) => core.warning(m),
    });
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
  try {
    const settings = readSettings();
    switch (settings.command) {
      case 'validate':
        await validate(settings);
        return;
      case 'plan':
      case 'apply':
        await plan(settings);
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
        e.problems,
        process.env.GITHUB_WORKSPACE || process.cwd(),
        process.env.GITHUB_WORKSPACE || process.cwd(),
      );
    core.setOutput('status', 'failed');
    core.setFailed(e instanceof Error ? e.message : String(e));
  }
}
