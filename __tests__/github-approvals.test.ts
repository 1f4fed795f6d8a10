import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import nock from 'nock';
import { runApproval } from '../src/adapters/github/approvals.js';
import { createGitHubClient } from '../src/adapters/github/client.js';
import { githubApi } from './helpers/openapi.js';

// require_mfa's proof of a human approval: the run's review history, read back from GitHub.
const APPROVALS = '/repos/acme/portal/actions/runs/4242/approvals';
const ask = { owner: 'acme', repo: 'portal', runId: 4242, environment: 'production', actor: 'octocat' };
const review = (state: 'approved' | 'rejected', login: string, env = 'production') => ({
  state,
  comment: '',
  environments: [{ id: 1, node_id: 'E_1', name: env, url: '', html_url: '', created_at: '', updated_at: '' }],
  user: { login, id: 2, type: 'User' },
});
const client = () =>
  createGitHubClient('ghs_token', { baseUrl: 'https://api.github.com', pacing: 'immediate' });

beforeAll(() => {
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
});
afterEach(() => nock.cleanAll());
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

test.each([
  ['approved by a reviewer', [review('approved', 'reviewer')], true, /approved by reviewer/],
  [
    "approved only by the run's own actor",
    [review('approved', 'octocat')],
    false,
    /only by its own actor octocat/,
  ],
  [
    'approved, but for another environment',
    [review('approved', 'reviewer', 'staging')],
    false,
    /no approved review for environment production/,
  ],
  [
    'rejected by a reviewer',
    [review('approved', 'a'), review('rejected', 'b')],
    false,
    /rejected for environment production by b/,
  ],
  [
    'no reviews at all',
    [],
    false,
    /no approved review for environment production: give the GitHub environment required reviewers/,
  ],
])('%s', async (_name, reviews, approved, detail) => {
  const api = githubApi();
  api.intercept('GET', APPROVALS).reply(200, reviews);
  const r = await runApproval(client(), ask);
  api.done();
  expect(r.approved).toBe(approved);
  expect(r.detail).toMatch(detail);
});

test('a token that cannot read the run fails closed with the permission to add', async () => {
  const api = githubApi();
  api.intercept('GET', APPROVALS).reply(403, { message: 'Resource not accessible by integration' });
  const r = await runApproval(client(), ask);
  api.done();
  expect(r).toEqual({
    approved: false,
    detail: expect.stringMatching(
      /could not read the approvals of run 4242 \(403: .*\); the token needs actions: read/,
    ),
  });
});
