/**
 * `apply --format json`: one JSON document on stdout, for scripts and CI. Its shape is a
 * contract (`formatVersion`): counts, each change's outcome, the changes held back by safety
 * checks, and the exit code the process ends with.
 */
import { countOutcomes } from '../../engine/index.js';
import type { OpResult, Plan, RunReport } from '../../engine/index.js';
import type { ExitCode } from '../exit-codes.js';
import type { WritebackResult } from '../../engine/model/writeback.js';

export const APPLY_JSON_FORMAT_VERSION = 1;

export interface ApplyJsonChange {
  readonly id: string;
  readonly kind: string;
  readonly userPrincipalName: string;
  readonly outcome: OpResult['outcome'];
  readonly recovered?: true;
  readonly note?: string;
  readonly error?: { readonly status?: number; readonly code: string; readonly message: string };
}

export interface ApplyJsonResult {
  readonly formatVersion: typeof APPLY_JSON_FORMAT_VERSION;
  readonly plan: string;
  readonly exitCode: ExitCode;
  /** `held`: changes the safety checks blocked (the whole plan is then refused). */
  readonly counts: {
    readonly applied: number;
    readonly failed: number;
    readonly skipped: number;
    readonly notRun: number;
    readonly held: number;
  };
  readonly changes: readonly ApplyJsonChange[];
  readonly held: readonly {
    readonly id: string;
    readonly code: string;
    readonly message: string;
  }[];
  readonly stopped?: string;
  /** Write-backs to the sources (issue 26): each record's outcome; absent when none ran. */
  readonly writebacks?: readonly WritebackResult[];
}

/** `report` is absent when nothing ran (nothing to apply, or the plan was refused). */
export function applyJsonResult(
  plan: Plan,
  report: RunReport | undefined,
  exitCode: ExitCode,
  writebacks?: readonly WritebackResult[],
): ApplyJsonResult {
  const counts = report
    ? countOutcomes(report)
    : { applied: 0, failed: 0, skipped: 0, 'not-run': 0 };
  return {
    formatVersion: APPLY_JSON_FORMAT_VERSION,
    plan: plan.fingerprint,
    exitCode,
    counts: {
      applied: counts.applied,
      failed: counts.failed,
      skipped: counts.skipped,
      notRun: counts['not-run'],
      held: plan.blocked.length,
    },
    changes: (report?.ops ?? []).map(jsonChange),
    held: plan.blocked.map((b) => ({ id: b.change.id, code: b.code, message: b.message })),
    ...(report?.stopped ? { stopped: report.stopped.message } : {}),
    ...(writebacks && writebacks.length > 0 ? { writebacks } : {}),
  };
}

export function renderApplyJson(
  plan: Plan,
  report: RunReport | undefined,
  exitCode: ExitCode,
  writebacks?: readonly WritebackResult[],
): string {
  return `${JSON.stringify(applyJsonResult(plan, report, exitCode, writebacks), null, 2)}\n`;
}

function jsonChange(op: OpResult): ApplyJsonChange {
  return {
    id: op.changeId,
    kind: op.kind,
    userPrincipalName: op.user.userPrincipalName,
    outcome: op.outcome,
    ...(op.recovered ? { recovered: true as const } : {}),
    ...(op.note ? { note: op.note } : {}),
    ...(op.error
      ? {
          error: {
            ...(op.error.status === undefined ? {} : { status: op.error.status }),
            code: op.error.code,
            message: op.error.message,
          },
        }
      : {}),
  };
}
