/**
 * The run environment of a command run as a workflow step: the ports it gets, wired once. A
 * command that runs module steps gets the cancel guard, the check run (and PR comment), AWS
 * sessions from the GitHub OIDC token, evidence (artifact, S3, attestation), GitHub Deployments
 * for promotion, and the reviewed plans of approval binding.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandInfo } from '../../commands/descriptor.js';
import type { CommandPorts, Reporter } from '../../commands/ports.js';
import { githubOidcSource } from '../aws/oidc.js';
import { SessionBroker, type ApprovalCheck } from '../aws/sts.js';
import { actionEvidence } from '../evidence/port.js';
import { fsReader } from '../fs-reader.js';
import { readHandoffFiles } from '../handoff-files.js';
import { gitChanges } from '../git.js';
import { runApproval } from '../github/approvals.js';
import { reviewedPlan } from '../github/binding.js';
import { verifyReviewSeal } from '../../core/binding.js';
import { githubDeployments } from '../github/deployments.js';
import { runContext } from '../run-context.js';
import { guardRun } from '../run-guard.js';
import type { RunEnvironment } from '../run/environment.js';
import { localRuntime } from '../run/runtime.js';
import { actionGitHub, runUrl, startFeedback, type Feedback } from './feedback.js';
import type { ActionSettings } from './inputs.js';
import type { ActionIo } from './io.js';

/** A step's ports, and the check run / PR comment of a command that runs module steps. */
export interface ActionEnvironment extends RunEnvironment {
  feedback?: Feedback;
}

/** Module failures as error annotations titled with the site × environment. */
function reporter(io: ActionIo, site: string, environment: string): Reporter {
  return {
    engine: io.engine,
    finished: (node, m) => {
      if (m.status === 'failed')
        io.error(`${node.name}: ${m.reason?.split('\n')[0] ?? 'failed'}`, {
          title: `site-deploy / ${site} / ${environment}`,
        });
    },
    notice: (m) => io.info(m),
  };
}

/** The ports of a command run as a workflow step. */
export async function actionEnvironment(
  command: CommandInfo,
  s: ActionSettings,
  io: ActionIo,
): Promise<ActionEnvironment> {
  const site = s.site ?? '';
  const environment = s.environment ?? '';
  const ports: CommandPorts = {
    files: fsReader,
    context: (root) => runContext(root),
    redactor: io.redactor,
    reporter: reporter(io, site, environment),
    changes: gitChanges,
    handoffs: (path) => readHandoffFiles(path, s.root),
  };
  if (command.uses !== 'steps') return { ports, dispose: () => {} };
  const guard = guardRun(() =>
    io.warning('cancelled: running steps are stopping and releasing their state locks'),
  );
  // With publish: handoff this job writes nothing to GitHub: the report job does.
  const feedback =
    s.publish === 'github' ? await startFeedback(io, s.githubToken, site, environment, s.comment) : undefined;
  return {
    ports: { ...ports, ...stepPorts(s, io), signal: guard.signal },
    ...(feedback ? { feedback } : {}),
    dispose: () => guard.dispose(),
  };
}

/** What a command that runs module steps gets in Actions: sessions, evidence, deployments, binding. */
function stepPorts(s: ActionSettings, io: ActionIo): Partial<CommandPorts> {
  const mask = (v: string): void => io.redactor.add(v);
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
    credentials: { broker, mode: s.credentialsMode, ctx: runContext(s.root), mask },
  });
  return {
    runtime: () => Promise.resolve(runtime),
    ...(url ? { runUrl: url } : {}),
    evidence: actionEvidence(s.root, {
      bucket: s.evidenceBucket,
      attest: s.attest,
      githubToken: s.githubToken,
      broker,
      log: { notice: (m) => io.info(m), warning: (m) => io.warning(m) },
    }),
    deployments: actionDeployments(io, s.githubToken, url ?? null, s.tokenLogin),
    binding: actionBinding(io, s.githubToken, s.tokenLogin, s.bindingKey),
  };
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
function actionBinding(
  io: ActionIo,
  token: string | undefined,
  tokenLogin: string,
  key: string | undefined,
): CommandPorts['binding'] {
  const [owner = '', repo = ''] = (process.env.GITHUB_REPOSITORY ?? '').split('/');
  return {
    async reviewed(site, env, sha) {
      if (!token)
        throw new Error('no github-token to read the pull request with (it needs pull-requests: read)');
      if (!owner || !repo) throw new Error('no GITHUB_REPOSITORY to look the pull request up in');
      return reviewedPlan(actionGitHub(io, token), {
        owner,
        repo,
        sha,
        site,
        env,
        ownLogin: tokenLogin,
        // The check run's review must carry a seal made with this key (none without one).
        checkSeal: (review) => verifyReviewSeal(review, key),
      });
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
