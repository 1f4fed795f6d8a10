import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { BindingPermissionError, reviewedPlan } from '../src/adapters/github/binding.js';
import { createGitHubClient, type GitHub } from '../src/adapters/github/client.js';
import { makeReview, reviewedModule, type BindingReview } from '../src/core/binding.js';
import { renderReport } from '../src/core/report/markdown.js';
import { commentMarker } from '../src/core/report/run-report.js';
import { startGitHubServer, type GitHubServer } from './helpers/github-server.js';

const OWNER = 'org';
const REPO = 'repo';
const MERGE_SHA = 'c0ffee0000000000000000000000000000000001';
const HEAD_SHA = 'feed000000000000000000000000000000000002';

let server: GitHubServer;
let gh: GitHub;
beforeAll(async () => {
  server = await startGitHubServer();
  gh = createGitHubClient(server.token, { baseUrl: server.url, pacing: 'immediate' });
});
afterEach(() => {
  // Every request the adapter made is one GitHub documents, in a form GitHub accepts.
  expect(server.problems).toEqual([]);
  server.reset();
});
afterAll(() => server.stop());

/** A show-json shaped plan of one resource. */
function plan(value: string): unknown {
  return {
    resource_changes: [
      {
        address: 'terraform_data.web',
        change: {
          actions: ['create'],
          after: { input: value },
          after_unknown: { id: true },
          after_sensitive: {},
        },
      },
    ],
  };
}

function review(value = 'v1', env = 'production'): BindingReview {
  return makeReview({
    site: 'portal',
    env,
    commit: HEAD_SHA,
    created_at: '2025-03-10T12:00:00Z',
    modules: { web: reviewedModule(plan(value), { mocked: false }) },
  });
}

/** The comment a plan run posts: the real renderer, marker and binding header included. */
function planComment(r: BindingReview, env = 'production'): string {
  return renderReport({
    marker: commentMarker('portal', env),
    site: 'portal',
    environment: env,
    command: 'plan',
    status: 'succeeded',
    modules: [{ name: 'web', weight: 10, status: 'succeeded' }],
    binding: r,
    planDigest: r.combined,
  });
}

/**
 * The check run a plan run leaves on the head commit, its review in `output.text` — written through
 * the API like the action does, then given the app that wrote it (the stand-in's default is the
 * workflow token's, `github-actions`).
 */
async function seedCheck(
  text: string | null,
  o: { app?: string; head?: string; conclusion?: 'success' | 'failure'; env?: string } = {},
): Promise<number> {
  const { data } = await gh.rest.checks.create({
    owner: OWNER,
    repo: REPO,
    name: `site-deploy / portal / ${o.env ?? 'production'}`,
    head_sha: o.head ?? HEAD_SHA,
    status: 'completed',
    conclusion: o.conclusion ?? 'success',
    output: { title: 'plan succeeded', summary: 'plan', ...(text !== null ? { text } : {}) },
  });
  const stored = server.checkRuns.get(data.id);
  if (stored && o.app) stored.app = { id: 99, slug: o.app, name: o.app };
  return data.id;
}

/** The header line of a plan comment: what the check run's `output.text` carries. */
const headerOf = (r: BindingReview, env?: string): string =>
  planComment(r, env)
    .split('\n')
    .find((l) => l.startsWith('<!-- site-deploy-binding:')) ?? '';

const BOT = { login: 'github-actions[bot]', type: 'Bot' as const, owner: OWNER, repo: REPO };
const mergedPr = {
  number: 7,
  head_sha: HEAD_SHA,
  merge_commit_sha: MERGE_SHA,
  merged_at: '2025-03-10T13:00:00Z',
};
const query = { owner: OWNER, repo: REPO, sha: MERGE_SHA, site: 'portal', env: 'production' };

