/**
 * Health and back-off: what the daemon knows between runs. It is resumed from history, so a
 * restart does not reset a back-off to zero; each finished run updates it (a failed run backs
 * off for `backoffDelay` of the failures in a row, any other outcome resets the count); health
 * and the back-off metrics read it.
 *
 * Health is `degraded`, with the first reason that applies, while the circuit breaker is open,
 * the last run failed, the last run was blocked by safety checks, failures are still counted,
 * or history could not be written or read. Only a run that does not fail clears a failure's
 * reason: `resetBackoff` (SIGHUP) lets the next tick run but leaves health as it is.
 */
import type { Redactor } from '../../engine/secret.js';
import type { HistoryStore, RunMode, RunOutcome, RunRow } from '../history/history-store.js';
import type { Logger } from '../logging.js';
import type { BackoffPolicy } from './backoff.js';
import { backoffDelay, backoffFromHistory, FAILED_OUTCOMES } from './backoff.js';
import { LOCKED } from './daemon-types.js';
import { formatDuration, isoTime } from './duration.js';
import type { HealthStatus } from './health-server.js';
import type { HistoryGuard } from './history-guard.js';
import type { DaemonMetrics } from './metrics.js';
import type { CircuitBreakerProbe, CircuitState, DaemonClock } from './ports.js';

/** How many recent runs a restart reads to resume the back-off. */
const RESUME_RUNS = 50;

export interface HealthStateOptions {
  readonly mode: RunMode;
  readonly clock: DaemonClock;
  readonly backoff: BackoffPolicy;
  /** Scrubs the reason health shows. */
  readonly redactor: Redactor;
  /** The daemon's own log, not a run's. */
  readonly log: Logger;
  readonly history?: HistoryStore;
  readonly guard: HistoryGuard;
  readonly metrics?: DaemonMetrics;
  readonly circuit?: CircuitBreakerProbe;
  /** Whether a run is going now. */
  readonly running: () => boolean;
}

/** A back-off that holds runs until `nextAttemptAt` (ms since epoch). */
export interface BackoffHold {
  readonly consecutiveFailures: number;
  readonly nextAttemptAt: number;
  readonly reason: string | undefined;
}

/** How a run ended, as the back-off and health see it; `reason` is already redacted. */
export interface FinishedRun {
  readonly outcome: RunOutcome;
  readonly errorCode?: string | undefined;
  readonly reason?: string | undefined;
}

export interface HealthState {
  health(): HealthStatus;
  /** The back-off a run starting at `now` waits for; undefined when none holds it. */
  holding(now: number): BackoffHold | undefined;
  /** Sets the back-off metrics: failures in a row and the wait left. */
  publishBackoff(): void;
  /** Takes in a finished run at `now` and logs what it did to the back-off through `log`. */
  recordRun(log: Logger, run: FinishedRun, now: number): void;
  /** Clears the back-off (an operator fixed the cause); health stays as it is. */
  resetBackoff(reason: string): void;
}

/** The state the health and the back-off are computed from. */
export interface HealthFields {
  readonly consecutiveFailures: number;
  readonly nextAttemptAt: number | undefined;
  readonly failureReason: string | undefined;
  readonly lastOutcome: RunOutcome | undefined;
  readonly lastRunAt: number | undefined;
  readonly lastSuccessAt: number | undefined;
  readonly blockedReason: string | undefined;
}

/**
 * The state implied by recent runs (newest first): the back-off as `backoffFromHistory` has it,
 * the last finished run (a run skipped for the lock is passed over) and the last success.
 * `entrasync apply` runs in the same history (trigger `cli`) are not the daemon's: passed over.
 */
export function resumeHealth(all: readonly RunRow[], policy: BackoffPolicy): HealthFields {
  const recent = all.filter((r) => r.trigger !== 'cli');
  const resumed = backoffFromHistory(recent, policy);
  const finished = recent.find((r) => r.outcome !== null && r.errorCode !== LOCKED);
  const success = recent.find((r) => r.outcome !== null && !FAILED_OUTCOMES.has(r.outcome));
  const lastOutcome = finished?.outcome ?? undefined;
  return {
    consecutiveFailures: resumed.consecutiveFailures,
    nextAttemptAt: resumed.nextAttemptAt,
    failureReason: resumed.lastFailureReason,
    lastOutcome,
    lastRunAt: finished ? (finished.finishedAt ?? finished.startedAt) : undefined,
    lastSuccessAt: success ? (success.finishedAt ?? success.startedAt) : undefined,
    blockedReason: lastOutcome === 'blocked' ? (finished?.errorMessage ?? undefined) : undefined,
  };
}

const FRESH: HealthFields = {
  consecutiveFailures: 0,
  nextAttemptAt: undefined,
  failureReason: undefined,
  lastOutcome: undefined,
  lastRunAt: undefined,
  lastSuccessAt: undefined,
  blockedReason: undefined,
};

