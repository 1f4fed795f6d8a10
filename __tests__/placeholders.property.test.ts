// Properties of the `#{...}` engine, checked with fast-check (SPEC §3).
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { escapeTemplate, parseTemplate, PlaceholderError } from '../src/core/placeholders/parse.js';
import {
  fillValue,
  resolveTemplate,
  resolveValue,
  type Checkpoint,
  type OutputState,
  type PathError,
  type ResolveScope,
} from '../src/core/placeholders/resolve.js';

const RUNS = 2000;

/** A scope with no names at all: any placeholder is an error. */
const EMPTY: ResolveScope = {
  variable: () => undefined,
  unknownVariable: (n) => `unknown variable "${n}"`,
  output: (m, o) => `unknown output #{${m}.${o}}`,
};

/** Any UTF-16 code units, lone surrogates included (what a YAML "\\ud800" escape can produce). */
const utf16 = (maxLength: number) =>
  fc.string({ unit: fc.nat({ max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });

/** Every kind of string: any code units, full code points, graphemes, and plain ASCII. */
const anyString = fc.oneof(
  utf16(40),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ maxLength: 60 }),
);

/** Strings built from the engine's own syntax, so they hit its corners often. */
const FRAGMENTS = [
  '#{',
  '##{',
  '###{',
  '#',
  '{',
  '}',
  '|',
  '.',
  ' ',
  '\n',
  'x',
  'net',
  'vpc_id',
  'net.vpc_id',
  'db.endpoint',
  'db.port',
  'a-b',
  '_u',
  '1',
  'ToLower',
  'ToUpper',
  'Trim',
  'JsonEscape',
  'UriEscape',
  'Base64',
  'Nope',
  '#{x}',
  '#{x | UriEscape}',
  '#{x|Base64}',
  '#{net.vpc_id | ToUpper}',
  '#{db.endpoint}',
  '#{db.port | Trim}',
  '##{x}',
  '#{list}',
  '#{map | JsonEscape}',
];
const fragmentString = fc
  .array(fc.oneof(fc.constantFrom(...FRAGMENTS), utf16(4)), { maxLength: 14 })
  .map((parts) => parts.join(''));

/** Well-formed templates: escaped text and valid placeholders (every filter), so resolution gets past parsing. */
const PLACEHOLDERS = [
  '#{x}',
  '#{list}',
  '#{map}',
  '#{a-b}',
  '#{_u}',
  '#{net.vpc_id}',
  '#{db.endpoint}',
  '#{db.port}',
  ...['ToLower', 'ToUpper', 'Trim', 'JsonEscape', 'UriEscape', 'Base64'].flatMap((f) => [
    `#{x | ${f}}`,
    `#{map|${f}}`,
    `#{db.port | Trim | ${f}}`,
  ]),
];
const validTemplate = fc
  .array(fc.oneof(fc.constantFrom(...PLACEHOLDERS), utf16(6).map(escapeTemplate)), {
    minLength: 1,
    maxLength: 6,
  })
  .map((p) => p.join(''));

/** Values variables and outputs can take, as YAML would give them (valid UTF-8 text). */
const wellFormedValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** Values a YAML double-quoted string can also produce: `"\ud800"` is a lone surrogate. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(wellFormedValue, utf16(20));

const outputState: fc.Arbitrary<OutputState> = fc.oneof(
  wellFormedValue.map((value): OutputState => ({ state: 'known', value })),
  fc.constant<OutputState>({ state: 'unknown' }),
  wellFormedValue.map((value): OutputState => ({ state: 'mocked', value })),
);

function scopeOf(vars: Record<string, unknown>, outputs: Record<string, OutputState>): ResolveScope {
  const scope: ResolveScope = {
    variable: (n) => (Object.hasOwn(vars, n) ? { value: vars[n] } : undefined),
    unknownVariable: (n) => `unknown variable "${n}"`,
    output: (m, o) => outputs[`${m}.${o}`] ?? `unknown output #{${m}.${o}}`,
  };
  // How fast-check prints a counterexample's scope.
  return Object.assign(scope, {
    [fc.toStringMethod]: () => `scope(${JSON.stringify(vars)}, ${JSON.stringify(outputs)})`,
  });
}

function scopeArb(value: fc.Arbitrary<unknown>): fc.Arbitrary<ResolveScope> {
  return fc
    .record({
      x: value,
      list: value,
      map: value,
      'a-b': value,
      _u: value,
      vpc: outputState,
      endpoint: outputState,
      port: outputState,
    })
    .map(({ vpc, endpoint, port, ...vars }) =>
      scopeOf(vars, { 'net.vpc_id': vpc, 'db.endpoint': endpoint, 'db.port': port }),
    );
}

/** Runs f; passes when it returns or throws a PlaceholderError, fails on anything else thrown. */
function onlyPlaceholderErrors(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof PlaceholderError) {
      expect(typeof e.message).toBe('string');
      expect(e.offset).toBeGreaterThanOrEqual(0);
      return true;
    }
    throw e;
  }
}

