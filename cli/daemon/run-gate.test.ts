import { describe, expect, it } from 'vitest';
import { Redactor } from '../../engine/secret.js';
import type { TickResult } from './daemon-types.js';
import { createHealthState } from './health-state.js';
import { createHistoryGuard } from './history-guard.js';
import { createDaemonMetrics } from './metrics.js';
import type { RunStartInfo } from './run-cycle.js';
import { createRunGate } from './run-gate.js';
import { captureLogger, MINUTE } from './test-helpers.js';

const T0 = Date.UTC(2026, 0, 1);

function setup(
  execute?: (run: RunStartInfo) => Promise<TickResult>,
  inputsStamp?: () => string | undefined,
) {
  const { log, logger } = captureLogger();
  const clock = { now: () => T0 };
  const metrics = createDaemonMetrics();
  const state = createHealthState({
    mode: 'plan',
    clock,
    backoff: { initialMs: 10 * MINUTE, maxMs: 60 * MINUTE },
    redactor: new Redactor(),
    log: logger,
    guard: createHistoryGuard(logger),
    running: () => false,
  });
  const started: RunStartInfo[] = [];
  let finish!: () => void;
  const gate = createRunGate({
    clock,
    log: logger,
    metrics,
    state,
    ...(inputsStamp ? { inputsStamp } : {}),
    execute:
      execute ??
      ((run) => {
        started.push(run);
        return new Promise<TickResult>((resolve) => {
          finish = () => resolve({ ran: true, runId: run.id, outcome: 'no-changes' });
        });
      }),
  });
  return { gate, state, logger, log, metrics, started, finish: () => finish() };
}

describe('the gate before a daemon run', () => {
  it('runs one at a time: a tick while a run is going is skipped and counted', async () => {
    const { gate, metrics, started, finish } = setup();
    const first = gate.tick();
    expect(gate.current?.id).toBe(started[0]?.id);
    expect(started[0]?.trigger).toBe('schedule');
    const second = await gate.tick('manual');
    expect(second).toMatchObject({ ran: false, skipped: 'overlap' });
    expect(started).toHaveLength(1);
    finish();
    expect(await first).toMatchObject({ ran: true, outcome: 'no-changes' });
    expect(gate.current).toBeUndefined();
    expect(await metrics.render()).toContain('entrasync_runs_skipped_total{reason="overlap"} 1');
  });

  it('while the back-off holds, scheduled ticks are skipped and a manual one runs', async () => {
    const { gate, state, logger, started, finish } = setup();
    state.recordRun(logger, { outcome: 'source-failed', reason: 'hr down' }, T0);
    const skipped = await gate.tick('schedule');
    expect(skipped).toEqual({
      ran: false,
      skipped: 'backoff',
      detail: `backing off after 1 failed run(s); next try at ${new Date(T0 + 10 * MINUTE).toISOString()}`,
    });
    expect(started).toHaveLength(0);
    const manual = gate.tick('manual');
    expect(started.map((r) => r.trigger)).toEqual(['manual']);
    finish();
    await manual;
  });

  it('a source changed since the failed run clears the back-off and the tick runs (issue 22)', async () => {
    let stamp = 'employees.csv:100:1';
    const { gate, state, logger, log, started, finish } = setup(undefined, () => stamp);
    const failed = gate.tick('schedule');
    finish();
    await failed;
    state.recordRun(logger, { outcome: 'source-failed', reason: 'employees.csv:43:12' }, T0);
    // Unchanged: still backing off.
    expect(await gate.tick('schedule')).toMatchObject({ ran: false, skipped: 'backoff' });
    stamp = 'employees.csv:104:2';
    const next = gate.tick('schedule');
    expect(started).toHaveLength(2);
    expect(log.text()).toContain('back-off cleared (a source changed since the failed run)');
    finish();
    await next;
  });

  it('once closed every tick is skipped; a run that throws is logged as a crash, not thrown', async () => {
    const crashing = setup(() => Promise.reject(new Error('bug')));
    const result = await crashing.gate.tick();
    expect(result).toMatchObject({ ran: true, outcome: 'error' });
    expect(crashing.log.text()).toContain('run crashed');
    expect(crashing.gate.current).toBeUndefined();

    crashing.gate.close();
    expect(await crashing.gate.tick('manual')).toMatchObject({ ran: false, skipped: 'stopping' });
  });
});
