import { describe, expect, it } from 'vitest';
import { answer, fakeRun, graphError, operation, T0, writeContext } from './executor-fakes.js';
import { newOpState } from './executor-state.js';
import { addOneByOne, memberAddFailure } from './member-fallback.js';
import { TransportError } from './transport.js';

const REFS_EXIST = graphError(
  'Request_BadRequest',
  'One or more added object references already exist for the following modified properties: members',
);

function addMembers(memberIds: string[]) {
  const s = newOpState(
    operation({ kind: 'add-members', groupId: 'g-1', memberIds }),
    writeContext(),
  );
  s.oneByOne = true;
  return s;
}

describe('member-by-member fallback (G12)', () => {
  it('adds each member by $ref, paced; "already exist" counts as added', async () => {
    const { run, transport, pacer } = fakeRun([answer(204), answer(400, REFS_EXIST), answer(204)]);
    const s = addMembers(['u-1', 'u-2', 'u-3']);
    await addOneByOne(run, s);
    expect(s.result).toEqual({ ok: true, targetId: 'g-1' });
    expect(s.oneByOne).toBe(false);
    expect(transport.sent).toEqual(
      ['u-1', 'u-2', 'u-3'].map((id) => ({
        method: 'POST',
        url: '/groups/g-1/members/$ref',
        body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` },
      })),
    );
    expect(pacer.acquired).toEqual([1, 1, 1]);
    expect(pacer.inFlight).toBe(0);
    expect(run.stats.writes).toBe(3);
  });

  it('a member that fails ends the operation; the members after it are not sent', async () => {
    const denied = answer(403, graphError('Authorization_RequestDenied', 'denied'));
    const { run, transport } = fakeRun([answer(204), denied]);
    const s = addMembers(['u-1', 'u-2', 'u-3']);
    await addOneByOne(run, s);
    expect(s.result).toEqual({
      ok: false,
      error: {
        status: 403,
        code: 'Authorization_RequestDenied',
        message: 'adding member u-2: denied',
        class: 'permission',
      },
    });
    expect(transport.sent).toHaveLength(2);
  });

  it('429 is waited out under the shared write policy and counted', async () => {
    const throttled = answer(429, undefined, { 'retry-after': '30' });
    const { run, clock, transport, pacer } = fakeRun([throttled, answer(204)]);
    const s = addMembers(['u-1']);
    await addOneByOne(run, s);
    expect(s.result).toEqual({ ok: true, targetId: 'g-1' });
    expect(clock.now() - T0).toBe(30_000);
    expect(run.stats).toMatchObject({ throttled: 1, retries: 1, writes: 2 });
    expect(transport.counters.longestRetryAfterMs).toBe(30_000);
    expect(pacer.throttles).toEqual([{ retryAfterMs: 30_000, scoped: false }]);
  });

  it('a wait past the run’s deadline stops the operation as not run, resumable', async () => {
    const throttled = answer(429, undefined, { 'retry-after': '300' });
    const { run, transport } = fakeRun([throttled], { deadline: () => T0 + 10_000 });
    const s = addMembers(['u-1', 'u-2']);
    await addOneByOne(run, s);
    expect(s.result).toEqual({
      ok: false,
      notRun: true,
      code: 'time-budget',
      reason: "waiting 300 s would pass the run's time budget; not retried early, resumable",
    });
    expect(transport.sent).toHaveLength(1);
  });

  it('no answer: auth when no credential could be had, else transient', () => {
    const auth = new TransportError('auth', 'invalid_client', 'no token');
    expect(memberAddFailure({ kind: 'no-answer', error: auth }, 'u-1')).toEqual({
      code: 'invalid_client',
      message: 'adding member u-1: no token',
      class: 'auth',
    });
    expect(memberAddFailure({ kind: 'no-answer', error: new Error('reset') }, 'u-1')).toEqual({
      code: 'network',
      message: 'adding member u-1: reset',
      class: 'transient',
    });
    expect(memberAddFailure({ kind: 'answer', response: answer(201) }, 'u-1')).toBeUndefined();
    expect(memberAddFailure({ kind: 'answer', response: answer(503) }, 'u-1')).toMatchObject({
      status: 503,
      code: 'HTTP503',
      class: 'transient',
    });
  });
});
