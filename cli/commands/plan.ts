/**
 * `plan`: reads the sources and the tenant and shows what apply would change; never writes.
 *
 * Permission check (X4, X5): against the live tenant, the app's roles are read from its token
 * before planning, and each action the plan's changes need that the roles cannot do becomes a
 * plan warning "missing permission X for action Y (N changes)" (text, markdown and JSON), as do
 * excess privilege and directory roles. In CI the plan usually runs as a read-only identity and
 * apply as another: `--apply-roles <list>` checks the changes against the apply identity's
 * application permissions instead, so a reviewer sees before merge that apply would lack one;
 * excess privilege is still reported for both. Warnings only: the exit code is the plan's.
 */
import type { TokenCredential } from '@azure/identity';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { GraphConnection } from '../../connectors/entra/graph-client.js';
import type { GrantedAccess, PlanAccessWarning } from '../../connectors/entra/permissions.js';
import {
  neededActions,
  planAccessWarnings,
  readGrantedAccess,
} from '../../connectors/entra/permissions.js';
import {
  planRun,
  renderPlanJson,
  renderPlanHtml,
  renderPlanMarkdown,
  renderPlanText,
  tenantReadRequest,
} from '../../engine/index.js';
import type { Plan, ProtectBaseline, ThresholdOverrides } from '../../engine/index.js';
import { describeLocation } from '../../engine/model/source.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import { paintPlanText } from '../colour.js';
import type { Output } from '../output.js';
import { colorsOf } from '../output.js';
import type { Runtime } from '../runtime.js';
import { planIO } from '../runtime.js';
import type { TargetReader } from '../../engine/ports.js';

export type PlanFormat = 'text' | 'json' | 'markdown' | 'html';

export interface PlanCommandOptions {
  readonly format: PlanFormat;
  readonly out?: string;
  readonly overrides?: ThresholdOverrides;
  /** `--baseline`/`--baseline-config`: the protect list before this change (P2, cli/baseline.ts). */
  readonly protectBaseline?: ProtectBaseline;
  /**
   * `--apply-roles`: the apply identity's application permissions; missing permissions are
   * checked against these instead of this identity's token (see the module comment).
   */
  readonly applyRoles?: readonly string[];
  /** `--markdown-budget`: most characters of the Markdown plan (engine default 60,000). */
  readonly markdownBudget?: number;
}

/** What planning needs of a runtime: the live tenant or a snapshot behind the same reader port. */
export type PlanRuntime = Pick<Runtime, 'loaded' | 'sources'> & {
  /** `credential` (with `connection`): the live tenant's, whose token the permission check reads. */
  readonly target: { readonly reader: TargetReader; readonly credential?: TokenCredential };
  readonly connection?: GraphConnection;
};

export async function runPlan(
  runtime: PlanRuntime,
  options: PlanCommandOptions,
  output: Output,
): Promise<ExitCode> {
  // Read before planning: a credential that cannot get a token fails here, not mid-read.
  const granted =
    runtime.target.credential && runtime.connection
      ? await readGrantedAccess(runtime.target.credential, runtime.connection.graphUrl)
      : undefined;
  const planned = await planRun(runtime.loaded.spec, planIO(runtime), {
    ...(options.overrides ? { overrides: options.overrides } : {}),
    ...(options.protectBaseline ? { protectBaseline: options.protectBaseline } : {}),
  });
  const access = accessWarnings(runtime, planned, granted, options.applyRoles);
  // Warnings are not part of the fingerprint: the plan stays the same plan.
  const plan: Plan =
    access.length === 0 ? planned : { ...planned, warnings: [...planned.warnings, ...access] };
  const markdown = options.markdownBudget === undefined ? {} : { budget: options.markdownBudget };
  const render = {
    text: renderPlanText,
    json: renderPlanJson,
    markdown: (p: Plan) => renderPlanMarkdown(p, markdown),
    html: renderPlanHtml,
  }[options.format];
  const rendered = render(plan);
  output.out(options.format === 'text' ? paintPlanText(rendered, colorsOf(output)) : rendered);
  if (options.out) {
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, renderPlanJson(plan), { mode: 0o600 });
    output.err(`Saved plan ${plan.fingerprint.slice(0, 12)} to ${options.out}\n`);
  }
  reportFailedSources(plan, output);
  reportClockRefusal(plan, output);
  return planExitCode(plan);
}

/**
 * The plan's permission warnings: missing permissions of the apply identity (`applyRoles`) or,
 * without it, of this identity (`granted`, from its token); excess privilege of both.
 */
function accessWarnings(
  runtime: PlanRuntime,
  plan: Plan,
  granted: GrantedAccess | undefined,
  applyRoles: readonly string[] | undefined,
): PlanAccessWarning[] {
  const spec = runtime.loaded.spec;
  const needed = neededActions(plan.changes, tenantReadRequest(spec));
  const refuseExcess = runtime.loaded.config.target.excessPrivilege === 'refuse';
  const warnings: PlanAccessWarning[] = [];
  if (granted !== undefined) {
    warnings.push(
      ...planAccessWarnings(granted, 'this identity', needed, {
        checkMissing: applyRoles === undefined,
        refuseExcess,
      }),
    );
  }
  if (applyRoles !== undefined) {
    warnings.push(
      ...planAccessWarnings(
        { roles: applyRoles, directoryRoles: [] },
        'the apply identity',
        needed,
        { refuseExcess },
      ),
    );
  }
  return warnings;
}

export function planExitCode(plan: Plan): ExitCode {
  if (plan.sources.some((s) => s.status === 'failed')) return EXIT.error;
  if (clockRefused(plan)) return EXIT.error;
  if (plan.blocked.length > 0 || (plan.writebacks?.blocked.length ?? 0) > 0) return EXIT.blocked;
  return plan.changes.length > 0 || (plan.writebacks?.changes.length ?? 0) > 0
    ? EXIT.changes
    : EXIT.ok;
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

/**
 * The local clock is skewed past safety.maxClockSkew against Graph's: the plan refused its
 * time-based deprovisioning stages (A7). `plan` and `apply` exit 1 (everything else planned).
 */
export function clockRefused(plan: Plan): boolean {
  return plan.issues.some((i) => i.severity === 'error' && i.code === 'clock.skew');
}

export function reportClockRefusal(plan: Plan, output: Output): void {
  for (const issue of plan.issues.filter(
    (i) => i.severity === 'error' && i.code === 'clock.skew',
  )) {
    output.err(`error: ${issue.message}\n`);
  }
}
