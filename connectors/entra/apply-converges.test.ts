/**
 * Faults that used to leave an apply unfinished (issue 18), each produced by the simulator's
 * fault plan against the real Graph SDK and @azure/identity: a 401 inside a `$batch` after an
 * earlier refused send (G11), the member-by-member fallback under 5xx and 429 storms (G12), and
 * a delete whose answer was lost (G13).
 */
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../engine/apply/apply.js';
import type { Change, UserLifecycleChange } from '../../engine/model/plan.js';
import type { FaultRule } from '../../simulator/index.js';
import { createChange, harness, planOf, usersNamed } from './test-helpers.js';

function people(n: number): {
  userPrincipalName: string;
  displayName: string;
  mailNickname: string;
  accountEnabled: boolean;
}[] {
  return Array.from({ length: n }, (_, i) => ({
    userPrincipalName: `member${i}@contoso.com`,
    displayName: `Member ${i}`,
    mailNickname: `member${i}`,
    accountEnabled: true,
  }));
}

const GROUP = {
  displayName: 'Staff',
  mailNickname: 'staff',
  mailEnabled: false,
  securityEnabled: true,
  groupTypes: [],
  uniqueName: 'entrasync-staff',
};

describe('apply converges in one run', () => {
  const refusedBatch: [string, FaultRule][] = [
    ['5xx', { kind: 'status', status: 503, match: { path: '^/\\$batch$' }, when: { nth: [1] } }],
    [
      '429',
      {
        kind: 'throttle',
        retryAfterSeconds: 20,
        match: { path: '^/\\$batch$' },
        when: { nth: [1] },
      },
    ],
  ];
  for (const [label, refusal] of refusedBatch) {
    it(`G11: a 401 inside a $batch after that batch was once refused with a ${label}: refreshed and resent, every create applied once`, async () => {
      const h = await harness({
        faultPlan: {
          seed: 11,
          faults: [
            refusal,
            {
              kind: 'unauthorized',
              revokeTokens: true,
              match: { method: 'POST', path: '^/users$' },
              when: { nth: [3] },
            },
          ],
        },
        target: { concurrency: 1 },
      });
      const changes = Array.from({ length: 10 }, (_, i) => createChange(i));
      const report = await applyPlan(planOf(changes), h.target.writer, { concurrency: 1 });
      expect(report.ops.filter((o) => o.outcome !== 'applied')).toEqual([]);
      expect(usersNamed(h.sim, 'person')).toHaveLength(10);
      expect(report.stats?.tokenRefreshes).toBe(1);
    });
  }

  it('G11: two 401s in a row inside $batch for one operation: each refreshed and resent, every create applied once', async () => {
    const h = await harness({
      faultPlan: {
        seed: 13,
        faults: [
          {
            kind: 'unauthorized',
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [1, 2, 3] },
          },
        ],
      },
      target: { concurrency: 1 },
    });
    const changes = Array.from({ length: 3 }, (_, i) => createChange(i));
    const report = await applyPlan(planOf(changes), h.target.writer, { concurrency: 1 });
    expect(report.ops.filter((o) => o.outcome !== 'applied')).toEqual([]);
    expect(usersNamed(h.sim, 'person')).toHaveLength(3);
  });

  it('G11: each 401 gets a refresh and a resend; three in a row (fresh credentials refused too) are final (auth), not a loop', async () => {
    const h = await harness({
      faultPlan: {
        seed: 12,
        faults: [
          { kind: 'status', status: 503, match: { path: '^/\\$batch$' }, when: { nth: [1] } },
          {
            kind: 'unauthorized',
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [3, 11, 12] },
          },
        ],
      },
      target: { concurrency: 1 },
    });
    const changes = Array.from({ length: 10 }, (_, i) => createChange(i));
    const report = await applyPlan(planOf(changes), h.target.writer, { concurrency: 1 });
    const failed = report.ops.filter((o) => o.outcome === 'failed');
    expect(failed.map((o) => [o.changeId, o.error?.class])).toEqual([[changes[2]!.id, 'auth']]);
    expect(usersNamed(h.sim, 'person')).toHaveLength(9);
  });

  /**
   * A group and 5 users added by one `addMembers` change through the writer. `lost`: the
   * members PATCH commits but its answer is lost (504), so the resend meets "already exist";
   * otherwise member0 is a member already, so the PATCH meets "already exist" at once. Either
   * way the members go one `$ref` at a time.
   */
  async function memberFallback(lost: boolean, extra: FaultRule[], timeBudgetMs?: number) {
    const seedGroup = lost ? GROUP : { ...GROUP, members: ['member0@contoso.com'] };
    const h = await harness({
      seed: { users: people(5), groups: [seedGroup] },
      faultPlan: {
        seed: 13,
        faults: [
          ...(lost
            ? [
                {
                  kind: 'lost-response',
                  match: { method: 'PATCH', path: '^/groups/[^/]+$' },
                  when: { nth: [1] },
                } satisfies FaultRule,
              ]
            : []),
          ...extra,
        ],
      },
      target: { concurrency: 1 },
    });
    const groupId = h.sim.store.getGroupByUniqueName(GROUP.uniqueName)!.doc['id'] as string;
    const users = people(5).map((p) => ({
      id: h.sim.store.getUserByUpn(p.userPrincipalName)!.user.id,
      userPrincipalName: p.userPrincipalName,
    }));
    const change: Change = {
      id: 'addMembers:staff',
      kind: 'addMembers',
      reason: 'group-rule',
      message: '',
      provenance: [],
      group: { id: groupId, uniqueName: GROUP.uniqueName, displayName: GROUP.displayName },
      members: users,
    };
    const started = h.clock.now();
    const report = await applyPlan(planOf([change]), h.target.writer, {
      concurrency: 1,
      ...(timeBudgetMs === undefined ? {} : { timeBudgetMs }),
    });
    const refs = h.sim.requestLog.filter(
      (e) => e.method === 'POST' && e.path.endsWith('/members/$ref'),
    );
    const members = h.sim.store
      .pageLinks('member', groupId, 0, 100)
      .map((l) => l.targetId)
      .sort();
    return { h, op: report.ops[0], report, refs, members, users, started };
  }

  it('G12: after a lost member-add answer, a 503 in the member-by-member fallback is retried: the change applies', async () => {
    const { op, refs, members, users } = await memberFallback(true, [
      {
        kind: 'status',
        status: 503,
        match: { method: 'POST', path: '/members/\\$ref$' },
        when: { nth: [2] },
      },
    ]);
    expect(op).toMatchObject({ outcome: 'applied' });
    expect(members).toEqual(users.map((u) => u.id).sort());
    expect(refs.map((r) => r.status)).toContain(503);
  });

  it('G12: a 503 and a reset after commit in the member-by-member fallback are retried: every member added once', async () => {
    const { op, refs, members, users } = await memberFallback(false, [
      {
        kind: 'status',
        status: 503,
        match: { method: 'POST', path: '/members/\\$ref$' },
        when: { nth: [2] },
      },
      {
        kind: 'lost-response',
        mode: 'reset',
        match: { method: 'POST', path: '/members/\\$ref$' },
        when: { nth: [4] },
      },
    ]);
    expect(op).toMatchObject({ outcome: 'applied' });
    expect(members).toEqual(users.map((u) => u.id).sort());
    expect(refs.map((r) => r.status)).toEqual([400, 503, 204, 0, 400, 204, 204]);
  });

  it('G12: a 429 storm in the member-by-member fallback is waited out with Retry-After and capped: the change fails "throttled" after 12 sends', async () => {
    const { op, refs, h, started } = await memberFallback(false, [
      {
        kind: 'throttle',
        retryAfterSeconds: 30,
        match: { method: 'POST', path: '/members/\\$ref$' },
        when: { times: 40 },
      },
    ]);
    expect(op).toMatchObject({ outcome: 'failed', error: { status: 429, class: 'throttled' } });
    expect(refs).toHaveLength(12);
    expect(h.clock.now() - started).toBeGreaterThanOrEqual(11 * 30_000);
  });

  it('G12: a 429 in the fallback whose Retry-After passes the time budget stops the change resumably (not-run)', async () => {
    const { op, refs } = await memberFallback(
      false,
      [
        {
          kind: 'throttle',
          retryAfterSeconds: 600,
          match: { method: 'POST', path: '/members/\\$ref$' },
          when: { nth: [2] },
        },
      ],
      120_000,
    );
    expect(op).toMatchObject({ outcome: 'not-run' });
    expect(refs).toHaveLength(2);
  });

  it('G13: a delete whose answer was lost (504, then reset) is "deleted (recovered)": applied, the account in the recycle bin, nothing else deleted', async () => {
    for (const mode of ['gateway-timeout', 'reset'] as const) {
      const h = await harness({
        seed: { users: people(3) },
        faultPlan: {
          seed: 15,
          faults: [
            {
              kind: 'lost-response',
              mode,
              match: { method: 'DELETE', path: '^/users/' },
              when: { nth: [1] },
            },
          ],
        },
        target: { concurrency: 1, batchSize: mode === 'reset' ? 1 : 20 },
      });
      const target = h.sim.store.getUserByUpn('member1@contoso.com')!.user;
      const change: UserLifecycleChange = {
        id: `deleteUser:${target.userPrincipalName}`,
        kind: 'deleteUser',
        reason: 'left-scope',
        message: '',
        provenance: [],
        user: { id: target.id, userPrincipalName: String(target.userPrincipalName) },
      };
      const changes: Change[] = [change, createChange(1)];
      const report = await applyPlan(planOf(changes), h.target.writer, { concurrency: 1 });
      expect(report.ops.map((o) => [o.changeId, o.outcome, o.recovered])).toEqual([
        [change.id, 'applied', true],
        [changes[1]!.id, 'applied', undefined],
      ]);
      expect(h.sim.store.getUserById(target.id)).toBeUndefined();
      expect(h.sim.store.getObject(target.id)?.state).toBe('deleted');
      expect(usersNamed(h.sim, 'member')).toEqual(['member0@contoso.com', 'member2@contoso.com']);
      expect(report.stats?.reconciled).toBe(1);
    }
  });

  it('G14: a Microsoft 365 group create with an owner whose answer was lost: the replayed upsert meets "owners already exist" and is resent without them; one group, owner kept', async () => {
    const h = await harness({
      seed: { users: people(1) },
      faultPlan: {
        seed: 16,
        faults: [
          {
            kind: 'lost-response',
            match: { method: 'PATCH', path: '^/groups' },
            when: { nth: [1] },
          },
        ],
      },
      target: { concurrency: 1 },
    });
    const owner = h.sim.store.getUserByUpn('member0@contoso.com')!.user;
    const change: Change = {
      id: 'createGroup:entrasync-guild',
      kind: 'createGroup',
      reason: 'group-rule',
      message: '',
      provenance: [],
      group: { uniqueName: 'entrasync-guild', displayName: 'Guild' },
      properties: {
        displayName: 'Guild',
        description: null,
        mailNickname: 'entrasync-guild',
        mailEnabled: true,
        securityEnabled: false,
        groupTypes: ['Unified'],
      },
      owners: [{ id: owner.id, userPrincipalName: String(owner.userPrincipalName) }],
    };
    const report = await applyPlan(planOf([change]), h.target.writer, { concurrency: 1 });
    expect(report.ops[0]).toMatchObject({ outcome: 'applied' });
    const groups = h.sim.store
      .queryObjects({ kind: 'group', state: 'active', afterSeq: 0, limit: 100 })
      .filter((g) => g.doc['displayName'] === 'Guild');
    expect(groups).toHaveLength(1);
    expect(report.ops[0]?.targetId).toBe(groups[0]!.doc['id']);
    expect(h.sim.store.pageLinks('owner', String(groups[0]!.doc['id']), 0, 10)).toHaveLength(1);
  });

  it('G15: a 429 storm of 8 answers on a tenant read page is waited out (the cap writes have), not a failed read', async () => {
    const h = await harness({
      seed: { users: people(3) },
      faultPlan: {
        seed: 17,
        faults: [
          {
            kind: 'throttle',
            retryAfterSeconds: 20,
            match: { method: 'GET', path: '^/users$' },
            when: { times: 8 },
          },
        ],
      },
    });
    const tenant = await h.target.reader.read({ userAttributes: ['employeeId'] });
    expect(tenant.users.map((u) => u.userPrincipalName).sort()).toEqual(
      people(3).map((p) => p.userPrincipalName),
    );
    const gets = h.sim.requestLog.filter(
      (e) => e.method === 'GET' && e.path.split('?')[0] === '/v1.0/users',
    );
    expect(gets.map((e) => e.status)).toEqual([...Array<number>(8).fill(429), 200]);
  });
});
