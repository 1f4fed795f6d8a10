/**
 * One formatter per unit, for every renderer (terminal tables, progress lines, PR comments, job
 * summaries, check runs): durations, change counts, statuses.
 */
import type { PlanCounts } from '../plan/summary.js';
import type { ModuleStatus } from '../status.js';

/** "840 ms", "12.3 s", "4 m 05 s", "1 h 02 m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/**
 * Change counts: `+2 ~1 -0` then replace, import and forget when there are any (text);
 * `+2 ~1 −0 ±0 · import 1` with replace always shown (a Markdown table column).
 */
export function formatCounts(c: PlanCounts, style: 'text' | 'markdown' = 'text'): string {
  if (style === 'markdown') {
    let out = `+${c.add} ~${c.change} −${c.destroy} ±${c.replace}`;
    if (c.import) out += ` · import ${c.import}`;
    if (c.forget) out += ` · forget ${c.forget}`;
    return out;
  }
  const parts = [`+${c.add}`, `~${c.change}`, `-${c.destroy}`];
  if (c.replace) parts.push(`±${c.replace} replace`);
  if (c.import) parts.push(`${c.import} import`);
  if (c.forget) parts.push(`${c.forget} forget`);
  return parts.join(' ');
}

const GLYPH: Record<'text' | 'markdown', Record<string, string>> = {
  text: {
    succeeded: '✓',
    planned: '✓',
    'no-op': '·',
    failed: '✗',
    halted: '■',
    skipped: '»',
    blocked: '…',
    cancelled: '⊘',
    pending: '?',
  },
  markdown: {
    succeeded: '✅',
    planned: '📝',
    'no-op': '⚪',
    failed: '❌',
    halted: '⏹️',
    skipped: '⏭️',
    blocked: '🚧',
    cancelled: '🚫',
    pending: '⏹️',
  },
};

/** The word for a status: a module that succeeded in a plan was `planned`; a pending one never ran (`halted`). */
export function statusWord(status: ModuleStatus, command?: string): string {
  if (status === 'succeeded' && command === 'plan') return 'planned';
  if (status === 'pending') return 'halted';
  return status;
}

/** `✓ planned`, `❌ failed`, `⚪ no changes` (Markdown spells no-op out). */
export function statusLabel(status: ModuleStatus, style: 'text' | 'markdown', command?: string): string {
  const word = statusWord(status, command);
  const shown = style === 'markdown' && word === 'no-op' ? 'no changes' : word;
  return `${GLYPH[style][word] ?? GLYPH[style][status] ?? '?'} ${shown}`;
}

/** `text` cut to at most `max` characters, the cut marked with `…`. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
