import { bindingHeader, fitReview, type BindingReview, type FittedReview } from '../binding.js';
import type { PlanCounts, PlanSummary, ResourceEntry, RiskEntry } from '../plan/summary.js';
import type { ModuleStatus, StepStatus } from '../status.js';
import { foldToFit, type Foldable, type Part } from './fold.js';
import { clip, formatCounts, formatDuration, statusLabel } from './format.js';

// Renders plan summaries and whole runs for pull-request comments, job summaries and terminals.
// Pure and deterministic: the same input gives the same text, byte for byte. Everything that
// comes from users or plans (addresses, names, messages) goes through `md()` so it can neither
// break a table nor inject HTML.

/** One module's row in the report, in execution order. */
export interface ModuleReport {
  name: string;
  type?: string;
  weight: number;
  status: ModuleStatus;
  /** Its plan summary; gives the counts and the resource list. */
  summary?: PlanSummary;
  /** Counts when there is no plan summary (e.g. a `command` engine's SITE_DEPLOY_CHANGES). */
  counts?: Partial<PlanCounts>;
  durationMs?: number;
  /** Inputs planned with an upstream's mock_outputs, e.g. `networking.vpc_id`. */
  mocked?: string[];
  /** Upstream outputs this module waits for, e.g. `networking.vpc_id`. */
  blockedOn?: string[];
  /** A short error message for a failed step. */
  error?: string;
}

/** One policy decision as shown in the report. */
export interface PolicyDecisionView {
  rule: string;
  result: 'allow' | 'deny' | 'warn';
  severity: string;
  message: string;
}

/** Everything a run report shows; built by the caller from the run's results. */
export interface RunReport {
  /** First line, hidden: how the comment is found again, e.g. `<!-- site-deploy:client-portal:production -->`. */
  marker: string;
  site: string;
  environment: string;
  account?: string;
  region?: string;
  commit?: string;
  command: string;
  status: StepStatus;
  /** In execution order. */
  modules: ModuleReport[];
  policy?: PolicyDecisionView[];
  runUrl?: string;
  evidenceUrl?: string;
  /** sha256 of the plan(s) reviewed, bound at apply time. */
  planDigest?: string;
  /**
   * What this plan's review binds (SPEC §8.3): written as a hidden header right after the marker,
   * on plan runs with at least one module digest.
   */
  binding?: BindingReview;
  /** Break-glass used by this apply: shown first, as a caution. */
  breakGlass?: { actor: string; reason: string; overrides: string[] };
  /** The checks an apply passed or was stopped by (approval binding, promotion), one line each. */
  checks?: string[];
  /** How the module steps were isolated (SPEC §6): `none` says they ran unsandboxed. */
  isolation?: 'namespace' | 'none';
  /**
   * Modules whose plan held a value the run knows is secret in an attribute Terraform does not mark
   * sensitive: not published, not bound, halted at apply.
   */
  withheld?: string[];
}

/** Options for renderReport. */
export interface RenderOptions {
  /** The result is always shorter than this; default 65,536 (GitHub's comment limit). */
  maxLength?: number;
  /** The `binding-key` secret: the binding header is sealed under it after it is fitted. */
  bindingKey?: string;
}

/** GitHub's limit on a comment or check-run body, in characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

const RESULT: Record<string, string> = { allow: '✅ allow', deny: '⛔ deny', warn: '⚠️ warn' };

const RISK_LABEL: Record<RiskEntry['kind'], string> = {
  'high-risk-replace': '🔴 high-risk replace',
  'high-risk-destroy': '🔴 high-risk destroy',
  destructive: '🟠 destructive',
};

const MD_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '|': '&#124;',
  '`': '&#96;',
  '"': '&quot;',
  '\n': ' ',
  '\r': ' ',
  '\t': ' ',
};
// Control characters (terminal escapes) and bidi overrides (a "trojan source" address) are never shown as is.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const MD_SPECIAL = /[&<>|`"\\*_[\]~#!\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Escapes user or plan text for Markdown and HTML: no tables broken, no tags, no code spans, no links. */
export function md(text: string): string {
  return text.replace(MD_SPECIAL, (c) => MD_ESCAPES[c] ?? (c < ' ' || c > '~' ? '\uFFFD' : `\\${c}`));
}

const code = (text: string): string => `<code>${md(text)}</code>`;

