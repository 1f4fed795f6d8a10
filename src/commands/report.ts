/**
 * `report`: publishes the handoffs of plan jobs (SPEC §8.3). The job that runs module code holds
 * no token that can write to GitHub; it writes one handoff per site × environment (the run's report
 * and each module's normalized plan). This command, in a job that runs no module code, computes
 * from each handoff's plans both the summary a reviewer reads and the digests apply binds, and
 * publishes them together: PR comment, check run `site-deploy / <site> / <env>` (the review in its
 * `output.text`, sealed with the binding key when one is given) and job summary.
 */
import { SiteDeployError } from '../core/errors.js';
import { handoffReport, readHandoff, type Handoff } from '../core/report/handoff.js';
import { renderReport, type RunReport } from '../core/report/markdown.js';
import { commentMarker, refusalMarkdown } from '../core/report/run-report.js';
import { checkConclusion } from '../core/status.js';
import { defineCommand, type ActionReport } from './descriptor.js';
import type { CommandPorts } from './ports.js';

/** One handoff, read and rendered. */
export interface ReportedRun {
  file: string;
  handoff: Handoff;
  report?: RunReport;
  /** The comment, check-run summary and job summary: one text, so all three show the same. */
  markdown: string;
}

interface ReportSettings {
  path: string;
  key?: string;
}

/** Reads every handoff under the path and renders it; an unreadable one is bad input (exit 2). */
function reportAll(s: ReportSettings, ports: CommandPorts): ReportedRun[] {
  if (!ports.handoffs) throw new Error('this front door reads no handoff files');
  const files = ports.handoffs(s.path);
  if (files.length === 0)
    throw new SiteDeployError(
      'bad-input',
      `${s.path}: no handoff (*.json) found; the plan jobs write one each (publish: handoff) and upload it as an artifact`,
    );
  return files.map(({ file, text }) => {
    const handoff = readHandoff(text, file);
    if (handoff.refused !== undefined)
      return {
        file,
        handoff,
        markdown: refusalMarkdown(
          handoff.site,
          handoff.environment,
          handoff.command,
          handoff.problems,
          handoff.refused,
        ),
      };
    const { report } = handoffReport(handoff);
    const markdown = renderReport(report, s.key ? { bindingKey: s.key } : {});
    return { file, handoff, report, markdown };
  });
}

/** What a workflow step publishes for one handoff: its own comment, check run and summary. */
function published(r: ReportedRun): ActionReport {
  const h = r.handoff;
  const failed = h.refused !== undefined;
  return {
    target: {
      site: h.site,
      environment: h.environment,
      ...(h.review_commit ? { commit: h.review_commit } : {}),
    },
    summary: r.markdown,
    comment: { marker: commentMarker(h.site, h.environment), markdown: r.markdown },
    check: {
      conclusion: failed ? 'failure' : checkConclusion(h.status),
      title: failed ? `${h.command} did not start` : `${h.command} ${h.status}: ${h.modules.length} modules`,
      markdown: r.markdown,
      notes: h.problems,
    },
    outputs: [],
  };
}

export const reportCommand = defineCommand({
  name: 'report',
  summary: "publish plan jobs' handoffs: the comment, check run and summary computed from each one's plans",
  usage: 'site-deploy report HANDOFF [--json | --markdown]',
  example: 'site-deploy report site-deploy-handoff/ --markdown',
  flags: ['json', 'markdown'],
  positional: ['HANDOFF'],
  inputs: ['handoff', 'binding-key'],
  settings: (o): ReportSettings => ({
    path: o.positional[0] ?? o.handoff ?? 'site-deploy-handoff',
    ...(o.binding?.key ? { key: o.binding.key } : {}),
  }),
  run: reportAll,
  json: (runs) => ({
    reports: runs.map((r) => ({
      file: r.file,
      site: r.handoff.site,
      environment: r.handoff.environment,
      command: r.handoff.command,
      status: r.handoff.refused !== undefined ? 'refused' : r.handoff.status,
      plan_digest: r.report?.planDigest ?? null,
    })),
  }),
  text: (runs) =>
    runs
      .map((r) => {
        const h = r.handoff;
        const what = h.refused !== undefined ? 'refused' : h.status;
        const digest = r.report?.planDigest ? ` — plan digest ${r.report.planDigest}` : '';
        return `${h.site} / ${h.environment}: ${h.command} ${what}, ${h.modules.length} modules${digest} (${r.file})\n`;
      })
      .join(''),
  markdown: (runs) => runs.map((r) => `${r.markdown}\n`).join('\n'),
  action: (runs) => runs.map(published),
});
