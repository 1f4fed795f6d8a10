import { renderSummaryMarkdown, renderSummaryText } from '../core/report/markdown.js';
import { parsePlanJson, summarizePlan, toSummaryJson, type PlanSummary } from '../core/plan/summary.js';
import { defineCommand } from './descriptor.js';
import type { PlanFileReader } from './ports.js';

/** `summarize PLAN.json`: counts and addresses from `terraform show -json`, never a value. */
export function summarize(file: string, read: PlanFileReader): PlanSummary {
  return summarizePlan(parsePlanJson(read(file), file));
}

export const summarizeCommand = defineCommand({
  name: 'summarize',
  summary: 'summarize a plan file (terraform show -json): counts and addresses, never a value',
  usage: 'site-deploy summarize PLAN.json [--json | --markdown]',
  example: 'terraform show -json tfplan > plan.json && site-deploy summarize plan.json',
  flags: ['json', 'markdown'],
  positional: ['PLAN.json'],
  settings: (o) => ({ file: o.positional[0] ?? '' }),
  run(s, ports) {
    if (!ports.planFile) throw new Error('this front door reads no plan files');
    return summarize(s.file, ports.planFile);
  },
  json: toSummaryJson,
  text: renderSummaryText,
  markdown: renderSummaryMarkdown,
});
