// The config core with an in-memory ConfigReader: loading, input precedence, reserved keys,
// weights, variables, YAML limits and positions (SPEC §2, §3).
import { describe, expect, test } from '@jest/globals';
import { parseIamArn } from '../src/core/checks/credentials.js';
import { partitionOf } from '../src/core/credentials/session.js';
import {
  BUILTINS,
  joinInside,
  loadWorkspace,
  RESERVED_MODULE_KEYS,
  type Layout,
} from '../src/core/config/load.js';
import type { Site } from '../src/core/config/model.js';
import { Variables, type RunContext } from '../src/core/config/scope.js';
import { firstInvalidUtf8, MAX_CONFIG_BYTES, parseYaml } from '../src/core/yaml.js';
import { Problems } from '../src/core/errors.js';
import { validateProject } from '../src/core/project.js';
import { baseCatalog, baseRepo, memoryReader, yaml, type Files, type RepoDesc } from './helpers/repo.js';

const LAYOUT: Layout = { configRoot: 'sites', catalog: 'modules' };
const CTX: RunContext = {
  repository: 'org/repo',
  sha: '0123456789abcdef0123456789abcdef01234567',
  ref: 'refs/heads/main',
  runId: '42',
  actor: 'octocat',
};
const SITE_FILE = 'sites/s1/site.yaml';

function load(repo: RepoDesc | Files, overrides: Files = {}, only?: string) {
  const problems = new Problems();
  const reader = memoryReader(repo, overrides);
  const ws = loadWorkspace(reader, LAYOUT, problems, only);
  return { ws, problems, reader, site: ws.sites.get('s1') as Site };
}

/** One site s1 with the given module entries, environment dev, passthrough catalog plus the base one. */
function oneSite(
  modules: Record<string, unknown>[],
  configs: Record<string, Record<string, unknown>> = {},
): RepoDesc {
  return {
    sites: { s1: { modules, envs: { dev: { variables: { v: 'x' } } }, credentials: null, configs } },
    catalog: baseCatalog(),
  };
}

const inputsOf = (site: Site, i = 0) =>
  Object.fromEntries([...(site.modules[i]?.inputs ?? new Map())].map(([k, e]) => [k, e.value]));
const errorsOf = (p: Problems) =>
  p.list.filter((x) => x.severity === 'error').map((x) => `${x.file}:${x.line}:${x.column}: ${x.message}`);

