/**
 * Approval binding for one apply (SPEC §8.3): the review of the commit being applied, and the check
 * of each module's fresh plan against it right before it is applied. What was checked, and how it
 * went, is what the evidence records.
 */
import { checkModule, reviewedFor } from '../core/binding.js';
import type { BindingEvidence, BindingModuleCheck } from '../core/evidence/record.js';
import type { BindingPort, ReviewLookup } from './ports.js';

/** An apply's binding: the check each module passes before apply, and the record of them all. */
export interface Binding {
  check(module: string, plan: unknown): string | undefined;
  evidence(): BindingEvidence;
  /** The first refusal, for the record's `refusal`. */
  refusal(): string | undefined;
}

/** `binding: off`: nothing is checked, and the record says so. */
export function bindingOff(maxPlanAgeMs: number): Binding {
  const evidence: BindingEvidence = {
    mode: 'off',
    pull_request: null,
    comment_url: null,
    reviewed_commit: null,
    reviewed_at: null,
    combined: null,
    max_plan_age_ms: maxPlanAgeMs,
    missing: null,
    modules: [],
  };
  return { check: () => undefined, evidence: () => evidence, refusal: () => undefined };
}

/** The review of `commit`, or why there is none: unreadable, or of an older push than the pull request's last. */
async function lookUp(port: BindingPort, site: string, env: string, commit: string): Promise<ReviewLookup> {
  let lookup: ReviewLookup;
  try {
    lookup = await port.reviewed(site, env, commit);
  } catch (e) {
    return { missing: `the reviewed plan could not be read: ${e instanceof Error ? e.message : String(e)}` };
  }
  if ('missing' in lookup || lookup.review.commit === lookup.headSha) return lookup;
  return {
    pr: lookup.pr,
    missing:
      `the plan reviewed on pull request #${lookup.pr} is of commit ${lookup.review.commit.slice(0, 12)}, ` +
      `not of its last commit ${lookup.headSha.slice(0, 12)}: the last push was never planned for review`,
  };
}

/** A review that was found. */
type Found = Exclude<ReviewLookup, { missing: string }>;

/** How one module's check is recorded and told. */
interface CheckContext {
  module: string;
  plan: unknown;
  commit: string;
  maxPlanAgeMs: number;
  now: () => number;
  /** The `binding-key` secret, when one is set. */
  key?: string;
}

/** No review: the module is refused, its current digest recorded. */
function missingCheck(x: CheckContext, missing: string): BindingModuleCheck {
  const message =
    `module ${x.module} was not applied: no reviewed plan for commit ${x.commit.slice(0, 12)} — ` +
    `${missing}. Plan it on its pull request and have that reviewed, ` +
    'or set binding: off (recorded in the evidence)';
  const now = x.now();
  const c = checkModule(undefined, x.plan, now, new Date(now).toISOString(), x.maxPlanAgeMs, x.module, {
    key: x.key,
  });
  return {
    name: x.module,
    result: 'missing',
    compare: null,
    reviewed_digest: null,
    current_digest: c.currentDigest,
    differing: [],
    message,
  };
}

/** The module's fresh plan against its reviewed one. */
function reviewedCheck(x: CheckContext, found: Found): BindingModuleCheck {
  const reviewed = reviewedFor(found.review, x.module);
  const c = checkModule(reviewed, x.plan, x.now(), found.review.created_at, x.maxPlanAgeMs, x.module, {
    key: x.key,
  });
  if (c.ok)
    return {
      name: x.module,
      result: 'matched',
      compare: c.compare,
      reviewed_digest: c.reviewedDigest,
      current_digest: c.currentDigest,
      differing: [],
      message: null,
    };
  return {
    name: x.module,
    result: c.reason,
    compare: reviewed?.compare ?? null,
    reviewed_digest: c.reviewedDigest,
    current_digest: c.currentDigest,
    differing: c.differing,
    message: `module ${x.module} was not applied: ${c.message} (review: pull request #${found.pr}, ${found.commentUrl})`,
  };
}

/**
 * Looks up the review of `commit` and returns the per-module check. A review that cannot be read
 * counts as none (the apply halts at the first module with changes, saying why); a review of an
 * older push than the pull request's last one counts as none too.
 */
export async function bindingFor(
  port: BindingPort,
  site: string,
  env: string,
  commit: string,
  maxPlanAgeMs: number,
  key?: string,
  now: () => number = Date.now,
): Promise<Binding> {
  const lookup = await lookUp(port, site, env, commit);
  const checks: BindingModuleCheck[] = [];
  const found = 'missing' in lookup ? undefined : lookup;
  return {
    check(module, plan) {
      const x = { module, plan, commit, maxPlanAgeMs, now, key };
      const c = 'missing' in lookup ? missingCheck(x, lookup.missing) : reviewedCheck(x, lookup);
      checks.push(c);
      return c.message ?? undefined;
    },
    evidence: () => ({
      mode: 'on',
      pull_request: lookup.pr ?? null,
      comment_url: found?.commentUrl ?? null,
      reviewed_commit: found?.review.commit ?? null,
      reviewed_at: found?.review.created_at ?? null,
      combined: found?.review.combined ?? null,
      max_plan_age_ms: maxPlanAgeMs,
      missing: 'missing' in lookup ? lookup.missing : null,
      modules: [...checks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    }),
    refusal: () => checks.find((c) => c.result !== 'matched')?.message ?? undefined,
  };
}
