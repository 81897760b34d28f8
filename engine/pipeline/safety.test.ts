import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import type { TenantUser } from '../model/tenant.js';
import { aPerson, aSnapshot, aSpec, anAccount } from '../../test/helpers/builders.js';
import { computePlan } from './plan.js';

/** `n` people in HR and their managed accounts, all in sync. */
function population(n: number, offset = 0) {
  const rows = Array.from({ length: n }, (_, i) =>
    aPerson(String(offset + i), `P${offset + i}`, 'Person'),
  );
  const accounts = rows.map((r) =>
    anAccount(`p${r.id}.person@contoso.com`, {
      employeeId: r.id,
      displayName: `P${r.id} Person`,
      department: 'Sales',
      mailNickname: `p${r.id}.person`,
    }),
  );
  return { rows, accounts };
}

const blockedCodes = (plan: Plan) => [...new Set(plan.blocked.map((b) => b.code))];

describe('safety: source health', () => {
  it('S1: a source that returns 0 records against 5 managed accounts blocks every disable, with counts, threshold and a hint', async () => {
    const { accounts } = population(5);
    const plan = await computePlan(aSpec(), [aSnapshot([])], { users: accounts });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toHaveLength(5);
    expect(blockedCodes(plan)).toEqual(['source-unhealthy']);
    expect(plan.blocked[0]?.message).toContain(
      'source "hr" has 0 record(s) against 5 enabled managed account(s): shrank 100% (ratio 0.00 < minSourceRatio 0.9)',
    );
    expect(plan.blocked[0]?.message).toContain('may lack read access');
  });

  it('S8: an export read mid-write at 40% of the last run blocks deprovisioning; creates and updates still proceed', async () => {
    const { rows, accounts } = population(10);
    const partial = [...rows.slice(0, 4), aPerson('new', 'New', 'Hire')];
    const plan = await computePlan(aSpec(), [aSnapshot(partial)], { users: accounts });
    expect(plan.changes.map((c) => c.kind)).toEqual(['createUser']);
    expect(plan.blocked.map((b) => b.change.kind)).toEqual(Array(6).fill('disableUser'));
    expect(plan.blocked[0]?.message).toContain('shrank 50%');
  });

  it('a first run against a tenant with nothing managed has no baseline and is not a shrink', async () => {
    const plan = await computePlan(aSpec(), [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [],
    });
    expect(plan.blocked).toEqual([]);
  });

  it('safety monotonicity (property): degrading a source never lets through a change the healthy plan blocked, nor any deprovisioning', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom<SourceSnapshot['status']>('incomplete', 'failed'),
        async (stay, leave, join, degraded) => {
          const { rows, accounts } = population(stay + leave);
          const newcomers = Array.from({ length: join }, (_, i) =>
            aPerson(`n${i}`, `N${i}`, 'Hire'),
          );
          const snapshot = aSnapshot([...rows.slice(0, stay), ...newcomers]);
          const tenant = { users: accounts as TenantUser[] };
          const healthy = await computePlan(aSpec(), [snapshot], tenant);
          const worse = await computePlan(aSpec(), [{ ...snapshot, status: degraded }], tenant);
          const blockedBefore = new Set(healthy.blocked.map((b) => b.change.id));
          for (const change of worse.changes) {
            expect(blockedBefore.has(change.id)).toBe(false);
            expect(change.kind).not.toBe('disableUser');
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('safety: thresholds', () => {
  it('M2: a mapping change that rewrites displayName for 80% of managed users is blocked, with before/after samples', async () => {
    const { rows, accounts } = population(100);
    const spec = aSpec({
      attributes: {
        userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
        displayName: "id = '0' or $number(id) >= 80 ? first & ' ' & last : last & ', ' & first",
        department: 'department',
      },
    });
    const plan = await computePlan(spec, [aSnapshot(rows)], { users: accounts });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toHaveLength(79);
    expect(blockedCodes(plan)).toEqual(['threshold']);
    expect(plan.blocked[0]?.message).toMatch(
      /79 updates exceed the threshold \(more than 50 and more than 30% of 100 managed account\(s\)\), e\.g\. p1\.person@contoso\.com displayName: "P1 Person" -> "Person, P1"/,
    );
    expect(plan.blocked[0]?.message).toContain(
      `--allow-updates 79 --plan ${plan.releaseFingerprint?.slice(0, 12) ?? '-'}`,
    );
  });

  it('a percentage alone never fires in a small tenant: 3 disables of 10 accounts (30%) stay under the count', async () => {
    const { rows, accounts } = population(10);
    const plan = await computePlan(
      aSpec({ safety: { minSourceRatio: 0.5 } }),
      [aSnapshot(rows.slice(0, 7))],
      {
        users: accounts,
      },
    );
    expect(plan.changes.map((c) => c.kind)).toEqual(['disableUser', 'disableUser', 'disableUser']);
    expect(plan.blocked).toEqual([]);
  });

  it("H8: an override bound to the held part's fingerprint releases it, also in a plan whose other changes differ (the rest was applied); a different held set is not released", async () => {
    const { rows, accounts } = population(200);
    const spec = aSpec({ safety: { minSourceRatio: 0.5 } });
    const leavers = rows.slice(0, 184);
    const first = await computePlan(spec, [aSnapshot(leavers)], { users: accounts });
    expect(blockedCodes(first)).toEqual(['threshold']);
    const release = first.releaseFingerprint!;
    expect(release).not.toBe(first.fingerprint);

    // The same leavers, plus an unrelated update applied since: another plan fingerprint, the
    // same held part.
    const moved = leavers.map((r, i) => (i === 0 ? { ...r, department: 'Moved' } : r));
    const later = await computePlan(spec, [aSnapshot(moved)], { users: accounts });
    expect(later.fingerprint).not.toBe(first.fingerprint);
    expect(later.releaseFingerprint).toBe(release);
    const released = await computePlan(
      spec,
      [aSnapshot(moved)],
      { users: accounts },
      { overrides: { fingerprint: release.slice(0, 12), allow: { disables: 16 } } },
    );
    expect(released.blocked).toEqual([]);
    expect(released.changes.filter((c) => c.kind === 'disableUser')).toHaveLength(16);

    // One more leaver: a new held set, which the old release does not cover.
    const more = await computePlan(
      spec,
      [aSnapshot(moved.slice(0, 183))],
      { users: accounts },
      { overrides: { fingerprint: release.slice(0, 12), allow: { disables: 17 } } },
    );
    expect(more.releaseFingerprint).not.toBe(release);
    expect(more.blocked).toHaveLength(17);
  });

  it('A5: a legitimate bulk leave is blocked; an override bound to this plan lets exactly it through; the next plan is braked again', async () => {
    const { rows, accounts } = population(200);
    const spec = aSpec({ safety: { minSourceRatio: 0.5 } });
    const snapshot = aSnapshot(rows.slice(0, 184));
    const blocked = await computePlan(spec, [snapshot], { users: accounts });
    expect(blocked.blocked).toHaveLength(16);
    expect(blockedCodes(blocked)).toEqual(['threshold']);

    const allowed = await computePlan(
      spec,
      [snapshot],
      { users: accounts },
      {
        overrides: { fingerprint: blocked.fingerprint.slice(0, 12), allow: { disables: 16 } },
      },
    );
    expect(allowed.fingerprint).toBe(blocked.fingerprint);
    expect(allowed.blocked).toEqual([]);
    expect(allowed.changes).toHaveLength(16);
    expect(allowed.overrides).toEqual({ disables: 16 });

    const tooFew = await computePlan(
      spec,
      [snapshot],
      { users: accounts },
      {
        overrides: { fingerprint: blocked.fingerprint, allow: { disables: 15 } },
      },
    );
    expect(tooFew.blocked).toHaveLength(16);

    const next = aSnapshot(rows.slice(0, 183));
    const nextPlan = await computePlan(
      spec,
      [next],
      { users: accounts },
      {
        overrides: { fingerprint: blocked.fingerprint, allow: { disables: 17 } },
      },
    );
    expect(nextPlan.blocked).toHaveLength(17);
    expect(nextPlan.warnings.map((w) => w.code)).toContain('override.not-bound');
  });
});

describe('safety: protected accounts', () => {
  it('P2: a protected account is never disabled, changed or adopted, by UPN (any case) or object id', async () => {
    const breakglass = anAccount('BreakGlass@contoso.onmicrosoft.com', { employeeId: 'bg' });
    const byId = anAccount('svc@contoso.com', { employeeId: 'svc' });
    const adoptable = anAccount('ada.lovelace@contoso.com', {}, { managed: false });
    const spec = aSpec({
      safety: {
        minSourceRatio: 0,
        protect: ['breakglass@contoso.onmicrosoft.com', byId.id, 'ada.lovelace@contoso.com'],
      },
    });
    const plan = await computePlan(spec, [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [breakglass, byId, adoptable],
    });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toEqual([]);
    expect(plan.ignored.map((i) => [i.user.userPrincipalName, i.reason])).toEqual([
      ['BreakGlass@contoso.onmicrosoft.com', 'protected'],
      ['svc@contoso.com', 'protected'],
    ]);
    expect(plan.warnings.map((w) => w.message)).toEqual([
      'hr:1 matches ada.lovelace@contoso.com by userPrincipalName, which is on the protect list; left unchanged',
    ]);
  });
});

describe('safety: churn', () => {
  // A person never takes over the name of an account held under another anchor (P7), so the new
  // accounts get free names as a real config's $selectUnique gives them.
  const attributes = {
    userPrincipalName:
      "$selectUnique([$lowercase(first & '.' & last), $lowercase(first & '.' & last & '.' & id)], '@contoso.com')",
    displayName: "first & ' ' & last",
    department: 'department',
    accountEnabled: "status = 'active'",
  };

  it('a changed key format that would replace people with new accounts of the same names is blocked', async () => {
    const { rows, accounts } = population(12);
    const rekeyed = rows.map((r) => ({ ...r, id: `E${r.id.padStart(4, '0')}` }));
    const spec = aSpec({ attributes, match: ['anchor'], safety: { minSourceRatio: 0.5 } });
    const plan = await computePlan(spec, [aSnapshot(rekeyed)], { users: accounts, privileged: [] });
    expect(plan.changes).toEqual([]);
    expect(blockedCodes(plan)).toEqual(['churn']);
    expect(plan.blocked).toHaveLength(24);
    expect(plan.blocked[0]?.message).toMatch(
      /^blocked: 12 people would be replaced by new accounts with the same names \(e\.g\. P0 Person: p0\.person@contoso\.com disabled, p0\.person\.e0000@contoso\.com created/,
    );

    const approved = await computePlan(
      aSpec({
        attributes,
        match: ['anchor'],
        safety: { minSourceRatio: 0.5 },
        approvals: { plans: [plan.fingerprint.slice(0, 12)], changes: [] },
      }),
      [aSnapshot(rekeyed)],
      { users: accounts, privileged: [] },
    );
    expect(approved.blocked).toEqual([]);
  });

  it('a few rehires or namesakes are not churn', async () => {
    const { rows, accounts } = population(12);
    const twoRekeyed = rows.map((r, i) => (i < 2 ? { ...r, id: `E${r.id}` } : r));
    const plan = await computePlan(
      aSpec({ attributes, match: ['anchor'] }),
      [aSnapshot(twoRekeyed)],
      {
        users: accounts,
        privileged: [],
      },
    );
    expect(plan.blocked).toEqual([]);
    expect(plan.changes.map((c) => c.kind).sort()).toEqual([
      'createUser',
      'createUser',
      'disableUser',
      'disableUser',
    ]);
  });
});

describe('safety: an attribute cleared for many (M8)', () => {
  // 10 people whose department empties out: the column stopped being filled, not 4 transfers.
  function clearedDepartments(n: number) {
    const { rows, accounts } = population(10);
    const changed = rows.map((r, i) => (i < n ? { ...r, department: '' } : r));
    return { rows: changed, accounts };
  }

  it('M8: clearing one attribute for more than the updates share of people is braked, with a before/after sample', async () => {
    const { rows, accounts } = clearedDepartments(4);
    const plan = await computePlan(aSpec(), [aSnapshot(rows)], { users: accounts });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => `${b.change.kind} ${b.code}`)).toEqual(
      Array(4).fill('updateUser mass-clear'),
    );
    const message = plan.blocked[0]?.message ?? '';
    expect(message).toContain('department would be cleared for 4 account(s), more than 30% of 10');
    expect(message).toContain('p0.person@contoso.com department: "Sales" -> (none)');
    expect(message).toContain(
      `--allow-updates 4 --plan ${plan.releaseFingerprint?.slice(0, 12) ?? '-'}`,
    );
  });

  it('M8: a few clears within the share pass; an override bound to the plan or an approval lifts the brake', async () => {
    const few = clearedDepartments(3);
    const ok = await computePlan(aSpec(), [aSnapshot(few.rows)], { users: few.accounts });
    expect(ok.blocked).toEqual([]);
    expect(ok.changes).toHaveLength(3);

    const { rows, accounts } = clearedDepartments(4);
    const braked = await computePlan(aSpec(), [aSnapshot(rows)], { users: accounts });
    const overridden = await computePlan(
      aSpec(),
      [aSnapshot(rows)],
      { users: accounts },
      { overrides: { fingerprint: braked.fingerprint.slice(0, 12), allow: { updates: 4 } } },
    );
    expect(overridden.blocked).toEqual([]);
    expect(overridden.overrides).toEqual({ updates: 4 });
    const tooSmall = await computePlan(
      aSpec(),
      [aSnapshot(rows)],
      { users: accounts },
      { overrides: { fingerprint: braked.fingerprint, allow: { updates: 3 } } },
    );
    expect(blockedCodes(tooSmall)).toEqual(['mass-clear']);
    const approved = await computePlan(
      aSpec({ approvals: { plans: [braked.fingerprint.slice(0, 12)], changes: [] } }),
      [aSnapshot(rows)],
      { users: accounts },
    );
    expect(approved.blocked).toEqual([]);
    expect(approved.changes).toHaveLength(4);
  });
});