describe('module inputs: config file, seed-style keys and inputs:', () => {
  test('precedence: config file lowest, then seed-style keys and inputs:', () => {
    const { site, problems } = load(
      oneSite(
        [
          {
            type: 'aws-vpc',
            name: 'networking',
            config: 'modules/networking.yaml',
            cidr: '10.0.0.0/16',
            inputs: { replicas: 5 },
          },
        ],
        {
          'modules/networking.yaml': { cidr: '10.9.0.0/16', replicas: 1, tags: { team: 'a' } },
        },
      ),
    );
    expect(errorsOf(problems)).toEqual([]);
    expect(inputsOf(site)).toEqual({ cidr: '10.0.0.0/16', replicas: 5, tags: { team: 'a' } });
    const origins = Object.fromEntries(
      [...(site.modules[0]?.inputs ?? new Map())].map(([k, e]) => [k, e.origin]),
    );
    expect(origins).toEqual({
      cidr: { file: SITE_FILE, path: ['site', 'modules', 0, 'cidr'] },
      replicas: { file: SITE_FILE, path: ['site', 'modules', 0, 'inputs', 'replicas'] },
      tags: { file: 'sites/s1/modules/networking.yaml', path: ['tags'] },
    });
  });

  test('the same input as a seed-style key and under inputs: is an error at the inputs: key', () => {
    const text = yaml`
      site:
        name: s1
        modules:
          - type: free
            name: one
            size: 1
            inputs:
              size: 2
    `;
    const { problems } = load(oneSite([]), { [SITE_FILE]: text });
    expect(errorsOf(problems)).toEqual([
      `${SITE_FILE}:8:9: input "size" of module "one" is given twice: as a key of the module entry and under inputs: — keep one`,
    ]);
  });

  test('the same input in the config file and in the entry is an override, not an error', () => {
    const { site, problems } = load(
      oneSite([{ type: 'free', config: 'm.yaml', a: 'entry', inputs: { b: 'inputs' } }], {
        'm.yaml': { a: 'file', b: 'file', c: 'file' },
      }),
    );
    expect(errorsOf(problems)).toEqual([]);
    expect(inputsOf(site)).toEqual({ a: 'entry', b: 'inputs', c: 'file' });
  });

  test('reserved keys are never inputs; a reserved name passes through inputs:', () => {
    const { site, problems } = load(
      oneSite(
        [
          { type: 'free', name: 'base' },
          {
            type: 'free',
            name: 'all',
            weight: 30,
            config: 'c.yaml',
            depends_on: ['base'],
            environments: ['dev'],
            outputs: ['x'],
            extra: 1,
            inputs: { name: 'through-inputs', weight: 'w', type: 't', outputs: ['o'] },
          },
        ],
        { 'c.yaml': { from_file: true } },
      ),
    );
    expect(errorsOf(problems)).toEqual([]);
    expect(inputsOf(site, 1)).toEqual({
      from_file: true,
      extra: 1,
      name: 'through-inputs',
      weight: 'w',
      type: 't',
      outputs: ['o'],
    });
    expect(site.modules[1]).toMatchObject({ name: 'all', type: 'free', weight: 30, environments: ['dev'] });
  });

  test('the reserved keys are exactly those of SPEC §2', () => {
    expect([...RESERVED_MODULE_KEYS].sort()).toEqual([
      'config',
      'depends_on',
      'environments',
      'inputs',
      'name',
      'outputs',
      'type',
      'weight',
    ]);
  });

  test('a manifest with inputs flags undeclared ones (config file too) with suggestions; without inputs it passes them through', () => {
    const { site, problems } = load(
      oneSite(
        [
          { type: 'aws-vpc', name: 'networking', config: 'net.yaml', cidr: 'x', wieght: 10 },
          { type: 'free', anything: 'goes', wieght: 1 },
        ],
        { 'net.yaml': { replicsa: 2 } },
      ),
    );
    expect(errorsOf(problems).sort()).toEqual([
      'sites/s1/net.yaml:1:1: module "networking" (aws-vpc) has no input "replicsa" — did you mean "replicas"?',
      `${SITE_FILE}:8:7: module "networking" (aws-vpc) has no input "wieght" — did you mean "weight"?`,
    ]);
    expect(inputsOf(site, 1)).toEqual({ anything: 'goes', wieght: 1 });
  });

  test('an input named like an Object.prototype member is not "declared" by the manifest', () => {
    const { problems } = load(oneSite([{ type: 'aws-vpc', cidr: 'x', toString: 'y', constructor: 'z' }]));
    expect(errorsOf(problems).map((e) => e.replace(/^.*?: /, ''))).toEqual([
      expect.stringMatching(/module "aws-vpc" \(aws-vpc\) has no input "toString"/),
      expect.stringMatching(/module "aws-vpc" \(aws-vpc\) has no input "constructor"/),
    ]);
  });

  test.each<[string, Files, RegExp, string]>([
    ['missing config file', {}, /config file sites\/s1\/nope\.yaml does not exist/, `${SITE_FILE}:6:15`],
    [
      'config file that is a list',
      { 'sites/s1/nope.yaml': '- a\n- b\n' },
      /\(top level\) must be a map/,
      'sites/s1/nope.yaml:1:1',
    ],
    [
      'config file with a bad input name',
      { 'sites/s1/nope.yaml': 'ok: 1\nbad name: 2\n' },
      /invalid name "bad name"/,
      'sites/s1/nope.yaml:2:1',
    ],
  ])('%s', (_n, files, message, at) => {
    const text =
      'site:\n  name: s1\n  modules:\n    - type: free\n      name: one\n      config: nope.yaml\n';
    const { problems } = load(oneSite([]), { [SITE_FILE]: text, ...files });
    const hit = problems.list.find((p) => message.test(p.message));
    expect(hit && `${hit.file}:${hit.line}:${hit.column}`).toBe(at);
  });
});

