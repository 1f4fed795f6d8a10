// The one status vocabulary (SPEC §9): every status word a step, a module, a run or an evidence
// record can have, the subsets each of them uses, and how they read in GitHub's words (check-run
// conclusions, deployment states). The words are part of the interface: JSON documents, action
// outputs, evidence records and reports show them as they are.

/** Every status site-deploy reports. */
export const STATUSES = [
  'succeeded',
  'no-op',
  'failed',
  'blocked',
  'cancelled',
  'halted',
  'skipped',
  'pending',
  'refused',
] as const;

/** Any status word, of a step, module, run or evidence record. */
export type Status = (typeof STATUSES)[number];

/** What a step itself reports when it ran. */
export const STEP_OUTCOMES = ['succeeded', 'no-op', 'failed', 'blocked', 'cancelled'] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/** A node's final status: a step outcome, or why it never ran (`pending` only on a scheduler bug). */
export const NODE_STATUSES = [...STEP_OUTCOMES, 'halted', 'skipped', 'pending'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/** A module's status in a run's result: how its step ended, or why it did not run. */
export type ModuleStatus = NodeStatus;

/** How a step's engine run, and a whole run, ended. */
export const RUN_STATUSES = ['succeeded', 'no-op', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof RUN_STATUSES)[number];

/** How a run an evidence record describes ended; `refused` when a gate stopped it before any module ran. */
export const EVIDENCE_STATUSES = [...RUN_STATUSES, 'refused'] as const;
export type EvidenceStatus = (typeof EVIDENCE_STATUSES)[number];

/** Whether `value` is one of `list`'s words: narrows an unknown string to that subset. */
export function isStatusIn<T extends string>(list: readonly T[], value: unknown): value is T {
  return list.some((word) => word === value);
}

/** A check run's final state, as the Checks API takes it. */
export type CheckConclusion = 'success' | 'failure' | 'neutral' | 'cancelled' | 'action_required';

/** A deployment status site-deploy posts when an apply ends. */
export type DeploymentEndState = 'success' | 'failure' | 'error';

/** A deployment status as GitHub reports it. */
export type DeploymentState = DeploymentEndState | 'in_progress' | 'inactive' | 'queued' | 'pending';

/** In GitHub's words: a run's check-run conclusion and its deployment's final state. */
const GITHUB: Record<StepStatus, { conclusion: CheckConclusion; deployment: DeploymentEndState }> = {
  succeeded: { conclusion: 'success', deployment: 'success' },
  'no-op': { conclusion: 'success', deployment: 'success' },
  failed: { conclusion: 'failure', deployment: 'failure' },
  cancelled: { conclusion: 'cancelled', deployment: 'error' },
};

/** The check run's conclusion for a run that ended so: `failure`, `cancelled` or `success`. */
export function checkConclusion(status: StepStatus): CheckConclusion {
  return GITHUB[status].conclusion;
}

/** The final deployment status for an apply that ended so: `failure`, `error` (cancelled) or `success`. */
export function deploymentState(status: StepStatus): DeploymentEndState {
  return GITHUB[status].deployment;
}

/**
 * How an earlier apply of an environment ended. `succeeded` and `no-op` (nothing to change: the
 * environment already matched) count as applied; the rest do not. From GitHub: `success` →
 * `succeeded`, `failure` → `failed`, `error` → `error`, `in_progress` → `in-progress`, `queued` /
 * `pending` / no status yet → `pending`, `inactive` → `succeeded` when it had succeeded before a
 * newer deployment superseded it, else `inactive`. From the evidence folder: the record's status.
 */
export type PreviousApplyStatus = EvidenceStatus | 'error' | 'in-progress' | 'pending' | 'inactive';

/** A deployment's latest state read back as an earlier apply's status (`inactive` taken as is). */
const FROM_DEPLOYMENT: ReadonlyMap<string, PreviousApplyStatus> = new Map<
  DeploymentState,
  PreviousApplyStatus
>([
  ['success', 'succeeded'],
  ['failure', 'failed'],
  ['error', 'error'],
  ['in_progress', 'in-progress'],
  ['inactive', 'inactive'],
  ['queued', 'pending'],
  ['pending', 'pending'],
]);

/**
 * An earlier apply's status from its deployment's statuses, newest first: the latest state in
 * site-deploy's words; an `inactive` one that had succeeded was superseded by a newer deployment,
 * but applied.
 */
export function previousApplyStatus(states: readonly string[]): PreviousApplyStatus {
  const status = (states[0] !== undefined && FROM_DEPLOYMENT.get(states[0])) || 'pending';
  return status === 'inactive' && states.includes('success') ? 'succeeded' : status;
}
