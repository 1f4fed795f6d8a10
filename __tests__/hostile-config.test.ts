// Hostile config through the CLI, run in-process from source: nesting and variable chains past
// the limits are one clear `file:line:column: error:` line each, exit code 2 — never a crash, a
// stack trace or "Maximum call stack size exceeded" (SPEC §2, §3, §9).
import { afterAll, describe, expect, test } from '@jest/globals';
import { main } from '../src/adapters/cli/main.js';
import { MAX_VARIABLE_CHAIN } from '../src/core/config/scope.js';
import { MAX_YAML_DEPTH } from '../src/core/yaml.js';
import {
  baseCatalog,
  baseRepo,
  cleanupRepos,
  problemLines,
  writeRepo,
  type Files,
  type ProblemLine,
  type RepoDesc,
} from './helpers/repo.js';

afterAll(cleanupRepos);

const SITE = 'sites/s1/site.yaml';
const DEV = 'sites/s1/environments/dev.yaml';

/** baseRepo with every catalog module on the terraform engine: no executables to set up. */
function repo(): RepoDesc {
  const catalog = baseCatalog();
  for (const manifest of Object.values(catalog)) manifest.engine = 'terraform';
  return { ...baseRepo(), catalog };
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], files: Files): Promise<Run> {
  const root = await writeRepo(repo(), files);
  let out = '';
  let err = '';
  const code = await main([...args, '--root', root], {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    cwd: root,
  });
  return { code, out, err };
}

const validate = (files: Files): Promise<Run> => cli(['validate'], files);

function expectNoCrash(run: Run): void {
  const all = `${run.out}\n${run.err}`;
  expect(all).not.toMatch(/Maximum call stack/);
  expect(all).not.toMatch(/^\s+at /m);
  expect(all).not.toMatch(/internal error/);
  expect(all).not.toMatch(/\b[A-Za-z]*Error:/);
}

function errorsOf(run: Run): ProblemLine[] {
  return problemLines(run.err).filter((p) => p.severity === 'error');
}

/** Exit 2 and exactly this one error line. */
function expectOneError(run: Run, expected: Omit<ProblemLine, 'severity'>): void {
  expectNoCrash(run);
  expect(errorsOf(run)).toEqual([{ ...expected, severity: 'error' }]);
  expect(run.err).toMatch(/✗ 1 error\b/);
  expect(run.out).toBe('');
  expect(run.code).toBe(2);
}

/** An environment file for dev: its variables, then `extra` lines (already indented). */
function devFile(extra: string[]): string {
  return [
    'environment: dev',
    'variables:',
    '  vpc_cidr: 10.0.0.0/16',
    '  domain: dev.example.com',
    ...extra,
    '',
  ].join('\n');
}

const TOO_DEEP = `nesting deeper than ${MAX_YAML_DEPTH} levels: flatten this value`;

describe('limits', () => {
  test('are the documented ones', () => {
    expect(MAX_YAML_DEPTH).toBe(64);
    expect(MAX_VARIABLE_CHAIN).toBe(32);
  });
});

