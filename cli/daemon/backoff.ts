/**
 * Back-off while runs fail: the wait after the n-th consecutive failure is `initial * 2^(n-1)`,
 * capped at `max` (a day by default), so a source that stays down is tried less and less often
 * but never given up on. The first run that succeeds resets it.
 *
 * After a restart the daemon resumes the back-off from its history (the failures at the head of
 * the run list); with no history it starts afresh, which can only make it try sooner, never make
 * a plan do more (history is not an input to planning).
 */
import type { RunOutcome, RunRow } from '../history/history-store.js';

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Outcomes that mean "something is broken": back off and alert. */
export const FAILED_OUTCOMES: ReadonlySet<RunOutcome> = new Set([
  'source-failed',
  'apply-failed',
  'error',
]);

/** Wait after the n-th consecutive failure (n >= 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 40);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
}

export interface BackoffState {
  readonly consecutiveFailures: number;
  /** Runs before this instant are skipped (ms since epoch); absent when not backing off. */
  readonly nextAttemptAt?: number;
  readonly lastFailureReason?: string;
}

/**
 * The back-off state implied by recent runs (newest first). Runs cut short (no outcome) and
 * runs skipped because another process held the lock are passed over.
 */
export function backoffFromHistory(recent: readonly RunRow[], policy: BackoffPolicy): BackoffState {
  let failures = 0;
  let last: RunRow | undefined;
  for (const run of recent) {
    if (run.outcome === null || run.errorCode === 'apply.locked') continue;
    if (!FAILED_OUTCOMES.has(run.outcome)) break;
    failures++;
    last ??= run;
  }
  if (failures === 0 || !last) return { consecutiveFailures: 0 };
  const at = last.finishedAt ?? last.startedAt;
  return {
    consecutiveFailures: failures,
    nextAttemptAt: at + backoffDelay(failures, policy),
    lastFailureReason: last.errorMessage ?? `last run: ${last.outcome ?? 'unknown'}`,
  };
}
