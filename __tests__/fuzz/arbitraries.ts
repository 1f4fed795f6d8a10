// Generators of hostile input for the fuzz targets: YAML text and bytes (mutated examples, anchors
// and aliases, deep nesting, odd scalars, invalid UTF-8, BOMs, huge keys), placeholder templates,
// random sites, and `terraform show -json` plans with secrets in their sensitive paths.
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { OutputState } from '../../src/core/placeholders/resolve.js';
import type { Files, RepoDesc } from '../helpers/repo.js';

/** A position as a fraction of a length, uniform: fast-check otherwise favours 0 and the ends. */
const fraction: fc.Arbitrary<number> = fc
  .noBias(fc.integer({ min: 0, max: 1_000_000 }))
  .map((n) => n / 1_000_001);

// ---- the example repository -------------------------------------------------------------------

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name.startsWith('.') ? [] : walk(path);
      return [path];
    });
}

/** The example repository (examples/ of this checkout, read from the current folder): path relative to it -> text. */
export function exampleFiles(): Record<string, string> {
  const root = 'examples';
  const out: Record<string, string> = {};
  for (const path of walk(root)) {
    const rel = relative(root, path).split('\\').join('/');
    if (rel.startsWith('sites/') || rel.startsWith('modules/')) out[rel] = readFileSync(path, 'utf8');
  }
  return out;
}

let examples: Record<string, string> | undefined;
/** Read once: the example files, by path. */
export function examplesOnce(): Record<string, string> {
  examples ??= exampleFiles();
  return examples;
}

/** The YAML files of the example repository, in a stable order. */
export function exampleYamlPaths(): string[] {
  return Object.keys(examplesOnce())
    .filter((p) => /\.ya?ml$/.test(p))
    .sort();
}

// ---- YAML text ----------------------------------------------------------------------------------

/** Pieces of YAML syntax that hit the parsers' corners. */
const YAML_FRAGMENTS = [
  '&a ',
  '*a',
  '&b ',
  '*b',
  '&a [x, y]',
  '<<: *a\n',
  '<<: [*a, *b]\n',
  '? ',
  '? [a]\n: b\n',
  ': ',
  '- ',
  '-\n',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '"',
  "'",
  '|\n',
  '|-\n  x\n',
  '>+\n',
  '# comment',
  ' #',
  '\t',
  '\n',
  '\n  ',
  '\n    ',
  '\r\n',
  '\r',
  '---\n',
  '...\n',
  '--- |\n',
  '!!str ',
  '!!int ',
  '!!binary ',
  '!!map ',
  '!!seq ',
  '!!set ',
  '!!omap ',
  '!local ',
  '!<tag:yaml.org,2002:str> ',
  '%YAML 1.2\n---\n',
  '%TAG ! tag:x.y,2000:\n---\n',
  '\uFEFF',
  '\u0000',
  '\u0085',
  '\u2028',
  '\uD800',
  '\uDFFF',
  '😀',
  '~',
  'null',
  'true',
  'no',
  '.inf',
  '-.inf',
  '.nan',
  '0x1F',
  '0o17',
  '0b101',
  '1e999',
  '-0',
  '1_000',
  '2001-12-14t21:59:43.10-05:00',
  '__proto__: {a: 1}\n',
  'constructor: {}\n',
  'toString: x\n',
  '"\\ud800"',
  '"\\U0001F600"',
  '"\\x00"',
  "'it''s'",
  '#{x}',
  '##{x}',
  '#{a.b | ToLower}',
  '#{',
  'weight: 1e400\n',
  'weight: .nan\n',
  'environments: [dev, dev]\n',
];

const fragment = fc.constantFrom(...YAML_FRAGMENTS);

/** Scalars YAML reads in surprising ways. */
const ODD_SCALARS = [
  '',
  '~',
  'null',
  'Null',
  'NULL',
  'true',
  'True',
  'no',
  'on',
  'y',
  '0',
  '-0',
  '0.',
  '.5',
  '1e3',
  '+12',
  '0x_1',
  '0o',
  '12:30:00',
  '2001-12-14',
  '.inf',
  '.NaN',
  '"\\ud800"',
  '"\\u0000"',
  "'a''b'",
  '"unterminated',
  "'unterminated",
  '!!int "3"',
  '!!float x',
  '!!null x',
  '!!bool maybe',
  '-',
  '?',
  ':',
  '@x',
  '`x',
  '%x',
  'a #b',
  'a: b',
  '#{x}',
  '#{net.vpc_id}',
  '##{x}',
  '#{x | Base64 | Nope}',
  'ünï©ødé',
  '\u202Eevil',
];

