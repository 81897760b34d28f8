/**
 * Deprovisioning through the whole pipeline (computePlan) with a fixed `now`: the default
 * policy, staged offboarding (disable -> remove access -> delete), rehires and restores, and the
 * safety brakes on what it takes away. Literal data, no I/O.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import { subjectOf } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import { DEFAULT_DEPROVISION } from '../model/spec.js';
import type { TenantSku, TenantState, TenantUser } from '../model/tenant.js';
import type { Row, SpecOverrides } from '../../test/helpers/builders.js';
import {
  aPerson,
  aSpec,
  anAccount,
  aGroup,
  accountOfRow,
  ofKind,
  planRows,
  summary,
} from '../../test/helpers/builders.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(NOW - n * DAY).toISOString();
const STATE = DEFAULT_DEPROVISION.stateAttribute;

/** A managed account in sync with the default mapping of `row`. */
const accountOf = (
  row: Row,
  extra: Record<string, string | boolean | null> = {},
  licenses?: TenantUser['licenses'],
): TenantUser => accountOfRow(row, extra, licenses ? { licenses } : {});

/** `n` people and their accounts, all in sync (ids 100..). */
function population(n: number) {
  const rows = Array.from({ length: n }, (_, i) =>
    aPerson(String(100 + i), `P${String(100 + i)}`, 'Person'),
  );
  return { rows, accounts: rows.map((r) => accountOf(r)) };
}

const E3: TenantSku = {
  skuId: 'sku-e3',
  skuPartNumber: 'SPE_E3',
  seats: 100,
  consumed: 10,
  servicePlans: [{ id: 'plan-sway', name: 'SWAY' }],
};

const STAGED = { removeAccessAfterDays: 7, deleteAfterDays: 30 };

/** Everyone in the `All` group and licensed with E3 (the account's usageLocation suffices). */
function spec(o: SpecOverrides = {}) {
  return aSpec({
    groups: [{ key: 'all', name: 'All' }],
    licenses: [{ sku: 'SPE_E3' }],
    ...o,
    safety: { minSourceRatio: 0, ...o.safety },
  });
}

/**
 * A stayer (Ada) and a leaver (Lee, no longer in HR), both in the `All` group and licensed
 * directly; `leaver` attributes override the leaver's account.
 */
function leaverWorld(leaver: Record<string, string | boolean | null> = {}) {
  const ada = aPerson('1', 'Ada', 'Lovelace');
  const adaAccount = accountOf(ada, { usageLocation: 'GB' }, [
    { skuId: 'sku-e3', disabledPlans: [] },
  ]);
  const lee = accountOf(aPerson('2', 'Lee', 'Leaver'), { usageLocation: 'GB', ...leaver }, [
    { skuId: 'sku-e3', disabledPlans: [] },
    { skuId: 'sku-e3', disabledPlans: [], viaGroup: 'other-group' },
  ]);
  const tenant: TenantState = {
    users: [adaAccount, lee],
    groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: [adaAccount.id, lee.id] })],
    skus: [E3],
    deletedUsers: [],
  };
  return { rows: [ada], adaAccount, lee, tenant };
}

function plan(
  s: ReturnType<typeof aSpec>,
  rows: Row[],
  tenant: TenantState,
  snapshotOverrides: Partial<SourceSnapshot> = {},
): Promise<Plan> {
  return planRows(s, rows, tenant, NOW, snapshotOverrides);
}

const about = (p: Plan, id: string) =>
  p.changes.filter(
    (c) =>
      subjectOf(c).id === id ||
      ((c.kind === 'addMembers' || c.kind === 'removeMembers') &&
        c.members.some((m) => m.id === id)),
  );

