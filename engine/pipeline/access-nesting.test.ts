/**
 * Nested groups (`memberGroups`, issue 8) through the whole pipeline (computePlan): static
 * nesting, `foreach` groups nested in `foreach` groups by the people's values, managed children
 * no longer listed removed (braked and guarded like user removals), and what Graph refuses
 * (cycles, Microsoft 365 groups, role-assignable parents) as plan errors. Literal data, no I/O.
 */
import { describe, expect, it } from 'vitest';
import type { Change, GroupMembersChange, Plan } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import type { TenantGroup, TenantState, TenantUser } from '../model/tenant.js';
import type { Row, SpecOverrides } from '../../test/helpers/builders.js';
import { aGroup, aPerson, aSpec, accountOfRow, planRows } from '../../test/helpers/builders.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');

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

/** A managed account in sync with the default mapping of `row`, with a readable id. */
const accountOf = (row: Row): TenantUser => accountOfRow(row, {}, { id: `user-${row.id}` });

/** Nested-group changes as `kind parent: child, child`. */
function nested(p: Plan | readonly Change[]): string[] {
  const list = Array.isArray(p) ? p : (p as Plan).changes;
  return list
    .filter(
      (c): c is GroupMembersChange =>
        (c.kind === 'addMembers' || c.kind === 'removeMembers') &&
        (c.memberGroups?.length ?? 0) > 0,
    )
    .map(
      (c) =>
        `${c.kind} ${c.group.uniqueName}: ${(c.memberGroups ?? []).map((g) => g.uniqueName).join(', ')}`,
    );
}

const errors = (p: Plan) =>
  p.issues.filter((i) => i.severity === 'error').map((i) => `${i.code}: ${i.message}`);

const ENGINEERING = [
  aPerson('1', 'Ada', 'Lovelace', { department: 'Engineering', team: 'Platform' }),
  aPerson('2', 'Alan', 'Turing', { department: 'Engineering', team: 'Apps' }),
  aPerson('3', 'Grace', 'Hopper', { department: 'Sales', team: '' }),
];

const STATIC_GROUPS: SpecOverrides['groups'] = [
  {
    key: 'all-eng',
    name: 'All Engineering',
    members: 'false',
    memberGroups: ['eng-platform', 'eng-apps'],
  },
  { key: 'eng-platform', name: 'Eng Platform', members: "team = 'Platform'" },
  { key: 'eng-apps', name: 'Eng Apps', members: "team = 'Apps'" },
];

/** Division -> department, from the HR columns of each person. */
const DIVISIONS = [
  aPerson('1', 'Ada', 'Lovelace', { division: 'Tech', department: 'Platform' }),
  aPerson('2', 'Alan', 'Turing', { division: 'Tech', department: 'Apps' }),
  aPerson('3', 'Grace', 'Hopper', { division: 'Commercial', department: 'Sales' }),
  aPerson('4', 'Edsger', 'Dijkstra', { division: 'Commercial', department: 'Marketing' }),
  aPerson('5', 'Barbara', 'Liskov', { division: 'Tech', department: 'Platform' }),
];

const DIVISION_GROUPS: SpecOverrides['groups'] = [
  {
    key: 'division',
    name: "'Division - ' & $value",
    foreach: 'division',
    members: 'false',
    memberGroups: ['dept'],
  },
  { key: 'dept', name: "'Dept - ' & $value", foreach: 'department' },
];

