// Happy paths through the bundled CLI: `validate` and `graph --json` on valid repositories (SPEC §2–§4, §9).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { REDACTED } from '../src/core/graph/build.js';
import {
  baseCatalog,
  cleanupRepos,
  creds,
  ensureBundle,
  problemLines,
  repoFiles,
  runCli,
  writeRepo,
  type Files,
  type RepoDesc,
} from './helpers/repo.js';

beforeAll(ensureBundle, 300_000);
afterAll(cleanupRepos);

const SECRET_PW = 's3cret-dev-pw';
const SECRET_LICENSE = 'LICENSE-abc-123';

/** A valid 4-module site "shop" with environments dev and prod; monitoring deploys to prod only. */
function shop(): RepoDesc {
  return {
    sites: {
      shop: {
        extra: { owner: 'web-team' },
        modules: [
          {
            type: 'aws-vpc',
            name: 'networking',
            cidr: '#{vpc_cidr}',
            replicas: '#{replicas}',
            tags: { env: '#{Environment}', site: '#{Site}' },
          },
          {
            type: 'app',
            vpc_id: '#{networking.vpc_id}',
            domain: '#{domain | ToLower}',
            replicas: '#{replicas}',
            db_password: '#{db_pw}',
            license: SECRET_LICENSE,
            labels: 'zones=#{zones}',
            zones: '#{zones}',
          },
          { type: 'dns', record: '#{app.url}', depends_on: ['networking'], note: '##{not_a_placeholder}' },
          // Reads a variable only prod defines: in dev its inputs are never resolved.
          {
            type: 'free',
            name: 'monitoring',
            weight: 30,
            environments: ['prod'],
            alarm_email: '#{alarm_email}',
          },
        ],
        envs: {
          dev: {
            variables: {
              vpc_cidr: '10.0.0.0/16',
              replicas: 2,
              domain: 'Dev.Shop.Example',
              db_pw: SECRET_PW,
              zones: ['a', 'b'],
            },
          },
          prod: {
            lifecycle: 'long-lived',
            variables: {
              vpc_cidr: '10.1.0.0/16',
              replicas: 3,
              domain: 'Shop.Example',
              db_pw: 'prod-pw',
              zones: ['a', 'b', 'c'],
              alarm_email: 'ops@example.com',
            },
          },
        },
        credentials: {
          dev: creds('111111111111', 'dev'),
          prod: creds('222222222222', 'prod', { session_duration: 3600 }),
        },
      },
    },
    catalog: baseCatalog(),
  };
}

interface GraphNodeDoc {
  name: string;
  type: string;
  weight: number;
  depends_on: string[];
  inputs: Record<string, unknown>;
}
interface GraphDoc {
  site: string;
  environment: string;
  waves: GraphNodeDoc[][];
}

async function graphJson(
  root: string,
  site: string,
  env: string,
): Promise<{ doc: GraphDoc; stdout: string; stderr: string }> {
  const run = await runCli(['graph', '--root', root, '--site', site, '--env', env, '--json']);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(run.stdout.endsWith('\n')).toBe(true);
  expect(run.stdout.trim().split('\n')).toHaveLength(1);
  return { doc: JSON.parse(run.stdout) as GraphDoc, stdout: run.stdout, stderr: run.stderr };
}

const names = (doc: GraphDoc) => doc.waves.map((w) => w.map((n) => n.name));