/** One edit of a text: where (a fraction of its length), what, and how much. */
interface Edit {
  op: 'insert' | 'delete' | 'replace' | 'duplicate-line' | 'swap-lines' | 'indent' | 'dedent' | 'cut';
  at: number;
  span: number;
  text: string;
}

const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom<Edit['op']>(
    'insert',
    'insert',
    'delete',
    'replace',
    'duplicate-line',
    'swap-lines',
    'indent',
    'dedent',
    'cut',
  ),
  at: fraction,
  span: fc.nat({ max: 40 }),
  text: fc.oneof(
    { weight: 4, arbitrary: fragment },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  ),
});

function applyEdit(text: string, e: Edit): string {
  const i = Math.floor(e.at * text.length);
  const lines = text.split('\n');
  const li = Math.floor(e.at * lines.length) % Math.max(lines.length, 1);
  switch (e.op) {
    case 'insert':
      return text.slice(0, i) + e.text + text.slice(i);
    case 'delete':
      return text.slice(0, i) + text.slice(i + e.span);
    case 'replace':
      return text.slice(0, i) + e.text + text.slice(i + Math.min(e.span, 4));
    case 'duplicate-line':
      lines.splice(li, 0, lines[li] ?? '');
      return lines.join('\n');
    case 'swap-lines': {
      const lj = (li + 1 + e.span) % lines.length;
      [lines[li], lines[lj]] = [lines[lj] ?? '', lines[li] ?? ''];
      return lines.join('\n');
    }
    case 'indent':
      lines[li] = ' '.repeat(1 + (e.span % 4)) + (lines[li] ?? '');
      return lines.join('\n');
    case 'dedent':
      lines[li] = (lines[li] ?? '').replace(/^ {1,2}/, '');
      return lines.join('\n');
    case 'cut':
      return text.slice(0, i);
  }
}

/** A text with a few random edits. */
export function mutated(base: fc.Arbitrary<string>, maxEdits = 6): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.array(edit, { minLength: 1, maxLength: maxEdits }))
    .map(([text, edits]) => edits.reduce(applyEdit, text));
}

/** One of the example files, verbatim. */
export const exampleText: fc.Arbitrary<string> = fc.constant(null).chain(() => {
  const all = examplesOnce();
  return fc.constantFrom(...exampleYamlPaths().map((p) => all[p] as string));
});

/** Nesting far past any limit, in every style, closed or not. */
export const deepYaml: fc.Arbitrary<string> = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 55, max: 75 }), fc.integer({ min: 0, max: 3000 })),
    style: fc.constantFrom('flow-seq', 'flow-map', 'block-map', 'block-seq', 'mixed-block', 'mixed-flow'),
    closed: fc.boolean(),
    prefix: fc.constantFrom('', 'a: ', 'a:\n  b: &x ', 'k: v\nlist:\n  - '),
  })
  .map(({ depth, style, closed, prefix }) => {
    switch (style) {
      case 'flow-seq':
        return `${prefix}${'['.repeat(depth)}x${closed ? ']'.repeat(depth) : ''}\n`;
      case 'flow-map':
        return `${prefix}${'{k: '.repeat(depth)}x${closed ? '}'.repeat(depth) : ''}\n`;
      case 'mixed-flow':
        return `${prefix}${'[{k: '.repeat(depth)}x${closed ? '}]'.repeat(depth) : ''}\n`;
      case 'block-map':
        return Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' x\n';
      case 'block-seq':
        return `a:\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(2 * i)}-`).join('\n')} x\n`;
      case 'mixed-block':
        return (
          Array.from({ length: depth }, (_, i) => `${' '.repeat(2 * i)}${i % 2 ? '-' : 'k:'}`).join('\n') +
          ' x\n'
        );
    }
    return '';
  });

/** A YAML node as text, with anchors on some nodes and aliases to earlier anchors. */
const yamlNode: fc.Arbitrary<string> = fc.letrec<{ node: string; flow: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...ODD_SCALARS),
    tie('flow'),
    fc.constantFrom('*a', '*b', '*c'),
    fc
      .tuple(fc.constantFrom('&a ', '&b ', '&c ', '!!str ', '!!map ', '!!seq ', '? '), tie('flow'))
      .map(([p, n]) => p + n),
  ),
  flow: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(...ODD_SCALARS),
    fc.array(tie('node'), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`),
    fc
      .array(fc.tuple(fc.constantFrom('a', 'b', 'k', '"q"', '<<', '? x', '1', 'null', ''), tie('node')), {
        maxLength: 4,
      })
      .map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
  ),
})).node;

