import type { EvidenceRun } from '../../core/evidence/record.js';
import { readEvent } from '../action/event.js';
import { runContext } from '../run-context.js';

/** A run id outside Actions: the UTC time, to the millisecond (`20261128T064512123Z`). */
export function localRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/**
 * The facts an evidence record names about its run: GitHub's (GITHUB_*, the event payload) in
 * Actions — the CLI in a workflow step included — and the machine's outside (git, $USER, a
 * timestamp for a run id).
 */
export function evidenceRun(root: string, env: NodeJS.ProcessEnv = process.env): EvidenceRun {
  const ctx = runContext(root, env);
  if (env.GITHUB_ACTIONS === 'true') {
    const server = env.GITHUB_SERVER_URL;
    const repo = env.GITHUB_REPOSITORY;
    const id = env.GITHUB_RUN_ID || localRunId();
    const attempt = Number(env.GITHUB_RUN_ATTEMPT ?? '1');
    return {
      repository: ctx.repository,
      pull_request: readEvent(env.GITHUB_EVENT_PATH).pull_request?.number ?? null,
      commit: ctx.sha,
      ref: ctx.ref,
      ref_protected: env.GITHUB_REF_PROTECTED === undefined ? null : env.GITHUB_REF_PROTECTED === 'true',
      actor: ctx.actor,
      triggering_actor: env.GITHUB_TRIGGERING_ACTOR || ctx.actor,
      event: env.GITHUB_EVENT_NAME || 'unknown',
      workflow_ref: env.GITHUB_WORKFLOW_REF || null,
      id,
      attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
      url: server && repo && env.GITHUB_RUN_ID ? `${server}/${repo}/actions/runs/${env.GITHUB_RUN_ID}` : null,
    };
  }
  return {
    repository: ctx.repository,
    pull_request: null,
    commit: ctx.sha,
    ref: ctx.ref,
    ref_protected: null,
    actor: ctx.actor,
    triggering_actor: ctx.actor,
    event: 'local',
    workflow_ref: null,
    id: localRunId(),
    attempt: 1,
    url: null,
  };
}