describe('YAML nesting deeper than the limit', () => {
  test('1,000-deep block maps: one error where level 65 starts', async () => {
    // Level 1 is the file's map, 2 `variables`, 3 the map under `deep:` (line 6, column 5).
    const lines = ['  deep:'];
    for (let i = 0; i < 1000; i++) lines.push(`${' '.repeat(4 + 2 * i)}k${i}:`);
    lines.push(`${' '.repeat(4 + 2 * 1000)}leaf: 1`);
    const run = await validate({ [DEV]: devFile(lines) });
    // Level 65 is the map holding k62: line 6 + 62, column 5 + 2 × 62.
    expectOneError(run, { file: DEV, line: 68, column: 129, message: TOO_DEEP });
  });

  test('1,000-deep block lists: the same place', async () => {
    const lines = ['  deep:'];
    for (let i = 0; i < 1000; i++) lines.push(`${' '.repeat(4 + 2 * i)}-`);
    lines.push(`${' '.repeat(4 + 2 * 1000)}leaf`);
    const run = await validate({ [DEV]: devFile(lines) });
    expectOneError(run, { file: DEV, line: 68, column: 129, message: TOO_DEEP });
  });

  test('1,000-deep flow lists: one error at the 65th bracket', async () => {
    const run = await validate({ [DEV]: devFile([`  deep: ${'['.repeat(1000)}${']'.repeat(1000)}`]) });
    // The first "[" (level 3) is column 9 of line 5.
    expectOneError(run, { file: DEV, line: 5, column: 9 + 62, message: TOO_DEEP });
  });

  test('1,000-deep flow maps: one error at the 65th brace', async () => {
    const run = await validate({ [DEV]: devFile([`  deep: ${'{a: '.repeat(1000)}1${'}'.repeat(1000)}`]) });
    expectOneError(run, { file: DEV, line: 5, column: 9 + 4 * 62, message: TOO_DEEP });
  });

  test('1,000-deep flow text that never closes: the depth error, not a syntax error list', async () => {
    const run = await validate({ [DEV]: devFile([`  deep: ${'[{a: '.repeat(500)}`]) });
    // Each "[{a: " opens two levels, the "[" of the 32nd (column 9 + 31 × 5) is level 65.
    expectOneError(run, { file: DEV, line: 5, column: 9 + 31 * 5, message: TOO_DEEP });
  });

  test('1,000 levels of lists and maps inside a module input in site.yaml', async () => {
    const lines = [
      'site:',
      '  name: s1',
      '  owner: platform',
      '  modules:',
      '    - type: aws-vpc',
      '      name: networking',
      '      cidr: "#{vpc_cidr}"',
      '      tags:',
    ];
    // Levels: the file's map 1, site 2, modules 3, the module entry 4, tags' value 5 (line 9).
    for (let i = 0; i < 1000; i++) lines.push(`${' '.repeat(8 + 2 * i)}${i % 2 === 0 ? 'k:' : '-'}`);
    lines.push(`${' '.repeat(8 + 2 * 1000)}leaf: "#{domain}"`);
    lines.push('    - type: app', '      vpc_id: "#{networking.vpc_id}"', '');
    const run = await validate({ [SITE]: lines.join('\n') });
    // Level 65 is item 60 of the nest: line 9 + 60, column 9 + 2 × 60.
    expectOneError(run, { file: SITE, line: 69, column: 129, message: TOO_DEEP });
  });

  test('exactly 64 levels is valid', async () => {
    // The file's map and `variables` are levels 1 and 2: 62 more fit.
    const run = await validate({ [DEV]: devFile([`  deep: ${'['.repeat(62)}${']'.repeat(62)}`]) });
    expectNoCrash(run);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
  });

  test('aliases that nest a value past the limit: one error at the alias', async () => {
    const run = await validate({
      [DEV]: devFile([
        `  a: &a ${'['.repeat(40)}x${']'.repeat(40)}`,
        `  b: ${'['.repeat(40)}*a${']'.repeat(40)}`,
      ]),
    });
    // Each line alone nests 42 levels; b holds a inside 40 lists of its own: 82. "*a" is column 6 + 40.
    expectOneError(run, { file: DEV, line: 6, column: 46, message: TOO_DEEP });
  });
});