describe('module entries', () => {
  test('default weight is 10 × the 1-based position; name defaults to type', () => {
    const { site } = load(
      oneSite([
        { type: 'free' },
        { type: 'dns', weight: 5 },
        { type: 'free', name: 'third' },
        { type: 'aws-vpc', cidr: 'x', weight: 0 },
      ]),
    );
    expect(site.modules.map((m) => [m.name, m.weight, m.position])).toEqual([
      ['free', 10, 1],
      ['dns', 5, 2],
      ['third', 30, 3],
      ['aws-vpc', 0, 4],
    ]);
  });

  test('a non-finite weight (.nan, .inf) is a problem, not a weight', () => {
    const text =
      'site:\n  name: s1\n  modules:\n    - type: free\n      weight: .nan\n    - type: dns\n      weight: .inf\n';
    const { problems } = load(oneSite([]), { [SITE_FILE]: text });
    expect(problems.list.filter((p) => p.severity === 'error').map((p) => p.line)).toEqual([5, 7]);
  });

  test('duplicate names are an error at the second one', () => {
    const { problems } = load(
      oneSite([
        { type: 'free', name: 'a' },
        { type: 'free', name: 'a' },
      ]),
    );
    expect(errorsOf(problems)).toEqual([
      expect.stringMatching(/:7:13: module name "a" is used twice \(also modules\[0\]\)/),
    ]);
  });

  test('unknown module type suggests the closest catalog folder', () => {
    const { problems } = load(oneSite([{ type: 'aws-vcp' }]));
    expect(errorsOf(problems)).toEqual([
      expect.stringMatching(/unknown module type "aws-vcp".*did you mean "aws-vpc"\?/),
    ]);
  });
});

describe('sites and environments', () => {
  test('environments are discovered (sorted) when site.yaml does not list them', () => {
    const desc = baseRepo();
    const s = desc.sites.s1 as RepoDesc['sites'][string];
    s.listEnvironments = false;
    s.envs = { zeta: {}, alpha: { lifecycle: 'ephemeral' }, mid: {} };
    s.credentials = null;
    s.modules = [{ type: 'free' }];
    const { site, problems } = load(desc);
    expect(errorsOf(problems)).toEqual([]);
    expect([...site.environments.keys()]).toEqual(['alpha', 'mid', 'zeta']);
    expect(site.environments.get('alpha')?.lifecycle).toBe('ephemeral');
    expect(site.environments.get('mid')?.lifecycle).toBe('long-lived');
  });

  test('listed environments keep their order; listing one twice is an error', () => {
    const text =
      'site:\n  name: s1\n  modules:\n    - type: free\n  environments:\n    - path: environments/prod.yaml\n    - path: environments/dev.yaml\n    - path: environments/prod.yaml\n';
    const { site, problems } = load(baseRepo(), { [SITE_FILE]: text });
    expect([...site.environments.keys()]).toEqual(['prod', 'dev']);
    expect(errorsOf(problems)).toEqual([`${SITE_FILE}:8:13: environment "prod" is listed twice`]);
  });

  test('site defaults: slug = name, halt_on_failure true, ordering weights, local state', () => {
    const { site } = load(baseRepo());
    expect(site).toMatchObject({
      name: 's1',
      slug: 's1',
      haltOnFailure: true,
      ordering: 'weights',
      state: { backend: 'local' },
      dir: 'sites/s1',
      file: SITE_FILE,
    });
  });

  test('loading one site reads only that site', () => {
    const desc = baseRepo();
    desc.sites.other = { modules: [{ type: 'free' }], envs: { dev: {} }, credentials: null };
    const { ws, reader } = load(desc, {}, 'other');
    expect([...ws.sites.keys()]).toEqual(['other']);
    expect(ws.siteNames).toEqual(['other', 's1']);
    expect(reader.reads.some((p) => p.startsWith('sites/s1/'))).toBe(false);
  });

  test('a file larger than 1 MiB is refused by its size, without reading it', () => {
    const big = `site:\n  name: s1\n  description: "${'x'.repeat(MAX_CONFIG_BYTES)}"\n  modules:\n    - type: free\n`;
    const { problems, reader } = load(baseRepo(), { [SITE_FILE]: big });
    expect(errorsOf(problems)).toEqual([
      expect.stringMatching(
        new RegExp(`^${SITE_FILE}:1:1: file is \\d+ bytes; config files may be at most 1048576 bytes`),
      ),
    ]);
    expect(reader.reads).not.toContain(SITE_FILE);
  });
});

