// The module graph with an in-memory ConfigReader: edges, weights, waves, the strictly-lower-weight
// rule, dependency ordering, environment filters, input resolution and redaction (SPEC §2–§4, §9).
import { describe, expect, test } from '@jest/globals';
import type { Layout } from '../src/core/config/load.js';
import type { RunContext } from '../src/core/config/scope.js';
import type { Problem } from '../src/core/errors.js';
import { Problems } from '../src/core/errors.js';
import {
  deploysTo,
  graphDocument,
  isSensitiveInput,
  REDACTED,
  type SiteGraph,
} from '../src/core/graph/build.js';
import { withOutputs } from '../src/core/inputs.js';
import { validateProject } from '../src/core/project.js';
import { baseCatalog, memoryReader, type RepoDesc } from './helpers/repo.js';

const LAYOUT: Layout = { configRoot: 'sites', catalog: 'modules' };
const CTX: RunContext = {
  repository: 'org/repo',
  sha: 'abcdef0123456789abcdef0123456789abcdef01',
  ref: 'refs/heads/main',
  runId: '7',
  actor: 'octocat',
};

/** Site s1 with the given modules and environments; no AWS needed unless a module says so. */
function site(
  modules: Record<string, unknown>[],
  opts: { envs?: RepoDesc['sites'][string]['envs']; extra?: Record<string, unknown> } = {},
): RepoDesc {
  return {
    sites: {
      s1: {
        extra: opts.extra,
        modules,
        envs: opts.envs ?? {
          dev: { variables: { domain: 'Dev.Example.com', n: 3, zones: ['a', 'b'] } },
          prod: { variables: { domain: 'example.com', n: 5, zones: ['c'], prod_only: 'p' } },
        },
        credentials: {
          dev: { aws_account: '111111111111', role: 'arn:aws:iam::111111111111:role/d', region: 'us-east-1' },
          prod: {
            aws_account: '222222222222',
            role: 'arn:aws:iam::222222222222:role/p',
            region: 'us-east-1',
          },
        },
      },
    },
    catalog: baseCatalog(),
  };
}

function validate(desc: RepoDesc, env?: string) {
  return validateProject(memoryReader(desc), LAYOUT, CTX, { site: 's1', env });
}

function graphOf(desc: RepoDesc, env = 'dev'): SiteGraph {
  const v = validate(desc, env);
  expect(v.problems.filter((p) => p.severity === 'error')).toEqual([]);
  const g = v.graphs[0];
  if (!g) throw new Error('no graph');
  return g;
}

const waveNames = (g: SiteGraph) => g.waves.map((w) => w.map((n) => n.name));
const errors = (ps: Problem[]) =>
  ps.filter((p) => p.severity === 'error').map((p) => `${p.line}:${p.column}: ${p.message}`);

