/**
 * Offboarding as one lifecycle (issue 17, class 4) through the whole pipeline (computePlan) with
 * a fixed `now`: an account the mapping disables goes through the leavers' stages (P10), a
 * disabled account gets no access by rule (P11), and a revoke that did not take effect is sent
 * again (A9). Literal data, no I/O.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import { subjectOf } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import { DEFAULT_DEPROVISION } from '../model/spec.js';
import type { TenantSku, TenantState, TenantUser } from '../model/tenant.js';
import type { Row, SpecOverrides } from '../../test/helpers/builders.js';
import {
  aGroup,
  aPerson,
  aSpec,
  accountOfRow,
  ofKind,
  planRows,
  summary,
} from '../../test/helpers/builders.js';
import { tenantReadRequest } from './plan.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(NOW - n * DAY).toISOString();
const STATE = DEFAULT_DEPROVISION.stateAttribute;
const STAGED = { removeAccessAfterDays: 7, deleteAfterDays: 30 };

const E3: TenantSku = {
  skuId: 'sku-e3',
  skuPartNumber: 'SPE_E3',
  seats: 100,
  consumed: 10,
  servicePlans: [],
};

/** Everyone in the `All` group and licensed with E3 directly. */
function spec(o: SpecOverrides = {}) {
  return aSpec({
    groups: [{ key: 'all', name: 'All' }],
    licenses: [{ sku: 'SPE_E3' }],
    ...o,
    safety: { minSourceRatio: 0, ...o.safety },
  });
}

/**
 * Ada stays active; Tom is still in HR but `status` says he is gone (the mapping disables him).
 * Both are in `All` and hold E3 directly unless `tomAccess` is false. `tom` overrides Tom's
 * account attributes, `tomAccount` the rest of it.
 */
function world(
  options: {
    tom?: Record<string, string | boolean | null>;
    tomAccount?: Partial<TenantUser>;
    tomStatus?: string;
    tomAccess?: boolean;
  } = {},
) {
  const ada = aPerson('1', 'Ada', 'Lovelace');
  const tomRow = aPerson('2', 'Tom', 'Terminated', { status: options.tomStatus ?? 'terminated' });
  const licensed = [{ skuId: 'sku-e3', disabledPlans: [] }];
  const adaAccount = accountOfRow(ada, { usageLocation: 'GB' }, { licenses: licensed });
  const access = options.tomAccess !== false;
  const tom: TenantUser = {
    ...accountOfRow(
      tomRow,
      { usageLocation: 'GB', accountEnabled: true, ...options.tom },
      { licenses: access ? licensed : [] },
    ),
    ...options.tomAccount,
  };
  const tenant: TenantState = {
    users: [adaAccount, tom],
    groups: [
      aGroup('entrasync-all', {
        displayName: 'All',
        memberIds: access ? [adaAccount.id, tom.id] : [adaAccount.id],
      }),
    ],
    skus: [E3],
    deletedUsers: [],
  };
  return { rows: [ada, tomRow], tom, tenant };
}

function plan(
  s: ReturnType<typeof aSpec>,
  rows: Row[],
  tenant: TenantState,
  snapshot: Partial<SourceSnapshot> = {},
  now = NOW,
): Promise<Plan> {
  return planRows(s, rows, tenant, now, snapshot);
}

const about = (p: Plan, id: string) =>
  p.changes
    .filter(
      (c) =>
        subjectOf(c).id === id ||
        ((c.kind === 'addMembers' || c.kind === 'removeMembers') &&
          c.members.some((m) => m.id === id)),
    )
    .map((c) => c.kind);

