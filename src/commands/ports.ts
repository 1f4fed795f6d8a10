/**
 * What the commands need from the world, as interfaces the front doors fill in: the CLI with a
 * terminal, the action with the runner's log and GitHub. Commands import the core and these
 * ports, never an adapter.
 */
import type { ConfigReader } from '../core/config/load.js';
import type { RunContext } from '../core/config/scope.js';
import type { Workspace } from '../core/config/load.js';
import type { GraphNode, SiteGraph } from '../core/graph/build.js';
import type { Redactor } from '../core/redact.js';
import type { ModuleResult, RunMode, RunPorts } from '../core/run/runner.js';
import type { BrokenLink, EvidenceRecord, EvidenceRun, RecoveredRun } from '../core/evidence/record.js';
import type { PreviousApply } from '../core/promotion.js';
import type { BindingReview } from '../core/binding.js';
import type { BeforeReader, ChangedFile } from '../core/matrix.js';
import type { OutputValue } from '../core/inputs.js';

/** Where grouped log text finally goes: the runner's log groups, or a terminal. */
export interface LogSink {
  startGroup(title: string): void;
  endGroup(): void;
  write(text: string): void;
}

/** Progress and engine output; the front door decides where they go. */
export interface Reporter {
  /** What engines and modules print, one log group per module step. */
  engine: LogSink;
  /** A module step started. */
  started?(node: GraphNode): void;
  /** A module finished (or was halted, skipped, blocked, cancelled). */
  finished?(node: GraphNode, module: ModuleResult): void;
  /** Something worth telling while a command runs (waiting for another run's lock). */
  notice(message: string): void;
}

/** The ports every command gets. */
export interface CommandPorts {
  /** The user's repository, read relative to its root. */
  files(root: string): ConfigReader;
  /** Facts about this run (repository, commit, actor...) for built-in variables. */
  context(root: string): RunContext;
  /** The run's one redaction: every secret met is registered here, every output goes through it. */
  redactor: Redactor;
  reporter: Reporter;
  /** Cancels a running command (Ctrl-C, the runner's cancel). */
  signal?: AbortSignal;
  /** Where plan and apply leave their evidence record; absent: none is written. */
  evidence?: EvidencePort;
  /** Earlier applies for promotion, and the deployment each apply records; absent: no applies known. */
  deployments?: DeploymentsPort;
  /** Where apply finds the plan reviewed for its commit (approval binding); absent: no binding (the CLI). */
  binding?: BindingPort;
  /** Where module steps run, for the commands that use steps or the run lock (loaded when asked). */
  runtime?: () => Promise<Runtime>;
  /** The workflow run's link (in Actions). */
  runUrl?: string;
  /** Reads a plan file named on the command line (summarize). */
  planFile?: PlanFileReader;
  /** Reads the handoff files at a path: the file, or every `*.json` under the folder (report). */
  handoffs?: (path: string) => { file: string; text: string }[];
  /** What changed between a git ref and HEAD (matrix --changed-from). */
  changes?(root: string, ref: string): ChangeSet;
}

/** What a change touched, as git tells it. */
export interface ChangeSet {
  files: ChangedFile[];
  /** A file's text before the change. */
  before: BeforeReader;
}

/** The runtime of a command that needs one; a front door that gives none is a bug. */
export async function runtimeOf(ports: CommandPorts): Promise<Runtime> {
  if (!ports.runtime) throw new Error('this front door has no runtime for module steps');
  return ports.runtime();
}

/** The reviewed plan of a commit: the review and where it was found, or why there is none. */
export type ReviewLookup =
  | { review: BindingReview; pr: number; commentUrl: string; headSha: string }
  | { missing: string; pr?: number };

/** Approval binding's source of reviews (GitHub: the pull request's site-deploy comment). */
export interface BindingPort {
  /** Throws when reviews cannot be read (permissions, outage): apply then halts. */
  reviewed(site: string, env: string, commit: string): Promise<ReviewLookup>;
}

