/**
 * How the daemon records a run that has ended, in history, metrics, logs, health and alerts.
 *
 * Contracts:
 * - Every run that started is finished in history: with its outcome, as skipped for the apply
 *   lock, or as interrupted by a stop that could not wait for it.
 * - A run skipped for the lock (`apply.locked`, A3) moves neither health nor the back-off.
 * - Health is read before and after a finished run is taken in; alerts go out on the change.
 * - Reasons are redacted before they reach history, health and alerts.
 */
import type { Logger } from '../logging.js';
import type { DaemonOptions, TickResult } from './daemon-types.js';
import { LOCKED } from './daemon-types.js';
import { formatDuration } from './duration.js';
import type { AlertDispatch } from './health-alerts.js';
import type { HealthState } from './health-state.js';
import type { HistoryGuard } from './history-guard.js';
import type { LockHolder } from './ports.js';
import type { Verdict } from './run-verdict.js';

/** A run as its record needs it. */
export interface RunIdentity {
  readonly id: string;
  readonly startedAt: number;
}

/** What the recorder writes into, besides the options' history and metrics. */
export interface RunRecordParts {
  readonly state: HealthState;
  readonly guard: HistoryGuard;
  readonly alerts: AlertDispatch;
}

export interface RunRecorder {
  /** Records a run that ran to its verdict (the reason unredacted); `log` is the run's. */
  finished(run: RunIdentity, log: Logger, verdict: Verdict): TickResult;
  /** Records a run skipped because another applier holds the lock; `reason` is redacted. */
  locked(run: RunIdentity, log: Logger, holder: LockHolder | undefined, reason: string): TickResult;
  /** Records in history that `runId` was cut short by a stop that waited `timeoutMs`. */
  interrupted(runId: string, timeoutMs: number): void;
}

export function createRunRecorder(
  options: Pick<DaemonOptions, 'clock' | 'history' | 'metrics' | 'mode' | 'redactor' | 'telemetry'>,
  parts: RunRecordParts,
): RunRecorder {
  const { clock, history, metrics, mode } = options;
  const { state, guard, alerts } = parts;
  const { telemetry } = options;
  let lastThrottled = telemetry?.throttledResponses() ?? 0;
  let lastRequests = telemetry?.requests?.() ?? 0;
  let lastWrites = telemetry?.writes?.() ?? 0;
  if (telemetry?.writeCeilingPerSecond !== undefined) {
    metrics?.setWriteCeiling(telemetry.writeCeilingPerSecond);
  }

  /**
   * Graph's 429s, requests and writes since the last run, from the target's own counters when
   * connected.
   */
  function countThrottled(): void {
    if (!telemetry) return;
    const total = telemetry.throttledResponses();
    metrics?.addThrottled(total - lastThrottled);
    lastThrottled = total;
    const requests = telemetry.requests?.() ?? 0;
    const writes = telemetry.writes?.() ?? 0;
    metrics?.addGraphTraffic(requests - lastRequests, writes - lastWrites);
    lastRequests = requests;
    lastWrites = writes;
  }

  function locked(
    run: RunIdentity,
    log: Logger,
    holder: LockHolder | undefined,
    reason: string,
  ): TickResult {
    log.warn(holder ? { holder } : {}, `apply lock held: ${reason}; skipping this run`);
    guard.attempt(
      () =>
        history?.finishRun(run.id, {
          finishedAt: clock.now(),
          outcome: 'error',
          errorCode: LOCKED,
          errorMessage: reason,
        }),
      undefined,
    );
    metrics?.observeSkip('locked');
    return { ran: false, skipped: 'locked', detail: reason };
  }

  function finished(run: RunIdentity, log: Logger, verdict: Verdict): TickResult {
    const { outcome, errorCode } = verdict;
    const now = clock.now();
    const before = state.health();
    const reason =
      verdict.reason !== undefined ? options.redactor.redact(verdict.reason) : undefined;
    guard.attempt(
      () =>
        history?.finishRun(run.id, {
          finishedAt: now,
          outcome,
          ...(errorCode ? { errorCode } : {}),
          ...(reason ? { errorMessage: reason } : {}),
        }),
      undefined,
    );
    state.recordRun(log, { outcome, errorCode, reason }, now);
    countThrottled();
    metrics?.observeRun(mode, outcome, (now - run.startedAt) / 1000, now);
    state.publishBackoff();
    const after = state.health();
    metrics?.setHealthy(after.status === 'ok');
    log.info(
      { outcome, durationMs: now - run.startedAt, health: after.status },
      `run finished: ${outcome}`,
    );
    alerts.onHealthChange(before, after, run.id);
    return { ran: true, runId: run.id, outcome };
  }

  return {
    finished,
    locked,
    interrupted(runId, timeoutMs) {
      guard.attempt(
        () =>
          history?.finishRun(runId, {
            finishedAt: clock.now(),
            outcome: 'error',
            errorCode: 'daemon.interrupted',
            errorMessage: `stopped before the run finished (shutdown timeout ${formatDuration(timeoutMs)})`,
          }),
        undefined,
      );
    },
  };
}