/** Escapes text for a raw HTML block (a `<details>` line), where Markdown escapes are not read. */
function html(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/`/g, '&#96;')
    .replace(UNSAFE_CHARS, '\uFFFD');
}

function safeUrl(url: string | undefined): string | undefined {
  if (url === undefined || !/^https?:\/\/[^\s<>"'`\\]+$/.test(url) || url.length > 2000) return undefined;
  return url.replace(/\(/g, '%28').replace(/\)/g, '%29');
}

function countsOf(m: ModuleReport): PlanCounts | undefined {
  if (m.summary) return m.summary;
  if (!m.counts) return undefined;
  const c = m.counts;
  return {
    add: c.add ?? 0,
    change: c.change ?? 0,
    destroy: c.destroy ?? 0,
    import: c.import ?? 0,
    forget: c.forget ?? 0,
    replace: c.replace ?? 0,
  };
}

function countsCell(c: PlanCounts | undefined): string {
  return c ? formatCounts(c, 'markdown') : '—';
}

function actionWords(r: { actions: string[]; importing?: true }): string {
  const key = r.actions.join(',');
  const words: Record<string, string> = {
    create: '➕ create',
    update: '✏️ update',
    delete: '🗑️ destroy',
    'delete,create': '♻️ replace',
    'create,delete': '♻️ replace (create first)',
    'create,forget': '♻️ replace (old object kept)',
    forget: '✂️ forget (kept, leaves state)',
    read: '📖 read',
    'no-op': '',
  };
  const w = words[key] ?? md(key);
  if (!r.importing) return w;
  return w === '' ? '📥 import' : `📥 import, ${w}`;
}

function resourceLine(r: ResourceEntry): string {
  let line = `- ${actionWords(r)} ${code(r.address)}`;
  if (r.deposed !== undefined) line += ` (deposed ${code(r.deposed)})`;
  if (r.reason !== undefined) line += ` — ${md(r.reason.replace(/_/g, ' '))}`;
  return line;
}

/** The list entries shown for one plan: resources, then moves, drift, outputs. */
function detailLines(s: PlanSummary): string[] {
  const lines = s.resources.map(resourceLine);
  for (const m of s.moved) lines.push(`- 🚚 moved ${code(m.from)} → ${code(m.to)}`);
  for (const d of s.drift)
    lines.push(`- 🌫️ changed outside Terraform (${md(d.actions.join(', '))}) ${code(d.address)}`);
  for (const o of s.outputChanges) {
    lines.push(
      `- 📤 output ${code(o.name)} (${md(o.actions.join(', '))}${o.sensitive ? ', sensitive' : ''})`,
    );
  }
  return lines;
}