describe('escaping round-trips', () => {
  test('resolving escapeTemplate(s) against an empty scope gives back exactly s', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fragmentString), (s) => {
        expect(resolveTemplate(escapeTemplate(s), EMPTY)).toEqual({ value: s, pending: [], mocked: [] });
      }),
      { numRuns: RUNS },
    );
  });

  test('parseTemplate(escapeTemplate(s)) is one text segment holding s', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fragmentString), (s) => {
        expect(parseTemplate(escapeTemplate(s))).toEqual([{ kind: 'text', text: s }]);
      }),
      { numRuns: RUNS },
    );
  });

  // SPEC §3 makes `##{` the escape, so an escaped text ending in "#" right before a placeholder
  // turns it into a literal: there is no way to write "#" directly before a resolved value.
  test('an escaped value (not ending in "#") embedded next to a placeholder comes back intact', () => {
    fc.assert(
      fc.property(
        anyString.filter((a) => !a.endsWith('#')),
        anyString,
        (a, b) => {
          const r = resolveTemplate(`${escapeTemplate(a)}#{x}${escapeTemplate(b)}`, scopeOf({ x: '|' }, {}));
          expect(r.value).toBe(`${a}|${b}`);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('never anything but a PlaceholderError', () => {
  test('parseTemplate on any string returns segments or throws PlaceholderError', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fragmentString), (s) => onlyPlaceholderErrors(() => parseTemplate(s))),
      { numRuns: RUNS },
    );
  });

  test('resolveTemplate with well-formed variable values returns or throws PlaceholderError', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fragmentString), scopeArb(wellFormedValue), (s, scope) =>
        onlyPlaceholderErrors(() => resolveTemplate(s, scope)),
      ),
      { numRuns: RUNS },
    );
  });

  test('resolveTemplate with any variable values (lone surrogates too) returns or throws PlaceholderError', () => {
    fc.assert(
      fc.property(fragmentString, scopeArb(anyValue), (s, scope) =>
        onlyPlaceholderErrors(() => resolveTemplate(s, scope)),
      ),
      { numRuns: RUNS },
    );
  });

  test('resolveTemplate of well-formed templates with any variable values returns or throws PlaceholderError', () => {
    fc.assert(
      fc.property(validTemplate, scopeArb(anyValue), (s, scope) =>
        onlyPlaceholderErrors(() => resolveTemplate(s, scope)),
      ),
      { numRuns: RUNS },
    );
  });

  test('resolveValue never throws and reports errors as PlaceholderErrors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(anyString, fragmentString), { maxLength: 5 }),
        scopeArb(wellFormedValue),
        (list, scope) => {
          const errors: PathError[] = [];
          const r = resolveValue({ list, nested: { s: list[0] ?? '' } }, scope, errors);
          expect(r.value).toBeDefined();
          for (const e of errors) expect(e.error).toBeInstanceOf(PlaceholderError);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('strings without #{', () => {
  test('resolve to themselves, with nothing pending or mocked', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyString, fragmentString).filter((s) => !s.includes('#{')),
        scopeArb(wellFormedValue),
        (s, scope) => {
          expect(resolveTemplate(s, scope)).toEqual({ value: s, pending: [], mocked: [] });
          expect(parseTemplate(s)).toEqual([{ kind: 'text', text: s }]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('type preservation', () => {
  test('a string that is exactly #{x} resolves to x itself, whatever its type', () => {
    fc.assert(
      fc.property(anyValue, (x) => {
        expect(resolveTemplate('#{x}', scopeOf({ x }, {})).value).toEqual(x);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('bound once, finished with outputs later', () => {
  // What a graph binds before a run (no output known) and what a step finishes it with must be
  // exactly what resolving once with the outputs gives: value, pending, mocked and errors.
  test('fillValue of resolveValue with no outputs known equals resolveValue with the outputs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(validTemplate, fragmentString), { minLength: 1, maxLength: 5 }),
        scopeArb(anyValue),
        (list, scope) => {
          const value = {
            list,
            nested: { s: list[0] ?? '', deeper: [list.at(-1) ?? ''] },
            last: list.at(-1),
          };
          const once: PathError[] = [];
          const expected = resolveValue(value, scope, once, ['in']);
          const unknown: ResolveScope = {
            ...scope,
            output: (m, o) => {
              const known = scope.output(m, o);
              return typeof known === 'string' ? known : { state: 'unknown' };
            },
          };
          const first: PathError[] = [];
          const checkpoints: Checkpoint[] = [];
          const bound = resolveValue(value, unknown, first, ['in'], checkpoints);
          const before = JSON.stringify(bound.value);
          const later: PathError[] = [];
          const filled = fillValue(bound.value, checkpoints, scope, later, ['in']);
          expect(filled).toEqual(expected);
          const text = (errors: PathError[]) =>
            errors.map((e) => `${e.path.join('.')}: ${e.error.message}`).sort();
          expect(text([...first, ...later])).toEqual(text(once));
          // The bound value is shared by every run of the graph: finishing it must not change it.
          expect(JSON.stringify(bound.value)).toBe(before);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
