// Fault injection against the GitHub API stand-in (every request validated against GitHub's
// OpenAPI description): server errors and secondary rate limits answered the way GitHub answers
// them. The real client (retry + throttling plugins) and the PR-comment and check-run adapters must
// ride out what is inside their budget — creating the comment or check run exactly once — honour
// `retry-after`, and past the budget stop after a fixed number of attempts with a warning naming
// the request, while the action's feedback layer carries on.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitHubServer, type GitHubServer } from './helpers/github-server.js';
import { startFeedback } from '../src/adapters/action/feedback.js';
import type { ActionIo } from '../src/adapters/action/io.js';
import { completeCheckRun, startCheckRun } from '../src/adapters/github/check-run.js';
import { createGitHubClient, type GitHub, type Pacing } from '../src/adapters/github/client.js';
import { upsertStickyComment, type StickyComment } from '../src/adapters/github/pr-comment.js';
import { Redactor } from '../src/core/redact.js';

const MARKER = '<!-- site-deploy:portal:production -->';
const COMMENTS = '/repos/org/repo/issues/7/comments';
const CHECK_RUNS = '/repos/org/repo/check-runs';
const SHA = 'c0ffee'.repeat(6) + 'c0ff';
/** 5xx: the first try and 3 retries (client.ts, plugin-retry). */
const SERVER_ERROR_ATTEMPTS = 4;
/** Secondary rate limit: the first try and 1 retry (client.ts, onSecondaryRateLimit). */
const SECONDARY_ATTEMPTS = 2;

let server: GitHubServer;
let logs: string[] = [];

beforeAll(async () => {
  server = await startGitHubServer();
});

afterAll(async () => {
  await server?.stop();
});

beforeEach(() => {
  server.reset();
  logs = [];
});

function client(pacing: Pacing = 'immediate'): GitHub {
  return createGitHubClient(server.token, { baseUrl: server.url, pacing, log: (m) => void logs.push(m) });
}

const comment: StickyComment = {
  owner: 'org',
  repo: 'repo',
  issueNumber: 7,
  marker: MARKER,
  body: '## site-deploy plan\n\n2 to add',
};

/** `METHOD /path status` of every request the stand-in answered, in order. */
const trail = (): string[] => server.requests.map((r) => `${r.method} ${r.path.split('?')[0]} ${r.status}`);

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof Error)) throw new Error(`expected a rejection, got ${String(e)}`);
  return e;
}

describe('server errors inside the retry budget', () => {
  test.each([
    ['on the first 2 requests (reading comments)', undefined, ['GET 502', 'GET 502', 'GET 200', 'POST 201']],
    ['on the first 2 creates', 'POST', ['GET 200', 'POST 502', 'POST 502', 'POST 201']],
  ])('502 %s: the comment is created exactly once', async (_name, method, expected) => {
    server.failNext(2, { status: 502, ...(method ? { method } : {}) });

    const result = await upsertStickyComment(client(), comment);

    expect(result.action).toBe('created');
    const stored = server.commentsOn(7);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.body).toBe(`${MARKER}\n${comment.body}`);
    expect(result.id).toBe(stored[0]!.id);
    expect(server.requests.map((r) => `${r.method} ${r.status}`)).toEqual(expected);
    expect(server.problems).toEqual([]);
  });

  test('502 on the first 2 requests: the check run is created exactly once, and 503s on completion are ridden out', async () => {
    const gh = client();
    server.failNext(2, { status: 502 });
    const started = await startCheckRun(gh, {
      owner: 'org',
      repo: 'repo',
      name: 'site-deploy / portal / production',
      headSha: SHA,
    });
    expect('id' in started).toBe(true);
    expect(server.checkRuns.size).toBe(1);
    const id = [...server.checkRuns.keys()][0]!;
    expect(started).toMatchObject({ id });

    server.failNext(2, { status: 503, method: 'PATCH' });
    const done = await completeCheckRun(gh, {
      owner: 'org',
      repo: 'repo',
      id,
      conclusion: 'success',
      title: 'plan: 2 to add',
      summary: '2 to add',
      annotations: [],
    });

    expect(done).toEqual({ annotations: 0 });
    expect(server.checkRuns.size).toBe(1);
    expect(server.checkRuns.get(id)!.history).toEqual(['in_progress', 'completed/success']);
    expect(trail()).toEqual([
      `POST ${CHECK_RUNS} 502`,
      `POST ${CHECK_RUNS} 502`,
      `POST ${CHECK_RUNS} 201`,
      `PATCH ${CHECK_RUNS}/${id} 503`,
      `PATCH ${CHECK_RUNS}/${id} 503`,
      `PATCH ${CHECK_RUNS}/${id} 200`,
    ]);
    expect(server.problems).toEqual([]);
  });
});