describe('variable chains', () => {
  /** A dev.yaml whose vpc_cidr reads the chain (vpc_cidr is then variable 1 of it). */
  function devWithChain(length: number): string {
    const lines = ['environment: dev', 'variables:', '  domain: dev.example.com', '  vpc_cidr: "#{c2}"'];
    for (let i = 2; i < length; i++) lines.push(`  c${i}: "#{c${i + 1}}"`);
    lines.push(`  c${length}: 10.0.0.0/16`, '');
    return lines.join('\n');
  }

  test('900 variables deep: one error at the 32nd, naming the start and the limit', async () => {
    const lines = ['environment: dev', 'variables:', '  vpc_cidr: "#{v0}"', '  domain: dev.example.com'];
    for (let i = 0; i < 900; i++) lines.push(`  v${i}: "#{v${i + 1}}"`);
    lines.push('  v900: 10.0.0.0/16', '');
    const run = await validate({ [DEV]: lines.join('\n') });
    // vpc_cidr is variable 1, v0 variable 2 ... v30 (line 35) variable 32: its #{v31} would be the 33rd.
    expectOneError(run, {
      file: DEV,
      line: 35,
      column: 9,
      message:
        'variable chain starting at "vpc_cidr" is longer than 32 variables: #{v31} here would be variable 33; ' +
        'shorten the chain (environment dev)',
    });
  });

  test('the same chain written bottom-up: still one error, at the 32nd from its start', async () => {
    const lines = ['environment: dev', 'variables:', '  domain: dev.example.com', '  v900: 10.0.0.0/16'];
    for (let i = 899; i >= 0; i--) lines.push(`  v${i}: "#{v${i + 1}}"`);
    lines.push('  vpc_cidr: "#{v0}"', '');
    const run = await validate({ [DEV]: lines.join('\n') });
    // Read bottom-up, each variable is measured through the ones already read: v868 is the first
    // read that starts a chain of 33; its 32nd variable, v899 (line 5), reads v900.
    expectOneError(run, {
      file: DEV,
      line: 5,
      column: 10,
      message:
        'variable chain starting at "v868" is longer than 32 variables: #{v900} here would be variable 33; ' +
        'shorten the chain (environment dev)',
    });
  });

  test('exactly 32 variables in a row is valid, and the value arrives at the end of it', async () => {
    const files = { [DEV]: devWithChain(32) };
    const run = await validate(files);
    expectNoCrash(run);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const graph = await cli(['graph', '--site', 's1', '--env', 'dev', '--json'], files);
    expect(graph.code).toBe(0);
    const doc = JSON.parse(graph.out) as { waves: { name: string; inputs: Record<string, unknown> }[][] };
    const networking = doc.waves.flat().find((m) => m.name === 'networking');
    expect(networking?.inputs.cidr).toBe('10.0.0.0/16');
  });

  test('33 variables in a row: one error at the 32nd', async () => {
    const run = await validate({ [DEV]: devWithChain(33) });
    // vpc_cidr (line 4) is variable 1, c2 (line 5) variable 2 ... c32 (line 35) variable 32.
    expectOneError(run, {
      file: DEV,
      line: 35,
      column: 9,
      message:
        'variable chain starting at "vpc_cidr" is longer than 32 variables: #{c33} here would be variable 33; ' +
        'shorten the chain (environment dev)',
    });
  });

  test('a long cycle is an error, not a stack overflow', async () => {
    const lines = ['environment: dev', 'variables:', '  vpc_cidr: "#{v0}"', '  domain: dev.example.com'];
    for (let i = 0; i < 2000; i++) lines.push(`  v${i}: "#{v${(i + 1) % 2000}}"`);
    const run = await validate({ [DEV]: `${lines.join('\n')}\n` });
    // Cut at the limit like any chain: it never gets round to closing.
    expectOneError(run, {
      file: DEV,
      line: 35,
      column: 9,
      message:
        'variable chain starting at "vpc_cidr" is longer than 32 variables: #{v31} here would be variable 33; ' +
        'shorten the chain (environment dev)',
    });
  });
});

describe('placeholders in values nested up to the limit', () => {
  test('32 variables, each 62 levels deep and reading the next at its deepest point: errors, no overflow', async () => {
    const lines = ['environment: dev', 'variables:', '  vpc_cidr: 10.0.0.0/16', '  domain: dev.example.com'];
    for (let i = 1; i <= 32; i++) {
      const leaf = i < 32 ? `"#{c${i + 1}}"` : 'x';
      lines.push(`  c${i}: ${'['.repeat(62)}${leaf}${']'.repeat(62)}`);
    }
    const run = await validate({ [DEV]: `${lines.join('\n')}\n` });
    expectNoCrash(run);
    const errors = errorsOf(run);
    // Every variable but the last would nest its value 62 + 62 deep: each is its own error, at its
    // placeholder ("  cN: " then 62 "[" and the opening quote).
    expect(errors).toHaveLength(31);
    for (const [i, e] of errors.entries()) {
      expect(e).toEqual({
        file: DEV,
        line: 5 + i,
        column: `  c${i + 1}: `.length + 62 + 2,
        severity: 'error',
        message: `nesting deeper than 64 levels once #{c${i + 2}} is substituted here: flatten the value (environment dev)`,
      });
    }
    expect(run.code).toBe(2);
  });

  test('a list variable substituted into a list input within the limit resolves whole', async () => {
    const files = {
      [DEV]: devFile([
        `  zones: ${'['.repeat(30)}a${']'.repeat(30)}`,
        `  outer: ${'['.repeat(30)}"#{zones}"${']'.repeat(30)}`,
      ]),
    };
    const run = await validate(files);
    expectNoCrash(run);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
  });
});
