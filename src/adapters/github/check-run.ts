import type { CheckConclusion } from '../../core/status.js';
import { describeFailure, isPermissionFailure, requestFailure, type GitHub } from './client.js';

/** The Checks API caps `output.summary` and `output.text` at this many characters. */
export const CHECK_OUTPUT_MAX_CHARS = 65535;
/** The Checks API accepts at most this many annotations per request. */
export const ANNOTATIONS_PER_REQUEST = 50;

/** One annotation on a file and line, as the Checks API takes it. */
export interface Annotation {
  /** Repository-relative path, e.g. `sites/client-portal/site.yaml`. */
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'failure' | 'warning' | 'notice';
  message: string;
  title?: string;
  /** Only kept when start_line equals end_line (the API refuses columns across lines). */
  start_column?: number;
  end_column?: number;
}

/** A check run's final state; a run's own is `checkConclusion` of its status (core/status.ts). */
export type { CheckConclusion };

/** What {@link startCheckRun} returns: the run's id, or why none could be created. */
export type CheckRunStarted = { id: number; url?: string } | { degraded: string };

/** What {@link completeCheckRun} returns: how many annotations were posted, or why it degraded. */
export type CheckRunCompleted = { annotations: number } | { degraded: string };

/** The check run's name for one site × environment: `site-deploy / <site> / <env>`. */
export function checkRunName(site: string, env: string): string {
  return `site-deploy / ${site} / ${env}`;
}

/** Creates an in-progress check run on `headSha` (on a pull request, its head commit, not the merge commit). */
export async function startCheckRun(
  gh: GitHub,
  r: { owner: string; repo: string; name: string; headSha: string; detailsUrl?: string },
): Promise<CheckRunStarted> {
  try {
    const { data } = await gh.rest.checks.create({
      owner: r.owner,
      repo: r.repo,
      name: r.name,
      head_sha: r.headSha,
      status: 'in_progress',
      started_at: new Date().toISOString(),
      ...(r.detailsUrl ? { details_url: r.detailsUrl } : {}),
    });
    return { id: data.id, url: data.html_url ?? undefined };
  } catch (err) {
    return degradeOrThrow(
      err,
      `create check run "${r.name}" on ${r.owner}/${r.repo}@${r.headSha.slice(0, 12)}`,
    );
  }
}

/**
 * Completes a check run with its conclusion, output and annotations.
 *
 * The first 50 annotations go with the completion, the rest in further updates of up to 50 each
 * (GitHub appends them); every update repeats title and summary, which the API requires with
 * `output`. Summary and text longer than the API allows are folded with a line saying so.
 */
export async function completeCheckRun(
  gh: GitHub,
  r: {
    owner: string;
    repo: string;
    id: number;
    conclusion: CheckConclusion;
    title: string;
    summary: string;
    text?: string;
    annotations: Annotation[];
  },
): Promise<CheckRunCompleted> {
  const output = {
    title: r.title,
    summary: foldOutput(r.summary),
    ...(r.text !== undefined ? { text: foldOutput(r.text) } : {}),
  };
  const annotations = r.annotations.map(toApiAnnotation);
  const batches: (typeof annotations)[] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  }
  const base = { owner: r.owner, repo: r.repo, check_run_id: r.id };
  const what = `check run ${r.id} on ${r.owner}/${r.repo}`;

  // Completion first, so the conclusion is recorded even if a later annotation batch fails.
  try {
    await gh.rest.checks.update({
      ...base,
      status: 'completed',
      conclusion: r.conclusion,
      completed_at: new Date().toISOString(),
      output: { ...output, ...(batches[0] ? { annotations: batches[0] } : {}) },
    });
  } catch (err) {
    return degradeOrThrow(err, `complete ${what}`);
  }
  let posted = batches[0]?.length ?? 0;
  for (const batch of batches.slice(1)) {
    try {
      await gh.rest.checks.update({ ...base, output: { ...output, annotations: batch } });
    } catch (err) {
      return degradeOrThrow(
        err,
        `add annotations to ${what} (${posted} of ${annotations.length} were posted)`,
      );
    }
    posted += batch.length;
  }
  return { annotations: posted };
}