describe('weights and waves', () => {
  test('default weights are 10 × position; waves group equal weights, lowest first, members by position', () => {
    const g = graphOf(
      site([
        { type: 'free', name: 'a' }, // 10
        { type: 'free', name: 'b', weight: 30 },
        { type: 'free', name: 'c' }, // 30
        { type: 'free', name: 'd', weight: 5 },
        { type: 'free', name: 'e' }, // 50
        { type: 'free', name: 'f', weight: 10 },
      ]),
    );
    expect(g.nodes.map((n) => [n.name, n.weight, n.position])).toEqual([
      ['a', 10, 1],
      ['b', 30, 2],
      ['c', 30, 3],
      ['d', 5, 4],
      ['e', 50, 5],
      ['f', 10, 6],
    ]);
    expect(waveNames(g)).toEqual([['d'], ['a', 'f'], ['b', 'c'], ['e']]);
  });

  test('fractional and negative weights order too', () => {
    const g = graphOf(
      site([
        { type: 'free', name: 'a', weight: 1.5 },
        { type: 'free', name: 'b', weight: -1 },
        { type: 'free', name: 'c', weight: 1.25 },
      ]),
    );
    expect(waveNames(g)).toEqual([['b'], ['c'], ['a']]);
  });

  test('edges come from placeholders and depends_on, deduplicated and sorted', () => {
    const g = graphOf(
      site([
        { type: 'aws-vpc', name: 'net', cidr: '10.0.0.0/16' },
        { type: 'dns', name: 'zone' },
        {
          type: 'app',
          vpc_id: '#{net.vpc_id}',
          domain: '#{zone.fqdn}-#{net.subnet_ids}',
          zones: ['#{net.subnet_ids}'],
          depends_on: ['zone', 'net'],
        },
      ]),
    );
    expect(g.nodes.map((n) => [n.name, n.dependsOn])).toEqual([
      ['net', []],
      ['zone', []],
      ['app', ['net', 'zone']],
    ]);
  });

  test('an upstream with a strictly lower weight is fine', () => {
    const v = validate(
      site([
        { type: 'free', name: 'up', weight: 9 },
        { type: 'free', name: 'down', weight: 10, x: '#{up.out}', depends_on: ['up'] },
      ]),
    );
    expect(v.ok).toBe(true);
  });

  test.each<[string, Record<string, unknown>[], RegExp]>([
    [
      'placeholder to an equal weight',
      [
        { type: 'free', name: 'up', weight: 10 },
        { type: 'free', name: 'down', weight: 10, x: '#{up.out}' },
      ],
      /module "down" \(weight 10\) reads #\{up\.out\} from module "up" \(weight 10\): an upstream must have a strictly lower weight/,
    ],
    [
      'placeholder to a heavier module',
      [
        { type: 'free', name: 'up', weight: 20 },
        { type: 'free', name: 'down', weight: 10, x: '#{up.out}' },
      ],
      /module "down" \(weight 10\) reads #\{up\.out\} from module "up" \(weight 20\)/,
    ],
    [
      'depends_on an equal weight',
      [
        { type: 'free', name: 'up', weight: 10 },
        { type: 'free', name: 'down', weight: 10, depends_on: ['up'] },
      ],
      /module "down" \(weight 10\) depends_on module "up" \(weight 10\)/,
    ],
    [
      'depends_on a heavier module',
      [
        { type: 'free', name: 'down', weight: 10, depends_on: ['up'] },
        { type: 'free', name: 'up', weight: 20 },
      ],
      /module "down" \(weight 10\) depends_on module "up" \(weight 20\)/,
    ],
  ])('%s is a validation error naming both (never an exception)', (_n, modules, message) => {
    let v: ReturnType<typeof validate> | undefined;
    expect(() => {
      v = validate(site(modules));
    }).not.toThrow();
    expect(v?.ok).toBe(false);
    expect(v?.problems.map((p) => p.message)).toEqual([expect.stringMatching(message)]);
  });

  test('duplicate module names are a validation error, never an exception', () => {
    let v: ReturnType<typeof validate> | undefined;
    expect(() => {
      v = validate(
        site([
          { type: 'free', name: 'a' },
          { type: 'dns', name: 'a' },
        ]),
      );
    }).not.toThrow();
    expect(errors(v?.problems ?? [])).toEqual([expect.stringMatching(/module name "a" is used twice/)]);
  });

  test('depends_on itself and reading its own output are errors', () => {
    const v = validate(site([{ type: 'free', name: 'me', x: '#{me.out}', depends_on: ['me'] }]));
    expect(v.problems.map((p) => p.message).sort()).toEqual([
      'module "me" depends on itself',
      'module "me" reads its own output #{me.out}',
    ]);
  });

  test('depends_on an unknown module suggests the closest', () => {
    const v = validate(
      site([
        { type: 'free', name: 'networking' },
        { type: 'free', name: 'app', depends_on: ['netwroking'] },
      ]),
    );
    expect(errors(v.problems)).toEqual([
      expect.stringMatching(
        /module "app" depends_on unknown module "netwroking" — did you mean "networking"\?/,
      ),
    ]);
  });
});

