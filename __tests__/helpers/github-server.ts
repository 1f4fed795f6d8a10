// A local stand-in for the GitHub REST API, for running the bundled action against a real HTTP
// server (GITHUB_API_URL=<url>) instead of nock, which cannot reach into a child process.
//
// Every request is recorded and checked against GitHub's OpenAPI description (`validateRequest`):
// an invalid one gets a 422 like GitHub's and lands in `problems`, which a test asserts empty.
// Implemented, with realistic JSON (ids, node ids, html_url): list issue comments (paginated with
// a Link header), create and update an issue comment, create and update a check run. Anything
// else GitHub documents gets a 404 and is recorded as a problem too ("not implemented here").
//
// Faults: `inject` answers chosen requests with a canned status; `failNext` answers the next N
// requests the way GitHub does when it is down (5xx) or applies a secondary rate limit (403/429,
// "You have exceeded a secondary rate limit…", `retry-after`). Arrival times are recorded, so a
// test can tell how long a client waited before retrying.
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateRequest } from './openapi.js';

/** One request the server received. */
export interface GitHubRequest {
  method: string;
  /** Path below the API root, with the query string. */
  path: string;
  headers: Record<string, string>;
  /** The raw request body ('' when none). */
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  /** The status the server answered. */
  status: number;
  /** What `validateRequest` found wrong (empty: GitHub would accept its form). */
  problems: string[];
  /** When the request arrived (Date.now()). */
  receivedAt: number;
  /** Set when a `failNext` or `inject` fault answered it instead of the stand-in's handlers. */
  fault?: 'server-error' | 'secondary-rate-limit' | 'injected';
}

/** An issue comment as the server keeps it. */
export interface StoredComment {
  id: number;
  issue: number;
  owner: string;
  repo: string;
  body: string;
  userType: 'Bot' | 'User';
  login: string;
  created_at: string;
  updated_at: string;
  /** How many times PATCH changed it. */
  updates: number;
}

/** A check run as the server keeps it: the fields of the create call, merged with each update. */
export interface StoredCheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  details_url: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: unknown[];
  /** Every state the run went through: `status` or `status/conclusion`, in order. */
  history: string[];
}

/** A canned failure for the next matching request(s). */
export interface Injected {
  method: string;
  /** Matched against the path below the API root, query included. */
  path: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many requests it answers; default 1. */
  times?: number;
}

/** How {@link GitHubServer.failNext} fails requests. */
export interface FailOptions {
  /** 5xx: a server error; 403 or 429 with `secondary: true`: a secondary rate limit. */
  status: number;
  /** Answer with GitHub's secondary rate limit message (status 403 or 429). */
  secondary?: boolean;
  /** Seconds, sent as the `retry-after` header. */
  retryAfter?: number;
  /** Only requests with this method (default: any). */
  method?: string;
  /** Only requests whose path (below the API root, query included) matches (default: any). */
  path?: RegExp;
}

/** GitHub's secondary rate limit message (REST API docs, "About secondary rate limits"). */
export const SECONDARY_RATE_LIMIT_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
  'If you reach out to GitHub Support for help, please include the request ID E2E:0000:0000.';

/** A running stand-in. */
export interface GitHubServer {
  /** API root for GITHUB_API_URL (no trailing slash). */
  url: string;
  /** The token requests must carry (`Authorization: token …` or `Bearer …`). */
  token: string;
  /** Every request, in order. */
  requests: GitHubRequest[];
  /** Every problem: invalid requests, unimplemented operations, wrong or missing authorization. */
  problems: string[];
  comments: Map<number, StoredComment>;
  checkRuns: Map<number, StoredCheckRun>;
  /** The comments of one issue, oldest first. */
  commentsOn(issue: number): StoredComment[];
  /** Puts a comment on an issue as if someone had written it (for pagination and marker tests). */
  seedComment(
    issue: number,
    body: string,
    who?: { login?: string; type?: 'Bot' | 'User'; owner?: string; repo?: string },
  ): StoredComment;
  /** Answers the next matching request(s) with this status and body (after validating them). */
  inject(i: Injected): void;
  /**
   * Answers the next `n` requests (matching `method`/`path` when given; after validating them) with
   * a GitHub server error or a secondary rate limit; `n` may be Infinity.
   */
  failNext(n: number, options: FailOptions): void;
  /** Requests whose method matches and whose path matches `path`. */
  find(method: string, path: RegExp): GitHubRequest[];
  /** Forgets requests, problems, comments, check runs, injections and pending failures. */
  reset(): void;
  stop(): Promise<void>;
}

