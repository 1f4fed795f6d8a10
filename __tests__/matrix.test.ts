// `matrix` (SPEC §9): every site × environment, and with --changed-from only what a change affects,
// on a real temporary git repository; and the bundled action's `matrix` output as the runner sees it.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { runMain } from './helpers/cli-in-process.js';
import type { MatrixDocument } from '../src/core/matrix.js';
import { runBundledAction } from './helpers/action-runner.js';
import { baseRepo, cleanupRepos, creds, writeRepo, type RepoDesc } from './helpers/repo.js';

afterAll(cleanupRepos);

const cli = runMain;

const git = (root: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** s1 (dev, prod; promotion dev → prod; a prod-only module), s2 (dev, uses app too), a README. */
function repoDesc(): RepoDesc {
  const repo = baseRepo();
  const s1 = repo.sites.s1!;
  s1.extra = { ...s1.extra, promotion: ['dev', 'prod'] };
  s1.modules.push({ type: 'dns', name: 'edge', environments: ['prod'] });
  s1.modules[0] = { ...(s1.modules[0] as object), config: 'modules/networking.yaml' };
  s1.configs = { 'modules/networking.yaml': { replicas: 2 } };
  repo.sites.s2 = {
    extra: { owner: 'platform' },
    modules: [{ type: 'app', vpc_id: 'vpc-1', domain: '#{domain}' }],
    envs: { dev: { lifecycle: 'ephemeral', variables: { domain: 'd.example.com' } } },
    credentials: { dev: creds('333333333333', 'dev', { region: 'eu-west-1' }) },
  };
  repo.files = { 'README.md': '# repo\n' };
  return repo;
}

let root: string;
let base: string;

beforeAll(async () => {
  root = await writeRepo(repoDesc());
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'add', '-A');
  git(root, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base');
  base = git(root, 'rev-parse', 'HEAD');
});

/** Applies a change on a fresh branch from the base commit, commits it, and returns the matrix since base. */
async function changed(name: string, change: () => Promise<void>): Promise<string[]> {
  git(root, 'checkout', '-q', '-B', name, base);
  await change();
  git(root, 'add', '-A');
  git(root, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', name, '--allow-empty');
  const r = await cli(['matrix', '--root', root, '--changed-from', 'main', '--json'], root);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as MatrixDocument).include.map((e) => `${e.site}/${e.environment}`);
}

const put = async (rel: string, text: string): Promise<void> => {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), text);
};

describe('the full matrix', () => {
  test('one entry per site × environment, sorted by site then stage, with account, region, lifecycle and stage', async () => {
    git(root, 'checkout', '-q', 'main');
    const r = await cli(['matrix', '--root', root, '--json'], root);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      include: [
        {
          site: 's1',
          environment: 'dev',
          account: '111111111111',
          region: 'us-east-1',
          lifecycle: 'long-lived',
          stage: 1,
        },
        {
          site: 's1',
          environment: 'prod',
          account: '222222222222',
          region: 'us-east-1',
          lifecycle: 'long-lived',
          stage: 2,
        },
        {
          site: 's2',
          environment: 'dev',
          account: '333333333333',
          region: 'eu-west-1',
          lifecycle: 'ephemeral',
          stage: 1,
        },
      ],
    });
  });
});