describe('P10: an account the mapping disables goes through the leavers stages', () => {
  it('P10: day 0: disabled with sessions revoked and the date recorded; access kept within removeAccessAfterDays', async () => {
    const { rows, tom, tenant } = world();
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(about(p, tom.id)).toEqual(['disableUser']);
    expect(ofKind(p, 'disableUser')[0]).toMatchObject({
      reason: 'source-status',
      revokeSessions: true,
      stateAttribute: STATE,
      provenance: [{ source: 'hr', key: '2' }],
    });
  });

  it('P10: default policy: the revoke, the date and the access removal all come with the disable', async () => {
    const { rows, tom, tenant } = world();
    const p = await plan(spec(), rows, tenant);
    expect(about(p, tom.id).sort()).toEqual(['disableUser', 'removeLicenses', 'removeMembers']);
    expect(ofKind(p, 'disableUser')[0]).toMatchObject({
      revokeSessions: true,
      stateAttribute: STATE,
    });
    expect(ofKind(p, 'removeLicenses')[0]).toMatchObject({
      reason: 'source-status',
      rule: 'users.deprovision',
    });
  });

  it('P10: day 6 nothing happens; day 8 access is removed; day 31 the account is deleted (grace-elapsed)', async () => {
    const at = (days: number) => world({ tom: { accountEnabled: false, [STATE]: daysAgo(days) } });
    const s = spec({ deprovision: STAGED });
    const day6 = at(6);
    expect(about(await plan(s, day6.rows, day6.tenant), day6.tom.id)).toEqual([]);
    const day8 = at(8);
    expect(about(await plan(s, day8.rows, day8.tenant), day8.tom.id).sort()).toEqual([
      'removeLicenses',
      'removeMembers',
    ]);
    const day31 = at(31);
    const p31 = await plan(s, day31.rows, day31.tenant);
    expect(about(p31, day31.tom.id)).toContain('deleteUser');
    expect(ofKind(p31, 'deleteUser')[0]).toMatchObject({
      reason: 'grace-elapsed',
      message: expect.stringContaining('disabled by the mapping of hr:2 since'),
    });
  });

  it('P10: whenDisabled sets the stages for this trigger: access after 1 day, never deleted (null)', async () => {
    const s = spec({
      deprovision: { ...STAGED, whenDisabled: { removeAccessAfterDays: 1, deleteAfterDays: null } },
    });
    const day2 = world({ tom: { accountEnabled: false, [STATE]: daysAgo(2) } });
    expect(about(await plan(s, day2.rows, day2.tenant), day2.tom.id).sort()).toEqual([
      'removeLicenses',
      'removeMembers',
    ]);
    const day400 = world({ tom: { accountEnabled: false, [STATE]: daysAgo(400) } });
    const p = await plan(s, day400.rows, day400.tenant);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    // Leavers keep their own policy: the tenant read still asks for the recycle bin (30 days).
    expect(tenantReadRequest(s).deletedUsers).toBe(true);
  });

  it('P10: deprovision.action delete (for leavers) never deletes a mapping-disabled account at once', async () => {
    const { rows, tom, tenant } = world();
    const p = await plan(spec({ deprovision: 'delete' }), rows, tenant);
    expect(about(p, tom.id).sort()).toEqual(['disableUser', 'removeLicenses', 'removeMembers']);
  });

  it('P10: enabled again by the mapping: re-enabled, the date cleared (reason rehire), access back', async () => {
    const { rows, tom, tenant } = world({
      tomStatus: 'active',
      tomAccess: false,
      tom: { accountEnabled: false, [STATE]: daysAgo(3) },
    });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
    expect(about(p, tom.id).sort()).toEqual(['addMembers', 'assignLicenses', 'enableUser']);
    expect(ofKind(p, 'enableUser')[0]).toMatchObject({ reason: 'rehire', stateAttribute: STATE });
  });

  it('P10: an account disabled without a recorded date (pre-hire, or disabled before) is never staged to a delete', async () => {
    const { rows, tom, tenant } = world({ tom: { accountEnabled: false }, tomAccess: false });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant, {}, NOW + 400 * DAY);
    expect(about(p, tom.id)).toEqual([]);
  });

  it('P10: a person the mapping disables whose account the delete stage removed is neither restored nor created again', async () => {
    const { rows, tom, tenant } = world({ tom: { accountEnabled: false, [STATE]: daysAgo(40) } });
    const binned: TenantState = {
      ...tenant,
      users: tenant.users.filter((u) => u.id !== tom.id),
      deletedUsers: [tom],
    };
    const p = await plan(spec({ deprovision: STAGED }), rows, binned);
    expect(summary(p).filter((l) => l.includes('tom.terminated'))).toEqual([]);
  });

  it('P10: a source that is not complete blocks the disable, the access removals and the delete', async () => {
    const s = spec({ deprovision: STAGED });
    const day31 = world({ tom: { accountEnabled: false, [STATE]: daysAgo(31) } });
    const p = await plan(s, day31.rows, day31.tenant, { status: 'incomplete' });
    expect(about(p, day31.tom.id)).toEqual([]);
    expect(p.blocked.map((b) => `${b.change.kind} ${b.code}`).sort()).toEqual([
      'deleteUser source-unhealthy',
      'removeLicenses source-unhealthy',
      'removeMembers source-unhealthy',
    ]);
    const day0 = world();
    const p0 = await plan(s, day0.rows, day0.tenant, { status: 'incomplete' });
    expect(p0.blocked.map((b) => b.change.kind)).toEqual(['disableUser']);
  });

  it('P10: a person held this run (duplicate key) keeps a disabled account long past deleteAfterDays', async () => {
    const { rows, tom, tenant } = world({ tom: { accountEnabled: false, [STATE]: daysAgo(90) } });
    const twice = [...rows, { ...rows[1]!, first: 'Thomas' }];
    const p = await plan(spec({ deprovision: STAGED }), twice, tenant);
    expect(about(p, tom.id)).toEqual([]);
    expect(p.blocked.filter((b) => subjectOf(b.change).id === tom.id)).toEqual([]);
  });
});