describe('variables and built-ins', () => {
  function variables(desc: RepoDesc, env = 'dev') {
    const problems = new Problems();
    const ws = loadWorkspace(memoryReader(desc), LAYOUT, problems);
    const site = ws.sites.get('s1') as Site;
    const environment = site.environments.get(env);
    if (!environment) throw new Error(`no env ${env}`);
    return {
      vars: new Variables(ws, site, environment, site.credentials?.entries.get(env), CTX, problems),
      problems,
    };
  }

  test('built-ins come from the site, environment, credentials and run', () => {
    const { vars } = variables(baseRepo());
    const got = Object.fromEntries(
      BUILTINS.filter((b) => !['Module', 'ModuleType'].includes(b)).map((b) => [b, vars.get(b)?.value]),
    );
    expect(got).toEqual({
      Environment: 'dev',
      Lifecycle: 'long-lived',
      Site: 's1',
      SiteSlug: 's1',
      Owner: 'platform',
      Repository: 'org/repo',
      GitSha: CTX.sha,
      GitShortSha: '0123456',
      Ref: 'refs/heads/main',
      RunId: '42',
      Actor: 'octocat',
      Account: '111111111111',
      Region: 'us-east-1',
    });
  });

  test('unavailable built-ins explain why', () => {
    const desc = baseRepo();
    const s = desc.sites.s1 as RepoDesc['sites'][string];
    s.extra = {};
    s.credentials = null;
    const { vars } = variables(desc);
    expect(vars.get('Owner')).toBeUndefined();
    expect(vars.unknown('Owner')).toMatch(/site\.owner/);
    expect(vars.unknown('Account')).toMatch(/credentials\.yaml has no entry for environment "dev"/);
    expect(vars.unknown('Module')).toMatch(/only available in module inputs/);
    expect(vars.unknown('domian')).toMatch(/unknown variable "domian" — did you mean "domain"\?/);
  });

  test('variables read variables, keep types, and report cycles with their path', () => {
    const desc = baseRepo();
    (desc.sites.s1 as RepoDesc['sites'][string]).envs.dev = {
      variables: {
        base: 'example.com',
        host: 'www.#{base}',
        n: 3,
        same: '#{n}',
        list: ['#{base}', '#{n}'],
        a: '#{b}',
        b: '#{c}',
        c: '#{a}',
      },
    };
    const { vars, problems } = variables(desc);
    expect(vars.get('host')?.value).toBe('www.example.com');
    expect(vars.get('same')?.value).toBe(3);
    expect(vars.get('list')?.value).toEqual(['example.com', 3]);
    vars.get('a');
    expect(problems.list.map((p) => p.message)).toEqual(['variable cycle: a -> b -> c -> a']);
  });
});

