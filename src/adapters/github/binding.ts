/**
 * Approval binding on GitHub (SPEC §8.3): finds the pull request that produced a commit and reads
 * the review its site-deploy comment carries — from comments the workflow's own token wrote, never
 * from anyone else's.
 */
import canonicalize from 'canonicalize';
import { parseBindingHeader, readBindingHeader, type BindingReview } from '../../core/binding.js';
import { commentMarker } from '../../core/report/run-report.js';
import { checkRunName, checkRunsNamed, type CheckRunRead } from './check-run.js';
import {
  describeFailure,
  GITHUB_ACTIONS_LOGIN,
  isPermissionFailure,
  requestFailure,
  writtenByOwnToken,
  type GitHub,
} from './client.js';

export { GITHUB_ACTIONS_LOGIN } from './client.js';

/** What {@link reviewedPlan} looks for. */
export interface ReviewedPlanQuery {
  owner: string;
  repo: string;
  /** The commit being applied. */
  sha: string;
  site: string;
  env: string;
  /**
   * The login the action's token writes comments as; default `github-actions[bot]` (GITHUB_TOKEN).
   * A GitHub App's token writes as `<app-slug>[bot]`. A `[bot]` login must also be of type Bot.
   */
  ownLogin?: string;
  /**
   * Checks the seal (HMAC under `binding-key`) of the check run's review: undefined when it is
   * fine, else a one-line problem. Absent: no key, nothing to verify.
   */
  checkSeal?: (review: BindingReview) => string | undefined;
}

/** The app a login writes as: `github-actions[bot]` → `github-actions`, `my-app[bot]` → `my-app`. */
export function appOfLogin(login: string): string {
  return login.replace(/\[bot\]$/i, '').toLowerCase();
}

/** A review found, or why there is none. */
export type ReviewedPlanResult =
  | {
      /** The pull request the review is on. */
      pr: number;
      review: BindingReview;
      /** The comment carrying it. */
      commentUrl: string;
      /** The pull request's head commit: equal to `review.commit` when its last plan saw its last push. */
      headSha: string;
      /** The check run whose review is bound (the comment's header is the same review). */
      checkRunUrl?: string;
    }
  | {
      /** Why no review applies, for the halt message. */
      missing: string;
      /** The pull request looked at, when one was found. */
      pr?: number;
    };

/** The token may not read pull requests or their comments: the apply must halt (fail closed). */
export class BindingPermissionError extends Error {
  /** HTTP status: 403 or 404. */
  readonly status: number;
  /** The request refused, `METHOD /path`. */
  readonly request?: string;

  constructor(message: string, status: number, request?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BindingPermissionError';
    this.status = status;
    this.request = request;
  }
}

interface AssociatedPull {
  number: number;
  state: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  head: { sha: string };
}

/** Of the pull requests associated with a commit, the one that produced it. */
function choosePull(pulls: AssociatedPull[], sha: string): AssociatedPull | undefined {
  const s = sha.toLowerCase();
  const merged = pulls.filter((p) => p.merged_at !== null);
  const newest = (list: AssociatedPull[]): AssociatedPull | undefined =>
    [...list].sort(
      (a, b) => Date.parse(b.merged_at ?? '') - Date.parse(a.merged_at ?? '') || b.number - a.number,
    )[0];
  return (
    // Merged as this commit (a merge commit, a squash, or the last commit of a rebase).
    newest(merged.filter((p) => p.merge_commit_sha?.toLowerCase() === s)) ??
    // This commit is a pull request's head: merged by fast-forward, or an apply dispatched on it.
    newest(merged.filter((p) => p.head.sha.toLowerCase() === s)) ??
    pulls.filter((p) => p.head.sha.toLowerCase() === s).sort((a, b) => b.number - a.number)[0] ??
    // Otherwise the commit came in through a merged pull request whose merge commit is another.
    newest(merged)
  );
}

function permissionError(err: unknown, doing: string): unknown {
  const f = requestFailure(err);
  if (f.status !== undefined && isPermissionFailure(f)) {
    return new BindingPermissionError(
      `approval binding could not ${doing}: ${describeFailure(f)} — the workflow's token needs ` +
        '`pull-requests: read` (and `contents: read`) to find the reviewed plan; without it the apply halts',
      f.status,
      f.request,
      { cause: err },
    );
  }
  return new Error(`approval binding could not ${doing}: ${describeFailure(f)}`, { cause: err });
}

/**
 * The review of the plan behind `sha` for `site` × `env`: the pull request that produced the
 * commit (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`; a merged one whose merge commit or head
 * is `sha` first), then its site-deploy comment for `<site>:<env>` written by `ownLogin` — the
 * newest one when there are several — and that comment's binding header. Comments by anyone else
 * are ignored, however they look. 403/404 throw {@link BindingPermissionError}; other failures
 * throw; a missing pull request, comment or header returns `{ missing }`.
 */
