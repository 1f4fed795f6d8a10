/**
 * The evidence record of a run (SPEC §8.1): who changed what, where, when, under which review — as
 * plain data, serialized as canonical JSON (RFC 8785) whose sha256 is the record's digest. Never a
 * secret, a credential, a token or a sensitive value: output names, never values; resource
 * addresses, never attributes.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { BreakGlassRecord } from '../promotion.js';
import type { EvidenceStatus } from '../status.js';

/** The commands that leave a record. */
export type EvidenceCommand = 'plan' | 'apply' | 'destroy' | 'drift' | 'verify';

/** How the run ended; `refused`: a check stopped it before anything was changed. */
export type { EvidenceStatus };

/** Why a run was refused. */
export interface Refusal {
  /**
   * `break-glass`: break-glass was asked for by an actor not allowed to; `config`: the
   * configuration has errors (the message names where), so nothing could run.
   */
  kind: 'lock' | 'binding' | 'promotion' | 'freeze' | 'break-glass' | 'policy' | 'isolation' | 'config';
  message: string;
}

/** Where and how the run happened (GitHub's facts in Actions, the machine's outside). */
export interface EvidenceRun {
  repository: string;
  pull_request: number | null;
  commit: string;
  ref: string;
  /** Whether the ref is protected (GITHUB_REF_PROTECTED); null outside Actions. */
  ref_protected: boolean | null;
  actor: string;
  triggering_actor: string;
  event: string;
  workflow_ref: string | null;
  /** The run id (a UTC timestamp outside Actions), attempt and link. */
  id: string;
  attempt: number;
  url: string | null;
}

/** Change counts of a module's plan. */
export interface EvidenceCounts {
  add: number;
  change: number;
  destroy: number;
  import: number;
  forget: number;
  replace: number;
}

/** One module of the run. */
export interface EvidenceModule {
  name: string;
  type: string;
  weight: number;
  status: string;
  duration_ms: number;
  /** `sd-<site>-<env>-<module>` when the step had an AWS session. */
  session_name: string | null;
  services: string[];
  plan_sha256: string | null;
  /** The normalized plan digest (SPEC §8.3), `sha256:<hex>`. */
  plan_digest: string | null;
  counts: EvidenceCounts;
  /** Resource addresses per action (create, update, delete, replace, import, forget, read). */
  resources: Record<string, string[]>;
  /** Names of the module's outputs — never their values. */
  outputs: string[];
  error: string | null;
}

/** sha256 of every config file read, and of them all. */
export interface ConfigDigest {
  /** `sha256:<hex>` over the per-file digests. */
  digest: string;
  /** Path (relative to the root) → sha256 hex of its bytes. */
  files: Record<string, string>;
  /**
   * The release's site-level digest (SPEC §8.4): the site's files other than its environment files
   * and credentials.yaml, plus the catalog folders it uses.
   */
  site_digest: string | null;
}

/** One module's check as the evidence records it. */
export interface BindingModuleCheck {
  name: string;
  result: 'matched' | 'differs' | 'stale' | 'missing';
  compare: 'values' | 'shape' | null;
  reviewed_digest: string | null;
  current_digest: string;
  /** Resource addresses (or `output.<name>`) whose change differs or is new. */
  differing: string[];
  message: string | null;
}

/** The binding of an apply as the evidence records it. */
export interface BindingEvidence {
  /**
   * `on`: apply checked each module against the review; `off`: the workflow opted out (input
   * `binding: off`); `review`: a plan run that made the review its PR comment carries.
   */
  mode: 'on' | 'off' | 'review';
  pull_request: number | null;
  comment_url: string | null;
  reviewed_commit: string | null;
  reviewed_at: string | null;
  /** The review's combined digest. */
  combined: string | null;
  max_plan_age_ms: number;
  /** Why no review applies to this commit, when none does. */
  missing: string | null;
  /** Modules with changes, checked right before their apply. */
  modules: BindingModuleCheck[];
}

/** The promotion check of an apply (SPEC §8.4). */
export interface EvidencePromotion {
  /** `promotion:` of site.yaml. */
  order: string[];
  /** The environment that must have applied this release first; null for the first one. */
  required: string | null;
  release: { commit: string; site_digest: string };
  /** `passed`, `refused`, `overridden` by break-glass, or `not-required` (first in the order). */
  result: 'passed' | 'refused' | 'overridden' | 'not-required';
  /** The apply of the required environment that let this one through. */
  applied_in_required: { commit: string; status: string; at: string; url: string | null } | null;
  message: string | null;
}