/** A block map of generated nodes: anchors, aliases, merge keys, odd scalars. */
export const generatedYaml: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('a', 'b', 'c', 'site', 'variables', 'environment', '<<', '__proto__', '"q k"', '? k'),
        fc.string({ minLength: 1, maxLength: 6 }).map((s) => JSON.stringify(s)),
      ),
      yamlNode,
      fc.constantFrom(' ', '\n  ', '\n- ', ' &a ', ' &b ', ' *a\n  x: '),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((entries) => entries.map(([k, v, sep]) => `${k}:${sep}${v}`).join('\n') + '\n');

/**
 * Large inputs: many keys, many aliases, many items, a huge key or scalar; up to `max` entries
 * (quadratic work on 20,000 takes many seconds, linear work well under one).
 */
export const bigYamlUpTo = (max: number): fc.Arbitrary<string> =>
  fc
    .record({
      kind: fc.constantFrom(
        'keys',
        'aliases',
        'anchors',
        'items',
        'huge-key',
        'huge-scalar',
        'duplicates',
        'flow-keys',
      ),
      n: fc.oneof(
        fc.integer({ min: 50, max: Math.min(4000, max) }),
        fc.integer({ min: Math.min(4000, max), max }),
      ),
    })
    .map(({ kind, n: count }) => {
      const n =
        kind === 'items' ? Math.min(count, 2000) : kind.startsWith('huge') ? Math.min(count, 4000) : count;
      const lines: string[] = [];
      switch (kind) {
        case 'keys':
          for (let i = 0; i < n; i++) lines.push(`k${i}: v${i}`);
          break;
        case 'aliases':
          lines.push('a: &a [1, 2]', 'b:');
          for (let i = 0; i < n; i++) lines.push('  - *a');
          break;
        case 'anchors':
          for (let i = 0; i < n; i++) lines.push(`a${i}: &a${i} x`, `b${i}: *a${i}`);
          break;
        case 'items':
          lines.push('a:');
          for (let i = 0; i < n; i++) lines.push(`  - {k: ${i}, v: [${i}, "#{x}"]}`);
          break;
        case 'huge-key':
          lines.push(`${'k'.repeat(n * 20)}: v`, 'b: 1');
          break;
        case 'huge-scalar':
          lines.push(`a: "${'x#{y}'.repeat(n * 4)}"`);
          break;
        case 'duplicates':
          for (let i = 0; i < n; i++) lines.push(`k${i % 7}: v`);
          break;
        case 'flow-keys':
          lines.push(`a: {${Array.from({ length: n }, (_, i) => `k${i % (n - 3)}: ${i}`).join(', ')}}`);
          break;
      }
      return lines.join('\n') + '\n';
    });

/** Large inputs of every kind, up to 20,000 entries. */
export const bigYaml: fc.Arbitrary<string> = bigYamlUpTo(20_000);

/** Fragments run together. */
export const fragmentSoup: fc.Arbitrary<string> = fc
  .array(fc.oneof(fragment, fc.constantFrom(...ODD_SCALARS), fc.constantFrom('a', 'b: ', '\n')), {
    maxLength: 30,
  })
  .map((parts) => parts.join(''));

