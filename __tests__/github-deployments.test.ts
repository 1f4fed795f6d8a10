// GitHub Deployments for apply and promotion (SPEC §8.4), every request checked against GitHub's
// OpenAPI description: the deployment and its statuses, reading an environment's earlier applies,
// and failing closed when the token may not.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { createGitHubClient, type GitHub } from '../src/adapters/github/client.js';
import {
  DeploymentsError,
  DeploymentsPermissionError,
  finishDeployment,
  previousApplies,
  startDeployment,
} from '../src/adapters/github/deployments.js';
import { checkPromotion } from '../src/core/promotion.js';
import { githubApi } from './helpers/openapi.js';

const TOKEN = 'ghs_PLANTEDSECRET0123456789';
const SHA = 'abc123def4567890abc123def4567890abc12345';
const OTHER = 'def4567890abc123def4567890abc123def45678';
const DIGEST = `sha256:${'1'.repeat(64)}`;
const RUN_URL = 'https://github.com/acme/portal/actions/runs/4242/attempts/1';
const DEPLOYMENTS = '/repos/acme/portal/deployments';
const LIST_STAGING = `${DEPLOYMENTS}?environment=portal%2Fstaging&per_page=30`;
const statusesOf = (id: number) => `${DEPLOYMENTS}/${id}/statuses`;
const payload = {
  commit: SHA,
  site_digest: DIGEST,
  config_digest: `sha256:${'2'.repeat(64)}`,
  run_url: RUN_URL,
};

function client(): GitHub {
  return createGitHubClient(TOKEN, { baseUrl: 'https://api.github.com', pacing: 'immediate' });
}

const BOT = { login: 'github-actions[bot]', type: 'Bot' };

