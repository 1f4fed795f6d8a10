import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';
import jsYaml from 'js-yaml';
import type { Problems, SourcePos } from '../errors.js';

/** Largest config file we read (SPEC §2). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Most alias expansions a config file may use (SPEC §2): guards against alias bombs. */
export const MAX_ALIAS_EXPANSIONS = 100;

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
    if (fast !== undefined) return lazyFile(file, text, fast);
  }
  return fullParse(file, text, problems);
}

// Anchors, aliases, merge keys and complex keys take the full parser, which bounds alias
// expansion and explains every problem with its position. Quoted text cannot hold them.
const QUOTED = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'/g;
const NEEDS_FULL_PARSE = /(^|:\s|-\s|[[{,])\s*[&*]\S|<<|^\s*\?(\s|$)/m;

/**
 * The value of a plain config file from js-yaml (YAML 1.2 core schema), about ten times faster than
 * building a position-keeping document; undefined when the file needs the full parser.
 */
function fastParse(text: string): { value: unknown } | undefined {
  if (NEEDS_FULL_PARSE.test(text.replace(QUOTED, '""'))) return undefined;
  try {
    const value = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, json: false });
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
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    merge: true,
    keepSourceTokens: false,
    logLevel: 'error',
  });
  const posOf = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return at(line, col);
  };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const rewrite = YAML_MESSAGES[e.code];
      const base = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.message;
      // An unclosed quote is reported by the parser where the file ends; point at the opening quote instead.
      const at0 = /^Missing closing .?quote/i.test(base) ? (unclosedQuoteOffset(text) ?? e.pos[0]) : e.pos[0];
      problems?.error(posOf(at0), `invalid YAML: ${rewrite ? rewrite(base) : base}`);
    }
    return undefined;
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    problems?.error(at(1, 1), 'file is empty: it needs a YAML mapping');
    return undefined;
  }
  const badKey = firstCollectionKey(doc);
  if (badKey?.range) {
    problems?.error(posOf(badKey.range[0]), 'invalid YAML: a map key must be plain text, not a list or map');
    return undefined;
  }
  let value: unknown;
  try {
    // yaml refuses at maxAliasCount uses; SPEC allows up to MAX_ALIAS_EXPANSIONS.
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS + 1 });
  } catch (e) {
    const first = firstAlias(doc);
    const where = first?.range ? posOf(first.range[0]) : at(1, 1);
    const msg = e instanceof Error ? e.message : String(e);
    if (/alias/i.test(msg)) {
      problems?.error(
        where,
        `too many alias expansions (limit ${MAX_ALIAS_EXPANSIONS}): refusing a possible alias bomb`,
      );
    } else {
      problems?.error(where, `invalid YAML: ${msg}`);
    }
    return undefined;
  }
  if (isCircular(value)) {
    const first = firstAlias(doc);
    problems?.error(
      first?.range ? posOf(first.range[0]) : at(1, 1),
      'invalid YAML: an alias refers to the node that contains it (a recursive structure)',
    );
    return undefined;
  }
  const nodeAt = (path: YamlPath): { node: Node | null; keyNode: Node | null } => {
    let node = doc.contents as Node | null;
    let keyNode: Node | null = null;
    for (const seg of path) {
      if (node && isAlias(node)) node = (node.resolve(doc as Document) as Node | undefined) ?? node;
      if (node && isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
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
    return { node, keyNode };
  };
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

function firstAlias(doc: Document): Node | undefined {
  let found: Node | undefined;
  const visit = (n: unknown): void => {
    if (found || !n) return;
    if (isAlias(n)) found = n;
    else if (isMap(n) || isSeq(n)) for (const it of n.items) visit(it);
    else if (isPair(n)) {
      visit(n.key);
      visit(n.value);
    }
  };
  visit(doc.contents);
  return found;
}

function firstCollectionKey(doc: Document): Node | undefined {
  let found: Node | undefined;
  const visit = (n: unknown): void => {
    if (found || !n) return;
    if (isMap(n)) {
      for (const p of n.items) {
        if (isPair(p) && (isMap(p.key) || isSeq(p.key))) {
          found = p.key as Node;
          return;
        }
        if (isPair(p)) visit(p.value);
      }
    } else if (isSeq(n)) for (const it of n.items) visit(it);
  };
  visit(doc.contents);
  return found;
}

function isCircular(value: unknown): boolean {
  const onPath = new Set<object>();
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (onPath.has(v)) return true;
    onPath.add(v);
    const children = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : Object.values(v);
    const found = children.some(walk);
    onPath.delete(v);
    return found;
  };
  return walk(value);
}

/** Offset of the opening quote of the first quoted scalar the parser found unterminated. */
function unclosedQuoteOffset(text: string): number | undefined {
  let found: number | undefined;
  const visit = (t: unknown): void => {
    if (found !== undefined || !t || typeof t !== 'object') return;
    const tok = t as { type?: string; offset?: number; source?: string };
    if (
      (tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') &&
      typeof tok.source === 'string'
    ) {
      const q = tok.source[0];
      const body = tok.source.slice(1);
      const closed =
        q === '"' ? /(^|[^\\])(\\\\)*"$/.test(body) || body === '"' : /'$/.test(body.replace(/''/g, ''));
      if (!closed || tok.source.length < 2) found = tok.offset;
      return;
    }
    for (const v of Object.values(t as Record<string, unknown>)) {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object') visit(v);
    }
  };
  for (const tok of new Parser().parse(text)) visit(tok);
  return found;
}