/** YAML-ish text of every kind above. */
export const yamlText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: mutated(exampleText) },
  { weight: 1, arbitrary: exampleText },
  { weight: 3, arbitrary: generatedYaml },
  { weight: 1, arbitrary: mutated(generatedYaml, 3) },
  { weight: 2, arbitrary: deepYaml },
  { weight: 2, arbitrary: fragmentSoup },
  { weight: 1, arbitrary: bigYaml },
);

/** Byte sequences that are not UTF-8, and a BOM. */
const BAD_BYTES: number[][] = [
  [0xef, 0xbb, 0xbf],
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xf0, 0x9f, 0x98],
];

/** A text as UTF-8 bytes, sometimes with a BOM or invalid bytes spliced in, or random bytes. */
export const yamlBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: yamlText.map((t) => new TextEncoder().encode(t)) },
  {
    weight: 2,
    arbitrary: fc.tuple(yamlText, fc.constantFrom(...BAD_BYTES), fraction).map(([t, bad, at]) => {
      const bytes = new TextEncoder().encode(t);
      const i = Math.floor(at * bytes.length);
      return Uint8Array.from([...bytes.subarray(0, i), ...bad, ...bytes.subarray(i)]);
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: yamlText.map((t) => new TextEncoder().encode(`\uFEFF${t}`)) },
);

// ---- placeholders -------------------------------------------------------------------------------

/** Any UTF-16 code units, lone surrogates included. */
export const utf16 = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.nat({ max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });

const TEMPLATE_FRAGMENTS = [
  '#{',
  '##{',
  '###{',
  '#',
  '{',
  '}',
  '|',
  '.',
  ' ',
  'x',
  'list',
  'map',
  'deep',
  'net.vpc_id',
  'db.endpoint',
  'deep.out',
  'ToLower',
  'ToUpper',
  'Trim',
  'JsonEscape',
  'UriEscape',
  'Base64',
  'HtmlEscape',
  'Nope',
  '#{x}',
  '#{list}',
  '#{map | JsonEscape}',
  '#{deep}',
  '#{deep | Base64}',
  '#{net.vpc_id | ToUpper}',
  '#{db.endpoint}',
  '#{deep.out}',
  '#{deep.out | Trim}',
  '#{a.b.c}',
  '#{ x | }',
  '##{x}',
];

/** Template strings built from the engine's own syntax. */
export const template: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.oneof(fc.constantFrom(...TEMPLATE_FRAGMENTS), utf16(4)), { maxLength: 12 })
    .map((p) => p.join('')),
  fc.constantFrom('#{x}', '#{list}', '#{map}', '#{deep}', '#{net.vpc_id}', '#{deep.out}', '#{db.endpoint}'),
  utf16(20),
);

/**
 * A value nested `depth` levels deep around a leaf, built without recursion. It prints itself for
 * fast-check as the call that made it: printing it whole would recurse as deep as it nests.
 */
export function nest(depth: number, leaf: unknown, kind: 'list' | 'map' | 'mixed' = 'list'): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = kind === 'list' || (kind === 'mixed' && i % 2) ? [v] : { k: v };
  if (v !== null && typeof v === 'object')
    Object.defineProperty(v, fc.toStringMethod, {
      value: () => `nest(${depth}, ${fc.stringify(leaf)}, ${JSON.stringify(kind)})`,
      enumerable: false,
    });
  return v;
}

/** Values as YAML (or an engine's JSON output) gives them, nesting near and far past the limits included. */
export const plainValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
  fc
    .tuple(
      fc.oneof(fc.integer({ min: 55, max: 70 }), fc.integer({ min: 0, max: 2000 })),
      fc.constantFrom<'list' | 'map' | 'mixed'>('list', 'map', 'mixed'),
    )
    .map(([d, kind]) => nest(d, 'leaf', kind)),
);

/** What an upstream output can be at plan time. */
export const outputState: fc.Arbitrary<OutputState> = fc.oneof(
  plainValue.map((value): OutputState => ({ state: 'known', value })),
  fc.constant<OutputState>({ state: 'unknown' }),
  plainValue.map((value): OutputState => ({ state: 'mocked', value })),
);

