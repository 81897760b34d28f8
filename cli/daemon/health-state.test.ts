import { describe, expect, it } from 'vitest';
import { Redactor } from '../../engine/secret.js';
import type { HistoryStore } from '../history/history-store.js';
import { openHistoryStore } from '../history/history-store.js';
import type { HealthStateOptions } from './health-state.js';
import { afterRun, createHealthState, degradedReason, resumeHealth } from './health-state.js';
import { createHistoryGuard } from './history-guard.js';
import { createDaemonMetrics } from './metrics.js';
import type { CircuitState } from './ports.js';
import { captureLogger, HOUR, MINUTE } from './test-helpers.js';

const POLICY = { initialMs: 10 * MINUTE, maxMs: 1 * HOUR };
const T0 = Date.UTC(2026, 0, 1);

function stateFor(history?: HistoryStore, overrides: Partial<HealthStateOptions> = {}) {
  const redactor = new Redactor();
  const { log, logger } = captureLogger(redactor);
  let now = T0;
  const metrics = createDaemonMetrics();
  const state = createHealthState({
    mode: 'apply',
    clock: { now: () => now },
    backoff: POLICY,
    redactor,
    log: logger,
    ...(history ? { history } : {}),
    guard: createHistoryGuard(logger),
    metrics,
    running: () => false,
    ...overrides,
  });
  return { state, log, logger, redactor, metrics, setNow: (t: number) => (now = t) };
}

function historyWith(
  runs: {
    outcome: 'error' | 'source-failed' | 'applied' | 'blocked' | 'apply-failed';
    at: number;
    code?: string;
    message?: string;
    cli?: true;
  }[],
): HistoryStore {
  const history = openHistoryStore(':memory:', new Redactor());
  runs.forEach((r, i) => {
    const id = `run-${i}`;
    const trigger = r.cli ? 'cli' : 'schedule';
    history.startRun({ id, startedAt: r.at, trigger, mode: 'apply' });
    history.finishRun(id, {
      finishedAt: r.at + 1000,
      outcome: r.outcome,
      ...(r.code ? { errorCode: r.code } : {}),
      ...(r.message ? { errorMessage: r.message } : {}),
    });
  });
  return history;
}

describe('daemon health and back-off', () => {
  it('a failed run backs off doubling toward the cap; the next run that does not fail resets it', () => {
    let fields = resumeHealth([], POLICY);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      fields = afterRun(fields, { outcome: 'source-failed', reason: 'hr down' }, T0, POLICY);
      waits.push((fields.nextAttemptAt ?? 0) - T0);
    }
    expect(waits).toEqual([10 * MINUTE, 20 * MINUTE, 40 * MINUTE, HOUR]);
    expect(fields).toMatchObject({ consecutiveFailures: 4, failureReason: 'hr down' });
    expect(degradedReason(fields, undefined, undefined)).toBe('hr down');

    fields = afterRun(fields, { outcome: 'no-changes' }, T0 + HOUR, POLICY);
    expect(fields).toMatchObject({
      consecutiveFailures: 0,
      nextAttemptAt: undefined,
      failureReason: undefined,
      lastSuccessAt: T0 + HOUR,
      lastOutcome: 'no-changes',
    });
    expect(degradedReason(fields, undefined, undefined)).toBeUndefined();
  });

  it('a blocked plan degrades health without backing off; an open circuit breaker comes first', () => {
    const blocked = afterRun(
      resumeHealth([], POLICY),
      { outcome: 'blocked', reason: '3 change(s) blocked' },
      T0,
      POLICY,
    );
    expect(blocked.consecutiveFailures).toBe(0);
    expect(blocked.nextAttemptAt).toBeUndefined();
    expect(degradedReason(blocked, undefined, 'disk full')).toBe('3 change(s) blocked');
    const open: CircuitState = { open: true, reason: '60% of writes refused' };
    expect(degradedReason(blocked, open, undefined)).toBe(
      'circuit breaker open: 60% of writes refused',
    );
    const fine = afterRun(blocked, { outcome: 'applied' }, T0, POLICY);
    expect(degradedReason(fine, undefined, 'disk full')).toBe('history: disk full');
  });

  it('resumes the back-off and the last outcome from history, passing over a run skipped for the lock', () => {
    const history = historyWith([
      { outcome: 'applied', at: T0 },
      { outcome: 'source-failed', at: T0 + HOUR, message: 'hr down' },
      { outcome: 'source-failed', at: T0 + 2 * HOUR, message: 'hr still down' },
      { outcome: 'error', at: T0 + 3 * HOUR, code: 'apply.locked', message: 'held by pid 7' },
    ]);
    const recent = history.runs({ limit: 50 });
    const fields = resumeHealth(recent, POLICY);
    expect(fields).toMatchObject({
      consecutiveFailures: 2,
      failureReason: 'hr still down',
      nextAttemptAt: T0 + 2 * HOUR + 1000 + 20 * MINUTE,
      lastOutcome: 'source-failed',
      lastRunAt: T0 + 2 * HOUR + 1000,
      lastSuccessAt: T0 + 1000,
    });

    const { state, log } = stateFor(history);
    expect(state.health()).toMatchObject({
      status: 'degraded',
      reason: 'hr still down',
      consecutiveFailures: 2,
      nextAttemptAt: new Date(T0 + 2 * HOUR + 1000 + 20 * MINUTE).toISOString(),
    });
    expect(log.text()).toContain('resuming back-off from history');
  });

  it("passes over `entrasync apply` runs in the same history: they are not the daemon's", () => {
    const history = historyWith([
      { outcome: 'applied', at: T0 },
      { outcome: 'apply-failed', at: T0 + HOUR, message: 'cli apply failed', cli: true },
      { outcome: 'error', at: T0 + 2 * HOUR, code: 'plan.stale', message: 'stale', cli: true },
    ]);
    expect(resumeHealth(history.runs({ limit: 50 }), POLICY)).toMatchObject({
      consecutiveFailures: 0,
      lastOutcome: 'applied',
      lastRunAt: T0 + 1000,
    });
  });

  it('holds scheduled runs until the back-off ends; clearing it lets them run but leaves health degraded', async () => {
    const { state, log, logger, metrics, setNow } = stateFor();
    state.recordRun(logger, { outcome: 'error', errorCode: 'internal', reason: 'boom' }, T0);
    expect(log.text()).toContain('run failed: boom');
    expect(state.holding(T0 + MINUTE)).toEqual({
      consecutiveFailures: 1,
      nextAttemptAt: T0 + 10 * MINUTE,
      reason: 'boom',
    });
    expect(state.holding(T0 + 10 * MINUTE)).toBeUndefined();
    setNow(T0 + 4 * MINUTE);
    state.publishBackoff();
    expect(await metrics.render()).toContain('entrasync_backoff_seconds 360');

    state.resetBackoff('SIGHUP');
    expect(state.holding(T0 + MINUTE)).toBeUndefined();
    expect(state.health()).toMatchObject({
      status: 'degraded',
      reason: 'boom',
      consecutiveFailures: 0,
    });
    expect(await metrics.render()).toContain('entrasync_backoff_seconds 0');
    expect(log.text()).toContain('back-off cleared (SIGHUP)');
  });

  it('redacts the reason health shows', () => {
    const { state, logger, redactor } = stateFor();
    redactor.add('hunter2-secret');
    state.recordRun(logger, { outcome: 'error', reason: 'bind failed with hunter2-secret' }, T0);
    const health = state.health();
    expect(health.reason).toContain('bind failed');
    expect(JSON.stringify(health)).not.toContain('hunter2-secret');
  });
});
