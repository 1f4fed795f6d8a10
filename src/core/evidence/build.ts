/**
 * Builds the evidence record of a run from what the run produced — the graph, the result, the
 * config files it read — and chains it to the previous record of the same site × environment ×
 * command. Pure: the caller reads and writes the files.
 */
import { createHash } from 'node:crypto';
import type { ConfigReader } from '../config/load.js';
import { sessionName } from '../credentials/session.js';
import { resolveState, type SiteGraph } from '../graph/build.js';
import { combinedDigest } from '../plan/digest.js';
import type { BreakGlassRecord } from '../promotion.js';
import type { PlanSummary } from '../plan/summary.js';
import type { ModuleResult, RunResult } from '../run/runner.js';
import {
  recordDigest,
  whatChanged,
  type BindingEvidence,
  type BrokenLink,
  type ConfigDigest,
  type EvidenceCommand,
  type EvidenceIsolation,
  type EvidenceModule,
  type EvidencePromotion,
  type EvidenceRecord,
  type EvidenceRun,
  type EvidenceStatus,
  type RecoveredRun,
  type Refusal,
} from './record.js';

/** A ConfigReader that remembers the sha256 of every file it read. */
export function digestingReader(reader: ConfigReader): ConfigReader & { digests: Map<string, string> } {
  const digests = new Map<string, string>();
  return {
    ...reader,
    digests,
    read(path) {
      const bytes = reader.read(path);
      if (bytes) digests.set(path, createHash('sha256').update(bytes).digest('hex'));
      return bytes;
    },
  };
}

/** The config digest of the files a run read (path → sha256 hex). */
export function configDigest(files: Map<string, string>, siteDigest: string | null = null): ConfigDigest {
  const sorted = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const all = createHash('sha256');
  for (const [path, sha] of sorted) all.update(`${sha}  ${path}\n`);
  return {
    digest: `sha256:${all.digest('hex')}`,
    files: Object.fromEntries(sorted),
    site_digest: siteDigest,
  };
}

/** Resource addresses of a plan, grouped by the action words a reviewer reads. */
function resourcesByAction(summary: PlanSummary | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!summary) return out;
  const push = (k: string, a: string): void => {
    (out[k] ??= []).push(a);
  };
  for (const r of summary.resources) {
    const a = r.actions.join(',');
    if (r.importing) push('import', r.address);
    if (a === 'create') push('create', r.address);
    else if (a === 'update') push('update', r.address);
    else if (a === 'delete') push('delete', r.address);
    else if (a === 'delete,create' || a === 'create,delete' || a === 'create,forget')
      push('replace', r.address);
    else if (a === 'forget') push('forget', r.address);
    else if (a === 'read') push('read', r.address);
  }
  return out;
}

/** One module as the record shows it: statuses, counts, addresses and output names — never values. */
function recordModule(graph: SiteGraph, m: ModuleResult): EvidenceModule {
  const node = graph.nodes.find((n) => n.name === m.name);
  const services = node?.manifest?.services ?? [];
  const hasSession =
    graph.credentials !== undefined && (services.length > 0 || resolveState(graph).backend === 's3');
  return {
    name: m.name,
    type: m.type,
    weight: m.weight,
    status: m.status,
    duration_ms: Math.round(m.durationMs),
    session_name: hasSession ? sessionName(graph.site.name, graph.environment.name, m.name) : null,
    services: [...services].sort(),
    plan_sha256: m.planSha256 ?? null,
    plan_digest: m.planDigest ?? null,
    counts: {
      add: m.add,
      change: m.change,
      destroy: m.destroy,
      import: m.import,
      forget: m.forget,
      replace: m.replace,
    },
    resources: resourcesByAction(m.summary),
    outputs: Object.keys(m.outputs).sort(),
    // Only the first line: the reason's tail quotes tool output, which the record does not keep.
    error: m.status === 'succeeded' || m.status === 'no-op' ? null : (m.reason?.split('\n')[0] ?? null),
  };
}

