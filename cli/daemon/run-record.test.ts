import { describe, expect, it } from 'vitest';
import { Redactor } from '../../engine/secret.js';
import { openHistoryStore } from '../history/history-store.js';
import { createMemoryAlertSink } from './alerts.js';
import { createAlertDispatch } from './health-alerts.js';
import { createHealthState } from './health-state.js';
import { createHistoryGuard } from './history-guard.js';
import { createDaemonMetrics } from './metrics.js';
import { createRunRecorder } from './run-record.js';
import { captureLogger, MINUTE } from './test-helpers.js';

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const redactor = new Redactor();
  redactor.add('s3cr3t-token');
  const { logger } = captureLogger(redactor);
  const clock = { now: () => T0 + MINUTE };
  const history = openHistoryStore(':memory:', redactor);
  const metrics = createDaemonMetrics();
  const sink = createMemoryAlertSink();
  const guard = createHistoryGuard(logger);
  const state = createHealthState({
    mode: 'apply',
    clock,
    backoff: { initialMs: 10 * MINUTE, maxMs: 60 * MINUTE },
    redactor,
    log: logger,
    history,
    guard,
    metrics,
    running: () => false,
  });
  let throttled = 5;
  const record = createRunRecorder(
    {
      clock,
      history,
      metrics,
      mode: 'apply',
      redactor,
      telemetry: { throttledResponses: () => throttled },
    },
    { state, guard, alerts: createAlertDispatch(sink, clock, logger) },
  );
  const start = (id: string) => {
    history.startRun({ id, startedAt: T0, trigger: 'schedule', mode: 'apply' });
    return { id, startedAt: T0 };
  };
  return {
    record,
    history,
    metrics,
    sink,
    state,
    logger,
    start,
    throttle: (n: number) => (throttled += n),
  };
}

describe('recording the end of a daemon run', () => {
  it('a failed run is finished in history with its redacted reason, degrades health and alerts once', async () => {
    const { record, history, metrics, sink, state, logger, start, throttle } = setup();
    throttle(3);
    const result = record.finished(start('r1'), logger, {
      outcome: 'source-failed',
      errorCode: 'source.failed',
      reason: 'source hr failed: 401 with s3cr3t-token',
    });
    expect(result).toEqual({ ran: true, runId: 'r1', outcome: 'source-failed' });
    const [row] = history.runs();
    expect(row).toMatchObject({ outcome: 'source-failed', errorCode: 'source.failed' });
    expect(row?.errorMessage).toContain('source hr failed: 401');
    expect(row?.errorMessage).not.toContain('s3cr3t-token');
    expect(state.health()).toMatchObject({ status: 'degraded', consecutiveFailures: 1 });
    expect(sink.sent.map((a) => a.event)).toEqual(['degraded']);
    const text = await metrics.render();
    expect(text).toContain('entrasync_graph_throttled_total 3');
    expect(text).toContain('entrasync_healthy 0');

    record.finished(start('r2'), logger, { outcome: 'no-changes' });
    expect(state.health().status).toBe('ok');
    expect(sink.sent.map((a) => a.event)).toEqual(['degraded', 'recovered']);
  });

  it('a run skipped for the apply lock is finished as apply.locked and moves neither health nor the back-off', async () => {
    const { record, history, metrics, sink, state, logger, start } = setup();
    const result = record.locked(start('r1'), logger, { pid: 7, startedAt: T0 }, 'held by pid 7');
    expect(result).toEqual({ ran: false, skipped: 'locked', detail: 'held by pid 7' });
    expect(history.runs()[0]).toMatchObject({ outcome: 'error', errorCode: 'apply.locked' });
    expect(state.health()).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
    expect(state.holding(T0 + 2 * MINUTE)).toBeUndefined();
    expect(sink.sent).toEqual([]);
    expect(await metrics.render()).toContain('entrasync_runs_skipped_total{reason="locked"} 1');
  });

  it('a run cut short by a stop is finished as interrupted', () => {
    const { record, history, start } = setup();
    start('r1');
    record.interrupted('r1', 30_000);
    expect(history.runs()[0]).toMatchObject({
      outcome: 'error',
      errorCode: 'daemon.interrupted',
      errorMessage: 'stopped before the run finished (shutdown timeout 30s)',
    });
  });
});
