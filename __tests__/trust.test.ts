import { loadProject } from '../src/core/project.js';
import { trustReport } from '../src/core/credentials/trust.js';
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
