import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { createGitHubClient, type GitHub } from '../src/adapters/github/client.js';
import { upsertStickyComment } from '../src/adapters/github/pr-comment.js';
import { githubApi, validateRequest } from './helpers/openapi.js';

const TOKEN = 'AKIAPLANTEDSECRET123';
const MARKER = '<!-- site-deploy:client-portal:production -->';
const COMMENTS = '/repos/acme/portal/issues/7/comments';
const FIRST_PAGE = `${COMMENTS}?per_page=100`;
const target = { owner: 'acme', repo: 'portal', issueNumber: 7, marker: MARKER };

function client(): GitHub {
  return createGitHubClient(TOKEN, { baseUrl: 'https://api.github.com', pacing: 'immediate' });
}

function comment(id: number, body: string, type: 'Bot' | 'User' = 'Bot'): Record<string, unknown> {
  return {
    id,
    body,
    html_url: `https://github.com/acme/portal/pull/7#issuecomment-${id}`,
    user: { login: type === 'Bot' ? 'github-actions[bot]' : 'octocat', type },
  };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
// Jest runs several test files in one worker process: nock's interceptors patch Node's own modules,
// so they must be taken out again or the next file's requests meet this file's dead interceptors.
beforeAll(() => {
  if (!nock.isActive()) nock.activate();
});
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe('upsertStickyComment', () => {
  test('creates the comment once when none carries the marker, with the marker on top', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).reply(200, [comment(1, 'LGTM', 'User')]);
    api
      .intercept('POST', COMMENTS, { body: `${MARKER}\n## Plan: 2 to add` })
      .reply(201, comment(500, `${MARKER}\n## Plan: 2 to add`));

    const result = await upsertStickyComment(client(), { ...target, body: '## Plan: 2 to add' });

    expect(result).toEqual({
      action: 'created',
      id: 500,
      url: 'https://github.com/acme/portal/pull/7#issuecomment-500',
    });
    api.done();
    expect(api.scope.isDone()).toBe(true);
  });

  test('updates the bot comment found on page 2 in place, past a person quoting the marker on page 1', async () => {
    const api = githubApi();
    const page1 = Array.from({ length: 99 }, (_, i) => comment(i + 1, `chatter ${i}`, 'User'));
    page1.push(comment(100, `as the bot said:\n${MARKER}`, 'User'));
    api.intercept('GET', FIRST_PAGE).reply(200, page1, {
      link: `<https://api.github.com${COMMENTS}?per_page=100&page=2>; rel="next", <https://api.github.com${COMMENTS}?per_page=100&page=2>; rel="last"`,
    });
    api
      .intercept('GET', `${COMMENTS}?per_page=100&page=2`)
      .reply(200, [comment(101, 'hi', 'User'), comment(777, `${MARKER}\nold plan`)]);
    api
      .intercept('PATCH', '/repos/acme/portal/issues/comments/777', { body: `${MARKER}\nnew plan` })
      .reply(200, comment(777, `${MARKER}\nnew plan`));

    const result = await upsertStickyComment(client(), { ...target, body: `${MARKER}\nnew plan` });

    expect(result).toMatchObject({ action: 'updated', id: 777 });
    api.done();
    expect(api.scope.isDone()).toBe(true);
  });

  test('leaves an identical comment alone', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).reply(200, [comment(9, `${MARKER}\nsame plan`)]);

    const result = await upsertStickyComment(client(), { ...target, body: `${MARKER}\nsame plan` });

    expect(result).toMatchObject({ action: 'unchanged', id: 9 });
    api.done(); // a PATCH or POST would show up as an unexpected request
    expect(api.scope.isDone()).toBe(true);
  });

  test('a comment for another environment is not ours', async () => {
    const api = githubApi();
    api
      .intercept('GET', FIRST_PAGE)
      .reply(200, [comment(3, '<!-- site-deploy:client-portal:production-eu -->\nplan')]);
    api.intercept('POST', COMMENTS).reply(201, comment(4, 'x'));

    await expect(
      upsertStickyComment(client(), { ...target, body: `${MARKER}\nplan` }),
    ).resolves.toMatchObject({
      action: 'created',
    });
    api.done();
  });

  test('a fork PR (403 Resource not accessible by integration) degrades with a reason instead of throwing', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).reply(200, []);
    api.intercept('POST', COMMENTS).reply(403, { message: 'Resource not accessible by integration' });

    const result = await upsertStickyComment(client(), { ...target, body: `${MARKER}\nplan` });

    expect(result.action).toBe('degraded');
    expect(result.reason).toMatch(/acme\/portal#7.*403 Resource not accessible by integration.*fork/);
    api.done(); // and no retry of the 403
    expect(api.scope.isDone()).toBe(true);
  });

  test('a token that cannot see the pull request (404) degrades', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).reply(404, { message: 'Not Found' });

    const result = await upsertStickyComment(client(), { ...target, body: `${MARKER}\nplan` });

    expect(result).toMatchObject({ action: 'degraded', reason: expect.stringContaining('404 Not Found') });
    api.done();
  });

  test('a 500 is retried and then succeeds', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).reply(500, { message: 'Server Error' });
    api.intercept('GET', FIRST_PAGE).reply(200, []);
    api.intercept('POST', COMMENTS).reply(201, comment(12, `${MARKER}\nplan`));

    await expect(
      upsertStickyComment(client(), { ...target, body: `${MARKER}\nplan` }),
    ).resolves.toMatchObject({
      action: 'created',
      id: 12,
    });
    api.done();
    expect(api.scope.isDone()).toBe(true);
  });

  test('an outage that outlasts the retries throws naming the repository and pull request', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).times(4).reply(502, { message: 'Bad Gateway' });

    const err = await upsertStickyComment(client(), { ...target, body: `${MARKER}\nplan` }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/acme\/portal#7: 502/);
    expect((err as Error).message).not.toContain(TOKEN);
    expect(api.requests).toHaveLength(4); // first try + 3 retries
    api.done();
  });

  test('a primary rate limit is retried twice, then throws rather than degrading', async () => {
    const api = githubApi();
    const reset = String(Math.floor(Date.now() / 1000));
    api
      .intercept('GET', FIRST_PAGE)
      .times(3)
      .reply(
        403,
        { message: 'API rate limit exceeded' },
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      );

    await expect(upsertStickyComment(client(), { ...target, body: `${MARKER}\nplan` })).rejects.toThrow(
      /rate limit/,
    );
    expect(api.requests).toHaveLength(3);
    api.done();
  });

  test('a secondary rate limit is retried once', async () => {
    const api = githubApi();
    api
      .intercept('GET', FIRST_PAGE)
      .reply(403, { message: 'You have exceeded a secondary rate limit' }, { 'retry-after': '1' });
    api.intercept('GET', FIRST_PAGE).reply(200, []);
    api.intercept('POST', COMMENTS).reply(201, comment(13, 'x'));

    await expect(
      upsertStickyComment(client(), { ...target, body: `${MARKER}\nplan` }),
    ).resolves.toMatchObject({
      action: 'created',
    });
    api.done();
  });

  test('the token is sent only as the Authorization header, never in a URL or body', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).reply(200, [comment(5, `${MARKER}\nold`)]);
    api.intercept('PATCH', '/repos/acme/portal/issues/comments/5').reply(200, comment(5, `${MARKER}\nnew`));

    await upsertStickyComment(client(), { ...target, body: `${MARKER}\nnew` });

    expect(api.requests).toHaveLength(2);
    for (const r of api.requests) {
      expect(r.headers['authorization']).toBe(`token ${TOKEN}`);
      expect(r.path).not.toContain(TOKEN);
      expect(r.body).not.toContain(TOKEN);
    }
    api.done();
  });

  test('a body over GitHub’s 65,536 characters is refused before any request', async () => {
    const api = githubApi();
    await expect(
      upsertStickyComment(client(), { ...target, body: `${MARKER}\n${'x'.repeat(70_000)}` }),
    ).rejects.toThrow(/over GitHub's 65536/);
    api.done();
  });
});

