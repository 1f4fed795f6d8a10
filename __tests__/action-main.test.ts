// The action's front door in-process, against the sources, with @actions/core faked
// (fixtures/core.ts): inputs read once, every problem an annotation, outputs and failure set once.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as core from './fixtures/core.js';
import { ACTION_DEFAULTS } from './helpers/action-runner.js';
import { baseRepo, cleanupRepos, writeRepo } from './helpers/repo.js';

jest.unstable_mockModule('@actions/core', () => core);
const { run } = await import('../src/adapters/action/main.js');

const DEFAULTS = { ...ACTION_DEFAULTS, command: 'validate' };

let root: string;
const saved = { workspace: process.env.GITHUB_WORKSPACE };
beforeAll(async () => {
  root = await writeRepo(baseRepo(), {
    'sites/s1/environments/dev.yaml':
      'environment: dev\nvariables:\n  vpc_cidr: 10.0.0.0/16\n  domain: "#{domian}"\n',
  });
  process.env.GITHUB_WORKSPACE = root;
});
afterAll(async () => {
  if (saved.workspace === undefined) delete process.env.GITHUB_WORKSPACE;
  else process.env.GITHUB_WORKSPACE = saved.workspace;
  await cleanupRepos();
});

describe('the action front door, in-process', () => {
  test('validate: each problem is one annotation at its file and line; status failed; the step fails once', async () => {
    core.resetCore({ ...DEFAULTS, 'github-token': 'ghs_fixtureToken000000000000000000000000' });
    await run();
    expect(core.calls.secrets[0]).toBe('ghs_fixtureToken000000000000000000000000'); // masked first
    expect(core.calls.errors).toEqual([
      {
        message: expect.stringMatching(
          /^unknown variable "domian" — did you mean "domain"\?/,
        ) as unknown as string,
        props: {
          title: 'site-deploy',
          file: 'sites/s1/environments/dev.yaml',
          startLine: 4,
          startColumn: 12,
        },
      },
    ]);
    expect(core.calls.outputs.status).toBe('failed');
    expect(JSON.parse(core.calls.outputs.summary ?? '{}')).toEqual({ ok: false, errors: 1, warnings: 0 });
    expect(core.calls.failed).toEqual(['1 configuration error: see the annotations']);
  });

  test('a bad input fails the step naming it, before anything runs', async () => {
    core.resetCore({ ...DEFAULTS, command: 'plan', 'max-parallel': 'many' });
    await run();
    expect(core.calls.failed).toEqual([
      'input "max-parallel" must be a whole number from 1 to 64, not "many"',
    ]);
    expect(core.calls.outputs.status).toBe('failed');
  });

  test('a github-token-login that is no GitHub login fails the step naming the input', async () => {
    core.resetCore({ ...DEFAULTS, command: 'apply', 'github-token-login': 'my app' });
    await run();
    expect(core.calls.failed).toEqual([
      'input "github-token-login" must be a GitHub login such as github-actions[bot] or my-app[bot], not "my app"',
    ]);
  });

  test('plan without site and environment names both inputs', async () => {
    core.resetCore({ ...DEFAULTS, command: 'plan' });
    await run();
    expect(core.calls.failed).toEqual(['command "plan" needs the inputs site and environment']);
  });
});

describe('state on a runner', () => {
  test('plan with the implicit local state is refused at site.yaml, naming state:', async () => {
    const ws = await writeRepo(baseRepo());
    const before = process.env.GITHUB_WORKSPACE;
    process.env.GITHUB_WORKSPACE = ws;
    try {
      core.resetCore({ ...DEFAULTS, command: 'plan', site: 's1', environment: 'dev' });
      await run();
      expect(core.calls.failed).toHaveLength(1);
      expect(core.calls.failed[0]).toMatch(/^1 problem in the configuration|site "s1" sets no state:/);
      expect(core.calls.errors).toEqual([
        {
          message: expect.stringMatching(
            /^site "s1" sets no state: in sites\/s1\/site\.yaml, so its Terraform state would be local — on a GitHub runner that starts from nothing every run/,
          ) as unknown as string,
          props: { title: 'site-deploy', file: 'sites/s1/site.yaml', startLine: 1, startColumn: 1 },
        },
      ]);
      expect(core.calls.outputs.status).toBe('failed');
    } finally {
      process.env.GITHUB_WORKSPACE = before;
    }
  });
});
