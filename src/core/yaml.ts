import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isNode,
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
  type YAMLSeq,
} from 'yaml';
import type { Problems, SourcePos } from './errors.js';

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
  return fullParse(file, text, problems);
}

/** Where a file's text offsets are, as file:line:column. */
type PosOf = (offset: number) => SourcePos;

/** The parsed document of a file, with what one pass over it found, and a way to turn offsets into positions. */
interface Parsed {
  file: string;
  text: string;
  doc: Document.Parsed;
  tokens: CST.Token[];
  scan: DocumentScan;
  posOf: PosOf;
}

/** What turns a node into a position: the file, its text and its line starts. */
type Where = Pick<Parsed, 'file' | 'text' | 'posOf'>;

function fullParse(file: string, text: string, problems: Problems): YamlFile | undefined {
  const lineCounter = new LineCounter();
  const posOf: PosOf = (offset) => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const parsedText = withPlainEnv(() => {
    const cst = parseTokens(text, lineCounter);
    return 'tooDeepAt' in cst ? cst : { tokens: cst.tokens, doc: composeDocument(cst.tokens, text) };
  });
  if ('tooDeepAt' in parsedText) {
    problems.error(posOf(parsedText.tooDeepAt), TOO_DEEP_MESSAGE);
    return undefined;
  }
  const { tokens, doc } = parsedText;
  // Most files have no aliases, tags or merge keys: one walk builds their value and scans them.
  const plain = doc.errors.length === 0 ? plainDocument(doc) : undefined;
  const scan = plain?.scan ?? scanDocument(doc);
  const parsed: Parsed = { file, text, doc, tokens, scan, posOf };
  if (!reportSyntaxErrors(parsed, problems) || !usableDocument(parsed, problems)) return undefined;
  const value = plain ? plain.value : documentValue(parsed, problems);
  if (value === undefined) return undefined;
  const nodeAt = nodeFinder(doc);
  // The text nests within the limit, but aliases (and implicit maps in flow lists) can nest the value deeper.
  const deep = plain && !plain.tooDeep ? undefined : firstTooDeep(value);
  if (deep) {
    const { node, alias } = nodeAt(deep);
    problems.error(startOf(alias ?? node, parsed), TOO_DEEP_MESSAGE);
    return undefined;
  }
  // What positions need, and no more: the syntax tokens are garbage once the file is read.
  const where: Where = { file, text, posOf };
  return {
    file,
    value,
    locate(path, key = false) {
      const { node, keyNode } = nodeAt(path);
      return startOf(key && keyNode ? keyNode : node, where);
    },
    locateInString: (path, index) => positionInString(nodeAt(path).node, index, where),
  };
}

// The one use of process in src/core: the swap below, which nothing outside it can observe.
// eslint-disable-next-line no-restricted-globals
const proc = process;

/** The variables the yaml library reads while it parses: its debug switches. */
const YAML_ENV = ['LOG_TOKENS', 'LOG_STREAM'];

/**
 * Runs `f` with process.env a plain object that holds only the yaml library's debug switches.
 * The library reads `process.env.LOG_TOKENS` for every token, and a read of the real
 * process.env goes through Node's native environment lookup each time: about a quarter of the
 * time its lexer and parser take.
 * Parsing is synchronous, so nothing else sees the swap, and the real one is back before `f`
 * returns or throws.
 */
function withPlainEnv<T>(f: () => T): T {
  const real = proc.env;
  const plain: NodeJS.ProcessEnv = {};
  for (const name of YAML_ENV) if (real[name] !== undefined) plain[name] = real[name];
  // Where process.env cannot be replaced (a frozen process object), parse with the real one.
  if (!setEnv(plain)) return f();
  try {
    return f();
  } finally {
    proc.env = real;
  }
}

/** Sets process.env; whether it took. */
function setEnv(env: NodeJS.ProcessEnv): boolean {
  try {
    proc.env = env;
  } catch {
    return false;
  }
  return proc.env === env;
}

/** Where a node starts; line 1, column 1 without one. */
function startOf(node: Node | null | undefined, parsed: Where): SourcePos {
  return node?.range ? parsed.posOf(node.range[0]) : { file: parsed.file, line: 1, column: 1 };
}

/** Position of character `index` of a string scalar: exact for plain and simple quoted scalars. */
function positionInString(node: Node | null, index: number, parsed: Where): SourcePos {
  if (!node?.range) return startOf(node, parsed);
  const start = node.range[0];
  if (isScalar(node) && typeof node.value === 'string') {
    const src = parsed.text.slice(start, node.range[1]);
    if (src === node.value) return parsed.posOf(start + index);
    if ((src.startsWith('"') || src.startsWith("'")) && src.slice(1, -1) === node.value)
      return parsed.posOf(start + 1 + index);
  }
  return parsed.posOf(start);
}