/** A value holding templates at any depth, sometimes deeper than the limit. */
export const templateValue: fc.Arbitrary<unknown> = fc.oneof(
  template,
  fc.array(template, { maxLength: 4 }),
  fc.dictionary(fc.constantFrom('a', 'b', '__proto__', 'constructor'), template, { maxKeys: 3 }),
  fc
    .tuple(
      fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 1500 })),
      template,
      fc.constantFrom<'list' | 'map' | 'mixed'>('list', 'map', 'mixed'),
    )
    .map(([d, t, kind]) => nest(d, t, kind)),
);

// ---- random sites -------------------------------------------------------------------------------

const MODULE_NAMES = ['net', 'db', 'app', 'dns', 'aws-vpc', 'x'];
const ENV_NAMES = ['dev', 'prod', 'qa'];
const VARIABLE_NAMES = ['a', 'b', 'c', 'd', 'cidr', 'domain'];
const OUTPUTS = ['vpc_id', 'subnet_ids', 'url', 'service_name', 'fqdn', 'nope'];

/** A placeholder-bearing input value: reads variables, built-ins and other modules' outputs. */
const inputValue: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .constantFrom(...VARIABLE_NAMES, 'Environment', 'Module', 'Account', 'Owner', 'nope')
    .map((v) => `#{${v}}`),
  fc
    .tuple(fc.constantFrom(...MODULE_NAMES, 'ghost'), fc.constantFrom(...OUTPUTS))
    .map(([m, o]) => `#{${m}.${o}}`),
  fc
    .tuple(
      fc.constantFrom(...MODULE_NAMES),
      fc.constantFrom(...OUTPUTS),
      fc.constantFrom('', ' | ToLower', ' | Nope'),
    )
    .map(([m, o, f]) => `pre-#{${m}.${o}${f}}-post`),
  fc.array(fc.constantFrom('#{a}', '#{net.vpc_id}', 'x', '#{b | Base64}'), { maxLength: 3 }),
  fc.constantFrom('10.0.0.0/16', 3, true, null, '#{', '##{x}'),
  fc.integer({ min: 0, max: 80 }).map((d) => nest(d, '#{a}', 'mixed')),
);

const moduleEntry: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      type: fc.constantFrom('aws-vpc', 'app', 'dns', 'free', 'ghost-type'),
      name: fc.constantFrom(...MODULE_NAMES),
      weight: fc.oneof(
        fc.integer({ min: -5, max: 60 }),
        fc.constantFrom(10, 20, 30, 0.5, 1e300, Number.POSITIVE_INFINITY, '10'),
      ),
      depends_on: fc.array(fc.constantFrom(...MODULE_NAMES, 'ghost'), { maxLength: 3 }),
      environments: fc.array(fc.constantFrom(...ENV_NAMES, 'staging'), { maxLength: 3 }),
      inputs: fc.dictionary(
        fc.constantFrom('cidr', 'vpc_id', 'domain', 'zones', 'replicas', 'weight', 'extra'),
        inputValue,
        {
          maxKeys: 3,
        },
      ),
      cidr: inputValue,
      vpc_id: inputValue,
      domain: inputValue,
    },
    { requiredKeys: ['type'] },
  )
  .map((m) => m as Record<string, unknown>);

/** Environment variables that read each other: chains, cycles, long chains, built-ins, outputs (an error). */
const variables: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.dictionary(
    fc.constantFrom(...VARIABLE_NAMES),
    fc.oneof(
      fc.constantFrom(...VARIABLE_NAMES, 'Site', 'Region', 'Module', 'nope').map((v) => `#{${v}}`),
      fc.constantFrom('x', 3, '10.0.0.0/16', 'pre-#{a}-#{b}', '#{net.vpc_id}', '#{a | Nope}'),
      fc.array(fc.constantFrom('#{a}', '#{b}', 'x'), { maxLength: 3 }),
    ),
    { maxKeys: 6 },
  ),
  // A placeholder bomb: each level lists the one before it n times.
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 })).map(([levels, n]) => {
    const vars: Record<string, unknown> = { a: `#{l${levels}}`, b: 'x', cidr: '10.0.0.0/16', domain: 'd' };
    vars.l0 = Array.from({ length: n }, () => 'x');
    for (let i = 1; i <= levels; i++) vars[`l${i}`] = Array.from({ length: n }, () => `#{l${i - 1}}`);
    return vars;
  }),
  // A chain of n variables, maybe closed into a cycle.
  fc.tuple(fc.integer({ min: 1, max: 80 }), fc.boolean()).map(([n, cycle]) => {
    const vars: Record<string, unknown> = { a: '#{v0}', b: 'x', cidr: '10.0.0.0/16', domain: 'd' };
    for (let i = 0; i < n; i++) vars[`v${i}`] = `#{v${i + 1}}`;
    vars[`v${n}`] = cycle ? '#{v0}' : 'end';
    return vars;
  }),
);

