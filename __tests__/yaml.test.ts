import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Problems } from '../src/core/errors.js';
import { firstTooDeep, MAX_YAML_DEPTH, parseYaml } from '../src/core/yaml.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === '.site-deploy' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
}

// Values as YAML 1.2 (core schema) reads them: once read two ways by two parsers, found by fuzzing.
test.each<[string, string, unknown]>([
  [
    'quoted text with YAML punctuation',
    'a: "cron(0 5 * * ? *)"\nb: \'x & y\'\n',
    { a: 'cron(0 5 * * ? *)', b: 'x & y' },
  ],
  [
    'numbers of every core form',
    'a: 0o17\nb: 0x1F\nc: .5\nd: -.inf\ne: ~\nf: True\ng: yes\n',
    { a: 15, b: 31, c: 0.5, d: -Infinity, e: null, f: true, g: 'yes' },
  ],
  ['floats that overflow', 'a: 1e400\nb: -1.8e308\n', { a: Infinity, b: -Infinity }],
  [
    'binary and signed hex or octal, which are text',
    'a: 0b101\nb: +0x1F\nc: -0o17\n',
    { a: '0b101', b: '+0x1F', c: '-0o17' },
  ],
  ['a null key', 'NULL: 1\n', { '': 1 }],
  [
    'block scalars',
    'a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n',
    { a: 'line one\nline two\n', b: 'folded text' },
  ],
  ['quote escapes', "k: 'it''s'\nq: \"tab\\tnew\\nline\"\n", { k: "it's", q: 'tab\tnew\nline' }],
  ['explicit tags', 'a: !!str 1\nb: !!int "2"\n', { a: '1', b: 2 }],
])('reads %s as YAML 1.2 does', (_name, text, value) => {
  const problems = new Problems();
  expect(parseYaml(text, 'f.yaml', problems)?.value).toEqual(value);
  expect(problems.list).toEqual([]);
});

test.each(yamlFiles('examples'))('reads %s without a problem', (name) => {
  const problems = new Problems();
  expect(parseYaml(readFileSync(name), name, problems)).toBeDefined();
  expect(problems.list).toEqual([]);
});

test('positions are exact', () => {
  const text = 'site:\n  name: s1\n  modules:\n    - type: vpc\n      wieght: 10\n';
  const file = parseYaml(text, 'site.yaml', new Problems());
  expect(file?.locate(['site', 'modules', 0, 'wieght'], true)).toEqual({
    file: 'site.yaml',
    line: 5,
    column: 7,
  });
});

