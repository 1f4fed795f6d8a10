/**
 * GitHub Deployments for apply (SPEC §8.4): every apply creates a deployment of the commit to the
 * environment `<site>/<env>`, with the release's digests in its payload, and statuses
 * `in_progress` → `success` / `failure` / `error`; promotion reads them back to find the earlier
 * applies of an environment.
 *
 * Unlike the PR comment and the check run, nothing here degrades quietly: promotion must fail
 * closed, so a token that may not read or write deployments is a {@link DeploymentsPermissionError}
 * naming the permission, and any other failure a {@link DeploymentsError}. The caller decides.
 */
import type { DeploymentsPort } from '../../commands/ports.js';
import type { PreviousApply } from '../../core/promotion.js';
import { previousApplyStatus, type DeploymentEndState } from '../../core/status.js';
import {
  describeFailure,
  isPermissionFailure,
  requestFailure,
  writtenByOwnToken,
  type GitHub,
  type RequestFailure,
} from './client.js';

/** What a site-deploy deployment carries in its payload. */
export interface DeploymentPayload {
  /** The commit applied (the deployment's `ref`). */
  commit: string;
  /** The release's site-level config digest, `sha256:<hex>`. */
  site_digest: string;
  /** The combined config digest of the run (every file read), `sha256:<hex>`. */
  config_digest: string;
  /** The workflow run's page. */
  run_url: string | null;
}

/** The permission a deployments call needs. */
export type DeploymentsPermission = 'deployments: read' | 'deployments: write';

/** A deployments call failed (an outage, a rate limit, a refused request): promotion cannot be checked. */
export class DeploymentsError extends Error {
  /** Status, GitHub's message and the request. */
  readonly failure: RequestFailure;

  constructor(message: string, failure: RequestFailure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeploymentsError';
    this.failure = failure;
  }
}

/** The token may not read or write deployments here (403/404): `permission` names what to grant. */
export class DeploymentsPermissionError extends DeploymentsError {
  readonly permission: DeploymentsPermission;

  constructor(
    message: string,
    failure: RequestFailure,
    permission: DeploymentsPermission,
    options?: { cause?: unknown },
  ) {
    super(message, failure, options);
    this.name = 'DeploymentsPermissionError';
    this.permission = permission;
  }
}

/** GitHub caps a deployment status's description at this many characters. */
export const DESCRIPTION_MAX_CHARS = 140;
/** How many of an environment's deployments {@link previousApplies} reads by default. */
export const PREVIOUS_APPLIES_LIMIT = 30;
/** Status requests {@link previousApplies} keeps in flight at once. */
const STATUS_CONCURRENCY = 6;

/** Whether an environment is production: its own name (after `<site>/`) is `production` or `prod`. */
export function isProductionEnvironment(environment: string): boolean {
  return /^(production|prod)$/i.test(envName(environment));
}

/**
 * Creates the deployment of `ref` (a commit sha) to `environment` (`<site>/<env>`) and posts its
 * `in_progress` status with `log_url` = the run. No required contexts (the gate already ran) and no
 * auto-merge (the commit applied is the commit reviewed); `transient_environment` for an
 * ephemeral lifecycle, `production_environment` for an environment named production or prod.
 */
export async function startDeployment(
  gh: GitHub,
  d: {
    owner: string;
    repo: string;
    ref: string;
    environment: string;
    lifecycle?: 'long-lived' | 'ephemeral';
    payload: DeploymentPayload;
    description?: string;
  },
): Promise<{ id: number }> {
  const where = `${d.environment} in ${d.owner}/${d.repo}`;
  const description = fit(d.description ?? `site-deploy apply of ${d.ref.slice(0, 12)} to ${d.environment}`);
  let id: number;
  try {
    const { data } = await gh.rest.repos.createDeployment({
      owner: d.owner,
      repo: d.repo,
      ref: d.ref,
      task: 'deploy',
      environment: d.environment,
      payload: { ...d.payload },
      description,
      required_contexts: [],
      auto_merge: false,
      transient_environment: d.lifecycle === 'ephemeral',
      production_environment: isProductionEnvironment(d.environment),
    });
    if (!('id' in data) || typeof data.id !== 'number') {
      const message: unknown = Reflect.get(data, 'message');
      throw new DeploymentsError(
        `could not create a deployment of ${d.ref.slice(0, 12)} to ${where}: GitHub answered without one (${String(message ?? 'no message')})`,
        { message: String(message ?? 'no deployment'), rateLimited: false },
      );
    }
    id = data.id;
  } catch (err) {
    throw failure(err, `create a deployment of ${d.ref.slice(0, 12)} to ${where}`, 'deployments: write');
  }
  try {
    await gh.rest.repos.createDeploymentStatus({
      owner: d.owner,
      repo: d.repo,
      deployment_id: id,
      state: 'in_progress',
      ...(d.payload.run_url ? { log_url: d.payload.run_url } : {}),
      description,
    });
  } catch (err) {
    throw failure(err, `mark deployment ${id} of ${where} in progress`, 'deployments: write');
  }
  return { id };
}

