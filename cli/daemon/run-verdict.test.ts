import { describe, expect, it } from 'vitest';
import type { OpResult, Plan, RunReport } from '../../engine/index.js';
import { aPerson, aSpec, planRows } from '../../test/helpers/builders.js';
import { describeHolder, judgePlan, judgeReport } from './run-verdict.js';

const NOW = Date.UTC(2026, 0, 1);
const EMPTY_TENANT = { users: [], privileged: [] };
const ADA = aPerson('1', 'Ada', 'Lovelace');

const planFor = (rows: ReturnType<typeof aPerson>[], overrides = {}): Promise<Plan> =>
  planRows(aSpec(), rows, EMPTY_TENANT, NOW, overrides);

function op(outcome: OpResult['outcome'], error?: OpResult['error']): OpResult {
  return {
    changeId: `c-${outcome}`,
    kind: 'createUser',
    user: { userPrincipalName: 'ada.lovelace@contoso.com' },
    outcome,
    ...(error ? { error } : {}),
  };
}

const report = (ops: OpResult[], extra: Partial<RunReport> = {}): RunReport => ({
  planFingerprint: 'f',
  ops,
  ...extra,
});

describe('run verdicts', () => {
  it('a plan stops the run when a source failed, only held changes are left (or hold-plan), nothing changes, or in plan mode', async () => {
    const hire = await planFor([ADA]);
    expect(hire.changes.length).toBeGreaterThan(0);
    expect(judgePlan(hire, 'apply')).toBeUndefined();
    expect(judgePlan(hire, 'plan')).toEqual({ outcome: 'planned' });
    expect(judgePlan({ ...hire, changes: [] }, 'apply')).toEqual({ outcome: 'no-changes' });

    const [first] = hire.changes;
    if (!first) throw new Error('no change planned');
    const blocked = {
      ...hire,
      blocked: [{ change: first, code: 'threshold', message: 'too many creates' }],
    };
    // Held changes hold nothing else: the rest is applied (issue 20) ...
    expect(judgePlan(blocked, 'apply')).toBeUndefined();
    // ... unless nothing else is left, the config says all or nothing, or in plan mode.
    for (const plan of [
      { ...blocked, changes: [] },
      { ...blocked, onBlocked: 'hold-plan' as const },
    ]) {
      const verdict = judgePlan(plan, 'apply');
      expect(verdict?.outcome).toBe('blocked');
      expect(verdict?.reason).toMatch(/^1 change\(s\) held, .*Held: 1 threshold;/);
    }
    expect(judgePlan({ ...blocked, onBlocked: 'hold-plan' }, 'apply')?.reason).toContain(
      'nothing applied (safety.onBlocked: hold-plan)',
    );
    expect(judgePlan(blocked, 'plan')?.outcome).toBe('blocked');

    const failed = await planFor([], {
      status: 'failed',
      issues: [{ severity: 'error', code: 'source.read', message: 'hr.csv: no such file' }],
    });
    expect(judgePlan(failed, 'apply')).toEqual({
      outcome: 'source-failed',
      errorCode: 'source.failed',
      reason: 'source hr (csv) failed: hr.csv: no such file',
    });
  });

  it('an apply is judged by how it stopped and by the share of attempted changes that failed', () => {
    const options = { failureRatio: 0.5 };
    expect(judgeReport(report([op('applied'), op('skipped')]), options)).toEqual({
      outcome: 'applied',
    });
    const refused = { status: 403, code: 'Authorization_RequestDenied', message: 'denied' };
    expect(
      judgeReport(report([op('applied'), op('applied'), op('failed', refused)]), options),
    ).toEqual({
      outcome: 'partial',
      reason: '1 of 3 change(s) failed; first error: 403 Authorization_RequestDenied: denied',
    });
    expect(
      judgeReport(report([op('applied'), op('failed', refused), op('failed')]), options),
    ).toMatchObject({
      outcome: 'apply-failed',
      errorCode: 'apply.failed',
    });
    expect(judgeReport(report([op('applied'), op('not-run')]), options).outcome).toBe(
      'apply-failed',
    );
    expect(
      judgeReport(
        report([op('applied'), op('not-run')], {
          stopped: { code: 'time-budget', message: '30m used' },
        }),
        options,
      ),
    ).toEqual({
      outcome: 'partial',
      reason: 'apply stopped at its time budget: 30m used (1 applied, 1 left for the next run)',
    });
    expect(
      judgeReport(
        report([op('failed')], { stopped: { code: 'circuit-open', message: '60% refused' } }),
        options,
      ),
    ).toMatchObject({ outcome: 'apply-failed', errorCode: 'apply.circuit-open' });
    const circuit = { state: () => ({ open: true as const, reason: 'tripped' }) };
    expect(judgeReport(report([op('applied')]), { ...options, circuit })).toMatchObject({
      outcome: 'apply-failed',
      errorCode: 'apply.circuit-open',
      reason: 'circuit breaker open: tripped (1 applied, 0 failed, 0 not run)',
    });
  });

  it('names a lock holder by owner, pid, host, start and lease', () => {
    expect(
      describeHolder({
        owner: 'ops@host1',
        pid: 4242,
        host: 'host1',
        startedAt: NOW,
        runId: 'r1',
        leaseUntil: '2026-01-01T00:05:00.000Z',
      }),
    ).toBe(
      'held by ops@host1 pid 4242 on host1 since 2026-01-01T00:00:00.000Z run r1 lease until 2026-01-01T00:05:00.000Z',
    );
    expect(describeHolder({ pid: 7, startedAt: '2026-01-01T00:00:00Z' })).toBe(
      'held by pid 7 since 2026-01-01T00:00:00Z',
    );
  });
});
