/**
 * Access through the whole pipeline (computePlan): managed groups and their members, licenses
 * (direct and group-based) with the seat check, and managers. Literal data, no I/O.
 */
import { describe, expect, it } from 'vitest';
import type { Change, Plan } from '../model/plan.js';
import { subjectOf } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import type { TenantSku, TenantState } from '../model/tenant.js';
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
  upnOf,
} from '../../test/helpers/builders.js';
import { MEMBERS_PER_CHANGE } from './access.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');

const accountOf = accountOfRow;

const E3: TenantSku = {
  skuId: 'sku-e3',
  skuPartNumber: 'SPE_E3',
  seats: 100,
  consumed: 10,
  servicePlans: [
    { id: 'plan-yammer', name: 'YAMMER_ENTERPRISE' },
    { id: 'plan-sway', name: 'SWAY' },
    { id: 'plan-exchange', name: 'EXCHANGE_S_ENTERPRISE' },
  ],
};
const EMS: TenantSku = {
  skuId: 'sku-ems',
  skuPartNumber: 'EMS',
  seats: 100,
  consumed: 0,
  servicePlans: [{ id: 'plan-intune', name: 'INTUNE_A' }],
};

/** The default mapping plus usageLocation from the `country` column. */
const WITH_USAGE_LOCATION = {
  userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
  displayName: "first & ' ' & last",
  department: 'department',
  accountEnabled: "status = 'active'",
  usageLocation: 'country',
};

function spec(o: SpecOverrides = {}) {
  return aSpec({ ...o, safety: { minSourceRatio: 0, ...o.safety } });
}

function plan(
  s: ReturnType<typeof aSpec>,
  rows: Row[],
  tenant: TenantState,
  snapshotOverrides: Partial<SourceSnapshot> = {},
): Promise<Plan> {
  return planRows(s, rows, tenant, NOW, snapshotOverrides);
}

const memberUpns = (c: Change) =>
  c.kind === 'addMembers' || c.kind === 'removeMembers'
    ? c.members.map((m) => m.userPrincipalName)
    : [];