/**
 * Posts a deployment's final status: `success`, `failure` or `error`, with `log_url` = the run and
 * `environment_url` from the environment's `url` variable when it has one. GitHub marks the
 * environment's older successful deployments inactive (except in production); promotion still
 * reads those as succeeded.
 */
export async function finishDeployment(
  gh: GitHub,
  d: {
    owner: string;
    repo: string;
    id: number;
    state: DeploymentEndState;
    logUrl: string | null;
    environmentUrl?: string;
    description?: string;
  },
): Promise<void> {
  try {
    await gh.rest.repos.createDeploymentStatus({
      owner: d.owner,
      repo: d.repo,
      deployment_id: d.id,
      state: d.state,
      ...(d.logUrl ? { log_url: d.logUrl } : {}),
      ...(d.environmentUrl ? { environment_url: d.environmentUrl } : {}),
      ...(d.description ? { description: fit(d.description) } : {}),
    });
  } catch (err) {
    throw failure(err, `set deployment ${d.id} in ${d.owner}/${d.repo} to ${d.state}`, 'deployments: write');
  }
}

/**
 * The deployments of `environment` (`<site>/<env>`), newest first, at most `limit` (default 30),
 * each with its latest status and the digests of its payload — the earlier applies promotion
 * checks — only deployments, and statuses, created by the workflow's own token (`ownLogin`).
 * Pages are followed until `limit` is reached or GitHub has no more. Throws rather than
 * return a partial or empty list: an apply missing from the answer could only be one that counts.
 */
export async function previousApplies(
  gh: GitHub,
  q: {
    owner: string;
    repo: string;
    environment: string;
    limit?: number;
    /** The login the workflow's token writes as (default `github-actions[bot]`). */
    ownLogin?: string;
  },
): Promise<PreviousApply[]> {
  const limit = Math.max(1, Math.trunc(q.limit ?? PREVIOUS_APPLIES_LIMIT));
  const where = `${q.environment} in ${q.owner}/${q.repo}`;
  const deployments: Deployment[] = [];
  try {
    const pages = gh.paginate.iterator(gh.rest.repos.listDeployments, {
      owner: q.owner,
      repo: q.repo,
      environment: q.environment,
      per_page: Math.min(limit, 100),
    });
    for await (const page of pages) {
      deployments.push(...page.data);
      if (deployments.length >= limit) break;
    }
  } catch (err) {
    throw failure(err, `list the deployments of ${where}`, 'deployments: read');
  }
  // Only what site-deploy's own token created counts: anyone with `deployments: write` can create
  // a deployment, or a status on one, that looks like an apply.
  const newest = deployments
    .filter((d) => writtenByOwnToken(d.creator, q.ownLogin))
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id)
    .slice(0, limit);

  const results: (PreviousApply | undefined)[] = new Array<PreviousApply | undefined>(newest.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < newest.length) {
      const i = next++;
      const d = newest[i];
      if (d) results[i] = await readApply(gh, q, d, where);
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATUS_CONCURRENCY, newest.length) }, worker));
  return results.filter((r): r is PreviousApply => r !== undefined);
}

type Deployment = Awaited<ReturnType<GitHub['rest']['repos']['listDeployments']>>['data'][number];
type DeploymentStatus = Awaited<
  ReturnType<GitHub['rest']['repos']['listDeploymentStatuses']>
>['data'][number];

