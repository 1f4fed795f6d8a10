import { createHash } from 'node:crypto';
import type { BindingReview } from '../binding.js';
import type { RunContext } from '../config/scope.js';
import type { SiteGraph } from '../graph/build.js';
import type { RunReport } from '../plan/markdown.js';
import type { RunResult } from './runner.js';

/** The hidden marker that finds a site × environment's PR comment again. */
export function commentMarker(site: string, env: string): string {
  return `<!-- site-deploy:${site}:${env} -->`;
}

/** One digest over every module's saved plan: what a reviewer approved, bound again at apply time. */
export function planDigest(result: RunResult): string | undefined {
  const parts = result.modules.filter((m) => m.planSha256).map((m) => `${m.name}:${m.planSha256}`);
  if (parts.length === 0) return undefined;
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/**
 * Builds the report the markdown renderer shows, from a run's result. `binding`: a plan run's review
 * (SPEC §8.3), carried in the comment's hidden header; its combined normalized digest is then the
 * plan digest shown.
 */
export function toRunReport(
  graph: SiteGraph,
  result: RunResult,
  ctx: RunContext,
  links: { runUrl?: string; evidenceUrl?: string; binding?: BindingReview } = {},
): RunReport {
  const binding =
    result.command === 'plan' && links.binding && Object.keys(links.binding.modules).length > 0
      ? links.binding
      : undefined;
  return {
    marker: commentMarker(result.site, result.environment),
    site: result.site,
    environment: result.environment,
    account: graph.credentials?.account,
    region: graph.credentials?.region,
    commit: ctx.sha,
    command: result.command,
    status: result.status,
    modules: result.modules.map((m) => ({
      name: m.name,
      type: m.type,
      weight: m.weight,
      status: m.status,
      summary: m.summary,
      counts: m.summary
        ? undefined
        : {
            add: m.add,
            change: m.change,
            destroy: m.destroy,
            import: m.import,
            forget: m.forget,
            replace: m.replace,
          },
      durationMs: m.durationMs,
      mocked: m.mocked,
      blockedOn: m.blockedOn,
      error:
        m.status === 'failed' || m.status === 'halted' || m.status === 'skipped'
          ? m.reason?.split('\n')[0]
          : undefined,
    })),
    policy: [],
    runUrl: links.runUrl,
    evidenceUrl: links.evidenceUrl,
    planDigest: binding?.combined ?? planDigest(result),
    ...(binding ? { binding } : {}),
  };
}
