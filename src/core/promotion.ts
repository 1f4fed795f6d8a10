/**
 * Promotion, freezes and break-glass (SPEC §8.4), as pure checks: the release's site-level config
 * digest, whether a freeze window is in force, whether the environment before this one in
 * `promotion:` has a succeeded apply of the same release, and whether an actor may break glass.
 * No I/O: the callers read the deployments (GitHub) or the evidence folder and hand them in.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import canonicalize from 'canonicalize';
import type { Layout } from './config/load.js';
import type { Environment, FreezeWindow, Site } from './config/model.js';
import type { PreviousApplyStatus } from './status.js';

/** A release: the commit and the site-level config digest ({@link siteConfigDigest}). */
export interface Release {
  commit: string;
  /** `sha256:<hex>` from {@link siteConfigDigest}. */
  siteDigest: string;
}

/** How an earlier apply of an environment ended (see status.ts). */
export type { PreviousApplyStatus };

/** One earlier apply of an environment, newest first where lists of them are returned. */
export interface PreviousApply {
  /** The site's environment name (`staging`); `<site>/<env>` is accepted too. */
  environment: string;
  commit: string;
  /** The release's site-level config digest, or null when the apply did not record one. */
  siteDigest: string | null;
  status: PreviousApplyStatus;
  /** When it ended (or last changed state), ISO 8601. */
  at: string;
  /** The run's page, when known. */
  url?: string;
}

/** A freeze window in force. */
export interface FreezeRefusal {
  window: FreezeWindow;
  /** `environment production is frozen until 2026-12-27T00:00:00Z: year-end change freeze …`. */
  message: string;
}

/** Why promotion refuses an apply: the environment that must go first, and a message naming it. */
export interface PromotionRefusal {
  /** The environment before this one in `promotion:`. */
  required: string;
  message: string;
  /** The newest apply of `required` on record, if any. */
  last?: PreviousApply;
}

/** The only checks break-glass may override; policy, approval binding, credentials never. */
export const BREAK_GLASS_OVERRIDES = ['freeze', 'promotion'] as const;

/** A check break-glass may override. */
export type OverridableCheck = (typeof BREAK_GLASS_OVERRIDES)[number];

/** What a granted break-glass records in the evidence and the PR comment. */
export interface BreakGlassRecord {
  actor: string;
  reason: string;
  /** The refusals it overrode (only freezes and promotion checks), with their messages. */
  overrides: { check: OverridableCheck; message: string }[];
}

/** The answer of {@link authorizeBreakGlass}. */
export type BreakGlassDecision =
  { allowed: true; record: BreakGlassRecord } | { allowed: false; message: string };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The release's site-level config digest (SPEC §8.4): `sha256:<hex>` of the canonical JSON
 * (RFC 8785) of the sorted `[path, sha256]` pairs of the files that count:
 *
 * - every file under the site's folder, except its environment files (those it loads, and anything
 *   under `<site>/environments/`) and `credentials.yaml` — they differ per environment by design;
 * - module `config:` files the site reads from outside its folder;
 * - every file under `<catalog>/<type>/` for each type in `catalogTypes` and each type the site's
 *   modules use (in any environment, so the digest is the same in every environment of a release).
 *
 * Anything under a `.terraform/` folder (provider caches, modules downloaded by `init`) or a `.git/`
 * folder never counts. `files` maps root-relative paths to sha256 hex; the caller hashes, this
 * decides which count.
 */
