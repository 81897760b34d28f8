/**
 * `/users` read in shards by the first character of userPrincipalName (issue 24), against the
 * simulator: the union is taken only when `$count` before and after agree with the distinct
 * ids read; a UPN outside the shards' characters or a tenant that moved falls back to the
 * one-pass read, whole; a shard that keeps failing fails the read (G8).
 */
import { describe, expect, it } from 'vitest';
import type { FaultPlan } from '../../simulator/index.js';
import type { UsersReadNote } from './read-users.js';
import { harness, MARKER } from './test-helpers.js';

const FIRST = 'abcdefghijklmnopqrstuvwxyz0123456789';

function seedUsers(n: number, extra: readonly string[] = []): Record<string, unknown>[] {
  const upns = [
    ...Array.from({ length: n }, (_, i) => `${FIRST[i % FIRST.length] ?? 'x'}user${i}@contoso.com`),
    ...extra,
  ];
  return upns.map((upn, i) => ({
    userPrincipalName: upn,
    displayName: `User ${i}`,
    mailNickname: `user${i}`,
    accountEnabled: true,
    employeeId: String(i),
  }));
}

async function read(users: Record<string, unknown>[], faultPlan?: FaultPlan) {
  const notes: UsersReadNote[] = [];
  const h = await harness({
    seed: { users },
    throttling: false,
    ...(faultPlan ? { faultPlan } : {}),
    target: { reader: { users: { shardFrom: 100, onUsersRead: (n) => notes.push(n) } } },
  });
  const before = h.sim.requestLog.length;
  const result = h.target.reader
    .read({ userAttributes: ['employeeId', MARKER], manager: true })
    .then((state) => ({ state, error: undefined }))
    .catch((error: unknown) => ({ state: undefined, error }));
  const outcome = await result;
  return { h, notes, ...outcome, log: h.sim.requestLog.slice(before) };
}

describe('users in shards', () => {
  it('S1: a tenant over the threshold is read in 36 shards, every user once, $count before and after', async () => {
    const { state, notes, log } = await read(seedUsers(300));
    expect(notes).toEqual([{ mode: 'sharded', shards: 36 }]);
    const ids = (state?.users ?? []).map((u) => u.id);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(log.filter((e) => e.path.startsWith('/v1.0/users/$count'))).toHaveLength(2);
    expect(
      log.filter((e) => /startsWith\(userPrincipalName/.test(decodeURIComponent(e.path))),
    ).toHaveLength(36);
  });

  it('S1: a UPN outside the shard characters makes the union short of $count: one-pass read, whole', async () => {
    const { state, notes } = await read(seedUsers(300, ['_svc@contoso.com', '-dash@contoso.com']));
    expect(notes).toHaveLength(1);
    expect(notes[0]?.mode).toBe('fallback');
    expect(notes[0]?.reason).toMatch(/\$count 302 before, 302 after, 300 read in shards/);
    const upns = (state?.users ?? []).map((u) => u.userPrincipalName);
    expect(upns).toHaveLength(302);
    expect(upns).toContain('_svc@contoso.com');
  });

  it('S1: a tenant under the threshold is read in one pass', async () => {
    const { state, notes, log } = await read(seedUsers(40));
    expect(notes).toEqual([{ mode: 'one-pass', reason: 'small tenant' }]);
    expect(state?.users).toHaveLength(40);
    expect(
      log.filter((e) => /startsWith\(userPrincipalName/.test(decodeURIComponent(e.path))),
    ).toHaveLength(0);
  });

  it('S1: a shard whose page keeps failing fails the whole read (G8), no fallback', async () => {
    const { error, notes } = await read(seedUsers(300), {
      seed: 2,
      faults: [
        // The shard of "a": its second call and every one after fails (the one-pass read would too).
        { kind: 'status', status: 500, match: { path: '^/users$' }, when: { from: 5 } },
      ],
    });
    expect(String((error as Error | undefined)?.message)).toMatch(
      /reading users.*failed on page 1 \(500.*read 3 times from the first page/,
    );
    expect(notes).toEqual([]);
  });
});
