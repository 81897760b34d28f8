/**
 * Managed groups' members read 20 to a `$batch` (issue 24), against the simulator with the real
 * SDK: big groups followed page by page, and the G8/G16 guarantees of a plain paged read kept
 * (a page that fails once is read again from the first page, one that keeps failing or a refusal
 * fails the read), 429s inside a batch waited out and sent again.
 */
import { describe, expect, it } from 'vitest';
import { TenantReadError } from '../../engine/errors.js';
import type { FaultPlan } from '../../simulator/index.js';
import { readAllBatched, relativeToVersion } from './read-batched.js';
import { createEntraReader, READ_RESTARTS } from './read-tenant.js';
import type { Harness } from './test-helpers.js';
import { harness, MARKER } from './test-helpers.js';

const GROUPS = 45;

function tenantSeed(): unknown {
  const users = Array.from({ length: 60 }, (_, i) => ({
    userPrincipalName: `user${i}@contoso.com`,
    displayName: `User ${i}`,
    mailNickname: `user${i}`,
    accountEnabled: true,
    employeeId: String(i),
  }));
  // Group g has g % 7 members (0 to 6): pages of 2 make up to 4 pages per group.
  const groups = Array.from({ length: GROUPS }, (_, g) => ({
    displayName: `Team ${g}`,
    uniqueName: `entrasync-team-${g}`,
    mailEnabled: false,
    mailNickname: `team${g}`,
    securityEnabled: true,
    members: Array.from({ length: g % 7 }, (_, m) => `user${(g + m) % 60}@contoso.com`),
  }));
  return { users, groups };
}

async function setUp(faultPlan?: FaultPlan) {
  const h = await harness({
    seed: tenantSeed(),
    throttling: false,
    ...(faultPlan ? { faultPlan } : {}),
  });
  const groups = h.sim.store
    .queryObjects({ kind: 'group', state: 'active', afterSeq: 0, limit: 1000 })
    .map((row) => row.doc as { id: string; uniqueName: string });
  const reads = groups.map((g) => ({
    key: g.id,
    first: `/groups/${g.id}/members?$select=id&$top=2`,
    what: `members of group ${g.uniqueName}`,
  }));
  return { h, groups, reads };
}

const MEMBER_PAGES = '^/groups/[^/]+/members$';

function membersInStore(h: Harness, groupId: string): string[] {
  return h.sim.store
    .pageLinks('member', groupId, 0, 10_000)
    .map((l) => l.targetId)
    .sort();
}

