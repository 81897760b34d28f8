import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../engine/index.js';
import { SafetyBlockedError } from '../../engine/index.js';
import type { SourceConnector, TargetWriter } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import { REDACTED, Redactor } from '../../engine/secret.js';
import { aPerson, aSpec, rowsSnapshot } from '../../test/helpers/builders.js';
import { openHistoryStore } from '../history/history-store.js';
import type { DaemonOptions } from './daemon-types.js';
import { createHistoryGuard } from './history-guard.js';
import type { RunLock } from './ports.js';
import { createRunCycle } from './run-cycle.js';
import type { RunRecorder } from './run-record.js';
import type { Verdict } from './run-verdict.js';
import { captureLogger, HOUR, MINUTE } from './test-helpers.js';

const T0 = Date.UTC(2026, 0, 1);

/** Records how each run ended, as the run cycle reports it. */
function recordingRecorder() {
  const ended: (
    | { kind: 'finished'; runId: string; verdict: Verdict }
    | { kind: 'locked'; runId: string; reason: string }
  )[] = [];
  const record: RunRecorder = {
    finished(run, _log, verdict) {
      ended.push({ kind: 'finished', runId: run.id, verdict });
      return { ran: true, runId: run.id, outcome: verdict.outcome };
    },
    locked(run, _log, _holder, reason) {
      ended.push({ kind: 'locked', runId: run.id, reason });
      return { ran: false, skipped: 'locked', detail: reason };
    },
    interrupted() {},
  };
  return { record, ended };
}

function cycleFor(overrides: Partial<DaemonOptions> = {}) {
  const redactor = new Redactor();
  redactor.add('s3cr3t-token');
  const { log, logger } = captureLogger(redactor);
  const source: SourceConnector = {
    apiVersion: PORT_API_VERSION,
    kind: 'csv',
    name: 'hr',
    read: () => Promise.resolve(rowsSnapshot([aPerson('1', 'Ada', 'Lovelace')])),
  };
  const writes: string[] = [];
  const writer: TargetWriter = {
    apiVersion: PORT_API_VERSION,
    apply: (change) => {
      writes.push(change.id);
      return Promise.reject(new Error('no writes expected'));
    },
  };
  const history = openHistoryStore(':memory:', redactor);
  const { record, ended } = recordingRecorder();
  const options: DaemonOptions = {
    spec: aSpec(),
    sources: [source],
    target: {
      reader: {
        apiVersion: PORT_API_VERSION,
        read: () => Promise.resolve({ users: [], privileged: [] }),
      },
      writer,
    },
    mode: 'plan',
    clock: { now: () => T0 },
    scheduler: { start() {}, stop() {}, nextRun: () => undefined },
    redactor,
    logger,
    history,
    backoff: { initialMs: 10 * MINUTE, maxMs: HOUR },
    failureRatio: 0.5,
    fullReadEveryMs: HOUR,
    planOptions: { now: T0 },
    ...overrides,
  };
  const cycle = createRunCycle(options, { guard: createHistoryGuard(logger), record });
  const run = (id: string) => cycle.execute({ id, startedAt: T0, trigger: 'schedule' });
  return { run, ended, writes, history, log };
}

const appliedReport = (ids: readonly string[]): RunReport => ({
  planFingerprint: 'f',
  ops: ids.map((changeId) => ({
    changeId,
    kind: 'createUser',
    user: { userPrincipalName: 'ada.lovelace@contoso.com' },
    outcome: 'applied',
  })),
});

describe('one daemon run', () => {
  it('in plan mode plans, records the plan in history and ends planned without a writer', async () => {
    const { run, ended, writes, history, log } = cycleFor();
    await run('r1');
    expect(ended).toEqual([{ kind: 'finished', runId: 'r1', verdict: { outcome: 'planned' } }]);
    expect(writes).toEqual([]);
    expect(history.runs()[0]).toMatchObject({ id: 'r1', mode: 'plan', read: 'full' });
    expect(history.runs()[0]?.changes).toBeGreaterThan(0);
    expect(log.records().some((r) => r.msg === 'planned' && r.reused === false)).toBe(true);
  });

  it('in apply mode applies through the applier and judges its report', async () => {
    let appliedIds: string[] = [];
    const { run, ended, log } = cycleFor({
      mode: 'apply',
      applier: (plan, _io, onResult) => {
        appliedIds = plan.changes.map((c) => c.id);
        const report = appliedReport(appliedIds);
        report.ops.forEach((op, i) => onResult(op, i, report.ops.length));
        return Promise.resolve(report);
      },
    });
    await run('r1');
    expect(appliedIds.length).toBeGreaterThan(0);
    expect(ended).toEqual([{ kind: 'finished', runId: 'r1', verdict: { outcome: 'applied' } }]);
    expect(log.records().filter((r) => r.msg === 'change')).toHaveLength(appliedIds.length);
  });

  it('an error ends the run (blocked for a safety refusal) instead of being thrown', async () => {
    const { run, ended } = cycleFor({
      mode: 'apply',
      applier: () => Promise.reject(new SafetyBlockedError('2 change(s) are blocked')),
    });
    await run('r1');
    expect(ended).toEqual([
      {
        kind: 'finished',
        runId: 'r1',
        verdict: {
          outcome: 'blocked',
          errorCode: 'plan.blocked',
          reason: '2 change(s) are blocked',
        },
      },
    ]);
  });

  it('a lock held elsewhere, by the daemon lock or the applier, skips the run naming the holder', async () => {
    let released = 0;
    let free = false;
    const lock: RunLock = {
      acquire: () =>
        Promise.resolve(
          free
            ? { ok: true, release: () => Promise.resolve(void released++) }
            : { ok: false, holder: { pid: 7, startedAt: T0 } },
        ),
    };
    const lockedError = Object.assign(new Error('locked by s3cr3t-token'), {
      code: 'apply.locked',
    });
    const { run, ended } = cycleFor({
      mode: 'apply',
      lock,
      applier: () => Promise.reject(lockedError),
    });
    await run('r1');
    free = true;
    await run('r2');
    expect(ended).toEqual([
      { kind: 'locked', runId: 'r1', reason: 'held by pid 7 since 2026-01-01T00:00:00.000Z' },
      { kind: 'locked', runId: 'r2', reason: `locked by ${REDACTED}` },
    ]);
    expect(released).toBe(1);
  });
});
