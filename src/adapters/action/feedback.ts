import { relative, resolve } from 'node:path';
import type { Problem } from '../../core/errors.js';
import {
  checkRunName,
  completeCheckRun,
  startCheckRun,
  type Annotation,
  type CheckConclusion,
} from '../github/check-run.js';
import { createGitHubClient, type GitHub } from '../github/client.js';
import { upsertStickyComment } from '../github/pr-comment.js';
import { STRUCTURAL_FIELDS, type Redactor } from '../../core/redact.js';
import type { ActionIo } from './io.js';
import { readEvent } from './event.js';

/** Keys of an Octokit request that are routing, not content (the token lives in `headers`). */
const ROUTING = new Set(['method', 'url', 'baseUrl', 'headers', 'request', 'mediaType']);

/** Fields of a request the action fills from values that cannot be secrets (a conclusion, a commit). */
const REQUEST_FIELDS = { ...STRUCTURAL_FIELDS, head_sha: /^[0-9a-f]{40}$/ };

/**
 * Runs every request body through the redaction: check-run text and annotations, comments, any
 * future write — one hook, so no GitHub output path can carry a secret.
 */
export function redactRequests(gh: GitHub, redactor: Redactor): GitHub {
  gh.hook.before('request', (options) => {
    for (const k of Object.keys(options))
      if (!ROUTING.has(k))
        Reflect.set(options, k, redactor.document(Reflect.get(options, k), REQUEST_FIELDS));
  });
  return gh;
}

/** The action's GitHub client: retries, throttling, warnings in the log, redacted requests. */
export function actionGitHub(io: ActionIo, token: string): GitHub {
  return redactRequests(
    createGitHubClient(token, { baseUrl: process.env.GITHUB_API_URL, log: (m) => io.warning(m) }),
    io.redactor,
  );
}

/** Where the run's feedback goes on GitHub: the check run and, on a pull request, the sticky comment. */
export interface Feedback {
  /** Completes the check run with a conclusion, summary text and annotations. */
  complete(
    conclusion: CheckConclusion,
    title: string,
    markdown: string,
    annotations: Annotation[],
    /** `output.text`: a plan's review (its binding header line), read back by apply. */
    text?: string,
  ): Promise<void>;
  /** Creates or updates the PR comment; warns and falls back to the job summary when it cannot. */
  comment(marker: string, markdown: string): Promise<void>;
}

/** The link to this workflow run, when the runner says where it is. */
export function runUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: id } = env;
  return server && repository && id ? `${server}/${repository}/actions/runs/${id}` : undefined;
}

/** Turns config problems into check-run annotations, paths relative to the workspace. */
export function problemAnnotations(problems: Problem[], root: string, workspace: string): Annotation[] {
  return problems
    .filter((p) => p.file && p.line > 0)
    .map((p) => ({
      path: relative(workspace, resolve(root, p.file)),
      start_line: p.line,
      end_line: p.line,
      annotation_level: p.severity === 'error' ? 'failure' : 'warning',
      message: p.message,
      title: 'site-deploy',
    }));
}

/** Starts the check run `site-deploy / <site> / <env>` when a token is given; every GitHub failure only warns. */
export async function startFeedback(
  io: ActionIo,
  token: string | undefined,
  site: string,
  env: string,
  commentEnabled: boolean,
): Promise<Feedback> {
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const [owner, repo] = repository.split('/');
  const event = readEvent();
  const pr = event.pull_request;
  let gh: GitHub | undefined;
  let checkId: number | undefined;
  if (token && owner && repo) {
    gh = actionGitHub(io, token);
    try {
      const started = await startCheckRun(gh, {
        owner,
        repo,
        name: checkRunName(site, env),
        headSha: pr?.head?.sha ?? process.env.GITHUB_SHA ?? '',
        detailsUrl: runUrl(),
      });
      if ('id' in started) checkId = started.id;
      else io.warning(`no check run: ${started.degraded}`);
    } catch (e) {
      io.warning(`no check run: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return {
    async complete(conclusion, title, markdown, annotations, text) {
      if (!gh || checkId === undefined || !owner || !repo) return;
      try {
        const done = await completeCheckRun(gh, {
          owner,
          repo,
          id: checkId,
          conclusion,
          title,
          summary: markdown,
          ...(text !== undefined ? { text } : {}),
          annotations,
        });
        if ('degraded' in done) io.warning(`check run not completed: ${done.degraded}`);
      } catch (e) {
        io.warning(`check run not completed: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    async comment(marker, markdown) {
      if (!commentEnabled || !pr) return;
      if (!gh || !owner || !repo) {
        io.warning('no pull-request comment: no github-token; the report is in the job summary');
        return;
      }
      try {
        const r = await upsertStickyComment(gh, {
          owner,
          repo,
          issueNumber: pr.number,
          marker,
          body: markdown,
        });
        if (r.action === 'degraded')
          io.warning(`no pull-request comment (${r.reason}); the report is in the job summary`);
        else io.info(`pull-request comment ${r.action}${r.url ? `: ${r.url}` : ''}`);
      } catch (e) {
        io.warning(
          `no pull-request comment: ${e instanceof Error ? e.message : String(e)}; the report is in the job summary`,
        );
      }
    },
  };
}
