import type { GraphDocument } from '../graph/build.js';
import type { ModuleResult, RunResult } from './runner.js';

const MARK: Record<string, string> = {
  succeeded: '✓',
  'no-op': '·',
  failed: '✗',
  halted: '■',
  skipped: '»',
  blocked: '…',
  cancelled: '⊘',
  pending: '?',
};

/** Human duration: 850ms, 12.3s, 4m05s. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** `+2 ~1 -0` plus replace/import/forget when present; `no changes` for a no-op. */
export function changeText(m: ModuleResult): string {
  if (m.status === 'no-op') return 'no changes';
  if (!['succeeded', 'failed', 'cancelled'].includes(m.status)) return '';
  const parts = [`+${m.add}`, `~${m.change}`, `-${m.destroy}`];
  if (m.replace) parts.push(`±${m.replace} replace`);
  if (m.import) parts.push(`${m.import} import`);
  if (m.forget) parts.push(`${m.forget} forget`);
  return parts.join(' ');
}

/** The status word of a module, with plan wording for a plan run. */
export function statusText(m: ModuleResult, command: string): string {
  const word = command === 'plan' && m.status === 'succeeded' ? 'planned' : m.status;
  return `${MARK[m.status] ?? ' '} ${word}`;
}

/** One line of progress for a finished module. */
export function progressLine(m: ModuleResult, command: string): string {
  const extra = [
    changeText(m),
    m.mocked.length ? `mocked: ${m.mocked.join(', ')}` : '',
    m.reason && m.status !== 'succeeded' && m.status !== 'no-op' ? m.reason.split('\n')[0] : '',
  ]
    .filter(Boolean)
    .join('; ');
  return `${statusText(m, command)} ${m.name} (${duration(m.durationMs)})${extra ? ` — ${extra}` : ''}`;
}

/** A plain-text table of a run: module, weight, status, changes, duration, notes. */
export function renderRunTable(result: RunResult): string {
  const head = ['MODULE', 'WEIGHT', 'STATUS', 'CHANGES', 'DURATION', 'NOTES'];
  const rows = result.modules.map((m) => [
    m.name,
    String(m.weight),
    statusText(m, result.command),
    changeText(m),
    m.durationMs ? duration(m.durationMs) : '',
    [
      m.mocked.length ? `mocked ${m.mocked.join(', ')}` : '',
      m.blockedOn.length ? `blocked on ${m.blockedOn.join(', ')}` : '',
      m.reason && !['succeeded', 'no-op', 'blocked'].includes(m.status)
        ? (m.reason.split('\n')[0] ?? '')
        : '',
    ]
      .filter(Boolean)
      .join('; '),
  ]);
  const total = result.modules.reduce(
    (n, m) => ({ add: n.add + m.add, change: n.change + m.change, destroy: n.destroy + m.destroy }),
    { add: 0, change: 0, destroy: 0 },
  );
  return [
    `${result.site} / ${result.environment} — ${result.command} ${result.status} in ${duration(result.finishedAt - result.startedAt)} (+${total.add} ~${total.change} -${total.destroy})`,
    '',
    ...textTable(head, rows),
    '',
  ].join('\n');
}

/** Rows as aligned columns two spaces apart; widths count code points, so ✓ and — are one column. */
export function textTable(head: string[], rows: string[][]): string[] {
  const width = (t: string): number => [...t].length;
  const widths = head.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const fmt = (r: string[]): string =>
    r
      .map((cell, c) => cell + ' '.repeat(Math.max(0, (widths[c] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

/** `graph`'s table: waves, weights, modules, types and what each waits for. */
export function renderGraphTable(doc: GraphDocument): string {
  const rows = doc.waves.flatMap((wave, i) =>
    wave.map((n, j) => [
      j === 0 ? `wave ${i + 1}` : '',
      String(n.weight),
      n.name,
      n.type,
      n.depends_on.join(', ') || '—',
    ]),
  );
  return [
    `${doc.site} / ${doc.environment} — ${doc.waves.flat().length} modules in ${doc.waves.length} waves (ordering: ${doc.ordering})`,
    '',
    ...textTable(['WAVE', 'WEIGHT', 'MODULE', 'TYPE', 'AFTER'], rows),
    '',
  ].join('\n');
}