describe('members through $batch', () => {
  it('B1: every group read whole, big groups followed page by page, 20 reads to a batch', async () => {
    const { h, groups, reads } = await setUp();
    const before = h.sim.requestLog.length;
    const result = await readAllBatched(h.target.transport, reads, { restarts: READ_RESTARTS });
    expect(result.size).toBe(GROUPS);
    for (const g of groups) {
      const expected = membersInStore(h, g.id);
      expect((result.get(g.id) ?? []).map((m) => String(m['id'])).sort()).toEqual(expected);
    }
    const log = h.sim.requestLog.slice(before);
    const envelopes = log.filter((e) => e.path === '/v1.0/$batch');
    const pages = log.filter((e) => e.batch === true);
    // Pages: max(1, ceil(members / 2)) per group.
    const expectedPages = groups.reduce((n, _g, i) => n + Math.max(1, Math.ceil((i % 7) / 2)), 0);
    expect(pages).toHaveLength(expectedPages);
    expect(envelopes.length).toBeLessThanOrEqual(Math.ceil(expectedPages / 20) + 4);
    expect(envelopes.length).toBeLessThan(expectedPages / 5);
  });

  it('B1: a page failing once inside a batch (5xx, or a repeated nextLink) restarts that group only, whole', async () => {
    for (const mode of ['fail', 'repeat'] as const) {
      const { h, groups, reads } = await setUp({
        seed: 3,
        faults: [
          { kind: 'page', page: 2, mode, match: { path: MEMBER_PAGES }, when: { nth: [1] } },
        ],
      });
      const result = await readAllBatched(h.target.transport, reads, { restarts: READ_RESTARTS });
      for (const g of groups) {
        const expected = membersInStore(h, g.id);
        const got = (result.get(g.id) ?? []).map((m) => String(m['id']));
        expect(got.sort()).toEqual(expected.sort());
      }
    }
  });

  it('B1: a page that keeps failing fails the read (G8); a 404 fails it at once', async () => {
    const broken = await setUp({
      seed: 3,
      faults: [{ kind: 'page', page: 2, mode: 'fail', match: { path: MEMBER_PAGES } }],
    });
    const error = await readAllBatched(broken.h.target.transport, broken.reads, {
      restarts: READ_RESTARTS,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenantReadError);
    expect(String((error as Error).message)).toMatch(
      /members of group .* failed on page 2 \(500.*read 3 times from the first page/,
    );

    const missing = await setUp({
      seed: 3,
      faults: [{ kind: 'status', status: 404, match: { path: MEMBER_PAGES }, when: { nth: [9] } }],
    });
    const refused = await readAllBatched(missing.h.target.transport, missing.reads, {
      restarts: READ_RESTARTS,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TenantReadError);
    expect(String((refused as Error).message)).toMatch(/failed on page 1 \(404/);
  });

  it('B2: 429s inside a batch are waited out (Retry-After) and sent again; the read is whole', async () => {
    const { h, groups, reads } = await setUp({
      seed: 5,
      faults: [
        { kind: 'batch-item', status: 429, retryAfterSeconds: 30, when: { probability: 0.3 } },
      ],
    });
    const start = h.clock.now();
    const result = await readAllBatched(h.target.transport, reads, { restarts: READ_RESTARTS });
    for (const g of groups) {
      const expected = membersInStore(h, g.id);
      expect((result.get(g.id) ?? []).map((m) => String(m['id'])).sort()).toEqual(expected.sort());
    }
    expect(h.target.transport.counters.throttled).toBeGreaterThan(0);
    expect(h.sim.counters.throttled).toBe(h.target.transport.counters.throttled);
    // Each retried item waited its 30 s (virtual) Retry-After.
    expect(h.clock.now() - start).toBeGreaterThanOrEqual(30_000);
  });

  it('B1: the full reader reads managed groups through $batch', async () => {
    const { h, groups } = await setUp();
    const before = h.sim.requestLog.length;
    const state = await h.target.reader.read({
      userAttributes: ['employeeId', MARKER],
      groupPrefix: 'entrasync-',
    });
    expect(state.groups).toHaveLength(GROUPS);
    for (const g of state.groups ?? []) {
      expect([...g.memberIds].sort()).toEqual(membersInStore(h, g.id));
    }
    const log = h.sim.requestLog.slice(before);
    // No member read outside a batch.
    expect(log.filter((e) => /\/members/.test(e.path) && e.batch !== true)).toEqual([]);
    expect(groups).toHaveLength(GROUPS);
  });

  it('B1: the sequential read (the benchmark comparison) reads the same tenant, one group at a time', async () => {
    const { h } = await setUp();
    const request = { userAttributes: ['employeeId', MARKER], groupPrefix: 'entrasync-' };
    const parallel = await h.target.reader.read(request);
    const before = h.sim.requestLog.length;
    const sequential = await createEntraReader(h.target.transport, { sequential: true }).read(
      request,
    );
    const log = h.sim.requestLog.slice(before);
    expect(log.filter((e) => e.path === '/v1.0/$batch')).toEqual([]);
    expect(log.filter((e) => /\/members/.test(e.path))).toHaveLength(GROUPS);
    const byId = (state: typeof parallel) =>
      (state.groups ?? [])
        .map((g) => ({ id: g.id, members: [...g.memberIds].sort() }))
        .sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(sequential)).toEqual(byId(parallel));
    expect(sequential.users.map((u) => u.id).sort()).toEqual(
      parallel.users.map((u) => u.id).sort(),
    );
  });

  it('relativeToVersion makes a nextLink a batch item URL', () => {
    expect(
      relativeToVersion('https://graph.microsoft.com/v1.0/groups/x/members?$skiptoken=abc'),
    ).toBe('/groups/x/members?$skiptoken=abc');
  });
});
