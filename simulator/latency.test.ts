/**
 * The latency model (issue 24): the delay computed for an answer, its text form, the fault
 * plan's per-object latency rule, and that a simulator on the virtual clock moves its clock by
 * exactly that delay (no timed test: the virtual clock never waits).
 */
import { describe, expect, test } from 'vitest';
import { createVirtualClock } from './clock.js';
import { createFaultEngine } from './fault-plan.js';
import {
  BENCH_LATENCY,
  formatLatencyModel,
  latencyDelayMs,
  objectsReturned,
  parseLatencyModel,
} from './latency.js';
import { createRandomSource } from './random.js';
import { graphFor, simulator } from './test-helpers/simulator.js';

const random = (): ReturnType<ReturnType<typeof createRandomSource>['stream']> =>
  createRandomSource(7).stream(0);

describe('L1 latency model', () => {
  test('L1 the delay is base + perObject × objects returned, jitter within [0, jitter]', () => {
    expect(latencyDelayMs(BENCH_LATENCY, 999, random())).toBe(1149);
    expect(latencyDelayMs(BENCH_LATENCY, 0, random())).toBe(150);
    expect(latencyDelayMs({ baseMs: 20, perObjectMs: 0.5 }, 3, random())).toBe(22);
    const r = random();
    const draws = Array.from({ length: 200 }, () =>
      latencyDelayMs({ baseMs: 100, perObjectMs: 2, jitterMs: 50 }, 10, r),
    );
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(120);
    expect(Math.max(...draws)).toBeLessThanOrEqual(170);
    // Jitter is drawn: not every answer waits the same.
    expect(new Set(draws).size).toBeGreaterThan(10);
    // Seeded: the same seed gives the same delays.
    const again = random();
    expect(
      Array.from({ length: 200 }, () =>
        latencyDelayMs({ baseMs: 100, perObjectMs: 2, jitterMs: 50 }, 10, again),
      ),
    ).toEqual(draws);
  });

  test('L1 objects returned: a page counts its items, a batch all its items, an error none', () => {
    expect(objectsReturned({ value: [{}, {}, {}] })).toBe(3);
    expect(objectsReturned({ id: 'u1', displayName: 'A' })).toBe(1);
    expect(objectsReturned(undefined)).toBe(0);
    expect(objectsReturned({ error: { code: 'Request_ResourceNotFound' } })).toBe(0);
    expect(
      objectsReturned({
        responses: [
          { id: '1', status: 200, body: { value: [{}, {}] } },
          { id: '2', status: 404, body: { error: { code: 'x' } } },
          { id: '3', status: 200, body: { id: 'g' } },
          { id: '4', status: 204 },
        ],
      }),
    ).toBe(3);
  });

  test('L1 the text form: base, per object and jitter; anything else is refused', () => {
    expect(parseLatencyModel('150ms+1ms')).toEqual({ baseMs: 150, perObjectMs: 1 });
    expect(parseLatencyModel(' 150 + 0.5 ~ 20ms ')).toEqual({
      baseMs: 150,
      perObjectMs: 0.5,
      jitterMs: 20,
    });
    expect(parseLatencyModel('200ms')).toEqual({ baseMs: 200, perObjectMs: 0 });
    expect(() => parseLatencyModel('fast')).toThrow(/not <base>ms/);
    expect(() => parseLatencyModel('150ms+-1ms')).toThrow(/not <base>ms/);
    expect(formatLatencyModel({ baseMs: 150, perObjectMs: 1, jitterMs: 20 })).toBe(
      '150ms+1ms/object~20ms',
    );
  });

  test('L1 a fault-plan latency rule carries its per-object part to the decision', () => {
    const engine = createFaultEngine({
      seed: 1,
      faults: [{ kind: 'latency', ms: 150, perObjectMs: 1, match: { path: '^/users$' } }],
    });
    const request = { method: 'GET', path: '/users', clientId: 'a', inner: false, page: 1 };
    expect(engine.decide(request)).toMatchObject({ latencyMs: 150, latencyPerObjectMs: 1 });
    expect(engine.decide({ ...request, path: '/groups' }).latencyPerObjectMs).toBeUndefined();
  });

  test('L1 a simulator on the virtual clock advances it by the model delay of each answer', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({
      clock,
      latency: '150ms+1ms',
      throttling: false,
      faultPlan: {
        seed: 1,
        faults: [{ kind: 'latency', ms: 10, perObjectMs: 2, match: { path: '^/groups$' } }],
      },
      seed: {
        users: Array.from({ length: 7 }, (_, i) => ({
          userPrincipalName: `u${i}@contoso.example`,
          displayName: `U ${i}`,
          mailNickname: `u${i}`,
          accountEnabled: true,
        })),
      },
    });
    expect(sim.latency).toEqual({ baseMs: 150, perObjectMs: 1 });
    const graph = graphFor(sim);
    await graph.api('/users').top(1).get(); // takes the token first
    const before = clock.now();
    const page = (await graph.api('/users').top(5).select('id').get()) as { value: unknown[] };
    expect(page.value).toHaveLength(5);
    expect(clock.now() - before).toBe(150 + 5);

    const one = clock.now();
    const groups = (await graph.api('/groups').select('id').get()) as { value: unknown[] };
    // Model plus the fault plan's rule: 150 + 1 × n, then 10 + 2 × n.
    expect(clock.now() - one).toBe(150 + 10 + 3 * groups.value.length);

    const batchStart = clock.now();
    await graph.api('/$batch').post({
      requests: [
        { id: '1', method: 'GET', url: '/users?$top=3&$select=id' },
        { id: '2', method: 'GET', url: '/users?$top=2&$select=id' },
      ],
    });
    // One envelope: one base, every item's objects.
    expect(clock.now() - batchStart).toBe(150 + 5);
  });
});