function deployment(
  id: number,
  createdAt: string,
  p: unknown = payload,
  env = 'portal/staging',
  creator: { login: string; type: string } = BOT,
) {
  return {
    id,
    creator,
    sha: SHA,
    ref: SHA,
    environment: env,
    payload: p,
    created_at: createdAt,
    updated_at: createdAt,
  };
}
function status(
  id: number,
  state: string,
  createdAt: string,
  logUrl = RUN_URL,
  creator: { login: string; type: string } = BOT,
) {
  return {
    id,
    state,
    creator,
    created_at: createdAt,
    updated_at: createdAt,
    log_url: logUrl,
    target_url: logUrl,
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

describe('startDeployment and finishDeployment', () => {
  test('creates the deployment of the commit to <site>/<env> with the digests, then marks it in progress', async () => {
    const api = githubApi();
    api.intercept('POST', DEPLOYMENTS).reply(201, { id: 99, sha: SHA, environment: 'portal/production' });
    api.intercept('POST', statusesOf(99)).reply(201, { id: 1, state: 'in_progress' });

    const started = await startDeployment(client(), {
      owner: 'acme',
      repo: 'portal',
      ref: SHA,
      environment: 'portal/production',
      lifecycle: 'long-lived',
      payload,
      description: 'site-deploy apply of portal to production',
    });

    expect(started).toEqual({ id: 99 });
    api.done();
    const [create, inProgress] = api.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(create).toEqual({
      ref: SHA,
      task: 'deploy',
      environment: 'portal/production',
      payload,
      description: 'site-deploy apply of portal to production',
      required_contexts: [],
      auto_merge: false,
      transient_environment: false,
      production_environment: true,
    });
    expect(inProgress).toEqual({
      state: 'in_progress',
      log_url: RUN_URL,
      description: 'site-deploy apply of portal to production',
    });
    for (const r of api.requests) {
      expect(r.headers['authorization']).toBe(`token ${TOKEN}`);
      expect(`${r.path}\n${r.body}`).not.toContain(TOKEN);
    }
  });

  test.each<[string, 'long-lived' | 'ephemeral', boolean, boolean]>([
    ['portal/pr-42', 'ephemeral', true, false],
    ['portal/prod', 'long-lived', false, true],
    ['portal/Production', 'long-lived', false, true],
    ['portal/staging', 'long-lived', false, false],
    ['portal/production-eu', 'long-lived', false, false],
  ])('%s (%s): transient %s, production %s', async (environment, lifecycle, transient, production) => {
    const api = githubApi();
    api.intercept('POST', DEPLOYMENTS).reply(201, { id: 7 });
    api.intercept('POST', statusesOf(7)).reply(201, { id: 1 });
    await startDeployment(client(), {
      owner: 'acme',
      repo: 'portal',
      ref: SHA,
      environment,
      lifecycle,
      payload,
    });
    api.done();
    expect(JSON.parse(api.requests[0]?.body ?? '{}')).toMatchObject({
      transient_environment: transient,
      production_environment: production,
      description: `site-deploy apply of abc123def456 to ${environment}`,
    });
  });

  test('a description longer than GitHub takes is cut to 140 characters', async () => {
    const api = githubApi();
    api.intercept('POST', DEPLOYMENTS).reply(201, { id: 7 });
    api.intercept('POST', statusesOf(7)).reply(201, { id: 1 });
    await startDeployment(client(), {
      owner: 'acme',
      repo: 'portal',
      ref: SHA,
      environment: 'portal/dev',
      payload,
      description: 'x'.repeat(300),
    });
    api.done();
    for (const r of api.requests)
      expect((JSON.parse(r.body) as { description: string }).description).toHaveLength(140);
  });

  test.each<[string, { environmentUrl?: string }, Record<string, unknown>]>([
    [
      'success with the environment URL',
      { environmentUrl: 'https://portal.example.com' },
      { state: 'success', log_url: RUN_URL, environment_url: 'https://portal.example.com' },
    ],
    ['failure without one', {}, { state: 'failure', log_url: RUN_URL }],
  ])('finishDeployment: %s', async (_name, extra, body) => {
    const api = githubApi();
    api.intercept('POST', statusesOf(99)).reply(201, { id: 2 });
    await finishDeployment(client(), {
      owner: 'acme',
      repo: 'portal',
      id: 99,
      state: body.state as 'success' | 'failure',
      logUrl: RUN_URL,
      ...extra,
    });
    api.done();
    expect(JSON.parse(api.requests[0]?.body ?? '{}')).toEqual(body);
  });

  test('a token without deployments: write is a typed error naming the permission', async () => {
    const api = githubApi();
    api.intercept('POST', DEPLOYMENTS).reply(403, { message: 'Resource not accessible by integration' });
    const err = await startDeployment(client(), {
      owner: 'acme',
      repo: 'portal',
      ref: SHA,
      environment: 'portal/production',
      payload,
    }).catch((e: unknown) => e);
    api.done(); // one request: a 403 is not retried, and no status is posted
    expect(err).toBeInstanceOf(DeploymentsPermissionError);
    expect((err as DeploymentsPermissionError).permission).toBe('deployments: write');
    expect((err as Error).message).toMatch(
      /^could not create a deployment of abc123def456 to portal\/production in acme\/portal: 403 Resource not accessible by integration \(POST \/repos\/acme\/portal\/deployments\) — the token needs `deployments: write`/,
    );
  });

  test('finishing without deployments: write is a typed error too', async () => {
    const api = githubApi();
    api.intercept('POST', statusesOf(99)).reply(404, { message: 'Not Found' });
    const err = await finishDeployment(client(), {
      owner: 'acme',
      repo: 'portal',
      id: 99,
      state: 'error',
      logUrl: null,
    }).catch((e: unknown) => e);
    api.done();
    expect(err).toBeInstanceOf(DeploymentsPermissionError);
    expect((err as Error).message).toMatch(
      /cannot see the repository or its deployments — it needs `deployments: write`/,
    );
  });
});

describe('previousApplies', () => {
  test('newest first, with the latest status and the payload digests, in the shape checkPromotion takes', async () => {
    const api = githubApi();
    api
      .intercept('GET', LIST_STAGING)
      .reply(200, [
        deployment(3, '2026-05-03T10:00:00Z', { ...payload, commit: OTHER }),
        deployment(1, '2026-05-01T10:00:00Z', JSON.stringify(payload)),
        deployment(2, '2026-05-02T10:00:00Z', {}),
      ]);
    api
      .intercept('GET', `${statusesOf(3)}?per_page=100`)
      .reply(200, [
        status(31, 'failure', '2026-05-03T10:05:00Z'),
        status(30, 'in_progress', '2026-05-03T10:00:01Z'),
      ]);
    // Superseded: GitHub set it inactive when a newer deployment succeeded; it still was applied.
    api
      .intercept('GET', `${statusesOf(1)}?per_page=100`)
      .reply(200, [
        status(12, 'inactive', '2026-05-02T10:06:00Z', ''),
        status(11, 'success', '2026-05-01T10:05:00Z'),
        status(10, 'in_progress', '2026-05-01T10:00:01Z'),
      ]);
    // Created by something else, never given a status.
    api.intercept('GET', `${statusesOf(2)}?per_page=100`).reply(200, []);

    const applies = await previousApplies(client(), {
      owner: 'acme',
      repo: 'portal',
      environment: 'portal/staging',
    });

    api.done();
    expect(applies).toEqual([
      {
        environment: 'staging',
        commit: OTHER,
        siteDigest: DIGEST,
        status: 'failed',
        at: '2026-05-03T10:05:00Z',
        url: RUN_URL,
      },
      {
        environment: 'staging',
        commit: SHA,
        siteDigest: null,
        status: 'pending',
        at: '2026-05-02T10:00:00Z',
      },
      {
        environment: 'staging',
        commit: SHA,
        siteDigest: DIGEST,
        status: 'succeeded',
        at: '2026-05-02T10:06:00Z',
        url: RUN_URL,
      },
    ]);
    // …and promotion reads them: the superseded success of this release lets production go.
    const site = { name: 'portal', promotion: ['staging', 'production'] };
    expect(checkPromotion(site, 'production', { commit: SHA, siteDigest: DIGEST }, applies)).toBeUndefined();
    expect(
      checkPromotion(site, 'production', { commit: OTHER, siteDigest: DIGEST }, applies)?.message,
    ).toContain("staging's last apply was commit def4567890ab (failed) at 2026-05-03T10:05:00Z");
  });

  test("only the workflow token's own deployments and statuses count; anyone else's look-alikes do not", async () => {
    const api = githubApi();
    const mallory = { login: 'mallory', type: 'User' };
    const lookalike = { login: 'github-actions[bot]', type: 'User' };
    api.intercept('GET', LIST_STAGING).reply(200, [
      // A user with deployments: write creates a "successful apply" of the release.
      deployment(9, '2026-05-09T10:00:00Z', payload, 'portal/staging', mallory),
      deployment(8, '2026-05-08T10:00:00Z', payload, 'portal/staging', lookalike),
      // site-deploy's own apply, which failed — and a user adds a success on top of it.
      deployment(7, '2026-05-07T10:00:00Z'),
    ]);
    api
      .intercept('GET', `${statusesOf(7)}?per_page=100`)
      .reply(200, [
        status(72, 'success', '2026-05-07T11:00:00Z', RUN_URL, mallory),
        status(71, 'failure', '2026-05-07T10:05:00Z'),
      ]);
    const applies = await previousApplies(client(), {
      owner: 'acme',
      repo: 'portal',
      environment: 'portal/staging',
    });
    api.done(); // the foreign deployments' statuses were never even read
    expect(applies.map((a) => [a.commit, a.status])).toEqual([[SHA, 'failed']]);
    const site = { name: 'portal', promotion: ['staging', 'production'] };
    expect(
      checkPromotion(site, 'production', { commit: SHA, siteDigest: DIGEST }, applies)?.message,
    ).toContain('staging');
  });

  test('an inactive deployment that never succeeded does not count', async () => {
    const api = githubApi();
    api.intercept('GET', LIST_STAGING).reply(200, [deployment(5, '2026-05-01T10:00:00Z')]);
    api
      .intercept('GET', `${statusesOf(5)}?per_page=100`)
      .reply(200, [
        status(51, 'inactive', '2026-05-01T11:00:00Z'),
        status(50, 'error', '2026-05-01T10:05:00Z'),
      ]);
    const applies = await previousApplies(client(), {
      owner: 'acme',
      repo: 'portal',
      environment: 'portal/staging',
    });
    api.done();
    expect(applies.map((a) => a.status)).toEqual(['inactive']);
  });

  test('follows pages until the limit and no further', async () => {
    const api = githubApi();
    const list = (from: number) =>
      Array.from({ length: 100 }, (_, i) =>
        deployment(from - i, new Date(Date.UTC(2026, 0, 1) + (from - i) * 60_000).toISOString()),
      );
    const page = (n: number) =>
      `https://api.github.com${DEPLOYMENTS}?environment=portal%2Fstaging&per_page=100&page=${n}`;
    api
      .intercept('GET', `${DEPLOYMENTS}?environment=portal%2Fstaging&per_page=100`)
      .reply(200, list(1000), { link: `<${page(2)}>; rel="next", <${page(3)}>; rel="last"` });
    api
      .intercept('GET', `${DEPLOYMENTS}?environment=portal%2Fstaging&per_page=100&page=2`)
      .reply(200, list(900), { link: `<${page(3)}>; rel="next", <${page(3)}>; rel="last"` });
    // The 101 newest: all of page 1 and the first of page 2.
    for (let id = 1000; id >= 900; id--)
      api
        .intercept('GET', `${statusesOf(id)}?per_page=100`)
        .reply(200, [status(id * 10, 'success', '2026-02-01T00:00:00Z')]);

    const applies = await previousApplies(client(), {
      owner: 'acme',
      repo: 'portal',
      environment: 'portal/staging',
      limit: 101,
    });

    api.done(); // page 3 and the statuses of deployments past the limit were never asked for
    expect(applies).toHaveLength(101);
    expect(applies[0]?.status).toBe('succeeded');
  });

  test('a deployment deleted between listing and reading its statuses is left out', async () => {
    const api = githubApi();
    api
      .intercept('GET', LIST_STAGING)
      .reply(200, [deployment(2, '2026-05-02T10:00:00Z'), deployment(1, '2026-05-01T10:00:00Z')]);
    api.intercept('GET', `${statusesOf(2)}?per_page=100`).reply(404, { message: 'Not Found' });
    api
      .intercept('GET', `${statusesOf(1)}?per_page=100`)
      .reply(200, [status(10, 'success', '2026-05-01T10:05:00Z')]);
    const applies = await previousApplies(client(), {
      owner: 'acme',
      repo: 'portal',
      environment: 'portal/staging',
    });
    api.done();
    expect(applies.map((a) => a.at)).toEqual(['2026-05-01T10:05:00Z']);
  });

  test.each<[number, string, RegExp]>([
    [
      403,
      'Resource not accessible by integration',
      /^could not list the deployments of portal\/staging in acme\/portal: 403 Resource not accessible by integration \(GET \/repos\/acme\/portal\/deployments\) — the token needs `deployments: read` .*; promotion cannot be checked without it, so the apply is refused$/,
    ],
    [
      404,
      'Not Found',
      /^could not list the deployments of portal\/staging in acme\/portal: 404 Not Found .* — the token cannot see the repository or its deployments — it needs `deployments: read`.*so the apply is refused$/,
    ],
  ])(
    'a %s fails closed with a typed error naming deployments: read, never an empty list',
    async (code, message, expected) => {
      const api = githubApi();
      api.intercept('GET', LIST_STAGING).reply(code, { message });
      const err = await previousApplies(client(), {
        owner: 'acme',
        repo: 'portal',
        environment: 'portal/staging',
      }).catch((e: unknown) => e);
      api.done();
      expect(err).toBeInstanceOf(DeploymentsPermissionError);
      expect((err as DeploymentsPermissionError).permission).toBe('deployments: read');
      expect((err as DeploymentsPermissionError).failure.status).toBe(code);
      expect((err as Error).message).toMatch(expected);
    },
  );

  test('a token that may list but not read statuses fails closed too', async () => {
    const api = githubApi();
    api.intercept('GET', LIST_STAGING).reply(200, [deployment(1, '2026-05-01T10:00:00Z')]);
    api
      .intercept('GET', `${statusesOf(1)}?per_page=100`)
      .reply(403, { message: 'Resource not accessible by integration' });
    await expect(
      previousApplies(client(), { owner: 'acme', repo: 'portal', environment: 'portal/staging' }),
    ).rejects.toThrow(DeploymentsPermissionError);
    api.done();
  });

  test('an outage (502 after the retries) is a DeploymentsError, not a permission problem', async () => {
    const api = githubApi();
    api.intercept('GET', LIST_STAGING).times(4).reply(502, { message: 'Bad Gateway' });
    const err = await previousApplies(client(), {
      owner: 'acme',
      repo: 'portal',
      environment: 'portal/staging',
    }).catch((e: unknown) => e);
    api.done(); // the first try and three retries
    expect(err).toBeInstanceOf(DeploymentsError);
    expect(err).not.toBeInstanceOf(DeploymentsPermissionError);
    expect((err as Error).message).toMatch(
      /^could not list the deployments of portal\/staging in acme\/portal: 502 /,
    );
  });
});