/** The state after a run ended at `now` with `run`'s outcome: a failure backs off, any other resets. */
export function afterRun(
  fields: HealthFields,
  run: FinishedRun,
  now: number,
  policy: BackoffPolicy,
): HealthFields {
  const common = {
    lastOutcome: run.outcome,
    lastRunAt: now,
    blockedReason: run.outcome === 'blocked' ? run.reason : undefined,
  };
  if (FAILED_OUTCOMES.has(run.outcome)) {
    const consecutiveFailures = fields.consecutiveFailures + 1;
    return {
      ...fields,
      ...common,
      consecutiveFailures,
      failureReason: run.reason ?? run.outcome,
      nextAttemptAt: now + backoffDelay(consecutiveFailures, policy),
    };
  }
  return {
    ...fields,
    ...common,
    consecutiveFailures: 0,
    nextAttemptAt: undefined,
    failureReason: undefined,
    lastSuccessAt: now,
  };
}

/** Why health is degraded, the first that applies; undefined when it is ok. */
export function degradedReason(
  fields: HealthFields,
  circuit: CircuitState | undefined,
  historyError: string | undefined,
): string | undefined {
  if (circuit?.open) return `circuit breaker open: ${circuit.reason}`;
  if (fields.lastOutcome && FAILED_OUTCOMES.has(fields.lastOutcome)) return fields.failureReason;
  if (fields.lastOutcome === 'blocked') {
    return fields.blockedReason ?? 'changes blocked by safety checks';
  }
  if (fields.consecutiveFailures > 0) return fields.failureReason;
  if (historyError) return `history: ${historyError}`;
  return undefined;
}

export function createHealthState(options: HealthStateOptions): HealthState {
  const { clock, history, log, metrics } = options;
  let state: HealthFields = history
    ? resumeHealth(
        options.guard.attempt(() => history.runs({ limit: RESUME_RUNS }), []),
        options.backoff,
      )
    : FRESH;
  if (state.consecutiveFailures > 0) {
    log.warn(
      {
        consecutiveFailures: state.consecutiveFailures,
        nextAttemptAt: isoTime(state.nextAttemptAt),
        reason: state.failureReason,
      },
      'resuming back-off from history',
    );
  }

  function health(): HealthStatus {
    const reason = degradedReason(state, options.circuit?.state(), options.guard.error);
    const { consecutiveFailures, nextAttemptAt, lastRunAt, lastSuccessAt, lastOutcome } = state;
    return {
      status: reason === undefined ? 'ok' : 'degraded',
      ...(reason !== undefined ? { reason: options.redactor.redact(reason) } : {}),
      mode: options.mode,
      running: options.running(),
      consecutiveFailures,
      ...(lastRunAt !== undefined ? { lastRunAt: isoTime(lastRunAt) } : {}),
      ...(lastSuccessAt !== undefined ? { lastSuccessAt: isoTime(lastSuccessAt) } : {}),
      ...(nextAttemptAt !== undefined && consecutiveFailures > 0
        ? { nextAttemptAt: isoTime(nextAttemptAt) }
        : {}),
      ...(lastOutcome ? { lastOutcome } : {}),
    };
  }

  function publishBackoff(): void {
    const wait =
      state.nextAttemptAt !== undefined && state.consecutiveFailures > 0
        ? Math.max(0, state.nextAttemptAt - clock.now())
        : 0;
    metrics?.setBackoff(state.consecutiveFailures, wait / 1000);
  }

  function recordRun(runLog: Logger, run: FinishedRun, now: number): void {
    const failuresBefore = state.consecutiveFailures;
    state = afterRun(state, run, now, options.backoff);
    if (FAILED_OUTCOMES.has(run.outcome)) {
      runLog.warn(
        {
          outcome: run.outcome,
          errorCode: run.errorCode,
          consecutiveFailures: state.consecutiveFailures,
          backoff: formatDuration(backoffDelay(state.consecutiveFailures, options.backoff)),
          nextAttemptAt: isoTime(state.nextAttemptAt),
        },
        `run failed: ${state.failureReason}`,
      );
    } else if (failuresBefore > 0) {
      runLog.info({ after: failuresBefore }, 'recovered; back-off reset');
    }
  }

  publishBackoff();
  return {
    health,
    holding(now) {
      if (state.nextAttemptAt === undefined || now >= state.nextAttemptAt) return undefined;
      return {
        consecutiveFailures: state.consecutiveFailures,
        nextAttemptAt: state.nextAttemptAt,
        reason: state.failureReason,
      };
    },
    publishBackoff,
    recordRun,
    resetBackoff(reason) {
      if (state.consecutiveFailures === 0 && state.nextAttemptAt === undefined) return;
      log.info({ after: state.consecutiveFailures, reason }, `back-off cleared (${reason})`);
      state = { ...state, consecutiveFailures: 0, nextAttemptAt: undefined };
      publishBackoff();
    },
  };
}