describe('the OpenAPI harness', () => {
  test('accepts a well-formed comment request', () => {
    expect(validateRequest('POST', COMMENTS, { body: 'x' })).toEqual([]);
    expect(validateRequest('GET', `${COMMENTS}?per_page=100&page=2`)).toEqual([]);
    expect(validateRequest('PATCH', '/repos/acme/portal/issues/comments/5', { body: 'x' })).toEqual([]);
  });

  test.each([
    [
      'a body with the wrong shape',
      'POST',
      COMMENTS,
      { text: 'x' },
      /unknown property "text"|required property 'body'/,
    ],
    ['a body of the wrong type', 'POST', COMMENTS, { body: 42 }, /body\/body: must be string/],
    ['an undocumented path', 'POST', '/repos/acme/portal/issues/7/commentz', { body: 'x' }, /no such path/],
    ['an undocumented method', 'PUT', COMMENTS, { body: 'x' }, /documented only for GET, POST/],
    [
      'an unknown query parameter',
      'GET',
      `${COMMENTS}?perpage=100`,
      undefined,
      /unknown query parameter "perpage"/,
    ],
    [
      'a non-numeric path parameter',
      'GET',
      '/repos/acme/portal/issues/seven/comments',
      undefined,
      /issue_number: must be integer/,
    ],
  ])('rejects %s', (_name, method, path, body, problem) => {
    const problems = validateRequest(method, path, body);
    expect(problems.join('\n')).toMatch(problem);
  });

  test('refuses to mock an undocumented operation', () => {
    const api = githubApi();
    expect(() => api.intercept('POST', '/repos/acme/portal/pulls/7/sticky-comments')).toThrow(/no such path/);
    api.done();
  });

  test('a client sending the wrong shape through the mock gets a 422 and the test fails', async () => {
    const api = githubApi();
    api.intercept('POST', COMMENTS).reply(201, comment(1, 'x'));

    const sent = client().request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: 'acme',
      repo: 'portal',
      issue_number: 7,
      text: 'x',
    } as never);

    await expect(sent).rejects.toMatchObject({ status: 422 });
    expect(() => api.done()).toThrow(/unknown property "text"/);
  });

  test('a request nobody mocked fails the test', async () => {
    const api = githubApi();
    api.intercept('GET', FIRST_PAGE).reply(200, []);

    await client().rest.issues.listComments({
      owner: 'acme',
      repo: 'portal',
      issue_number: 7,
      per_page: 100,
    });
    await client()
      .rest.issues.deleteComment({ owner: 'acme', repo: 'portal', comment_id: 1 })
      .catch(() => undefined);

    expect(() => api.done()).toThrow(/unexpected request DELETE \/repos\/acme\/portal\/issues\/comments\/1/);
  });
});