/** One deployment as an earlier apply; undefined when it vanished between listing and reading. */
async function readApply(
  gh: GitHub,
  q: { owner: string; repo: string; environment: string; ownLogin?: string },
  d: Deployment,
  where: string,
): Promise<PreviousApply | undefined> {
  let statuses: DeploymentStatus[];
  try {
    // Newest first; a site-deploy deployment has two or three, so one page holds them all.
    ({ data: statuses } = await gh.rest.repos.listDeploymentStatuses({
      owner: q.owner,
      repo: q.repo,
      deployment_id: d.id,
      per_page: 100,
    }));
  } catch (err) {
    // Listing worked with this token, so a 404 now means the deployment was deleted meanwhile:
    // leaving it out can only make promotion stricter.
    if (requestFailure(err).status === 404) return undefined;
    throw failure(err, `read the statuses of deployment ${d.id} of ${where}`, 'deployments: read');
  }
  const sorted = statuses
    .filter((st) => writtenByOwnToken(st.creator, q.ownLogin))
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
  const latest = sorted[0];
  const payload = payloadOf(d.payload);
  const url = latest?.log_url || latest?.target_url || undefined;
  return {
    environment: envName(d.environment),
    commit: typeof payload.commit === 'string' && payload.commit ? payload.commit : d.sha,
    siteDigest: typeof payload.site_digest === 'string' ? payload.site_digest : null,
    status: previousApplyStatus(sorted.map((s) => s.state)),
    at: latest?.created_at ?? d.created_at,
    ...(url
      ? { url }
      : typeof payload.run_url === 'string' && payload.run_url
        ? { url: payload.run_url }
        : {}),
  };
}

function payloadOf(payload: unknown): Record<string, unknown> {
  let value = payload;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      value = parsed;
    } catch {
      return {};
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value));
}

/** `staging` of `client-portal/staging`. */
function envName(environment: string): string {
  const slash = environment.indexOf('/');
  return slash < 0 ? environment : environment.slice(slash + 1);
}

function fit(text: string): string {
  return text.length <= DESCRIPTION_MAX_CHARS ? text : `${text.slice(0, DESCRIPTION_MAX_CHARS - 1)}…`;
}

function failure(err: unknown, doing: string, permission: DeploymentsPermission): DeploymentsError {
  if (err instanceof DeploymentsError) return err;
  const f = requestFailure(err);
  const detail = describeFailure(f);
  if (isPermissionFailure(f)) {
    const grant =
      permission === 'deployments: write'
        ? "`deployments: write` (add it under the job's `permissions:`)"
        : "`deployments: read` (`deployments: write` includes it; add it under the job's `permissions:`)";
    const hint =
      f.status === 404
        ? `the token cannot see the repository or its deployments — it needs ${grant}`
        : `the token needs ${grant}`;
    const closed =
      permission === 'deployments: read'
        ? '; promotion cannot be checked without it, so the apply is refused'
        : '';
    return new DeploymentsPermissionError(`could not ${doing}: ${detail} — ${hint}${closed}`, f, permission, {
      cause: err,
    });
  }
  return new DeploymentsError(`could not ${doing}: ${detail}`, f, { cause: err });
}

/**
 * The action's promotion source and deployment record: earlier applies of `<site>/<env>` from
 * GitHub Deployments, and a deployment of the commit for every apply. Without a repository to
 * name (no GITHUB_REPOSITORY) every call throws, so promotion fails closed.
 */
export function githubDeployments(
  gh: GitHub,
  repository: string,
  runUrl: string | null,
  ownLogin?: string,
): DeploymentsPort {
  const [owner = '', repo = ''] = repository.split('/');
  const where = (): { owner: string; repo: string } => {
    if (!owner || !repo)
      throw new Error(`no repository to read deployments of (GITHUB_REPOSITORY is "${repository}")`);
    return { owner, repo };
  };
  return {
    previousApplies: (site, env) =>
      previousApplies(gh, { ...where(), environment: `${site}/${env}`, ownLogin }),
    async start(d) {
      const environment = `${d.site}/${d.env}`;
      const { id } = await startDeployment(gh, {
        ...where(),
        ref: d.commit,
        environment,
        lifecycle: d.lifecycle,
        payload: {
          commit: d.commit,
          site_digest: d.siteDigest,
          config_digest: d.configDigest,
          run_url: runUrl,
        },
      });
      return {
        finish: (state) =>
          finishDeployment(gh, {
            ...where(),
            id,
            state,
            logUrl: runUrl,
            ...(d.environmentUrl ? { environmentUrl: d.environmentUrl } : {}),
          }),
      };
    },
  };
}
