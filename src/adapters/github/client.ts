import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

/** The Octokit client every GitHub adapter takes: REST methods, pagination, retry and throttling. */
export type GitHub = ReturnType<typeof getOctokit>;

/** How the client paces itself: `github` follows GitHub's guidance, `immediate` never waits (tests). */
export type Pacing = 'github' | 'immediate';

/** Options for {@link createGitHubClient}. */
export interface GitHubClientOptions {
  /** REST API root, e.g. `https://ghe.example.com/api/v3`; default `GITHUB_API_URL` or api.github.com. */
  baseUrl?: string;
  /** Receives rate-limit and retry notices (never request bodies or headers). */
  log?: (msg: string) => void;
  /** `github` (default): back off as GitHub asks and space writes 1 s apart; `immediate`: same retries, no waiting. */
  pacing?: Pacing;
}

/** Retries after a primary rate limit (x-ratelimit-remaining: 0). */
const RATE_LIMIT_RETRIES = 2;
/** Retries after a secondary (abuse) rate limit. */
const SECONDARY_RATE_LIMIT_RETRIES = 1;
/** Retries after a 5xx or network error (plugin-retry waits 1 s, 4 s, 9 s: retry² × 1 s). */
const SERVER_ERROR_RETRIES = 3;
/**
 * Statuses plugin-retry must leave alone. Its default list lacks 429, so it retried a secondary
 * rate limit sent as 429 three times on its own schedule, ignoring `retry-after`, before and after
 * the throttling plugin's own retry (8 requests instead of 2). Rate limits (403/429) belong to the
 * throttling plugin alone.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

/** `METHOD /path` of a request, for messages: no host, no query (which is where tokens would hide). */
export function requestLine(method: string | undefined, url: string | undefined): string {
  let path = url ?? '';
  try {
    path = new URL(path, 'http://github.invalid').pathname;
  } catch {
    path = path.split('?')[0] ?? '';
  }
  return `${(method ?? 'GET').toUpperCase()} ${path}`;
}

// A stand-in for a Bottleneck group that runs every job at once. plugin-throttling spaces writes
// 1 s apart through module-wide groups; tests swap these in so they don't wait, without this
// package depending on bottleneck (only a transitive dependency) itself.
const immediateGroup = {
  key: () => ({
    schedule: (_options: unknown, job: (...args: unknown[]) => unknown, ...args: unknown[]) =>
      Promise.resolve().then(() => job(...args)),
  }),
};

/** Creates an authenticated Octokit with the retry and throttling plugins; the token only ever goes in the Authorization header. */
export function createGitHubClient(token: string, options: GitHubClientOptions = {}): GitHub {
  const log = options.log ?? (() => undefined);
  const immediate = options.pacing === 'immediate';
  const where = (o: { method?: string; url?: string }): string => requestLine(o.method, o.url);
  const throttle = {
    // Multiplies the seconds GitHub asks us to wait.
    retryAfterBaseValue: immediate ? 0 : 1000,
    onRateLimit: (
      after: number,
      o: { method?: string; url?: string },
      _k: unknown,
      count: number,
    ): boolean => {
      const again = count < RATE_LIMIT_RETRIES;
      log(`GitHub rate limit reached on ${where(o)}; ${again ? `retrying in ${after}s` : 'giving up'}`);
      return again;
    },
    onSecondaryRateLimit: (
      after: number,
      o: { method?: string; url?: string },
      _k: unknown,
      count: number,
    ): boolean => {
      const again = count < SECONDARY_RATE_LIMIT_RETRIES;
      log(`GitHub secondary rate limit on ${where(o)}; ${again ? `retrying in ${after}s` : 'giving up'}`);
      return again;
    },
    ...(immediate ? { write: immediateGroup, notifications: immediateGroup, search: immediateGroup } : {}),
  };
  const octokitOptions = {
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, '') } : {}),
    // 5xx and network errors: 3 tries more, waiting 1 s, 4 s, 9 s (0 when immediate).
    retry: {
      retries: SERVER_ERROR_RETRIES,
      doNotRetry: DO_NOT_RETRY,
      retryAfterBaseValue: immediate ? 0 : 1000,
    },
    throttle,
    log: { debug: () => undefined, info: () => undefined, warn: log, error: log },
  };
  return getOctokit(token, octokitOptions as Parameters<typeof getOctokit>[1], retry, throttling);
}

/** What went wrong with a GitHub request, read from an Octokit RequestError or anything else thrown. */
export interface RequestFailure {
  /** HTTP status, or undefined for network and other errors. */
  status?: number;
  /** GitHub's message, e.g. "Resource not accessible by integration". */
  message: string;
  /** True when the failure is a rate limit, which is never a permission problem. */
  rateLimited: boolean;
  /** The request that failed, `METHOD /path`, when the error says. */
  request?: string;
}

/** Reads status, message and rate-limit state out of whatever an Octokit call threw. */
export function requestFailure(err: unknown): RequestFailure {
  const at = (v: unknown, k: string): unknown =>
    typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined;
  const e = { status: at(err, 'status'), message: at(err, 'message'), response: at(err, 'response') };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const dataMessage = at(at(e.response, 'data'), 'message');
  const message =
    typeof dataMessage === 'string' ? dataMessage : typeof e.message === 'string' ? e.message : String(err);
  const remaining = at(at(e.response, 'headers'), 'x-ratelimit-remaining');
  const rateLimited =
    (status === 403 || status === 429) && (String(remaining) === '0' || /rate limit/i.test(message));
  const [method, url] = [at(at(err, 'request'), 'method'), at(at(err, 'request'), 'url')];
  const failure: RequestFailure = { status, message, rateLimited };
  if (typeof url === 'string')
    failure.request = requestLine(typeof method === 'string' ? method : undefined, url);
  return failure;
}

/** A failure for messages: `502 Bad Gateway (GET /repos/o/r/issues/7/comments)`. */
export function describeFailure(f: RequestFailure): string {
  const what = f.status === undefined ? f.message : `${f.status} ${f.message}`;
  return f.request ? `${what} (${f.request})` : what;
}

/** True for failures that mean "this token may not do that here" (fork PRs, missing permissions), not outages. */
export function isPermissionFailure(f: RequestFailure): boolean {
  return (f.status === 403 || f.status === 404) && !f.rateLimited;
}

/** The login GITHUB_TOKEN writes as. */
export const GITHUB_ACTIONS_LOGIN = 'github-actions[bot]';

/**
 * Whether `user` is the workflow's own token (`own`, default {@link GITHUB_ACTIONS_LOGIN}): the
 * same login, and a Bot when the login is a `[bot]` one — a user cannot name themselves that, but
 * the type is checked all the same. What site-deploy reads back as its own (review comments,
 * deployments and their statuses) must pass this: anyone else's is ignored, however it looks.
 */
export function writtenByOwnToken(
  user: { login?: string; type?: string } | null | undefined,
  own: string = GITHUB_ACTIONS_LOGIN,
): boolean {
  const me = own.toLowerCase();
  return user?.login?.toLowerCase() === me && (!me.endsWith('[bot]') || user.type === 'Bot');
}