describe('access: managed groups', () => {
  it('a static group gets every in-scope person: createGroup, then addMembers requiring the create', async () => {
    const rows = [
      aPerson('1', 'Ada', 'Lovelace'),
      aPerson('2', 'Alan', 'Turing', { department: 'Research' }),
      aPerson('3', 'Grace', 'Hopper', { status: 'inactive' }),
    ];
    const p = await plan(
      spec({
        scope: "status = 'active'",
        groups: [{ key: 'all-staff', name: 'All Staff', description: 'Everyone' }],
      }),
      rows,
      { users: [], groups: [] },
    );
    const [create] = ofKind(p, 'createGroup');
    expect(create).toMatchObject({
      id: 'createGroup:entrasync-all-staff',
      reason: 'group-rule',
      rule: 'groups[0]',
      group: { uniqueName: 'entrasync-all-staff', displayName: 'All Staff' },
      properties: {
        displayName: 'All Staff',
        description: 'Everyone',
        mailNickname: 'entrasync-all-staff',
        mailEnabled: false,
        securityEnabled: true,
        groupTypes: [],
      },
      owners: [],
    });
    expect(create?.group.id).toBeUndefined();
    const adds = ofKind(p, 'addMembers');
    expect(adds).toHaveLength(1);
    expect(adds[0]).toMatchObject({
      id: 'addMembers:entrasync-all-staff#1',
      requires: ['createGroup:entrasync-all-staff'],
      members: [
        { userPrincipalName: 'ada.lovelace@contoso.com' },
        { userPrincipalName: 'alan.turing@contoso.com' },
      ],
    });
    // Members this plan creates are named by UPN only.
    expect(adds[0]?.members.every((m) => m.id === undefined)).toBe(true);
    // Order: users first, then the group, then its members.
    expect(summary(p)).toEqual([
      'createUser ada.lovelace@contoso.com',
      'createUser alan.turing@contoso.com',
      'createGroup All Staff',
      'addMembers All Staff',
    ]);
    expect(p.blocked).toEqual([]);
  });

  it('a `members` rule puts only the people it holds for in the group', async () => {
    const rows = [
      aPerson('1', 'Ada', 'Lovelace'),
      aPerson('2', 'Alan', 'Turing', { department: 'Research' }),
      aPerson('3', 'Grace', 'Hopper'),
    ];
    const p = await plan(
      spec({ groups: [{ key: 'sales', name: 'Sales Team', members: "department = 'Sales'" }] }),
      rows,
      { users: [], groups: [] },
    );
    expect(ofKind(p, 'addMembers').map(memberUpns)).toEqual([
      ['ada.lovelace@contoso.com', 'grace.hopper@contoso.com'],
    ]);
  });

  it('a `members` rule that holds for nobody still creates the (empty) group, with no member changes', async () => {
    const p = await plan(
      spec({ groups: [{ key: 'board', name: 'Board', members: "department = 'Board'" }] }),
      [aPerson('1', 'Ada', 'Lovelace')],
      { users: [], groups: [] },
    );
    expect(ofKind(p, 'createGroup').map((c) => c.group.uniqueName)).toEqual(['entrasync-board']);
    expect(ofKind(p, 'addMembers')).toEqual([]);
  });

  it('foreach: one group per distinct value, uniqueName prefix + key + "-" + slug(value), name from $value', async () => {
    const rows = [
      aPerson('1', 'Ada', 'Lovelace', { department: 'Research & Development' }),
      aPerson('2', 'Alan', 'Turing', { department: ' Research & Development ' }),
      aPerson('3', 'Grace', 'Hopper', { department: 'Sales' }),
      aPerson('4', 'Edsger', 'Dijkstra', { department: 'Ventes Île-de-France' }),
      aPerson('5', 'Barbara', 'Liskov', { department: '' }),
    ];
    const p = await plan(
      spec({ groups: [{ key: 'dept', name: "'Dept - ' & $value", foreach: 'department' }] }),
      rows,
      { users: [], groups: [] },
    );
    expect(
      ofKind(p, 'createGroup').map((c) => [c.group.uniqueName, c.group.displayName, c.rule]),
    ).toEqual([
      ['entrasync-dept-research-development', 'Dept - Research & Development', 'groups[0]'],
      ['entrasync-dept-sales', 'Dept - Sales', 'groups[0]'],
      ['entrasync-dept-ventes-ile-de-france', 'Dept - Ventes Île-de-France', 'groups[0]'],
    ]);
    const adds = new Map(ofKind(p, 'addMembers').map((c) => [c.group.uniqueName, memberUpns(c)]));
    expect(Object.fromEntries(adds)).toEqual({
      'entrasync-dept-research-development': [
        'ada.lovelace@contoso.com',
        'alan.turing@contoso.com',
      ],
      'entrasync-dept-sales': ['grace.hopper@contoso.com'],
      'entrasync-dept-ventes-ile-de-france': ['edsger.dijkstra@contoso.com'],
    });
    // Each addMembers waits for its own group's create.
    for (const add of ofKind(p, 'addMembers')) {
      expect(add.requires).toEqual([`createGroup:${add.group.uniqueName}`]);
    }
  });

  it(`45 new members are added in chunks of ${MEMBERS_PER_CHANGE} (20 + 20 + 5), in UPN order, each requiring the createGroup`, async () => {
    const rows = Array.from({ length: 45 }, (_, i) =>
      aPerson(String(100 + i), `P${String(100 + i)}`, 'Person'),
    );
    const p = await plan(spec({ groups: [{ key: 'all', name: 'All' }] }), rows, {
      users: [],
      groups: [],
    });
    const adds = ofKind(p, 'addMembers');
    expect(adds.map((c) => [c.id, c.members.length])).toEqual([
      ['addMembers:entrasync-all#1', 20],
      ['addMembers:entrasync-all#2', 20],
      ['addMembers:entrasync-all#3', 5],
    ]);
    for (const add of adds) expect(add.requires).toEqual(['createGroup:entrasync-all']);
    const all = adds.flatMap(memberUpns);
    expect(all).toEqual([...rows.map(upnOf)].sort());
    expect(new Set(all).size).toBe(45);
    expect(p.blocked).toEqual([]);
  });

  it('an existing managed group whose name or description drifted gets an updateGroup, and no create', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const account = accountOf(ada);
    const group = aGroup('entrasync-all-staff', {
      displayName: 'All staff (old)',
      description: null,
      memberIds: [account.id],
    });
    const p = await plan(
      spec({ groups: [{ key: 'all-staff', name: 'All Staff', description: 'Everyone' }] }),
      [ada],
      { users: [account], groups: [group] },
    );
    expect(p.changes).toEqual([
      expect.objectContaining({
        kind: 'updateGroup',
        id: `updateGroup:${group.id}`,
        group: { id: group.id, uniqueName: 'entrasync-all-staff', displayName: 'All Staff' },
        set: [
          { attribute: 'displayName', before: 'All staff (old)', after: 'All Staff' },
          { attribute: 'description', before: null, after: 'Everyone' },
        ],
      }),
    ]);
  });

  it('an existing group in sync with its members needs no change at all', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const account = accountOf(ada);
    const group = aGroup('entrasync-all-staff', {
      displayName: 'All Staff',
      memberIds: [account.id],
    });
    const p = await plan(spec({ groups: [{ key: 'all-staff', name: 'All Staff' }] }), [ada], {
      users: [account],
      groups: [group],
    });
    expect(p.changes).toEqual([]);
    expect(p.warnings).toEqual([]);
  });

  it('the group uniqueName is found again case-insensitively (no second create)', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const account = accountOf(ada);
    const group = aGroup('Entrasync-All-Staff', {
      displayName: 'All Staff',
      memberIds: [account.id],
    });
    const p = await plan(spec({ groups: [{ key: 'all-staff', name: 'All Staff' }] }), [ada], {
      users: [account],
      groups: [group],
    });
    expect(p.changes).toEqual([]);
  });

  it('a mover (department change) leaves the old foreach group and joins the new one', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { department: 'Engineering' });
    const grace = aPerson('2', 'Grace', 'Hopper', { department: 'Sales' });
    const adaAccount = accountOf(ada, { department: 'Sales' });
    const graceAccount = accountOf(grace);
    const sales = aGroup('entrasync-dept-sales', {
      displayName: 'Dept - Sales',
      memberIds: [adaAccount.id, graceAccount.id],
    });
    const p = await plan(
      spec({ groups: [{ key: 'dept', name: "'Dept - ' & $value", foreach: 'department' }] }),
      [ada, grace],
      { users: [adaAccount, graceAccount], groups: [sales] },
    );
    expect(summary(p)).toEqual([
      'updateUser ada.lovelace@contoso.com',
      'createGroup Dept - Engineering',
      'addMembers Dept - Engineering',
      'removeMembers Dept - Sales',
    ]);
    const [add] = ofKind(p, 'addMembers');
    expect(add).toMatchObject({
      group: { uniqueName: 'entrasync-dept-engineering' },
      members: [{ id: adaAccount.id, userPrincipalName: 'ada.lovelace@contoso.com' }],
      requires: ['createGroup:entrasync-dept-engineering'],
    });
    const [remove] = ofKind(p, 'removeMembers');
    expect(remove).toMatchObject({
      id: 'removeMembers:entrasync-dept-sales#1',
      reason: 'group-rule',
      group: { id: sales.id, uniqueName: 'entrasync-dept-sales' },
      members: [{ id: adaAccount.id, userPrincipalName: 'ada.lovelace@contoso.com' }],
    });
    expect(remove?.requires).toBeUndefined();
    expect(p.blocked).toEqual([]);
  });

  it('P1/P3/P5: members no rule wants are removed, but protected, privileged, synced, guest and held people and non-user members stay', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const bob = aPerson('2', 'Bob', 'Smith', { department: 'Research' });
    const adaAccount = accountOf(ada);
    const bobAccount = accountOf(bob);
    const stranger = anAccount('stranger@contoso.com', {}, { managed: false });
    const boss = anAccount('boss@contoso.com', {}, { managed: false });
    const admin = anAccount('admin@contoso.com', {}, { managed: false });
    const managedAdmin = anAccount('managed.admin@contoso.com', { employeeId: '77' });
    const synced = anAccount(
      'synced@contoso.com',
      { onPremisesSyncEnabled: true },
      { managed: false },
    );
    const guest = anAccount(
      'partner_fabrikam.com#EXT#@contoso.com',
      { userType: 'Guest' },
      { managed: false },
    );
    // Held: two rows with one key this run (an error), so their fate is unknown.
    const heldRows = [
      aPerson('9', 'Held', 'Person', { department: 'Research' }),
      aPerson('9', 'Held', 'Twin', { department: 'Research' }),
    ];
    const heldAccount = anAccount('held.person@contoso.com', { employeeId: '9' });
    const group = aGroup('entrasync-sales', {
      displayName: 'Sales',
      memberIds: [
        adaAccount.id,
        bobAccount.id,
        stranger.id,
        boss.id,
        admin.id,
        managedAdmin.id,
        heldAccount.id,
        synced.id,
        guest.id,
        'nested-group-id',
        'device-id',
      ],
    });
    const p = await plan(
      spec({
        groups: [{ key: 'sales', name: 'Sales', members: "department = 'Sales'" }],
        safety: { protect: ['boss@contoso.com'] },
        deprovision: 'none',
      }),
      [ada, bob, ...heldRows],
      {
        users: [
          adaAccount,
          bobAccount,
          stranger,
          boss,
          admin,
          managedAdmin,
          heldAccount,
          synced,
          guest,
        ],
        groups: [group],
        privileged: [
          { userId: admin.id, reason: 'active role Global Administrator' },
          { userId: managedAdmin.id, reason: 'eligible role User Administrator' },
        ],
      },
    );
    const removes = ofKind(p, 'removeMembers');
    expect(removes).toHaveLength(1);
    expect(removes[0]?.members).toEqual([
      { id: bobAccount.id, userPrincipalName: 'bob.smith@contoso.com' },
      { id: stranger.id, userPrincipalName: 'stranger@contoso.com' },
    ]);
    expect(ofKind(p, 'addMembers')).toEqual([]);
    expect(p.blocked).toEqual([]);
  });

  it('P3: a privileged account matched to a person gets no membership, license or manager change', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { country: 'US', manager: '2' });
    const grace = aPerson('2', 'Grace', 'Hopper', { country: 'US', manager: '' });
    const adaAccount = accountOf(ada, { usageLocation: 'US' }, { licenses: [] });
    const graceAccount = accountOf(grace, { usageLocation: 'US' });
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        groups: [{ key: 'all', name: 'All' }],
        licenses: [{ sku: 'SPE_E3' }],
        manager: 'manager',
      }),
      [ada, grace],
      {
        users: [adaAccount, graceAccount],
        groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: [graceAccount.id] })],
        skus: [E3],
        privileged: [{ userId: adaAccount.id, reason: 'active role Global Administrator' }],
      },
    );
    expect(p.changes.filter((c) => subjectOf(c).id === adaAccount.id)).toEqual([]);
    expect(p.changes.flatMap(memberUpns)).not.toContain('ada.lovelace@contoso.com');
    expect(p.warnings).toContainEqual(expect.objectContaining({ code: 'match.privileged' }));
  });

  it('a role-assignable managed group is left alone, members and all, with a warning', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const adaAccount = accountOf(ada);
    const stranger = anAccount('stranger@contoso.com', {}, { managed: false });
    const group = aGroup('entrasync-all', {
      displayName: 'Old name',
      isAssignableToRole: true,
      memberIds: [stranger.id],
    });
    const p = await plan(spec({ groups: [{ key: 'all', name: 'All' }] }), [ada], {
      users: [adaAccount, stranger],
      groups: [group],
    });
    expect(p.changes).toEqual([]);
    expect(p.warnings).toEqual([
      expect.objectContaining({ code: 'group.role-assignable', subject: 'entrasync-all' }),
    ]);
  });

  it('a role-assignable managed group no rule asks for is not emptied either', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const adaAccount = accountOf(ada);
    const group = aGroup('entrasync-admins', {
      isAssignableToRole: true,
      memberIds: [adaAccount.id],
    });
    const p = await plan(spec({ groups: [{ key: 'all', name: 'All' }] }), [ada], {
      users: [adaAccount],
      groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: [adaAccount.id] }), group],
    });
    expect(p.changes).toEqual([]);
    expect(ofKind(p, 'removeMembers')).toEqual([]);
  });

  it('an orphan managed group (no rule asks for it) is emptied, with a warning to delete it', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const adaAccount = accountOf(ada);
    const orphan = aGroup('entrasync-old-team', {
      displayName: 'Old Team',
      memberIds: [adaAccount.id, 'nested-group-id'],
    });
    const p = await plan(spec({ groups: [{ key: 'all', name: 'All' }] }), [ada], {
      users: [adaAccount],
      groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: [adaAccount.id] }), orphan],
    });
    expect(p.changes).toEqual([
      expect.objectContaining({
        kind: 'removeMembers',
        group: { id: orphan.id, uniqueName: 'entrasync-old-team', displayName: 'Old Team' },
        members: [{ id: adaAccount.id, userPrincipalName: 'ada.lovelace@contoso.com' }],
      }),
    ]);
    expect(p.warnings).toEqual([
      expect.objectContaining({ code: 'group.orphan', subject: 'entrasync-old-team' }),
    ]);
    expect(p.warnings[0]?.message).toContain('1 member(s) are removed');
  });

  it('a Microsoft 365 group is created Unified and mail-enabled, with owners that exist and a warning for those that do not', async () => {
    const owner = anAccount('it.owner@contoso.com', {}, { managed: false });
    const p = await plan(
      spec({
        groups: [
          {
            key: 'team',
            name: 'Team Site',
            type: 'microsoft365',
            owners: ['IT.Owner@contoso.com', 'ghost@contoso.com'],
          },
        ],
      }),
      [aPerson('1', 'Ada', 'Lovelace')],
      { users: [owner], groups: [] },
    );
    const [create] = ofKind(p, 'createGroup');
    expect(create?.properties).toEqual({
      displayName: 'Team Site',
      description: null,
      mailNickname: 'entrasync-team',
      mailEnabled: true,
      securityEnabled: false,
      groupTypes: ['Unified'],
    });
    expect(create?.owners).toEqual([{ id: owner.id, userPrincipalName: 'it.owner@contoso.com' }]);
    expect(p.warnings).toContainEqual(
      expect.objectContaining({ code: 'group.unknown-owner', subject: 'entrasync-team' }),
    );
  });

  it('held creates hold the member adds that name them, and nothing else: the group create stays appliable', async () => {
    // 3 creates against a creates threshold of 1 (and 0 managed accounts): every create is blocked.
    const rows = [
      aPerson('1', 'Ada', 'Lovelace'),
      aPerson('2', 'Alan', 'Turing'),
      aPerson('3', 'Grace', 'Hopper'),
    ];
    const p = await plan(
      spec({
        groups: [{ key: 'all', name: 'All' }],
        safety: {
          thresholds: { ...aSpec().safety.thresholds, creates: { count: 1, percent: 0 } },
        },
      }),
      rows,
      { users: [], groups: [] },
    );
    expect(p.blocked.map((b) => [b.change.kind, b.code])).toEqual([
      ['createUser', 'threshold'],
      ['createUser', 'threshold'],
      ['createUser', 'threshold'],
      ['addMembers', 'requires-blocked'],
    ]);
    // The add names only the held new hires: it is held with them; the group is created.
    expect(summary(p)).toEqual(['createGroup All']);
    expect(p.blocked[3]?.message).toMatch(
      /^held: it follows createUser:ada\.lovelace@contoso\.com, /,
    );
  });
});

