/**
 * The daemon's loop: on each tick, plan (and in apply mode, apply) with the engine's planner
 * and the journaled applier `entrasync apply` uses (cli/apply-runner.ts); record the run in
 * history, metrics and logs; keep the health state; back off while runs fail; alert on changes
 * of health.
 *
 * Contracts:
 * - One run at a time. A tick while a run is going is skipped and logged (cron overlap, A3);
 *   across processes the apply lock decides (`lock`, else that of `applyStore`, the one
 *   `entrasync apply` takes), and a run that finds it held is skipped with the holder's pid
 *   and start time in the log and history.
 * - A failed source, a failed tenant read or apply, an open circuit breaker, or any error makes
 *   the run failed: health turns `degraded` with the reason, an alert goes out, and scheduled
 *   ticks are skipped for a back-off that doubles toward `backoff.max` (S2, G10). The first run
 *   that does not fail resets it and sends a "recovered" alert.
 * - A plan that holds changes applies the rest (issue 20; all or nothing under
 *   `safety.onBlocked: hold-plan`) and degrades health until what it holds is released, without
 *   backing off: re-planning it is cheap and shows when it clears.
 * - A run whose connectors hand back the very inputs of the last run (the same CSV bytes, an
 *   unmoved directory change counter, an empty Graph delta) reuses the last plan instead of
 *   computing it again, until a staged-offboarding date falls due (engine/pipeline/reuse.ts).
 * - Plan mode never receives a writer (Entra Connect's staging mode).
 * - History is written, and read for planning once: the `protect` list the previous run planned
 *   with, so a restart with a config that lifts an account's protection does not change that
 *   account in its first run (P2). A history write that fails is logged and degrades health,
 *   but never stops a run.
 * - `stop` lets the current run finish up to a time limit; a run cut short is recorded as
 *   interrupted, and the apply engine's journal resumes it on the next start.
 */
import { runLogger } from '../logging.js';
import type { RunTrigger } from '../history/history-store.js';
import type { DaemonOptions, TickResult } from './daemon-types.js';
import { formatDuration, isoTime } from './duration.js';
import { createAlertDispatch } from './health-alerts.js';
import type { HealthStatus } from './health-server.js';
import { createHealthState } from './health-state.js';
import { createHistoryGuard } from './history-guard.js';
import { createRunCycle } from './run-cycle.js';
import { createRunGate } from './run-gate.js';
import { createRunRecorder } from './run-record.js';

export type { Applier, DaemonOptions, TickResult } from './daemon-types.js';

export interface Daemon {
  /** Starts the schedule; with `runNow`, also runs once at once. */
  start(options?: { readonly runNow?: boolean }): Promise<TickResult | undefined>;
  /**
   * Runs now unless a run is going (skipped: overlap) or the daemon is backing off (skipped:
   * backoff; a `manual` trigger ignores the back-off). Resolves when the run has ended.
   */
  tick(trigger?: RunTrigger): Promise<TickResult>;
  health(): HealthStatus;
  /**
   * Clears the back-off so the next scheduled tick runs (SIGHUP: an operator fixed the cause).
   * The failure count starts again; health stays degraded until a run succeeds.
   */
  resetBackoff(reason: string): void;
  /** Stops the schedule and waits up to `timeoutMs` for the current run; true if it finished. */
  stop(timeoutMs: number): Promise<boolean>;
  readonly running: boolean;
}

/**
 * The schedule, composed with the daemon's parts: health and back-off (health-state.ts), the
 * gate a tick passes (run-gate.ts), one run (run-cycle.ts), its record (run-record.ts) and
 * alerts (health-alerts.ts).
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const { clock, mode, metrics, scheduler } = options;
  const daemonLog = runLogger(options.logger, 'daemon');
  const guard = createHistoryGuard(daemonLog);
  const state = createHealthState({
    mode,
    clock,
    backoff: options.backoff,
    redactor: options.redactor,
    log: daemonLog,
    ...(options.history ? { history: options.history } : {}),
    guard,
    ...(metrics ? { metrics } : {}),
    ...(options.circuit ? { circuit: options.circuit } : {}),
    // Read only when health is asked for, never while the parts are being built.
    running: () => gate.current !== undefined,
  });
  const alerts = createAlertDispatch(options.alerts, clock, daemonLog);
  const record = createRunRecorder(options, { state, guard, alerts });
  const cycle = createRunCycle(options, { guard, record });
  const gate = createRunGate({
    clock,
    log: daemonLog,
    ...(metrics ? { metrics } : {}),
    state,
    ...(options.inputsStamp ? { inputsStamp: options.inputsStamp } : {}),
    execute: cycle.execute,
  });

  async function stop(timeoutMs: number): Promise<boolean> {
    gate.close();
    scheduler.stop();
    const running = gate.current;
    let finished = true;
    if (running) {
      daemonLog.info(
        { runningRunId: running.id, timeoutMs },
        'stopping: letting the current run finish',
      );
      finished = await settlesWithin(running.done, timeoutMs);
      if (!finished) {
        daemonLog.error(
          { runningRunId: running.id },
          `run ${running.id} did not finish within ${formatDuration(timeoutMs)}; exiting: an apply cut short resumes from its journal on the next run`,
        );
        record.interrupted(running.id, timeoutMs);
      }
    }
    await alerts.settled();
    daemonLog.info({ finished }, 'daemon stopped');
    return finished;
  }

  return {
    async start(startOptions = {}) {
      daemonLog.info(
        { mode, nextRun: isoTime(scheduler.nextRun()) },
        `daemon started in ${mode} mode`,
      );
      scheduler.start(() => void gate.tick('schedule'));
      daemonLog.info({ nextRun: isoTime(scheduler.nextRun()) }, 'schedule started');
      return startOptions.runNow ? gate.tick('start') : undefined;
    },
    tick: (trigger) => gate.tick(trigger),
    health: () => state.health(),
    stop,
    resetBackoff: (reason) => state.resetBackoff(reason),
    get running() {
      return gate.current !== undefined;
    },
  };
}
/** Whether `done` settles within `timeoutMs`; the timer is cleared either way. */
async function settlesWithin(done: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([done, timedOut]);
  clearTimeout(timer);
  return result !== 'timeout';
}