describe('deprovisioning: default policy (disable at once, access with it)', () => {
  it('a leaver is disabled with revokeSessions and the disable date recorded (for the revoke retry, A9); memberships and direct licenses go in the same plan', async () => {
    const { rows, lee, tenant } = leaverWorld();
    const p = await plan(spec(), rows, tenant);
    expect(summary(p)).toEqual([
      'removeMembers All',
      'removeLicenses lee.leaver@contoso.com',
      'disableUser lee.leaver@contoso.com',
    ]);
    const [disable] = ofKind(p, 'disableUser');
    expect(disable).toMatchObject({
      id: `disableUser:${lee.id}`,
      reason: 'left-source',
      user: { id: lee.id, userPrincipalName: 'lee.leaver@contoso.com' },
      revokeSessions: true,
      provenance: [],
    });
    expect(disable?.stateAttribute).toBe('onPremisesExtensionAttributes.extensionAttribute14');
    expect(ofKind(p, 'removeMembers')[0]?.members).toEqual([
      { id: lee.id, userPrincipalName: 'lee.leaver@contoso.com' },
    ]);
    // Only the direct assignment: the one inherited from a group is the group's business.
    expect(ofKind(p, 'removeLicenses')[0]).toMatchObject({
      reason: 'left-source',
      rule: 'users.deprovision',
      licenses: [{ skuId: 'sku-e3', skuPartNumber: 'SPE_E3', disabledPlans: [] }],
    });
    expect(p.licenses).toEqual([expect.objectContaining({ skuId: 'sku-e3', removing: 1 })]);
    expect(p.blocked).toEqual([]);
  });

  it('revokeSessions: false disables without revoking', async () => {
    const { rows, tenant } = leaverWorld();
    const p = await plan(spec({ deprovision: { revokeSessions: false } }), rows, tenant);
    expect(ofKind(p, 'disableUser')[0]?.revokeSessions).toBeUndefined();
    // No later stage and no revoke to retry: nothing to record.
    expect(ofKind(p, 'disableUser')[0]?.stateAttribute).toBeUndefined();
  });

  it('a leaver already disabled (by hand) is not disabled again, but still loses access', async () => {
    const { rows, lee, tenant } = leaverWorld({ accountEnabled: false });
    const p = await plan(spec(), rows, tenant);
    expect(summary(p)).toEqual(['removeMembers All', 'removeLicenses lee.leaver@contoso.com']);
    expect(about(p, lee.id)).toHaveLength(2);
  });

  it('left-scope: a person the scope no longer holds for is deprovisioned the same way, citing their record', async () => {
    const { rows, lee, tenant } = leaverWorld();
    const p = await plan(
      spec({ scope: "department != 'Contractors'" }),
      [...rows, aPerson('2', 'Lee', 'Leaver', { department: 'Contractors' })],
      tenant,
    );
    expect(ofKind(p, 'disableUser')[0]).toMatchObject({
      reason: 'left-scope',
      user: { id: lee.id },
      provenance: [{ source: 'hr', key: '2' }],
    });
    expect(ofKind(p, 'removeMembers')).toHaveLength(1);
  });

  it("action none: a leaver's account and access are left as they are", async () => {
    const { rows, tenant } = leaverWorld();
    const p = await plan(spec({ deprovision: 'none' }), rows, tenant);
    expect(p.changes).toEqual([]);
  });
});

