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

/**
 * A base64 form of a secret shorter than this is not masked: two or three base64 digits occur in
 * ordinary text and in every digest, and masking them would shred it. Five digits carry 30 bits,
 * about what a MIN_SECRET_LENGTH-character secret does.
 */
export const MIN_BASE64_LENGTH = MIN_SECRET_LENGTH + 1;

/**
 * The base64 (and base64url) digits that stand for a secret wherever it sits inside a longer
 * base64 text: for each of the three byte alignments (the secret starting 0, 1 or 2 bytes past a
 * 3-byte boundary, as the runner's masker does), the digits made of the secret's bytes alone.
 * The partial digit at the end, which also holds bits of whatever follows, is left out, and so is
 * the padding; forms shorter than MIN_BASE64_LENGTH are dropped.
 */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (let skip = 0; skip <= 2; skip++) {
    const rest = bytes.subarray(skip);
    const full = Math.floor((rest.length * 4) / 3);
    if (full < MIN_BASE64_LENGTH) continue;
    const b64 = rest.toString('base64').slice(0, full);
    out.push(b64);
    const url = b64.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== b64) out.push(url);
  }
  return out;
}

/** Called once for each new secret (the raw value, not its encoded variants). */
export type SecretListener = (secret: string) => void;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The forms a secret takes in our outputs: as is, inside a JSON string, URL-encoded, line by line,
 * and base64-encoded at any alignment (the encodings the runner masks).
 */
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
  for (const b of base64Forms(secret)) out.push(b);
  return out.filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** Holds every secret met during a run and removes them from whatever is about to be written. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly forms = new Set<string>();
  private pattern: RegExp | undefined;
  private dirty = false;
  private readonly listeners: SecretListener[] = [];
  private readonly kept = new Set<string>();
  private keepPattern: RegExp | undefined;

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

  /**
   * Registers a structural string: one site-deploy built from values that cannot be secrets (the
   * binding header, the comment marker). Wherever it appears whole it is written as is, and only
   * the text around it is redacted — so a secret equal to a fragment of it cannot corrupt it. (A
   * secret that straddles its edge is masked only in the part outside it, which is all it can show.)
   */
  keep(structural: string): void {
    if (structural.length < MIN_SECRET_LENGTH || this.kept.has(structural)) return;
    this.kept.add(structural);
    const all = [...this.kept].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.keepPattern = new RegExp(all.map(escapeRegExp).join('|'), 'g');
  }

  /** The text with every registered secret (in any of its forms) replaced by `***`; structural strings kept whole. */
  text(text: string): string {
    const re = this.regex();
    if (!re) return text;
    const keep = this.keepPattern;
    if (!keep) return this.free(text, re);
    let out = '';
    let at = 0;
    keep.lastIndex = 0;
    for (const m of text.matchAll(keep)) {
      out += this.free(text.slice(at, m.index), re) + m[0];
      at = m.index + m[0].length;
    }
    return out + this.free(text.slice(at), re);
  }

  private free(text: string, re: RegExp): string {
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
    return this.document(value, NO_FIELDS);
  }

  /**
   * A deep copy of a JSON-like document with its free text redacted, except its structural fields:
   * a string under a key named in `structural` (at any depth, or in a list there) that has that
   * field's shape is copied as is, and so is the key. The program fills these fields from values
   * that cannot be secrets (statuses, conclusions, digests): a secret equal to `succeeded` must not
   * turn a status into `***`. The shape check keeps free text out: an input that happens to be
   * called `status` and holds a secret is still redacted.
   */
  document<T>(value: T, structural: StructuralFields): T {
    if (!this.regex()) return value;
    const walk = (v: unknown, shape: RegExp | undefined): unknown => {
      if (typeof v === 'string') return shape?.test(v) ? v : this.text(v);
      if (Array.isArray(v)) return v.map((x) => walk(x, shape));
      if (v !== null && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          const field = Object.hasOwn(structural, k) ? structural[k] : undefined;
          out[field ? k : this.text(k)] = walk(x, field);
        }
        return out;
      }
      return v;
    };
    return walk(value, undefined) as T;
  }
}

/** Structural fields of a document: key → the shape its value must have to be kept as is. */
export type StructuralFields = Readonly<Record<string, RegExp>>;

const NO_FIELDS: StructuralFields = {};

const DIGEST = /^(sha256:)?[0-9a-f]{64}$/;

/**
 * The structural fields of site-deploy's own documents (`--json`, the `summary` output, handoffs):
 * run and step statuses, check conclusions, binding results and digests. Module names, addresses
 * and messages are free text and redacted (a config can put a secret into an address).
 */
export const STRUCTURAL_FIELDS: StructuralFields = {
  status:
    /^(succeeded|no-op|failed|blocked|cancelled|planned|applied|skipped|halted|running|pending|refused|withheld|invalid|error)$/,
  conclusion: /^(success|failure|neutral|cancelled|skipped|timed_out|action_required)$/,
  result: /^(matched|differs|stale|missing|off|allow|deny|warn|passed|not-required|overridden|refused)$/,
  command: /^[a-z][a-z-]{0,30}$/,
  schema_version: /^\d{1,4}$/,
  digest: DIGEST,
  reviewed_digest: DIGEST,
  current_digest: DIGEST,
  shape_digest: DIGEST,
  combined: DIGEST,
  plan_digest: DIGEST,
  sha256: DIGEST,
};
