// Unit tests of the `#{...}` engine: parsing, filters, resolution (SPEC §3).
import { describe, expect, test } from '@jest/globals';
import { FILTER_NAMES, lookupFilter } from '../src/core/placeholders/filters.js';
import {
  escapeTemplate,
  hasPlaceholder,
  parseTemplate,
  PlaceholderError,
  referencesOf,
} from '../src/core/placeholders/parse.js';
import {
  collectReferences,
  MAX_RESOLVED_NODES,
  measureValue,
  resolveTemplate,
  resolveValue,
  stringify,
  type OutputState,
  type PathError,
  type ResolveScope,
} from '../src/core/placeholders/resolve.js';

const VARS: Record<string, unknown> = {
  name: 'Portal',
  padded: '  spaced out \t',
  domain: 'Portal.Client.COM',
  n: 3,
  f: 1.5,
  yes: true,
  nothing: null,
  list: ['a', 'b'],
  map: { k: 1, s: 'x' },
  quote: 'say "hi"\n\\ok',
  url: 'a b&c/d?e=f',
  uni: 'héllo ✓',
  'a-b': 'dash',
  _u: 'underscore',
  tmpl: 'has #{x} inside',
};

const OUTPUTS: Record<string, OutputState> = {
  'net.vpc_id': { state: 'known', value: 'vpc-123' },
  'net.subnets': { state: 'known', value: ['s-1', 's-2'] },
  'net.count': { state: 'known', value: 2 },
  'db.endpoint': { state: 'unknown' },
  'db.port': { state: 'mocked', value: 5432 },
  'cdn.domain': { state: 'mocked', value: 'd123.cloudfront.net' },
};

/** A scope over fixed variables and outputs; unknown names get messages like the real ones. */
function scope(
  vars: Record<string, unknown> = VARS,
  outputs: Record<string, OutputState> = OUTPUTS,
): ResolveScope {
  return {
    variable: (n) => (Object.hasOwn(vars, n) ? { value: vars[n] } : undefined),
    unknownVariable: (n) => `unknown variable "${n}"`,
    output: (m, o) => outputs[`${m}.${o}`] ?? `unknown output #{${m}.${o}}`,
  };
}

const resolve = (text: string) => resolveTemplate(text, scope());

describe('filters', () => {
  test.each([
    ['ToLower', 'Portal.Client.COM', 'portal.client.com'],
    ['ToUpper', 'Portal.Client.com', 'PORTAL.CLIENT.COM'],
    ['Trim', '  spaced out \t', 'spaced out'],
    ['Trim', '\n\tx\n', 'x'],
    ['JsonEscape', 'say "hi"\n\\ok', 'say \\"hi\\"\\n\\\\ok'],
    ['JsonEscape', 'tab\there', 'tab\\there'],
    ['JsonEscape', 'plain', 'plain'],
    ['UriEscape', 'a b&c/d?e=f', 'a%20b%26c%2Fd%3Fe%3Df'],
    ['UriEscape', 'héllo', 'h%C3%A9llo'],
    ['Base64', 'hello', 'aGVsbG8='],
    ['Base64', '', ''],
    ['Base64', 'héllo ✓', 'aMOpbGxvIOKckw=='],
  ])('%s(%j) = %j', (filter, input, expected) => {
    const fn = lookupFilter(filter);
    expect(typeof fn).toBe('function');
    expect((fn as (s: string) => string)(input)).toBe(expected);
  });

  test('the six filters of SPEC §3 exist', () => {
    expect(FILTER_NAMES).toEqual(
      expect.arrayContaining(['ToLower', 'ToUpper', 'Trim', 'JsonEscape', 'UriEscape', 'Base64']),
    );
  });

  test.each(['tolower', 'TOUPPER', 'base64'])('filter names are case-insensitive: %s', (name) => {
    expect(typeof lookupFilter(name)).toBe('function');
  });

  test.each([
    ['ToUpperr', /unknown filter "ToUpperr" — did you mean "ToUpper"\?/],
    ['Trimm', /did you mean "Trim"\?/],
    ['Zzzzzzzz', /unknown filter "Zzzzzzzz"; filters: ToLower, ToUpper/],
  ])('unknown filter %s is an error with a suggestion', (name, message) => {
    const r = lookupFilter(name);
    expect(typeof r).toBe('string');
    expect(r).toMatch(message);
  });
});