describe('yaml', () => {
  test.each<[string, number[], number]>([
    ['ascii', [0x61, 0x62], -1],
    ['2-byte é', [0xc3, 0xa9], -1],
    ['4-byte emoji', [0xf0, 0x9f, 0x98, 0x80], -1],
    ['lone 0xff', [0x61, 0xff], 1],
    ['overlong NUL', [0xc0, 0x80], 0],
    ['overlong 3-byte', [0xe0, 0x80, 0xaf], 0],
    ['UTF-16 surrogate encoded', [0x61, 0xed, 0xa0, 0x80], 1],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['truncated sequence', [0x61, 0x62, 0xe2, 0x82], 2],
    ['stray continuation', [0x80], 0],
  ])('firstInvalidUtf8: %s', (_n, bytes, at) => {
    expect(firstInvalidUtf8(new Uint8Array(bytes))).toBe(at);
  });

  test('a byte-order mark is accepted and positions stay right', () => {
    const problems = new Problems();
    const y = parseYaml('\ufeffa: 1\nb:\n  c: [x, y]\n', 'f.yaml', problems);
    expect(problems.list).toEqual([]);
    expect(y?.value).toEqual({ a: 1, b: { c: ['x', 'y'] } });
    expect(y?.locate(['b', 'c', 1])).toEqual({ file: 'f.yaml', line: 3, column: 10 });
    expect(y?.locate(['b', 'c'], true)).toEqual({ file: 'f.yaml', line: 3, column: 3 });
    expect(y?.locate(['b', 'nope', 3])).toEqual({ file: 'f.yaml', line: 3, column: 3 });
  });

  test('locateInString points inside plain and quoted scalars', () => {
    const problems = new Problems();
    const y = parseYaml('a: plain #{x}\nb: "q #{y}"\nc: \'s #{z}\'\n', 'f.yaml', problems);
    expect(y?.locateInString(['a'], 6)).toEqual({ file: 'f.yaml', line: 1, column: 10 });
    expect(y?.locateInString(['b'], 2)).toEqual({ file: 'f.yaml', line: 2, column: 7 });
    expect(y?.locateInString(['c'], 2)).toEqual({ file: 'f.yaml', line: 3, column: 7 });
  });

  // SPEC §2: "at most 100 alias expansions" — 100 must pass, 101 must not.
  test('up to 100 alias expansions are fine; more are an alias bomb', () => {
    const ok = new Problems();
    const refs = Array(100).fill('*a').join(', ');
    expect(parseYaml(`a: &a x\nb: [${refs}]\n`, 'f.yaml', ok)?.value).toBeDefined();
    expect(ok.list).toEqual([]);
    const bad = new Problems();
    expect(parseYaml(`a: &a [x, x]\nb: [${refs}, *a]\n`, 'f.yaml', bad)).toBeUndefined();
    expect(bad.list.map((p) => p.message)).toEqual([
      expect.stringMatching(/too many alias expansions \(limit 100\)/),
    ]);
  });

  test('a self-referencing anchor is refused (its value would be circular)', () => {
    const problems = new Problems();
    const y = parseYaml('a: &l { k: *l }\n', 'f.yaml', problems);
    expect(y).toBeUndefined();
    expect(problems.list.map((p) => `${p.line}:${p.column}`)).toEqual(['1:12']);
  });

  test('an invalid name in a propertyNames map is reported once, where the name is', () => {
    const { problems } = load(baseRepo(), {
      'sites/s1/environments/dev.yaml': 'environment: dev\nvariables:\n  ok: 1\n  bad.name: 2\n',
    });
    expect(
      problems.list.filter((p) => p.severity === 'error').map((p) => `${p.line}:${p.column}: ${p.message}`),
    ).toEqual([expect.stringMatching(/^4:3: invalid name "bad\.name" in variables/)]);
  });
});