describe('ordering: dependencies', () => {
  test('waves are dependency levels; weights only break ties; the lower-weight rule does not apply', () => {
    const g = graphOf(
      site(
        [
          { type: 'free', name: 'a', weight: 10 },
          { type: 'free', name: 'b', weight: 20 },
          { type: 'free', name: 'c', weight: 30, depends_on: ['a'] },
          { type: 'free', name: 'd', weight: 5 },
          { type: 'free', name: 'e', weight: 1, v: '#{c.out}' },
        ],
        { extra: { ordering: 'dependencies' } },
      ),
    );
    expect(g.site.ordering).toBe('dependencies');
    expect(waveNames(g)).toEqual([['d', 'a', 'b'], ['c'], ['e']]);
  });

  test.each<[string, Record<string, unknown>[], string]>([
    [
      'depends_on',
      [
        { type: 'free', name: 'x', depends_on: ['y'] },
        { type: 'free', name: 'y', depends_on: ['x'] },
      ],
      'x -> y -> x',
    ],
    [
      'placeholders',
      [
        { type: 'free', name: 'x', v: '#{y.out}' },
        { type: 'free', name: 'y', v: '#{x.out}' },
      ],
      'x -> y -> x',
    ],
    [
      'a longer loop',
      [
        { type: 'free', name: 'p', v: '#{r.o}' },
        { type: 'free', name: 'q', depends_on: ['p'] },
        { type: 'free', name: 'r', v: '#{q.o}' },
      ],
      'p -> r -> q -> p',
    ],
  ])('a cycle through %s is an error that prints its path', (_n, modules, path) => {
    const v = validate(site(modules, { extra: { ordering: 'dependencies' } }), 'dev');
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.message)).toEqual([expect.stringContaining(path)]);
    expect(v.graphs[0]?.waves).toEqual([]);
  });
});

describe('environment filters', () => {
  const modules = [
    { type: 'aws-vpc', name: 'net', cidr: 'x', environments: ['prod'] },
    { type: 'free', name: 'mon', alarm: '#{prod_only}', environments: ['prod'] },
    { type: 'free', name: 'always', depends_on: ['net'] },
  ];

  test('a module absent from an environment is not in its graph, its inputs are not resolved, and depends_on it is no edge', () => {
    const dev = graphOf(site(modules), 'dev');
    expect(dev.nodes.map((n) => [n.name, n.dependsOn])).toEqual([['always', []]]);
    const prod = graphOf(site(modules), 'prod');
    expect(prod.nodes.map((n) => [n.name, n.dependsOn])).toEqual([
      ['net', []],
      ['mon', []],
      ['always', ['net']],
    ]);
    expect(deploysTo(prod.nodes[0]?.module as never, 'dev')).toBe(false);
  });

  test('reading an output of a module filtered out of the environment names both modules', () => {
    const v = validate(
      site([
        { type: 'aws-vpc', name: 'net', cidr: 'x', environments: ['prod'] },
        { type: 'app', vpc_id: '#{net.vpc_id}' },
      ]),
    );
    expect(v.problems.map((p) => p.message)).toEqual([
      'module "app" reads #{net.vpc_id}, but module "net" does not deploy to environment dev (its environments: prod) (environment dev)',
    ]);
  });
});

