import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { planRun, renderPlanJson, renderPlanMarkdown, renderPlanText } from '../../engine/index.js';
import type { Plan, ProtectBaseline, ThresholdOverrides } from '../../engine/index.js';
import { describeLocation } from '../../engine/model/source.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime.js';
import type { TargetReader } from '../../engine/ports.js';

export type PlanFormat = 'text' | 'json' | 'markdown';

export interface PlanCommandOptions {
  readonly format: PlanFormat;
  readonly out?: string;
  readonly overrides?: ThresholdOverrides;
  /** `--baseline`/`--baseline-config`: the protect list before this change (P2, cli/baseline.ts). */
  readonly protectBaseline?: ProtectBaseline;
}

/** What planning needs of a runtime: the live tenant or a snapshot behind the same reader port. */
export type PlanRuntime = Pick<Runtime, 'loaded' | 'sources'> & {
  readonly target: { readonly reader: TargetReader };
};

export async function runPlan(
  runtime: PlanRuntime,
  options: PlanCommandOptions,
  output: Output,
): Promise<ExitCode> {
  const plan = await planRun(
    runtime.loaded.spec,
    { sources: runtime.sources, target: runtime.target.reader },
    {
      ...(options.overrides ? { overrides: options.overrides } : {}),
      ...(options.protectBaseline ? { protectBaseline: options.protectBaseline } : {}),
    },
  );
  const render = { text: renderPlanText, json: renderPlanJson, markdown: renderPlanMarkdown }[
    options.format
  ];
  output.out(render(plan));
  if (options.out) {
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, renderPlanJson(plan), { mode: 0o600 });
    output.err(`Saved plan ${plan.fingerprint.slice(0, 12)} to ${options.out}\n`);
  }
  reportFailedSources(plan, output);
  return planExitCode(plan);
}

export function planExitCode(plan: Plan): ExitCode {
  if (plan.sources.some((s) => s.status === 'failed')) return EXIT.error;
  if (plan.blocked.length > 0) return EXIT.blocked;
  return plan.changes.length > 0 ? EXIT.changes : EXIT.ok;
}

/** Failed sources are errors: say so on stderr with the location of the problem. */
export function reportFailedSources(plan: Plan, output: Output): void {
  for (const source of plan.sources.filter((s) => s.status === 'failed')) {
    const problems = plan.issues.filter((i) => i.source === source.name && i.severity === 'error');
    output.err(`error: source "${source.name}" failed; nothing it would cause is applied\n`);
    for (const issue of problems.slice(0, 20)) {
      const where = describeLocation(issue.location);
      output.err(`  ${where ? `${where}: ` : ''}${issue.message}\n`);
    }
  }
}
