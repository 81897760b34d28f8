/**
 * The gate a tick passes before a run starts: one run at a time (a tick while a run is going is
 * skipped: cron overlap, A3), none while the back-off holds (a `manual` trigger passes it, and a
 * changed source clears it), none once the daemon is stopping. Every skip is counted in metrics and logged with its reason.
 */
import type { RunTrigger } from '../history/history-store.js';
import type { Logger } from '../logging.js';
import { newRunId } from '../logging.js';
import type { TickResult } from './daemon-types.js';
import { isoTime } from './duration.js';
import type { HealthState } from './health-state.js';
import type { DaemonMetrics, SkipReason } from './metrics.js';
import type { DaemonClock } from './ports.js';
import type { RunStartInfo } from './run-cycle.js';

export interface RunGateOptions {
  readonly clock: DaemonClock;
  /** The daemon's own log, not a run's. */
  readonly log: Logger;
  readonly metrics?: DaemonMetrics;
  readonly state: Pick<HealthState, 'holding' | 'publishBackoff' | 'resetBackoff'>;
  /**
   * A cheap stamp of the sources' inputs (local files' size and modification time;
   * source-stamp.ts), taken when each run starts. When it differs from the failed run's while
   * the back-off holds, an operator (or the HR export) changed a source: the back-off is
   * cleared and the tick runs. Absent: only SIGHUP clears the back-off.
   */
  readonly inputsStamp?: () => string | undefined;
  /** Runs once; must record its own failures (a rejection is logged as a crash). */
  readonly execute: (run: RunStartInfo) => Promise<TickResult>;
}

export interface RunningRun {
  readonly id: string;
  readonly startedAt: number;
  /** Resolves when the run has ended; never rejects. */
  readonly done: Promise<TickResult>;
}

export interface RunGate {
  /** Starts a run unless the gate skips it; resolves when the run has ended. */
  tick(trigger?: RunTrigger): Promise<TickResult>;
  /** From now on every tick is skipped (`stopping`). */
  close(): void;
  /** The run going now, if any. */
  readonly current: RunningRun | undefined;
}

export function createRunGate(options: RunGateOptions): RunGate {
  const { clock, log, metrics, state } = options;
  let current: RunningRun | undefined;
  let closed = false;
  let lastRunStamp: string | undefined;

  function skip(reason: SkipReason, detail: string, fields: Record<string, unknown>): TickResult {
    metrics?.observeSkip(reason);
    log.info({ skipped: reason, ...fields }, detail);
    return { ran: false, skipped: reason, detail };
  }

  async function tick(trigger: RunTrigger = 'schedule'): Promise<TickResult> {
    if (closed) return skip('stopping', 'shutting down; tick ignored', {});
    if (current) {
      return skip('overlap', `previous run ${current.id} is still going; skipping this tick`, {
        runningRunId: current.id,
        runningSince: isoTime(current.startedAt),
      });
    }
    const now = clock.now();
    const stamp = options.inputsStamp?.();
    let hold = trigger === 'manual' ? undefined : state.holding(now);
    if (hold && stamp !== undefined && lastRunStamp !== undefined && stamp !== lastRunStamp) {
      state.resetBackoff('a source changed since the failed run');
      hold = undefined;
    }
    if (hold) {
      state.publishBackoff();
      const until = isoTime(hold.nextAttemptAt);
      return skip(
        'backoff',
        `backing off after ${hold.consecutiveFailures} failed run(s); next try at ${until}`,
        {
          consecutiveFailures: hold.consecutiveFailures,
          nextAttemptAt: until,
          reason: hold.reason,
        },
      );
    }
    lastRunStamp = stamp;
    const run = { id: newRunId(now), startedAt: now, trigger };
    const done = options
      .execute(run)
      .catch((err: unknown): TickResult => {
        // execute records its own failures; reaching here is a bug, logged rather than thrown
        // into a timer callback.
        log.error({ err }, 'run crashed');
        return { ran: true, runId: run.id, outcome: 'error' };
      })
      .finally(() => {
        current = undefined;
      });
    current = { id: run.id, startedAt: now, done };
    return done;
  }

  return {
    tick,
    close() {
      closed = true;
    },
    get current() {
      return current;
    },
  };
}
