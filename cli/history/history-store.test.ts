import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../engine/model/plan.js';
import { PLAN_FORMAT_VERSION } from '../../engine/model/plan.js';
import { Redactor } from '../../engine/secret.js';
import { backoffFromHistory } from '../daemon/backoff.js';
import { openHistoryStore } from './history-store.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CANARY = 'canary-history-5b7c';

function aPlan(): Plan {
  const user = { id: 'u-1', userPrincipalName: 'ann@contoso.example' };
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    fingerprint: 'f'.repeat(64),
    configDigest: 'c'.repeat(64),
    tenantDigest: 't'.repeat(64),
    sources: [{ name: 'hr', kind: 'csv', status: 'complete', records: 2, errors: 0, warnings: 0 }],
    changes: [
      {
        id: 'updateUser:u-1',
        kind: 'updateUser',
        reason: 'attribute-drift',
        message: `update department of ann@contoso.example (${CANARY})`,
        user,
        provenance: [{ source: 'hr', key: '1001', location: { file: 'hr.csv', line: 2 } }],
        set: [{ attribute: 'department', before: 'Sales', after: 'Ops' }],
      },
    ],
    blocked: [
      {
        change: {
          id: 'disableUser:u-2',
          kind: 'disableUser',
          reason: 'left-source',
          message: 'disable bob@contoso.example',
          user: { id: 'u-2', userPrincipalName: 'bob@contoso.example' },
          provenance: [],
        },
        code: 'threshold',
        message: 'too many disables',
      },
    ],
    warnings: [],
    issues: [],
    ignored: [],
    managedUsers: 2,
  };
}

describe('history store (SQLite)', () => {
  it('records runs, sources and every op with its outcome and Graph error, redacted (X1)', () => {
    const redactor = new Redactor();
    redactor.add(CANARY);
    const path = join(dir, 'h1.db');
    const store = openHistoryStore(path, redactor);
    store.startRun({ id: 'r1', startedAt: 1000, trigger: 'schedule', mode: 'apply' });
    store.recordPlan('r1', aPlan(), 'full', 1000);
    store.recordReport(
      'r1',
      {
        planFingerprint: 'f'.repeat(64),
        ops: [
          {
            changeId: 'updateUser:u-1',
            kind: 'updateUser',
            user: { id: 'u-1', userPrincipalName: 'ann@contoso.example' },
            outcome: 'failed',
            error: {
              status: 403,
              code: 'Authorization_RequestDenied',
              message: `denied ${CANARY}`,
            },
          },
        ],
      },
      2000,
    );
    store.finishRun('r1', {
      finishedAt: 3000,
      outcome: 'apply-failed',
      errorMessage: `x ${CANARY}`,
    });

    expect(store.runs()).toEqual([
      expect.objectContaining({
        id: 'r1',
        outcome: 'apply-failed',
        read: 'full',
        changes: 1,
        blocked: 1,
        failed: 1,
        applied: 0,
        errorMessage: 'x [redacted]',
      }),
    ]);
    expect(store.sources('r1')).toEqual([expect.objectContaining({ name: 'hr', records: 2 })]);
    const ops = store.ops();
    expect(ops.map((o) => [o.kind, o.outcome, o.errorStatus, o.errorCode, o.blockedCode])).toEqual([
      ['updateUser', 'failed', 403, 'Authorization_RequestDenied', null],
      ['disableUser', 'blocked', null, null, 'threshold'],
    ]);
    expect(ops[0]).toMatchObject({
      at: 2000,
      people: ['hr:1001'],
      errorMessage: 'denied [redacted]',
    });
    expect(store.ops({ user: 'ANN@contoso.example' })).toHaveLength(1);
    expect(store.ops({ user: 'u-2' })).toHaveLength(1);
    expect(store.ops({ user: '1001' })).toHaveLength(1);
    expect(store.ops({ since: 1500 })).toHaveLength(1);
    store.close();
    expect(readFileSync(path).toString('latin1')).not.toContain(CANARY);
  });

  it('records each op as it happens: counts move at once, a later report keeps their times and fills in the rest', () => {
    const store = openHistoryStore(join(dir, 'h-ops.db'), new Redactor());
    const plan = aPlan();
    const second = {
      ...plan.changes[0]!,
      id: 'updateUser:u-3',
      user: { id: 'u-3', userPrincipalName: 'cy@contoso.example' },
    };
    store.startRun({ id: 'r1', startedAt: 1000, trigger: 'cli', mode: 'apply' });
    store.recordPlan('r1', { ...plan, changes: [plan.changes[0]!, second] }, 'full', 1000);
    const applied = {
      changeId: 'updateUser:u-1',
      kind: 'updateUser' as const,
      user: { id: 'u-1', userPrincipalName: 'ann@contoso.example' },
      outcome: 'applied' as const,
    };
    store.recordOp('r1', applied, 1500);
    // A killed run ends here: what it applied is already counted.
    expect(store.runs()[0]).toMatchObject({
      trigger: 'cli',
      applied: 1,
      failed: 0,
      finishedAt: null,
    });
    store.recordOp('r1', applied, 1600); // recorded twice: counted once
    store.recordOp('r1', { ...applied, changeId: 'nope' }, 1600); // not in the plan: ignored
    expect(store.runs()[0]).toMatchObject({ applied: 1 });
    store.recordReport(
      'r1',
      {
        planFingerprint: plan.fingerprint,
        ops: [applied, { ...applied, changeId: 'updateUser:u-3', outcome: 'not-run' }],
      },
      9000,
    );
    expect(store.runs()[0]).toMatchObject({ applied: 1, failed: 0 });
    expect(store.ops().map((o) => [o.changeId, o.outcome, o.at])).toEqual([
      ['updateUser:u-1', 'applied', 1600],
      ['updateUser:u-3', 'not-run', 9000],
      ['disableUser:u-2', 'blocked', 1000],
    ]);
    store.close();
  });

  it('opens read-only for reports, refuses a file that is not a history, and prunes old runs', () => {
    const path = join(dir, 'h2.db');
    const store = openHistoryStore(path, new Redactor());
    store.startRun({ id: 'old', startedAt: 1, trigger: 'schedule', mode: 'plan' });
    store.recordPlan('old', aPlan(), 'full', 1);
    store.startRun({ id: 'new', startedAt: 100, trigger: 'schedule', mode: 'plan' });
    expect(store.prune(50)).toBe(1);
    expect(store.runs().map((r) => r.id)).toEqual(['new']);
    expect(store.ops()).toEqual([]);
    store.close();

    const reader = openHistoryStore(path, new Redactor(), { readonly: true });
    expect(reader.runs()[0]).toMatchObject({ id: 'new', outcome: null, finishedAt: null });
    expect(() =>
      reader.startRun({ id: 'x', startedAt: 1, trigger: 'manual', mode: 'plan' }),
    ).toThrow(/readonly/);
    reader.close();

    writeFileSync(join(dir, 'other.db'), '');
    expect(() =>
      openHistoryStore(join(dir, 'other.db'), new Redactor(), { readonly: true }),
    ).toThrow(/is not an entrasync history file/);
    expect(() =>
      openHistoryStore(join(dir, 'nope.db'), new Redactor(), { readonly: true }),
    ).toThrow(/no history at/);
  });

  it('losing history only resets a back-off: it never makes anything happen sooner than planned', () => {
    const policy = { initialMs: 600_000, maxMs: 86_400_000 };
    expect(backoffFromHistory([], policy)).toEqual({ consecutiveFailures: 0 });
  });
});
