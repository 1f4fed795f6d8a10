import type { GitHub } from './client.js';
import { requestFailure } from './client.js';

/** What the approval read-back found for one run and environment. */
export interface RunApproval {
  approved: boolean;
  detail: string;
}

/**
 * Whether a person approved this workflow run's deployment to a GitHub environment: reads the
 * run's review history (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`) and looks for
 * an `approved` review naming that environment, by someone other than the run's actor.
 */
export async function runApproval(
  gh: GitHub,
  r: { owner: string; repo: string; runId: number; environment: string; actor?: string },
): Promise<RunApproval> {
  let reviews: { state: string; environments: { name?: string }[]; user: { login: string } | null }[];
  try {
    ({ data: reviews } = await gh.rest.actions.getReviewsForRun({
      owner: r.owner,
      repo: r.repo,
      run_id: r.runId,
    }));
  } catch (err) {
    const f = requestFailure(err);
    return {
      approved: false,
      detail: `could not read the approvals of run ${r.runId} (${f.status ?? 'no status'}: ${f.message}); the token needs actions: read`,
    };
  }
  const forEnv = reviews.filter((v) => v.environments.some((e) => e.name === r.environment));
  const rejected = forEnv.find((v) => v.state === 'rejected');
  if (rejected)
    return {
      approved: false,
      detail: `run ${r.runId} was rejected for environment ${r.environment} by ${rejected.user?.login ?? 'a reviewer'}`,
    };
  const approvals = forEnv.filter((v) => v.state === 'approved');
  const byOthers = approvals.filter((v) => v.user?.login !== undefined && v.user.login !== r.actor);
  if (byOthers.length > 0)
    return { approved: true, detail: `approved by ${byOthers.map((v) => v.user?.login).join(', ')}` };
  if (approvals.length > 0)
    return {
      approved: false,
      detail: `run ${r.runId} was approved for environment ${r.environment} only by its own actor ${r.actor}`,
    };
  return {
    approved: false,
    detail: `run ${r.runId} has no approved review for environment ${r.environment}: give the GitHub environment required reviewers`,
  };
}