/** A random repository: one site with random modules, environments and variables, over a fixed catalog. */
export const randomRepo = (catalog: RepoDesc['catalog']): fc.Arbitrary<RepoDesc> =>
  fc
    .record({
      modules: fc.array(moduleEntry, { maxLength: 7 }),
      envs: fc.uniqueArray(fc.constantFrom(...ENV_NAMES), { minLength: 1, maxLength: 3 }),
      vars: fc.array(variables, { minLength: 3, maxLength: 3 }),
      ordering: fc.constantFrom(undefined, 'dependencies', 'weights'),
      promotion: fc.option(fc.array(fc.constantFrom(...ENV_NAMES, 'staging'), { maxLength: 3 })),
      verification: fc.option(inputValue),
    })
    .map(({ modules, envs, vars, ordering, promotion, verification }) => {
      const extra: Record<string, unknown> = { owner: 'platform' };
      if (ordering) extra.ordering = ordering;
      if (promotion) extra.promotion = promotion;
      const envDesc: Record<string, Record<string, unknown>> = {};
      envs.forEach((e, i) => {
        envDesc[e] = { variables: vars[i] ?? {} };
        if (verification !== null)
          (envDesc[e] as Record<string, unknown>).verification = {
            probes: [{ type: 'http', url: verification, expect: { status: 200 } }],
          };
      });
      const credentials: Record<string, Record<string, unknown>> = {};
      envs.forEach((e, i) => {
        const account = String(111111111111 * (i + 1));
        credentials[e] = {
          aws_account: account,
          role: `arn:aws:iam::${account}:role/deploy-${e}`,
          region: 'us-east-1',
        };
      });
      return { sites: { s1: { extra, modules, envs: envDesc, credentials } }, catalog };
    });

/** A change to one file of a repository: edited as text, replaced, nested deep, or deleted. */
export interface FileChange {
  path: string;
  how: 'edit' | 'replace' | 'deep' | 'delete';
  edits: Edit[];
  replacement: string;
}

/** One to three changes to files among `paths`. */
export const fileChanges = (paths: string[]): fc.Arbitrary<FileChange[]> =>
  fc.array(
    fc.record({
      path: fc.constantFrom(...paths),
      how: fc.constantFrom<FileChange['how']>('edit', 'edit', 'edit', 'replace', 'deep', 'delete'),
      edits: fc.array(edit, { minLength: 1, maxLength: 5 }),
      // Smaller big files than for parsing alone: a repository reads each one twice per case.
      replacement: fc.oneof(generatedYaml, deepYaml, fragmentSoup, bigYamlUpTo(8000)),
    }),
    { minLength: 1, maxLength: 3 },
  );

/** The files with the changes applied. */
export function applyFileChanges(base: Files, changes: FileChange[]): Files {
  const files: Files = { ...base };
  for (const c of changes) {
    const current = files[c.path];
    const text = typeof current === 'string' ? current : '';
    if (c.how === 'delete') files[c.path] = null;
    else if (c.how === 'edit') files[c.path] = c.edits.reduce(applyEdit, text);
    else if (c.how === 'deep') files[c.path] = `${text}\nextra: ${'['.repeat(200 + c.edits.length * 300)}\n`;
    else files[c.path] = c.replacement;
  }
  return files;
}

// ---- terraform show -json -----------------------------------------------------------------------

/** Secret values: long and distinctive, so finding one in a report cannot be chance. */
export const secret: fc.Arbitrary<string> = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 10, maxLength: 16 })
  .map((s) => `sEcReT-${s}`);

const ACTIONS: string[][] = [
  ['create'],
  ['update'],
  ['delete'],
  ['delete', 'create'],
  ['create', 'delete'],
  ['create', 'forget'],
  ['forget'],
  ['read'],
  ['no-op'],
];

