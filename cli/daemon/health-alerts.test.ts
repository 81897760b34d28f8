import { describe, expect, it } from 'vitest';
import type { Alert, AlertSink } from './alerts.js';
import { createMemoryAlertSink } from './alerts.js';
import { createAlertDispatch, healthAlert } from './health-alerts.js';
import type { HealthStatus } from './health-server.js';
import { captureLogger } from './test-helpers.js';

const AT = '2026-01-01T00:00:00.000Z';
const OK: HealthStatus = { status: 'ok', mode: 'apply', running: false, consecutiveFailures: 0 };
const degraded = (reason: string, failures = 1): HealthStatus => ({
  status: 'degraded',
  reason,
  mode: 'apply',
  running: false,
  consecutiveFailures: failures,
  nextAttemptAt: '2026-01-01T00:10:00.000Z',
});

describe('alerts on changes of health', () => {
  it('alerts on becoming degraded and on a new reason, not while the reason stays', () => {
    expect(healthAlert(OK, degraded('hr down'), 'r1', AT)).toEqual({
      event: 'degraded',
      reason: 'hr down',
      runId: 'r1',
      at: AT,
      consecutiveFailures: 1,
      nextAttemptAt: '2026-01-01T00:10:00.000Z',
    });
    expect(healthAlert(degraded('hr down'), degraded('hr down', 2), 'r2', AT)).toBeUndefined();
    expect(healthAlert(degraded('hr down'), degraded('ldap down', 2), 'r3', AT)?.reason).toBe(
      'ldap down',
    );
  });

  it('alerts once on recovering, naming what it recovered from; ok to ok is silent', () => {
    expect(healthAlert(degraded('hr down', 3), OK, 'r4', AT)).toEqual({
      event: 'recovered',
      reason: 'was: hr down',
      runId: 'r4',
      at: AT,
      consecutiveFailures: 0,
    });
    expect(healthAlert(OK, OK, 'r5', AT)).toBeUndefined();
  });

  it('sends through the sink without waiting; a failed send is logged, and settled() waits for it', async () => {
    const { log, logger } = captureLogger();
    let fail!: (err: Error) => void;
    const sent: Alert[] = [];
    const sink: AlertSink = {
      send(alert) {
        sent.push(alert);
        return new Promise((_, reject) => (fail = reject));
      },
    };
    const dispatch = createAlertDispatch(sink, { now: () => Date.parse(AT) }, logger);
    dispatch.onHealthChange(OK, degraded('hr down'), 'r1');
    expect(sent.map((a) => [a.event, a.at])).toEqual([['degraded', AT]]);
    let settled = false;
    const waiting = dispatch.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    fail(new Error('webhook unreachable'));
    await waiting;
    expect(log.text()).toContain('alert failed');
  });

  it('without a sink nothing is sent or logged', async () => {
    const { log, logger } = captureLogger();
    const dispatch = createAlertDispatch(undefined, { now: () => 0 }, logger);
    dispatch.onHealthChange(OK, degraded('hr down'), 'r1');
    await dispatch.settled();
    expect(log.lines).toEqual([]);
    const memory = createMemoryAlertSink();
    createAlertDispatch(memory, { now: () => 0 }, logger).onHealthChange(OK, degraded('x'), 'r2');
    expect(memory.sent).toHaveLength(1);
  });
});