describe('deprovisioning: staged (removeAccessAfterDays 7, deleteAfterDays 30), A6-style grace with a fixed now', () => {
  it('day 0: the leaver is disabled (sessions revoked) and the date recorded; access is retained', async () => {
    const { rows, lee, tenant } = leaverWorld();
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(summary(p)).toEqual(['disableUser lee.leaver@contoso.com']);
    expect(ofKind(p, 'disableUser')[0]).toMatchObject({
      id: `disableUser:${lee.id}`,
      reason: 'left-source',
      stateAttribute: STATE,
      revokeSessions: true,
    });
    expect(p.licenses).toBeUndefined();
  });

  it('day 6: disabled with a date inside removeAccessAfterDays: nothing to do', async () => {
    const { rows, tenant } = leaverWorld({ accountEnabled: false, [STATE]: daysAgo(6) });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(p.changes).toEqual([]);
    expect(p.blocked).toEqual([]);
  });

  it('day 8: past removeAccessAfterDays, memberships and direct licenses are removed; no delete, no second disable', async () => {
    const { rows, lee, tenant } = leaverWorld({ accountEnabled: false, [STATE]: daysAgo(8) });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(summary(p)).toEqual(['removeMembers All', 'removeLicenses lee.leaver@contoso.com']);
    expect(ofKind(p, 'removeMembers')[0]?.members).toEqual([
      { id: lee.id, userPrincipalName: 'lee.leaver@contoso.com' },
    ]);
  });

  it('exactly 7 days: access is removed on the day the grace period ends', async () => {
    const { rows, tenant } = leaverWorld({ accountEnabled: false, [STATE]: daysAgo(7) });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(ofKind(p, 'removeMembers')).toHaveLength(1);
  });

  it('day 31: past deleteAfterDays the account is deleted (reason grace-elapsed), after its access is removed', async () => {
    const since = daysAgo(31);
    const { rows, lee, tenant } = leaverWorld({ accountEnabled: false, [STATE]: since });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(summary(p)).toEqual([
      'removeMembers All',
      'removeLicenses lee.leaver@contoso.com',
      'deleteUser lee.leaver@contoso.com',
    ]);
    const [del] = ofKind(p, 'deleteUser');
    expect(del).toMatchObject({
      id: `deleteUser:${lee.id}`,
      reason: 'grace-elapsed',
      user: { id: lee.id, userPrincipalName: 'lee.leaver@contoso.com' },
    });
    expect(del?.message).toContain(`deprovisioned since ${since}`);
    expect(ofKind(p, 'disableUser')).toEqual([]);
  });

  it('day 29: not deleted yet', async () => {
    const { rows, tenant } = leaverWorld({ accountEnabled: false, [STATE]: daysAgo(29) });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
  });

  it('without deleteAfterDays an account is never deleted, however long ago it was disabled', async () => {
    const { rows, tenant } = leaverWorld({ accountEnabled: false, [STATE]: daysAgo(3650) });
    const p = await plan(spec({ deprovision: { removeAccessAfterDays: 7 } }), rows, tenant);
    expect(summary(p)).toEqual(['removeMembers All', 'removeLicenses lee.leaver@contoso.com']);
  });

  it('disabled without a date: a disableUser that records the date now (never a delete, access kept)', async () => {
    const { rows, lee, tenant } = leaverWorld({ accountEnabled: false });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(summary(p)).toEqual(['disableUser lee.leaver@contoso.com']);
    const [disable] = ofKind(p, 'disableUser');
    expect(disable).toMatchObject({ id: `disableUser:${lee.id}`, stateAttribute: STATE });
    // Already disabled: no sessions left to revoke.
    expect(disable?.revokeSessions).toBeUndefined();
    expect(disable?.message).toContain('record when deprovisioning');
  });

  it('an unreadable date counts as no date: the clock restarts, it never hastens a stage', async () => {
    const { rows, tenant } = leaverWorld({ accountEnabled: false, [STATE]: 'not a date' });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(summary(p)).toEqual(['disableUser lee.leaver@contoso.com']);
  });

  it('an enabled account with an old date (re-enabled by hand) starts over: disabled, date rewritten, nothing deleted', async () => {
    const { rows, tenant } = leaverWorld({ accountEnabled: true, [STATE]: daysAgo(90) });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(summary(p)).toEqual(['disableUser lee.leaver@contoso.com']);
    expect(ofKind(p, 'disableUser')[0]).toMatchObject({
      stateAttribute: STATE,
      revokeSessions: true,
    });
  });

  it('rehire within the grace period: enableUser clears the state attribute (reason rehire) and access comes back', async () => {
    const { rows, adaAccount, lee, tenant } = leaverWorld({
      accountEnabled: false,
      [STATE]: daysAgo(10),
    });
    // Lee's access was removed on day 7; Lee is back in HR.
    const back: TenantState = {
      ...tenant,
      users: [adaAccount, { ...lee, licenses: [] }],
      groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: [adaAccount.id] })],
    };
    const p = await plan(
      spec({ deprovision: STAGED }),
      [...rows, aPerson('2', 'Lee', 'Leaver')],
      back,
    );
    const [enable] = ofKind(p, 'enableUser');
    expect(enable).toMatchObject({
      id: `enableUser:${lee.id}`,
      reason: 'rehire',
      user: { id: lee.id },
      stateAttribute: STATE,
      provenance: [{ source: 'hr', key: '2' }],
    });
    expect(summary(p)).toEqual([
      'enableUser lee.leaver@contoso.com',
      'assignLicenses lee.leaver@contoso.com',
      'addMembers All',
    ]);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(ofKind(p, 'createUser')).toEqual([]);
  });

  it('a returning person whose account is still enabled but carries a date gets the date cleared', async () => {
    const { rows, lee, tenant } = leaverWorld({ accountEnabled: true, [STATE]: daysAgo(2) });
    const p = await plan(
      spec({ deprovision: STAGED }),
      [...rows, aPerson('2', 'Lee', 'Leaver')],
      tenant,
    );
    expect(summary(p)).toEqual(['enableUser lee.leaver@contoso.com']);
    expect(ofKind(p, 'enableUser')[0]).toMatchObject({
      user: { id: lee.id },
      reason: 'rehire',
      stateAttribute: STATE,
    });
  });

  it('the tenant read asks for the recycle bin when accounts may be deleted', async () => {
    const { tenantReadRequest } = await import('./plan.js');
    expect(tenantReadRequest(spec({ deprovision: STAGED })).deletedUsers).toBe(true);
    expect(tenantReadRequest(spec()).deletedUsers).toBeUndefined();
    expect(tenantReadRequest(spec({ deprovision: 'delete' })).deletedUsers).toBe(true);
  });
});

