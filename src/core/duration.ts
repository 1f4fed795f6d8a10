/**
 * Durations as Terraform and Go write them: `30s`, `5m`, `1h30m`, `500ms`, `0` — plus days (`7d`,
 * `1d12h`), which Go lacks and `max-plan-age` wants.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration like `5m`, `1h30m` or `7d`, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g))
    total += Number(m[1]) * (UNITS[m[2] as string] ?? 0);
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/**
 * A duration as Go (and so Terraform's `-lock-timeout`) reads it: unchanged unless it uses days,
 * which Go lacks — those become whole seconds (`1d` → `86400s`).
 */
export function goDuration(text: string): string {
  const t = text.trim();
  if (!/\d(\.\d+)?d/.test(t)) return t;
  const ms = parseDuration(t);
  return ms === undefined ? t : `${Math.ceil(ms / 1000)}s`;
}