function riskLine(r: RiskEntry, module?: string): string {
  let line = `- ${RISK_LABEL[r.kind]} ${code(r.address)} (${md(r.type)})`;
  if (module !== undefined) line += ` in ${md(module)}`;
  if (r.reason !== undefined) line += ` — ${md(r.reason.replace(/_/g, ' '))}`;
  return line;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/**
 * Room the binding header leaves: for the fold note's digits to vary between the fully folded
 * layout and the final one, and for the line saying the header shrank (at most 8 names per list).
 */
const HEADER_SLACK = 3500;
const NOTE_NAMES = 8;

/**
 * Renders a run as Markdown for a PR comment or job summary; always shorter than `maxLength`:
 * resource lists fold (largest first, each into a line counting what was folded), then risk lists;
 * the module table is never cut mid-row.
 *
 * A plan run's `binding` goes on the second line as a hidden header ({@link bindingHeader}). It
 * counts toward `maxLength` and comes first: lists fold before it shrinks ({@link fitReview}: per-
 * change digests left out, then modules bound on their shape), and a visible line says when it
 * shrank or did not fit at all.
 */
export function renderReport(report: RunReport, options: RenderOptions = {}): string {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_LIMIT;
  if (!/^<!--[^\n]*-->$/.test(report.marker) || report.marker.slice(4, -3).includes('--')) {
    throw new Error(
      'renderReport: the marker must be a one-line HTML comment, e.g. <!-- site-deploy:site:env -->',
    );
  }
  const review = report.binding;
  if (report.command !== 'plan' || review === undefined || Object.keys(review.modules).length === 0) {
    return layout(report, maxLength, {});
  }
  // What the rest needs at least: every list folded. The header may have the remainder.
  const least = layout(report, maxLength, { foldAll: true, note: '' }).length;
  const key = { key: options.bindingKey };
  const fitted =
    fitReview(review, maxLength - least - HEADER_SLACK, key) ??
    fitReview(review, Math.floor(maxLength / 3), key);
  if (!fitted) {
    const note =
      '_⚠️ The approval binding did not fit in the comment: an apply of this commit finds no reviewed plan and halts; plan fewer modules per site × environment._';
    return layout(report, maxLength, { note });
  }
  return layout(report, maxLength, { header: bindingHeader(fitted.review), note: bindingNote(fitted) });
}

/** Up to NOTE_NAMES names, in code, and how many more. */
function names(list: string[]): string {
  const shown = list
    .slice(0, NOTE_NAMES)
    .map((n) => code(clip(n, 60)))
    .join(', ');
  return shown + (list.length > NOTE_NAMES ? ` and ${list.length - NOTE_NAMES} more` : '');
}

/**
 * The visible line naming every way the binding is weaker than "every value the reviewer saw":
 * modules left unbound (apply halts them), modules bound on their shape (mocked inputs), modules
 * without per-change digests, and sensitive values bound as a marker (no binding key).
 */
function bindingNote(fitted: FittedReview): string | undefined {
  const said: string[] = [];
  const { unbound, unnamed, review } = fitted;
  for (const u of unbound.slice(0, NOTE_NAMES))
    said.push(
      `module ${code(clip(u.module, 60))}: ${plural(u.unknown, 'unknown value')} exceed what the review can hold; apply will halt it`,
    );
  if (unbound.length > NOTE_NAMES)
    said.push(`${plural(unbound.length - NOTE_NAMES, 'more module')} likewise; apply will halt them`);
  if (unnamed.length > 0)
    said.push(`${plural(unnamed.length, 'module')} without per-resource digests (${names(unnamed)})`);
  const reduced = said.length > 0;
  const mocked = Object.keys(review.modules).filter((n) => review.modules[n]?.mocked === true);
  if (mocked.length > 0)
    said.push(
      `${plural(mocked.length, 'module')} bound on addresses and actions only, planned with mock outputs (${names(mocked.sort())})`,
    );
  if (review.sensitive === 'marker')
    said.push(
      'sensitive values bound as a marker, no binding key set: a change to a sensitive value alone does not halt apply',
    );
  if (said.length === 0) return undefined;
  const lead = reduced ? 'Approval binding reduced to fit the comment size limit' : 'Approval binding';
  return `_${reduced ? '⚠️ ' : ''}${lead}: ${said.join('; ')}._`;
}

/** Shorthand for a heading's text: escaped, at most 200 characters. */
const h = (s: string | undefined): string => md(clip(s ?? '', 200));

/** Appends row by row: push(...rows) overflows the call stack past about 100,000 arguments. */
function append(parts: Part[], more: readonly Part[]): void {
  for (const p of more) parts.push(p);
}

function layout(
  report: RunReport,
  maxLength: number,
  extra: { header?: string; note?: string; foldAll?: boolean },
): string {
  const parts: Part[] = [report.marker];
  if (extra.header !== undefined) parts.push(extra.header);
  append(parts, heading(report));
  append(parts, totals(report));
  // The module table is never folded; only a table longer than the limit on its own loses rows.
  const tableStart = parts.length;
  append(parts, moduleTable(report));
  parts.push('');
  const tableEnd = parts.length - 1;
  append(parts, risksSection(report));
  append(parts, policySection(report));
  append(parts, resourcesSection(report));
  const noteAt = parts.length;
  parts.push(''); // the fold note, when something folded
  append(parts, footer(report, extra.note));
  return foldToFit(parts, {
    limit: maxLength,
    foldAll: extra.foldAll ?? false,
    noteAt,
    note: (folded) => foldNote(folded, maxLength),
    rows: {
      keep: tableStart + 2,
      end: tableEnd,
      omitted: (n) =>
        `| … | … | ${plural(n, 'more module')} not shown: the comment size limit | … | … | … | … |`,
    },
    cutNote: '_… cut to fit the comment limit._',
  });
}

/** The title, the facts line, a break-glass caution and the checks an apply passed. */
function heading(report: RunReport): string[] {
  const status = statusLabel(report.status, 'markdown');
  const parts = [
    `### site-deploy ${h(report.command)}: ${h(report.site)} / ${h(report.environment)} — ${status}`,
    '',
  ];
  const facts = [
    `**Site** ${code(clip(report.site, 200))}`,
    `**Environment** ${code(clip(report.environment, 200))}`,
  ];
  if (report.account) facts.push(`**Account** ${code(clip(report.account, 200))}`);
  if (report.region) facts.push(`**Region** ${code(clip(report.region, 200))}`);
  if (report.commit) {
    const c = /^[0-9a-f]{40}$/i.test(report.commit) ? report.commit.slice(0, 12) : clip(report.commit, 200);
    facts.push(`**Commit** ${code(c)}`);
  }
  facts.push(`**Command** ${code(clip(report.command, 200))}`, `**Status** ${status}`);
  if (report.isolation) facts.push(code(`isolation: ${report.isolation}`));
  parts.push(facts.join(' · '), '');
  if (report.breakGlass) {
    const b = report.breakGlass;
    const what = b.overrides.length
      ? b.overrides.map((o) => md(clip(o, 40))).join(' and ')
      : 'no check (none refused)';
    parts.push(
      '> [!CAUTION]',
      `> **Break-glass** by ${code(clip(b.actor, 100))}: ${md(clip(b.reason, 500))} — overriding ${what}.`,
      '',
    );
  }
  if (report.checks?.length) {
    for (const c of report.checks) parts.push(`- ${md(clip(c, 600))}`);
    parts.push('');
  }
  return parts;
}

/** The run's total change counts. */
function totals(report: RunReport): string[] {
  const total: PlanCounts = { add: 0, change: 0, destroy: 0, import: 0, forget: 0, replace: 0 };
  for (const m of report.modules) {
    const c = countsOf(m);
    if (!c) continue;
    for (const k of COUNT_KEYS) total[k] += c[k];
  }
  return [`**Changes:** ${countsCell(total)} across ${plural(report.modules.length, 'module')}`, ''];
}

const COUNT_KEYS: readonly (keyof PlanCounts)[] = ['add', 'change', 'destroy', 'import', 'forget', 'replace'];

/** The module table: header, separator and one row per module in execution order. */
function moduleTable(report: RunReport): string[] {
  const table: string[] = [
    '| # | Weight | Module | Status | +add ~change −destroy ±replace | Duration | Notes |',
    '| ---: | ---: | --- | --- | --- | ---: | --- |',
  ];
  report.modules.forEach((m, i) => {
    const name = m.type && m.type !== m.name ? `**${h(m.name)}** (${h(m.type)})` : `**${h(m.name)}**`;
    const duration = m.durationMs === undefined ? '—' : formatDuration(m.durationMs);
    const weight = Number.isFinite(m.weight) ? String(m.weight) : '—';
    table.push(
      `| ${i + 1} | ${weight} | ${name} | ${statusLabel(m.status, 'markdown', report.command)} | ${countsCell(countsOf(m))} | ${duration} | ${moduleNotes(m).join('; ')} |`,
    );
  });
  if (report.modules.length === 0) table.push('| — | — | no modules | — | — | — | — |');
  return table;
}

/** A module row's notes: its risks, mocked inputs, what it waits for, its error. */
function moduleNotes(m: ModuleReport): string[] {
  const notes: string[] = [];
  const high = m.summary?.risks.filter((r) => r.kind !== 'destructive').length ?? 0;
  const destroys = (m.summary?.risks.length ?? 0) - high;
  if (high > 0) notes.push(`🔴 ${high.toLocaleString('en-US')} high-risk`);
  if (destroys > 0) notes.push(`🟠 ${destroys.toLocaleString('en-US')} destructive`);
  if (m.mocked?.length) notes.push(`🧪 mocked: ${m.mocked.map((x) => code(clip(x, 120))).join(', ')}`);
  if (m.blockedOn?.length) notes.push(`blocked on ${m.blockedOn.map((x) => code(clip(x, 120))).join(', ')}`);
  if (m.error) notes.push(`❌ ${md(clip(m.error, 300))}`);
  return notes;
}

/**
 * Risks: counts always stay; high-risk entries are listed (and may fold). Destructive entries are
 * not repeated here: each module's resource list marks them.
 */
function risksSection(report: RunReport): Part[] {
  const risks = report.modules.flatMap((m) => (m.summary?.risks ?? []).map((r) => ({ r, module: m.name })));
  if (risks.length === 0) {
    const unplanned = report.modules.filter((m) => m.status === 'failed' || m.status === 'cancelled');
    if (unplanned.length > 0)
      return [
        '#### Risks',
        '',
        `Unknown: the ${report.command} of ${unplanned.map((m) => md(m.name)).join(', ')} did not complete (failed or cancelled), so what ${unplanned.length === 1 ? 'it' : 'they'} would destroy or replace is not known.`,
        '',
      ];
    return ['#### Risks', '', 'None: nothing is destroyed or replaced.', ''];
  }
  const counts: string[] = [];
  for (const kind of ['high-risk-replace', 'high-risk-destroy', 'destructive'] as const) {
    const n = risks.filter((x) => x.r.kind === kind).length;
    if (n > 0) counts.push(`${RISK_LABEL[kind]}: ${n.toLocaleString('en-US')}`);
  }
  const parts: Part[] = ['#### Risks', '', counts.join(' · '), ''];
  const highRisks = risks.filter((x) => x.r.kind !== 'destructive');
  if (highRisks.length > 0) {
    parts.push({
      full: highRisks.map((x) => riskLine(x.r, x.module)).join('\n') + '\n',
      folded: `- ${plural(highRisks.length, 'high-risk entry', 'high-risk entries')} folded to fit the comment size limit; the table marks their modules.\n`,
      entries: highRisks.length,
      rank: 1,
      isFolded: false,
    });
  }
  return parts;
}

/** The policy decisions, as a table. */
function policySection(report: RunReport): string[] {
  const policy = report.policy ?? [];
  if (policy.length === 0) return ['#### Policy decisions', '', 'None.', ''];
  const parts = [
    '#### Policy decisions',
    '',
    '| Result | Severity | Rule | Message |',
    '| --- | --- | --- | --- |',
  ];
  for (const p of policy) {
    parts.push(
      `| ${RESULT[p.result] ?? md(p.result)} | ${h(p.severity)} | ${code(clip(p.rule, 200))} | ${md(clip(p.message, 500))} |`,
    );
  }
  parts.push('');
  return parts;
}

/** Each module's resources, moves, drift and outputs: one list per module, each may fold. */
function resourcesSection(report: RunReport): Part[] {
  const parts: Part[] = [];
  for (const m of report.modules) {
    const lines = m.summary ? detailLines(m.summary) : [];
    if (lines.length === 0) continue;
    if (parts.length === 0) parts.push('#### Resources by module', '');
    const head = `<details><summary><b>${html(clip(m.name, 200))}</b>: ${plural(lines.length, 'entry', 'entries')}</summary>`;
    parts.push({
      full: `${head}\n\n${lines.join('\n')}\n\n</details>\n`,
      folded: `- <b>${h(m.name)}</b>: ${plural(lines.length, 'entry', 'entries')} folded to fit the comment size limit.\n`,
      entries: lines.length,
      rank: 0,
      isFolded: false,
    });
  }
  return parts;
}

/** The links to the workflow run and the evidence record, the plan digest, and a closing note. */
function footer(report: RunReport, note: string | undefined): string[] {
  const parts: string[] = [];
  const links: string[] = [];
  const run = safeUrl(report.runUrl);
  const evidence = safeUrl(report.evidenceUrl);
  if (run) links.push(`[Workflow run](${run})`);
  if (evidence) links.push(`[Evidence record](${evidence})`);
  if (links.length > 0) parts.push(links.join(' · '));
  if (report.planDigest) {
    const label = report.planDigest.startsWith('sha256:') ? 'Plan digest' : 'Plan digest (sha256)';
    parts.push(`${label}: ${code(clip(report.planDigest, 200))}`);
  }
  if (note !== undefined) parts.push(note);
  if (report.withheld?.length)
    parts.push(
      `_⚠️ Not bound: ${names(report.withheld)} — a plan holds a value this run knows is secret where Terraform does not mark it sensitive, so the plan is not published and apply will halt ${report.withheld.length === 1 ? 'it' : 'them'}. Declare the variable \`sensitive = true\` in the module._`,
    );
  return parts;
}

/** The line saying what folded, or '' when nothing did. */
function foldNote(folded: Foldable[], maxLength: number): string {
  if (folded.length === 0) return '';
  const entries = folded.reduce((n, f) => n + f.entries, 0);
  return (
    `_Folded ${plural(folded.length, 'list')} (${plural(entries, 'entry', 'entries')}), largest first, ` +
    `to stay under the ${maxLength.toLocaleString('en-US')}-character comment limit; the evidence record has every address._\n`
  );
}

/** A plain-text rendering for a terminal (`summarize PLAN.json`); control characters in addresses are neutralized. */
export function renderSummaryText(s: PlanSummary): string {
  const t = (text: string): string => text.replace(UNSAFE_CHARS, '?');
  const symbol: Record<string, string> = {
    create: '  +',
    update: '  ~',
    delete: '  -',
    'delete,create': '-/+',
    'create,delete': '+/-',
    'create,forget': '+/.',
    forget: '  .',
    read: ' <=',
    'no-op': '   ',
  };
  const lines: string[] = [];
  const outputsOnly = !s.no_changes && s.resources.length === 0 && s.moved.length === 0;
  if (s.no_changes) {
    lines.push('No changes. Your infrastructure matches the configuration.');
  } else if (outputsOnly) {
    lines.push('Only outputs change: applying saves their new values without changing any infrastructure.');
  } else {
    lines.push(
      `Plan: ${s.import ? `${s.import} to import, ` : ''}${s.add} to add, ${s.change} to change, ${s.destroy} to destroy.`,
    );
    const extra: string[] = [];
    if (s.replace) extra.push(`${s.replace} to replace`);
    if (s.forget) extra.push(`${s.forget} to forget (removed from state, not destroyed)`);
    if (extra.length) lines.push(`      ${extra.join(', ')}.`);
  }
  if (s.resources.length) {
    lines.push('');
    for (const r of s.resources) {
      const key = r.actions.join(',');
      const notes: string[] = [];
      if (r.importing) notes.push('import');
      if (key === 'forget' || key === 'create,forget') notes.push('forget');
      if (key === 'read') notes.push('read');
      if (r.deposed !== undefined) notes.push(`deposed ${t(r.deposed)}`);
      if (r.reason !== undefined) notes.push(t(r.reason));
      lines.push(`${symbol[key] ?? t(key)} ${t(r.address)}${notes.length ? `  (${notes.join('; ')})` : ''}`);
    }
  }
  const section = (title: string, items: string[]): void => {
    if (items.length === 0) return;
    lines.push('', title);
    for (const i of items) lines.push(`  ${i}`);
  };
  section(
    'Moved:',
    s.moved.map((m) => `${t(m.from)} -> ${t(m.to)}`),
  );
  section(
    'Changed outside of Terraform:',
    s.drift.map((d) => `${t(d.actions.join(','))} ${t(d.address)}`),
  );
  section(
    'Outputs:',
    s.outputChanges.map((o) => `${t(o.actions.join(','))} ${t(o.name)}${o.sensitive ? ' (sensitive)' : ''}`),
  );
  section(
    'Risks:',
    s.risks.map((r) => `${r.kind}: ${t(r.address)} (${t(r.type)})${r.reason ? ` ${t(r.reason)}` : ''}`),
  );
  return lines.join('\n') + '\n';
}

/** Markdown for one plan (`summarize --markdown`): counts, a resource table, moves, drift, outputs, risks. */
export function renderSummaryMarkdown(s: PlanSummary): string {
  const lines: string[] = [];
  if (s.no_changes) {
    lines.push('**No changes.** Your infrastructure matches the configuration.');
  } else if (s.resources.length === 0 && s.moved.length === 0) {
    lines.push(
      '**Only outputs change:** applying saves their new values without changing any infrastructure.',
    );
  } else {
    lines.push(`**Plan:** ${countsCell(s)}`);
  }
  if (s.resources.length) {
    lines.push('', '| Action | Resource |', '| --- | --- |');
    for (const r of s.resources) {
      let what = code(r.address);
      if (r.deposed !== undefined) what += ` (deposed ${code(r.deposed)})`;
      if (r.reason !== undefined) what += ` — ${md(r.reason.replace(/_/g, ' '))}`;
      lines.push(`| ${actionWords(r)} | ${what} |`);
    }
  }
  const section = (title: string, items: string[]): void => {
    if (items.length === 0) return;
    lines.push('', `**${title}**`, '');
    for (const i of items) lines.push(i);
  };
  section(
    'Moved',
    s.moved.map((m) => `- ${code(m.from)} → ${code(m.to)}`),
  );
  section(
    'Changed outside of Terraform',
    s.drift.map((d) => `- ${md(d.actions.join(', '))} ${code(d.address)}`),
  );
  section(
    'Outputs',
    s.outputChanges.map(
      (o) => `- ${code(o.name)} (${md(o.actions.join(', '))}${o.sensitive ? ', sensitive' : ''})`,
    ),
  );
  section(
    'Risks',
    s.risks.map((r) => riskLine(r)),
  );
  return lines.join('\n') + '\n';
}