describe('--changed-from: only what a change affects', () => {
  test.each<[string, () => Promise<void>, string[]]>([
    [
      'an environment file → that environment',
      () =>
        put(
          'sites/s1/environments/dev.yaml',
          stringify({ environment: 'dev', variables: { vpc_cidr: '10.9.0.0/16', domain: 'x', replicas: 1 } }),
        ),
      ['s1/dev'],
    ],
    ['site.yaml → every environment of the site', () => writeRepoSite(), ['s1/dev', 's1/prod']],
    [
      'a per-module config file → the site',
      () => put('sites/s1/modules/networking.yaml', 'replicas: 3\n'),
      ['s1/dev', 's1/prod'],
    ],
    [
      'one entry of credentials.yaml → that environment only',
      () =>
        put(
          'sites/s1/credentials.yaml',
          stringify({
            credentials: {
              dev: creds('111111111111', 'dev'),
              prod: creds('222222222222', 'prod', { session_duration: 1800 }),
            },
          }),
        ),
      ['s1/prod'],
    ],
    [
      'a catalog folder → every site × environment deploying that type',
      () => put('modules/app/main.tf', '# changed\n'),
      ['s1/dev', 's1/prod', 's2/dev'],
    ],
    [
      'a catalog folder of a type filtered to one environment → that environment only',
      () => put('modules/dns/main.tf', '# changed\n'),
      ['s1/prod'],
    ],
    ['a file outside the config root and the catalog → nothing', () => put('README.md', '# changed\n'), []],
    ['a deleted environment is not an entry', () => deleteProd(), ['s1/dev']],
  ])('%s', async (name, change, expected) => {
    expect(await changed(name.replace(/\W+/g, '-'), change)).toEqual(expected);
  });

  test('on a developer machine an uncommitted edit counts (and an untracked file); in CI only commits do', async () => {
    git(root, 'checkout', '-q', '-B', 'uncommitted', base);
    await put(
      'sites/s2/environments/dev.yaml',
      stringify({ environment: 'dev', lifecycle: 'ephemeral', variables: { domain: 'e.example.com' } }),
    );
    await put('sites/s1/environments/prod-notes.yaml', '# not an environment file the site lists\n');
    const ci = process.env.CI;
    const actions = process.env.GITHUB_ACTIONS;
    const entries = async (): Promise<string[]> => {
      const r = await cli(['matrix', '--root', root, '--changed-from', 'main', '--json'], root);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as MatrixDocument).include.map((e) => `${e.site}/${e.environment}`);
    };
    try {
      delete process.env.CI;
      delete process.env.GITHUB_ACTIONS;
      // The edited environment file, and (untracked) a file in s1's environments folder.
      expect(await entries()).toEqual(['s1/dev', 's1/prod', 's2/dev']);
      process.env.CI = 'true';
      expect(await entries()).toEqual([]);
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
      if (actions === undefined) delete process.env.GITHUB_ACTIONS;
      else process.env.GITHUB_ACTIONS = actions;
      git(root, 'checkout', '-q', '-f', base);
      git(root, 'clean', '-qfd');
    }
  });

  test('an unknown ref is exit 2 naming it', async () => {
    git(root, 'checkout', '-q', 'main');
    const r = await cli(['matrix', '--root', root, '--changed-from', 'no-such-branch'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --changed-from no-such-branch: git knows no commit by that name/);
  });
});

/** Rewrites site.yaml with a comment: a change to the site's own file. */
async function writeRepoSite(): Promise<void> {
  const text = execFileSync('git', ['show', `${base}:sites/s1/site.yaml`], { cwd: root, encoding: 'utf8' });
  await put('sites/s1/site.yaml', `# reviewed\n${text}`);
}

/** Removes environment prod from s1: its file, its listing, its module filter and promotion stage. */
async function deleteProd(): Promise<void> {
  const desc = repoDesc();
  const s1 = desc.sites.s1!;
  delete s1.envs.prod;
  s1.extra = { owner: 'platform', promotion: ['dev'] };
  s1.modules = s1.modules.filter((m) => (m as { type: string }).type !== 'dns');
  const fresh = await writeRepo(desc);
  await rm(join(root, 'sites/s1/environments/prod.yaml'));
  const text = execFileSync('cat', [join(fresh, 'sites/s1/site.yaml')], { encoding: 'utf8' });
  await put('sites/s1/site.yaml', text);
}

describe('limits', () => {
  test('more entries than GitHub runs is exit 2 saying how to split', async () => {
    const desc = baseRepo();
    const s1 = desc.sites.s1!;
    for (let i = 0; i < 129; i++) desc.sites[`s${i + 2}`] = { ...s1, name: `s${i + 2}` };
    const big = await writeRepo(desc);
    const r = await cli(['matrix', '--root', big, '--json'], big);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, status: 'invalid', exit_code: 2 });
    expect(r.stderr).toMatch(
      /^error: the matrix has 260 site × environment entries; GitHub runs at most 256 jobs of one matrix\. Split it:/,
    );
  });
});

describe('the bundled action, command: matrix', () => {
  test('on a pull request: the `matrix` output parses as a matrix of what the pull request changed', async () => {
    const ws = await writeRepo(repoDesc());
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base');
    const baseSha = git(ws, 'rev-parse', 'HEAD');
    git(ws, 'checkout', '-q', '-b', 'feature');
    await writeFile(
      join(ws, 'sites/s2/environments/dev.yaml'),
      stringify({ environment: 'dev', lifecycle: 'ephemeral', variables: { domain: 'new.example.com' } }),
    );
    git(ws, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'change');
    const run = await runBundledAction({
      root: ws,
      inputs: { command: 'matrix' },
      event: {
        name: 'pull_request',
        payload: {
          number: 3,
          pull_request: {
            number: 3,
            base: { sha: baseSha, ref: 'main' },
            head: { sha: git(ws, 'rev-parse', 'HEAD') },
          },
        },
      },
      env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_SHA: git(ws, 'rev-parse', 'HEAD') },
    });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.outputs.matrix ?? '') as MatrixDocument;
    expect(doc).toEqual({
      include: [
        {
          site: 's2',
          environment: 'dev',
          account: '333333333333',
          region: 'eu-west-1',
          lifecycle: 'ephemeral',
          stage: 1,
        },
      ],
    });
    expect(run.outputs.status).toBe('succeeded');
  });
});
