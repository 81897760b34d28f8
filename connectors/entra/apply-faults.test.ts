/**
 * The paced, batched, exactly-once apply against the simulator's fault plans on its virtual
 * clock (catalogue G1-G4, G6, G7, G9, G10): the real Graph SDK and @azure/identity over HTTPS,
 * the engine's scheduler, the connector's writer. Waits of minutes take no real time.
 */
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../engine/apply/apply.js';
import type { WriteContext } from '../../engine/ports.js';
import { assignLicenseOperation } from './operations.js';
import type { GraphOperation } from './batch-executor.js';
import { createChange, harness, planOf, usersNamed } from './test-helpers.js';

const WRITES = ['POST', 'PATCH', 'PUT', 'DELETE'];

function context(): WriteContext {
  return {
    inDoubt: new Set(),
    created: new Set(),
    createdIds: new Map(),
    signal: new AbortController().signal,
  };
}

describe('paced apply under Graph faults', () => {
  it('G1: 429 with Retry-After 30 on 20% of writes: each throttled op waits >= 30 s, concurrency drops, every op applied once', async () => {
    const h = await harness({
      faultPlan: {
        seed: 11,
        faults: [
          {
            kind: 'throttle',
            retryAfterSeconds: 30,
            match: { method: WRITES },
            when: { probability: 0.2 },
          },
        ],
      },
      target: { concurrency: 1 },
    });
    const changes = Array.from({ length: 100 }, (_, i) => createChange(i));
    const report = await applyPlan(planOf(changes), h.target.writer, { concurrency: 1 });

    expect(report.ops.filter((o) => o.outcome !== 'applied')).toEqual([]);
    expect(usersNamed(h.sim, 'person')).toHaveLength(100);
    expect(report.stats?.throttled).toBeGreaterThan(5);
    expect(h.sim.counters.throttled).toBeGreaterThan(5);
    expect(h.target.pacer.snapshot().slowDowns).toBeGreaterThan(0);
    // One batch in flight: after a 429, nothing is sent for at least its Retry-After.
    const log = h.sim.requestLog.filter((e) => e.path.startsWith('/v1.0/'));
    for (const [i, entry] of log.entries()) {
      if (entry.status !== 429) continue;
      const next = log.slice(i + 1).find((e) => e.time !== entry.time);
      if (next === undefined) continue;
      expect(Date.parse(next.time) - Date.parse(entry.time)).toBeGreaterThanOrEqual(30_000);
    }
  });

  it('G2: Retry-After 300 (above the SDK cap of 180 s) is waited in full, never retried early', async () => {
    const h = await harness({
      faultPlan: {
        seed: 2,
        faults: [
          {
            kind: 'throttle',
            retryAfterSeconds: 300,
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [1] },
          },
        ],
      },
      target: { batchSize: 1, concurrency: 1 },
    });
    const started = h.clock.now();
    const report = await applyPlan(planOf([createChange(1)]), h.target.writer);
    expect(report.ops[0]?.outcome).toBe('applied');
    const posts = h.sim.requestLog.filter((e) => e.method === 'POST' && e.path === '/v1.0/users');
    expect(posts.map((p) => p.status)).toEqual([429, 201]);
    expect(Date.parse(posts[1]!.time) - Date.parse(posts[0]!.time)).toBeGreaterThanOrEqual(300_000);
    expect(h.clock.now() - started).toBeGreaterThanOrEqual(300_000);
    expect(report.stats?.longestRetryAfterMs).toBe(300_000);
  });

  it('G2: a Retry-After past the time budget stops the run, resumable, without an early retry', async () => {
    const h = await harness({
      faultPlan: {
        seed: 2,
        faults: [
          {
            kind: 'throttle',
            retryAfterSeconds: 300,
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [1] },
          },
        ],
      },
      target: { batchSize: 1, concurrency: 1 },
    });
    const report = await applyPlan(planOf([createChange(1), createChange(2)]), h.target.writer, {
      timeBudgetMs: 120_000,
      concurrency: 1,
    });
    expect(report.stopped?.code).toBe('time-budget');
    expect(report.ops.map((o) => o.outcome)).toEqual(['not-run', 'not-run']);
    expect(h.sim.requestLog.filter((e) => e.path === '/v1.0/users')).toHaveLength(1);
    expect(usersNamed(h.sim, 'person')).toEqual([]);
  });

  it('G3: a $batch answering 200 with three inner 429s and one inner 400: 429s retried after the longest retry-after, the 400 recorded, the rest commit', async () => {
    const h = await harness({
      faultPlan: {
        seed: 3,
        faults: [
          { kind: 'batch-item', status: 429, retryAfterSeconds: 10, when: { nth: [2] } },
          { kind: 'batch-item', status: 429, retryAfterSeconds: 45, when: { nth: [5, 9] } },
          { kind: 'batch-item', status: 400, when: { nth: [12] } },
        ],
      },
      target: { concurrency: 1 },
    });
    const changes = Array.from({ length: 20 }, (_, i) => createChange(i));
    const report = await applyPlan(planOf(changes), h.target.writer);

    const failed = report.ops.filter((o) => o.outcome === 'failed');
    expect(failed.map((o) => [o.changeId, o.error?.status, o.error?.class])).toEqual([
      [changes[11]!.id, 400, 'final'],
    ]);
    expect(report.ops.filter((o) => o.outcome === 'applied')).toHaveLength(19);
    expect(usersNamed(h.sim, 'person')).toHaveLength(19);
    const batches = h.sim.requestLog.filter((e) => e.path === '/v1.0/$batch');
    expect(batches).toHaveLength(2);
    expect(Date.parse(batches[1]!.time) - Date.parse(batches[0]!.time)).toBeGreaterThanOrEqual(
      45_000,
    );
    const retried = h.sim.requestLog.filter((e) => e.batch && e.time === batches[1]!.time);
    expect(retried.map((e) => e.status)).toEqual([201, 201, 201]);
  });

  it('G4: a create inside a $batch commits but its answer is lost (504): reconciled by UPN and anchor before any retry; exactly one user, "created (recovered)"', async () => {
    const h = await harness({
      faultPlan: {
        seed: 4,
        faults: [
          {
            kind: 'lost-response',
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [3] },
          },
        ],
      },
    });
    const changes = Array.from({ length: 10 }, (_, i) => createChange(i));
    const report = await applyPlan(planOf(changes), h.target.writer);
    expect(report.ops.every((o) => o.outcome === 'applied')).toBe(true);
    expect(report.ops.filter((o) => o.recovered).map((o) => o.changeId)).toEqual([changes[2]!.id]);
    expect(usersNamed(h.sim, 'person')).toHaveLength(10);
    expect(report.stats?.reconciled).toBe(1);
    // Read back before any retry: no second POST for it.
    expect(h.sim.requestLog.filter((e) => e.method === 'POST' && e.batch)).toHaveLength(10);
  });

  it('G4: a single create whose connection is reset after it committed, with replication lag: "already exists" then read back within the lag window; exactly one user', async () => {
    const h = await harness({
      faultPlan: {
        seed: 5,
        faults: [
          {
            kind: 'lost-response',
            mode: 'reset',
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [1] },
          },
          { kind: 'replication-lag', ms: 5000, match: { method: 'POST' } },
        ],
      },
      target: { batchSize: 1 },
    });
    const report = await applyPlan(planOf([createChange(7)]), h.target.writer);
    expect(report.ops[0]).toMatchObject({ outcome: 'applied', recovered: true });
    expect(report.ops[0]?.targetId).toBe(h.sim.store.getUserByUpn('person7@contoso.com')?.user.id);
    expect(usersNamed(h.sim, 'person')).toEqual(['person7@contoso.com']);
  });

  it('G4: "already exists" for an account that is not ours (anchor differs) fails that create only', async () => {
    const h = await harness({
      seed: {
        users: [
          {
            userPrincipalName: 'person1@contoso.com',
            displayName: 'Someone else',
            mailNickname: 'other',
            accountEnabled: true,
            employeeId: 'X999',
          },
        ],
      },
    });
    const report = await applyPlan(planOf([createChange(1), createChange(2)]), h.target.writer);
    expect(report.ops.map((o) => [o.outcome, o.error?.class])).toEqual([
      ['failed', 'final'],
      ['applied', undefined],
    ]);
    expect(report.ops[0]?.error?.message).toMatch(/already exists.*held by another account/);
  });

  it('G6: a just-created user answers 404 for 5 s: bounded retry succeeds; a 404 on an object not created this run is stale, never a deprovision', async () => {
    const h = await harness({
      faultPlan: {
        seed: 6,
        faults: [{ kind: 'replication-lag', ms: 5000, match: { method: 'POST' } }],
      },
    });
    const ctx = context();
    const [created] = await h.target.writer.applyBatch([createChange(1)], ctx);
    expect(created).toMatchObject({ ok: true });
    const id = created?.ok ? created.targetId! : '';
    expect(ctx.created.has(id)).toBe(true);
    const patch = (objectId: string): GraphOperation => ({
      changeId: `updateUser:${objectId}`,
      request: { method: 'PATCH', url: `/users/${objectId}`, body: { jobTitle: 'Pilot' } },
      semantics: { kind: 'update', objectId },
    });
    const started = h.clock.now();
    const [updated, stale] = await h.target.applyOperations(
      [patch(id), patch('00000000-0000-4000-8000-00000000dead')],
      ctx,
    );
    expect(updated).toMatchObject({ ok: true });
    expect(h.clock.now() - started).toBeGreaterThanOrEqual(5000);
    expect(stale).toMatchObject({ ok: false, error: { status: 404, class: 'stale' } });
    expect(h.sim.store.getUserById(id)?.user.jobTitle).toBe('Pilot');
    const patches = h.sim.requestLog.filter((e) => e.method === 'PATCH');
    expect(patches.filter((e) => e.status === 404).length).toBeGreaterThan(1);
  });

  it('G7: a 401 mid-run with every issued token revoked: the credential refreshes, the op is retried once, the run completes; no token in the report', async () => {
    const h = await harness({
      faultPlan: {
        seed: 7,
        faults: [{ kind: 'unauthorized', revokeTokens: true, when: { nth: [4] } }],
      },
      target: { batchSize: 5, concurrency: 1 },
    });
    const changes = Array.from({ length: 30 }, (_, i) => createChange(i));
    const report = await applyPlan(planOf(changes), h.target.writer);
    expect(report.ops.filter((o) => o.outcome !== 'applied')).toEqual([]);
    expect(usersNamed(h.sim, 'person')).toHaveLength(30);
    expect(report.stats?.tokenRefreshes).toBe(1);
    const tokenRequests = h.sim.requestLog.filter((e) => e.path.includes('/oauth2/v2.0/token'));
    expect(tokenRequests).toHaveLength(2);
    expect(JSON.stringify(report)).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it("G9: no seats left, usageLocation missing: each affected user fails with Graph's error, the others proceed, no retry", async () => {
    const sku = '05e9a617-0261-4cee-bb44-138d3ef5d965';
    const users = ['a', 'b', 'c', 'd'].map((n) => ({
      userPrincipalName: `${n}@contoso.com`,
      displayName: n,
      mailNickname: n,
      accountEnabled: true,
      ...(n === 'b' ? {} : { usageLocation: 'GB' }),
    }));
    const h = await harness({
      seed: {
        users,
        subscribedSkus: [
          {
            skuId: sku,
            skuPartNumber: 'SPE_E3',
            prepaidUnits: { enabled: 2, warning: 0 },
            servicePlans: [],
          },
        ],
      },
    });
    const ids = users.map((u) => h.sim.store.getUserByUpn(u.userPrincipalName)!.user.id);
    const results = await h.target.applyOperations(
      ids.map((id, i) => assignLicenseOperation(`license:${i}`, id, [{ skuId: sku }])),
      context(),
    );
    expect(
      results.map((r) =>
        r.ok ? 'ok' : 'error' in r ? `${r.error.status} ${r.error.class}` : 'not-run',
      ),
    ).toEqual(['ok', '400 final', 'ok', '400 final']);
    const messages = results.map((r) => (!r.ok && 'error' in r ? r.error.message : ''));
    expect(messages[1]).toMatch(/usage location/);
    expect(messages[3]).toMatch(/does not have any available licenses/);
    expect(h.sim.requestLog.filter((e) => e.path.endsWith('/assignLicense'))).toHaveLength(4);
  });

  it('G10: consent revoked mid-run (60% of writes answer 403): the circuit breaker stops the apply; the rest is not run', async () => {
    const h = await harness({
      faultPlan: {
        seed: 10,
        faults: [
          {
            kind: 'status',
            status: 403,
            match: { method: WRITES },
            when: { from: 41, probability: 0.6 },
          },
        ],
      },
      target: { concurrency: 1 },
    });
    const changes = Array.from({ length: 400 }, (_, i) => createChange(i));
    const report = await applyPlan(planOf(changes), h.target.writer);
    expect(report.stopped?.code).toBe('circuit-open');
    const counts = { applied: 0, failed: 0, 'not-run': 0, skipped: 0 };
    for (const op of report.ops) counts[op.outcome]++;
    expect(counts.applied).toBeGreaterThanOrEqual(40);
    expect(counts['not-run']).toBeGreaterThan(200);
    expect(report.ops.find((o) => o.outcome === 'failed')?.error).toMatchObject({
      status: 403,
      code: 'Authorization_RequestDenied',
      class: 'permission',
    });
  });
});
