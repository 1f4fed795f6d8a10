/**
 * The result of a command that did not get to its own document: refused, bad input, or broken
 * off by an error (SPEC §9: `--json` prints one JSON document on every outcome). Each command's
 * own document (plan's, validate's, …) is its result when it ran; this one is the result when it
 * did not, in one shape for every command, and the action's `status` and `summary` outputs are
 * set from it. Schema: schemas/result.schema.json.
 */
import { CredentialError } from './credentials/errors.js';
import { SiteDeployError, type Problem } from './errors.js';

/** How a command that did not run to its own result ended. */
export const FAILURE_STATUSES = ['refused', 'invalid', 'error'] as const;
export type FailureStatus = (typeof FAILURE_STATUSES)[number];

/** The result document of a refusal, bad input or an error. */
export interface FailureDocument {
  ok: false;
  command: string | null;
  site: string | null;
  environment: string | null;
  /** `refused`: a check (promotion, freeze, lock, binding, isolation, config) stopped it; `invalid`: bad input; `error`: anything else. */
  status: FailureStatus;
  /** The process's exit code: 2 for bad input, 1 for the rest. */
  exit_code: 1 | 2;
  /** One line: what went wrong. */
  message: string;
  /** Every problem found in the input, at its place (relative to the root). */
  errors: Problem[];
  /** What refused the run, as its evidence record names it. */
  refusal: { kind: string; message: string } | null;
  /** The evidence record the run left, when it left one. */
  evidence: string | null;
  /** An error nobody meant (a bug): the details are in the log with --verbose. */
  internal: boolean;
}

/** What the front door knows of the command besides the error. */
export interface FailureContext {
  command?: string;
  site?: string;
  environment?: string;
  /** The front door's own usage error (an unknown flag, a missing argument): bad input. */
  usage?: boolean;
}

/** One line of anything thrown. */
export function thrownMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Whether the thrown error is one the tool raised on purpose (not a bug). */
function known(e: unknown): e is SiteDeployError | CredentialError {
  return e instanceof SiteDeployError || e instanceof CredentialError;
}

/** The status and exit code of a thrown error. */
function classify(e: unknown, usage: boolean): { status: FailureStatus; exit: 1 | 2 } {
  if (usage) return { status: 'invalid', exit: 2 };
  if (e instanceof SiteDeployError) {
    if (e.code === 'bad-input') return { status: 'invalid', exit: 2 };
    if (e.code === 'refused' || e.code === 'locked') return { status: 'refused', exit: 1 };
    return { status: 'error', exit: 1 };
  }
  // Found locally (a policy STS would refuse): bad input; from STS or the issuer: a failed step.
  if (e instanceof CredentialError && e.kind === 'bad-input') return { status: 'invalid', exit: 2 };
  return { status: 'error', exit: 1 };
}

/** The result document of a command that threw `e`. */
export function failureDocument(e: unknown, c: FailureContext = {}): FailureDocument {
  const { status, exit } = classify(e, c.usage === true);
  const deliberate = e instanceof SiteDeployError ? e : undefined;
  const refusal =
    deliberate?.refusal ??
    (deliberate?.code === 'locked' ? { kind: 'lock', message: deliberate.message } : undefined);
  return {
    ok: false,
    command: c.command ?? null,
    site: c.site || null,
    environment: c.environment || null,
    status,
    exit_code: exit,
    message: thrownMessage(e),
    errors: deliberate?.problems ?? [],
    refusal: refusal ? { kind: refusal.kind, message: refusal.message } : null,
    evidence: deliberate?.evidence?.path ?? null,
    internal: !c.usage && !known(e),
  };
}