describe('reviewedPlan', () => {
  test('finds the merged pull request, pages through its comments, and reads the bot comment header', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    for (let i = 0; i < 130; i++) server.seedComment(7, `chatter ${i}`, { owner: OWNER, repo: REPO });
    const r = review();
    const c = server.seedComment(7, planComment(r), BOT);
    const check = await seedCheck(headerOf(r));

    const found = await reviewedPlan(gh, query);

    expect(found).toEqual({
      pr: 7,
      review: r,
      commentUrl: `https://github.com/${OWNER}/${REPO}/pull/7#issuecomment-${c.id}`,
      headSha: HEAD_SHA,
      checkRunUrl: `https://github.com/${OWNER}/${REPO}/runs/${check}`,
    });
    expect(server.find('GET', /\/commits\/feed[0-9a-f]+\/check-runs/)).toHaveLength(1);
    expect(server.find('GET', /\/commits\/c0ffee[0-9a-f]+\/pulls/)).toHaveLength(1);
    expect(server.find('GET', /\/issues\/7\/comments/)).toHaveLength(2); // 131 comments, 100 a page
  });

  test('a look-alike comment by a person is ignored, even when newer and well formed', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const genuine = review('v1');
    server.seedComment(7, planComment(genuine), BOT);
    // Someone pastes a comment carrying the marker and a valid header for another plan.
    server.seedComment(7, planComment(review('forged')), {
      owner: OWNER,
      repo: REPO,
      login: 'mallory',
      type: 'User',
    });
    // And one that claims the bot's login without being a Bot (the stand-in lets us try).
    server.seedComment(7, planComment(review('forged-2')), {
      owner: OWNER,
      repo: REPO,
      login: 'github-actions[bot]',
      type: 'User',
    });
    // And another app's bot.
    server.seedComment(7, planComment(review('forged-3')), {
      owner: OWNER,
      repo: REPO,
      login: 'other-app[bot]',
      type: 'Bot',
    });

    await seedCheck(headerOf(genuine));
    const found = await reviewedPlan(gh, query);
    expect(found).toMatchObject({ pr: 7, review: genuine });
  });

  test('only look-alike comments → missing, naming the login it wanted', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    server.seedComment(7, planComment(review()), {
      owner: OWNER,
      repo: REPO,
      login: 'mallory',
      type: 'User',
    });
    const found = await reviewedPlan(gh, query);
    expect(found).toEqual({
      pr: 7,
      missing:
        'pull request #7 has no site-deploy plan comment for portal/production written by github-actions[bot]',
    });
  });

  test('ownLogin: a GitHub App token writes as <slug>[bot], and then only that counts', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const appReview = review('from-app');
    server.seedComment(7, planComment(review('actions')), BOT);
    server.seedComment(7, planComment(appReview), { ...BOT, login: 'site-deploy-app[bot]' });
    await seedCheck(headerOf(review('actions')));
    await seedCheck(headerOf(appReview), { app: 'site-deploy-app' });
    expect(await reviewedPlan(gh, { ...query, ownLogin: 'site-deploy-app[bot]' })).toMatchObject({
      review: appReview,
    });
  });

  test('of several bot comments for the site × environment, the newest counts; other environments never', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    server.seedComment(7, planComment(review('old')), BOT);
    server.seedComment(7, planComment(review('staging', 'staging'), 'staging'), BOT);
    const newest = review('new');
    server.seedComment(7, planComment(newest), BOT);
    await seedCheck(headerOf(review('old')));
    await seedCheck(headerOf(newest));
    expect(await reviewedPlan(gh, query)).toMatchObject({ review: newest });
  });

  test('no pull request produced the commit → missing', async () => {
    const found = await reviewedPlan(gh, query);
    expect(found).toEqual({
      missing:
        'no pull request produced commit c0ffee000000: it was not reviewed as a plan on a pull request',
    });
  });

  test('only an open pull request that merely contains the commit → missing', async () => {
    server.setCommitPulls(MERGE_SHA, [{ number: 9, head_sha: 'ab'.repeat(20) }]);
    expect(await reviewedPlan(gh, query)).toEqual({
      missing:
        'none of the pull requests associated with commit c0ffee000000 (#9) was merged as it or has it as its head',
    });
  });

  test('the merged pull request whose merge commit is the commit wins over others', async () => {
    server.setCommitPulls(MERGE_SHA, [
      { number: 9, head_sha: 'ab'.repeat(20) },
      {
        number: 5,
        head_sha: 'cd'.repeat(20),
        merge_commit_sha: 'ef'.repeat(20),
        merged_at: '2025-03-11T00:00:00Z',
      },
      mergedPr,
    ]);
    const r = review();
    server.seedComment(7, planComment(r), BOT);
    await seedCheck(headerOf(r));
    expect(await reviewedPlan(gh, query)).toMatchObject({ pr: 7, review: r });
  });

  test('an apply of a pull request head (fast-forward, or dispatched on it) finds that pull request', async () => {
    server.setCommitPulls(HEAD_SHA, [{ number: 8, head_sha: HEAD_SHA }]);
    const r = review();
    server.seedComment(8, planComment(r), BOT);
    await seedCheck(headerOf(r));
    expect(await reviewedPlan(gh, { ...query, sha: HEAD_SHA })).toMatchObject({
      pr: 8,
      review: r,
      headSha: HEAD_SHA,
    });
  });

  test('a pull request without a site-deploy comment → missing', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    server.seedComment(7, 'LGTM', { owner: OWNER, repo: REPO });
    expect(await reviewedPlan(gh, query)).toMatchObject({
      pr: 7,
      missing: expect.stringContaining('has no site-deploy plan comment'),
    });
  });

  test('a comment with an old v1 header → missing, telling to run the plan again', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const body = planComment(review()).replace('site-deploy-binding:v2:', 'site-deploy-binding:v1:');
    server.seedComment(7, body, BOT);
    expect(await reviewedPlan(gh, query)).toMatchObject({
      pr: 7,
      missing: expect.stringMatching(/older format \(v1\).*run the plan on the pull request again/),
    });
  });

  test('a bot comment without a readable header (or a tampered one) → missing', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const body = planComment(review()).replace(
      /(site-deploy-binding:v2:)(\w)/,
      (_m, p: string, c: string) => `${p}${c === 'A' ? 'B' : 'A'}`,
    );
    server.seedComment(7, body, BOT);
    expect(await reviewedPlan(gh, query)).toMatchObject({
      pr: 7,
      missing: expect.stringContaining('carries no readable approval binding'),
    });
  });

  test('403 on the commit lookup → BindingPermissionError naming pull-requests: read', async () => {
    server.inject({
      method: 'GET',
      path: /\/commits\/[0-9a-f]+\/pulls/,
      status: 403,
      body: {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest',
      },
    });
    const err = await reviewedPlan(gh, query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindingPermissionError);
    expect(err).toMatchObject({
      status: 403,
      request: `GET /repos/${OWNER}/${REPO}/commits/${MERGE_SHA}/pulls`,
    });
    expect((err as Error).message).toContain('`pull-requests: read`');
    expect((err as Error).message).toContain('403 Resource not accessible by integration');
  });

  test('404 on the comments → BindingPermissionError too', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    server.inject({ method: 'GET', path: /\/issues\/7\/comments/, status: 404 });
    const err = await reviewedPlan(gh, query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindingPermissionError);
    expect(err).toMatchObject({ status: 404 });
  });

  test('a secondary rate limit is not a permission problem: a plain error, after the one retry', async () => {
    server.failNext(2, { status: 403, secondary: true, retryAfter: 1 });
    const err = await reviewedPlan(gh, query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(BindingPermissionError);
    expect((err as Error).message).toMatch(/secondary rate limit/);
    expect(server.requests).toHaveLength(2);
  });
});

