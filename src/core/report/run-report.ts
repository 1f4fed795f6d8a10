import { createHash } from 'node:crypto';
import type { Problem } from '../errors.js';
import type { BindingReview } from '../binding.js';
import type { RunContext } from '../config/scope.js';
import type { SiteGraph } from '../graph/build.js';
import type { BindingEvidence, EvidencePromotion } from '../evidence/record.js';
import type { RunResult } from '../run/runner.js';
import type { RunReport } from './markdown.js';

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
  links: {
    runUrl?: string;
    evidenceUrl?: string;
    binding?: BindingReview;
    breakGlass?: RunReport['breakGlass'];
    checks?: string[];
    isolation?: RunReport['isolation'];
  } = {},
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
    ...(links.breakGlass ? { breakGlass: links.breakGlass } : {}),
    ...(links.checks?.length ? { checks: links.checks } : {}),
    ...(links.isolation ? { isolation: links.isolation } : {}),
  };
}

/** The lines an apply's report shows about its approval binding and promotion check. */
export function applyCheckLines(
  promotion: EvidencePromotion | null,
  binding: BindingEvidence | null,
): string[] {
  const lines: string[] = [];
  if (binding?.mode === 'off')
    lines.push(
      'Approval binding: OFF (binding: off) — plans were applied without comparing them with a reviewed plan',
    );
  else if (binding?.mode === 'on') {
    const failed = binding.modules.find((m) => m.result !== 'matched');
    const checked = binding.modules.length;
    if (failed?.message) lines.push(`Approval binding: halted — ${failed.message}`);
    else if (binding.pull_request !== null && binding.reviewed_at)
      lines.push(
        `Approval binding: ${checked} module${checked === 1 ? '' : 's'} with changes matched the plan reviewed on pull request #${binding.pull_request} (planned ${binding.reviewed_at})`,
      );
    else
      lines.push(
        `Approval binding: no reviewed plan (${binding.missing ?? 'none found'}); nothing with changes was applied`,
      );
  }
  if (promotion) {
    const order = promotion.order.join(' → ');
    if (promotion.result === 'not-required')
      lines.push(`Promotion (${order}): first environment, nothing before it`);
    else if (promotion.result === 'passed' && promotion.applied_in_required)
      lines.push(
        `Promotion (${order}): ${promotion.required} applied this release (commit ${promotion.applied_in_required.commit.slice(0, 12)}) at ${promotion.applied_in_required.at}`,
      );
    else if (promotion.result === 'overridden')
      lines.push(`Promotion (${order}): OVERRIDDEN by break-glass — ${promotion.message ?? ''}`);
  }
  return lines;
}

const escapeHtml = (t: string): string => t.replace(/[<>&|`]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The report of a run that stopped before any module: its configuration errors, one line each at
 * file:line:column, or why it was refused.
 */
export function refusalMarkdown(
  site: string,
  env: string,
  command: string,
  problems: Problem[],
  refused: string,
): string {
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length === 0)
    return [
      commentMarker(site, env),
      `### site-deploy ${command}: ${site} / ${env} — ⛔ refused`,
      '',
      escapeHtml(refused),
      '',
    ].join('\n');
  const n = errors.length;
  return [
    commentMarker(site, env),
    `### site-deploy ${command}: ${site} / ${env} — ❌ ${n} configuration error${n === 1 ? '' : 's'}`,
    '',
    ...problems.map((p) => `- \`${p.file}:${p.line}:${p.column}\` ${p.severity}: ${escapeHtml(p.message)}`),
  ].join('\n');
}
