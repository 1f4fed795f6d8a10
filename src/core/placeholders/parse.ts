/** What a placeholder points at: a variable, or an upstream module's output. */
export type Reference =
  { kind: 'variable'; name: string } | { kind: 'output'; module: string; output: string };

/** A piece of a template: literal text, or a placeholder with its filters and position. */
export type Segment =
  | { kind: 'text'; text: string }
  | {
      kind: 'placeholder';
      ref: Reference;
      filters: string[];
      offset: number;
      length: number;
      source: string;
    };

/** A malformed or unresolvable placeholder; `offset` is where it starts in the string. */
export class PlaceholderError extends Error {
  readonly offset: number;
  readonly length: number;

  constructor(message: string, offset: number, length = 2) {
    super(message);
    this.name = 'PlaceholderError';
    this.offset = offset;
    this.length = length;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const FILTER = /^[A-Za-z][A-Za-z0-9]*$/;

/** Whether a string contains anything the template engine would treat specially. */
export function hasPlaceholder(text: string): boolean {
  return text.includes('#{');
}

/** Escapes text so the template engine reproduces it literally: every `#{` becomes `##{`. */
export function escapeTemplate(text: string): string {
  return text.replaceAll('#{', '##{');
}

/**
 * Splits a string into text and placeholders. `##{x}` is the literal `#{x}`; `#{a.b}` reads
 * output `b` of module `a`; `#{x | ToLower}` applies filters left to right.
 */
export function parseTemplate(text: string): Segment[] {
  const segments: Segment[] = [];
  let buffer = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('#', i);
    if (at < 0) {
      buffer += text.slice(i);
      break;
    }
    buffer += text.slice(i, at);
    if (text.startsWith('##{', at)) {
      buffer += '#{';
      i = at + 3;
      continue;
    }
    if (!text.startsWith('#{', at)) {
      buffer += '#';
      i = at + 1;
      continue;
    }
    const close = text.indexOf('}', at + 2);
    if (close < 0) {
      throw new PlaceholderError(
        `unclosed placeholder "${clip(text.slice(at))}": add "}" (or write "##{" for a literal "#{")`,
        at,
        text.length - at,
      );
    }
    const source = text.slice(at, close + 1);
    const body = text.slice(at + 2, close);
    const nested = body.indexOf('#{');
    if (nested >= 0)
      throw new PlaceholderError(`placeholders cannot be nested: "${clip(source)}"`, at, source.length);
    const [head = '', ...rest] = body.split('|');
    const name = head.trim();
    if (name === '')
      throw new PlaceholderError(
        `empty placeholder "${source}": name a variable or module output`,
        at,
        source.length,
      );
    const filters = rest.map((f) => f.trim());
    for (const f of filters) {
      if (!FILTER.test(f)) {
        throw new PlaceholderError(`invalid filter "${clip(f)}" in "${clip(source)}"`, at, source.length);
      }
    }
    if (buffer) segments.push({ kind: 'text', text: buffer });
    buffer = '';
    segments.push({
      kind: 'placeholder',
      ref: parseReference(name, source, at),
      filters,
      offset: at,
      length: source.length,
      source,
    });
    i = close + 1;
  }
  if (buffer || segments.length === 0) segments.push({ kind: 'text', text: buffer });
  return segments;
}

function parseReference(name: string, source: string, offset: number): Reference {
  const parts = name.split('.');
  if (parts.length === 1 && NAME.test(name)) return { kind: 'variable', name };
  if (parts.length === 2 && parts.every((p) => NAME.test(p))) {
    return { kind: 'output', module: parts[0] as string, output: parts[1] as string };
  }
  throw new PlaceholderError(
    `invalid placeholder "${clip(source)}": use #{variable} or #{module.output} (letters, digits, "_" and "-")`,
    offset,
    source.length,
  );
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Every reference in a template, for building graph edges. */
export function referencesOf(text: string): Extract<Segment, { kind: 'placeholder' }>[] {
  if (!hasPlaceholder(text)) return [];
  return parseTemplate(text).filter(
    (s): s is Extract<Segment, { kind: 'placeholder' }> => s.kind === 'placeholder',
  );
}
