import type { Plan } from '../model/plan.js';
import type { RunReport } from '../model/report.js';

/**
 * The machine-readable plan: exactly the Plan data, `formatVersion` first. Byte-identical for
 * identical inputs (the plan holds no timestamps and its collections are ordered).
 */
export function renderPlanJson(plan: Plan): string {
  return JSON.stringify(plan, null, 2) + '\n';
}

export function renderReportJson(report: RunReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
