// A local stand-in for the GitHub REST API, for running the bundled action against a real HTTP
// server (GITHUB_API_URL=<url>) instead of nock, which cannot reach into a child process.
//
// Every request is recorded and checked against GitHub's OpenAPI description (`validateRequest`):
// an invalid one gets a 422 like GitHub's and lands in `problems`, which a test asserts empty.
// Implemented, with realistic JSON (ids, node ids, html_url): list issue comments (paginated with
// a Link header), create and update an issue comment, create and update a check run; the pull
// requests associated with a commit, answered from a table the test sets (`setCommitPulls`);
// deployments and their statuses (create, list newest first with filters and pagination, get),
// kept in memory, with GitHub's `auto_inactive` and `log_url` rules. Anything else GitHub
// documents gets a 404 and is recorded as a problem too ("not implemented here").
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
  /** The app that wrote it; default the workflow token's app, `github-actions`. */
  app?: { id: number; slug: string; name: string };
}

/** A pull request associated with a commit, as a test declares it (see `setCommitPulls`). */
export interface CommitPull {
  number: number;
  head_sha: string;
  /** Default: the head sha for a merged pull request, else null. */
  merge_commit_sha?: string | null;
  /** Default `closed` when `merged_at` is set, else `open`. */
  state?: 'open' | 'closed';
  merged_at?: string | null;
  /** Default `main`. */
  base_ref?: string;
  /** Default `feature-<number>`. */
  head_ref?: string;
  /** Default `Change <number>`. */
  title?: string;
}

/** A deployment status as the server keeps it. */
export interface StoredDeploymentStatus {
  id: number;
  state: string;
  description: string;
  environment: string;
  target_url: string;
  log_url: string;
  environment_url: string;
  created_at: string;
}

/** A deployment as the server keeps it, with its statuses oldest first. */
export interface StoredDeployment {
  id: number;
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  task: string;
  payload: unknown;
  environment: string;
  original_environment: string;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  created_at: string;
  updated_at: string;
  statuses: StoredDeploymentStatus[];
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
  /** Deployments by id, each with its statuses. */
  deployments: Map<number, StoredDeployment>;
  /** Sets the pull requests `GET /repos/{o}/{r}/commits/{sha}/pulls` answers for a commit (any repository). */
  setCommitPulls(sha: string, pulls: CommitPull[]): void;
  /** Makes a branch or tag name resolve to a commit when a deployment names it as its ref. */
  setRef(ref: string, sha: string): void;
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
  /** Forgets requests, problems, comments, check runs, deployments, commit pulls, refs, injections and pending failures. */
  reset(): void;
  stop(): Promise<void>;
}