describe('deprovisioning: restore from the recycle bin', () => {
  it("a soft-deleted managed account with the returning person's anchor is restored, then updated and enabled requiring it; no createUser", async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const lee = aPerson('2', 'Lee', 'Leaver', { department: 'Research' });
    const adaAccount = accountOf(ada, { usageLocation: 'GB' }, [
      { skuId: 'sku-e3', disabledPlans: [] },
    ]);
    const deleted = accountOf(lee, {
      department: 'Sales',
      accountEnabled: false,
      usageLocation: 'GB',
      [STATE]: daysAgo(40),
    });
    const tenant: TenantState = {
      users: [adaAccount],
      deletedUsers: [deleted],
      groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: [adaAccount.id] })],
      skus: [E3],
    };
    const p = await plan(spec({ deprovision: STAGED }), [ada, lee], tenant);
    expect(ofKind(p, 'createUser')).toEqual([]);
    const restoreId = `restoreUser:${deleted.id}`;
    expect(ofKind(p, 'restoreUser')).toEqual([
      expect.objectContaining({
        id: restoreId,
        reason: 'rehire',
        user: { id: deleted.id, userPrincipalName: 'lee.leaver@contoso.com' },
        provenance: [expect.objectContaining({ source: 'hr', key: '2' })],
      }),
    ]);
    expect(ofKind(p, 'updateUser')).toEqual([
      expect.objectContaining({
        user: { id: deleted.id, userPrincipalName: 'lee.leaver@contoso.com' },
        set: [{ attribute: 'department', before: 'Sales', after: 'Research' }],
        requires: [restoreId],
      }),
    ]);
    expect(ofKind(p, 'enableUser')).toEqual([
      expect.objectContaining({ reason: 'rehire', stateAttribute: STATE, requires: [restoreId] }),
    ]);
    expect(summary(p)).toEqual([
      'restoreUser lee.leaver@contoso.com',
      'updateUser lee.leaver@contoso.com',
      'enableUser lee.leaver@contoso.com',
      'assignLicenses lee.leaver@contoso.com',
      'addMembers All',
    ]);
    // Access for the restored account names it by id and only makes sense after the restore.
    expect(ofKind(p, 'addMembers')[0]?.members).toEqual([
      { id: deleted.id, userPrincipalName: 'lee.leaver@contoso.com' },
    ]);
    expect(ofKind(p, 'assignLicenses')[0]?.requires).toEqual([restoreId]);
    expect(p.blocked).toEqual([]);
  });

  it('an unmarked soft-deleted account with the same anchor is not restored: the person gets a new account', async () => {
    const lee = aPerson('2', 'Lee', 'Leaver');
    const deleted = anAccount('lee.leaver@contoso.com', { employeeId: '2' }, { managed: false });
    const p = await plan(aSpec(), [lee], { users: [], deletedUsers: [deleted] });
    expect(summary(p)).toEqual(['createUser lee.leaver@contoso.com']);
  });

  it('a blocked restore blocks what follows it (enables threshold)', async () => {
    const rows = [aPerson('1', 'Ada', 'Lovelace'), aPerson('2', 'Lee', 'Leaver')];
    const deleted = accountOf(rows[1] as Row, { accountEnabled: false, [STATE]: daysAgo(40) });
    const p = await plan(
      aSpec({
        deprovision: STAGED,
        safety: {
          minSourceRatio: 0,
          thresholds: { ...aSpec().safety.thresholds, enables: { count: 0, percent: 0 } },
        },
      }),
      rows,
      { users: [accountOf(rows[0] as Row)], deletedUsers: [deleted] },
    );
    expect(p.blocked.map((b) => [b.change.kind, b.code])).toEqual([
      ['restoreUser', 'threshold'],
      ['enableUser', 'threshold'],
    ]);
  });
});

