import { describe, expect, it } from 'vitest';
import { batchAnswersOf, batchRequestsOf, sendRound, waitForRound } from './batch-round.js';
import { answer, fakeRun, operation, T0, writeContext } from './executor-fakes.js';
import { newOpState } from './executor-state.js';
import type { OperationSemantics } from './graph-operation.js';

function stateOf(semantics: OperationSemantics) {
  return newOpState(
    operation(semantics, { method: 'PATCH', url: '/users/x', body: { a: 1 } }),
    writeContext(),
  );
}

describe('one round of the executor', () => {
  it('batch requests are numbered in order; item headers yield to the request’s own', () => {
    const withBody = operation(
      { kind: 'update', objectId: 'u-1' },
      {
        method: 'PATCH',
        url: '/users/u-1',
        body: { a: 1 },
        headers: { 'x-ms-throttle-priority': 'high' },
      },
    );
    const withoutBody = operation(
      { kind: 'remove-member', groupId: 'g', memberId: 'm' },
      { method: 'DELETE', url: '/groups/g/members/m/$ref' },
    );
    expect(batchRequestsOf([withBody, withoutBody], { 'x-ms-throttle-priority': 'low' })).toEqual([
      {
        id: '1',
        method: 'PATCH',
        url: '/users/u-1',
        headers: { 'x-ms-throttle-priority': 'high', 'Content-Type': 'application/json' },
        body: { a: 1 },
      },
      {
        id: '2',
        method: 'DELETE',
        url: '/groups/g/members/m/$ref',
        headers: { 'x-ms-throttle-priority': 'low' },
      },
    ]);
  });

  it('batch answers are keyed by id with lower-cased headers; a missing status is 0', () => {
    const byId = batchAnswersOf({
      responses: [
        { id: '2', status: 429, headers: { 'Retry-After': 30 }, body: { error: {} } },
        { id: 1, headers: 'not an object' },
      ],
    });
    expect(byId.get('2')).toEqual({
      status: 429,
      headers: { 'retry-after': '30' },
      body: { error: {} },
    });
    expect(byId.get('1')).toEqual({ status: 0, headers: {}, body: undefined });
    expect(batchAnswersOf({ error: 'x' }).size).toBe(0);
    expect(batchAnswersOf(undefined).size).toBe(0);
  });

  it('a $batch: each item read alone; a left-out item is a lost answer; 401s refresh once', async () => {
    const envelope = answer(200, {
      responses: [
        { id: '1', status: 204, headers: {} },
        { id: '3', status: 401, headers: {} },
        { id: '4', status: 401, headers: {} },
        { id: '5', status: 429, headers: { 'retry-after': '10' } },
      ],
    });
    const { run, transport, pacer } = fakeRun([envelope]);
    const states = [1, 2, 3, 4, 5].map((i) => stateOf({ kind: 'update', objectId: `u-${i}` }));
    await sendRound(run, states);

    expect(transport.sent).toHaveLength(1);
    expect(transport.sent[0]).toMatchObject({ method: 'POST', url: '/$batch' });
    expect(pacer.acquired).toEqual([5]);
    expect(pacer.inFlight).toBe(0);
    expect(run.stats).toMatchObject({ writes: 5, throttled: 1, firstWriteAt: T0, lastWriteAt: T0 });
    expect(states[0]?.result).toEqual({ ok: true, targetId: 'u-1' });
    expect(states[1]).toMatchObject({ transientAttempts: 1, mayHaveCommitted: true });
    expect(states[2]?.unauthorized).toBe(1);
    expect(transport.refreshes).toEqual([7]);
    expect(states[4]?.notBefore).toBe(T0 + 10_000);
    expect(states.slice(1).every((s) => s.result === undefined)).toBe(true);
  });

  it('an envelope that failed answers every item alike; a lone request is sent as itself', async () => {
    const { run, transport } = fakeRun([answer(401), answer(401)]);
    const pair = [
      stateOf({ kind: 'update', objectId: 'u-1' }),
      stateOf({ kind: 'update', objectId: 'u-2' }),
    ];
    await sendRound(run, pair);
    // The transport refreshed and resent once already: each 401 counts two.
    expect(pair.map((s) => s.unauthorized)).toEqual([2, 2]);
    expect(transport.refreshes).toEqual([]);

    const [alone] = pair;
    await sendRound(run, [alone!]);
    expect(transport.sent[1]).toEqual({ method: 'PATCH', url: '/users/x', body: { a: 1 } });
    expect(alone?.result).toMatchObject({ ok: false, error: { class: 'auth' } });
  });

  it('waits for the latest notBefore; a wait past the deadline stops every due operation', async () => {
    const { run, clock } = fakeRun([], { deadline: () => T0 + 60_000 });
    const due = [
      stateOf({ kind: 'update', objectId: 'u-1' }),
      stateOf({ kind: 'update', objectId: 'u-2' }),
    ];
    due[0]!.notBefore = T0 + 5_000;
    due[1]!.notBefore = T0 + 20_000;
    expect(await waitForRound(run, due)).toBe(true);
    expect(clock.now()).toBe(T0 + 20_000);

    due[1]!.notBefore = T0 + 300_000;
    expect(await waitForRound(run, due)).toBe(false);
    expect(clock.now()).toBe(T0 + 20_000);
    for (const s of due) {
      expect(s.result).toEqual({
        ok: false,
        notRun: true,
        code: 'time-budget',
        reason:
          "waiting 280 s (Retry-After) would pass the run's time budget; not retried early, resumable",
      });
    }
  });
});