describe('a secondary rate limit with retry-after: 1 (real pacing)', () => {
  test.each([403, 429])('%s: retried once, after the wait GitHub asked for', async (status) => {
    server.failNext(1, { status, secondary: true, retryAfter: 1 });

    const result = await upsertStickyComment(client('github'), comment);

    expect(result.action).toBe('created');
    expect(server.commentsOn(7)).toHaveLength(1);
    expect(trail()).toEqual([`GET ${COMMENTS} ${status}`, `GET ${COMMENTS} 200`, `POST ${COMMENTS} 201`]);
    const [limited, retry] = server.requests;
    expect(retry!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(900);
    expect(logs).toEqual([`GitHub secondary rate limit on GET ${COMMENTS}; retrying in 1s`]);
  });
});

describe('past the retry budget: a fixed number of attempts, then a message naming the request', () => {
  test('502 forever on reading comments: 4 attempts, then an error naming GET and the path and 502', async () => {
    server.failNext(Infinity, { status: 502 });

    const e = await rejection(upsertStickyComment(client(), comment));

    expect(trail()).toEqual(Array<string>(SERVER_ERROR_ATTEMPTS).fill(`GET ${COMMENTS} 502`));
    expect(e.message).toContain(`GET ${COMMENTS}`);
    expect(e.message).toMatch(/\b502\b/);
    expect(e.message).toContain('org/repo#7');
    expect(e.message).not.toContain(server.token);
    expect(server.commentsOn(7)).toEqual([]);
  });

  test('502 forever on creating the comment: 4 creates, none stored, the error names POST and the path', async () => {
    server.failNext(Infinity, { status: 502, method: 'POST' });

    const e = await rejection(upsertStickyComment(client(), comment));

    expect(trail()).toEqual([
      `GET ${COMMENTS} 200`,
      ...Array<string>(SERVER_ERROR_ATTEMPTS).fill(`POST ${COMMENTS} 502`),
    ]);
    expect(e.message).toContain(`POST ${COMMENTS}`);
    expect(e.message).toMatch(/\b502\b/);
    expect(server.commentsOn(7)).toEqual([]);
  });

  test('503 forever on the check run: 4 creates, then an error naming POST, the path and 503', async () => {
    server.failNext(Infinity, { status: 503 });

    const e = await rejection(
      startCheckRun(client(), {
        owner: 'org',
        repo: 'repo',
        name: 'site-deploy / portal / production',
        headSha: SHA,
      }),
    );

    expect(trail()).toEqual(Array<string>(SERVER_ERROR_ATTEMPTS).fill(`POST ${CHECK_RUNS} 503`));
    expect(e.message).toContain(`POST ${CHECK_RUNS}`);
    expect(e.message).toMatch(/\b503\b/);
    expect(server.checkRuns.size).toBe(0);
  });

  test.each([403, 429])(
    'secondary rate limit (%s) on every request: 2 attempts, then an error naming GET, the path and the status',
    async (status) => {
      server.failNext(Infinity, { status, secondary: true, retryAfter: 1 });

      const e = await rejection(upsertStickyComment(client(), comment));

      expect(trail()).toEqual(Array<string>(SECONDARY_ATTEMPTS).fill(`GET ${COMMENTS} ${status}`));
      expect(e.message).toContain(`GET ${COMMENTS}`);
      expect(e.message).toContain(`${status} You have exceeded a secondary rate limit`);
      expect(logs).toEqual([
        `GitHub secondary rate limit on GET ${COMMENTS}; retrying in 1s`,
        `GitHub secondary rate limit on GET ${COMMENTS}; giving up`,
      ]);
    },
  );
});

describe("the action's feedback layer past the budget (real pacing)", () => {
  const saved = { ...process.env };
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sd-faults-gh-'));
  });
  afterAll(() => {
    // Restore in place: process.env is special (it reaches child processes); a plain object is not.
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  });

  /** What the action writes, with warnings and errors kept apart. */
  function recordingIo(): ActionIo & { warnings: string[]; errors: string[] } {
    const warnings: string[] = [];
    const errors: string[] = [];
    return {
      warnings,
      errors,
      redactor: new Redactor(),
      engine: { startGroup: () => {}, endGroup: () => {}, write: () => {} },
      info: () => {},
      warning: (m) => void warnings.push(m),
      error: (m) => void errors.push(m),
      setOutput: () => {},
      summary: async () => {},
      setFailed: (m) => void errors.push(m),
    };
  }

  test('a secondary rate limit that never lifts: the check run and the comment each give up after 2 attempts with a warning; nothing throws', async () => {
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ pull_request: { number: 7, head: { sha: SHA } } }));
    Object.assign(process.env, {
      GITHUB_REPOSITORY: 'org/repo',
      GITHUB_EVENT_PATH: event,
      GITHUB_API_URL: server.url,
      GITHUB_SHA: 'f'.repeat(40),
    });
    server.failNext(Infinity, { status: 403, secondary: true, retryAfter: 1 });
    const io = recordingIo();

    const feedback = await startFeedback(io, server.token, 'portal', 'production', true);
    await feedback.complete('success', 'plan', '2 to add', []);
    await feedback.comment(MARKER, '## site-deploy plan');

    expect(trail()).toEqual([
      ...Array<string>(SECONDARY_ATTEMPTS).fill(`POST ${CHECK_RUNS} 403`),
      ...Array<string>(SECONDARY_ATTEMPTS).fill(`GET ${COMMENTS} 403`),
    ]);
    const checkWarning = io.warnings.find((w) => w.startsWith('no check run:'));
    expect(checkWarning).toContain(`POST ${CHECK_RUNS}`);
    expect(checkWarning).toContain('403 You have exceeded a secondary rate limit');
    const commentWarning = io.warnings.find((w) => w.startsWith('no pull-request comment'));
    expect(commentWarning).toContain(`GET ${COMMENTS}`);
    expect(commentWarning).toContain('403 You have exceeded a secondary rate limit');
    expect(commentWarning).toContain('the report is in the job summary');
    expect(io.errors).toEqual([]);
    expect(server.checkRuns.size).toBe(0);
    expect(server.commentsOn(7)).toEqual([]);
  });
});