describe('nested groups: static', () => {
  it('a static parent contains the groups of the rules it names; new children are waited for and named by uniqueName', async () => {
    const p = await plan(spec({ groups: STATIC_GROUPS }), ENGINEERING, { users: [], groups: [] });
    expect(errors(p)).toEqual([]);
    expect(p.changes.filter((c) => c.kind === 'createGroup').map((c) => c.id)).toEqual([
      'createGroup:entrasync-all-eng',
      'createGroup:entrasync-eng-apps',
      'createGroup:entrasync-eng-platform',
    ]);
    const add = p.changes.find((c) => c.id === 'addMembers:entrasync-all-eng#g1');
    expect(add).toMatchObject({
      kind: 'addMembers',
      rule: 'groups[0]',
      group: { uniqueName: 'entrasync-all-eng', displayName: 'All Engineering' },
      members: [],
      memberGroups: [
        { uniqueName: 'entrasync-eng-apps', displayName: 'Eng Apps' },
        { uniqueName: 'entrasync-eng-platform', displayName: 'Eng Platform' },
      ],
      requires: [
        'createGroup:entrasync-all-eng',
        'createGroup:entrasync-eng-apps',
        'createGroup:entrasync-eng-platform',
      ],
    });
    expect(add?.message).toBe('add 2 nested group(s) to All Engineering: Eng Apps, Eng Platform');
    // `members: 'false'`: the parent has nested groups only, no user members.
    expect(
      p.changes.filter((c) => c.id.startsWith('addMembers:entrasync-all-eng#') && c.id !== add?.id),
    ).toEqual([]);
    expect(p.blocked).toEqual([]);
  });

  it('existing groups are nested by id; a tenant already nested plans nothing', async () => {
    const accounts = ENGINEERING.map(accountOf);
    const platform = aGroup('entrasync-eng-platform', {
      displayName: 'Eng Platform',
      memberIds: ['user-1'],
    });
    const apps = aGroup('entrasync-eng-apps', { displayName: 'Eng Apps', memberIds: ['user-2'] });
    const parent = aGroup('entrasync-all-eng', { displayName: 'All Engineering' });
    const first = await plan(spec({ groups: STATIC_GROUPS }), ENGINEERING, {
      users: accounts,
      groups: [parent, platform, apps],
    });
    expect(first.changes.map((c) => c.id)).toEqual(['addMembers:entrasync-all-eng#g1']);
    const [add] = first.changes as GroupMembersChange[];
    expect(add?.memberGroups?.map((g) => g.id)).toEqual([
      'group-entrasync-eng-apps',
      'group-entrasync-eng-platform',
    ]);
    expect(add?.requires).toBeUndefined();

    const again = await plan(spec({ groups: STATIC_GROUPS }), ENGINEERING, {
      users: accounts,
      groups: [{ ...parent, memberIds: [platform.id, apps.id] }, platform, apps],
    });
    expect(again.changes).toEqual([]);
  });

  it('a static parent naming a foreach rule contains every group of that rule', async () => {
    const p = await plan(
      spec({
        groups: [
          { key: 'all-depts', name: 'All Departments', members: 'false', memberGroups: ['dept'] },
          { key: 'dept', name: "'Dept - ' & $value", foreach: 'department' },
        ],
      }),
      DIVISIONS,
      { users: [], groups: [] },
    );
    expect(nested(p)).toEqual([
      'addMembers entrasync-all-depts: entrasync-dept-apps, entrasync-dept-marketing, entrasync-dept-platform, entrasync-dept-sales',
    ]);
  });
});

describe('nested groups: foreach in foreach, from the sources', () => {
  it('each division group contains the department groups of its people; divisions exist by their departments alone', async () => {
    const p = await plan(spec({ groups: DIVISION_GROUPS }), DIVISIONS, { users: [], groups: [] });
    expect(errors(p)).toEqual([]);
    expect(
      p.changes
        .filter((c) => c.kind === 'createGroup')
        .map((c) => `${c.group.uniqueName} ${c.group.displayName}`),
    ).toEqual([
      'entrasync-dept-apps Dept - Apps',
      'entrasync-dept-marketing Dept - Marketing',
      'entrasync-dept-platform Dept - Platform',
      'entrasync-dept-sales Dept - Sales',
      'entrasync-division-commercial Division - Commercial',
      'entrasync-division-tech Division - Tech',
    ]);
    expect(nested(p)).toEqual([
      'addMembers entrasync-division-commercial: entrasync-dept-marketing, entrasync-dept-sales',
      'addMembers entrasync-division-tech: entrasync-dept-apps, entrasync-dept-platform',
    ]);
    // The division groups have no user members (`members: 'false'`).
    expect(
      p.changes.filter(
        (c) =>
          c.kind === 'addMembers' &&
          c.group.uniqueName.startsWith('entrasync-division') &&
          c.members.length > 0,
      ),
    ).toEqual([]);
  });

  it('three levels: a static group of divisions that exist only by their departments', async () => {
    const p = await plan(
      spec({
        groups: [
          { key: 'company', name: 'Company', members: 'false', memberGroups: ['division'] },
          ...(DIVISION_GROUPS ?? []),
        ],
      }),
      DIVISIONS,
      { users: [], groups: [] },
    );
    expect(errors(p)).toEqual([]);
    expect(nested(p)).toEqual([
      'addMembers entrasync-company: entrasync-division-commercial, entrasync-division-tech',
      'addMembers entrasync-division-commercial: entrasync-dept-marketing, entrasync-dept-sales',
      'addMembers entrasync-division-tech: entrasync-dept-apps, entrasync-dept-platform',
    ]);
  });
});

