import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  YAMLParseError,
  type Alias,
  type CST,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import jsYaml from 'js-yaml';
import type { Problems, SourcePos } from '../errors.js';

/** Largest config file we read (SPEC §2). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Most alias expansions a config file may use (SPEC §2): guards against alias bombs. */
export const MAX_ALIAS_EXPANSIONS = 100;
/**
 * Deepest nesting of lists and maps a config value may have (the file's top-level map is level 1):
 * the parsers, the schema check and placeholder resolution all recurse, so deeper input is refused first.
 */
export const MAX_YAML_DEPTH = 64;
/** The message for a value nested deeper than MAX_YAML_DEPTH. */
export const TOO_DEEP_MESSAGE = `nesting deeper than ${MAX_YAML_DEPTH} levels: flatten this value`;

/** A path into a parsed YAML value: map keys and list indexes. */
export type YamlPath = readonly (string | number)[];

/** A parsed config file: its plain value and a way back from a value's path to its line and column. */
export interface YamlFile {
  file: string;
  value: unknown;
  /** Position of the value (or, with `key`, of the map key) at `path`; the nearest existing parent otherwise. */
  locate(path: YamlPath, key?: boolean): SourcePos;
  /** Position of character `index` of the string scalar at `path`, exact for plain and simple quoted scalars. */
  locateInString(path: YamlPath, index: number): SourcePos;
}

/** Index of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function lineColOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const YAML_MESSAGES: Record<string, (m: string) => string> = {
  DUPLICATE_KEY: () => 'duplicate key: each key may appear once in a map',
  MULTIPLE_DOCS: () => 'more than one YAML document in the file: keep one document per config file',
};

/**
 * Parses a config file's bytes into a value, recording every problem (size, encoding, syntax,
 * duplicate keys, alias bombs, empty file) with its position. Returns undefined when unusable.
 */
