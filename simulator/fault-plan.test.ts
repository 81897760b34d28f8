/**
 * Fault plans as data (validation, JSON and YAML files), the seeded engine (reproducible from
 * the seed, rules independent of each other), the virtual clock and the throttling buckets, as
 * units without a network.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createVirtualClock } from './clock.js';
import type { FaultPlan, FaultRequest } from './fault-plan.js';
import { createFaultEngine, FaultPlanError, loadFaultPlan, parseFaultPlan } from './fault-plan.js';
import { createRandomSource } from './random.js';
import { tempDir } from './test-helpers/simulator.js';
import { createThrottle, resourceUnitCost, tenantResourceUnits } from './throttle.js';

const GET_USERS: FaultRequest = {
  method: 'GET',
  path: '/users',
  clientId: 'app',
  inner: false,
  page: 1,
};
const POST_USERS: FaultRequest = { ...GET_USERS, method: 'POST' };

function firing(plan: FaultPlan, requests: number, request: FaultRequest = GET_USERS): number[] {
  const engine = createFaultEngine(plan);
  const fired: number[] = [];
  for (let i = 1; i <= requests; i += 1) {
    if (engine.decide(request).fired.length > 0) fired.push(i);
  }
  return fired;
}

describe('fault plan documents', () => {
  test('are validated with every problem named', () => {
    expect(() => parseFaultPlan({ faults: [] })).toThrow(FaultPlanError);
    expect(() => parseFaultPlan({ seed: 1, faults: [{ kind: 'explode' }] })).toThrow(
      /fault plan is invalid/,
    );
    expect(() =>
      parseFaultPlan({
        seed: 1,
        faults: [{ kind: 'status', status: 503, when: { probability: 2 } }],
      }),
    ).toThrow(/probability/);
    expect(() =>
      parseFaultPlan({ seed: 1, faults: [{ kind: 'latency', ms: 5, match: { path: '(' } }] }),
    ).toThrow(/faults\[0\]\.match\.path is not a regular expression/);
    expect(() => parseFaultPlan({ seed: 1, faults: [], extra: true })).toThrow(/additional/);
  });

  test('load from YAML and JSON files', async () => {
    const dir = await tempDir();
    const yamlPath = join(dir, 'plan.yaml');
    await writeFile(
      yamlPath,
      [
        'seed: 42',
        'faults:',
        '  - kind: lost-response',
        "    match: { method: POST, path: '^/users$' }",
        '    when: { nth: [3] }',
        '  - kind: throttle',
        '    retryAfterSeconds: 300',
        '    when: { from: 100, times: 20 }',
      ].join('\n'),
    );
    const plan = await loadFaultPlan(yamlPath);
    expect(plan.seed).toBe(42);
    expect(plan.faults.map((f) => f.kind)).toEqual(['lost-response', 'throttle']);
    const jsonPath = join(dir, 'plan.json');
    await writeFile(jsonPath, JSON.stringify(plan));
    await expect(loadFaultPlan(jsonPath)).resolves.toEqual(plan);
    await writeFile(jsonPath, '{ nope');
    await expect(loadFaultPlan(jsonPath)).rejects.toThrow(/cannot be parsed/);
  });

  test('the catalogue plan shipped with the simulator is valid', async () => {
    const plan = await loadFaultPlan(
      fileURLToPath(new URL('./fault-plans/catalogue.yaml', import.meta.url)),
    );
    expect(plan.faults.map((f) => f.kind)).toEqual([
      'throttle',
      'throttle',
      'batch-item',
      'lost-response',
      'replication-lag',
      'unauthorized',
      'page',
    ]);
  });
});

describe('fault engine', () => {
  test('the same seed gives the same faults; another seed gives others', () => {
    const plan = (seed: number): FaultPlan => ({
      seed,
      faults: [{ kind: 'status', status: 503, when: { probability: 0.3 } }],
    });
    const a = firing(plan(7), 200);
    expect(firing(plan(7), 200)).toEqual(a);
    expect(firing(plan(8), 200)).not.toEqual(a);
    expect(a.length).toBeGreaterThan(35);
    expect(a.length).toBeLessThan(85);
  });

  test('rules draw from their own streams: adding a rule does not move another’s faults', () => {
    const base: FaultPlan = {
      seed: 3,
      faults: [{ kind: 'status', status: 500, when: { probability: 0.2 } }],
    };
    const withLatency: FaultPlan = {
      seed: 3,
      faults: [
        { kind: 'status', status: 500, when: { probability: 0.2 } },
        { kind: 'latency', ms: 10, jitterMs: 50, when: { probability: 0.5 } },
      ],
    };
    const statusOnly = (plan: FaultPlan): number[] => {
      const engine = createFaultEngine(plan);
      return Array.from({ length: 100 }, (_, i) => i + 1).filter(
        () => engine.decide(GET_USERS).respond !== undefined,
      );
    };
    expect(statusOnly(withLatency)).toEqual(statusOnly(base));
  });

  test('nth, from, every and times select matching requests; match filters them', () => {
    const plan = (when: object, match?: object): FaultPlan => ({
      seed: 1,
      faults: [{ kind: 'status', status: 503, when, ...(match ? { match } : {}) }],
    });
    expect(firing(plan({ nth: [2, 5] }), 10)).toEqual([2, 5]);
    expect(firing(plan({ from: 4, every: 3 }), 12)).toEqual([4, 7, 10]);
    expect(firing(plan({ from: 2, times: 2 }), 10)).toEqual([2, 3]);
    expect(firing(plan({}, { method: 'POST' }), 5)).toEqual([]);
    expect(firing(plan({}, { method: ['get'], path: '^/users$' }), 2)).toEqual([1, 2]);
  });

  test('decisions: lost responses on writes only, pages, batch items, revocation', () => {
    const engine = createFaultEngine({
      seed: 1,
      faults: [
        { kind: 'lost-response', mode: 'reset' },
        { kind: 'page', page: 3, mode: 'repeat' },
        { kind: 'batch-item', status: 429, retryAfterSeconds: 30 },
        { kind: 'unauthorized', when: { nth: [2] }, revokeTokens: true },
      ],
    });
    expect(engine.decide(GET_USERS)).toEqual({ fired: [] });
    expect(engine.decide(POST_USERS)).toMatchObject({
      lost: 'reset',
      unauthorized: { revokeTokens: true },
    });
    expect(engine.decide({ ...GET_USERS, page: 3 })).toMatchObject({ repeatPage: true });
    expect(engine.decide({ ...POST_USERS, inner: true })).toMatchObject({
      lost: 'reset',
      respond: { status: 429, retryAfterSeconds: 30, throttle: true },
    });
    const lag = createFaultEngine({ seed: 1, faults: [{ kind: 'replication-lag', ms: 5000 }] });
    expect(lag.lagFor(POST_USERS)).toEqual({ ms: 5000, status: 404 });
    expect(lag.lagFor(GET_USERS)).toEqual({ ms: 0, status: 404 });
  });

  test('GR1-GR4 kinds: delta-page on delta reads only, 202, decimal Retry-After, lag answered 400', () => {
    const plan = parseFaultPlan({
      seed: 5,
      faults: [
        { kind: 'delta-page', size: 3 },
        { kind: 'delta-page', size: 5 },
        { kind: 'status', status: 202, match: { path: '^/users/[^/]+$' } },
        { kind: 'throttle', retryAfterSeconds: 1.5, match: { method: 'PATCH' } },
        { kind: 'replication-lag', ms: 2000, status: 400 },
      ],
    });
    const engine = createFaultEngine(plan);
    expect(engine.decide({ ...GET_USERS, path: '/users/delta' })).toMatchObject({
      deltaPageSize: 3,
    });
    expect(engine.decide(GET_USERS).deltaPageSize).toBeUndefined();
    expect(engine.decide({ ...GET_USERS, path: '/users/u1' })).toMatchObject({
      respond: { status: 202, throttle: false },
    });
    expect(engine.decide({ ...POST_USERS, method: 'PATCH' })).toMatchObject({
      respond: { status: 429, retryAfterSeconds: 1.5 },
    });
    expect(engine.lagFor(POST_USERS)).toEqual({ ms: 2000, status: 400 });
    for (const bad of [
      { kind: 'status', status: 302 },
      { kind: 'replication-lag', ms: 1, status: 409 },
      { kind: 'delta-page', size: 0 },
    ]) {
      expect(() => parseFaultPlan({ seed: 1, faults: [bad] })).toThrow(FaultPlanError);
    }
  });

  test('random streams are reproducible and independent', () => {
    const a = createRandomSource(99);
    const b = createRandomSource(99);
    const draw = (n: number, s: ReturnType<typeof a.stream>) =>
      Array.from({ length: n }, () => s.int(0, 1000));
    expect(draw(10, a.stream(0))).toEqual(draw(10, b.stream(0)));
    expect(draw(10, a.stream(0))).not.toEqual(draw(10, a.stream(1)));
  });
});

describe('virtual clock', () => {
  test('advances only when told; concurrent sleeps end together', async () => {
    const clock = createVirtualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
    await Promise.all([clock.sleep(30_000), clock.sleep(30_000), clock.sleep(10_000)]);
    expect(clock.now()).toBe(31_500);
    expect(() => clock.advance(-1)).toThrow();
  });
});

describe('throttling buckets', () => {
  test('resource units per 10 s by tenant size, with Retry-After from the bucket', () => {
    expect([tenantResourceUnits(10), tenantResourceUnits(50), tenantResourceUnits(501)]).toEqual([
      3_500, 5_000, 8_000,
    ]);
    const clock = createVirtualClock();
    const throttle = createThrottle(clock);
    const take = () =>
      throttle.take({ appId: 'a', tenantId: 't', resourceUnits: 2, writes: 0, tenantUsers: 10 });
    for (let i = 0; i < 1_750; i += 1) expect(take().ok).toBe(true);
    const refused = take();
    expect(refused).toMatchObject({
      ok: false,
      retryAfterSeconds: 1,
      headers: { 'x-ms-throttle-information': 'ResourceUnitLimitExceeded' },
    });
    clock.advance(1_000);
    const after = take();
    expect(after).toMatchObject({
      ok: true,
      headers: { 'x-ms-resource-unit': '2', 'x-ms-throttle-limit-percentage': '0.9' },
    });
  });

  test('3,000 writes per 150 s per app+tenant, simulated in no real time', () => {
    const clock = createVirtualClock();
    const throttle = createThrottle(clock);
    const write = (appId = 'a') =>
      throttle.take({ appId, tenantId: 't', resourceUnits: 1, writes: 1, tenantUsers: 10_000 });
    let accepted = 0;
    let throttled = 0;
    // Two simulated hours of a client that writes as fast as the buckets allow and waits
    // Retry-After in simulated time when refused.
    const end = clock.now() + 2 * 60 * 60 * 1000;
    while (clock.now() < end) {
      const result = write();
      if (result.ok) accepted += 1;
      else {
        throttled += 1;
        clock.advance(result.retryAfterSeconds * 1000);
      }
    }
    // 3,000 at once, then 20 per second: 3,000 + 7,200 s x 20/s.
    expect(accepted).toBeGreaterThan(146_000);
    expect(accepted).toBeLessThanOrEqual(147_000);
    expect(throttled).toBeGreaterThan(0);
    // The tenant-wide 18,000 writes / 5 min bucket binds only with several apps.
    expect(write('b').ok).toBe(true);
  });

  test('request cost follows Graph’s table and modifiers', () => {
    const url = (q: string) => new URL(`https://x/v1.0/users${q}`);
    expect(resourceUnitCost(2, url(''))).toBe(2);
    expect(resourceUnitCost(2, url('?$select=id'))).toBe(1);
    expect(resourceUnitCost(2, url('?$select=id&$top=5'))).toBe(1);
    expect(resourceUnitCost(1, url('?$expand=manager'))).toBe(2);
    expect(resourceUnitCost(3, url('?$top=999'))).toBe(3);
  });
});