describe('paths and ARNs', () => {
  test.each<[string, string, string | undefined]>([
    ['sites/s1', 'modules/a.yaml', 'sites/s1/modules/a.yaml'],
    ['sites/s1', './environments/../environments/dev.yaml', 'sites/s1/environments/dev.yaml'],
    ['sites/s1', '../../x.yaml', 'x.yaml'],
    ['sites/s1', '../../../etc/passwd', undefined],
    ['sites/s1', '/etc/passwd', undefined],
    ['sites/s1', 'C:/x.yaml', undefined],
    ['sites/s1', 'a\\..\\..\\x', undefined],
  ])('joinInside(%j, %j) = %j', (base, rel, expected) => {
    expect(joinInside(base, rel)).toBe(expected);
  });

  test.each([
    ['us-east-1', 'aws'],
    ['eu-west-3', 'aws'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
  ])('partitionOf(%s) = %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });

  test.each<[string, 'role' | 'policy', ReturnType<typeof parseIamArn>]>([
    [
      'arn:aws:iam::111111111111:role/deploy',
      'role',
      { partition: 'aws', account: '111111111111', name: 'deploy' },
    ],
    [
      'arn:aws-us-gov:iam::111111111111:role/path/to/deploy',
      'role',
      { partition: 'aws-us-gov', account: '111111111111', name: 'deploy' },
    ],
    [
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
      'policy',
      { partition: 'aws', account: 'aws', name: 'ReadOnlyAccess' },
    ],
    ['arn:aws:iam::111111111111:policy/b', 'role', undefined],
    ['arn:aws:iam::11111111111:role/short-account', 'role', undefined],
    ['arn:aws:sts::111111111111:role/x', 'role', undefined],
    ['not an arn', 'role', undefined],
  ])('parseIamArn(%s, %s)', (arn, kind, expected) => {
    expect(parseIamArn(arn, kind)).toEqual(expected);
  });
});

describe('validateProject', () => {
  test('the base repository is valid', () => {
    const v = validateProject(memoryReader(baseRepo()), LAYOUT, CTX);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.graphs.map((g) => g.environment.name)).toEqual(['dev', 'prod']);
  });

  test('a problem found in every environment is reported once; one environment only is named', () => {
    const desc = baseRepo();
    const s = desc.sites.s1 as RepoDesc['sites'][string];
    s.modules.push({ type: 'free', name: 'x', a: '#{nope}', b: '#{only_dev}' });
    s.envs.prod = { variables: { ...(s.envs.prod as { variables: object }).variables, only_dev: 1 } };
    const v = validateProject(memoryReader(desc), LAYOUT, CTX);
    expect(v.problems.map((p) => p.message)).toEqual([
      'environment "dev" has no variable "only_dev", which #{only_dev} in a module input reads (defined in prod): add it to variables: (environment dev)',
      'unknown variable "nope"',
    ]);
  });
});

describe('freeze windows and break-glass (SPEC §8.4)', () => {
  const ENV_FILE = 'sites/s1/environments/dev.yaml';
  const envWith = (freeze: string) => load(baseRepo(), { [ENV_FILE]: `environment: dev\n${freeze}` });
  const warningsOf = (p: Problems) =>
    p.list
      .filter((x) => x.severity === 'warning')
      .map((x) => `${x.file}:${x.line}:${x.column}: ${x.message}`);

  test('windows load as UTC instants, offsets applied, with reason and origin; none means []', () => {
    const { site, problems } = envWith(yaml`
      freeze:
        - from: 2026-12-20T00:00:00Z
          to: 2026-12-27T00:00:00+01:00
          reason: year-end change freeze
        - { from: "2027-03-01T09:30:00.250-05:00", to: "2027-03-01T18:00Z", reason: " launch " }
    `);
    expect(errorsOf(problems)).toEqual([]);
    expect(site.environments.get('dev')?.freeze).toEqual([
      {
        from: Date.UTC(2026, 11, 20),
        to: Date.UTC(2026, 11, 26, 23),
        reason: 'year-end change freeze',
        origin: { file: ENV_FILE, path: ['freeze', 0] },
      },
      {
        from: Date.UTC(2027, 2, 1, 14, 30, 0, 250),
        to: Date.UTC(2027, 2, 1, 18),
        reason: 'launch',
        origin: { file: ENV_FILE, path: ['freeze', 1] },
      },
    ]);
    expect(site.environments.get('prod')?.freeze).toEqual([]);
  });

  test.each<[string, string, string]>([
    [
      'a date-time without a zone',
      '  - { from: 2026-12-20T00:00:00, to: 2026-12-27T00:00:00Z, reason: r }',
      `${ENV_FILE}:3:13: freeze[0].from "2026-12-20T00:00:00" has no zone: give a zone, e.g. 2026-12-20T00:00:00Z (UTC) or 2026-12-20T00:00:00+01:00`,
    ],
    [
      'a date without a time',
      '  - { from: 2026-12-20T00:00:00Z, to: 2026-12-27, reason: r }',
      `${ENV_FILE}:3:39: freeze[0].to "2026-12-27" is a date without a time: give a date-time with a zone, e.g. 2026-12-27T00:00:00Z`,
    ],
    [
      'not a date at all',
      '  - { from: next friday, to: 2026-12-27T00:00:00Z, reason: r }',
      `${ENV_FILE}:3:13: freeze[0].from "next friday" is not an ISO 8601 date-time: write it like 2026-12-20T00:00:00Z (a zone is required)`,
    ],
    [
      'a day the month does not have',
      '  - { from: 2026-02-29T00:00:00Z, to: 2026-03-02T00:00:00Z, reason: r }',
      `${ENV_FILE}:3:13: freeze[0].from "2026-02-29T00:00:00Z" is not a real date and time: write it like 2026-12-20T00:00:00Z`,
    ],
    [
      'to before from',
      '  - { from: 2026-12-27T00:00:00Z, to: 2026-12-20T00:00:00Z, reason: r }',
      `${ENV_FILE}:3:39: freeze[0] ends (to: 2026-12-20T00:00:00Z) before it starts (from: 2026-12-27T00:00:00Z): \`to\` must be after \`from\``,
    ],
    [
      'to equal to from, written in two zones',
      '  - { from: 2026-12-20T01:00:00+01:00, to: 2026-12-20T00:00:00Z, reason: r }',
      `${ENV_FILE}:3:44: freeze[0] ends (to: 2026-12-20T00:00:00Z) when it starts (from: 2026-12-20T01:00:00+01:00): \`to\` must be after \`from\``,
    ],
    [
      'a blank reason',
      '  - { from: 2026-12-20T00:00:00Z, to: 2026-12-27T00:00:00Z, reason: "  " }',
      `${ENV_FILE}:3:69: freeze[0].reason is empty: say why the environment is frozen (whoever is refused reads it)`,
    ],
    [
      'no reason',
      '  - { from: 2026-12-20T00:00:00Z, to: 2026-12-27T00:00:00Z }',
      `${ENV_FILE}:3:5: freeze[0] is missing required key "reason"`,
    ],
  ])('%s is an error at its line and column', (_name, entry, expected) => {
    const { site, problems } = envWith(`freeze:\n${entry}\n`);
    expect(errorsOf(problems)).toEqual([expected]);
    expect(site.environments.get('dev')?.freeze ?? []).toEqual([]);
  });

  test('break_glass.allowed loads the logins as written, with where they were written', () => {
    const text = yaml`
      site:
        name: s1
        break_glass:
          allowed: [alice, Bob-Smith, "1234"]
        modules:
          - type: free
    `;
    const { site, problems } = load(baseRepo(), { [SITE_FILE]: text });
    expect(errorsOf(problems)).toEqual([]);
    expect(site.breakGlass).toEqual({
      allowed: ['alice', 'Bob-Smith', '1234'],
      origin: { file: SITE_FILE, path: ['site', 'break_glass'] },
    });
    expect(load(baseRepo()).site.breakGlass).toBeUndefined();
  });

  test('what is not a GitHub login is an error at its line, saying what to write instead', () => {
    const text = yaml`
      site:
        name: s1
        break_glass:
          allowed:
            - "@alice"
            - acme/platform-oncall
            - dependabot[bot]
            - alice@example.com
            - -dash
            - alice
            - ALICE
        modules:
          - type: free
    `;
    const { site, problems } = load(baseRepo(), { [SITE_FILE]: text });
    expect(errorsOf(problems)).toEqual([
      `${SITE_FILE}:5:9: break_glass.allowed[0] "@alice" is not a GitHub login: write it without the "@" (alice)`,
      `${SITE_FILE}:6:9: break_glass.allowed[1] "acme/platform-oncall" looks like a team: break_glass.allowed takes GitHub logins — list the team's members`,
      `${SITE_FILE}:7:9: break_glass.allowed[2] "dependabot[bot]" is a bot: breaking glass is a person's decision — list the people who may make it`,
      `${SITE_FILE}:8:9: break_glass.allowed[3] "alice@example.com" looks like an e-mail address: give the person's GitHub login instead`,
      `${SITE_FILE}:9:9: break_glass.allowed[4] "-dash" is not a GitHub login: letters, digits and hyphens, at most 39 characters, not starting with a hyphen`,
    ]);
    expect(warningsOf(problems)).toEqual([
      `${SITE_FILE}:11:9: break_glass.allowed lists "ALICE" twice (also allowed[5]; GitHub logins ignore case): remove one`,
    ]);
    expect(site.breakGlass?.allowed).toEqual(['alice']);
  });

  test('a misspelt break_glass key is caught by the schema with a suggestion', () => {
    const text = yaml`
      site:
        name: s1
        break_glass:
          allow: [alice]
        modules:
          - type: free
    `;
    const { problems } = load(baseRepo(), { [SITE_FILE]: text });
    expect(errorsOf(problems)).toEqual([
      `${SITE_FILE}:3:3: site.break_glass is missing required key "allowed"`,
      expect.stringMatching(
        new RegExp(`^${SITE_FILE}:4:5: unknown key "allow" in site.break_glass.*allowed`),
      ),
    ]);
  });
});