describe('access: licenses', () => {
  const rows = [
    aPerson('1', 'Ada', 'Lovelace', { country: 'GB' }),
    aPerson('2', 'Alan', 'Turing', { country: 'GB', department: 'Research' }),
  ];

  it('direct: assigns the SKU with disabledPlans names resolved to ids from the tenant SKU', async () => {
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'spe_e3', disabledPlans: ['YAMMER_ENTERPRISE', 'SWAY'] }],
      }),
      rows.slice(0, 1),
      { users: [], skus: [E3] },
    );
    const assigns = ofKind(p, 'assignLicenses');
    expect(assigns).toEqual([
      expect.objectContaining({
        id: 'assignLicenses:ada.lovelace@contoso.com',
        reason: 'license-rule',
        rule: 'licenses[0]',
        user: { userPrincipalName: 'ada.lovelace@contoso.com' },
        requires: ['createUser:ada.lovelace@contoso.com'],
        licenses: [
          {
            skuPartNumber: 'SPE_E3',
            skuId: 'sku-e3',
            disabledPlans: ['SWAY', 'YAMMER_ENTERPRISE'],
            disabledPlanIds: ['plan-sway', 'plan-yammer'],
          },
        ],
      }),
    ]);
    expect(p.licenses).toEqual([
      {
        skuPartNumber: 'SPE_E3',
        skuId: 'sku-e3',
        seats: 100,
        consumed: 10,
        adding: 1,
        removing: 0,
        shortfall: 0,
      },
    ]);
    expect(p.issues).toEqual([]);
  });

  it('direct: an account that already holds the SKU with the same disabled plans needs nothing', async () => {
    const ada = rows[0] as Row;
    const account = accountOf(
      ada,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-e3', disabledPlans: ['plan-yammer'] }] },
    );
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3', disabledPlans: ['YAMMER_ENTERPRISE'] }],
      }),
      [ada],
      { users: [account], skus: [E3] },
    );
    expect(p.changes).toEqual([]);
  });

  it('direct: different disabled plans on a held SKU are re-assigned, without counting a seat', async () => {
    const ada = rows[0] as Row;
    const account = accountOf(
      ada,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-e3', disabledPlans: [] }] },
    );
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3', disabledPlans: ['YAMMER_ENTERPRISE'] }],
      }),
      [ada],
      { users: [account], skus: [{ ...E3, seats: 10, consumed: 10 }] },
    );
    expect(summary(p)).toEqual(['assignLicenses ada.lovelace@contoso.com']);
    expect(ofKind(p, 'removeLicenses')).toEqual([]);
    expect(p.licenses?.[0]).toMatchObject({ adding: 0, shortfall: 0 });
    expect(p.blocked).toEqual([]);
  });

  it('license.unknown: a SKU the tenant does not have is a plan issue and the rule does nothing', async () => {
    const account = accountOf(
      rows[0] as Row,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-e3', disabledPlans: [] }] },
    );
    const p = await plan(
      spec({ attributes: WITH_USAGE_LOCATION, licenses: [{ sku: 'SPE_E5' }] }),
      rows,
      { users: [account], skus: [E3] },
    );
    expect(p.issues).toEqual([
      expect.objectContaining({ code: 'license.unknown', severity: 'error', source: 'hr' }),
    ]);
    expect(p.issues[0]?.message).toContain('licenses[0]: the tenant has no SKU SPE_E5');
    expect(ofKind(p, 'assignLicenses')).toEqual([]);
    expect(ofKind(p, 'removeLicenses')).toEqual([]);
  });

  it('license.unknown: an unknown service plan name voids the rule (reported once), other rules still apply', async () => {
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3', disabledPlans: ['NO_SUCH_PLAN'] }, { sku: 'EMS' }],
      }),
      rows,
      { users: [], skus: [E3, EMS] },
    );
    expect(p.issues.map((i) => i.code)).toEqual(['license.unknown']);
    expect(p.issues[0]?.message).toContain('SPE_E3 has no service plan NO_SUCH_PLAN');
    expect(ofKind(p, 'assignLicenses').map((c) => c.licenses.map((l) => l.skuPartNumber))).toEqual([
      ['EMS'],
      ['EMS'],
    ]);
  });

  it('license.unknown: a broken rule removes nothing either: its license group is not emptied, group licenses are not revoked, its SKU is not taken directly', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { country: 'GB', department: 'Research' });
    const account = accountOf(
      ada,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-e3', disabledPlans: [] }] },
    );
    const licenseGroup = aGroup('entrasync-license-spe-e3', {
      displayName: 'License - SPE_E3',
      memberIds: [account.id],
      licenses: [{ skuId: 'sku-e3', disabledPlans: [] }],
    });
    const allGroup = aGroup('entrasync-all', {
      displayName: 'All',
      memberIds: [account.id],
      licenses: [{ skuId: 'sku-e3', disabledPlans: [] }],
    });
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        groups: [
          { key: 'all', name: 'All', licenses: [{ sku: 'SPE_E3', disabledPlans: ['TYPO'] }] },
        ],
        licenses: [
          { sku: 'SPE_E3', disabledPlans: ['TYPO'], assignBy: 'group' },
          // A second, valid direct rule for the same SKU that does not hold for Ada.
          { sku: 'SPE_E3', when: "department = 'Sales'" },
          { sku: 'SPE_E3', disabledPlans: ['TYPO'], when: "department = 'Research'" },
        ],
      }),
      [ada],
      { users: [account], groups: [licenseGroup, allGroup], skus: [E3] },
    );
    expect(p.issues.map((i) => i.code)).toEqual([
      'license.unknown',
      'license.unknown',
      'license.unknown',
    ]);
    expect(p.changes).toEqual([]);
    expect(p.blocked).toEqual([]);
    expect(p.warnings.map((w) => w.code)).not.toContain('group.orphan');
  });

  it('license.no-usage-location: no usageLocation is a plan issue and no assignment', async () => {
    const p = await plan(
      spec({ licenses: [{ sku: 'SPE_E3' }] }),
      [aPerson('1', 'Ada', 'Lovelace')],
      { users: [], skus: [E3] },
    );
    expect(summary(p)).toEqual(['createUser ada.lovelace@contoso.com']);
    expect(p.issues).toEqual([
      expect.objectContaining({
        code: 'license.no-usage-location',
        severity: 'error',
        key: 'hr:1',
      }),
    ]);
  });

  it("an existing account's usageLocation is enough when the mapping does not set one", async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const account = accountOf(ada, { usageLocation: 'FR' });
    const p = await plan(spec({ licenses: [{ sku: 'SPE_E3' }] }), [ada], {
      users: [account],
      skus: [E3],
    });
    expect(summary(p)).toEqual(['assignLicenses ada.lovelace@contoso.com']);
    expect(p.issues).toEqual([]);
  });

  it('a rule that stops holding removes the direct assignment (removeLicenses, a deprovisioning change)', async () => {
    const alan = rows[1] as Row; // Research: the rule is for Sales only
    const account = accountOf(
      alan,
      { usageLocation: 'GB' },
      {
        licenses: [
          { skuId: 'sku-e3', disabledPlans: ['plan-yammer'] },
          { skuId: 'sku-unmanaged', disabledPlans: [] },
        ],
      },
    );
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3', when: "department = 'Sales'" }],
      }),
      [alan],
      { users: [account], skus: [E3] },
    );
    expect(p.changes).toEqual([
      expect.objectContaining({
        kind: 'removeLicenses',
        id: `removeLicenses:${account.id}`,
        reason: 'license-rule',
        user: { id: account.id, userPrincipalName: 'alan.turing@contoso.com' },
        licenses: [
          {
            skuPartNumber: 'SPE_E3',
            skuId: 'sku-e3',
            disabledPlans: ['YAMMER_ENTERPRISE'],
            disabledPlanIds: ['plan-yammer'],
          },
        ],
      }),
    ]);
    expect(p.licenses).toEqual([expect.objectContaining({ skuId: 'sku-e3', removing: 1 })]);
  });

  it('a license inherited from a group (viaGroup) is never removed directly', async () => {
    const alan = rows[1] as Row;
    const account = accountOf(
      alan,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-e3', disabledPlans: [], viaGroup: 'some-group-id' }] },
    );
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3', when: "department = 'Sales'" }],
      }),
      [alan],
      { users: [account], skus: [E3] },
    );
    expect(p.changes).toEqual([]);
  });

  it('a user holding the SKU through a group still gets the direct assignment the rule asks for, without a new seat', async () => {
    const ada = rows[0] as Row;
    const account = accountOf(
      ada,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-e3', disabledPlans: [], viaGroup: 'some-group-id' }] },
    );
    const p = await plan(
      spec({ attributes: WITH_USAGE_LOCATION, licenses: [{ sku: 'SPE_E3' }] }),
      [ada],
      {
        users: [account],
        skus: [{ ...E3, seats: 10, consumed: 10 }],
      },
    );
    expect(summary(p)).toEqual(['assignLicenses ada.lovelace@contoso.com']);
    expect(p.licenses?.[0]).toMatchObject({ adding: 0, shortfall: 0 });
    expect(p.blocked).toEqual([]);
  });

  it('G9: a seat shortfall blocks the assignments of that SKU (license-shortfall) while other SKUs and the creates proceed', async () => {
    const people = [
      aPerson('1', 'Ada', 'Lovelace', { country: 'GB' }),
      aPerson('2', 'Alan', 'Turing', { country: 'GB' }),
      aPerson('3', 'Grace', 'Hopper', { country: 'GB' }),
      aPerson('4', 'Edsger', 'Dijkstra', { country: 'NL', department: 'Research' }),
    ];
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [
          { sku: 'SPE_E3', when: "department = 'Sales'" },
          { sku: 'EMS', when: "department = 'Research'" },
        ],
      }),
      people,
      { users: [], skus: [{ ...E3, seats: 12, consumed: 11 }, EMS] },
    );
    expect(p.licenses).toEqual([
      {
        skuPartNumber: 'SPE_E3',
        skuId: 'sku-e3',
        seats: 12,
        consumed: 11,
        adding: 3,
        removing: 0,
        shortfall: 2,
      },
      {
        skuPartNumber: 'EMS',
        skuId: 'sku-ems',
        seats: 100,
        consumed: 0,
        adding: 1,
        removing: 0,
        shortfall: 0,
      },
    ]);
    expect(p.blocked.map((b) => [b.change.id, b.code])).toEqual([
      ['assignLicenses:ada.lovelace@contoso.com', 'license-shortfall'],
      ['assignLicenses:alan.turing@contoso.com', 'license-shortfall'],
      ['assignLicenses:grace.hopper@contoso.com', 'license-shortfall'],
    ]);
    expect(p.blocked[0]?.message).toContain('SPE_E3 has 1 free seat(s)');
    expect(p.blocked[0]?.message).toContain('2 seat(s) short');
    expect(summary(p)).toEqual([
      'createUser ada.lovelace@contoso.com',
      'createUser alan.turing@contoso.com',
      'createUser edsger.dijkstra@contoso.com',
      'createUser grace.hopper@contoso.com',
      'assignLicenses edsger.dijkstra@contoso.com',
    ]);
  });

  it('G9: a shortfall on one SKU holds back only that SKU of a user who gets several', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { country: 'GB' });
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3' }, { sku: 'EMS' }],
      }),
      [ada],
      { users: [], skus: [E3, { ...EMS, seats: 3, consumed: 3 }] },
    );
    expect(summary(p)).toEqual([
      'createUser ada.lovelace@contoso.com',
      'assignLicenses ada.lovelace@contoso.com',
    ]);
    const assigned = p.changes.find((c) => c.kind === 'assignLicenses');
    expect(assigned).toMatchObject({ licenses: [{ skuPartNumber: 'SPE_E3' }] });
    expect(p.blocked.map((b) => [b.change.id, b.code])).toEqual([
      ['assignLicenses:ada.lovelace@contoso.com#short', 'license-shortfall'],
    ]);
    expect(p.blocked[0]?.change).toMatchObject({ licenses: [{ skuPartNumber: 'EMS' }] });
    expect(p.blocked[0]?.message).toContain('EMS has 0 free seat(s)');
  });

  it('G9: a short SKU the user already holds through a group takes no seat, so it is not held back with the short one', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { country: 'GB' });
    const account = accountOf(
      ada,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-ems', disabledPlans: [], viaGroup: 'some-group-id' }] },
    );
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3' }, { sku: 'EMS' }],
      }),
      [ada],
      {
        users: [account],
        // Both SKUs are short of seats; Ada holds EMS already (through a group), so only E3
        // would take one.
        skus: [
          { ...E3, seats: 3, consumed: 3 },
          { ...EMS, seats: 3, consumed: 4 },
        ],
      },
    );
    expect(p.changes.find((c) => c.kind === 'assignLicenses')).toMatchObject({
      id: `assignLicenses:${account.id}`,
      licenses: [{ skuPartNumber: 'EMS' }],
    });
    expect(p.blocked.map((b) => [b.change.id, b.code])).toEqual([
      [`assignLicenses:${account.id}#short`, 'license-shortfall'],
    ]);
    expect(p.blocked[0]?.change).toMatchObject({ licenses: [{ skuPartNumber: 'SPE_E3' }] });
  });

  it('G9: a license newly put on an existing group counts its staying members as seats', async () => {
    const people = [
      aPerson('1', 'Ada', 'Lovelace', { country: 'GB' }),
      aPerson('2', 'Alan', 'Turing', { country: 'GB' }),
      aPerson('3', 'Grace', 'Hopper', { country: 'GB' }),
    ];
    const accounts = people.map((r) => accountOf(r, { usageLocation: 'GB' }));
    const team = aGroup('entrasync-all', {
      displayName: 'All',
      memberIds: accounts.map((a) => a.id),
    });
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        groups: [{ key: 'all', name: 'All', licenses: [{ sku: 'SPE_E3', disabledPlans: [] }] }],
      }),
      people,
      { users: accounts, groups: [team], skus: [{ ...E3, seats: 12, consumed: 10 }] },
    );
    expect(p.licenses).toEqual([expect.objectContaining({ adding: 3, shortfall: 1 })]);
    expect(p.blocked.map((b) => [b.change.id, b.code])).toEqual([
      ['assignGroupLicenses:entrasync-all', 'license-shortfall'],
    ]);
  });

  it('G9: seats freed by removals in the same plan count against the shortfall', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { country: 'GB' });
    const alan = aPerson('2', 'Alan', 'Turing', { country: 'GB', department: 'Research' });
    const alanAccount = accountOf(
      alan,
      { usageLocation: 'GB' },
      { licenses: [{ skuId: 'sku-e3', disabledPlans: [] }] },
    );
    const p = await plan(
      spec({
        attributes: WITH_USAGE_LOCATION,
        licenses: [{ sku: 'SPE_E3', when: "department = 'Sales'" }],
      }),
      [ada, alan],
      { users: [alanAccount], skus: [{ ...E3, seats: 5, consumed: 5 }] },
    );
    expect(p.licenses).toEqual([
      expect.objectContaining({ consumed: 5, adding: 1, removing: 1, shortfall: 0 }),
    ]);
    expect(p.blocked).toEqual([]);
    expect(summary(p)).toEqual([
      'createUser ada.lovelace@contoso.com',
      'assignLicenses ada.lovelace@contoso.com',
      'removeLicenses alan.turing@contoso.com',
    ]);
  });

  it('assignBy group: a license-<sku> group holds the license and gets the members; no per-user assignLicenses', async () => {
    const p = await plan(
      spec({
        licenses: [{ sku: 'SPE_E3', disabledPlans: ['SWAY'], assignBy: 'group' }],
      }),
      [aPerson('1', 'Ada', 'Lovelace'), aPerson('2', 'Alan', 'Turing')],
      { users: [], groups: [], skus: [E3] },
    );
    expect(summary(p)).toEqual([
      'createUser ada.lovelace@contoso.com',
      'createUser alan.turing@contoso.com',
      'createGroup License - SPE_E3',
      'assignGroupLicenses License - SPE_E3',
      'addMembers License - SPE_E3',
    ]);
    expect(ofKind(p, 'createGroup')[0]).toMatchObject({
      id: 'createGroup:entrasync-license-spe-e3',
      group: { uniqueName: 'entrasync-license-spe-e3', displayName: 'License - SPE_E3' },
      rule: 'licenses[0]',
      properties: { securityEnabled: true, mailEnabled: false, groupTypes: [] },
    });
    expect(ofKind(p, 'assignGroupLicenses')[0]).toMatchObject({
      reason: 'license-rule',
      requires: ['createGroup:entrasync-license-spe-e3'],
      licenses: [
        {
          skuPartNumber: 'SPE_E3',
          skuId: 'sku-e3',
          disabledPlans: ['SWAY'],
          disabledPlanIds: ['plan-sway'],
        },
      ],
    });
    expect(ofKind(p, 'addMembers')[0]?.members.map((m) => m.userPrincipalName)).toEqual([
      'ada.lovelace@contoso.com',
      'alan.turing@contoso.com',
    ]);
    expect(ofKind(p, 'assignLicenses')).toEqual([]);
    // Group-based licensing needs no usageLocation check at plan time per user.
    expect(p.issues).toEqual([]);
    expect(p.licenses).toEqual([expect.objectContaining({ skuId: 'sku-e3', adding: 2 })]);
  });

  it('assignBy group: an existing license group that already holds the license only changes members; a shortfall blocks its adds', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const alan = aPerson('2', 'Alan', 'Turing');
    const adaAccount = accountOf(ada, {}, { licenses: [] });
    const alanAccount = accountOf(alan, {}, { licenses: [] });
    const group = aGroup('entrasync-license-spe-e3', {
      displayName: 'License - SPE_E3',
      description: 'Members get SPE_E3 (group-based licensing, managed by entrasync licenses[0])',
      licenses: [{ skuId: 'sku-e3', disabledPlans: [] }],
    });
    const p = await plan(spec({ licenses: [{ sku: 'SPE_E3', assignBy: 'group' }] }), [ada, alan], {
      users: [adaAccount, alanAccount],
      groups: [group],
      skus: [{ ...E3, seats: 11, consumed: 10 }],
    });
    expect(p.changes).toEqual([]);
    expect(p.blocked.map((b) => [b.change.kind, b.code])).toEqual([
      ['addMembers', 'license-shortfall'],
    ]);
    expect(p.licenses).toEqual([expect.objectContaining({ adding: 2, shortfall: 1 })]);
  });
});

