import { describe, expect, it } from 'vitest';
import { MAX_401_IN_A_ROW, isAlreadyExists, readAnswer, readNoAnswer } from './answer-rules.js';
import { answer, fakeRun, graphError, operation, T0, writeContext } from './executor-fakes.js';
import { newOpState } from './executor-state.js';
import type { OperationSemantics } from './graph-operation.js';
import { TransportError } from './transport.js';

const createUser: OperationSemantics = {
  kind: 'create-user',
  userPrincipalName: 'ada@contoso.com',
  proof: { employeeId: 'E1' },
};

function stateOf(semantics: OperationSemantics, body?: unknown) {
  return newOpState(operation(semantics, body === undefined ? {} : { body }), writeContext());
}

describe('answer rules', () => {
  it('2xx: a create succeeds with the id Graph gave, which joins the run’s created set', () => {
    const { run } = fakeRun();
    const s = stateOf(createUser);
    readAnswer(run, s, answer(201, { id: 'u-1' }));
    expect(s.result).toEqual({ ok: true, targetId: 'u-1' });
    expect(run.context.created.has('u-1')).toBe(true);

    const update = stateOf({ kind: 'update', objectId: 'u-2' });
    readAnswer(run, update, answer(204));
    expect(update.result).toEqual({ ok: true, targetId: 'u-2' });
    expect(run.context.created.has('u-2')).toBe(false);
  });

  it('429: waits its Retry-After in full, slows the pacer, and is final at the throttled cap', () => {
    const { run, pacer, transport } = fakeRun([], { maxThrottledAttempts: 2 });
    const s = stateOf({ kind: 'update', objectId: 'u-1' });
    const throttled = answer(429, graphError('TooManyRequests', 'slow down'), {
      'retry-after': '300',
      'x-ms-throttle-scope': 'Tenant_Application/All',
    });
    readAnswer(run, s, throttled);
    expect(s.result).toBeUndefined();
    expect(s.notBefore).toBe(T0 + 300_000);
    expect(run.stats.retries).toBe(1);
    expect(transport.counters.longestRetryAfterMs).toBe(300_000);
    expect(pacer.throttles).toEqual([{ retryAfterMs: 300_000, scoped: true }]);

    readAnswer(run, s, throttled);
    expect(s.result).toMatchObject({ ok: false, error: { class: 'throttled', status: 429 } });
  });

  it('401: resent after each refresh; final after MAX_401_IN_A_ROW in a row, reset by another answer', () => {
    const { run } = fakeRun();
    const s = stateOf({ kind: 'update', objectId: 'u-1' });
    for (let i = 1; i < MAX_401_IN_A_ROW; i++) readAnswer(run, s, answer(401));
    readAnswer(run, s, answer(429, undefined, { 'retry-after': '1' }));
    expect(s.unauthorized).toBe(0);
    for (let i = 1; i < MAX_401_IN_A_ROW; i++) readAnswer(run, s, answer(401));
    expect(s.result).toBeUndefined();
    readAnswer(run, s, answer(401));
    expect(s.result).toMatchObject({ ok: false, error: { class: 'auth' } });

    // A whole request's 401 comes after the transport's own refresh-and-resend: it counts two.
    const alone = stateOf({ kind: 'update', objectId: 'u-2' });
    readAnswer(run, alone, answer(401), true);
    expect(alone.result).toBeUndefined();
    readAnswer(run, alone, answer(401), true);
    expect(alone.result).toMatchObject({ ok: false, error: { class: 'auth' } });
  });

  it('404: lag on an object created this run is retried within the window, then stale', () => {
    const { run, clock } = fakeRun([], { lagWindowMs: 10_000 });
    run.context.created.add('g-1');
    const s = stateOf({ kind: 'add-members', groupId: 'g-1', memberIds: ['u-1'] });
    readAnswer(run, s, answer(404));
    expect(s.result).toBeUndefined();
    expect(s.notBefore).toBeGreaterThan(T0);
    void clock.sleep(10_000);
    readAnswer(run, s, answer(404, graphError('Request_ResourceNotFound', 'gone')));
    expect(s.result).toMatchObject({ ok: false, error: { class: 'stale' } });

    const other = stateOf({ kind: 'update', objectId: 'u-9' });
    readAnswer(run, other, answer(404));
    expect(other.result).toMatchObject({ ok: false, error: { class: 'stale', status: 404 } });
  });

  it('GR4: a 400 naming an object created this run is lag within the window; any other 400 is final', () => {
    const { run, clock } = fakeRun([], { lagWindowMs: 10_000 });
    run.context.created.add('g-1');
    const lagging = answer(
      400,
      graphError('Request_BadRequest', "Invalid object identifier 'g-1'."),
    );
    const s = stateOf({ kind: 'add-members', groupId: 'g-1', memberIds: ['u-1'] });
    readAnswer(run, s, lagging);
    expect(s.result).toBeUndefined();
    expect(s.notBefore).toBeGreaterThan(T0);
    void clock.sleep(10_000);
    readAnswer(run, s, lagging);
    expect(s.result).toMatchObject({ ok: false, error: { class: 'final', status: 400 } });

    const notOurs = stateOf({ kind: 'add-members', groupId: 'g-2', memberIds: ['u-1'] });
    readAnswer(
      run,
      notOurs,
      answer(400, graphError('Request_BadRequest', "Invalid object identifier 'g-2'.")),
    );
    expect(notOurs.result).toMatchObject({ ok: false, error: { class: 'final' } });
  });

  it('404: a removed member and a delete that may have committed reach their goal', () => {
    const { run } = fakeRun();
    const remove = stateOf({ kind: 'remove-member', groupId: 'g-1', memberId: 'u-1' });
    readAnswer(run, remove, answer(404));
    expect(remove.result).toEqual({ ok: true, targetId: 'g-1' });

    const del = stateOf({ kind: 'delete-user', objectId: 'u-1' });
    readAnswer(run, del, answer(404));
    expect(del.result).toMatchObject({ ok: false, error: { class: 'stale' } });
    const lost = stateOf({ kind: 'delete-user', objectId: 'u-2' });
    readNoAnswer(run, lost, new TransportError('network', 'ECONNRESET', 'reset'));
    expect(lost.reconcile).toBe(true);
    readAnswer(run, lost, answer(404));
    expect(lost.result).toEqual({ ok: true, recovered: true, targetId: 'u-2' });
    expect(run.stats.reconciled).toBe(1);
  });

  it('400 "already exists" on a create reads the user back; on proxyAddresses it is final', () => {
    const { run } = fakeRun();
    const s = stateOf(createUser);
    const exists = graphError(
      'Request_BadRequest',
      'Another object with the same value for property userPrincipalName already exists.',
    );
    readAnswer(run, s, answer(400, exists));
    expect(s).toMatchObject({ reconcile: true, conflictSeen: true });
    expect(s.result).toBeUndefined();
    expect(s.conflict?.code).toBe('Request_BadRequest');

    const mail = graphError(
      'Request_BadRequest',
      'Another object with the same value for property proxyAddresses already exists.',
    );
    expect(isAlreadyExists({ detailCodes: ['ObjectConflict'] })).toBe(true);
    const other = stateOf(createUser);
    readAnswer(run, other, answer(400, mail));
    expect(other.result).toMatchObject({ ok: false, error: { class: 'final' } });
  });

  it('400 "references already exist": an upsert is resent without owners, members go one by one', () => {
    const { run } = fakeRun();
    const refs = graphError(
      'Request_BadRequest',
      'One or more added object references already exist for the following modified properties: owners',
    );
    const body = { displayName: 'G', 'owners@odata.bind': ['x'] };
    const upsert = stateOf({ kind: 'upsert-group', uniqueName: 'g' }, body);
    readAnswer(run, upsert, answer(400, refs));
    expect(upsert.result).toBeUndefined();
    expect(upsert.op.request.body).toEqual({ displayName: 'G' });
    readAnswer(run, upsert, answer(400, refs));
    expect(upsert.result).toMatchObject({ ok: false, error: { class: 'final' } });

    const add = stateOf({ kind: 'add-members', groupId: 'g-1', memberIds: ['u-1'] });
    readAnswer(run, add, answer(400, refs));
    expect(add.oneByOne).toBe(true);
    expect(add.result).toBeUndefined();
  });

  it('403 is protected-by-tenant for objects the read found protected, else permission', () => {
    const { run } = fakeRun([], { protectedIds: new Set(['u-protected']) });
    const guarded = stateOf({ kind: 'update', objectId: 'U-PROTECTED' });
    readAnswer(run, guarded, answer(403));
    expect(guarded.result).toMatchObject({ error: { class: 'protected-by-tenant' } });
    const plain = stateOf({ kind: 'update', objectId: 'u-1' });
    readAnswer(run, plain, answer(403));
    expect(plain.result).toMatchObject({ error: { class: 'permission' } });
  });

  it('5xx: backoff or a longer Retry-After; a create is read back before it is resent', () => {
    const { run } = fakeRun([], { maxTransientAttempts: 2 });
    const s = stateOf(createUser);
    readAnswer(run, s, answer(503, undefined, { 'retry-after': '120' }));
    expect(s).toMatchObject({ reconcile: true, mayHaveCommitted: true, notBefore: T0 + 120_000 });
    readAnswer(run, s, answer(500));
    expect(s.result).toMatchObject({ ok: false, error: { class: 'transient', status: 500 } });
  });

  it('no answer because no credential could be had is final (auth)', () => {
    const { run } = fakeRun();
    const s = stateOf({ kind: 'update', objectId: 'u-1' });
    readNoAnswer(run, s, new TransportError('auth', 'invalid_client', 'no token'));
    expect(s.result).toEqual({
      ok: false,
      error: { code: 'invalid_client', message: 'no token', class: 'auth' },
    });
  });
});
