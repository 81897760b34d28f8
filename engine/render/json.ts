import type { Plan } from '../model/plan.js';
import type { RunReport } from '../model/report.js';
import type { PlanSummary } from './summary.js';
import { summarizePlan } from './summary.js';

/** The plan as its JSON holds it: the Plan data with its `summary` (plan.schema.json). */
export type PlanDocument = Plan & { readonly summary: PlanSummary };

/**
 * The Plan data with its counts: `formatVersion` first, then `fingerprint` and `summary`. A
 * plan read back from a file has its `summary` computed again, never taken from the file.
 */
export function planDocument(plan: Plan): PlanDocument {
  const { formatVersion, fingerprint, ...rest } = plan;
  const data: Record<string, unknown> = rest;
  delete data['summary'];
  return { formatVersion, fingerprint, summary: summarizePlan(plan), ...(data as typeof rest) };
}

/**
 * The machine-readable plan (planDocument). Byte-identical for identical inputs (the plan holds
 * no timestamps and its collections are ordered).
 */
export function renderPlanJson(plan: Plan): string {
  return JSON.stringify(planDocument(plan), null, 2) + '\n';
}

export function renderReportJson(report: RunReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