/** Folds text to the Checks API's output limit, cutting at a line break and saying how much was left out. */
export function foldOutput(text: string, limit: number = CHECK_OUTPUT_MAX_CHARS): string {
  if (text.length <= limit) return text;
  const note = (n: number): string =>
    `\n\n_… ${n.toLocaleString('en-US')} more characters were cut to fit the check run's ${limit.toLocaleString('en-US')}-character limit._`;
  // The note's length depends on how much is cut; size it for the largest possible count.
  let keep = Math.max(0, limit - note(text.length).length);
  const lineBreak = text.lastIndexOf('\n', keep);
  if (lineBreak > keep / 2) keep = lineBreak;
  else if (isHighSurrogate(text.charCodeAt(keep - 1))) keep -= 1;
  return text.slice(0, keep) + note(text.length - keep);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// Limits the API documents per annotation: title 255 characters, message and details 64 KB.
const TITLE_MAX_CHARS = 255;
const MESSAGE_MAX_BYTES = 64 * 1024;

function toApiAnnotation(a: Annotation): Annotation {
  const startLine = Math.max(1, Math.trunc(a.start_line));
  const endLine = Math.max(startLine, Math.trunc(a.end_line));
  const out: Annotation = {
    path: a.path.replace(/^\.\//, ''),
    start_line: startLine,
    end_line: endLine,
    annotation_level: a.annotation_level,
    message: cutBytes(a.message, MESSAGE_MAX_BYTES),
  };
  if (a.title !== undefined)
    out.title = a.title.length > TITLE_MAX_CHARS ? `${a.title.slice(0, TITLE_MAX_CHARS - 1)}…` : a.title;
  if (startLine === endLine) {
    if (a.start_column !== undefined) out.start_column = a.start_column;
    if (a.end_column !== undefined) out.end_column = a.end_column;
  }
  return out;
}

function cutBytes(text: string, maxBytes: number): string {
  const suffix = '…';
  const room = maxBytes - Buffer.byteLength(suffix, 'utf8');
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  // Longest prefix that fits, by binary search over UTF-16 offsets.
  let lo = 0;
  let hi = Math.min(text.length, room);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(text.slice(0, mid), 'utf8') <= room) lo = mid;
    else hi = mid - 1;
  }
  if (isHighSurrogate(text.charCodeAt(lo - 1))) lo -= 1;
  return text.slice(0, lo) + suffix;
}

function degradeOrThrow(err: unknown, doing: string): { degraded: string } {
  const f = requestFailure(err);
  const detail = describeFailure(f);
  if (isPermissionFailure(f)) {
    return {
      degraded: `could not ${doing}: ${detail} — the token needs \`checks: write\` (a pull request from a fork gets a read-only token)`,
    };
  }
  throw new Error(`could not ${doing}: ${detail}`, { cause: err });
}

/** A check run as apply reads it back: who wrote it, on which commit, how it ended, its text. */
export interface CheckRunRead {
  id: number;
  /** The slug of the GitHub App that wrote it (`github-actions` for a workflow's token). */
  app: string | null;
  head_sha: string;
  status: string;
  conclusion: string | null;
  text: string | null;
  url: string;
}

/**
 * The check runs named `name` on commit `ref` (`GET /repos/{o}/{r}/commits/{ref}/check-runs`,
 * `check_name` filter), newest first. Failures throw.
 */
export async function checkRunsNamed(
  gh: GitHub,
  q: { owner: string; repo: string; ref: string; name: string },
): Promise<CheckRunRead[]> {
  const runs = await gh.paginate(gh.rest.checks.listForRef, {
    owner: q.owner,
    repo: q.repo,
    ref: q.ref,
    check_name: q.name,
    filter: 'all',
    per_page: 100,
  });
  return runs
    .filter((r) => r.name === q.name)
    .map((r) => ({
      id: r.id,
      app: r.app?.slug ?? null,
      head_sha: r.head_sha,
      status: r.status,
      conclusion: r.conclusion ?? null,
      text: r.output.text ?? null,
      url: r.html_url ?? '',
    }))
    .sort((a, b) => b.id - a.id);
}