describe('inputs', () => {
  const desc = () =>
    site([
      { type: 'aws-vpc', name: 'net', cidr: '10.0.0.0/16', replicas: '#{n}' },
      {
        type: 'app',
        vpc_id: '#{net.vpc_id}',
        domain: '#{domain | ToLower}',
        replicas: '#{n}',
        labels: 'm=#{Module}/#{ModuleType}/#{Environment} z=#{zones}',
        zones: '#{net.subnet_ids}',
        db_password: 'hunter2',
        license: 'L',
      },
    ]);

  test('resolved with types kept; unknown outputs stay as text and are listed pending', () => {
    const v = validate(desc(), 'dev');
    expect(v.ok).toBe(true);
    const g = v.graphs[0] as SiteGraph;
    const app = g.nodes[1];
    if (!app) throw new Error('no app');
    const r = app.bound.unresolved;
    expect(r).toEqual({
      inputs: {
        vpc_id: '#{net.vpc_id}',
        domain: 'dev.example.com',
        replicas: 3,
        labels: 'm=app/app/dev z=["a","b"]',
        zones: '#{net.subnet_ids}',
        db_password: 'hunter2',
        license: 'L',
      },
      pending: ['net.subnet_ids', 'net.vpc_id'],
      mocked: [],
      fromState: [],
      sensitive: ['license'],
      problems: [],
    });
  });

  test('known and mocked outputs are substituted (types kept) and mocked ones reported', () => {
    const v = validate(desc(), 'dev');
    const g = v.graphs[0] as SiteGraph;
    const app = g.nodes[1];
    if (!app) throw new Error('no app');
    const r = withOutputs(v.workspace, g, app.bound, {
      fromRun: (_m, o) => (o === 'subnet_ids' ? { value: ['s-1', 's-2'], sensitive: false } : undefined),
      mocks: true,
    });
    expect(r.problems).toEqual([]);
    expect(r.inputs).toMatchObject({ vpc_id: 'vpc-00000000', zones: ['s-1', 's-2'] });
    expect(r.mocked).toEqual(['net.vpc_id']);
    expect(r.pending).toEqual([]);
  });

  test('a wrong type is caught once the value is known, naming the output it came from', () => {
    const v = validate(desc(), 'dev');
    const g = v.graphs[0] as SiteGraph;
    const app = g.nodes[1];
    if (!app) throw new Error('no app');
    const r = withOutputs(v.workspace, g, app.bound, {
      fromRun: () => ({ value: 42, sensitive: false }),
      mocks: false,
    });
    expect(r.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`)).toEqual([
      'sites/s1/site.yaml:9:15: input "vpc_id" of module "app" must be a string, but net.vpc_id is a number',
      'sites/s1/site.yaml:13:14: input "zones" of module "app" must be a list, but net.subnet_ids is a number',
    ]);
  });

  test('an input computed from a sensitive output is sensitive; a declared one is too', () => {
    const v = validate(desc(), 'dev');
    const g = v.graphs[0] as SiteGraph;
    const app = g.nodes[1];
    if (!app) throw new Error('no app');
    const r = withOutputs(v.workspace, g, app.bound, {
      fromRun: (_m, o) => ({ value: o === 'vpc_id' ? 'vpc-1' : ['a'], sensitive: o === 'subnet_ids' }),
      mocks: false,
    });
    // labels embeds #{zones}, a variable: not tainted. zones reads the sensitive output.
    expect(r.sensitive.sort()).toEqual(['license', 'zones']);
  });

  test('secrets: manifest sensitive inputs and secret-looking names are redacted', () => {
    const g = graphOf(desc());
    const app = g.nodes[1];
    if (!app) throw new Error('no app');
    expect(
      ['db_password', 'license', 'domain', 'api_key', 'github_token', 'private_key', 'replicas'].map((k) => [
        k,
        isSensitiveInput(app, k),
      ]),
    ).toEqual([
      ['db_password', true],
      ['license', true],
      ['domain', false],
      ['api_key', true],
      ['github_token', true],
      ['private_key', true],
      ['replicas', false],
    ]);
  });

  test('graph --json resolves inputs from the upstream state, hiding those computed from a sensitive output', () => {
    const v = validate(desc(), 'dev');
    const g = v.graphs[0] as SiteGraph;
    const secrets: unknown[] = [];
    const state: Record<string, { value: unknown; sensitive: boolean }> = {
      vpc_id: { value: 'vpc-0abc', sensitive: false },
      subnet_ids: { value: ['s-secret'], sensitive: true },
    };
    const doc = graphDocument(v.workspace, g, new Problems(), (x) => secrets.push(x), {
      fromRun: () => undefined,
      fromState: (m, o) => (m === 'net' ? state[o] : undefined),
      mocks: false,
    });
    const app = doc.waves[1]?.[0];
    expect(app?.inputs).toMatchObject({ vpc_id: 'vpc-0abc', zones: REDACTED, db_password: REDACTED });
    expect(JSON.stringify(doc)).not.toContain('s-secret');
    expect(secrets).toContainEqual(['s-secret']);
    // No state: the placeholder stays as its text.
    const bare = graphDocument(v.workspace, g, new Problems(), undefined, {
      fromRun: () => undefined,
      fromState: () => undefined,
      mocks: false,
    });
    expect(bare.waves[1]?.[0]?.inputs).toMatchObject({ vpc_id: '#{net.vpc_id}', zones: '#{net.subnet_ids}' });
  });

  test('graphDocument has the SPEC §9 shape', () => {
    const v = validate(desc(), 'dev');
    const g = v.graphs[0] as SiteGraph;
    const doc = graphDocument(v.workspace, g, new Problems()) as {
      site: string;
      environment: string;
      waves: unknown[][];
    };
    expect(doc).toMatchObject({
      site: 's1',
      environment: 'dev',
      waves: [
        [
          {
            name: 'net',
            type: 'aws-vpc',
            weight: 10,
            depends_on: [],
            inputs: { cidr: '10.0.0.0/16', replicas: 3 },
          },
        ],
        [
          {
            name: 'app',
            type: 'app',
            weight: 20,
            depends_on: ['net'],
            inputs: { db_password: REDACTED, license: REDACTED, zones: '#{net.subnet_ids}' },
          },
        ],
      ],
    });
  });
});
