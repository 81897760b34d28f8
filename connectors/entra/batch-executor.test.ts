import { describe, expect, it } from 'vitest';
import { MAX_BATCH_SIZE, executeOperations } from './batch-executor.js';
import {
  answer,
  fakeClock,
  fakePacer,
  fakeTransport,
  operation,
  T0,
  writeContext,
} from './executor-fakes.js';
import {
  DEFAULT_LAG_WINDOW_MS,
  newOpState,
  outcomeOf,
  startRun,
  stopForTimeBudget,
} from './executor-state.js';
import type { GraphOperation } from './graph-operation.js';
import type { GraphHttpResponse } from './transport.js';
import { DEFAULT_MAX_THROTTLED_ATTEMPTS, DEFAULT_MAX_TRANSIENT_ATTEMPTS } from './write-policy.js';

const createUser = operation(
  { kind: 'create-user', userPrincipalName: 'ada@contoso.com', proof: { employeeId: 'E1' } },
  { method: 'POST', url: '/users', body: { userPrincipalName: 'ada@contoso.com' } },
);
const update = operation(
  { kind: 'update', objectId: 'u-2' },
  { method: 'PATCH', url: '/users/u-2', body: { displayName: 'B' } },
);

function execute(
  operations: readonly GraphOperation[],
  script: readonly (GraphHttpResponse | Error)[],
  context = writeContext(),
) {
  const clock = fakeClock();
  const transport = fakeTransport(clock, script);
  const stats = { writes: 0, throttled: 0, retries: 0, reconciled: 0 };
  const results = executeOperations(operations, context, {
    transport,
    pacer: fakePacer(),
    stats,
    referenceBase: 'https://graph.microsoft.com/v1.0',
  });
  return { results, transport, clock, stats };
}

describe('executeOperations', () => {
  it('reads an in-doubt create back, batches the rest, and resends a throttled item alone after its wait', async () => {
    const { results, transport, clock, stats } = execute(
      [createUser, update],
      [
        answer(404), // the in-doubt create never committed
        answer(200, {
          responses: [
            { id: '1', status: 201, body: { id: 'u-1' } },
            { id: '2', status: 429, headers: { 'Retry-After': '30' } },
          ],
        }),
        answer(204),
      ],
      writeContext([createUser.changeId]),
    );
    expect(await results).toEqual([
      { ok: true, targetId: 'u-1' },
      { ok: true, targetId: 'u-2' },
    ]);
    expect(transport.sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /users/ada%40contoso.com?$select=id,userPrincipalName,employeeId',
      'POST /$batch',
      'PATCH /users/u-2',
    ]);
    expect(clock.now() - T0).toBe(30_000);
    expect(stats).toMatchObject({ writes: 3, throttled: 1, retries: 1 });
  });

  it('an aborted run sends nothing: every operation is not run', async () => {
    const context = writeContext();
    const controller = new AbortController();
    const aborted = { ...context, signal: controller.signal };
    controller.abort();
    const { results, transport } = execute([update], [], aborted);
    expect(await results).toEqual([
      {
        ok: false,
        notRun: true,
        code: 'aborted',
        reason: 'the run stopped before this change was sent',
      },
    ]);
    expect(transport.sent).toEqual([]);
  });

  it(`takes at most ${MAX_BATCH_SIZE} operations per call`, async () => {
    const { results } = execute(
      Array.from({ length: MAX_BATCH_SIZE + 1 }, () => update),
      [],
    );
    await expect(results).rejects.toThrow(`at most ${MAX_BATCH_SIZE} operations per call`);
  });
});

describe('executor state', () => {
  it('settles the defaults of the write policy and the lag window once', () => {
    const clock = fakeClock();
    const base = {
      transport: fakeTransport(clock, []),
      pacer: fakePacer(),
      stats: { writes: 0, throttled: 0, retries: 0, reconciled: 0 },
      referenceBase: 'x',
    };
    expect(startRun(writeContext(), base)).toMatchObject({
      clock,
      lagWindowMs: DEFAULT_LAG_WINDOW_MS,
      maxThrottledAttempts: DEFAULT_MAX_THROTTLED_ATTEMPTS,
      maxTransientAttempts: DEFAULT_MAX_TRANSIENT_ATTEMPTS,
    });
    expect(
      startRun(writeContext(), { ...base, lagWindowMs: 5, maxTransientAttempts: 2 }),
    ).toMatchObject({ lagWindowMs: 5, maxTransientAttempts: 2 });
  });

  it('an operation in doubt may have committed; only a create or a delete is read back first', () => {
    const context = writeContext([createUser.changeId, update.changeId]);
    expect(newOpState(createUser, context)).toMatchObject({
      reconcile: true,
      mayHaveCommitted: true,
    });
    expect(newOpState(update, context)).toMatchObject({ reconcile: false, mayHaveCommitted: true });
    expect(newOpState(update, writeContext())).toMatchObject({
      reconcile: false,
      mayHaveCommitted: false,
    });
  });

  it('a time-budget stop rounds the wait up to seconds; an unsettled operation is an internal error', () => {
    const s = newOpState(update, writeContext());
    expect(outcomeOf(s)).toEqual({
      ok: false,
      error: { code: 'internal', message: 'no outcome', class: 'transient' },
    });
    stopForTimeBudget(s, 1_001, 'Retry-After');
    expect(outcomeOf(s)).toEqual({
      ok: false,
      notRun: true,
      code: 'time-budget',
      reason:
        "waiting 2 s (Retry-After) would pass the run's time budget; not retried early, resumable",
    });
  });
});
