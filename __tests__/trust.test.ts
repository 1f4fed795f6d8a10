import { loadProject } from '../src/core/project.js';
import { trustReport } from '../src/core/report/trust.js';
import { baseRepo, memoryReader } from './helpers/repo.js';

const ctx = {
  repository: 'acme/portal',
  sha: 'a'.repeat(40),
  ref: 'refs/heads/main',
  runId: '1',
  actor: 'octocat',
};

test('trust-policy scopes each step to the same resolved S3 state object the step itself uses', () => {
  const repo = baseRepo();
  const site = repo.sites.s1!;
  site.extra = {
    ...site.extra,
    state: { backend: 's3', bucket: 'tfstate-#{Environment}', region: 'us-east-1', key_prefix: 'sites' },
  };
  const { graph } = loadProject(
    memoryReader(repo),
    { configRoot: 'sites', catalog: 'modules' },
    ctx,
    's1',
    'prod',
  );
  const report = trustReport(graph, ctx.repository)!;
  const step = report.steps.find((s) => s.module === 'networking')!;
  const text = JSON.stringify(step.policy);
  expect(text).not.toContain('#{');
  expect(text).toContain('arn:aws:s3:::tfstate-prod/sites/s1/prod/networking.tfstate');
  expect(report.roles[0]!.trustPolicy).toMatchObject({
    Statement: [
      {
        Condition: {
          StringEquals: { 'token.actions.githubusercontent.com:sub': 'repo:acme/portal:environment:prod' },
        },
      },
    ],
  });
});

test('with S3 state, trust-policy also prints the run lock session: only the lock object beside the state', () => {
  const repo = baseRepo();
  const site = repo.sites.s1!;
  site.extra = {
    ...site.extra,
    state: { backend: 's3', bucket: 'tfstate', region: 'us-east-1', key_prefix: 'sites' },
  };
  const { graph } = loadProject(
    memoryReader(repo),
    { configRoot: 'sites', catalog: 'modules' },
    ctx,
    's1',
    'prod',
  );
  const report = trustReport(graph, ctx.repository)!;
  const lock = report.steps.find((s) => s.module === 'run-lock')!;
  expect(lock.sessionName).toBe('sd-s1-prod-run-lock');
  expect(lock.services).toEqual([]);
  const statements = (lock.policy as { Statement: { Action: unknown; Resource: unknown }[] }).Statement;
  expect(statements[0]).toEqual({
    Effect: 'Allow',
    Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
    Resource: [
      'arn:aws:s3:::tfstate/sites/s1/prod/site-deploy.lock',
      'arn:aws:s3:::tfstate/sites/s1/prod/site-deploy.lock.tflock',
    ],
  });
});

test('with local state there is no run lock session', () => {
  const { graph } = loadProject(
    memoryReader(baseRepo()),
    { configRoot: 'sites', catalog: 'modules' },
    ctx,
    's1',
    'prod',
  );
  expect(trustReport(graph, ctx.repository)!.steps.map((s) => s.module)).toEqual(['networking', 'app']);
});

test('the plan role also trusts this repository’s merge-queue branches (StringLike), the apply role does not', () => {
  const repo = baseRepo();
  repo.sites.s1!.credentials = {
    dev: {
      ...(repo.sites.s1!.credentials!.dev as object),
      plan_role: 'arn:aws:iam::111111111111:role/plan-dev',
    },
    prod: repo.sites.s1!.credentials!.prod!,
  };
  const { graph } = loadProject(
    memoryReader(repo),
    { configRoot: 'sites', catalog: 'modules' },
    ctx,
    's1',
    'dev',
  );
  const report = trustReport(graph, ctx.repository)!;
  const plan = report.roles.find((r) => r.purpose === 'plan')!.trustPolicy as { Statement: unknown[] };
  expect(plan.Statement[1]).toMatchObject({
    Sid: 'GitHubMergeQueueOidc',
    Condition: {
      StringLike: {
        'token.actions.githubusercontent.com:sub': 'repo:acme/portal:ref:refs/heads/gh-readonly-queue/*',
      },
    },
  });
  const apply = report.roles.find((r) => r.purpose === 'apply')!.trustPolicy as { Statement: unknown[] };
  expect(apply.Statement).toHaveLength(1);
});
