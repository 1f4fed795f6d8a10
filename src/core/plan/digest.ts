/**
 * The normalized digest of a plan (SPEC §8.3): what a reviewer approved, independent of run ids,
 * timestamps and the plan file's own bytes. sha256 of the canonical JSON (RFC 8785) of the planned
 * resource changes — address, actions, the after-values with every sensitive value replaced by its
 * hash and every value not known yet written as unknown — plus the output changes.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What stands in for a value not known at plan time. */
export const UNKNOWN = '(known after apply)';

/** sha256 (hex) of a value's canonical JSON. */
export function canonicalSha256(value: unknown): string {
  return createHash('sha256')
    .update(canonicalize(value) ?? 'null')
    .digest('hex');
}

/**
 * An after-value as the digest sees it: sensitive parts hashed, unknown parts `UNKNOWN`.
 * `unknown` and `sensitive` are Terraform's `after_unknown` / `after_sensitive` trees.
 */
export function normalizeValue(value: unknown, unknown: unknown, sensitive: unknown): unknown {
  if (unknown === true) return UNKNOWN;
  if (sensitive === true) return { sensitive_sha256: canonicalSha256(value ?? null) };
  if (Array.isArray(value)) {
    const u = Array.isArray(unknown) ? unknown : [];
    const s = Array.isArray(sensitive) ? sensitive : [];
    const out = value.map((v, i) => normalizeValue(v, u[i], s[i]));
    // A list Terraform knows only partly may be longer than its after-value.
    for (let i = value.length; i < u.length; i++) if (u[i] === true) out.push(UNKNOWN);
    return out;
  }
  if (isObj(value) || isObj(unknown)) {
    const v = isObj(value) ? value : {};
    const u = isObj(unknown) ? unknown : {};
    const s = isObj(sensitive) ? sensitive : {};
    const out: Obj = {};
    for (const k of new Set([...Object.keys(v), ...Object.keys(u)]))
      out[k] = normalizeValue(v[k], u[k], s[k]);
    return out;
  }
  return value ?? null;
}

/** One planned change as the digest sees it. */
export interface NormalizedChange {
  address: string;
  actions: string[];
  after: unknown;
}

/** The normalized content of a plan: changed resources by address, changed outputs by name. */
export interface NormalizedPlan {
  resources: NormalizedChange[];
  outputs: { name: string; actions: string[]; after: unknown }[];
}

/** The changes of a `terraform show -json` plan, normalized (no-op changes left out). */
export function normalizePlan(plan: unknown): NormalizedPlan {
  const p = isObj(plan) ? plan : {};
  const resources: NormalizedChange[] = [];
  for (const rc of Array.isArray(p.resource_changes) ? p.resource_changes : []) {
    if (!isObj(rc) || !isObj(rc.change) || typeof rc.address !== 'string') continue;
    const actions = Array.isArray(rc.change.actions) ? (rc.change.actions as unknown[]).map(String) : [];
    if (actions.length === 1 && actions[0] === 'no-op') continue;
    resources.push({
      address: rc.address,
      actions,
      after: normalizeValue(rc.change.after, rc.change.after_unknown, rc.change.after_sensitive),
    });
  }
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const outputs: NormalizedPlan['outputs'] = [];
  if (isObj(p.output_changes)) {
    for (const [name, c] of Object.entries(p.output_changes)) {
      if (!isObj(c)) continue;
      const actions = Array.isArray(c.actions) ? (c.actions as unknown[]).map(String) : [];
      if (actions.length === 1 && actions[0] === 'no-op') continue;
      outputs.push({ name, actions, after: normalizeValue(c.after, c.after_unknown, c.after_sensitive) });
    }
  }
  outputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { resources, outputs };
}

/** `sha256:<hex>` of a plan's normalized changes. */
export function planDigest(plan: unknown): string {
  return `sha256:${canonicalSha256(normalizePlan(plan))}`;
}

/** `sha256:<hex>` over every module's digest, by module name: what a whole run's review covers. */
export function combinedDigest(modules: { name: string; digest: string }[]): string | undefined {
  if (modules.length === 0) return undefined;
  const byName = Object.fromEntries(modules.map((m) => [m.name, m.digest]));
  return `sha256:${canonicalSha256(byName)}`;
}