export function siteConfigDigest(
  files: ReadonlyMap<string, string>,
  site: Pick<Site, 'dir' | 'environments' | 'modules'>,
  layout: Pick<Layout, 'catalog'>,
  catalogTypes: Iterable<string>,
): string {
  const norm = (p: string): string => posix.normalize(p).replace(/^\.\//, '').replace(/\/+$/, '');
  const siteDir = `${norm(site.dir)}/`;
  const envFiles = new Set([...site.environments.values()].map((e) => norm(e.file)));
  const outsideConfigs = new Set<string>();
  for (const m of site.modules)
    for (const input of m.inputs.values()) {
      const f = norm(input.origin.file);
      if (!f.startsWith(siteDir)) outsideConfigs.add(f);
    }
  const types = new Set([...catalogTypes, ...site.modules.map((m) => m.type)]);
  const catalogDirs = [...types].map((t) => `${norm(posix.join(layout.catalog, t))}/`);
  const counts = (path: string): boolean => {
    if (path.split('/').some((seg) => seg === '.terraform' || seg === '.git')) return false;
    if (path.startsWith(siteDir)) {
      const rest = path.slice(siteDir.length);
      return !envFiles.has(path) && !rest.startsWith('environments/') && rest !== 'credentials.yaml';
    }
    return outsideConfigs.has(path) || catalogDirs.some((d) => path.startsWith(d));
  };
  const pairs: [string, string][] = [];
  for (const [raw, sha] of files) {
    const path = norm(raw);
    if (!counts(path)) continue;
    const hex = sha.toLowerCase();
    if (!SHA256_HEX.test(hex))
      throw new Error(`siteConfigDigest: the sha256 of ${path} is not 64 hex digits: ${JSON.stringify(sha)}`);
    pairs.push([path, hex]);
  }
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `sha256:${createHash('sha256')
    .update(canonicalize(pairs) ?? '[]')
    .digest('hex')}`;
}

/** An instant as ISO 8601 UTC, without milliseconds when they are zero: `2026-12-27T00:00:00Z`. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * The freeze window in force at `now` (ms since the epoch), or undefined. A window holds from
 * `from` (included) to `to` (excluded). When windows overlap, the one that ends last is named: the
 * environment stays frozen until then.
 */
export function checkFreeze(
  env: Pick<Environment, 'name' | 'freeze'>,
  now: number,
): FreezeRefusal | undefined {
  let window: FreezeWindow | undefined;
  for (const w of env.freeze) if (w.from <= now && now < w.to && (!window || w.to > window.to)) window = w;
  if (!window) return undefined;
  const where = `${window.origin.file}, freeze[${String(window.origin.path.at(-1))}]`;
  return {
    window,
    message:
      `environment ${env.name} is frozen until ${formatInstant(window.to)}: ${window.reason} ` +
      `(window ${formatInstant(window.from)} – ${formatInstant(window.to)} in ${where}); ` +
      'apply after it ends, or break glass with a reason if this cannot wait',
  };
}

const short = (commit: string): string => commit.slice(0, 12);
const shortDigest = (digest: string | null): string =>
  digest === null ? 'none recorded' : digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/i, '$1');
const counted = (s: PreviousApplyStatus): boolean => s === 'succeeded' || s === 'no-op';
const newestFirst = (a: PreviousApply, b: PreviousApply): number => Date.parse(b.at) - Date.parse(a.at);

/**
 * Whether promotion lets `env` be applied with `release`: undefined when `env` is the first of
 * `promotion:`, is not in it, or the site has none — or when the environment before it has a
 * succeeded (or no-op) apply of the same release; otherwise the environment that must go first.
 *
 * The same release means the same commit AND the same site-level config digest. A re-run at a new
 * commit whose site config happens to be identical is still a new release: the commit also carries
 * what the digest leaves out on purpose (the environment files, credentials.yaml, and anything the
 * modules read at run time), so it must pass through the environments in order again. And the same
 * commit with a different site digest (a catalog folder outside the commit's tree changed, or the
 * digest rules changed) is not the release that was tried either.
 */