describe('reviewedPlan: the check run holds the review, the comment a copy (issue 17)', () => {
  // Finding 5 (chained, critical): a step holding a write token, or any person with write access,
  // edits the bot's comment after the plan; the check run can only be written by a GitHub App.
  test('an edited comment header (a time-bombed plan swapped in) → missing, naming both digests', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const reviewed = review('v1');
    const bomb = review('time-bomb');
    // The comment as edited afterwards: the visible text stays, the hidden header carries the bomb.
    server.seedComment(7, planComment(bomb), BOT);
    await seedCheck(headerOf(reviewed));
    const found = await reviewedPlan(gh, query);
    expect(found).toEqual({ pr: 7, missing: expect.stringContaining('hidden header') });
    const why = 'missing' in found ? found.missing : '';
    expect(why).toContain(
      `combined digest ${bomb.combined} in the comment, ${reviewed.combined} in the check run`,
    );
    expect(why).toContain('the comment was edited after the plan');
  });

  test('a comment without a matching check run → missing', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    server.seedComment(7, planComment(review()), BOT);
    // A check run of another environment, and one on another commit, do not match.
    await seedCheck(headerOf(review('v1', 'staging'), 'staging'), { env: 'staging' });
    await seedCheck(headerOf(review()), { head: MERGE_SHA });
    expect(await reviewedPlan(gh, query)).toEqual({
      pr: 7,
      missing: expect.stringMatching(
        /^commit feed00000000 \(head of pull request #7\) has no check run "site-deploy \/ portal \/ production": the plan comment \(.+\) has no matching check run$/,
      ),
    });
  });

  test('a check run written by another app → missing, naming the app', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const r = review();
    server.seedComment(7, planComment(r), BOT);
    await seedCheck(headerOf(r), { app: 'evil-app' });
    expect(await reviewedPlan(gh, query)).toEqual({
      pr: 7,
      missing: expect.stringContaining('was written by app evil-app, not by github-actions'),
    });
  });

  test('a check run that did not conclude success, or carries no review → missing', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const r = review();
    server.seedComment(7, planComment(r), BOT);
    await seedCheck(headerOf(r), { conclusion: 'failure' });
    expect(await reviewedPlan(gh, query)).toMatchObject({
      missing: expect.stringContaining('concluded failure, not success'),
    });
    server.checkRuns.clear();
    await seedCheck(null);
    expect(await reviewedPlan(gh, query)).toMatchObject({
      missing: expect.stringContaining('carries no readable approval binding'),
    });
  });

  test("a seal that does not verify → missing, with the seal check's own words", async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const r = review();
    server.seedComment(7, planComment(r), BOT);
    await seedCheck(headerOf(r));
    const seen: string[] = [];
    const found = await reviewedPlan(gh, {
      ...query,
      checkSeal: (x) => {
        seen.push(x.combined);
        return 'HMAC mismatch under binding-key';
      },
    });
    expect(seen).toEqual([r.combined]);
    expect(found).toMatchObject({
      missing: expect.stringContaining('does not verify: HMAC mismatch under binding-key'),
    });
    expect(await reviewedPlan(gh, { ...query, checkSeal: () => undefined })).toMatchObject({ review: r });
  });

  test("an apply's own check run of the same name (newer, in progress or without a review) does not hide the plan's", async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    const r = review();
    server.seedComment(7, planComment(r), BOT);
    await seedCheck(headerOf(r));
    await seedCheck(null); // an earlier apply dispatched on the head: completed, no review
    await gh.rest.checks.create({
      owner: OWNER,
      repo: REPO,
      name: 'site-deploy / portal / production',
      head_sha: HEAD_SHA,
      status: 'in_progress',
    });
    expect(await reviewedPlan(gh, query)).toMatchObject({ review: r });
  });

  test('403 on the check runs → BindingPermissionError naming checks: read', async () => {
    server.setCommitPulls(MERGE_SHA, [mergedPr]);
    server.seedComment(7, planComment(review()), BOT);
    server.inject({ method: 'GET', path: /\/check-runs/, status: 403 });
    const err = await reviewedPlan(gh, query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindingPermissionError);
    expect((err as Error).message).toContain('`checks: read`');
  });
});

