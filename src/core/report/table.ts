// Plain-text renderings for a terminal: the run table, progress lines, the graph table.
import { REDACTED, type GraphDocument } from '../graph/build.js';
import type { MatrixDocument } from '../matrix.js';
import type { ModuleResult, RunResult } from '../run/runner.js';
import { clip, formatCounts, formatDuration, statusLabel } from './format.js';

/** `+2 ~1 -0` plus replace/import/forget when present; `no changes` for a no-op; nothing when it did not run. */
export function changeText(m: ModuleResult): string {
  if (m.status === 'no-op') return 'no changes';
  if (!['succeeded', 'failed', 'cancelled'].includes(m.status)) return '';
  return formatCounts(m);
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
  return `${statusLabel(m.status, 'text', command)} ${m.name} (${formatDuration(m.durationMs)})${extra ? ` — ${extra}` : ''}`;
}

/** A plain-text table of a run: module, weight, status, changes, duration, notes. */
export function renderRunTable(result: RunResult): string {
  const head = ['MODULE', 'WEIGHT', 'STATUS', 'CHANGES', 'DURATION', 'NOTES'];
  const rows = result.modules.map((m) => [
    m.name,
    String(m.weight),
    statusLabel(m.status, 'text', result.command),
    changeText(m),
    m.durationMs ? formatDuration(m.durationMs) : '',
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
    `${result.site} / ${result.environment} — ${result.command} ${result.status} in ${formatDuration(result.finishedAt - result.startedAt)} (+${total.add} ~${total.change} -${total.destroy})`,
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
    ...inputLines(doc),
  ].join('\n');
}

/** The longest value an input line shows before it is cut. */
const INPUT_VALUE_MAX = 80;

/**
 * Each module's resolved inputs, one `module.input = value` a line in wave order: JSON values,
 * secrets as `(sensitive)`, an output not known yet as its `#{module.output}` text.
 */
function inputLines(doc: GraphDocument): string[] {
  const lines = doc.waves.flat().flatMap((n) =>
    Object.entries(n.inputs).map(([k, v]) => {
      return `  ${n.name}.${k} = ${clip(v === REDACTED ? REDACTED : JSON.stringify(v), INPUT_VALUE_MAX)}`;
    }),
  );
  return lines.length
    ? ["Inputs (resolved from the upstream modules' state where they have one):", ...lines, '']
    : [];
}

/** `matrix`'s table: one line per site × environment. */
export function renderMatrixTable(doc: MatrixDocument, changedFrom?: string): string {
  const rows = doc.include.map((e) => [
    e.site,
    e.environment,
    String(e.stage),
    e.lifecycle,
    e.account ?? '—',
    e.region ?? '—',
  ]);
  const n = doc.include.length;
  return [
    `${n} site × environment ${n === 1 ? 'entry' : 'entries'}${changedFrom ? ` affected since ${changedFrom}` : ''}`,
    '',
    ...(n ? textTable(['SITE', 'ENVIRONMENT', 'STAGE', 'LIFECYCLE', 'ACCOUNT', 'REGION'], rows) : []),
    '',
  ].join('\n');
}