/** Options of {@link startGitHubServer}. */
export interface GitHubServerOptions {
  /** The token the server accepts; default a fixed fake installation token. */
  token?: string;
  /** Page size when a list request gives no per_page; GitHub's default is 30. */
  defaultPerPage?: number;
  /** The login the token writes as (a Bot); default `github-actions[bot]`, a GitHub App's `<slug>[bot]`. */
  login?: string;
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
  const deployments = new Map<number, StoredDeployment>();
  const commitPulls = new Map<string, CommitPull[]>();
  const refs = new Map<string, string>();
  let nextDeploymentId = 1_500_000_001;
  let nextDeploymentStatusId = 3_000_000_001;

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
    // The token's app: `github-actions` for a workflow's token, `<slug>` for a `<slug>[bot]` login.
    app: r.app ?? {
      id: 15368,
      slug: (options.login ?? 'github-actions[bot]').replace(/\[bot\]$/, ''),
      name: 'GitHub Actions',
    },
    pull_requests: [],
  });

  const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' };

  // One page of a list, with GitHub's Link header (for the operations added after comments).
  const pageOf = <T>(url: URL, all: T[]): [T[], Record<string, string>] => {
    const perPage = Math.min(PAGE_MAX, Number(url.searchParams.get('per_page') ?? defaultPerPage));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number): string => {
      const u = new URL(`${base}${url.pathname}${url.search}`);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(p));
      return u.toString();
    };
    const rels: string[] = [];
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
    return [all.slice((page - 1) * perPage, page * perPage), rels.length ? { link: rels.join(', ') } : {}];
  };

  const botUser = {
    login: options.login ?? 'github-actions[bot]',
    id: 41898282,
    node_id: 'MDM6Qm90NDE4OTgyODI=',
    avatar_url: 'https://avatars.githubusercontent.com/in/15368?v=4',
    gravatar_id: '',
    url: 'https://api.github.com/users/github-actions%5Bbot%5D',
    html_url: 'https://github.com/apps/github-actions',
    type: 'Bot',
    site_admin: false,
  };
  const personUser = (login: string): Record<string, unknown> => ({
    login,
    id: 583231,
    node_id: 'MDQ6VXNlcjU4MzIzMQ==',
    avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4',
    gravatar_id: '',
    url: `https://api.github.com/users/${login}`,
    html_url: `https://github.com/${login}`,
    type: 'User',
    site_admin: false,
  });
  const repoJson = (owner: string, repo: string): Record<string, unknown> => ({
    id: 700_000_001,
    node_id: 'R_kgDOE2E0001',
    name: repo,
    full_name: `${owner}/${repo}`,
    private: true,
    owner: { ...personUser(owner), type: 'Organization' },
    html_url: `https://github.com/${owner}/${repo}`,
    description: null,
    fork: false,
    url: `${base}/repos/${owner}/${repo}`,
    default_branch: 'main',
    visibility: 'private',
  });

  const pullJson = (owner: string, repo: string, p: CommitPull): Record<string, unknown> => {
    const merged_at = p.merged_at ?? null;
    const created = '2025-01-06T09:00:00Z';
    const api = `${base}/repos/${owner}/${repo}`;
    const web = `https://github.com/${owner}/${repo}`;
    const head_ref = p.head_ref ?? `feature-${p.number}`;
    const base_ref = p.base_ref ?? 'main';
    const state = p.state ?? (merged_at ? 'closed' : 'open');
    return {
      url: `${api}/pulls/${p.number}`,
      id: 2_000_000_000 + p.number,
      node_id: `PR_kwDOE2E${p.number.toString(36)}`,
      html_url: `${web}/pull/${p.number}`,
      diff_url: `${web}/pull/${p.number}.diff`,
      patch_url: `${web}/pull/${p.number}.patch`,
      issue_url: `${api}/issues/${p.number}`,
      commits_url: `${api}/pulls/${p.number}/commits`,
      review_comments_url: `${api}/pulls/${p.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${p.number}/comments`,
      statuses_url: `${api}/statuses/${p.head_sha}`,
      number: p.number,
      state,
      locked: false,
      title: p.title ?? `Change ${p.number}`,
      user: personUser('octocat'),
      body: null,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: created,
      updated_at: merged_at ?? created,
      closed_at: state === 'closed' ? (merged_at ?? created) : null,
      merged_at,
      merge_commit_sha: p.merge_commit_sha !== undefined ? p.merge_commit_sha : merged_at ? p.head_sha : null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: {
        label: `${owner}:${head_ref}`,
        ref: head_ref,
        sha: p.head_sha,
        user: personUser(owner),
        repo: repoJson(owner, repo),
      },
      base: {
        label: `${owner}:${base_ref}`,
        ref: base_ref,
        sha: '0'.repeat(40),
        user: personUser(owner),
        repo: repoJson(owner, repo),
      },
      _links: {
        self: { href: `${api}/pulls/${p.number}` },
        html: { href: `${web}/pull/${p.number}` },
        issue: { href: `${api}/issues/${p.number}` },
        comments: { href: `${api}/issues/${p.number}/comments` },
        review_comments: { href: `${api}/pulls/${p.number}/comments` },
        review_comment: { href: `${api}/pulls/comments{/number}` },
        commits: { href: `${api}/pulls/${p.number}/commits` },
        statuses: { href: `${api}/statuses/${p.head_sha}` },
      },
      author_association: 'MEMBER',
      auto_merge: null,
      draft: false,
    };
  };

  const deploymentJson = (d: StoredDeployment): Record<string, unknown> => ({
    url: `${base}/repos/${d.owner}/${d.repo}/deployments/${d.id}`,
    id: d.id,
    node_id: `DE_kwDOE2E${d.id.toString(36)}`,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.original_environment,
    environment: d.environment,
    description: d.description,
    creator: botUser,
    created_at: d.created_at,
    updated_at: d.updated_at,
    statuses_url: `${base}/repos/${d.owner}/${d.repo}/deployments/${d.id}/statuses`,
    repository_url: `${base}/repos/${d.owner}/${d.repo}`,
    transient_environment: d.transient_environment,
    production_environment: d.production_environment,
    performed_via_github_app: null,
  });

  const statusJson = (d: StoredDeployment, st: StoredDeploymentStatus): Record<string, unknown> => ({
    url: `${base}/repos/${d.owner}/${d.repo}/deployments/${d.id}/statuses/${st.id}`,
    id: st.id,
    node_id: `DES_kwDOE2E${st.id.toString(36)}`,
    state: st.state,
    creator: botUser,
    description: st.description,
    environment: st.environment,
    target_url: st.target_url,
    created_at: st.created_at,
    updated_at: st.created_at,
    deployment_url: `${base}/repos/${d.owner}/${d.repo}/deployments/${d.id}`,
    repository_url: `${base}/repos/${d.owner}/${d.repo}`,
    environment_url: st.environment_url,
    log_url: st.log_url,
    performed_via_github_app: null,
  });

  const deploymentOf = (owner: string, repo: string, id: string): StoredDeployment | undefined => {
    const d = deployments.get(Number(id));
    return d && d.owner === owner && d.repo === repo ? d : undefined;
  };
  const validationFailed = (
    message: string,
    field: string,
    resource = 'DeploymentStatus',
  ): [number, unknown] => [
    422,
    {
      message: 'Validation Failed',
      errors: [{ resource, code: 'custom', field, message }],
      documentation_url: 'https://docs.github.com/rest',
    },
  ];

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
          login: botUser.login,
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
      method: 'GET',
      re: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/,
      handle: (m, url) => {
        const [, owner, repo, ref] = m as unknown as [string, string, string, string];
        const name = url.searchParams.get('check_name');
        const all = [...checkRuns.values()]
          .filter((r) => r.owner === owner && r.repo === repo && r.head_sha === ref.toLowerCase())
          .filter((r) => name === null || r.name === name)
          .sort((a, b) => b.id - a.id)
          .map(checkJson);
        const [slice, extra] = pageOf(url, all);
        return [200, { total_count: all.length, check_runs: slice }, extra];
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
    {
      method: 'GET',
      re: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/pulls$/,
      handle: (m, url) => {
        const [, owner, repo, sha] = m as unknown as [string, string, string, string];
        const all = (commitPulls.get(sha.toLowerCase()) ?? []).map((p) => pullJson(owner, repo, p));
        const [slice, extra] = pageOf(url, all);
        return [200, slice, extra];
      },
    },
    {
      method: 'POST',
      re: /^\/repos\/([^/]+)\/([^/]+)\/deployments$/,
      handle: (m, _url, body) => {
        const [, owner, repo] = m as unknown as [string, string, string];
        const ref = String(body.ref);
        const sha = /^[0-9a-f]{40}$/i.test(ref)
          ? ref.toLowerCase()
          : refs.get(ref.replace(/^refs\/(heads|tags)\//, '').replace(/^(heads|tags)\//, ''));
        if (sha === undefined) {
          return [
            422,
            { message: `No ref found for: ${ref}`, documentation_url: 'https://docs.github.com/rest' },
          ];
        }
        const environment = typeof body.environment === 'string' ? body.environment : 'production';
        const at = now();
        const d: StoredDeployment = {
          id: nextDeploymentId++,
          owner,
          repo,
          sha,
          ref,
          task: typeof body.task === 'string' ? body.task : 'deploy',
          payload: body.payload === undefined || body.payload === '' ? {} : body.payload,
          environment,
          original_environment: environment,
          description: typeof body.description === 'string' ? body.description : null,
          transient_environment: body.transient_environment === true,
          production_environment:
            typeof body.production_environment === 'boolean'
              ? body.production_environment
              : environment === 'production',
          created_at: at,
          updated_at: at,
          statuses: [],
        };
        deployments.set(d.id, d);
        return [201, deploymentJson(d)];
      },
    },
    {
      method: 'GET',
      re: /^\/repos\/([^/]+)\/([^/]+)\/deployments$/,
      handle: (m, url) => {
        const [, owner, repo] = m as unknown as [string, string, string];
        const q = (k: string): string | null => url.searchParams.get(k);
        const all = [...deployments.values()]
          .filter((d) => d.owner === owner && d.repo === repo)
          .filter((d) => q('environment') === null || d.environment === q('environment'))
          .filter((d) => q('sha') === null || d.sha === q('sha'))
          .filter((d) => q('ref') === null || d.ref === q('ref'))
          .filter((d) => q('task') === null || d.task === q('task'))
          .sort((a, b) => b.id - a.id)
          .map(deploymentJson);
        const [slice, extra] = pageOf(url, all);
        return [200, slice, extra];
      },
    },
    {
      method: 'GET',
      re: /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)$/,
      handle: (m) => {
        const [, owner, repo, id] = m as unknown as [string, string, string, string];
        const d = deploymentOf(owner, repo, id);
        return d ? [200, deploymentJson(d)] : [404, notFound];
      },
    },
    {
      method: 'POST',
      re: /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/,
      handle: (m, _url, body) => {
        const [, owner, repo, id] = m as unknown as [string, string, string, string];
        const d = deploymentOf(owner, repo, id);
        if (!d) return [404, notFound];
        const description = typeof body.description === 'string' ? body.description : '';
        if (description.length > 140)
          return validationFailed('description is too long (maximum is 140 characters)', 'description');
        const str = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
        // "Setting log_url will automatically set target_url to the same value."
        const log_url = str('log_url');
        const target_url = log_url !== '' ? log_url : str('target_url');
        if (typeof body.environment === 'string') {
          d.environment = body.environment;
        }
        const at = now();
        const st: StoredDeploymentStatus = {
          id: nextDeploymentStatusId++,
          state: String(body.state),
          description,
          environment: d.environment,
          target_url,
          log_url: log_url !== '' ? log_url : target_url,
          environment_url: str('environment_url'),
          created_at: at,
        };
        d.statuses.push(st);
        d.updated_at = at;
        // auto_inactive (default true): earlier successful deployments of the same environment,
        // neither transient nor production, get an `inactive` status.
        if (st.state === 'success' && body.auto_inactive !== false) {
          for (const other of deployments.values()) {
            if (other.id >= d.id || other.owner !== owner || other.repo !== repo) continue;
            if (
              other.environment !== d.environment ||
              other.transient_environment ||
              other.production_environment
            )
              continue;
            if (other.statuses.at(-1)?.state !== 'success') continue;
            other.statuses.push({
              ...(other.statuses.at(-1) as StoredDeploymentStatus),
              id: nextDeploymentStatusId++,
              state: 'inactive',
              description: '',
              created_at: at,
            });
            other.updated_at = at;
          }
        }
        return [
          201,
          statusJson(d, st),
          { location: `${base}/repos/${owner}/${repo}/deployments/${d.id}/statuses/${st.id}` },
        ];
      },
    },
    {
      method: 'GET',
      re: /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/,
      handle: (m, url) => {
        const [, owner, repo, id] = m as unknown as [string, string, string, string];
        const d = deploymentOf(owner, repo, id);
        if (!d) return [404, notFound];
        const all = [...d.statuses].reverse().map((st) => statusJson(d, st));
        const [slice, extra] = pageOf(url, all);
        return [200, slice, extra];
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
    deployments,
    setCommitPulls(sha, pulls) {
      commitPulls.set(
        sha.toLowerCase(),
        pulls.map((p) => ({ ...p })),
      );
    },
    setRef(ref, sha) {
      refs.set(ref.replace(/^refs\/(heads|tags)\//, ''), sha.toLowerCase());
    },
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
      deployments.clear();
      commitPulls.clear();
      refs.clear();
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