/** The record this one follows (same site × environment × command), and what changed since. */
export interface PreviousRecord {
  digest: string;
  run: { id: string; attempt: number; url: string | null };
  changed: {
    files: { added: string[]; removed: string[]; changed: string[] };
    /** Modules whose plan digest changed (or appeared or disappeared). */
    modules: string[];
  };
}

/** The whole record, schema_version 1 (schemas/evidence.schema.json). */
export interface EvidenceRecord {
  schema_version: 1;
  command: EvidenceCommand;
  status: EvidenceStatus;
  refusal: Refusal | null;
  /** Why the run broke off, when no module result explains it (the first line only). */
  error: string | null;
  site: string;
  environment: string;
  /** Null when the configuration could not be read (a `config` refusal). */
  lifecycle: 'long-lived' | 'ephemeral' | null;
  account: string | null;
  region: string | null;
  run: EvidenceRun;
  started_at: string;
  finished_at: string;
  config: ConfigDigest;
  modules: EvidenceModule[];
  /** The combined normalized plan digest of the run, `sha256:<hex>`. */
  plan_digest: string | null;
  policy: { decisions: unknown[]; exceptions: unknown[] };
  /** Approval binding: apply's checks against the reviewed plan, or the review a plan run made. */
  binding: BindingEvidence | null;
  /** Null for commands other than apply, and for sites without `promotion:` or not listing this environment. */
  promotion: EvidencePromotion | null;
  /** Set when break-glass was used: who, why, and which refusals it overrode. */
  break_glass: BreakGlassRecord | null;
  /**
   * How the module steps were isolated (SPEC §6): `namespace` (own PID and mount namespace and
   * uid each), `none`; null when no step was started.
   */
  isolation: EvidenceIsolation | null;
  previous: PreviousRecord | null;
  /**
   * Files under a record's name that are not a valid record (they do not parse, or fail the
   * schema), found since the last record that named them: the chain skips them and goes on from
   * the last valid record. Absent when there are none.
   */
  broken_links?: BrokenLink[];
  /** A run killed while it held the lock, whose lock this run took over. Absent when none was. */
  recovered?: RecoveredRun;
}

/** A file under a record's name that is not a record: its file name and why, in plain words. */
export interface BrokenLink {
  name: string;
  reason: string;
}

/** A run whose process was gone while it held the run lock (killed), as the run that took the lock over saw it. */
export interface RecoveredRun {
  /** Its run id and attempt (null when its lock did not say: an older site-deploy) and its link. */
  run: { id: string | null; attempt: number | null; url: string | null };
  command: string;
  host: string;
  pid: number;
  user: string;
  /** When it took the lock (ISO 8601, as its lock said). */
  started_at: string;
  /** The module steps it had started (from its work folder), by module name. */
  steps: string[];
}

/** The isolation words of a record. */
export const ISOLATIONS = ['namespace', 'none'] as const;
export type EvidenceIsolation = (typeof ISOLATIONS)[number];

/** The record's bytes: canonical JSON (RFC 8785), one line, newline-terminated. */
export function serializeRecord(record: EvidenceRecord): string {
  return `${canonicalize(record) ?? 'null'}\n`;
}

/** `sha256:<hex>` of a record's canonical bytes (the trailing newline excluded). */
export function recordDigest(bytes: string): string {
  return `sha256:${createHash('sha256').update(bytes.replace(/\n$/, '')).digest('hex')}`;
}

/** The file name of a record: `<run-id>-<attempt>-<command>.json`. */
export function recordFileName(run: { id: string; attempt: number }, command: EvidenceCommand): string {
  return `${run.id.replace(/[^\w.-]/g, '_')}-${run.attempt}-${command}.json`;
}

/** What changed between the previous record and this one: config files and plan digests. */
export function whatChanged(previous: EvidenceRecord, current: EvidenceRecord): PreviousRecord['changed'] {
  const before = previous.config.files;
  const after = current.config.files;
  const added = Object.keys(after).filter((f) => !(f in before));
  const removed = Object.keys(before).filter((f) => !(f in after));
  const changed = Object.keys(after).filter((f) => f in before && before[f] !== after[f]);
  const digests = (r: EvidenceRecord): Map<string, string | null> =>
    new Map(r.modules.map((m) => [m.name, m.plan_digest]));
  const a = digests(previous);
  const b = digests(current);
  const modules = [...new Set([...a.keys(), ...b.keys()])].filter((m) => a.get(m) !== b.get(m));
  const sort = (xs: string[]): string[] => xs.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return {
    files: { added: sort(added), removed: sort(removed), changed: sort(changed) },
    modules: sort(modules),
  };
}
