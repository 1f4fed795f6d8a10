import {
  describeFailure,
  isPermissionFailure,
  requestFailure,
  type GitHub,
  type RequestFailure,
} from './client.js';

/** GitHub rejects comment bodies longer than this many characters. */
export const COMMENT_MAX_CHARS = 65536;

/** Where the sticky comment goes and what it says. */
export interface StickyComment {
  owner: string;
  repo: string;
  /** The pull request (or issue) number. */
  issueNumber: number;
  /** A hidden HTML comment naming the comment's owner, e.g. `<!-- site-deploy:client-portal:production -->`. */
  marker: string;
  /** Markdown; the marker is put on the first line when the body does not already carry it. */
  body: string;
}

/** What {@link upsertStickyComment} did; `degraded` means nothing was posted and `reason` says why. */
export interface StickyCommentResult {
  action: 'created' | 'updated' | 'unchanged' | 'degraded';
  id?: number;
  url?: string;
  reason?: string;
}

interface FoundComment {
  id: number;
  body: string;
  url: string;
}

/**
 * Creates the pull request comment carrying `marker`, or updates it in place when it already exists.
 *
 * Comments are searched across every page; a Bot-authored match wins over a user's (a person may
 * quote our marker), else the first match. A fork PR's read-only token or a missing permission
 * (403/404) returns `degraded` so the caller can fall back to the job summary; other failures throw.
 */
export async function upsertStickyComment(gh: GitHub, c: StickyComment): Promise<StickyCommentResult> {
  if (!/^<!--[\s\S]*-->$/.test(c.marker) || c.marker.slice(4, -3).includes('-->')) {
    throw new Error(
      `comment marker must be one hidden HTML comment like "<!-- site-deploy:site:env -->", got ${JSON.stringify(c.marker)}`,
    );
  }
  const body = c.body.includes(c.marker) ? c.body : `${c.marker}\n${c.body}`;
  const where = `${c.owner}/${c.repo}#${c.issueNumber}`;
  if (body.length > COMMENT_MAX_CHARS) {
    throw new Error(
      `the comment for ${where} is ${body.length} characters, over GitHub's ${COMMENT_MAX_CHARS}; fold detail before posting`,
    );
  }

  let found: FoundComment | undefined;
  try {
    found = await findComment(gh, c);
  } catch (err) {
    return degradeOrThrow(err, where, 'read comments on');
  }

  if (found) {
    if (normalize(found.body) === normalize(body)) {
      return { action: 'unchanged', id: found.id, url: found.url };
    }
    try {
      const { data } = await gh.rest.issues.updateComment({
        owner: c.owner,
        repo: c.repo,
        comment_id: found.id,
        body,
      });
      return { action: 'updated', id: data.id, url: data.html_url };
    } catch (err) {
      // Deleted between our read and our write: post it again rather than lose the report.
      if (requestFailure(err).status !== 404) return degradeOrThrow(err, where, 'update the comment on');
    }
  }

  try {
    const { data } = await gh.rest.issues.createComment({
      owner: c.owner,
      repo: c.repo,
      issue_number: c.issueNumber,
      body,
    });
    return { action: 'created', id: data.id, url: data.html_url };
  } catch (err) {
    return degradeOrThrow(err, where, 'comment on');
  }
}

async function findComment(gh: GitHub, c: StickyComment): Promise<FoundComment | undefined> {
  let firstAny: FoundComment | undefined;
  const pages = gh.paginate.iterator(gh.rest.issues.listComments, {
    owner: c.owner,
    repo: c.repo,
    issue_number: c.issueNumber,
    per_page: 100,
  });
  for await (const page of pages) {
    for (const comment of page.data) {
      if (!comment.body?.includes(c.marker)) continue;
      const hit = { id: comment.id, body: comment.body, url: comment.html_url };
      if (comment.user?.type === 'Bot') return hit;
      firstAny ??= hit;
    }
  }
  return firstAny;
}

// GitHub may hand back CRLF line endings and drop trailing whitespace: neither is a change.
function normalize(text: string): string {
  return text.replace(/\r\n/g, '\n').trimEnd();
}

function degradeOrThrow(err: unknown, where: string, doing: string): StickyCommentResult {
  const f = requestFailure(err);
  if (isPermissionFailure(f)) return { action: 'degraded', reason: degradeReason(f, where) };
  throw new Error(`could not ${doing} pull request ${where}: ${describeFailure(f)}`, { cause: err });
}

function degradeReason(f: RequestFailure, where: string): string {
  const hint =
    f.status === 403
      ? 'the token may not write comments (a pull request from a fork gets a read-only GITHUB_TOKEN; otherwise grant `pull-requests: write`)'
      : 'the token cannot see the repository or the pull request';
  return `no PR comment on ${where}: ${describeFailure(f)} — ${hint}; the report is in the job summary instead`;
}