export async function reviewedPlan(gh: GitHub, q: ReviewedPlanQuery): Promise<ReviewedPlanResult> {
  const own = (q.ownLogin ?? GITHUB_ACTIONS_LOGIN).toLowerCase();
  const marker = commentMarker(q.site, q.env);

  let pulls: AssociatedPull[];
  try {
    pulls = (await gh.paginate(gh.rest.repos.listPullRequestsAssociatedWithCommit, {
      owner: q.owner,
      repo: q.repo,
      commit_sha: q.sha,
      per_page: 100,
    })) as AssociatedPull[];
  } catch (err) {
    throw permissionError(err, `list the pull requests of commit ${q.sha.slice(0, 12)}`);
  }
  const pull = choosePull(pulls, q.sha);
  if (!pull) {
    return {
      missing:
        pulls.length === 0
          ? `no pull request produced commit ${q.sha.slice(0, 12)}: it was not reviewed as a plan on a pull request`
          : `none of the pull requests associated with commit ${q.sha.slice(0, 12)} (${pulls
              .map((p) => `#${p.number}`)
              .join(', ')}) was merged as it or has it as its head`,
    };
  }

  let found: { body: string; url: string; at: number } | undefined;
  try {
    const pages = gh.paginate.iterator(gh.rest.issues.listComments, {
      owner: q.owner,
      repo: q.repo,
      issue_number: pull.number,
      per_page: 100,
    });
    for await (const page of pages) {
      for (const c of page.data) {
        if (!writtenByOwnToken(c.user, own)) continue;
        if (!c.body?.includes(marker)) continue;
        const at = Date.parse(c.updated_at);
        if (!found || at >= found.at) found = { body: c.body, url: c.html_url, at };
      }
    }
  } catch (err) {
    throw permissionError(err, `read the comments of pull request #${pull.number}`);
  }
  if (!found) {
    return {
      pr: pull.number,
      missing: `pull request #${pull.number} has no site-deploy plan comment for ${q.site}/${q.env} written by ${q.ownLogin ?? GITHUB_ACTIONS_LOGIN}`,
    };
  }
  const read = readBindingHeader(found.body);
  if ('problem' in read) {
    return {
      pr: pull.number,
      missing: `the site-deploy comment for ${q.site}/${q.env} on pull request #${pull.number} carries no readable approval binding: ${read.problem} (${found.url})`,
    };
  }
  const review = read.review;
  if (review.site !== q.site || review.env !== q.env) {
    return {
      pr: pull.number,
      missing: `the approval binding on pull request #${pull.number} is for another site × environment (${found.url})`,
    };
  }
  return fromCheckRun(gh, q, { pr: pull.number, review, commentUrl: found.url, headSha: pull.head.sha });
}

type Found = Extract<ReviewedPlanResult, { review: BindingReview }>;

/**
 * The review apply binds against: the one in the check run `site-deploy / <site> / <env>` of the
 * pull request's head commit, which only a GitHub App can write. That check run must be written by
 * the token's app, be on the head commit, have concluded `success`, carry a readable review for
 * this site × environment (sealed, when a key is given) and the same review as the comment's
 * header — a comment edited after the plan (by a person, or by a step holding a write token) is
 * caught here. Anything else is `{ missing }`, naming what differs.
 */
async function fromCheckRun(gh: GitHub, q: ReviewedPlanQuery, comment: Found): Promise<ReviewedPlanResult> {
  const name = checkRunName(q.site, q.env);
  const app = appOfLogin(q.ownLogin ?? GITHUB_ACTIONS_LOGIN);
  const head = comment.headSha;
  const at = `commit ${head.slice(0, 12)} (head of pull request #${comment.pr})`;
  const missing = (why: string): ReviewedPlanResult => ({ pr: comment.pr, missing: why });
  let runs: CheckRunRead[];
  try {
    runs = await checkRunsNamed(gh, { owner: q.owner, repo: q.repo, ref: head, name });
  } catch (err) {
    throw permissionError(err, `read the check runs of ${at} (it needs \`checks: read\`)`);
  }
  const own = runs.filter((r) => r.app === app);
  if (own.length === 0)
    return missing(
      runs.length === 0
        ? `${at} has no check run "${name}": the plan comment (${comment.commentUrl}) has no matching check run`
        : `the check run "${name}" on ${at} was written by ${runs.map((r) => `app ${r.app ?? 'unknown'}`).join(', ')}, not by ${app}, the workflow token's app`,
    );
  // Newest first; an apply's own check run (same name, in progress or without a review) is skipped.
  const withReview = own
    .filter((r) => r.status === 'completed')
    .map((r) => ({ run: r, review: parseBindingHeader(r.text ?? '') }))
    .find((x) => x.review !== undefined);
  if (withReview === undefined || withReview.review === undefined) {
    const done = own.find((r) => r.status === 'completed');
    return missing(
      done
        ? `the check run "${name}" on ${at} carries no readable approval binding (${done.url})`
        : `the check run "${name}" on ${at} has not completed (${own[0]?.url ?? ''})`,
    );
  }
  const { run, review } = withReview;
  if (run.head_sha.toLowerCase() !== head.toLowerCase())
    return missing(
      `the check run "${name}" (${run.url}) is on commit ${run.head_sha.slice(0, 12)}, not ${at}`,
    );
  if (run.conclusion !== 'success')
    return missing(
      `the check run "${name}" on ${at} concluded ${run.conclusion ?? 'nothing'}, not success (${run.url})`,
    );
  if (review.site !== q.site || review.env !== q.env)
    return missing(
      `the check run "${name}" on ${at} carries a review of another site × environment (${run.url})`,
    );
  const seal = q.checkSeal?.(review);
  if (seal !== undefined)
    return missing(`the check run's review on ${at} does not verify: ${seal} (${run.url})`);
  if (canonicalize(review) !== canonicalize(comment.review))
    return missing(
      `the plan comment's hidden header (${comment.commentUrl}) differs from the review in the check run "${name}" ` +
        `(${run.url}): combined digest ${comment.review.combined} in the comment, ${review.combined} in the check run — ` +
        'the comment was edited after the plan; plan the pull request again',
    );
  return { ...comment, review, checkRunUrl: run.url };
}