describe('validate', () => {
  test('a valid 4-module site with 2 environments validates (exit 0)', async () => {
    const root = await writeRepo(shop());
    const run = await runCli(['validate', '--root', root]);
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: expect.stringMatching(
        /^✓ 1 site, 2 site×environments, 7 module steps: configuration is valid\n$/,
      ),
    });

    const json = await runCli(['validate', '--root', root, '--json']);
    expect(json.code).toBe(0);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, errors: [] });
  });

  test('--site and --env narrow what is validated', async () => {
    const root = await writeRepo(shop());
    const run = await runCli(['validate', '--root', root, '--site', 'shop', '--env', 'dev']);
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: expect.stringMatching(/1 site, 1 site×environment, 3 module steps/),
    });
  });

  test('--root defaults to the current folder', async () => {
    const root = await writeRepo(shop());
    const run = await runCli(['validate'], { cwd: root });
    expect(run.code).toBe(0);
  });

  test('--config-root and --catalog are relative to the root', async () => {
    const files = repoFiles(shop());
    const moved: Files = {};
    for (const [p, c] of Object.entries(files))
      moved[p.replace(/^sites\//, 'deploy/sites/').replace(/^modules\//, 'infra/catalog/')] = c;
    const root = await writeRepo(moved);
    expect((await runCli(['validate', '--root', root])).code).toBe(2);
    const run = await runCli([
      'validate',
      '--root',
      root,
      '--config-root',
      'deploy/sites',
      '--catalog',
      'infra/catalog',
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });

  test('the same role in two environments is a warning, not an error (exit 0)', async () => {
    const desc = shop();
    const site = desc.sites.shop as RepoDesc['sites'][string];
    site.credentials = { dev: creds('111111111111', 'shared'), prod: creds('111111111111', 'shared') };
    const root = await writeRepo(desc);
    const run = await runCli(['validate', '--root', root]);
    expect(run.code).toBe(0);
    const lines = problemLines(run.stderr);
    expect(lines).toEqual([
      expect.objectContaining({
        severity: 'warning',
        line: 8,
        column: 11,
        message: expect.stringMatching(
          /role arn:aws:iam::111111111111:role\/deploy-shared is also used by environment dev/,
        ),
      }),
    ]);
    expect(lines[0]?.file.endsWith('sites/shop/credentials.yaml')).toBe(true);
    expect(run.stdout).toMatch(/configuration is valid/);

    const json = await runCli(['validate', '--root', root, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, errors: [] });
  });

  test('a site whose modules need no AWS and whose state is local needs no credentials.yaml', async () => {
    const root = await writeRepo({
      sites: {
        solo: {
          modules: [
            { type: 'free', name: 'one' },
            { type: 'free', name: 'two', x: '#{Environment}-#{GitShortSha}' },
          ],
          envs: { dev: {} },
          credentials: null,
        },
      },
      catalog: baseCatalog(),
    });
    const run = await runCli(['validate', '--root', root]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('graph --json', () => {
  test('prints SPEC §9 shape: waves in weight order, edges, resolved inputs, secrets redacted', async () => {
    const root = await writeRepo(shop());
    const { doc, stdout } = await graphJson(root, 'shop', 'dev');
    // SPEC §9 keys (the CLI may add "ordering").
    expect(Object.keys(doc).filter((k) => k !== 'ordering')).toEqual(['site', 'environment', 'waves']);
    for (const node of doc.waves.flat())
      expect(Object.keys(node)).toEqual(['name', 'type', 'weight', 'depends_on', 'inputs']);
    const { site, environment, waves } = doc;
    expect({ site, environment, waves }).toEqual({
      site: 'shop',
      environment: 'dev',
      waves: [
        [
          {
            name: 'networking',
            type: 'aws-vpc',
            weight: 10,
            depends_on: [],
            inputs: { cidr: '10.0.0.0/16', replicas: 2, tags: { env: 'dev', site: 'shop' } },
          },
        ],
        [
          {
            name: 'app',
            type: 'app',
            weight: 20,
            depends_on: ['networking'],
            inputs: {
              vpc_id: '#{networking.vpc_id}', // output not known yet: stays as its text
              domain: 'dev.shop.example',
              replicas: 2, // a number stays a number
              db_password: REDACTED, // secret by name
              license: REDACTED, // sensitive in the manifest
              labels: 'zones=["a","b"]', // an embedded list is JSON-encoded
              zones: ['a', 'b'],
            },
          },
        ],
        // Placeholder edge (app) and explicit depends_on (networking), sorted; ##{x} stays the literal #{x}.
        [
          {
            name: 'dns',
            type: 'dns',
            weight: 30,
            depends_on: ['app', 'networking'],
            inputs: { record: '#{app.url}', note: '#{not_a_placeholder}' },
          },
        ],
      ],
    });
    expect(stdout).not.toContain(SECRET_PW);
    expect(stdout).not.toContain(SECRET_LICENSE);
  });

  test('environment filters: a module absent from an environment is absent from its graph', async () => {
    const root = await writeRepo(shop());
    const dev = await graphJson(root, 'shop', 'dev');
    const prod = await graphJson(root, 'shop', 'prod');
    expect(names(dev.doc)).toEqual([['networking'], ['app'], ['dns']]);
    // dns (default weight 30, position 3) and monitoring (weight 30) share one wave, in declaration order.
    expect(names(prod.doc)).toEqual([['networking'], ['app'], ['dns', 'monitoring']]);
    expect(prod.doc.waves[2]?.[1]).toEqual({
      name: 'monitoring',
      type: 'free',
      weight: 30,
      depends_on: [],
      inputs: { alarm_email: 'ops@example.com' },
    });
    expect(prod.doc.waves[0]?.[0]?.inputs).toEqual({
      cidr: '10.1.0.0/16',
      replicas: 3,
      tags: { env: 'prod', site: 'shop' },
    });
  });

  test('default weights are 10 × position; equal weights share a wave', async () => {
    const root = await writeRepo({
      sites: {
        w: {
          modules: [
            { type: 'free', name: 'a' },
            { type: 'free', name: 'b', after: '#{a.out}' },
            { type: 'free', name: 'c', weight: 20 },
            { type: 'free', name: 'd' },
            { type: 'free', name: 'e', weight: 5 },
          ],
          envs: { dev: {} },
          credentials: null,
        },
      },
      catalog: baseCatalog(),
    });
    const { doc } = await graphJson(root, 'w', 'dev');
    expect(doc.waves.map((w) => w.map((n) => [n.name, n.weight]))).toEqual([
      [['e', 5]],
      [['a', 10]],
      [
        ['b', 20],
        ['c', 20],
      ],
      [['d', 40]],
    ]);
    expect(doc.waves[2]?.[0]).toMatchObject({ depends_on: ['a'], inputs: { after: '#{a.out}' } });
  });

  test('ordering: dependencies lays waves out by dependency depth, weights only break ties', async () => {
    const root = await writeRepo({
      sites: {
        deps: {
          extra: { ordering: 'dependencies' },
          modules: [
            { type: 'free', name: 'a', weight: 10 },
            { type: 'free', name: 'b', weight: 20 },
            { type: 'free', name: 'c', weight: 30, depends_on: ['a'] },
            { type: 'free', name: 'd', weight: 5 },
            // A lighter module reading a heavier one is fine in this ordering.
            { type: 'free', name: 'e', weight: 1, v: '#{c.out}' },
          ],
          envs: { dev: {} },
          credentials: null,
        },
      },
      catalog: baseCatalog(),
    });
    const v = await runCli(['validate', '--root', root]);
    expect(v).toMatchObject({ code: 0, stderr: '' });
    const { doc } = await graphJson(root, 'deps', 'dev');
    expect(names(doc)).toEqual([['d', 'a', 'b'], ['c'], ['e']]);
    expect(doc.waves[2]?.[0]).toMatchObject({ name: 'e', weight: 1, depends_on: ['c'] });
  });

  test('graph without --json prints a table of waves on stdout', async () => {
    const root = await writeRepo(shop());
    const run = await runCli(['graph', '--root', root, '--site', 'shop', '--env', 'prod']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/shop \/ prod — 4 modules in 3 waves/);
    expect(run.stdout).toMatch(/wave 3 +30 +dns +dns +app, networking/);
    // Its inputs, resolved: variables filled in, secrets hidden, an output never applied still a placeholder.
    expect(run.stdout).toContain('  networking.cidr = "10.1.0.0/16"');
    expect(run.stdout).toContain('  app.vpc_id = "#{networking.vpc_id}"');
    expect(run.stdout).toContain('  app.db_password = (sensitive)');
    expect(run.stdout).not.toContain('prod-pw');
  });

  test('a sensitive value never appears in graph output, even when read through a variable', async () => {
    const desc = shop();
    const root = await writeRepo(desc);
    const { stdout } = await graphJson(root, 'shop', 'prod');
    expect(stdout).not.toContain('prod-pw');
    expect(stdout).not.toContain(SECRET_LICENSE);
  });
});