describe('nested groups: removal', () => {
  const tenantOf = (rows: Row[], nesting: Record<string, string[]>, extra: TenantGroup[] = []) => {
    const groups: TenantGroup[] = [];
    const slug = (v: string) => v.toLowerCase();
    for (const d of new Set(DIVISIONS.map((r) => r.department ?? ''))) {
      groups.push(
        aGroup(`entrasync-dept-${slug(d)}`, {
          displayName: `Dept - ${d}`,
          memberIds: rows.filter((r) => r.department === d).map((r) => `user-${r.id}`),
        }),
      );
    }
    for (const [division, depts] of Object.entries(nesting)) {
      groups.push(
        aGroup(`entrasync-division-${slug(division)}`, {
          displayName: `Division - ${division}`,
          memberIds: depts.map((d) => `group-entrasync-dept-${slug(d)}`),
        }),
      );
    }
    return { users: rows.map(accountOf), groups: [...groups, ...extra] };
  };
  const IN_SYNC = { Tech: ['Platform', 'Apps'], Commercial: ['Sales', 'Marketing'] };

  it('in sync: nothing to do', async () => {
    const p = await plan(
      spec({ groups: DIVISION_GROUPS }),
      DIVISIONS,
      tenantOf(DIVISIONS, IN_SYNC),
    );
    expect(p.changes.map((c) => c.id)).toEqual([]);
  });

  it('a department that moved division leaves the old division group and joins the new one; unmanaged members stay', async () => {
    // Marketing moves to Tech in HR.
    const moved = DIVISIONS.map((r) =>
      r.department === 'Marketing' ? { ...r, division: 'Tech' } : r,
    );
    const tenant = tenantOf(moved, IN_SYNC);
    const commercial = tenant.groups.find((g) => g.uniqueName === 'entrasync-division-commercial');
    // A group entrasync does not manage, nested by hand: never removed.
    const withUnmanaged = {
      ...tenant,
      groups: tenant.groups.map((g) =>
        g === commercial
          ? { ...g, memberIds: [...g.memberIds, 'unmanaged-group-id', 'device-id'] }
          : g,
      ),
    };
    const p = await plan(spec({ groups: DIVISION_GROUPS }), moved, withUnmanaged);
    expect(nested(p)).toEqual([
      'addMembers entrasync-division-tech: entrasync-dept-marketing',
      'removeMembers entrasync-division-commercial: entrasync-dept-marketing',
    ]);
    const remove = p.changes.find((c) => c.kind === 'removeMembers') as GroupMembersChange;
    expect(remove).toMatchObject({
      id: 'removeMembers:entrasync-division-commercial#g1',
      members: [],
      memberGroups: [{ id: 'group-entrasync-dept-marketing' }],
      provenance: [],
    });
    expect(remove.message).toBe(
      'remove 1 nested group(s) from Division - Commercial: Dept - Marketing',
    );
  });

  it('while a person is held (records with errors), no nested group is taken out: the nesting may rest on their data', async () => {
    // Edsger, the only Marketing person, has two HR rows: both are errors (S11), he is held,
    // and Commercial -> Marketing is implied by no one this run.
    const edsger = DIVISIONS.find((r) => r.id === '4')!;
    const rows = [...DIVISIONS, { ...edsger, division: 'Tech' }];
    const p = await plan(spec({ groups: DIVISION_GROUPS }), rows, tenantOf(DIVISIONS, IN_SYNC));
    expect(nested(p).filter((n) => n.startsWith('removeMembers'))).toEqual([]);
    expect(p.warnings.map((w) => w.code)).toContain('group.nesting-held');
    expect(p.warnings.find((w) => w.code === 'group.nesting-held')?.message).toMatch(
      /Dept - Marketing not taken out of Division - Commercial: 1 person is held/,
    );
  });

  it('a parent no longer nesting anything (memberGroups dropped) loses its managed nested groups', async () => {
    const p = await plan(
      spec({
        groups: [
          { key: 'division', name: "'Division - ' & $value", foreach: 'division' },
          { key: 'dept', name: "'Dept - ' & $value", foreach: 'department' },
        ],
      }),
      DIVISIONS,
      tenantOf(DIVISIONS, IN_SYNC),
    );
    expect(nested(p)).toEqual([
      'removeMembers entrasync-division-commercial: entrasync-dept-marketing, entrasync-dept-sales',
      'removeMembers entrasync-division-tech: entrasync-dept-apps, entrasync-dept-platform',
    ]);
  });

  it('nested-group removals count towards maxMembershipRemovals and are blocked by an incomplete source', async () => {
    const tenant = tenantOf(DIVISIONS, IN_SYNC);
    const noNesting = spec({
      groups: [
        { key: 'division', name: "'Division - ' & $value", foreach: 'division' },
        { key: 'dept', name: "'Dept - ' & $value", foreach: 'department' },
      ],
      safety: {
        thresholds: { ...aSpec().safety.thresholds, membershipRemovals: { count: 3, percent: 0 } },
      },
    });
    const braked = await plan(noNesting, DIVISIONS, tenant);
    expect(nested(braked.blocked.map((b) => b.change))).toHaveLength(2);
    expect(new Set(braked.blocked.map((b) => b.code))).toEqual(new Set(['threshold']));

    const unhealthy = await plan(
      spec({ groups: DIVISION_GROUPS }),
      DIVISIONS.filter((r) => r.id !== '4'),
      tenant,
      {
        status: 'incomplete',
      },
    );
    const blockedNested = unhealthy.blocked.filter((b) => nested([b.change]).length > 0);
    expect(nested(blockedNested.map((b) => b.change))).toEqual([
      'removeMembers entrasync-division-commercial: entrasync-dept-marketing',
    ]);
    expect(blockedNested.every((b) => b.code === 'source-unhealthy')).toBe(true);
  });
});

