import { parsePlanJson, summarizePlan, type PlanSummary } from '../core/plan/summary.js';
import type { PlanFileReader } from './ports.js';

/** `summarize PLAN.json`: counts and addresses from `terraform show -json`, never a value. */
export function summarize(file: string, read: PlanFileReader): PlanSummary {
  return summarizePlan(parsePlanJson(read(file), file));
}