const resourceChange: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    module: fc.constantFrom('', 'module.m.', 'module.m["a"].module.n[0].'),
    type: fc.constantFrom(
      'aws_db_instance',
      'aws_s3_bucket',
      'terraform_data',
      'aws_fsx_lustre',
      'null_resource',
      'x',
    ),
    name: fc.constantFrom('main', 'db', 'a|b', 'a`b', '<b>', 'x\u001b[31m'),
    index: fc.constantFrom('', '[0]', '["k"]'),
    mode: fc.constantFrom('managed', 'managed', 'data'),
    actions: fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...ACTIONS) },
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
    ),
    importing: fc.boolean(),
    moved: fc.boolean(),
    deposed: fc.option(fc.constantFrom('00000001', 'abc')),
    reason: fc.option(
      fc.constantFrom(
        'replace_because_cannot_update',
        'replace_by_request',
        'delete_because_no_resource_config',
      ),
    ),
    before: secret,
    after: secret,
    nested: secret,
  })
  .map((r) => {
    const address = `${r.module}${r.type}.${r.name}${r.index}`;
    const rc: Record<string, unknown> = {
      address,
      module_address: r.module ? r.module.slice(0, -1) : undefined,
      mode: r.mode,
      type: r.type,
      name: r.name,
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: {
        actions: r.actions,
        before: { id: 'i-1', password: r.before, tags: { t: r.nested } },
        after: { id: 'i-1', password: r.after, tags: { t: r.nested }, list: [r.after] },
        after_unknown: { id: true },
        before_sensitive: { password: true, tags: { t: true } },
        after_sensitive: { password: true, tags: true, list: [true] },
        ...(r.importing ? { importing: { id: 'imp-1' } } : {}),
      },
    };
    if (r.moved) rc.previous_address = `old_${address}`;
    if (r.deposed !== null) rc.deposed = r.deposed;
    if (r.reason !== null) rc.action_reason = r.reason;
    return rc;
  });

/** A plan shaped like Terraform's: resource changes, drift, outputs, values, with secrets in sensitive paths. */
export const generatedPlan: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    changes: fc.array(resourceChange, { maxLength: 8 }),
    drift: fc.array(resourceChange, { maxLength: 2 }),
    outputs: fc.dictionary(
      fc.constantFrom('url', 'password', 'a|b', '__proto__', 'x`y'),
      fc.record({
        actions: fc.constantFrom(...ACTIONS),
        before: secret,
        after: secret,
        sensitive: fc.boolean(),
      }),
      { maxKeys: 3 },
    ),
    variable: secret,
  })
  .map(({ changes, drift, outputs, variable }) => {
    const output_changes: Record<string, unknown> = {};
    for (const [k, o] of Object.entries(outputs)) {
      Object.defineProperty(output_changes, k, {
        enumerable: true,
        writable: true,
        configurable: true,
        value: {
          actions: o.actions,
          before: o.before,
          after: o.after,
          after_unknown: false,
          before_sensitive: o.sensitive,
          after_sensitive: o.sensitive,
        },
      });
    }
    return {
      format_version: '1.2',
      terraform_version: '1.11.4',
      variables: { db_password: { value: variable } },
      planned_values: { root_module: { resources: [] } },
      resource_changes: changes,
      resource_drift: drift,
      output_changes,
      configuration: { root_module: { variables: { db_password: { sensitive: true } } } },
      timestamp: '2025-01-01T00:00:00Z',
      applyable: true,
      complete: true,
      errored: false,
    };
  });

/** One structural change to a plan document. */
export interface PlanMutation {
  op: 'delete' | 'null' | 'type' | 'deep' | 'duplicate' | 'huge';
  /** Picks the node to change among all nodes, as a fraction of their number. */
  at: number;
  value: unknown;
  depth: number;
}

export const planMutation: fc.Arbitrary<PlanMutation> = fc.record({
  op: fc.constantFrom<PlanMutation['op']>(
    'delete',
    'delete',
    'null',
    'type',
    'type',
    'deep',
    'duplicate',
    'huge',
  ),
  at: fraction,
  value: fc.oneof(
    fc.constantFrom(
      0,
      -1,
      1.5,
      '',
      'x',
      true,
      false,
      [],
      {},
      ['create'],
      ['delete', 'create'],
      '1.2',
      '2.0',
      null,
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  depth: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1000, max: 200_000 })),
});

