/**
 * When the daemon alerts: on becoming degraded, on a new reason while degraded, and on recovering
 * (`healthAlert`). Sending never fails or delays a run: a failed send is logged, and `stop` waits
 * only for the sends still under way (`settled`).
 */
import type { Logger } from '../logging.js';
import type { Alert, AlertSink } from './alerts.js';
import type { HealthStatus } from './health-server.js';
import type { DaemonClock } from './ports.js';

/** The alert that a run `runId` moving health from `before` to `after` calls for, if any. */
export function healthAlert(
  before: HealthStatus,
  after: HealthStatus,
  runId: string,
  at: string,
): Alert | undefined {
  if (
    after.status === 'degraded' &&
    (before.status !== 'degraded' || before.reason !== after.reason)
  ) {
    return {
      event: 'degraded',
      reason: after.reason ?? 'degraded',
      runId,
      at,
      consecutiveFailures: after.consecutiveFailures,
      ...(after.nextAttemptAt ? { nextAttemptAt: after.nextAttemptAt } : {}),
    };
  }
  if (after.status === 'ok' && before.status === 'degraded') {
    return {
      event: 'recovered',
      reason: `was: ${before.reason ?? 'degraded'}`,
      runId,
      at,
      consecutiveFailures: 0,
    };
  }
  return undefined;
}

export interface AlertDispatch {
  /** Sends the alert a change of health calls for, without waiting for it. */
  onHealthChange(before: HealthStatus, after: HealthStatus, runId: string): void;
  /** Resolves when every send started so far has ended, sent or failed. */
  settled(): Promise<void>;
}

/** Without a sink nothing is sent (nor logged as sending). */
export function createAlertDispatch(
  sink: AlertSink | undefined,
  clock: DaemonClock,
  log: Logger,
): AlertDispatch {
  const pending = new Set<Promise<void>>();
  return {
    onHealthChange(before, after, runId) {
      if (!sink) return;
      const alert = healthAlert(before, after, runId, new Date(clock.now()).toISOString());
      if (!alert) return;
      log.info({ alert: alert.event, runId }, 'sending alert');
      const sending = sink.send(alert).catch((err: unknown) => {
        log.warn({ err }, 'alert failed');
      });
      pending.add(sending);
      void sending.finally(() => pending.delete(sending));
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
  };
}
