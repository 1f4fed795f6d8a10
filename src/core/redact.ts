/**
 * The one redaction every output path goes through: log lines, check runs, job summaries, PR
 * comments, step outputs, CLI text and JSON, failure reasons. A value registered once is replaced
 * by `***` everywhere after, and announced to listeners (the action registers it with the runner's
 * own masking).
 */

/** What stands in for a secret in any output. */
export const MASK = '***';

/**
 * Secrets shorter than this are not replaced in text: masking a two-letter value would shred every
 * word that contains it. The runner's `::add-mask::` gets the same set.
 */
export const MIN_SECRET_LENGTH = 4;

/** Called once for each new secret (the raw value, not its encoded variants). */
export type SecretListener = (secret: string) => void;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The forms a secret takes in our outputs: as is, inside a JSON string, URL-encoded, line by line. */
function variants(secret: string): string[] {
  const out = [secret];
  const json = JSON.stringify(secret).slice(1, -1);
  if (json !== secret) out.push(json);
  try {
    const uri = encodeURIComponent(secret);
    if (uri !== secret) out.push(uri);
  } catch {
    // a lone surrogate cannot be URL-encoded, so it never appears that way either
  }
  // A multi-line secret (a PEM key) may be printed a line at a time.
  if (/[\r\n]/.test(secret)) for (const line of secret.split(/\r?\n|\r/)) out.push(line.trim());
  return out.filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** Holds every secret met during a run and removes them from whatever is about to be written. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly forms = new Set<string>();
  private pattern: RegExp | undefined;
  private dirty = false;
  private readonly listeners: SecretListener[] = [];

  /** Calls `listener` for every secret registered from now on, and for those already known. */
  onSecret(listener: SecretListener): void {
    this.listeners.push(listener);
    for (const s of this.secrets) listener(s);
  }

  /**
   * Registers a sensitive value: a string, or every leaf of a list or map (numbers and booleans by
   * their text). Values shorter than MIN_SECRET_LENGTH are ignored.
   */
  add(value: unknown): void {
    const stack: unknown[] = [value];
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v === 'string') this.addString(v);
      else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
        // Booleans are never secret enough to mask "true" in every line.
        if (typeof v !== 'boolean') this.addString(String(v));
      } else if (v !== null && typeof v === 'object')
        // One at a time: push(...list) overflows the call stack past about 100,000 elements.
        for (const item of Array.isArray(v) ? (v as unknown[]) : Object.values(v)) stack.push(item);
    }
  }

  private addString(s: string): void {
    if (s.length < MIN_SECRET_LENGTH || this.secrets.has(s)) return;
    this.secrets.add(s);
    for (const f of variants(s)) {
      if (!this.forms.has(f)) {
        this.forms.add(f);
        this.dirty = true;
      }
    }
    for (const l of this.listeners) l(s);
  }

  /** How many distinct secrets are registered. */
  get size(): number {
    return this.secrets.size;
  }

  private regex(): RegExp | undefined {
    if (this.dirty) {
      // Longest first, so a secret that contains another is replaced whole.
      const forms = [...this.forms].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
      this.pattern = forms.length ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : undefined;
      this.dirty = false;
    }
    return this.pattern;
  }

  /** The text with every registered secret (in any of its forms) replaced by `***`. */
  text(text: string): string {
    const re = this.regex();
    if (!re) return text;
    re.lastIndex = 0;
    return text.replace(re, MASK);
  }

  /** Whether the text holds a registered secret. */
  leaks(text: string): boolean {
    const re = this.regex();
    if (!re) return false;
    re.lastIndex = 0;
    return re.test(text);
  }

  /** A deep copy of a JSON-like value with every string (map keys too) redacted. */
  value<T>(value: T): T {
    if (!this.regex()) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[this.text(k)] = walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}