describe('resolveTemplate', () => {
  test.each<[string, unknown]>([
    // Type preservation: a string that is exactly one placeholder keeps the value's type.
    ['#{n}', 3],
    ['#{f}', 1.5],
    ['#{yes}', true],
    ['#{nothing}', null],
    ['#{list}', ['a', 'b']],
    ['#{map}', { k: 1, s: 'x' }],
    ['#{ n }', 3],
    ['#{net.count}', 2],
    ['#{net.subnets}', ['s-1', 's-2']],
    ['#{a-b}', 'dash'],
    ['#{_u}', 'underscore'],
    // Embedded placeholders are stringified; lists and maps JSON-encoded.
    ['n=#{n}', 'n=3'],
    ['#{n}#{n}', '33'],
    ['#{yes}!', 'true!'],
    ['[#{nothing}]', '[null]'],
    ['zones=#{list}', 'zones=["a","b"]'],
    ['m: #{map}', 'm: {"k":1,"s":"x"}'],
    ['https://#{domain}/x', 'https://Portal.Client.COM/x'],
    ['#{net.vpc_id}-#{name}', 'vpc-123-Portal'],
    ['ids #{net.subnets}', 'ids ["s-1","s-2"]'],
    // Filters, alone and chained left to right; a filtered value is text.
    ['#{domain | ToLower}', 'portal.client.com'],
    ['#{domain|ToUpper}', 'PORTAL.CLIENT.COM'],
    ['#{padded | Trim}', 'spaced out'],
    ['#{padded | Trim | ToUpper}', 'SPACED OUT'],
    ['#{name | Base64 | ToLower}', 'ug9ydgfs'],
    ['#{name | ToLower | Base64}', 'cG9ydGFs'],
    ['#{n | ToUpper}', '3'],
    ['#{list | JsonEscape}', '[\\"a\\",\\"b\\"]'],
    ['#{quote | JsonEscape}', 'say \\"hi\\"\\n\\\\ok'],
    ['q=#{url | UriEscape}', 'q=a%20b%26c%2Fd%3Fe%3Df'],
    ['#{uni | Base64}', 'aMOpbGxvIOKckw=='],
    ['#{net.vpc_id | ToUpper}', 'VPC-123'],
    // Escaping: ##{x} is the literal #{x}; a lone # or { is text.
    ['##{x}', '#{x}'],
    ['a ##{x} b', 'a #{x} b'],
    ['##{n} is #{n}', '#{n} is 3'],
    ['#', '#'],
    ['# {n}', '# {n}'],
    ['#x #{n}', '#x 3'],
    ['{n}', '{n}'],
    ['}#{n}{', '}3{'],
    ['###{x}', '##{x}'],
    ['no placeholders at all', 'no placeholders at all'],
    ['', ''],
    // A variable's value is not re-parsed.
    ['#{tmpl}', 'has #{x} inside'],
    ['<#{tmpl}>', '<has #{x} inside>'],
  ])('%j -> %j', (text, expected) => {
    const r = resolve(text);
    expect(r.value).toEqual(expected);
    expect(r.pending).toEqual([]);
  });

  test.each<[string, unknown, string[]]>([
    // Outputs not yet known keep their placeholder text, so a later pass can fill them in.
    ['#{db.endpoint}', '#{db.endpoint}', ['db.endpoint']],
    ['host=#{db.endpoint};n=#{n}', 'host=#{db.endpoint};n=3', ['db.endpoint']],
    ['#{db.endpoint | ToUpper}', '#{db.endpoint | ToUpper}', ['db.endpoint']],
    ['#{db.endpoint}:#{db.endpoint}', '#{db.endpoint}:#{db.endpoint}', ['db.endpoint', 'db.endpoint']],
    // Literal #{ next to a pending output stays escaped, so the next pass still reads it as text.
    ['##{x} #{db.endpoint}', '##{x} #{db.endpoint}', ['db.endpoint']],
    ['#{tmpl} #{db.endpoint}', 'has ##{x} inside #{db.endpoint}', ['db.endpoint']],
  ])('pending %j stays %j', (text, expected, pending) => {
    const r = resolve(text);
    expect(r.value).toEqual(expected);
    expect(r.pending).toEqual(pending);
    expect(r.mocked).toEqual([]);
  });

  test('a pending template, resolved again once the output is known, gives the final value', () => {
    const first = resolve('##{x} #{tmpl} #{db.endpoint}');
    const later = resolveTemplate(
      first.value as string,
      scope(VARS, { ...OUTPUTS, 'db.endpoint': { state: 'known', value: 'db.local' } }),
    );
    expect(later).toEqual({ value: '#{x} has #{x} inside db.local', pending: [], mocked: [] });
  });

  test.each<[string, unknown, string[]]>([
    ['#{db.port}', 5432, ['db.port']],
    ['port=#{db.port}', 'port=5432', ['db.port']],
    ['#{cdn.domain | ToUpper} #{db.port}', 'D123.CLOUDFRONT.NET 5432', ['cdn.domain', 'db.port']],
  ])('mocked outputs are used and reported: %j', (text, expected, mocked) => {
    const r = resolve(text);
    expect(r).toEqual({ value: expected, pending: [], mocked });
  });

  test.each<[string, RegExp, number]>([
    ['x #{nope}', /unknown variable "nope"/, 2],
    ['#{a.b}', /unknown output #\{a\.b\}/, 0],
    ['#{domain | Nope}', /unknown filter "Nope"/, 0],
    ['#{db.endpoint | Nope}', /unknown filter "Nope"/, 0],
    ['ab #{n', /unclosed placeholder "#\{n": add "\}"/, 3],
    ['#{}', /empty placeholder "#\{\}"/, 0],
    ['x#{ | ToLower}', /empty placeholder/, 1],
    ['#{a.b.c}', /invalid placeholder "#\{a\.b\.c\}"/, 0],
    ['#{1abc}', /invalid placeholder/, 0],
    ['#{a b}', /invalid placeholder/, 0],
    ['#{.x}', /invalid placeholder/, 0],
    ['#{x | }', /invalid filter ""/, 0],
    ['#{x | To-Lower}', /invalid filter "To-Lower"/, 0],
    ['#{a #{b}}', /placeholders cannot be nested/, 0],
  ])('%j is a PlaceholderError (%s) at offset %i', (text, message, offset) => {
    let caught: unknown;
    try {
      resolve(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PlaceholderError);
    expect((caught as PlaceholderError).message).toMatch(message);
    expect((caught as PlaceholderError).offset).toBe(offset);
  });
});

describe('parseTemplate', () => {
  test('splits text, variables, outputs and filters with offsets', () => {
    expect(parseTemplate('a #{b.c | ToLower | Trim} d #{e}')).toEqual([
      { kind: 'text', text: 'a ' },
      {
        kind: 'placeholder',
        ref: { kind: 'output', module: 'b', output: 'c' },
        filters: ['ToLower', 'Trim'],
        offset: 2,
        length: 23,
        source: '#{b.c | ToLower | Trim}',
      },
      { kind: 'text', text: ' d ' },
      {
        kind: 'placeholder',
        ref: { kind: 'variable', name: 'e' },
        filters: [],
        offset: 28,
        length: 4,
        source: '#{e}',
      },
    ]);
  });

  test.each([
    ['', [{ kind: 'text', text: '' }]],
    ['plain', [{ kind: 'text', text: 'plain' }]],
    ['##{x}', [{ kind: 'text', text: '#{x}' }]],
    ['a##{x}#', [{ kind: 'text', text: 'a#{x}#' }]],
  ])('text only: %j', (text, segments) => {
    expect(parseTemplate(text)).toEqual(segments);
  });

  test('escapeTemplate doubles every #{ and nothing else', () => {
    expect(escapeTemplate('a #{b} ## {c} #{')).toBe('a ##{b} ## {c} ##{');
    expect(parseTemplate(escapeTemplate('a #{b} #{'))).toEqual([{ kind: 'text', text: 'a #{b} #{' }]);
  });

  test('hasPlaceholder and referencesOf', () => {
    expect(hasPlaceholder('x')).toBe(false);
    expect(hasPlaceholder('#{x}')).toBe(true);
    expect(referencesOf('no refs')).toEqual([]);
    expect(referencesOf('#{a} ##{b} #{m.o | Trim}').map((r) => r.ref)).toEqual([
      { kind: 'variable', name: 'a' },
      { kind: 'output', module: 'm', output: 'o' },
    ]);
  });
});

describe('stringify', () => {
  test.each<[unknown, string]>([
    ['s', 's'],
    [3, '3'],
    [-0.5, '-0.5'],
    [false, 'false'],
    [null, 'null'],
    [undefined, 'null'],
    [[1, 'a'], '[1,"a"]'],
    [{ a: [1] }, '{"a":[1]}'],
  ])('%j -> %j', (value, text) => {
    expect(stringify(value)).toBe(text);
  });
});

describe('resolveValue and collectReferences', () => {
  test('resolves strings inside lists and maps, keeps other scalars, collects every error with its path', () => {
    const errors: PathError[] = [];
    const r = resolveValue(
      {
        a: '#{n}',
        b: ['#{list}', 'x-#{nope}', 7, true, null],
        c: { d: '#{db.endpoint}', e: '#{db.port}', f: '#{bad | Nope}' },
      },
      scope(),
      errors,
    );
    expect(r.value).toEqual({
      a: 3,
      b: [['a', 'b'], 'x-#{nope}', 7, true, null],
      c: { d: '#{db.endpoint}', e: 5432, f: '#{bad | Nope}' },
    });
    expect(r.pending).toEqual(['db.endpoint']);
    expect(r.mocked).toEqual(['db.port']);
    expect(errors.map((e) => [e.path, e.error.message])).toEqual([
      [['b', 1], 'unknown variable "nope"'],
      [['c', 'f'], 'unknown variable "bad"'],
    ]);
  });

  test('a path prefix is kept in error paths', () => {
    const errors: PathError[] = [];
    resolveValue(['#{nope}'], scope(), errors, ['inputs', 'x']);
    expect(errors[0]?.path).toEqual(['inputs', 'x', 0]);
  });

  test('collectReferences finds every reference and its path, and records parse errors', () => {
    const errors: PathError[] = [];
    const refs = collectReferences(
      { a: '#{v} and #{m.o}', b: ['##{lit}', { c: '#{n.p | Trim}' }], d: '#{oops', e: 5 },
      [],
      [],
      errors,
    );
    expect(refs.map((r) => [r.path, r.source, r.offset])).toEqual([
      [['a'], '#{v}', 0],
      [['a'], '#{m.o}', 9],
      [['b', 1, 'c'], '#{n.p | Trim}', 0],
    ]);
    expect(errors.map((e) => [e.path, e.error.offset])).toEqual([[['d'], 0]]);
  });
});

describe('limits on resolved values', () => {
  /** `leaf` inside `depth` lists, built without recursion. */
  const nest = (depth: number, leaf: unknown): unknown => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };

  test('a value nested 100,000 deep resolves without overflowing the stack, every string in it too', () => {
    const errors: PathError[] = [];
    const r = resolveValue(nest(100_000, '#{n}'), scope(), errors);
    expect(errors).toEqual([]);
    let v = r.value;
    for (let i = 0; i < 100_000; i++) v = (v as unknown[])[0];
    expect(v).toBe(3);
    expect(collectReferences(nest(100_000, '#{m.o}')).map((x) => x.path.length)).toEqual([100_000]);
  });

  test('a map key "__proto__" stays an own key of the resolved map', () => {
    const errors: PathError[] = [];
    const value = JSON.parse('{"__proto__": "#{n}", "b": {"__proto__": ["#{name}"]}}') as unknown;
    const r = resolveValue(value, scope(), errors);
    expect(Object.keys(r.value as object)).toEqual(['__proto__', 'b']);
    expect(JSON.stringify(r.value)).toBe('{"__proto__":3,"b":{"__proto__":["Portal"]}}');
    expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
  });

  test('a substitution that would nest the value past 64 levels is an error at its placeholder', () => {
    const vars = { ...VARS, deep: nest(40, 'x') };
    const fits: PathError[] = [];
    expect(measureValue(resolveValue(nest(24, '#{deep}'), scope(vars), fits).value).depth).toBe(64);
    expect(fits).toEqual([]);
    const errors: PathError[] = [];
    const r = resolveValue(nest(25, '#{deep}'), scope(vars), errors);
    expect(measureValue(r.value).depth).toBe(25);
    expect(errors.map((e) => [e.path.length, e.error.message, e.error.offset])).toEqual([
      [25, 'nesting deeper than 64 levels once #{deep} is substituted here: flatten the value', 0],
    ]);
  });

  test(`a substitution that would make the value hold more than ${MAX_RESOLVED_NODES} nodes is an error`, () => {
    const big = Array.from({ length: 40_000 }, (_, i) => i);
    const errors: PathError[] = [];
    const r = resolveValue(['#{big}', '#{big}', '#{big}'], scope({ big }), errors);
    // 1 list + 2 × 40,001 = 80,003 nodes fit; the third would make 120,004.
    expect((r.value as unknown[]).slice(2)).toEqual(['#{big}']);
    expect(errors.map((e) => [e.path, e.error.message])).toEqual([
      [
        [2],
        'more than 100,000 list items, map entries and scalars once #{big} is substituted here: a placeholder bomb?',
      ],
    ]);
  });

  test('measureValue counts shared structure once per use, in time linear in its distinct objects', () => {
    // 40 levels, each listing the one before twice: 2^41 - 1 nodes written out, 41 objects.
    let v: unknown = 'x';
    for (let i = 0; i < 40; i++) v = [v, v];
    expect(measureValue(v)).toEqual({ depth: 40, nodes: 2 ** 41 - 1 });
    expect(() => resolveTemplate('#{v}', scope({ v }))).toThrow(
      '#{v} holds more than 100,000 list items, map entries and scalars: a placeholder bomb?',
    );
  });
});
