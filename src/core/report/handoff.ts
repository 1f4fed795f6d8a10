/**
 * The handoff from the job that runs module code to the job that reports (SPEC §8.3): one JSON
 * document per site × environment holding the run's report and, per module, its plan normalized —
 * the changes' addresses and actions, after-values with unknown parts as `(known after apply)` and
 * sensitive parts as the marker, never a before-value, state, variable or configuration. The
 * reporting job computes both what the comment shows (the plan summary) and what it binds (the
 * digests) from that one plan, so what a reviewer sees is exactly what is bound.
 *
 * Pure: the front doors read and write the file.
 */
import canonicalize from 'canonicalize';
import { makeReview, reviewedModule, type BindingReview } from '../binding.js';
import type { Problem } from '../errors.js';
import { InputError } from '../errors.js';
import { normalizeValue } from '../plan/digest.js';
import { summarizePlan, type PlanCounts } from '../plan/summary.js';
import { isStatusIn, NODE_STATUSES, RUN_STATUSES, type ModuleStatus, type StepStatus } from '../status.js';
import type { ModuleReport, RunReport } from './markdown.js';
import { commentMarker } from './run-report.js';

/** What the `kind` of a handoff document says. */
export const HANDOFF_KIND = 'site-deploy-handoff';
export const HANDOFF_VERSION = 1;
/** The most bytes a handoff file may have (a 27-module plan of 100,000 resources fits). */
export const MAX_HANDOFF_BYTES = 256 * 1024 * 1024;

/** One module in a handoff: its report row, its plan normalized (plan runs), and what was withheld. */
export interface HandoffModule {
  name: string;
  type: string;
  weight: number;
  status: ModuleStatus;
  duration_ms: number;
  mocked: string[];
  blocked_on: string[];
  error?: string;
  /** Counts when the module has no Terraform plan to summarize (a `command` engine). */
  counts?: PlanCounts;
  /** The plan as reviewed, normalized ({@link normalizedPlan}); absent when it was not planned. */
  plan?: unknown;
  /** Whether the summary shows this plan (Terraform) or only the counts (a command module's plan). */
  summarized: boolean;
  /**
   * Set when the plan held a value the run knows is secret where Terraform did not mark it
   * sensitive: the plan is left out, the module is not bound, and apply halts it.
   */
  withheld?: 'secret';
}

