/** Edit distance between two strings (Levenshtein, case-insensitive). */
export function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, i) => i);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[t.length] ?? 0;
}

/** The candidates closest to `name`, best first; empty when nothing is plausibly meant. */
export function closest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return [...new Set(candidates)]
    .map((c) => ({ c, d: distance(name, c) }))
    .filter(({ c, d }) => d <= limit || c.toLowerCase().startsWith(name.toLowerCase()))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map(({ c }) => c);
}

/** " — did you mean "a" or "b"?" or "" when there is no suggestion. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const best = closest(name, candidates);
  if (best.length === 0) return '';
  const quoted = best.map((b) => `"${b}"`);
  const last = quoted.pop();
  return ` — did you mean ${quoted.length ? `${quoted.join(', ')} or ${last}` : last}?`;
}