/**
 * Reports the document's syntax errors and duplicate keys, each once at its own position, and
 * whether there were none. An error at the offset of one already reported (the yaml library often
 * reports one mistake twice: an unclosed quote, then the list it was in) is the same mistake.
 */
function reportSyntaxErrors(parsed: Parsed, problems: Problems): boolean {
  const { doc, text, scan, posOf } = parsed;
  if (doc.errors.length === 0 && scan.duplicateKeys.length === 0) return true;
  // Indentation mistakes come back as two or three generic errors, often on the line above:
  // one message instead, at the line and column that is off.
  const indent = doc.errors.find((e) => INDENT_CODES.has(e.code));
  const shown = indent ? indentationProblem(text, posOf(indent.pos[0]).line) : undefined;
  if (shown)
    problems.error(
      { file: parsed.file, line: shown.line, column: shown.column },
      `invalid YAML: ${shown.message}`,
    );
  const reportedAt = new Set<number>();
  for (const e of doc.errors) {
    if ((shown && INDENT_CODES.has(e.code)) || reportedAt.has(e.pos[0])) continue;
    reportedAt.add(e.pos[0]);
    const { offset, message } = syntaxError(e, parsed.tokens);
    problems.error(posOf(offset), `invalid YAML: ${message}`);
  }
  for (const { key, first } of scan.duplicateKeys) {
    const name = isScalar(key) ? JSON.stringify(String(key.value)).slice(0, 80) : 'key';
    const firstLine = first.range ? posOf(first.range[0]).line : undefined;
    problems.error(
      posOf(key.range?.[0] ?? 0),
      `invalid YAML: duplicate key ${name}${firstLine ? ` (first on line ${firstLine})` : ''}: each key may appear once in a map`,
    );
  }
  return false;
}

/**
 * One error of the yaml library in plain words, at the place to fix: an unclosed quote or bracket
 * is reported by the parser where the file (or the block) ends; it is shown where it opens.
 */
function syntaxError(e: YAMLParseError, tokens: CST.Token[]): { offset: number; message: string } {
  const base = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.message;
  const quote = /^Missing closing (["'])quote/i.exec(base);
  if (quote) {
    const offset = unclosedOffset(tokens, 'quote');
    const message = `unterminated quoted string: the ${quote[1]} that opens this value has no closing ${quote[1]}`;
    return { offset: offset ?? e.pos[0], message };
  }
  const flow =
    /^Flow (map|sequence) in block collection must be sufficiently indented and end with a ([\]}])/.exec(
      base,
    );
  if (flow) {
    const offset = unclosedOffset(tokens, 'flow');
    if (offset !== undefined) {
      const what = flow[1] === 'map' ? `map "{"` : `list "["`;
      const message = `unclosed flow ${what}: it needs a closing "${flow[2]}" (lines it continues on must be indented more than its key)`;
      return { offset, message };
    }
  }
  const rewrite = YAML_MESSAGES[e.code];
  return { offset: e.pos[0], message: rewrite ? rewrite(base) : base };
}

/** Whether the document is a mapping that can be read: not empty, no list or map as a key, no alias bomb. */
function usableDocument(parsed: Parsed, problems: Problems): boolean {
  const { doc, scan } = parsed;
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    problems.error({ file: parsed.file, line: 1, column: 1 }, 'file is empty: it needs a YAML mapping');
    return false;
  }
  if (scan.collectionKey?.range) {
    problems.error(
      parsed.posOf(scan.collectionKey.range[0]),
      'invalid YAML: a map key must be plain text, not a list or map',
    );
    return false;
  }
  // Each alias yaml expands looks through every anchor before it: count them first.
  if (scan.aliasOverLimit) {
    problems.error(startOf(scan.aliasOverLimit, parsed), ALIAS_BOMB_MESSAGE);
    return false;
  }
  return true;
}

const ALIAS_BOMB_MESSAGE = `too many alias expansions (limit ${MAX_ALIAS_EXPANSIONS}): refusing a possible alias bomb`;