export function checkPromotion(
  site: Pick<Site, 'name' | 'promotion'>,
  env: string,
  release: Release,
  previousApplies: readonly PreviousApply[],
): PromotionRefusal | undefined {
  const order = site.promotion ?? [];
  const i = order.indexOf(env);
  const required = i > 0 ? order[i - 1] : undefined;
  if (required === undefined) return undefined;
  const commit = release.commit.toLowerCase();
  const inRequired = previousApplies
    .filter((a) => a.environment === required || a.environment === `${site.name}/${required}`)
    .sort(newestFirst);
  const sameCommit = (a: PreviousApply): boolean => a.commit.toLowerCase() === commit;
  const sameRelease = (a: PreviousApply): boolean => sameCommit(a) && a.siteDigest === release.siteDigest;
  if (inRequired.some((a) => sameRelease(a) && counted(a.status))) return undefined;

  const describe = (a: PreviousApply): string =>
    `commit ${short(a.commit)} (${a.status}) at ${a.at}${a.url ? ` — ${a.url}` : ''}`;
  const last = inRequired[0];
  let history: string;
  if (!last) history = `${required} has no apply on record`;
  else {
    history = `${required}'s last apply was ${describe(last)}`;
    const tried = inRequired.find(sameRelease);
    if (tried && tried !== last) history += `; this release's last apply there was ${describe(tried)}`;
    else if (!tried) {
      const otherConfig = inRequired.find(sameCommit);
      if (otherConfig)
        history +=
          `; commit ${short(otherConfig.commit)} was applied there with another site config ` +
          `(${shortDigest(otherConfig.siteDigest)}), which makes it another release`;
    }
  }
  return {
    required,
    last,
    message:
      `${env} needs a succeeded apply of this release (commit ${short(release.commit)}, site config ` +
      `${shortDigest(release.siteDigest)}) in ${required} first (promotion: ${order.join(' → ')}); ${history}. ` +
      `Apply ${site.name} to ${required} at this commit first, or break glass with a reason if this cannot wait`,
  };
}

/**
 * Whether `actor` may break glass on `site` with `reason`. Refused without a reason, when site.yaml
 * has no `break_glass:`, and for an actor not in `break_glass.allowed` (GitHub logins, compared
 * without regard to case as GitHub does). `refusals` are the checks that refused the apply; only a
 * freeze and a promotion check can be overridden — the types admit nothing else — and each one
 * overridden is recorded with its message.
 */
export function authorizeBreakGlass(
  site: Pick<Site, 'name' | 'file' | 'breakGlass'>,
  actor: string,
  reason: string | undefined,
  refusals: { freeze?: FreezeRefusal; promotion?: PromotionRefusal } = {},
): BreakGlassDecision {
  const why = (reason ?? '').trim();
  if (!why)
    return {
      allowed: false,
      message:
        'break-glass needs a reason: give it as break-glass: "<why this cannot wait>" (action input) or ' +
        '--break-glass "<why>" (CLI); it is recorded in the evidence and on the pull request',
    };
  if (!site.breakGlass)
    return {
      allowed: false,
      message:
        `site ${site.name} allows no break-glass: ${site.file} has no break_glass. To allow it, add under site: ` +
        '`break_glass: { allowed: [<github-login>, ...] }` naming the people who may override a freeze or a promotion check',
    };
  const allowed = site.breakGlass.allowed;
  const who = actor.trim();
  if (!who || !allowed.some((login) => login.toLowerCase() === who.toLowerCase()))
    return {
      allowed: false,
      message:
        `${who ? `"${who}"` : 'an unknown actor'} may not break glass on site ${site.name}: ` +
        (allowed.length
          ? `break_glass.allowed in ${site.file} lists ${allowed.join(', ')}; ask one of them, or add the login there`
          : `break_glass.allowed in ${site.file} is empty; add the login there`),
    };
  const overrides: BreakGlassRecord['overrides'] = [];
  if (refusals.freeze) overrides.push({ check: 'freeze', message: refusals.freeze.message });
  if (refusals.promotion) overrides.push({ check: 'promotion', message: refusals.promotion.message });
  return { allowed: true, record: { actor: who, reason: why, overrides } };
}