/** Evidence records (SPEC §8.1): the facts of this run, and where records go. */
export interface EvidencePort {
  /** Who, where and which run — GitHub's facts in Actions, the machine's outside. */
  run: EvidenceRun;
  /** Chains a record to the previous one of its site × environment × command and writes it. */
  write(root: string, record: EvidenceRecord): Promise<WrittenRecord>;
  /**
   * Keeps a written record beyond the run's folder (workflow artifact, S3 bucket, attestation).
   * Throws SiteDeployError('evidence') when it could not be kept as asked: the run fails closed.
   */
  store?(written: WrittenRecord, graph: SiteGraph): Promise<void>;
  /** sha256 hex of every file under each folder (relative to the root), by root-relative path. */
  hashTrees(root: string, dirs: string[]): Promise<Map<string, string>>;
}

/** A record as written: where, its exact bytes and digest, and the record (chained). */
export interface WrittenRecord {
  path: string;
  bytes: string;
  digest: string;
  record: EvidenceRecord;
  /**
   * Files under a record's name that are not a valid record (they do not parse, or fail the
   * schema), named in this record's `broken_links`: for the run report. Absent: none.
   */
  broken?: BrokenLink[];
}

/** An apply's deployment: the release it applies, for GitHub Deployments. */
export interface DeploymentStart {
  site: string;
  env: string;
  lifecycle: 'long-lived' | 'ephemeral';
  commit: string;
  siteDigest: string;
  configDigest: string;
  environmentUrl?: string;
}

/** Promotion's source of earlier applies (GitHub Deployments, or the local evidence folder). */
export interface DeploymentsPort {
  /** Earlier applies of `<site>/<env>`, newest first. Throws when they cannot be read. */
  previousApplies(site: string, env: string): Promise<PreviousApply[]>;
  /**
   * Records that an apply starts (GitHub: a deployment, `in_progress`); `finish` sets how it ended.
   * Absent where applies are not recorded this way (outside Actions: the evidence folder is the record).
   */
  start?(d: DeploymentStart): Promise<{ finish(state: 'success' | 'failure' | 'error'): Promise<void> }>;
}

/** One plan or apply about to start. */
export interface RunOpening {
  root: string;
  workspace: Workspace;
  graph: SiteGraph;
  mode: RunMode;
  /** How long to wait for another run of the same site × environment. */
  lockTimeoutMs: number;
  reporter: Reporter;
  redactor: Redactor;
  /** Apply: checks each module's fresh plan right before it is applied; a reason refuses it. */
  beforeApply?: (module: string, plan: unknown) => string | undefined;
  /** Refuse (before the lock and any step) unless every step runs sandboxed. */
  requireIsolation?: boolean;
  /** The `binding-key` secret: a plan's review binds sensitive values by HMAC under it. */
  bindingKey?: string;
  /** The run's id and attempt (the evidence record's), kept with the lock so a run that takes it over can name it. */
  runId?: { id: string; attempt: number };
}

/** How the run's steps are isolated (SPEC §6): `namespace`, or `none` with the reason. */
export interface RunIsolation {
  isolation: 'namespace' | 'none';
  reason?: string;
}

/** A run that holds its lock and has a work folder: steps run through `ports`; `close` releases both. */
export interface OpenRun {
  ports: RunPorts;
  /** How its steps are isolated; absent: a runtime that does not say (recorded as none). */
  isolation?: RunIsolation;
  /** A killed run whose lock this one took over (its work folder removed): named in the record. */
  recovered?: RecoveredRun;
  close(): Promise<void>;
}

/** Where module steps run: engines, sessions, state, locks and work folders. */
export interface Runtime {
  /** Takes the site × environment's run lock (waiting up to its timeout) and prepares the run. */
  open(run: RunOpening): Promise<OpenRun>;
  /**
   * The outputs in a module's state (read with its plan session where the state is in S3), or
   * undefined when it has no state yet.
   */
  stateOutputs(
    root: string,
    graph: SiteGraph,
    node: GraphNode,
  ): Promise<Record<string, OutputValue> | undefined>;
  /** Removes the run lock of a site × environment whoever holds it. */
  forceUnlock(
    root: string,
    graph: SiteGraph,
  ): Promise<{ removed: string[]; holders: (string | undefined)[] }>;
}

/** Reads a plan file for `summarize`: its text, or a bad-input error naming the file. */
export type PlanFileReader = (path: string) => string;