export function parseYaml(
  input: Uint8Array | string,
  file: string,
  problems: Problems,
  options: { fast?: boolean } = {},
): YamlFile | undefined {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const at = (line: number, column: number): SourcePos => ({ file, line, column });
  if (bytes.length > MAX_CONFIG_BYTES) {
    problems.error(
      at(1, 1),
      `file is ${bytes.length} bytes; config files may be at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
    );
    return undefined;
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const p = lineColOfByte(bytes, bad);
    problems.error(
      at(p.line, p.column),
      `file is not valid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} at offset ${bad}); save it as UTF-8`,
    );
    return undefined;
  }
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (options.fast !== false) {
    const fast = fastParse(text);
    // A value nested too deep takes the full parser, which says where the limit is exceeded.
    if (fast !== undefined && !nestsTooDeep(fast.value)) return lazyFile(file, text, fast);
  }
  return fullParse(file, text, problems);
}

// js-yaml counts every node, scalars and implicit flow pairs included: twice the limit is ample.
const FAST_PATH_MAX_DEPTH = 2 * MAX_YAML_DEPTH + 2;

// Anchors, aliases, tags, merge keys and complex keys (`? k`, or a list or map before ": ") take
// the full parser, which bounds alias expansion and explains every problem with its position (and
// reads tags as yaml does; js-yaml would turn a map key into "[object Object]"). Quoted text
// cannot hold them.
const QUOTED = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'/g;
const NEEDS_FULL_PARSE = /(^|:\s|-\s|[[{,])\s*[&*!]\S|<<|(^|[-:[{,])\s*\?(\s|$)|[\]}][ \t]*:(\s|$)/m;

// Text js-yaml and yaml read differently (found by fuzzing one against the other): such a file
// takes the full parser too, so a value never depends on which parser read it. Checked on the
// text with quoted scalars blanked out:
const READ_DIFFERENTLY = [
  // binary and signed hex or octal integers (numbers to js-yaml, text to yaml), floats that
  // overflow (text to js-yaml, ±Infinity to yaml), a sign before ".5", and -0;
  /(?:^|[\s:,[\]{}?-])(?:[-+]?0b|[-+]0[xo]|[-+]\.[0-9]|-0(?:[.eE]|(?=$|[\s,\]}#:]))|[0-9.][eE][-+]?[0-9]{3})/m,
  // a null or empty key (the key "null" to js-yaml, "" to yaml);
  /(?:^|[\s{,?-])(?:~|null|Null|NULL)[ \t]*:(?:\s|$)|[[{,][ \t]*:/m,
  // a comment right after a quoted scalar (yaml wants a space before "#").
  /""#/,
];
// Checked on the whole text, quoted scalars included: a lone carriage return (a line end to
// js-yaml, also inside quotes) or a byte order mark after the first.
const ODD_CHARACTERS = /\r(?!\n)|\uFEFF/;

/**
 * Whether a line is over 1024 characters: yaml refuses implicit keys that long, js-yaml does not.
 * (A regular expression for this retries at every character of a long line: quadratic.)
 */
function hasLongLine(text: string): boolean {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if ((end < 0 ? text.length : end) - start > 1024) return true;
    if (end < 0) return false;
    start = end + 1;
  }
}

/**
 * The value of a plain config file from js-yaml (YAML 1.2 core schema), about ten times faster than
 * building a position-keeping document; undefined when the file needs the full parser.
 */
function fastParse(text: string): { value: unknown } | undefined {
  const unquoted = text.replace(QUOTED, '""');
  if (
    NEEDS_FULL_PARSE.test(unquoted) ||
    READ_DIFFERENTLY.some((r) => r.test(unquoted)) ||
    ODD_CHARACTERS.test(text) ||
    hasLongLine(text)
  )
    return undefined;
  try {
    // js-yaml recurses once per node and refuses beyond maxDepth: set it, rather than rely on its
    // default, so its recursion stays bounded; in between, firstTooDeep catches what it accepted.
    const options = { schema: jsYaml.CORE_SCHEMA, json: false, maxDepth: FAST_PATH_MAX_DEPTH };
    const value = jsYaml.load(text, options as jsYaml.LoadOptions);
    if (value === undefined || value === null || typeof value !== 'object') return undefined;
    return { value };
  } catch {
    return undefined; // the full parser reports it properly
  }
}

/** A file parsed on the fast path: positions come from a full document built on first use. */
function lazyFile(file: string, text: string, fast: { value: unknown }): YamlFile {
  let full: YamlFile | undefined;
  const positions = (): YamlFile => {
    full ??= fullParse(file, text, undefined);
    return (
      full ?? {
        file,
        value: fast.value,
        locate: () => ({ file, line: 1, column: 1 }),
        locateInString: () => ({ file, line: 1, column: 1 }),
      }
    );
  };
  return {
    file,
    value: fast.value,
    locate: (path, key) => positions().locate(path, key),
    locateInString: (path, index) => positions().locateInString(path, index),
  };
}

function fullParse(file: string, text: string, problems: Problems | undefined): YamlFile | undefined {
  const at = (line: number, column: number): SourcePos => ({ file, line, column });
  const lineCounter = new LineCounter();
  const cst = parseTokens(text, lineCounter);
  if ('tooDeepAt' in cst) {
    const { line, col } = lineCounter.linePos(cst.tooDeepAt);
    problems?.error(at(line, col), TOO_DEEP_MESSAGE);
    return undefined;
  }
  const doc = composeDocument(cst.tokens, text);
  const posOf = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return at(line, col);
  };
  const scan = scanDocument(doc);
  if (doc.errors.length > 0 || scan.duplicateKeys.length > 0) {
    // Indentation mistakes come back as two or three generic errors, often on the line above:
    // one message instead, at the line and column that is off.
    const indent = doc.errors.find((e) => INDENT_CODES.has(e.code));
    const shown = indent ? indentationProblem(text, lineCounter.linePos(indent.pos[0]).line) : undefined;
    if (shown) problems?.error(at(shown.line, shown.column), `invalid YAML: ${shown.message}`);
    for (const e of doc.errors) {
      if (shown && INDENT_CODES.has(e.code)) continue;
      const rewrite = YAML_MESSAGES[e.code];
      const base = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.message;
      // An unclosed quote is reported by the parser where the file ends; point at the opening quote instead.
      const at0 = /^Missing closing .?quote/i.test(base)
        ? (unclosedQuoteOffset(cst.tokens) ?? e.pos[0])
        : e.pos[0];
      problems?.error(posOf(at0), `invalid YAML: ${rewrite ? rewrite(base) : base}`);
    }
    for (const { key, first } of scan.duplicateKeys) {
      const name = isScalar(key) ? JSON.stringify(String(key.value)).slice(0, 80) : 'key';
      const firstLine = first.range ? posOf(first.range[0]).line : undefined;
      problems?.error(
        posOf(key.range?.[0] ?? 0),
        `invalid YAML: duplicate key ${name}${firstLine ? ` (first on line ${firstLine})` : ''}: each key may appear once in a map`,
      );
    }
    return undefined;
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    problems?.error(at(1, 1), 'file is empty: it needs a YAML mapping');
    return undefined;
  }
  if (scan.collectionKey?.range) {
    problems?.error(
      posOf(scan.collectionKey.range[0]),
      'invalid YAML: a map key must be plain text, not a list or map',
    );
    return undefined;
  }
  const aliasBomb = (where: Node | undefined): void =>
    problems?.error(
      where?.range ? posOf(where.range[0]) : at(1, 1),
      `too many alias expansions (limit ${MAX_ALIAS_EXPANSIONS}): refusing a possible alias bomb`,
    );
  // Each alias yaml expands looks through every anchor before it: count them first.
  if (scan.aliasOverLimit) {
    aliasBomb(scan.aliasOverLimit);
    return undefined;
  }
  let value: unknown;
  try {
    // yaml refuses at maxAliasCount uses; SPEC allows up to MAX_ALIAS_EXPANSIONS.
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS + 1 });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/alias/i.test(msg)) aliasBomb(scan.firstAlias);
    else
      problems?.error(
        scan.firstAlias?.range ? posOf(scan.firstAlias.range[0]) : at(1, 1),
        `invalid YAML: ${msg}`,
      );
    return undefined;
  }
  if (isCircular(value)) {
    const first = scan.firstAlias;
    problems?.error(
      first?.range ? posOf(first.range[0]) : at(1, 1),
      'invalid YAML: an alias refers to the node that contains it (a recursive structure)',
    );
    return undefined;
  }
  // Keys of each map by text, first one wins (as a linear find would): a map may have 100,000 keys
  // and every problem asks for a position.
  const keyIndex = new Map<object, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let index = keyIndex.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items)
        if (isPair(p) && isScalar(p.key) && !index.has(String(p.key.value)))
          index.set(String(p.key.value), p);
      keyIndex.set(map, index);
    }
    return index.get(key);
  };
  const targets = new Map<Node, Node | undefined>();
  const resolveAlias = (alias: Alias): Node | undefined => {
    if (!targets.has(alias)) targets.set(alias, alias.resolve(doc as Document) as Node | undefined);
    return targets.get(alias);
  };
  const nodeAt = (path: YamlPath): { node: Node | null; keyNode: Node | null; alias: Node | null } => {
    let node = doc.contents as Node | null;
    let keyNode: Node | null = null;
    let alias: Node | null = null;
    for (const seg of path) {
      if (node && isAlias(node)) {
        alias = node;
        node = resolveAlias(node) ?? node;
      }
      if (node && isMap(node)) {
        const pair = pairOf(node, String(seg));
        if (!pair) break;
        keyNode = pair.key as Node;
        node = (pair.value as Node | null) ?? keyNode;
      } else if (node && isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        keyNode = item;
        node = item;
      } else {
        break;
      }
    }
    return { node, keyNode, alias };
  };
  // The text nests within the limit, but aliases (and implicit maps in flow lists) can nest the value deeper.
  const deep = firstTooDeep(value);
  if (deep) {
    const { node, alias } = nodeAt(deep);
    const target = alias ?? node;
    problems?.error(target?.range ? posOf(target.range[0]) : at(1, 1), TOO_DEEP_MESSAGE);
    return undefined;
  }
  return {
    file,
    value,
    locate(path, key = false) {
      const { node, keyNode } = nodeAt(path);
      const target = key && keyNode ? keyNode : node;
      return target?.range ? posOf(target.range[0]) : at(1, 1);
    },
    locateInString(path, index) {
      const { node } = nodeAt(path);
      if (!node?.range) return at(1, 1);
      const start = node.range[0];
      if (isScalar(node) && typeof node.value === 'string') {
        const src = text.slice(start, node.range[1]);
        if (src === node.value) return posOf(start + index);
        if ((src.startsWith('"') || src.startsWith("'")) && src.slice(1, -1) === node.value)
          return posOf(start + 1 + index);
      }
      return posOf(start);
    },
  };
}

/** The yaml library's errors for a line indented unlike its neighbours. */
const INDENT_CODES = new Set([
  'BAD_INDENT',
  'MULTILINE_IMPLICIT_KEY',
  'BLOCK_AS_IMPLICIT_KEY',
  'MISSING_CHAR',
]);

/**
 * The line that is indented wrongly near `near`, and why: a key indented deeper than the key above
 * it that already has a value, or a key whose column differs from its map's other keys.
 */
function indentationProblem(
  text: string,
  near: number,
): { line: number; column: number; message: string } | undefined {
  const lines = text.split(/\r?\n/);
  const info = (i: number): { indent: number; key?: string; value: boolean } | undefined => {
    const l = lines[i];
    if (l === undefined || /^\s*(#.*)?$/.test(l)) return undefined;
    const m = /^( *)(- +)?([^\s#:'"][^:#]*?|'[^']*'|"[^"]*"):(\s+(\S.*)?)?$/.exec(l);
    if (!m) {
      // A list item is its own kind of line: `- value`.
      const item = /^( *)- +(\S.*)$/.exec(l);
      if (item)
        return {
          indent: (item[1] as string).length,
          key: `- ${(item[2] as string).slice(0, 40)}`,
          value: true,
        };
    }
    const indent = (/^ */.exec(l)?.[0].length ?? 0) + (m?.[2]?.length ?? 0);
    return {
      indent,
      key: m?.[3],
      value: m !== null && (m[5] ?? '').trim() !== '' && !/^[|>]/.test(m[5] ?? ''),
    };
  };
  const previous = (i: number): number | undefined => {
    for (let j = i - 1; j >= 0; j--) if (info(j)) return j;
    return undefined;
  };
  // From the reported line on, the first line whose indentation does not follow from the one before.
  for (let i = Math.max(0, near - 1); i < Math.min(lines.length, near + 2); i++) {
    const cur = info(i);
    const p = previous(i);
    if (!cur?.key || p === undefined) continue;
    const prev = info(p) as { indent: number; key?: string; value: boolean };
    const name = JSON.stringify(cur.key);
    if (cur.indent > prev.indent && prev.value && prev.key && !prev.key.startsWith('- ')) {
      return {
        line: i + 1,
        column: cur.indent + 1,
        message: `bad indentation: ${name} is indented deeper than ${JSON.stringify(prev.key)} on line ${p + 1}, which already has a value — line it up with ${JSON.stringify(prev.key)} (column ${prev.indent + 1})`,
      };
    }
    if (cur.indent < prev.indent) {
      // Its siblings: the nearest earlier key at a smaller indentation is the parent; its children
      // start at the column of the first key after it.
      let parent = p;
      while (parent >= 0 && (info(parent)?.indent ?? Infinity) >= cur.indent) parent--;
      const sibling = parent >= 0 ? (info(parent + 1) ?? info(p)) : undefined;
      if (sibling && sibling.indent !== cur.indent && sibling.key) {
        return {
          line: i + 1,
          column: cur.indent + 1,
          message: `bad indentation: ${name} starts at column ${cur.indent + 1}, but ${JSON.stringify(sibling.key)} before it at column ${sibling.indent + 1} — the entries of one map or list start at the same column`,
        };
      }
    }
  }
  return undefined;
}

/** What one pass over the document finds: aliases, duplicate keys, a list or map used as a key. */
interface DocumentScan {
  firstAlias: Node | undefined;
  /** The alias one past MAX_ALIAS_EXPANSIONS, in document order. */
  aliasOverLimit: Node | undefined;
  /** Each repeated key, with the key it repeats. */
  duplicateKeys: { key: Node; first: Node }[];
  collectionKey: Node | undefined;
}

/**
 * Walks the document once, with its own stack, in document order. Duplicate keys are found here
 * with a set per map: the yaml library's own check compares each key with every earlier one,
 * which takes minutes on a 1 MiB map. Keys compare as yaml compares them: by scalar value.
 */
function scanDocument(doc: Document): DocumentScan {
  const scan: DocumentScan = {
    firstAlias: undefined,
    aliasOverLimit: undefined,
    duplicateKeys: [],
    collectionKey: undefined,
  };
  let aliases = 0;
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const n = stack.pop();
    if (!n) continue;
    if (isAlias(n)) {
      scan.firstAlias ??= n;
      if (++aliases === MAX_ALIAS_EXPANSIONS + 1) scan.aliasOverLimit = n;
    } else if (isMap(n)) {
      const seen = new Map<unknown, Node>();
      const children: unknown[] = [];
      for (const p of n.items) {
        if (!isPair(p)) continue;
        const key = p.key;
        if (isMap(key) || isSeq(key)) {
          scan.collectionKey ??= key as Node;
        } else if (isScalar(key)) {
          // A merge key (`<<`) is a fresh symbol each time, and NaN equals nothing: never duplicates.
          const v = key.value;
          if (typeof v !== 'symbol' && !(typeof v === 'number' && Number.isNaN(v))) {
            const first = seen.get(v);
            if (first) scan.duplicateKeys.push({ key, first });
            else seen.set(v, key);
          }
        } else if (isAlias(key)) {
          children.push(key);
        }
        children.push(p.value);
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    } else if (isSeq(n)) {
      for (let i = n.items.length - 1; i >= 0; i--) stack.push(n.items[i]);
    }
  }
  return scan;
}

// Iterative, like every walk over a parsed value here: the value may be deeper than the call stack.
function isCircular(value: unknown): boolean {
  const onPath = new Set<object>();
  const stack: { v: object; leaving: boolean }[] = [];
  if (value !== null && typeof value === 'object') stack.push({ v: value, leaving: false });
  while (stack.length > 0) {
    const top = stack.pop() as { v: object; leaving: boolean };
    if (top.leaving) {
      onPath.delete(top.v);
      continue;
    }
    if (onPath.has(top.v)) return true;
    onPath.add(top.v);
    stack.push({ v: top.v, leaving: true });
    for (const child of childrenOf(top.v))
      if (child !== null && typeof child === 'object') stack.push({ v: child, leaving: false });
  }
  return false;
}

function childrenOf(v: object): unknown[] {
  return Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : Object.values(v);
}

/** Whether a list or map nests deeper than MAX_YAML_DEPTH: firstTooDeep without the path, for every file read. */
function nestsTooDeep(value: unknown): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() as number;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_YAML_DEPTH) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/**
 * The path of the first list or map (in document order) nested deeper than MAX_YAML_DEPTH, or
 * undefined. Walks with its own stack and stops at the limit, so any value is safe to give it.
 */
export function firstTooDeep(value: unknown): YamlPath | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  interface Entry {
    v: object;
    depth: number;
    parent: Entry | undefined;
    key: string | number;
  }
  const stack: Entry[] = [{ v: value, depth: 1, parent: undefined, key: '' }];
  while (stack.length > 0) {
    const e = stack.pop() as Entry;
    if (e.depth > MAX_YAML_DEPTH) {
      const path: (string | number)[] = [];
      for (let p: Entry | undefined = e; p?.parent; p = p.parent) path.push(p.key);
      return path.reverse();
    }
    const entries: [string | number, unknown][] = Array.isArray(e.v)
      ? e.v.map((x, i): [number, unknown] => [i, x])
      : e.v instanceof Map
        ? [...e.v.entries()].map(([k, x]): [string, unknown] => [String(k), x])
        : Object.entries(e.v);
    // Pushed last to first, so the first child is looked at first: document order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string | number, unknown];
      if (child !== null && typeof child === 'object')
        stack.push({ v: child, depth: e.depth + 1, parent: e, key });
    }
  }
  return undefined;
}

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * The file's syntax tokens, or the offset of the first list or map nested deeper than
 * MAX_YAML_DEPTH. The parser keeps its open collections on a stack of its own, so the depth is
 * read there as it grows, before anything recursive (the composer) sees the tokens.
 */
function parseTokens(
  text: string,
  lineCounter: LineCounter,
): { tokens: CST.Token[] } | { tooDeepAt: number } {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > MAX_YAML_DEPTH) {
      let level = 0;
      for (const open of parser.stack)
        if (COLLECTIONS.has(open.type) && ++level > MAX_YAML_DEPTH) return { tooDeepAt: open.offset };
    }
  }
  for (const token of parser.end()) tokens.push(token);
  return { tokens };
}

/** The first document of the tokens, as `parseDocument` would build it (a second document is an error). */
function composeDocument(tokens: CST.Token[], text: string): Document.Parsed {
  const composer = new Composer({
    // scanDocument finds duplicate keys in linear time.
    uniqueKeys: false,
    merge: true,
    keepSourceTokens: false,
    logLevel: 'error',
  });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, text.length)) {
    if (!doc) {
      doc = next;
    } else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          'MULTIPLE_DOCS',
          'Source contains multiple documents; please use YAML.parseAllDocuments()',
        ),
      );
      break;
    }
  }
  // compose(tokens, forceDoc = true) always yields a document, an empty one for empty input.
  return doc as Document.Parsed;
}

/** Offset of the opening quote of the first quoted scalar the parser found unterminated. */
function unclosedQuoteOffset(tokens: CST.Token[]): number | undefined {
  const stack: unknown[] = [...tokens].reverse();
  while (stack.length > 0) {
    const t = stack.pop();
    if (!t || typeof t !== 'object') continue;
    const tok = t as { type?: string; offset?: number; source?: string };
    if (
      (tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') &&
      typeof tok.source === 'string'
    ) {
      const q = tok.source[0];
      const body = tok.source.slice(1);
      const closed =
        q === '"' ? /(^|[^\\])(\\\\)*"$/.test(body) || body === '"' : /'$/.test(body.replace(/''/g, ''));
      if (!closed || tok.source.length < 2) return tok.offset;
      continue;
    }
    const children: unknown[] = [];
    for (const v of Object.values(t as Record<string, unknown>)) {
      if (Array.isArray(v)) for (const x of v as unknown[]) children.push(x);
      else if (v && typeof v === 'object') children.push(v);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return undefined;
}
