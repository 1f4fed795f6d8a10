import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import {
  checkRunName,
  completeCheckRun,
  foldOutput,
  startCheckRun,
  type Annotation,
} from '../src/adapters/github/check-run.js';
import { createGitHubClient, type GitHub } from '../src/adapters/github/client.js';
import { githubApi, validateRequest } from './helpers/openapi.js';

const TOKEN = 'AKIAPLANTEDSECRET123';
const SHA = 'a'.repeat(40);
const RUN = '/repos/acme/portal/check-runs/42';

function client(): GitHub {
  return createGitHubClient(TOKEN, { baseUrl: 'https://api.github.com', pacing: 'immediate' });
}

function annotations(n: number): Annotation[] {
  return Array.from({ length: n }, (_, i) => ({
    path: 'sites/client-portal/site.yaml',
    start_line: i + 1,
    end_line: i + 1,
    annotation_level: 'failure' as const,
    message: `problem ${i + 1}`,
  }));
}

interface PatchBody {
  status?: string;
  conclusion?: string;
  output?: { title?: string; summary?: string; text?: string; annotations?: Annotation[] };
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

test('check runs are named site-deploy / <site> / <env>', () => {
  expect(checkRunName('client-portal', 'production')).toBe('site-deploy / client-portal / production');
});

describe('check run lifecycle', () => {
  test('start → complete with 120 annotations sends them in three requests of at most 50', async () => {
    const api = githubApi();
    api
      .intercept('POST', '/repos/acme/portal/check-runs', {
        name: 'site-deploy / client-portal / production',
        head_sha: SHA,
        status: 'in_progress',
        started_at: /^\d{4}-\d\d-\d\dT/,
        details_url: 'https://github.com/acme/portal/actions/runs/1',
      })
      .reply(201, { id: 42, html_url: 'https://github.com/acme/portal/runs/42' });
    api.intercept('PATCH', RUN).times(3).reply(200, { id: 42 });
    const gh = client();

    const started = await startCheckRun(gh, {
      owner: 'acme',
      repo: 'portal',
      name: checkRunName('client-portal', 'production'),
      headSha: SHA,
      detailsUrl: 'https://github.com/acme/portal/actions/runs/1',
    });
    expect(started).toEqual({ id: 42, url: 'https://github.com/acme/portal/runs/42' });

    const done = await completeCheckRun(gh, {
      owner: 'acme',
      repo: 'portal',
      id: 42,
      conclusion: 'failure',
      title: '3 modules planned, 1 failed',
      summary: '## client-portal / production',
      text: 'details',
      annotations: annotations(120),
    });

    expect(done).toEqual({ annotations: 120 });
    api.done();
    expect(api.scope.isDone()).toBe(true);
    const patches = api.requests
      .filter((r) => r.method === 'PATCH')
      .map((r) => JSON.parse(r.body) as PatchBody);
    expect(patches.map((p) => p.output?.annotations?.length)).toEqual([50, 50, 20]);
    expect(patches[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
    for (const p of patches) {
      expect(p.output).toMatchObject({
        title: '3 modules planned, 1 failed',
        summary: '## client-portal / production',
      });
    }
    const messages = patches.flatMap((p) => (p.output?.annotations ?? []).map((a) => a.message));
    expect(messages).toEqual(annotations(120).map((a) => a.message));
    for (const r of api.requests) {
      expect(r.headers['authorization']).toBe(`token ${TOKEN}`);
      expect(`${r.path}\n${r.body}`).not.toContain(TOKEN);
    }
  });

  test('no annotations: one request, no annotations field', async () => {
    const api = githubApi();
    api.intercept('PATCH', RUN).reply(200, { id: 42 });

    const done = await completeCheckRun(client(), {
      owner: 'acme',
      repo: 'portal',
      id: 42,
      conclusion: 'success',
      title: 'No changes',
      summary: 'Nothing to do.',
      annotations: [],
    });

    expect(done).toEqual({ annotations: 0 });
    expect(JSON.parse(api.requests[0]?.body ?? '{}')).toEqual({
      status: 'completed',
      conclusion: 'success',
      completed_at: expect.any(String),
      output: { title: 'No changes', summary: 'Nothing to do.' },
    });
    api.done();
  });

  test('columns on an annotation spanning lines are dropped (the API refuses them)', async () => {
    const api = githubApi();
    api.intercept('PATCH', RUN).reply(200, { id: 42 });

    await completeCheckRun(client(), {
      owner: 'acme',
      repo: 'portal',
      id: 42,
      conclusion: 'failure',
      title: 't',
      summary: 's',
      annotations: [
        {
          path: './sites/a/site.yaml',
          start_line: 3,
          end_line: 5,
          start_column: 2,
          end_column: 9,
          annotation_level: 'warning',
          message: 'm',
        },
        {
          path: 'sites/a/site.yaml',
          start_line: 7,
          end_line: 7,
          start_column: 2,
          end_column: 9,
          annotation_level: 'notice',
          message: 'n',
        },
      ],
    });

    const sent = (JSON.parse(api.requests[0]?.body ?? '{}') as PatchBody).output?.annotations;
    expect(sent?.[0]).toEqual({
      path: 'sites/a/site.yaml',
      start_line: 3,
      end_line: 5,
      annotation_level: 'warning',
      message: 'm',
    });
    expect(sent?.[1]).toMatchObject({ start_column: 2, end_column: 9 });
    api.done();
  });

  test('a summary over 65,535 characters is folded at a line break with a note saying it was cut', async () => {
    const api = githubApi();
    api.intercept('PATCH', RUN).reply(200, { id: 42 });
    const summary = Array.from(
      { length: 2000 },
      (_, i) => `| module-${i} | 1 | 2 | 3 | ${'x'.repeat(20)} |`,
    ).join('\n');
    expect(summary.length).toBeGreaterThan(65_535);

    await completeCheckRun(client(), {
      owner: 'acme',
      repo: 'portal',
      id: 42,
      conclusion: 'success',
      title: 't',
      summary,
      annotations: [],
    });

    // The harness also holds the request to the API's maxLength of 65,535.
    api.done();
    const sent = (JSON.parse(api.requests[0]?.body ?? '{}') as PatchBody).output?.summary ?? '';
    expect(sent.length).toBeLessThanOrEqual(65_535);
    expect(sent).toMatch(/more characters were cut to fit the check run's 65,535-character limit/);
    const kept = sent.slice(0, sent.indexOf('\n\n_…'));
    expect(summary.startsWith(kept)).toBe(true);
    expect(kept.endsWith('|')).toBe(true); // never cut mid-row
  });

  test('foldOutput leaves short text alone', () => {
    expect(foldOutput('short')).toBe('short');
  });
});

describe('degraded, not thrown', () => {
  test('a token without checks: write (403) cannot start a check run', async () => {
    const api = githubApi();
    api
      .intercept('POST', '/repos/acme/portal/check-runs')
      .reply(403, { message: 'Resource not accessible by integration' });

    const started = await startCheckRun(client(), {
      owner: 'acme',
      repo: 'portal',
      name: checkRunName('client-portal', 'production'),
      headSha: SHA,
    });

    expect(started).toEqual({
      degraded: expect.stringMatching(/403 Resource not accessible by integration.*checks: write/),
    });
    api.done();
    expect(api.scope.isDone()).toBe(true);
  });

  test('a 403 while completing degrades', async () => {
    const api = githubApi();
    api.intercept('PATCH', RUN).reply(403, { message: 'Resource not accessible by integration' });

    const done = await completeCheckRun(client(), {
      owner: 'acme',
      repo: 'portal',
      id: 42,
      conclusion: 'success',
      title: 't',
      summary: 's',
      annotations: annotations(3),
    });

    expect(done).toEqual({ degraded: expect.stringContaining('check run 42 on acme/portal') });
    api.done();
  });

  test('a validation error (422) is not a permission problem: it throws', async () => {
    const api = githubApi();
    api.intercept('POST', '/repos/acme/portal/check-runs').reply(422, { message: 'No commit found for SHA' });

    await expect(
      startCheckRun(client(), { owner: 'acme', repo: 'portal', name: 'x', headSha: SHA }),
    ).rejects.toThrow(/acme\/portal@aaaaaaaaaaaa: 422 No commit found for SHA/);
    api.done();
  });
});

describe('the OpenAPI harness on check runs', () => {
  test('accepts what startCheckRun and completeCheckRun send', () => {
    expect(
      validateRequest('POST', '/repos/acme/portal/check-runs', {
        name: 'n',
        head_sha: SHA,
        status: 'in_progress',
      }),
    ).toEqual([]);
  });

  test.each([
    [
      'an unknown status',
      { name: 'n', head_sha: SHA, status: 'running' },
      /body\/status: must be equal to one of the allowed values/,
    ],
    ['a missing head_sha', { name: 'n' }, /required property 'head_sha'/],
    ['a camelCase field', { name: 'n', head_sha: SHA, detailsUrl: 'x' }, /unknown property "detailsUrl"/],
  ])('rejects a create with %s', (_name, body, problem) => {
    expect(validateRequest('POST', '/repos/acme/portal/check-runs', body).join('\n')).toMatch(problem);
  });

  test('rejects more than 50 annotations in one update', () => {
    const problems = validateRequest('PATCH', RUN, {
      output: { title: 't', summary: 's', annotations: annotations(51) },
    });
    expect(problems.join('\n')).toMatch(/annotations: must NOT have more than 50 items/);
  });
});
