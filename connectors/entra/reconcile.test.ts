import { describe, expect, it } from 'vitest';
import { answer, fakeRun, graphError, operation, writeContext } from './executor-fakes.js';
import type { OpState } from './executor-state.js';
import { newOpState } from './executor-state.js';
import type { OperationSemantics } from './graph-operation.js';
import { reconcileCreate, reconcileDelete, settleInDoubt } from './reconcile.js';
import { TransportError } from './transport.js';

const MARKER = 'onPremisesExtensionAttributes.extensionAttribute15';
const createUser: OperationSemantics = {
  kind: 'create-user',
  userPrincipalName: 'ada@contoso.com',
  proof: { employeeId: 'E1', [MARKER]: 'entrasync' },
};

function inDoubt(semantics: OperationSemantics): OpState {
  const op = operation(semantics);
  const s = newOpState(op, writeContext([op.changeId]));
  expect(s.reconcile).toBe(true);
  return s;
}

describe('reconciling writes that may have committed unseen', () => {
  it('a create found with our anchor and marker is recovered, by UPN and the proof’s attributes', async () => {
    const found = {
      id: 'u-1',
      employeeId: 'e1',
      onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync' },
    };
    const { run, transport } = fakeRun([answer(200, found)]);
    const s = inDoubt(createUser);
    await settleInDoubt(run, s);
    expect(s.result).toEqual({ ok: true, recovered: true, targetId: 'u-1' });
    expect(s.reconcile).toBe(false);
    expect(run.context.created.has('u-1')).toBe(true);
    expect(run.stats.reconciled).toBe(1);
    expect(transport.sent.map((r) => r.url)).toEqual([
      '/users/ada%40contoso.com?$select=id,userPrincipalName,employeeId,onPremisesExtensionAttributes',
    ]);
  });

  it('an account holding the UPN that is not ours is a final conflict naming Graph’s error', async () => {
    const { run } = fakeRun([answer(200, { id: 'u-9', employeeId: 'E2' })]);
    const s = inDoubt(createUser);
    s.conflictSeen = true;
    s.conflict = { status: 400, code: 'Request_BadRequest', message: 'already exists.' };
    await reconcileCreate(run, s);
    expect(s.result).toEqual({
      ok: false,
      error: {
        status: 400,
        code: 'Request_BadRequest',
        message:
          "already exists. (ada@contoso.com is held by another account (its employeeId is not this person's))",
        class: 'final',
      },
    });
    expect(run.context.created.has('u-9')).toBe(false);
  });

  it('a lost create that is not there is sent again', async () => {
    const { run } = fakeRun([answer(404)]);
    const s = inDoubt(createUser);
    await reconcileCreate(run, s);
    expect(s.reconcile).toBe(false);
    expect(s.result).toBeUndefined();
  });

  it('"already exists" but not readable yet is replication lag: read again after a backoff', async () => {
    const found = {
      id: 'u-1',
      employeeId: 'E1',
      onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync' },
    };
    const { run, clock } = fakeRun([answer(404), answer(404), answer(200, found)]);
    const s = inDoubt(createUser);
    s.conflictSeen = true;
    await reconcileCreate(run, s);
    expect(s.result).toEqual({ ok: true, recovered: true, targetId: 'u-1' });
    expect(clock.slept).toHaveLength(2);
    expect(run.stats.retries).toBe(2);
  });

  it('a read that fails settles nothing: the create fails transient, or permission on 403', async () => {
    const lost = fakeRun([new TransportError('network', 'ECONNRESET', 'reset')]);
    const s = inDoubt(createUser);
    await reconcileCreate(lost.run, s);
    expect(s.result).toMatchObject({ ok: false, error: { code: 'network', class: 'transient' } });

    const denied = fakeRun([answer(403, graphError('Authorization_RequestDenied', 'denied'))]);
    const t = inDoubt(createUser);
    await reconcileCreate(denied.run, t);
    expect(t.result).toMatchObject({
      ok: false,
      error: { status: 403, code: 'Authorization_RequestDenied', class: 'permission' },
    });
  });

  it('a lost delete: gone is deleted; still there (or unknown) is sent again', async () => {
    const gone = fakeRun([answer(404)]);
    const s = inDoubt({ kind: 'delete-user', objectId: 'u-1' });
    await settleInDoubt(gone.run, s);
    expect(s.result).toEqual({ ok: true, recovered: true, targetId: 'u-1' });
    expect(gone.run.stats.reconciled).toBe(1);
    expect(gone.transport.sent[0]?.url).toBe('/users/u-1?$select=id');

    const there = fakeRun([answer(200, { id: 'u-1' }), new Error('reset')]);
    const t = inDoubt({ kind: 'delete-user', objectId: 'u-1' });
    await reconcileDelete(there.run, t);
    expect(t.reconcile).toBe(false);
    expect(t.result).toBeUndefined();
    t.reconcile = true;
    await reconcileDelete(there.run, t);
    expect(t.result).toBeUndefined();
    expect(t.mayHaveCommitted).toBe(true);
  });
});