/** Options of {@link startGitHubServer}. */
export interface GitHubServerOptions {
  /** The token the server accepts; default a fixed fake installation token. */
  token?: string;
  /** Page size when a list request gives no per_page; GitHub's default is 30. */
  defaultPerPage?: number;
}

const PAGE_MAX = 100;

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'x-github-request-id': `E2E:${Math.random().toString(16).slice(2, 10).toUpperCase()}`,
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4990',
    'x-ratelimit-used': '10',
    'x-ratelimit-resource': 'core',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

/** Starts the stand-in on 127.0.0.1 at a random port. */
export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const token = options.token ?? 'ghs_e2eFakeInstallationToken0000000000000';
  const defaultPerPage = options.defaultPerPage ?? 30;
  const requests: GitHubRequest[] = [];
  const problems: string[] = [];
  const comments = new Map<number, StoredComment>();
  const checkRuns = new Map<number, StoredCheckRun>();
  let injected: (Injected & { left: number })[] = [];
  let failures: (FailOptions & { left: number })[] = [];
  let nextCommentId = 1_000_000_001;
  let nextCheckId = 20_000_000_001;
  let base = '';

  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

  const commentJson = (c: StoredComment): Record<string, unknown> => ({
    id: c.id,
    node_id: `IC_kwDOE2E${c.id.toString(36)}`,
    url: `${base}/repos/${c.owner}/${c.repo}/issues/comments/${c.id}`,
    html_url: `https://github.com/${c.owner}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
    issue_url: `${base}/repos/${c.owner}/${c.repo}/issues/${c.issue}`,
    body: c.body,
    user: {
      login: c.login,
      id: c.userType === 'Bot' ? 41898282 : 583231,
      node_id: c.userType === 'Bot' ? 'MDM6Qm90NDE4OTgyODI=' : 'MDQ6VXNlcjU4MzIzMQ==',
      type: c.userType,
      site_admin: false,
      html_url: `https://github.com/${c.userType === 'Bot' ? 'apps/github-actions' : c.login}`,
    },
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: c.userType === 'Bot' ? 'NONE' : 'MEMBER',
    performed_via_github_app: null,
  });

  const checkJson = (r: StoredCheckRun): Record<string, unknown> => ({
    id: r.id,
    node_id: `CR_kwDOE2E${r.id.toString(36)}`,
    head_sha: r.head_sha,
    external_id: '',
    url: `${base}/repos/${r.owner}/${r.repo}/check-runs/${r.id}`,
    html_url: `https://github.com/${r.owner}/${r.repo}/runs/${r.id}`,
    details_url: r.details_url,
    status: r.status,
    conclusion: r.conclusion,
    started_at: r.started_at,
    completed_at: r.completed_at,
    output: {
      ...r.output,
      annotations_count: r.annotations.length,
      annotations_url: `${base}/repos/${r.owner}/${r.repo}/check-runs/${r.id}/annotations`,
    },
    name: r.name,
    check_suite: { id: 30_000_000_001 },
    app: { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
    pull_requests: [],
  });

  const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' };

  // One handler per implemented operation; `m` holds the path's captures.
  type Handler = (
    m: RegExpExecArray,
    url: URL,
    body: Record<string, unknown>,
  ) => [number, unknown, Record<string, string>?];
  const routes: { method: string; re: RegExp; handle: Handler }[] = [
    {
      method: 'GET',
      re: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      handle: (m, url) => {
        const [, owner, repo, n] = m as unknown as [string, string, string, string];
        const perPage = Math.min(PAGE_MAX, Number(url.searchParams.get('per_page') ?? defaultPerPage));
        const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
        const all = [...comments.values()].filter(
          (c) => c.owner === owner && c.repo === repo && c.issue === Number(n),
        );
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const slice = all.slice((page - 1) * perPage, page * perPage);
        const link = (p: number): string => {
          const u = new URL(`${base}${url.pathname}`);
          u.searchParams.set('per_page', String(perPage));
          u.searchParams.set('page', String(p));
          return u.toString();
        };
        const rels: string[] = [];
        if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
        if (page > 1) rels.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
        const extra: Record<string, string> = rels.length ? { link: rels.join(', ') } : {};
        return [200, slice.map(commentJson), extra];
      },
    },
    {
      method: 'POST',
      re: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      handle: (m, _url, body) => {
        const [, owner, repo, n] = m as unknown as [string, string, string, string];
        const at = now();
        const c: StoredComment = {
          id: nextCommentId++,
          issue: Number(n),
          owner,
          repo,
          body: String(body.body),
          userType: 'Bot',
          login: 'github-actions[bot]',
          created_at: at,
          updated_at: at,
          updates: 0,
        };
        comments.set(c.id, c);
        return [201, commentJson(c), { location: `${base}/repos/${owner}/${repo}/issues/comments/${c.id}` }];
      },
    },
    {
      method: 'PATCH',
      re: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/,
      handle: (m, _url, body) => {
        const [, owner, repo, id] = m as unknown as [string, string, string, string];
        const c = comments.get(Number(id));
        if (!c || c.owner !== owner || c.repo !== repo) return [404, notFound];
        c.body = String(body.body);
        c.updated_at = now();
        c.updates++;
        return [200, commentJson(c)];
      },
    },
    {
      method: 'POST',
      re: /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/,
      handle: (m, _url, body) => {
        const [, owner, repo] = m as unknown as [string, string, string];
        const status = typeof body.status === 'string' ? body.status : 'queued';
        const out = (body.output ?? {}) as Record<string, unknown>;
        const r: StoredCheckRun = {
          id: nextCheckId++,
          owner,
          repo,
          name: String(body.name),
          head_sha: String(body.head_sha),
          status,
          conclusion: typeof body.conclusion === 'string' ? body.conclusion : null,
          started_at: typeof body.started_at === 'string' ? body.started_at : now(),
          completed_at: typeof body.completed_at === 'string' ? body.completed_at : null,
          details_url: typeof body.details_url === 'string' ? body.details_url : null,
          output: {
            title: (out.title as string | undefined) ?? null,
            summary: (out.summary as string | undefined) ?? null,
            text: (out.text as string | undefined) ?? null,
          },
          annotations: Array.isArray(out.annotations) ? [...(out.annotations as unknown[])] : [],
          history: [],
        };
        if (r.conclusion) r.status = 'completed';
        r.history.push(r.conclusion ? `${r.status}/${r.conclusion}` : r.status);
        checkRuns.set(r.id, r);
        return [201, checkJson(r)];
      },
    },
    {
      method: 'PATCH',
      re: /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/,
      handle: (m, _url, body) => {
        const [, owner, repo, id] = m as unknown as [string, string, string, string];
        const r = checkRuns.get(Number(id));
        if (!r || r.owner !== owner || r.repo !== repo) return [404, notFound];
        if (typeof body.name === 'string') r.name = body.name;
        if (typeof body.details_url === 'string') r.details_url = body.details_url;
        if (typeof body.started_at === 'string') r.started_at = body.started_at;
        if (typeof body.status === 'string') r.status = body.status;
        if (typeof body.conclusion === 'string') {
          r.conclusion = body.conclusion;
          r.status = 'completed';
        }
        if (typeof body.completed_at === 'string') r.completed_at = body.completed_at;
        const out = body.output as Record<string, unknown> | undefined;
        if (out) {
          if (typeof out.title === 'string') r.output.title = out.title;
          if (typeof out.summary === 'string') r.output.summary = out.summary;
          if (typeof out.text === 'string') r.output.text = out.text;
          if (Array.isArray(out.annotations)) r.annotations.push(...(out.annotations as unknown[]));
        }
        const state = r.conclusion ? `${r.status}/${r.conclusion}` : r.status;
        if (r.history[r.history.length - 1] !== state) r.history.push(state);
        return [200, checkJson(r)];
      },
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = Date.now();
    const text = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname + url.search;
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    let parsed: unknown;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    const record: GitHubRequest = { method, path, headers, body: text, status: 0, problems: [], receivedAt };
    if (parsed !== undefined) record.json = parsed;
    requests.push(record);
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      record.status = status;
      json(res, status, body, extra);
    };

    const auth = headers['authorization'] ?? '';
    if (auth !== `token ${token}` && auth !== `Bearer ${token}`) {
      const p = `${method} ${path}: ${auth ? 'wrong' : 'no'} Authorization header`;
      record.problems.push(p);
      problems.push(p);
      answer(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    const found = validateRequest(method, path, text === '' ? undefined : text);
    if (found.length) {
      record.problems.push(...found);
      problems.push(...found);
      answer(422, {
        message: 'Validation Failed (OpenAPI harness)',
        errors: found,
        documentation_url: 'https://docs.github.com/rest',
      });
      return;
    }
    const failure = failures.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.path === undefined || f.path.test(path)),
    );
    if (failure) {
      failure.left--;
      const extra: Record<string, string> =
        failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) };
      if (failure.secondary) {
        record.fault = 'secondary-rate-limit';
        answer(
          failure.status,
          {
            message: SECONDARY_RATE_LIMIT_MESSAGE,
            documentation_url:
              'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits',
            status: String(failure.status),
          },
          extra,
        );
      } else {
        record.fault = 'server-error';
        answer(failure.status, { message: STATUS_CODES[failure.status] ?? 'Server Error' }, extra);
      }
      return;
    }
    const inj = injected.find((i) => i.method.toUpperCase() === method && i.path.test(path) && i.left > 0);
    if (inj) {
      inj.left--;
      record.fault = 'injected';
      answer(inj.status, inj.body ?? { message: 'Injected failure' }, inj.headers ?? {});
      return;
    }
    for (const r of routes) {
      if (r.method !== method) continue;
      const m = r.re.exec(url.pathname);
      if (!m) continue;
      const [status, body, extra] = r.handle(m, url, (parsed ?? {}) as Record<string, unknown>);
      answer(status, body, extra ?? {});
      return;
    }
    const p = `${method} ${path}: a documented operation this stand-in does not implement`;
    record.problems.push(p);
    problems.push(p);
    answer(404, notFound);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      problems.push(`stand-in crashed on ${req.method} ${req.url}: ${String(e)}`);
      if (!res.headersSent) json(res, 500, { message: 'Server Error' });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    token,
    requests,
    problems,
    comments,
    checkRuns,
    commentsOn: (issue) => [...comments.values()].filter((c) => c.issue === issue),
    seedComment(issue, body, who = {}) {
      const at = now();
      const c: StoredComment = {
        id: nextCommentId++,
        issue,
        owner: who.owner ?? 'org',
        repo: who.repo ?? 'repo',
        body,
        userType: who.type ?? 'User',
        login: who.login ?? 'octocat',
        created_at: at,
        updated_at: at,
        updates: 0,
      };
      comments.set(c.id, c);
      return c;
    },
    inject(i) {
      injected.push({ ...i, left: i.times ?? 1 });
    },
    failNext(n, options) {
      if (options.secondary && options.status !== 403 && options.status !== 429)
        throw new Error(`a secondary rate limit is a 403 or 429, not ${options.status}`);
      if (!options.secondary && options.status < 500)
        throw new Error(`failNext answers 5xx or secondary rate limits, not ${options.status}`);
      failures.push({ ...options, left: n });
    },
    find: (method, path) => requests.filter((r) => r.method === method.toUpperCase() && path.test(r.path)),
    reset() {
      requests.length = 0;
      problems.length = 0;
      comments.clear();
      checkRuns.clear();
      injected = [];
      failures = [];
    },
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
