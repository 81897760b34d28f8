/**
 * What a run's plan and its apply report mean for the run's outcome (pure). A plan with a failed
 * source or no changes, or any plan in plan mode, ends the run unapplied, as does one that holds
 * changes and nothing else (or anything, under `safety.onBlocked: hold-plan`); an
 * apply report is judged by how the apply stopped and the share of attempted changes that
 * failed (`failureRatio`).
 */
import {
  countOutcomes,
  EntrasyncError,
  hasFailedSource,
  releaseLine,
  SafetyBlockedError,
} from '../../engine/index.js';
import type { Plan, RunReport } from '../../engine/index.js';
import type { RunMode, RunOutcome } from '../history/history-store.js';
import type { CircuitBreakerProbe, LockHolder } from './ports.js';

export interface Verdict {
  readonly outcome: RunOutcome;
  readonly reason?: string;
  readonly errorCode?: string;
}

/** The outcome of a run that stops at its plan; undefined when the plan is to be applied. */
export function judgePlan(plan: Plan, mode: RunMode): Verdict | undefined {
  if (hasFailedSource(plan)) {
    return {
      outcome: 'source-failed',
      errorCode: 'source.failed',
      reason: describeFailedSources(plan),
    };
  }
  // What is held never stops the rest (issue 20), unless the config says all or nothing.
  // Write-backs to the sources (issue 26) are applied too, after the Graph changes.
  const writes = plan.changes.length + (plan.writebacks?.changes.length ?? 0);
  if (
    plan.blocked.length > 0 &&
    (plan.onBlocked === 'hold-plan' || writes === 0 || mode === 'plan')
  ) {
    return heldVerdict(plan);
  }
  if (writes === 0) return { outcome: 'no-changes' };
  if (mode === 'plan') return { outcome: 'planned' };
  return undefined;
}

/**
 * A run whose plan holds changes: `blocked`, with a reason that stays the same while the held
 * set does (no plan fingerprint, no applied count), so health alerts once per new held set.
 */
export function heldVerdict(plan: Plan): Verdict {
  const rest =
    plan.onBlocked === 'hold-plan'
      ? 'nothing applied (safety.onBlocked: hold-plan)'
      : 'everything else applies';
  return {
    outcome: 'blocked',
    reason: `${plan.blocked.length} change(s) held, ${rest}. ${releaseLine(plan) ?? ''} Review with \`entrasync plan\`.`,
  };
}

/**
 * The outcome of an apply of `plan`: judged by its report, and `blocked` (heldVerdict) when the
 * rest applied but the plan holds changes: what it holds still degrades health until released.
 */
export function judgeApply(
  plan: Plan,
  report: RunReport,
  options: { readonly failureRatio: number; readonly circuit?: CircuitBreakerProbe | undefined },
): Verdict {
  const verdict = judgeReport(report, options);
  return verdict.outcome === 'applied' && plan.blocked.length > 0 ? heldVerdict(plan) : verdict;
}

export function judgeReport(
  report: RunReport,
  options: { readonly failureRatio: number; readonly circuit?: CircuitBreakerProbe | undefined },
): Verdict {
  const counts = countOutcomes(report);
  // Set by the apply engine when it stopped before attempting every change (circuit breaker,
  // time budget, abort); read structurally so this works with and without that field.
  const stopped = (report as { stopped?: { code: string; message: string } }).stopped;
  if (stopped?.code === 'time-budget') {
    // Not a failure: the run used its time (long Retry-After waits, G2); the next run resumes.
    return {
      outcome: 'partial',
      reason: `apply stopped at its time budget: ${stopped.message} (${counts.applied} applied, ${counts['not-run']} left for the next run)`,
    };
  }
  if (stopped) {
    return {
      outcome: 'apply-failed',
      errorCode: `apply.${stopped.code}`,
      reason: `apply stopped (${stopped.code}): ${stopped.message} (${counts.applied} applied, ${counts.failed} failed, ${counts['not-run']} not run)`,
    };
  }
  const circuit = options.circuit?.state();
  if (circuit?.open) {
    return {
      outcome: 'apply-failed',
      errorCode: 'apply.circuit-open',
      reason: `circuit breaker open: ${circuit.reason} (${counts.applied} applied, ${counts.failed} failed, ${counts['not-run']} not run)`,
    };
  }
  const attempted = counts.applied + counts.failed;
  const firstError = report.ops.find((op) => op.error)?.error;
  const errorText = firstError
    ? `; first error: ${firstError.status ?? ''} ${firstError.code}: ${firstError.message}`.replace(
        /: {2}/,
        ': ',
      )
    : '';
  if (
    counts['not-run'] > 0 ||
    (attempted > 0 && counts.failed / attempted > options.failureRatio)
  ) {
    return {
      outcome: 'apply-failed',
      errorCode: 'apply.failed',
      reason: `apply failed: ${counts.failed} of ${attempted} attempted change(s) failed, ${counts['not-run']} not run${errorText}`,
    };
  }
  if (counts.failed > 0) {
    return {
      outcome: 'partial',
      reason: `${counts.failed} of ${attempted} change(s) failed${errorText}`,
    };
  }
  return { outcome: 'applied' };
}

/** A run that threw: `error` with the error's code, or `blocked` for a safety refusal. */
export function errorVerdict(
  err: unknown,
): Verdict & { readonly errorCode: string; readonly reason: string } {
  const errorCode =
    err instanceof EntrasyncError ? err.code : ((err as { code?: string }).code ?? 'internal');
  return {
    outcome: err instanceof SafetyBlockedError ? 'blocked' : 'error',
    errorCode,
    reason: err instanceof Error ? err.message : String(err),
  };
}

export function describeFailedSources(plan: Plan): string {
  const failed = plan.sources.filter((s) => s.status === 'failed');
  return failed
    .map((s) => {
      const issue = plan.issues.find((i) => i.source === s.name && i.severity === 'error');
      return `source ${s.name} (${s.kind}) failed${issue ? `: ${issue.message}` : ''}`;
    })
    .join('; ');
}

/** `held by <owner> pid 4242 on <host> since <ISO time> run <id> ...`, for logs and history. */
export function describeHolder(holder: LockHolder): string {
  const since =
    typeof holder.startedAt === 'number'
      ? new Date(holder.startedAt).toISOString()
      : holder.startedAt;
  const parts = [
    ...(holder.owner ? [holder.owner] : []),
    `pid ${holder.pid}`,
    ...(holder.host ? [`on ${holder.host}`] : []),
    `since ${since}`,
    ...(holder.runId ? [`run ${holder.runId}`] : []),
    ...(holder.lockId ? [`lock ${holder.lockId}`] : []),
    ...(holder.leaseUntil ? [`lease until ${holder.leaseUntil}`] : []),
  ];
  return `held by ${parts.join(' ')}`;
}