test('an alias bomb is an error, not a hang', () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
        .fill(`*${'abcdefghi'[i - 1]}`)
        .join(', ')}]`,
    );
  const problems = new Problems();
  expect(parseYaml(levels.join('\n'), 'bomb.yaml', problems)).toBeUndefined();
  expect(problems.list[0]?.message).toMatch(/too many alias expansions/);
});

test.each([
  [
    'a key over 1024 characters',
    `${'k'.repeat(1100)}: v\n`,
    /at most 1024 chars after the start of an implicit block mapping key/,
  ],
  ['a comment right after a quoted scalar', 'a: "x"# c\n', /separated from other tokens by white space/],
  // fuzz target config: js-yaml read this key as "[object Object]".
  ['a flow map as a key', 'tags:\n  { type: map }: x\n', /a map key must be plain text, not a list or map/],
  ['a flow list as a key', '[a, b]: x\n', /a map key must be plain text, not a list or map/],
])('%s is refused', (_name, text, message) => {
  const problems = new Problems();
  expect(parseYaml(text, 'f.yaml', problems)).toBeUndefined();
  expect(problems.list).toHaveLength(1);
  expect(problems.list[0]?.message).toMatch(message);
});

describe('nesting limit', () => {
  const tooDeep = (line: number, column: number) => [
    {
      file: 'f.yaml',
      line,
      column,
      severity: 'error',
      message: `nesting deeper than ${MAX_YAML_DEPTH} levels: flatten this value`,
    },
  ];

  test('64 levels parse, 65 are one error at level 65', () => {
    // The file's map is level 1; "a:" holds level 2 onwards.
    const ok = new Problems();
    expect(parseYaml(`a: ${'['.repeat(63)}${']'.repeat(63)}\n`, 'f.yaml', ok)).toBeDefined();
    expect(ok.list).toEqual([]);
    const bad = new Problems();
    expect(parseYaml(`a: ${'['.repeat(64)}${']'.repeat(64)}\n`, 'f.yaml', bad)).toBeUndefined();
    expect(bad.list).toEqual(tooDeep(1, 4 + 63));
  });

  test.each([100, 1000])('%i levels of block maps: the error is at level 65', (depth) => {
    const lines = Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`);
    const problems = new Problems();
    expect(parseYaml(`${lines.join('\n')} x\n`, 'f.yaml', problems)).toBeUndefined();
    expect(problems.list).toEqual(tooDeep(65, 65));
  });

  test('flow text nested 300,000 deep (most of 1 MiB): the error, without reading it all', () => {
    const problems = new Problems();
    expect(parseYaml(`a: ${'[{k: '.repeat(200_000)}`, 'f.yaml', problems)).toBeUndefined();
    // "[" and "{" alternate from level 2 (column 4): level 65 is the 32nd "{", column 4 + 31 × 5 + 1.
    expect(problems.list).toEqual(tooDeep(1, 4 + 31 * 5 + 1));
  });

  test('an alias can nest a value deeper than its text: the error is at the alias', () => {
    const problems = new Problems();
    const text = `a: &a ${'['.repeat(50)}x${']'.repeat(50)}\nb: ${'['.repeat(20)}*a${']'.repeat(20)}\n`;
    expect(parseYaml(text, 'f.yaml', problems)).toBeUndefined();
    expect(problems.list).toEqual(tooDeep(2, 4 + 20));
  });

  test('implicit maps in flow lists nest too', () => {
    // "[a: [a: ...]]": each level is a list holding a one-pair map, two levels per "[".
    const problems = new Problems();
    expect(parseYaml(`x: ${'[a: '.repeat(40)}1${']'.repeat(40)}\n`, 'f.yaml', problems)).toBeUndefined();
    expect(problems.list).toHaveLength(1);
    expect(problems.list[0]?.message).toBe(
      `nesting deeper than ${MAX_YAML_DEPTH} levels: flatten this value`,
    );
  });

  test('firstTooDeep names the path to the first list or map past the limit, in document order', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(firstTooDeep({ a: 1, b: [deep] })).toEqual(['b', ...Array<number>(63).fill(0)]);
    expect(firstTooDeep({ a: [[1]] })).toBeUndefined();
  });
});

describe('messages that say what is wrong and where', () => {
  const problemsOf = (text: string): string[] => {
    const problems = new Problems();
    expect(parseYaml(text, 'env.yaml', problems)).toBeUndefined();
    return problems.list.map((p) => `${p.line}:${p.column}: ${p.message}`);
  };

  test('a duplicate key is named, with the line of its first use', () => {
    expect(problemsOf('environment: dev\nvariables:\n  a: 1\n  a: 2\n')).toEqual([
      '4:3: invalid YAML: duplicate key "a" (first on line 3): each key may appear once in a map',
    ]);
  });

  test.each([
    [
      'a key indented deeper than the key above, which has a value',
      'environment: dev\nvariables:\n  a: 1\n   b: 2\n',
      '4:4: invalid YAML: bad indentation: "b" is indented deeper than "a" on line 3, which already has a value — line it up with "a" (column 3)',
    ],
    [
      'a key indented less than its map',
      'environment: dev\nvariables:\n  a: 1\n b: 2\n',
      '4:2: invalid YAML: bad indentation: "b" starts at column 2, but "a" before it at column 3 — the entries of one map or list start at the same column',
    ],
    [
      'a list item indented unlike the one before',
      'environment: dev\nvariables:\n  list:\n    - a\n   - b\n',
      '5:4: invalid YAML: bad indentation: "- b" starts at column 4, but "- a" before it at column 5 — the entries of one map or list start at the same column',
    ],
  ])('indentation: %s — one message, at the line and column that is off', (_name, text, message) => {
    expect(problemsOf(text)).toEqual([message]);
  });
});