/** The document's plain value, built once; undefined (with the problem reported) when aliases make it unreadable. */
function documentValue(parsed: Parsed, problems: Problems): unknown {
  const firstAlias = parsed.scan.firstAlias;
  let value: unknown;
  try {
    // yaml refuses at maxAliasCount uses; SPEC allows up to MAX_ALIAS_EXPANSIONS.
    value = parsed.doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS + 1 });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    problems.error(
      startOf(firstAlias, parsed),
      /alias/i.test(msg) ? ALIAS_BOMB_MESSAGE : `invalid YAML: ${msg}`,
    );
    return undefined;
  }
  if (firstAlias && isCircular(value)) {
    problems.error(
      startOf(firstAlias, parsed),
      'invalid YAML: an alias refers to the node that contains it (a recursive structure)',
    );
    return undefined;
  }
  return value;
}

/** A node found by its path: the value's node, its key's node, and the last alias passed through. */
interface NodeAtPath {
  node: Node | null;
  keyNode: Node | null;
  alias: Node | null;
}

/**
 * Finds nodes by path. Keys of each map are indexed by text on first use, first one wins (as a
 * linear find would): a map may have 100,000 keys and every problem asks for a position.
 */
function nodeFinder(doc: Document.Parsed): (path: YamlPath) => NodeAtPath {
  const keyIndex = new Map<YAMLMap, Map<string, Pair>>();
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
  const targets = new Map<Alias, Node | undefined>();
  const resolveAlias = (alias: Alias): Node | undefined => {
    if (!targets.has(alias)) {
      const target = alias.resolve(doc);
      targets.set(alias, isNode(target) ? target : undefined);
    }
    return targets.get(alias);
  };
  return (path) => {
    let node: Node | null = isNode(doc.contents) ? doc.contents : null;
    let keyNode: Node | null = null;
    let alias: Node | null = null;
    for (const seg of path) {
      if (node && isAlias(node)) {
        alias = node;
        node = resolveAlias(node) ?? node;
      }
      const next = node ? childAt(node, seg, pairOf) : undefined;
      if (!next) break;
      keyNode = next.key;
      node = next.value ?? next.key;
    }
    return { node, keyNode, alias };
  };
}