describe('P11: a disabled account is never added to a group or licensed by a rule', () => {
  it('P11: a mapping-disabled account without access gets none, within the grace period or after', async () => {
    for (const date of [undefined, daysAgo(2), daysAgo(10)]) {
      const { rows, tom, tenant } = world({
        tomAccess: false,
        tom: { accountEnabled: false, ...(date ? { [STATE]: date } : {}) },
      });
      const p = await plan(spec({ deprovision: STAGED }), rows, tenant);
      expect(about(p, tom.id)).toEqual([]);
    }
  });

  it('P11: an account the mapping disables in this plan is not added to a new group nor given a new license', async () => {
    const { rows, tom, tenant } = world({ tomAccess: false });
    const s = spec({
      deprovision: STAGED,
      groups: [
        { key: 'all', name: 'All' },
        { key: 'sales', name: 'Sales', members: "department = 'Sales'" },
      ],
    });
    const p = await plan(s, rows, tenant);
    expect(about(p, tom.id)).toEqual(['disableUser']);
    // The group is still made, for the people it is for.
    expect(summary(p)).toContain('createGroup Sales');
  });

  it('P11: a person created disabled (no delete stage) gets an account but no group or license', async () => {
    const newcomer = aPerson('3', 'Pre', 'Hire', { status: 'pending' });
    const { rows, tenant } = world();
    const p = await plan(spec(), [...rows, newcomer], tenant);
    const created = summary(p).filter((l) => l.includes('pre.hire'));
    expect(created).toEqual(['createUser pre.hire@contoso.com']);
    expect(
      ofKind(p, 'addMembers').flatMap((c) => c.members.map((m) => m.userPrincipalName)),
    ).not.toContain('pre.hire@contoso.com');
  });

  it('P11: a leaver within removeAccessAfterDays keeps what it has and is added to nothing', async () => {
    const { rows, tom, tenant } = world({
      tomAccess: false,
      tom: { accountEnabled: false, [STATE]: daysAgo(2) },
    });
    const p = await plan(spec({ deprovision: STAGED }), [rows[0]!], tenant);
    expect(about(p, tom.id)).toEqual([]);
  });
});

describe('A9: a revoke that did not take effect is sent again', () => {
  const disabledAt = daysAgo(2);
  const atSecond = (iso: string, seconds: number) =>
    new Date(Date.parse(iso) + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

  it('A9: sessions valid since before the recorded disable: a revokeSessions change, for a leaver and for a mapping-disabled account', async () => {
    const validFrom = atSecond(daysAgo(300), 0);
    const { rows, tom, tenant } = world({
      tom: { accountEnabled: false, [STATE]: disabledAt },
      tomAccount: { signInSessionsValidFromDateTime: validFrom },
    });
    for (const people of [rows, [rows[0]!]]) {
      const p = await plan(spec({ deprovision: STAGED }), people, tenant);
      expect(about(p, tom.id)).toEqual(['revokeSessions']);
      expect(ofKind(p, 'revokeSessions')[0]).toMatchObject({
        id: `revokeSessions:${tom.id}`,
        user: { id: tom.id, userPrincipalName: tom.userPrincipalName },
        reason: people === rows ? 'source-status' : 'left-source',
        message: expect.stringContaining(
          `sessions are valid since ${validFrom}, before its disable`,
        ),
      });
    }
  });

  it('A9: no revoke when the revoke is seen (same second or later), unknown, not wanted, the date is in the future, or the account is being deleted', async () => {
    const cases: [
      Record<string, string | boolean | null>,
      string | undefined,
      SpecOverrides['deprovision'],
    ][] = [
      [{ [STATE]: disabledAt }, atSecond(disabledAt, 0), STAGED],
      [{ [STATE]: disabledAt }, atSecond(disabledAt, 5), STAGED],
      [{ [STATE]: disabledAt }, undefined, STAGED],
      [{ [STATE]: disabledAt }, atSecond(daysAgo(300), 0), { ...STAGED, revokeSessions: false }],
      [{ [STATE]: new Date(NOW + DAY).toISOString() }, atSecond(daysAgo(300), 0), STAGED],
      [{ [STATE]: daysAgo(31) }, atSecond(daysAgo(300), 0), STAGED],
      [{}, atSecond(daysAgo(300), 0), STAGED],
    ];
    for (const [attributes, validFrom, deprovision] of cases) {
      const { rows, tom, tenant } = world({
        tom: { accountEnabled: false, ...attributes },
        tomAccount: validFrom === undefined ? {} : { signInSessionsValidFromDateTime: validFrom },
      });
      const p = await plan(spec({ deprovision }), rows, tenant);
      expect(about(p, tom.id)).not.toContain('revokeSessions');
    }
  });

  it('A9: the revoke of a disabled account takes nothing more away: an unhealthy source does not hold it, no threshold brakes it', async () => {
    const { rows, tom, tenant } = world({
      tom: { accountEnabled: false, [STATE]: disabledAt },
      tomAccount: { signInSessionsValidFromDateTime: atSecond(daysAgo(300), 0) },
    });
    const p = await plan(spec({ deprovision: STAGED }), rows, tenant, { status: 'incomplete' });
    expect(about(p, tom.id)).toEqual(['revokeSessions']);
  });

  it('A9: the tenant read asks for signInSessionsValidFromDateTime when sessions are revoked', () => {
    expect(tenantReadRequest(spec()).signInSessions).toBe(true);
    expect(
      tenantReadRequest(spec({ deprovision: { revokeSessions: false } })).signInSessions,
    ).toBeUndefined();
  });
});
