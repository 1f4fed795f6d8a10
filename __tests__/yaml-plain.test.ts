// parseYaml builds most files' values in one walk of its own instead of the yaml library's toJS:
// whatever the walk builds must be what toJS builds, key order and own properties included.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument, stringify } from 'yaml';
import { Problems } from '../src/core/errors.js';
import { parseYaml } from '../src/core/yaml.js';

/** The value as the yaml library builds it, with the options parseYaml reads files with. */
function libraryValue(text: string): unknown {
  return parseDocument(text, { uniqueKeys: false, merge: true }).toJS({ maxAliasCount: 101 });
}

function expectSameAsLibrary(text: string): void {
  const problems = new Problems();
  const file = parseYaml(text, 'f.yaml', problems);
  expect(problems.list).toEqual([]);
  const expected = libraryValue(text);
  expect(isDeepStrictEqual(file?.value, expected)).toBe(true);
  // Same keys in the same order, down the tree.
  expect(JSON.stringify(file?.value)).toBe(JSON.stringify(expected));
}

test.each<[string, string]>([
  ['nested maps and lists', 'a: 1\nb: [1, 2, {c: d}]\nc:\n  - - x\n  - {e: [f, {g: ~}]}\n'],
  ['keys an object already has', '"toString": 3\nconstructor: 4\n__proto__: {x: 1}\nhasOwnProperty: 5\n'],
  ['keys that are the same text', '1: a\n"1": b\ntrue: x\n"true": y\nnull: z\n"": w\n2.5: v\n"2.5": u\n'],
  ['every core scalar', 'a: 0x1f\nb: 1e3\nc: .inf\nd: -.nan\ne: 0o17\nf: 1_000\ng: ~\nh: False\ni:\n'],
  ['quoted and block scalars', "a: 'it''s'\nb: \"\\u00e9\\n\"\nc: |\n  lit\n  eral\nd: >-\n  fold\n  ed\n"],
  ['an implicit map in a flow list', 'k: [a: b, c, {d: e}]\n'],
  ['tags, anchors and merge keys (the long way)', 'a: &x {b: 1}\nc: *x\nd: !!str 12\ne:\n  <<: *x\n  f: 2\n'],
  ['a merge of a map literal', 'a:\n  <<: {b: 1}\n  c: 2\n'],
  ['a set and an ordered map', 's: !!set {a, b}\no: !!omap [a: 1, b: 2]\n'],
  ['a top-level list', '- a\n- b: c\n'],
  ['a top-level scalar', 'just text\n'],
])('%s: the value is what the yaml library builds', (_, text) => expectSameAsLibrary(text));

test('any JSON-like value reads back as the yaml library reads it', () => {
  // Not `<<`: stringify writes it plain, which is a merge key (the library itself then refuses a
  // scalar merge source); merge keys have their own cases above.
  const key = fc.oneof(
    fc.string({ maxLength: 8 }).filter((k) => k !== '<<'),
    fc.constantFrom('1', 'true', 'null', '__proto__', 'toString'),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  })).node;
  fc.assert(
    fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), fc.boolean(), (v, flow) => {
      expectSameAsLibrary(stringify(v, { collectionStyle: flow ? 'flow' : 'block' }));
    }),
    { numRuns: 300 },
  );
});

test('process.env is the real one again after a parse, a failed one too', () => {
  const env = process.env;
  parseYaml('a: 1\n', 'f.yaml', new Problems());
  expect(process.env).toBe(env);
  const problems = new Problems();
  parseYaml('a: [1\nb: "x\n', 'f.yaml', problems);
  expect(problems.hasErrors).toBe(true);
  expect(process.env).toBe(env);
});

test.each<[string, string, string[]]>([
  ['a repeated key', 'a: 1\nb: 2\na: 3\n', ['f.yaml:3:1 "a" (first on line 1)']],
  ['a repeated key an object has', 'toString: 1\ntoString: 2\n', ['f.yaml:2:1 "toString" (first on line 1)']],
  [
    'keys of one text but not one value',
    '1: a\n"1": b\n1: c\n"1": d\n',
    ['f.yaml:3:1 "1" (first on line 1)', 'f.yaml:4:1 "1" (first on line 2)'],
  ],
  [
    'a repeat after a clash',
    '"x": 1\ny: 2\nx: 3\ny: 4\n',
    ['f.yaml:3:1 "x" (first on line 1)', 'f.yaml:4:1 "y" (first on line 2)'],
  ],
])('%s is reported once, where it repeats', (_, text, expected) => {
  const problems = new Problems();
  expect(parseYaml(text, 'f.yaml', problems)).toBeUndefined();
  const found = problems.list.map((p) => {
    const m = /duplicate key (".*?") (\(first on line \d+\))/.exec(p.message);
    return `${p.file}:${p.line}:${p.column} ${m?.[1]} ${m?.[2]}`;
  });
  expect(found).toEqual(expected);
});

test('a process.env that cannot be replaced is parsed with as it is', () => {
  const env = process.env;
  const descriptor = Object.getOwnPropertyDescriptor(process, 'env');
  Object.defineProperty(process, 'env', { value: env, writable: false, configurable: true });
  try {
    expect(parseYaml('a: [1, {b: 2}]\n', 'f.yaml', new Problems())?.value).toEqual({ a: [1, { b: 2 }] });
    expect(process.env).toBe(env);
  } finally {
    if (descriptor) Object.defineProperty(process, 'env', descriptor);
  }
});