/** The child of a map or list at one path segment: its key's node (the item, in a list) and its value's. */
function childAt(
  node: Node,
  seg: string | number,
  pairOf: (map: YAMLMap, key: string) => Pair | undefined,
): { key: Node; value: Node | null } | undefined {
  if (isMap(node)) {
    const pair = pairOf(node, String(seg));
    if (!pair || !isNode(pair.key)) return undefined;
    return { key: pair.key, value: isNode(pair.value) ? pair.value : null };
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item: unknown = node.items[seg];
    return isNode(item) ? { key: item, value: item } : undefined;
  }
  return undefined;
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

/** A document's plain value as `toJS` builds it, with what scanDocument finds, and whether it nests too deep. */
interface PlainDocument {
  value: unknown;
  scan: DocumentScan;
  tooDeep: boolean;
}

/** A map or list whose value is built, and the object or array its items go into. */
type Fill =
  | { node: YAMLMap; into: Record<string, unknown>; depth: number }
  | { node: YAMLSeq; into: unknown[]; depth: number };

/** What `plainNode` returns for a node only `toJS` reads: an alias, a tag, a merge key, a special scalar. */
const NOT_PLAIN = Symbol('not plain');

/**
 * One walk, with its own stack, in document order, that builds the value `toJS` would and finds
 * what scanDocument finds; undefined when the document holds anything but untagged maps, lists and
 * plain values (an alias, a tag, a merge key, a list or map as a key): those take the long way.
 */
function plainDocument(doc: Document): PlainDocument | undefined {
  const scan: DocumentScan = {
    firstAlias: undefined,
    aliasOverLimit: undefined,
    duplicateKeys: [],
    collectionKey: undefined,
  };
  const fills: Fill[] = [];
  const value = plainNode(doc.contents, 1, fills);
  if (value === NOT_PLAIN) return undefined;
  let tooDeep = false;
  const children: Fill[] = [];
  for (let fill = fills.pop(); fill; fill = fills.pop()) {
    if (fill.depth > MAX_YAML_DEPTH) tooDeep = true;
    const ok = Array.isArray(fill.into)
      ? fillSeq(fill.node.items, fill.into, fill.depth, children)
      : fillMap(fill.node.items, fill.into, fill.depth, scan, children);
    if (!ok) return undefined;
    // Pushed last to first, so the first is filled first: duplicate keys are found in document order.
    for (const child of children.reverse()) fills.push(child);
    children.length = 0;
  }
  return { value, scan, tooDeep };
}

/** A scalar's value, or a new (empty) object or array queued to be filled; NOT_PLAIN for anything else. */
function plainNode(node: unknown, depth: number, fills: Fill[]): unknown {
  if (node === null || node === undefined) return node;
  if (!isNode(node) || node.tag) return NOT_PLAIN;
  if (isScalar(node)) {
    const v = node.value;
    return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
      ? v
      : NOT_PLAIN;
  }
  if (isMap(node)) {
    const into: Record<string, unknown> = {};
    fills.push({ node, into, depth });
    return into;
  }
  if (isSeq(node)) {
    const into: unknown[] = [];
    fills.push({ node, into, depth });
    return into;
  }
  return NOT_PLAIN;
}

/**
 * Fills a map's object as toJS does (a key's text, later keys win), finding duplicate keys; false
 * when not plain. Keys of one value have one text, so only a key whose text is there already can
 * repeat one: the keys are indexed by value from the first such key on.
 */
function fillMap(
  items: unknown[],
  into: Record<string, unknown>,
  depth: number,
  scan: DocumentScan,
  children: Fill[],
): boolean {
  let seen: Map<unknown, Node> | undefined;
  for (let i = 0; i < items.length; i++) {
    const p = items[i];
    if (!isPair(p)) return false;
    const key = p.key;
    if (!isScalar(key) || key.tag) return false;
    const k = key.value;
    if (k !== null && typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean') return false;
    if (k === '<<' && (!key.type || key.type === 'PLAIN')) return false;
    const name = k === null ? '' : String(k);
    const clash = name in into;
    if ((clash || seen) && !(typeof k === 'number' && Number.isNaN(k))) {
      seen ??= keysByValue(items, i);
      const first = seen.get(k);
      if (first) scan.duplicateKeys.push({ key, first });
      else seen.set(k, key);
    }
    const v = plainNode(p.value, depth + 1, children);
    if (v === NOT_PLAIN) return false;
    if (clash)
      Object.defineProperty(into, name, { value: v, writable: true, enumerable: true, configurable: true });
    else into[name] = v;
  }
  return true;
}

/** The first key of each value among a map's first `count` items (all pairs with scalar keys). */
function keysByValue(items: unknown[], count: number): Map<unknown, Node> {
  const seen = new Map<unknown, Node>();
  for (const p of items.slice(0, count)) {
    if (!isPair(p) || !isScalar(p.key)) continue;
    const k = p.key.value;
    if (!(typeof k === 'number' && Number.isNaN(k)) && !seen.has(k)) seen.set(k, p.key);
  }
  return seen;
}

/** Fills a list's array; false when an item is not plain. */
function fillSeq(items: unknown[], into: unknown[], depth: number, children: Fill[]): boolean {
  for (const item of items) {
    const v = plainNode(item, depth + 1, children);
    if (v === NOT_PLAIN) return false;
    into.push(v);
  }
  return true;
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

/** A syntax token, or any object inside one, as the walk below sees it. */
interface TokenLike {
  type?: unknown;
  offset?: unknown;
  source?: unknown;
  end?: unknown;
}

function isTokenLike(x: unknown): x is TokenLike {
  return x !== null && typeof x === 'object';
}

/** Whether a quoted scalar's source has its closing quote. */
function quoteClosed(source: string): boolean {
  const body = source.slice(1);
  if (source.length < 2) return false;
  return source[0] === '"'
    ? /(^|[^\\])(\\\\)*"$/.test(body) || body === '"'
    : /'$/.test(body.replace(/''/g, ''));
}

/** Whether a flow collection's end tokens hold its closing bracket. */
function flowClosed(end: unknown): boolean {
  return (
    Array.isArray(end) &&
    end.some((t) => isTokenLike(t) && (t.type === 'flow-map-end' || t.type === 'flow-seq-end'))
  );
}

/** Offset of the opening quote, or bracket, of the first quoted scalar, or flow list or map, the parser found unclosed. */
function unclosedOffset(tokens: CST.Token[], kind: 'quote' | 'flow'): number | undefined {
  const stack: unknown[] = [...tokens].reverse();
  while (stack.length > 0) {
    const t = stack.pop();
    if (!isTokenLike(t)) continue;
    const offset = typeof t.offset === 'number' ? t.offset : undefined;
    if (kind === 'quote' && (t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar')) {
      if (typeof t.source === 'string' && !quoteClosed(t.source)) return offset;
      continue;
    }
    if (kind === 'flow' && t.type === 'flow-collection' && !flowClosed(t.end)) return offset;
    const children: unknown[] = [];
    for (const v of Object.values(t)) {
      if (Array.isArray(v)) children.push(...v);
      else if (isTokenLike(v)) children.push(v);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return undefined;
}