/** A handoff document: everything the reporting job needs, nothing it must not publish. */
export interface Handoff {
  kind: typeof HANDOFF_KIND;
  schema_version: typeof HANDOFF_VERSION;
  command: 'plan' | 'apply';
  site: string;
  environment: string;
  account?: string;
  region?: string;
  /** The commit the run checked out. */
  commit?: string;
  /** The commit the plan is the review of (a pull request's head), when it makes one. */
  review_commit?: string;
  /** When the plan was made (ISO 8601, UTC). */
  created_at: string;
  status: StepStatus;
  isolation: 'namespace' | 'none';
  run_url?: string;
  evidence?: { path: string; digest: string };
  modules: HandoffModule[];
  /** Config warnings (and, for a refused run, its errors), at their file and line. */
  problems: Problem[];
  /** Set when the run stopped before any module: why. */
  refused?: string;
  /** apply: the checks it passed or was stopped by (approval binding, promotion), one line each. */
  checks?: string[];
  /** apply: break-glass used, shown first. */
  break_glass?: { actor: string; reason: string; overrides: string[] };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const pick = (o: Obj, keys: readonly string[]): Obj =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

/** The fields of a resource change a summary or a digest reads; never a value but the normalized after. */
const RESOURCE_FIELDS = [
  'address',
  'previous_address',
  'module_address',
  'mode',
  'type',
  'name',
  'index',
  'deposed',
  'action_reason',
] as const;

/** A change's value part, normalized: after as the digest sees it (marker for sensitive), no before. */
function normalizedChange(c: Obj): Obj {
  return {
    ...pick(c, ['actions', 'after_unknown', 'after_sensitive', 'before_sensitive', 'replace_paths']),
    before: null,
    after: normalizeValue(c.after, c.after_unknown, c.after_sensitive),
    ...(c.importing !== undefined && c.importing !== null ? { importing: {} } : {}),
  };
}

/**
 * A `terraform show -json` plan (or a command module's plan in that shape) reduced to what the
 * summary and the digests read, sensitive values replaced by the marker. Its digests without a
 * key equal the full plan's; its summary equals the full plan's.
 */
export function normalizedPlan(plan: unknown): unknown {
  const p = isObj(plan) ? plan : {};
  const resource = (rc: unknown): unknown =>
    isObj(rc)
      ? { ...pick(rc, RESOURCE_FIELDS), change: isObj(rc.change) ? normalizedChange(rc.change) : rc.change }
      : rc;
  const drift = (rd: unknown): unknown =>
    isObj(rd)
      ? { ...pick(rd, RESOURCE_FIELDS), change: { actions: isObj(rd.change) ? rd.change.actions : [] } }
      : rd;
  const outputs = isObj(p.output_changes)
    ? Object.fromEntries(
        Object.entries(p.output_changes).map(([name, c]) => [name, isObj(c) ? normalizedChange(c) : c]),
      )
    : undefined;
  return {
    ...pick(p, ['format_version']),
    ...(Array.isArray(p.resource_changes) ? { resource_changes: p.resource_changes.map(resource) } : {}),
    ...(Array.isArray(p.resource_drift) ? { resource_drift: p.resource_drift.map(drift) } : {}),
    ...(outputs ? { output_changes: outputs } : {}),
  };
}

/** A module's row and normalized plan; `redact` is the run's redaction, which a plan must pass unchanged. */
export function handoffModule(
  row: ModuleReport,
  plan: unknown,
  redact: (value: unknown) => unknown,
): HandoffModule {
  const base: HandoffModule = {
    name: row.name,
    type: row.type ?? '',
    weight: row.weight,
    status: row.status,
    duration_ms: row.durationMs ?? 0,
    mocked: row.mocked ?? [],
    blocked_on: row.blockedOn ?? [],
    ...(row.error !== undefined ? { error: row.error } : {}),
    ...(row.summary === undefined && row.counts ? { counts: { ...ZERO, ...row.counts } } : {}),
    summarized: row.summary !== undefined,
  };
  if (plan === undefined) return base;
  const normalized = normalizedPlan(plan);
  // A value the run holds as secret in an attribute Terraform does not mark sensitive: publishing
  // the plan would publish it, and redacting it would bind a plan that is not the one applied.
  if (canonicalize(redact(normalized)) !== canonicalize(normalized)) return { ...base, withheld: 'secret' };
  return { ...base, plan: normalized };
}

const ZERO: PlanCounts = { add: 0, change: 0, destroy: 0, import: 0, forget: 0, replace: 0 };

/** What a handoff carries besides the run report. */
export interface HandoffFacts {
  /** The commit the plan is the review of. */
  reviewCommit?: string;
  createdAt: string;
  evidence?: { path: string; digest: string };
  /** Config warnings and the failed modules' notes, for the check run's annotations. */
  problems: Problem[];
  /** The run's redaction: a plan it would change is withheld ({@link handoffModule}). */
  redact: (value: unknown) => unknown;
}

/** The handoff of a finished run: its report's rows with each module's reviewed plan (by module name). */
export function toHandoff(report: RunReport, plans: ReadonlyMap<string, unknown>, f: HandoffFacts): Handoff {
  return {
    kind: HANDOFF_KIND,
    schema_version: HANDOFF_VERSION,
    command: report.command === 'apply' ? 'apply' : 'plan',
    site: report.site,
    environment: report.environment,
    ...(report.account ? { account: report.account } : {}),
    ...(report.region ? { region: report.region } : {}),
    ...(report.commit ? { commit: report.commit } : {}),
    ...(f.reviewCommit ? { review_commit: f.reviewCommit } : {}),
    created_at: f.createdAt,
    status: report.status,
    isolation: report.isolation ?? 'none',
    ...(report.runUrl ? { run_url: report.runUrl } : {}),
    ...(f.evidence ? { evidence: f.evidence } : {}),
    modules: report.modules.map((row) => handoffModule(row, plans.get(row.name), f.redact)),
    problems: f.problems,
    ...(report.checks?.length ? { checks: report.checks } : {}),
    ...(report.breakGlass ? { break_glass: report.breakGlass } : {}),
  };
}

/** The handoff of a run refused before any module (bad config, a freeze, promotion, the run lock). */
export function refusedHandoff(r: {
  command: 'plan' | 'apply';
  site: string;
  environment: string;
  commit?: string;
  reviewCommit?: string;
  runUrl?: string;
  problems: Problem[];
  refused: string;
}): Handoff {
  return {
    kind: HANDOFF_KIND,
    schema_version: HANDOFF_VERSION,
    command: r.command,
    site: r.site,
    environment: r.environment,
    ...(r.commit ? { commit: r.commit } : {}),
    ...(r.reviewCommit ? { review_commit: r.reviewCommit } : {}),
    created_at: new Date().toISOString(),
    status: 'failed',
    isolation: 'none',
    ...(r.runUrl ? { run_url: r.runUrl } : {}),
    modules: [],
    problems: r.problems,
    refused: r.refused,
  };
}

/** The report and review the reporting job publishes, computed from a handoff's plans. */
export interface HandoffReport {
  report: RunReport;
  /** The review (unsealed) of a plan handoff with a review commit and a bound module. */
  review?: BindingReview;
}

/** The run report of a handoff: summaries and the review computed from the same normalized plans. */
export function handoffReport(h: Handoff): HandoffReport {
  const modules: ModuleReport[] = h.modules.map((m) => ({
    name: m.name,
    type: m.type,
    weight: m.weight,
    status: m.status,
    ...(m.plan !== undefined && m.summarized
      ? { summary: summarizePlan(m.plan) }
      : { counts: m.counts ?? ZERO }),
    durationMs: m.duration_ms,
    mocked: m.mocked,
    blockedOn: m.blocked_on,
    ...(m.error !== undefined ? { error: m.error } : {}),
  }));
  const bound = h.modules.filter(
    (m) => m.plan !== undefined && (m.status === 'succeeded' || m.status === 'no-op'),
  );
  const review =
    h.command === 'plan' && h.review_commit && bound.length > 0
      ? makeReview({
          site: h.site,
          env: h.environment,
          commit: h.review_commit,
          created_at: h.created_at,
          modules: Object.fromEntries(
            bound.map((m) => [m.name, reviewedModule(m.plan, { mocked: m.mocked.length > 0 })]),
          ),
        })
      : undefined;
  const withheld = h.modules.filter((m) => m.withheld).map((m) => m.name);
  const report: RunReport = {
    marker: commentMarker(h.site, h.environment),
    site: h.site,
    environment: h.environment,
    ...(h.account ? { account: h.account } : {}),
    ...(h.region ? { region: h.region } : {}),
    ...(h.commit ? { commit: h.commit } : {}),
    command: h.command,
    status: h.status,
    modules,
    policy: [],
    ...(h.run_url
      ? { runUrl: h.run_url, ...(h.evidence ? { evidenceUrl: `${h.run_url}#artifacts` } : {}) }
      : {}),
    ...(review ? { planDigest: review.combined, binding: review } : {}),
    isolation: h.isolation,
    ...(withheld.length ? { withheld } : {}),
    ...(h.checks?.length ? { checks: h.checks } : {}),
    ...(h.break_glass ? { breakGlass: h.break_glass } : {}),
  };
  return { report, ...(review ? { review } : {}) };
}

/** One reason a handoff cannot be read, at the file's first line (JSON has no positions worth naming). */
type Complaint = (message: string) => void;

const isString = (v: unknown): v is string => typeof v === 'string';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function checkModule(m: unknown, i: number, complain: Complaint): m is HandoffModule {
  const at = `modules[${i}]`;
  if (!isObj(m)) return (complain(`${at}: expected an object`), false);
  const bad: string[] = [];
  if (!isString(m.name) || !SAFE_NAME.test(m.name)) bad.push('name');
  if (!isString(m.type)) bad.push('type');
  if (typeof m.weight !== 'number') bad.push('weight');
  if (!isStatusIn(NODE_STATUSES, m.status)) bad.push('status');
  if (typeof m.duration_ms !== 'number') bad.push('duration_ms');
  if (!isStrings(m.mocked)) bad.push('mocked');
  if (!isStrings(m.blocked_on)) bad.push('blocked_on');
  if (m.error !== undefined && !isString(m.error)) bad.push('error');
  if (typeof m.summarized !== 'boolean') bad.push('summarized');
  if (m.withheld !== undefined && m.withheld !== 'secret') bad.push('withheld');
  const counts = m.counts;
  if (
    counts !== undefined &&
    !(isObj(counts) && Object.keys(ZERO).every((k) => typeof counts[k] === 'number'))
  )
    bad.push('counts');
  if (bad.length) complain(`${at}: ${bad.join(', ')} missing or of the wrong type`);
  return bad.length === 0;
}

function checkProblem(p: unknown): p is Problem {
  return (
    isObj(p) &&
    isString(p.file) &&
    typeof p.line === 'number' &&
    typeof p.column === 'number' &&
    isString(p.message) &&
    (p.severity === 'error' || p.severity === 'warning')
  );
}

/** The top-level fields of a handoff that are wrong, by name. */
function badFields(d: Obj): string[] {
  const bad: string[] = [];
  if (d.command !== 'plan' && d.command !== 'apply') bad.push('command');
  if (!isString(d.site) || !SAFE_NAME.test(d.site)) bad.push('site');
  if (!isString(d.environment) || !SAFE_NAME.test(d.environment)) bad.push('environment');
  for (const k of ['account', 'region', 'commit', 'review_commit', 'run_url', 'refused'] as const)
    if (d[k] !== undefined && !isString(d[k])) bad.push(k);
  if (!isString(d.created_at) || !Number.isFinite(Date.parse(d.created_at))) bad.push('created_at');
  if (!isStatusIn(RUN_STATUSES, d.status)) bad.push('status');
  if (d.isolation !== 'namespace' && d.isolation !== 'none') bad.push('isolation');
  if (
    d.evidence !== undefined &&
    !(isObj(d.evidence) && isString(d.evidence.path) && isString(d.evidence.digest))
  )
    bad.push('evidence');
  if (!Array.isArray(d.problems) || !d.problems.every(checkProblem)) bad.push('problems');
  if (!Array.isArray(d.modules)) bad.push('modules');
  if (d.checks !== undefined && !isStrings(d.checks)) bad.push('checks');
  const bg = d.break_glass;
  if (
    bg !== undefined &&
    !(isObj(bg) && isString(bg.actor) && isString(bg.reason) && isStrings(bg.overrides))
  )
    bad.push('break_glass');
  return bad;
}

/**
 * Reads a handoff file: one problem per thing wrong with it (bad input, exit 2), each at `file`.
 * Its plans are read when the report is made ({@link handoffReport}), by the same code that reads
 * Terraform's.
 */
export function readHandoff(text: string, file: string): Handoff {
  const problems: Problem[] = [];
  const complain: Complaint = (message) =>
    void problems.push({
      file,
      line: 1,
      column: 1,
      message: `not a site-deploy handoff: ${message}`,
      severity: 'error',
    });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    complain(`invalid JSON (${e instanceof Error ? e.message : String(e)})`);
    throw new InputError(problems);
  }
  if (!isHandoff(doc, complain) || problems.length) throw new InputError(problems);
  return doc;
}

/** Whether a parsed document is a handoff of this version, every field of the right type; complains of each that is not. */
function isHandoff(doc: unknown, complain: Complaint): doc is Handoff {
  if (!isObj(doc) || doc.kind !== HANDOFF_KIND) return (complain(`"kind" is not "${HANDOFF_KIND}"`), false);
  if (doc.schema_version !== HANDOFF_VERSION) {
    complain(
      `schema_version ${String(doc.schema_version)} is not ${HANDOFF_VERSION}: report with the site-deploy version that planned`,
    );
    return false;
  }
  const bad = badFields(doc);
  if (bad.length) complain(`${bad.join(', ')} missing or of the wrong type`);
  const modules = Array.isArray(doc.modules) ? doc.modules : [];
  const good = modules.map((m, i) => checkModule(m, i, complain)).every(Boolean);
  return bad.length === 0 && good;
}