/** What a record is built from. */
export interface RecordInput {
  command: EvidenceCommand;
  graph: SiteGraph;
  run: EvidenceRun;
  startedAt: number;
  finishedAt: number;
  config: ConfigDigest;
  /** The run's result; absent when it was refused before any module ran. */
  result?: RunResult;
  refusal?: Refusal;
  /** The run broke off with this error (a bug or the machine): recorded as failed. */
  failure?: string;
  binding?: BindingEvidence | null;
  promotion?: EvidencePromotion | null;
  breakGlass?: BreakGlassRecord | null;
  /** How the steps were isolated, when any ran. */
  isolation?: EvidenceIsolation | null;
  /** A killed run whose lock this run took over. */
  recovered?: RecoveredRun;
}

/** The record of a run (not yet chained: `previous` is null). */
export function buildRecord(i: RecordInput): EvidenceRecord {
  const modules = (i.result?.modules ?? []).map((m) => recordModule(i.graph, m));
  const status: EvidenceStatus = i.result ? i.result.status : i.failure !== undefined ? 'failed' : 'refused';
  const digests = modules.flatMap((m) => (m.plan_digest ? [{ name: m.name, digest: m.plan_digest }] : []));
  return {
    schema_version: 1,
    command: i.command,
    status,
    refusal: i.refusal ?? null,
    error: i.failure === undefined ? null : (i.failure.split('\n')[0] ?? ''),
    site: i.graph.site.name,
    environment: i.graph.environment.name,
    lifecycle: i.graph.environment.lifecycle,
    account: i.graph.credentials?.account ?? null,
    region: i.graph.credentials?.region ?? null,
    run: i.run,
    started_at: new Date(i.startedAt).toISOString(),
    finished_at: new Date(i.finishedAt).toISOString(),
    config: i.config,
    modules,
    plan_digest: combinedDigest(digests) ?? null,
    policy: { decisions: [], exceptions: [] },
    binding: i.binding ?? null,
    promotion: i.promotion ?? null,
    break_glass: i.breakGlass ?? null,
    isolation: i.isolation ?? null,
    previous: null,
    ...(i.recovered ? { recovered: i.recovered } : {}),
  };
}

/**
 * Links a record to the one before it (same site × environment × command): its digest, run, and what
 * changed; and names the broken links found since (files under a record's name that are not one).
 */
export function chainRecord(
  record: EvidenceRecord,
  previous?: { record: EvidenceRecord; bytes: string },
  broken: BrokenLink[] = [],
): EvidenceRecord {
  const named = broken.length > 0 ? { ...record, broken_links: broken } : record;
  if (!previous) return named;
  return {
    ...named,
    previous: {
      digest: recordDigest(previous.bytes),
      run: { id: previous.record.run.id, attempt: previous.record.run.attempt, url: previous.record.run.url },
      changed: whatChanged(previous.record, record),
    },
  };
}

/** What the record of a run refused for configuration errors is built from: no graph could be built. */
export interface ConfigRefusalInput {
  command: EvidenceCommand;
  site: string;
  environment: string;
  run: EvidenceRun;
  startedAt: number;
  finishedAt: number;
  /** The files read before the errors were found. */
  config: ConfigDigest;
  /** The errors; the record keeps where they are (file:line:column), never their text, which may quote a value. */
  errors: readonly { file: string; line: number; column: number }[];
}

/** The record of a run that configuration errors stopped before anything ran (SPEC §8.1: every run leaves one). */
export function configRefusalRecord(i: ConfigRefusalInput): EvidenceRecord {
  const at = i.errors.slice(0, 20).map((e) => (e.file ? `${e.file}:${e.line}:${e.column}` : 'the arguments'));
  const more = i.errors.length > at.length ? `, and ${i.errors.length - at.length} more` : '';
  const n = i.errors.length;
  return {
    schema_version: 1,
    command: i.command,
    status: 'refused',
    refusal: {
      kind: 'config',
      message: `${n} configuration error${n === 1 ? '' : 's'}${n ? `: ${at.join(', ')}${more}` : ''}`,
    },
    error: null,
    site: i.site,
    environment: i.environment,
    lifecycle: null,
    account: null,
    region: null,
    run: i.run,
    started_at: new Date(i.startedAt).toISOString(),
    finished_at: new Date(i.finishedAt).toISOString(),
    config: i.config,
    modules: [],
    plan_digest: null,
    policy: { decisions: [], exceptions: [] },
    binding: null,
    promotion: null,
    break_glass: null,
    isolation: null,
    previous: null,
  };
}