/** Every object or list in a JSON value with its parent and key, without recursion. */
function nodesOf(root: unknown): { parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0 && out.length < 5000) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({ parent: v, key: i });
        stack.push(x);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push({ parent: v as Record<string, unknown>, key: k });
        stack.push(x);
      }
    }
  }
  return out;
}

/** Applies mutations to a copy of a plan. */
export function mutatePlan(plan: unknown, mutations: PlanMutation[]): unknown {
  const doc = JSON.parse(JSON.stringify(plan)) as unknown;
  for (const m of mutations) {
    const nodes = nodesOf(doc);
    const target = nodes[Math.floor(m.at * nodes.length)];
    if (!target) continue;
    const { parent, key } = target;
    const set = (v: unknown): void => {
      if (Array.isArray(parent)) parent[key as number] = v;
      else parent[key as string] = v;
    };
    // A copy of the mutation's value each time: the generated value itself must never end up in
    // the document, where a later mutation would change it (fast-check reuses it while shrinking)
    // or put it inside itself.
    const fresh = (): unknown => JSON.parse(JSON.stringify(m.value)) as unknown;
    switch (m.op) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 'null':
        set(null);
        break;
      case 'type':
        set(fresh());
        break;
      case 'deep':
        set(nest(m.depth, fresh()));
        break;
      case 'duplicate':
        // The same object twice: jsonText writes it out twice, however deep it is.
        if (Array.isArray(parent)) parent.splice(key as number, 0, parent[key as number]);
        break;
      case 'huge':
        // Copies, not one object 20,000 times: a later mutation inside it would be written out 20,000 times.
        set(Array.from({ length: Math.min(m.depth, 20_000) }, fresh));
        break;
    }
  }
  return doc;
}

/** One edit of a plan's text: a cut, a stray character, a BOM. */
export const planTextEdit: fc.Arbitrary<PlanTextEdit> = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fraction }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fraction,
    text: fc.constantFrom('"', ',', '}', ']', '\\', '\u0000', '\uFEFF', 'x', ' ', '[', '{"a":'),
  }),
  fc.record({ op: fc.constant('bom' as const) }),
);

/** Applies a text edit to a plan's JSON. */
export function editPlanText(text: string, e: PlanTextEdit): string {
  if (e.op === 'bom') return `\uFEFF${text}`;
  const i = Math.floor(e.at * text.length);
  if (e.op === 'cut') return text.slice(0, i);
  return text.slice(0, i) + e.text + text.slice(i);
}

/** An edit of a plan's text. */
export type PlanTextEdit =
  { op: 'cut'; at: number } | { op: 'insert'; at: number; text: string } | { op: 'bom' };

/**
 * JSON text of a value, like JSON.stringify but with its own stack: the mutated plans nest far
 * deeper than JSON.stringify (recursive in V8) can go. Shared objects are written out each time.
 */
export function jsonText(value: unknown): string {
  const out: string[] = [];
  // Either a value to write, or a literal piece of text (closing brackets, commas, keys).
  const stack: ({ v: unknown } | string)[] = [{ v: value }];
  while (stack.length > 0) {
    const top = stack.pop() as { v: unknown } | string;
    if (typeof top === 'string') {
      out.push(top);
      continue;
    }
    const v = top.v;
    if (Array.isArray(v)) {
      const parts: ({ v: unknown } | string)[] = ['['];
      v.forEach((x, i) => {
        if (i > 0) parts.push(',');
        parts.push({ v: x === undefined ? null : x });
      });
      parts.push(']');
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i] as { v: unknown } | string);
    } else if (v !== null && typeof v === 'object') {
      const parts: ({ v: unknown } | string)[] = ['{'];
      let first = true;
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        parts.push(`${first ? '' : ','}${JSON.stringify(k)}:`, { v: x });
        first = false;
      }
      parts.push('}');
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i] as { v: unknown } | string);
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  return out.join('');
}
