import { readFile } from 'node:fs/promises';
import {
  applyRun,
  countOutcomes,
  planRun,
  renderPlanText,
  renderReportText,
  StalePlanError,
} from '../../engine/index.js';
import type { Plan, ThresholdOverrides } from '../../engine/index.js';
import { PLAN_FORMAT_VERSION } from '../../engine/index.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime.js';
import { reportFailedSources } from './plan.js';

/**
 * `apply [plan.json]`: with a saved plan, applies exactly that plan if it still fits the tenant
 * (StalePlanError otherwise); without one, plans now, prints the plan and applies it.
 */
export async function runApply(
  runtime: Runtime,
  planFile: string | undefined,
  output: Output,
  overrides?: ThresholdOverrides,
): Promise<ExitCode> {
  let plan: Plan;
  if (planFile) {
    plan = await readPlanFile(planFile);
  } else {
    plan = await planRun(
      runtime.loaded.spec,
      { sources: runtime.sources, target: runtime.target.reader },
      overrides ? { overrides } : {},
    );
    output.out(renderPlanText(plan));
    reportFailedSources(plan, output);
  }
  if (plan.changes.length === 0 && plan.blocked.length === 0) {
    output.out('Nothing to apply.\n');
    return EXIT.ok;
  }
  output.out(`\nApplying ${plan.changes.length} change(s)...\n`);
  const report = await applyRun(
    plan,
    runtime.loaded.spec,
    { target: runtime.target.reader, writer: runtime.target.writer },
    {},
  );
  output.out(renderReportText(report));
  return countOutcomes(report).failed > 0 ? EXIT.error : EXIT.ok;
}

async function readPlanFile(path: string): Promise<Plan> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new StalePlanError(
      `cannot read plan ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const p = parsed as Partial<Plan> | null;
  if (
    !p ||
    typeof p !== 'object' ||
    p.formatVersion !== PLAN_FORMAT_VERSION ||
    !Array.isArray(p.changes)
  ) {
    throw new StalePlanError(`${path} is not an entrasync plan of format ${PLAN_FORMAT_VERSION}`);
  }
  return p as Plan;
}
