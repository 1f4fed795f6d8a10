/**
 * The checks an apply passes before it takes the lock (SPEC §8.4): a freeze window in force, and
 * with `promotion:` a succeeded apply of the same release in the environment before this one —
 * either overridden only by an allowed actor's break-glass with a reason. Each outcome is what
 * the evidence records.
 */
import type { EvidencePromotion, Refusal } from '../core/evidence/record.js';
import type { SiteGraph } from '../core/graph/build.js';
import {
  authorizeBreakGlass,
  checkFreeze,
  checkPromotion,
  type BreakGlassRecord,
  type PreviousApply,
  type PromotionRefusal,
  type Release,
} from '../core/promotion.js';
import type { DeploymentsPort } from './ports.js';

/** What the checks decided. */
export interface GateOutcome {
  /** Set when the apply must not go ahead. */
  refusal?: Refusal;
  promotion: EvidencePromotion | null;
  breakGlass: BreakGlassRecord | null;
}

/** The apply of `required` that satisfied promotion (the newest succeeded one of this release). */
function satisfiedBy(
  applies: PreviousApply[],
  required: string,
  site: string,
  release: Release,
): PreviousApply | undefined {
  return applies
    .filter(
      (a) =>
        (a.environment === required || a.environment === `${site}/${required}`) &&
        a.commit.toLowerCase() === release.commit.toLowerCase() &&
        a.siteDigest === release.siteDigest &&
        (a.status === 'succeeded' || a.status === 'no-op'),
    )
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
}

/** The promotion check and its record; `unreadable` when earlier applies could not be read (fails closed). */
interface PromotionCheck {
  promotion: EvidencePromotion | null;
  refusal?: PromotionRefusal;
  unreadable?: GateOutcome;
}

/** Promotion: a succeeded apply of `release` in the environment before this one in `promotion:`. */
async function promotionCheck(
  graph: SiteGraph,
  release: Release,
  deployments: DeploymentsPort | undefined,
): Promise<PromotionCheck> {
  const { site, environment } = graph;
  const order = site.promotion ?? [];
  const at = order.indexOf(environment.name);
  // The record's keys in the order the evidence has always written them.
  const record = (
    required: string | null,
    rest: Pick<EvidencePromotion, 'result' | 'applied_in_required' | 'message'>,
  ): EvidencePromotion => ({
    order,
    required,
    release: { commit: release.commit, site_digest: release.siteDigest },
    ...rest,
  });
  if (at < 0) return { promotion: null };
  if (at === 0)
    return {
      promotion: record(null, { result: 'not-required', applied_in_required: null, message: null }),
    };
  const required = order[at - 1]!;
  let applies: PreviousApply[];
  try {
    applies = deployments ? await deployments.previousApplies(site.name, required) : [];
  } catch (e) {
    // Not knowing is not passing: the check fails closed, and break-glass cannot override it.
    const message =
      `${environment.name} needs a succeeded apply of this release in ${required} first (promotion: ${order.join(' → ')}), ` +
      `but its applies could not be read: ${e instanceof Error ? e.message : String(e)}`;
    const promotion = record(required, { result: 'refused', applied_in_required: null, message });
    return {
      promotion,
      unreadable: { refusal: { kind: 'promotion', message }, promotion, breakGlass: null },
    };
  }
  const refusal = checkPromotion(site, environment.name, release, applies);
  const by = satisfiedBy(applies, required, site.name, release);
  const promotion = record(required, {
    result: refusal ? 'refused' : 'passed',
    applied_in_required: by ? { commit: by.commit, status: by.status, at: by.at, url: by.url ?? null } : null,
    message: refusal?.message ?? null,
  });
  return { promotion, ...(refusal ? { refusal } : {}) };
}

/**
 * Freeze, promotion and break-glass for an apply of `graph`'s environment with `release`, by
 * `actor`. Earlier applies come from `deployments`; when they cannot be read the apply is refused
 * (promotion fails closed) with the reason. `breakGlass` is the reason given, if any: an actor not
 * in `break_glass.allowed` is refused even when nothing needed overriding.
 */
export async function applyGates(
  graph: SiteGraph,
  release: Release,
  actor: string,
  breakGlass: string | undefined,
  deployments: DeploymentsPort | undefined,
  now = Date.now(),
): Promise<GateOutcome> {
  const freeze = checkFreeze(graph.environment, now);
  const checked = await promotionCheck(graph, release, deployments);
  if (checked.unreadable) return checked.unreadable;
  const { promotion, refusal: promotionRefusal } = checked;
  if (breakGlass === undefined) {
    const refusal: Refusal | undefined = freeze
      ? { kind: 'freeze', message: freeze.message }
      : promotionRefusal
        ? { kind: 'promotion', message: promotionRefusal.message }
        : undefined;
    return { ...(refusal ? { refusal } : {}), promotion, breakGlass: null };
  }
  const decision = authorizeBreakGlass(graph.site, actor, breakGlass, {
    freeze,
    promotion: promotionRefusal,
  });
  if (!decision.allowed) {
    const kind = freeze ? 'freeze' : promotionRefusal ? 'promotion' : 'break-glass';
    const first = freeze?.message ?? promotionRefusal?.message;
    return {
      refusal: {
        kind,
        message: first ? `${first}. Break-glass refused: ${decision.message}` : decision.message,
      },
      promotion,
      breakGlass: null,
    };
  }
  if (promotion && promotionRefusal) promotion.result = 'overridden';
  return { promotion, breakGlass: decision.record };
}