describe('the stand-in: commit pulls and deployments, checked against the OpenAPI description', () => {
  test('commit pulls page like GitHub, with realistic pull request JSON', async () => {
    server.setCommitPulls(
      MERGE_SHA,
      Array.from({ length: 3 }, (_, i) => ({ number: i + 1, head_sha: HEAD_SHA })),
    );
    const first = await gh.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: OWNER,
      repo: REPO,
      commit_sha: MERGE_SHA,
      per_page: 2,
    });
    expect(first.data.map((p) => p.number)).toEqual([1, 2]);
    expect(first.headers.link).toContain('rel="next"');
    expect(first.data[0]).toMatchObject({
      state: 'open',
      merged_at: null,
      merge_commit_sha: null,
      head: { sha: HEAD_SHA },
    });
    const all = await gh.paginate(gh.rest.repos.listPullRequestsAssociatedWithCommit, {
      owner: OWNER,
      repo: REPO,
      commit_sha: MERGE_SHA,
      per_page: 2,
    });
    expect(all.map((p) => p.number)).toEqual([1, 2, 3]);
  });

  test('deployments: create, list newest first by environment, statuses with auto_inactive and log_url', async () => {
    const create = (environment: string, ref = MERGE_SHA) =>
      gh.rest.repos.createDeployment({
        owner: OWNER,
        repo: REPO,
        ref,
        environment,
        auto_merge: false,
        required_contexts: [],
        payload: { site_digest: 'sha256:abc' },
        description: 'site-deploy apply',
      });
    const a = await create('portal/staging');
    const b = await create('portal/staging');
    await create('portal/production');
    expect(a.status).toBe(201);
    expect(a.data).toMatchObject({
      sha: MERGE_SHA,
      environment: 'portal/staging',
      production_environment: false,
      payload: { site_digest: 'sha256:abc' },
      creator: { login: 'github-actions[bot]', type: 'Bot' },
    });

    const listed = await gh.rest.repos.listDeployments({
      owner: OWNER,
      repo: REPO,
      environment: 'portal/staging',
    });
    expect(listed.data.map((d) => d.id)).toEqual([
      (b.data as { id: number }).id,
      (a.data as { id: number }).id,
    ]);

    const idA = (a.data as { id: number }).id;
    const idB = (b.data as { id: number }).id;
    const status = (id: number, state: 'in_progress' | 'success') =>
      gh.rest.repos.createDeploymentStatus({
        owner: OWNER,
        repo: REPO,
        deployment_id: id,
        state,
        log_url: 'https://github.com/org/repo/actions/runs/1',
        environment_url: 'https://staging.example.com',
      });
    await status(idA, 'in_progress');
    await status(idA, 'success');
    const done = await status(idB, 'success');
    expect(done.data).toMatchObject({
      state: 'success',
      target_url: 'https://github.com/org/repo/actions/runs/1',
    });
    // The older successful deployment of the same environment went inactive.
    const ofA = await gh.rest.repos.listDeploymentStatuses({ owner: OWNER, repo: REPO, deployment_id: idA });
    expect(ofA.data.map((s) => s.state)).toEqual(['inactive', 'success', 'in_progress']);
    const ofB = await gh.rest.repos.listDeploymentStatuses({ owner: OWNER, repo: REPO, deployment_id: idB });
    expect(ofB.data.map((s) => s.state)).toEqual(['success']);

    // GitHub's limits: a status description over 140 characters, an unknown ref.
    await expect(
      gh.rest.repos.createDeploymentStatus({
        owner: OWNER,
        repo: REPO,
        deployment_id: idB,
        state: 'failure',
        description: 'x'.repeat(141),
      }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(create('portal/staging', 'no-such-branch')).rejects.toMatchObject({ status: 422 });
    server.setRef('main', MERGE_SHA);
    expect((await create('portal/staging', 'main')).data).toMatchObject({ sha: MERGE_SHA, ref: 'main' });
  });

  test('a request GitHub would refuse is a problem (the stand-in checks deployments too)', async () => {
    await gh
      .request('POST /repos/{owner}/{repo}/deployments', {
        owner: OWNER,
        repo: REPO,
        ref: MERGE_SHA,
        environment: 'portal/staging',
        colour: 'blue',
      })
      .catch(() => undefined);
    expect(server.problems.join('\n')).toMatch(/colour/);
    server.problems.length = 0;
  });
});