describe('nested groups: what Graph refuses is a plan error', () => {
  it('an unknown rule key (a spec not checked by the loader) nests nothing', async () => {
    const p = await plan(
      spec({ groups: [{ key: 'all', name: 'All', memberGroups: ['nope'] }] }),
      ENGINEERING,
      { users: [], groups: [] },
    );
    expect(errors(p)).toEqual([
      'group.unknown-member-group: groups[0].memberGroups: no group rule has the key nope; nothing is nested for it',
    ]);
    expect(nested(p)).toEqual([]);
  });

  it('a cycle (A contains B contains A) is a plan error and neither group changes its nested groups', async () => {
    const p = await plan(
      spec({
        groups: [
          { key: 'a', name: 'A', memberGroups: ['b'] },
          { key: 'b', name: 'B', memberGroups: ['a'] },
          { key: 'c', name: 'C', memberGroups: ['a'] },
        ],
      }),
      ENGINEERING,
      { users: [], groups: [] },
    );
    expect(errors(p)).toEqual([
      'group.nesting-cycle: groups[0], groups[1]: nested groups form a cycle (A, B): a group cannot contain itself, directly or through other groups; their nested groups are left as they are',
    ]);
    // C is not on the cycle: it still contains A.
    expect(nested(p)).toEqual(['addMembers entrasync-c: entrasync-a']);
  });

  it('a Microsoft 365 parent, or a Microsoft 365 child, is refused', async () => {
    const p = await plan(
      spec({
        groups: [
          { key: 'guild', name: 'Guild', type: 'microsoft365', memberGroups: ['eng-platform'] },
          { key: 'eng-platform', name: 'Eng Platform', members: "team = 'Platform'" },
          { key: 'all', name: 'All', memberGroups: ['guild', 'eng-platform'] },
        ],
      }),
      ENGINEERING,
      { users: [], groups: [] },
    );
    expect(errors(p)).toEqual([
      'group.nesting-unified: groups[2]: Guild is a Microsoft 365 group, and Microsoft 365 groups cannot be members of other groups (Graph refuses); not nested in All',
      'group.nesting-unified: groups[0]: group Guild (entrasync-guild) is a Microsoft 365 group, and Microsoft 365 groups cannot contain groups (Graph refuses); Eng Platform not nested',
    ]);
    expect(nested(p)).toEqual(['addMembers entrasync-all: entrasync-eng-platform']);
  });

  it('an existing group that became Unified in the tenant is refused as a parent', async () => {
    const p = await plan(spec({ groups: STATIC_GROUPS }), ENGINEERING, {
      users: [],
      groups: [
        aGroup('entrasync-all-eng', {
          displayName: 'All Engineering',
          groupTypes: ['Unified'],
          mailEnabled: true,
          securityEnabled: false,
        }),
      ],
    });
    expect(errors(p).map((e) => e.split(':')[0])).toEqual(['group.nesting-unified']);
    expect(nested(p)).toEqual([]);
  });

  it('a role-assignable parent is refused (and its membership left alone)', async () => {
    const p = await plan(spec({ groups: STATIC_GROUPS }), ENGINEERING, {
      users: [],
      groups: [
        aGroup('entrasync-all-eng', { displayName: 'All Engineering', isAssignableToRole: true }),
      ],
    });
    expect(errors(p)).toEqual([
      'group.nesting-role-assignable: groups[0]: group All Engineering (entrasync-all-eng) is role-assignable, and role-assignable groups cannot contain groups (Graph refuses); Eng Apps, Eng Platform not nested',
    ]);
    expect(nested(p)).toEqual([]);
  });
});