describe('access: managers', () => {
  const managerSpec = () => spec({ manager: 'manager' });

  it('setManager for a new user whose manager this plan also creates (manager named by UPN, no id)', async () => {
    const p = await plan(
      managerSpec(),
      [
        aPerson('1', 'Grace', 'Hopper', { manager: '' }),
        aPerson('2', 'Ada', 'Lovelace', { manager: '1' }),
      ],
      { users: [] },
    );
    const sets = ofKind(p, 'setManager');
    expect(sets).toEqual([
      expect.objectContaining({
        id: 'setManager:ada.lovelace@contoso.com',
        reason: 'manager',
        rule: 'users.manager',
        user: { userPrincipalName: 'ada.lovelace@contoso.com' },
        manager: { userPrincipalName: 'grace.hopper@contoso.com' },
      }),
    ]);
    expect(sets[0]?.manager.id).toBeUndefined();
    // The user's own create is required; the new manager is only waited for at apply.
    expect(sets[0]?.requires).toEqual(['createUser:ada.lovelace@contoso.com']);
    expect(summary(p)).toEqual([
      'createUser ada.lovelace@contoso.com',
      'createUser grace.hopper@contoso.com',
      'setManager ada.lovelace@contoso.com',
    ]);
  });

  it('setManager for an existing user to an existing manager, by id', async () => {
    const grace = aPerson('1', 'Grace', 'Hopper', { manager: '' });
    const ada = aPerson('2', 'Ada', 'Lovelace', { manager: '1' });
    const graceAccount = accountOf(grace);
    const adaAccount = accountOf(ada, {}, { managerId: 'someone-else' });
    const p = await plan(managerSpec(), [grace, ada], { users: [graceAccount, adaAccount] });
    expect(p.changes).toEqual([
      expect.objectContaining({
        kind: 'setManager',
        id: `setManager:${adaAccount.id}`,
        user: { id: adaAccount.id, userPrincipalName: 'ada.lovelace@contoso.com' },
        manager: { id: graceAccount.id, userPrincipalName: 'grace.hopper@contoso.com' },
      }),
    ]);
    expect(p.changes[0]?.requires).toBeUndefined();
  });

  it('an unchanged manager is no change', async () => {
    const grace = aPerson('1', 'Grace', 'Hopper', { manager: '' });
    const ada = aPerson('2', 'Ada', 'Lovelace', { manager: '1' });
    const graceAccount = accountOf(grace);
    const adaAccount = accountOf(ada, {}, { managerId: graceAccount.id });
    const p = await plan(managerSpec(), [grace, ada], { users: [graceAccount, adaAccount] });
    expect(p.changes).toEqual([]);
    expect(p.warnings).toEqual([]);
  });

  it('manager.unknown: a manager key no person has is a warning and the manager is left as it is', async () => {
    const ada = aPerson('2', 'Ada', 'Lovelace', { manager: '99' });
    const adaAccount = accountOf(ada, {}, { managerId: 'old-manager' });
    const p = await plan(managerSpec(), [ada], { users: [adaAccount] });
    expect(p.changes).toEqual([]);
    expect(p.warnings).toEqual([
      expect.objectContaining({ code: 'manager.unknown', subject: 'ada.lovelace@contoso.com' }),
    ]);
    expect(p.warnings[0]?.message).toContain('manager 99');
  });

  it('manager.self: a person who is their own manager is a warning, not a change', async () => {
    const ada = aPerson('2', 'Ada', 'Lovelace', { manager: '2' });
    const p = await plan(managerSpec(), [ada], { users: [accountOf(ada)] });
    expect(p.changes).toEqual([]);
    expect(p.warnings.map((w) => w.code)).toEqual(['manager.self']);
  });
});
