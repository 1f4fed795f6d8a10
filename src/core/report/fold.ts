// Fold-to-fit: the one way a rendered report is made shorter than a size limit (GitHub's 65,536
// characters for a comment). A report is a list of parts, one line each (a part may hold several);
// lists that may fold are Foldable. Nothing here knows what the parts say.

/** A list that can be replaced by one line when the text grows too long. */
export interface Foldable {
  full: string;
  folded: string;
  entries: number;
  /** Lower folds first among equals; e.g. resource lists before risk lists. */
  rank: number;
  isFolded: boolean;
}

/** One line (or several) of a report, or a list that may fold. */
export type Part = string | Foldable;

/** How {@link foldToFit} shrinks a report. */
export interface FoldOptions {
  /** The text is made shorter than this. */
  limit: number;
  /** Fold every list, whatever the length (to measure the least the report needs). */
  foldAll: boolean;
  /** Where the note saying what folded goes (a part replaced by {@link note}). */
  noteAt: number;
  /** The line saying what folded; '' when nothing did. */
  note: (folded: Foldable[]) => string;
  /**
   * Rows that may be dropped from the end, last resort before cutting: indices after `keep` and
   * before `end`; `omitted(n)` is the row that says how many were left out.
   */
  rows?: { keep: number; end: number; omitted: (n: number) => string };
  /** The line a text cut at a line end finishes with, when nothing else made it fit. */
  cutNote: string;
}

/**
 * Joins `parts` into a text shorter than `limit`: lists fold (lowest rank, then largest first) until
 * it fits, smaller ones come back where folding a larger one freed room, then rows drop from the
 * end of `rows`, then the text is cut at a line end. Runs of blank lines become one.
 */
export function foldToFit(input: readonly Part[], o: FoldOptions): string {
  const parts = [...input];
  const foldables = parts.filter((p): p is Foldable => typeof p !== 'string');
  const note = (): string => o.note(foldables.filter((f) => f.isFolded));
  let length = foldLists(parts, foldables, o, note);
  parts[o.noteAt] = note();
  length += note().length;
  if (length >= o.limit && !o.foldAll && o.rows) dropRows(parts, length, o.limit, o.rows);
  let text = parts
    .map((p) => (typeof p === 'string' ? p : p.isFolded ? p.folded : p.full))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  if (text.length >= o.limit && !o.foldAll) {
    // Last resort for absurd inputs (a limit smaller than the header): cut at a line end.
    const cut = text.lastIndexOf('\n', o.limit - 40);
    text = `${text.slice(0, Math.max(cut, 0))}\n${o.cutNote}`.slice(0, o.limit - 1);
  }
  return text;
}

function partLength(p: Part): number {
  return typeof p === 'string' ? p.length : p.isFolded ? p.folded.length : p.full.length;
}

/** Folds lists until the text fits, then unfolds the smaller ones that fit again; the joined length. */
function foldLists(parts: Part[], foldables: Foldable[], o: FoldOptions, note: () => string): number {
  let length = parts.reduce<number>((n, p) => n + partLength(p) + 1, -1);
  const order = [...foldables].sort((a, b) => a.rank - b.rank || b.full.length - a.full.length);
  let noteLength = 0;
  for (const f of order) {
    if (!o.foldAll && length + noteLength < o.limit) break;
    length += f.folded.length - f.full.length;
    f.isFolded = true;
    noteLength = note().length;
  }
  // Folding a later-ranked list may have freed room: bring back the smaller lists that fit.
  const refold = o.foldAll ? [] : foldables.filter((x) => x.isFolded);
  for (const f of refold.sort((a, b) => a.full.length - b.full.length)) {
    f.isFolded = false;
    const grown = length + f.full.length - f.folded.length;
    if (grown + note().length < o.limit) {
      length = grown;
    } else {
      f.isFolded = true;
    }
  }
  return length;
}

/** Drops whole rows from the end of `rows` until the text fits, and says how many with one row. */
function dropRows(
  parts: Part[],
  length: number,
  limit: number,
  rows: NonNullable<FoldOptions['rows']>,
): void {
  let dropped = 0;
  let end = rows.end;
  while (length >= limit && end - 1 > rows.keep) {
    end--;
    const row = parts[end];
    const before = dropped === 0 ? 0 : rows.omitted(dropped).length + 1;
    dropped++;
    parts.splice(end, 1);
    length += rows.omitted(dropped).length + 1 - before - partLength(row ?? '') - 1;
  }
  if (dropped > 0) parts.splice(end, 0, rows.omitted(dropped));
}