describe('deprovisioning: action delete', () => {
  it('deletes a leaver at once (reason left-source), with their access removed first', async () => {
    const { rows, lee, tenant } = leaverWorld();
    const p = await plan(spec({ deprovision: 'delete' }), rows, tenant);
    expect(summary(p)).toEqual([
      'removeMembers All',
      'removeLicenses lee.leaver@contoso.com',
      'deleteUser lee.leaver@contoso.com',
    ]);
    expect(ofKind(p, 'deleteUser')[0]).toMatchObject({
      id: `deleteUser:${lee.id}`,
      reason: 'left-source',
      user: { id: lee.id },
    });
    expect(ofKind(p, 'disableUser')).toEqual([]);
  });
});

describe('deprovisioning: safety', () => {
  it('thresholds: 11 deletes in a 100-account tenant exceed the default (more than 10 and 5%) and are blocked', async () => {
    const { rows, accounts } = population(100);
    const p = await plan(
      aSpec({ deprovision: 'delete', safety: { minSourceRatio: 0.5 } }),
      rows.slice(0, 89),
      { users: accounts },
    );
    expect(p.managedUsers).toBe(100);
    expect(p.changes).toEqual([]);
    expect(p.blocked).toHaveLength(11);
    expect(new Set(p.blocked.map((b) => [b.change.kind, b.code].join(' ')))).toEqual(
      new Set(['deleteUser threshold']),
    );
    expect(p.blocked[0]?.message).toContain('11 deletes exceed the threshold');
    expect(p.blocked[0]?.message).toContain('--allow-deletes 11');
  });

  it('thresholds: 10 deletes in a 100-account tenant are within the default', async () => {
    const { rows, accounts } = population(100);
    const p = await plan(
      aSpec({ deprovision: 'delete', safety: { minSourceRatio: 0.5 } }),
      rows.slice(0, 90),
      { users: accounts },
    );
    expect(ofKind(p, 'deleteUser')).toHaveLength(10);
    expect(p.blocked).toEqual([]);
  });

  it('thresholds: membership removals count by members, not by change', async () => {
    const { rows, accounts } = population(100);
    const group = aGroup('entrasync-all', {
      displayName: 'All',
      memberIds: accounts.map((a) => a.id),
    });
    // 11 leave: one removeMembers change of 11 members; the limit is 50 or 10% (10) -> fine.
    // The membership rule now excludes 60 more: 71 members in 4 chunks -> over 50 and 10%.
    const p = await plan(
      aSpec({
        groups: [{ key: 'all', name: 'All', members: '$number(id) < 129' }],
        safety: {
          minSourceRatio: 0.5,
          thresholds: { ...aSpec().safety.thresholds, disables: { count: 100, percent: 100 } },
        },
      }),
      rows.slice(0, 89),
      { users: accounts, groups: [group] },
    );
    const removals = p.blocked.filter((b) => b.change.kind === 'removeMembers');
    expect(removals.map((b) => b.code)).toEqual([
      'threshold',
      'threshold',
      'threshold',
      'threshold',
    ]);
    expect(removals[0]?.message).toContain('71 membership removals exceed the threshold');
    expect(ofKind(p, 'disableUser')).toHaveLength(11);
  });

  it('S1: an incomplete source blocks removeMembers, removeLicenses and deleteUser; creates and additions proceed', async () => {
    const { rows, lee, tenant } = leaverWorld();
    const p = await plan(
      spec({ deprovision: 'delete' }),
      [...rows, aPerson('3', 'New', 'Hire')],
      tenant,
      { status: 'incomplete' },
    );
    expect(p.blocked.map((b) => [b.change.kind, b.code])).toEqual([
      ['removeMembers', 'source-unhealthy'],
      ['removeLicenses', 'source-unhealthy'],
      ['deleteUser', 'source-unhealthy'],
    ]);
    expect(p.blocked[0]?.message).toContain('source "hr" is incomplete');
    expect(about(p, lee.id)).toEqual([]);
    expect(summary(p)).toEqual(['createUser new.hire@contoso.com', 'addMembers All']);
  });

  it("S1: a shrunken source (below minSourceRatio) blocks the same deprovisioning changes, a mover's removal included", async () => {
    const { rows, accounts } = population(10);
    const group = aGroup('entrasync-dept-sales', {
      displayName: 'Sales',
      memberIds: accounts.map((a) => a.id),
    });
    const [first, ...rest] = rows;
    const mover = { ...(first as Row), department: 'Research' };
    const p = await plan(
      aSpec({
        deprovision: 'delete',
        groups: [{ key: 'dept', name: '$value', foreach: 'department' }],
      }),
      [mover, ...rest.slice(0, 4)],
      { users: accounts, groups: [group] },
    );
    const blockedKinds = new Set(p.blocked.map((b) => `${b.change.kind} ${b.code}`));
    expect(blockedKinds).toEqual(
      new Set(['removeMembers source-unhealthy', 'deleteUser source-unhealthy']),
    );
    expect(p.blocked.filter((b) => b.change.kind === 'deleteUser')).toHaveLength(5);
    expect(p.blocked[0]?.message).toContain('shrank 50%');
    // Additions are not deprovisioning: the mover still joins the new group.
    expect(summary(p)).toEqual([
      'updateUser p100.person@contoso.com',
      'createGroup Research',
      'addMembers Research',
    ]);
  });

  it('a person held this run (duplicate key) keeps their account and access, staged or not', async () => {
    const { rows, lee, tenant } = leaverWorld();
    const twins = [aPerson('2', 'Lee', 'Leaver'), aPerson('2', 'Lee', 'Twin')];
    const p = await plan(spec({ deprovision: 'delete' }), [...rows, ...twins], tenant);
    expect(about(p, lee.id)).toEqual([]);
    expect(p.warnings.map((w) => w.code)).toContain('deprovision.held');
  });
});
