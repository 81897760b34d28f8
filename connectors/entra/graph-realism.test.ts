/**
 * What real tenants do that the connector must survive (issue 25, catalogue GR1-GR4), against
 * the simulator's fault plans on its virtual clock: delta pages far smaller than asked, a 202
 * Accepted with no body on a read, a decimal Retry-After, and replication lag that answers 400
 * (not only 404) to a member add on a group created a moment ago.
 */
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../engine/apply/apply.js';
import type { WriteContext } from '../../engine/ports.js';
import { addMembersOperations, upsertGroupOperation } from './operations.js';
import { createChange, harness, MARKER, planOf, usersNamed } from './test-helpers.js';

function context(): WriteContext {
  return {
    inDoubt: new Set(),
    created: new Set(),
    createdIds: new Map(),
    signal: new AbortController().signal,
  };
}

function seedUsers(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    userPrincipalName: `user${i}@contoso.com`,
    displayName: `User ${i}`,
    mailNickname: `user${i}`,
    accountEnabled: true,
    employeeId: String(i),
  }));
}

describe('GR: the connector survives what real tenants answer', () => {
  it('GR1: delta pages of 2 objects (however many are asked for): every change still arrives', async () => {
    const h = await harness({
      seed: { users: seedUsers(7) },
      throttling: false,
      faultPlan: { seed: 1, faults: [{ kind: 'delta-page', size: 2 }] },
    });
    const request = { userAttributes: ['employeeId', 'jobTitle', MARKER] };
    const first = await h.target.delta.read(request);
    expect(first.tenant.users).toHaveLength(7);
    await applyPlan(planOf([1, 2, 3, 4, 5].map((i) => createChange(i))), h.target.writer);
    const before = h.sim.requestLog.length;
    const second = await h.target.delta.read(request);
    expect(second).toMatchObject({ mode: 'delta', changed: 5, removed: 0 });
    expect(second.tenant.users).toHaveLength(12);
    // Five changes in pages of two: three pages, each followed.
    const pages = h.sim.requestLog.slice(before).filter((e) => e.path.includes('/users/delta'));
    expect(pages.length).toBe(3);
  });

  it('GR2: a 202 Accepted with no body on GET /users/{upn} is asked again, not read as an answer', async () => {
    const h = await harness({
      faultPlan: {
        seed: 2,
        faults: [
          {
            kind: 'lost-response',
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [1] },
          },
          {
            kind: 'status',
            status: 202,
            match: { method: 'GET', path: '^/users/[^/]+$' },
            when: { nth: [1, 2] },
          },
        ],
      },
      target: { batchSize: 1, concurrency: 1 },
    });
    // The create commits but its answer is lost: the writer reads the user back (G4), and
    // that read first meets two 202s.
    const report = await applyPlan(planOf([createChange(1)]), h.target.writer);
    expect(report.ops[0]).toMatchObject({ outcome: 'applied' });
    expect(usersNamed(h.sim, 'person')).toHaveLength(1);
    const reads = h.sim.requestLog.filter(
      (e) => e.method === 'GET' && /\/users\/[^/?]+/.test(e.path),
    );
    expect(reads.map((e) => e.status)).toEqual([202, 202, 200]);
  });

  it('GR3: Retry-After 1.5 (decimal seconds) is waited in full, never read as 1 s or as no wait', async () => {
    const h = await harness({
      faultPlan: {
        seed: 3,
        faults: [
          {
            kind: 'throttle',
            retryAfterSeconds: 1.5,
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [1] },
          },
        ],
      },
      target: { batchSize: 1, concurrency: 1 },
    });
    const report = await applyPlan(planOf([createChange(1)]), h.target.writer);
    expect(report.ops[0]?.outcome).toBe('applied');
    const posts = h.sim.requestLog.filter((e) => e.method === 'POST' && e.path === '/v1.0/users');
    expect(posts.map((p) => p.status)).toEqual([429, 201]);
    expect(Date.parse(posts[1]!.time) - Date.parse(posts[0]!.time)).toBeGreaterThanOrEqual(1500);
    expect(report.stats?.longestRetryAfterMs).toBe(1500);
  });

  it('GR4: a member add to a group created a moment ago answers 400 while it replicates: retried, applied once', async () => {
    const h = await harness({
      seed: { users: seedUsers(2) },
      faultPlan: {
        seed: 4,
        faults: [
          {
            kind: 'replication-lag',
            ms: 5000,
            status: 400,
            match: { method: 'PATCH', path: '^/groups\\(' },
          },
        ],
      },
    });
    const ctx = context();
    const upsert = upsertGroupOperation('createGroup:ops', 'ops', {
      displayName: 'Ops',
      mailEnabled: false,
      mailNickname: 'ops',
      securityEnabled: true,
    });
    const [created] = await h.target.applyOperations([upsert], ctx);
    expect(created).toMatchObject({ ok: true });
    const groupId = created?.ok ? created.targetId! : '';
    const members = ['user0@contoso.com', 'user1@contoso.com'].map(
      (upn) => h.sim.store.getUserByUpn(upn)!.user.id,
    );
    const started = h.clock.now();
    const [added] = await h.target.applyOperations(
      addMembersOperations('addMembers:ops', groupId, members, h.connection.graphUrl),
      ctx,
    );
    expect(added).toMatchObject({ ok: true });
    expect(h.clock.now() - started).toBeGreaterThanOrEqual(5000);
    const patches = h.sim.requestLog.filter(
      (e) => e.method === 'PATCH' && e.path === `/v1.0/groups/${groupId}`,
    );
    expect(patches.filter((e) => e.status === 400).length).toBeGreaterThan(0);
    expect(patches.at(-1)?.status).toBe(204);
    expect(
      h.sim.store
        .pageLinks('member', groupId, 0, 10)
        .map((l) => l.targetId)
        .sort(),
    ).toEqual([...members].sort());
  });
});
