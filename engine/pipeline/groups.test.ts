/**
 * groups.ts on its own: the desired group set, a group's create or update, its user members
 * (chunked, with what is never removed) and orphan groups. Literal data, no pipeline.
 */
import { describe, expect, it } from 'vitest';
import type { DesiredUser } from '../model/desired.js';
import type { Change, GroupMembersChange } from '../model/plan.js';
import type { TenantGroup, TenantUser } from '../model/tenant.js';
import { aGroup, aSpec, anAccount } from '../../test/helpers/builders.js';
import type { AccountRef, DesiredGroup, GroupAt } from './access-model.js';
import { groupsView, newFindings, refOf } from './access-model.js';
import {
  desiredGroupSet,
  groupChanges,
  memberChanges,
  orphanGroupChanges,
  removableMembers,
  ruleGroups,
} from './groups.js';
import type { Ownership } from './ownership.js';

function person(n: number, enabled = true): DesiredUser {
  return {
    personKey: `hr:${n}`,
    anchor: String(n),
    attributes: { userPrincipalName: `p${n}@contoso.com`, accountEnabled: enabled },
    provenance: [{ source: 'hr', key: String(n), location: { file: 'hr.csv', line: n + 1 } }],
  };
}

function account(n: number, id?: string): AccountRef {
  return { ...(id ? { id } : {}), userPrincipalName: `p${n}@contoso.com` };
}

function at(desired: DesiredGroup, existing?: TenantGroup): GroupAt {
  const lower = desired.uniqueName.toLowerCase();
  return {
    lower,
    desired,
    existing,
    ref: refOf(desired, existing),
    requires: existing ? [] : [`createGroup:${lower}`],
  };
}

function aDesiredGroup(uniqueName: string, members: AccountRef[] = []): DesiredGroup {
  return {
    uniqueName,
    displayName: 'Staff',
    description: null,
    type: 'security',
    owners: [],
    licenses: [],
    configPath: 'groups[0]',
    members: new Map(members.map((m) => [m.id ? `id:${m.id}` : `new:${m.userPrincipalName}`, m])),
    provenance: [],
  };
}

const upns = (c: Change) => (c as GroupMembersChange).members.map((m) => m.userPrincipalName);

describe('groups: the desired group set', () => {
  it('static rules make their group even with nobody in it; foreach rules one group per value; disabled accounts are left out', () => {
    const spec = aSpec({
      groups: [
        { name: 'Everyone', key: 'everyone' },
        { name: '$value', key: 'dept', foreach: 'department' },
      ],
    });
    const [ada, bob, cy] = [person(1), person(2), person(3, false)];
    const users: DesiredUser[] = [ada, bob, cy].map((u) => ({
      ...u,
      groups: [{ rule: 1, value: u === bob ? 'Sales' : 'R&D', name: u === bob ? 'Sales' : 'R&D' }],
    }));
    const accounts = new Map(users.map((u, i) => [u, account(i + 1, `id-${i + 1}`)]));
    const set = desiredGroupSet(spec.marker.groupPrefix, accounts);
    ruleGroups(spec, users, set.add);

    expect([...set.groups.keys()]).toEqual([
      'entrasync-everyone',
      'entrasync-dept-r-d',
      'entrasync-dept-sales',
    ]);
    expect(set.groups.get('entrasync-everyone')?.members.size).toBe(0);
    // p3 is disabled: in the R&D group by rule, but never added (P11)
    expect([...(set.groups.get('entrasync-dept-r-d')?.members.keys() ?? [])]).toEqual(['id:id-1']);
    expect(set.groups.get('entrasync-dept-sales')?.displayName).toBe('Sales');
    expect(set.groups.get('entrasync-dept-sales')?.provenance).toEqual(users[1]?.provenance);
  });
});

describe('groups: create and update', () => {
  it('a new group is created with the owners that have accounts, and a warning for the one that does not', () => {
    const out = newFindings();
    const owner = anAccount('owner@contoso.com', {}, { id: 'owner-1' });
    const desired = {
      ...aDesiredGroup('entrasync-staff'),
      owners: ['OWNER@contoso.com', 'ghost@contoso.com'],
    };
    groupChanges(out, at(desired), () => new Map([['owner@contoso.com', owner]]));

    expect(out.changes).toHaveLength(1);
    expect(out.changes[0]).toMatchObject({
      id: 'createGroup:entrasync-staff',
      kind: 'createGroup',
      owners: [{ id: 'owner-1', userPrincipalName: 'owner@contoso.com' }],
      properties: { mailNickname: 'entrasync-staff', securityEnabled: true, groupTypes: [] },
    });
    expect(out.warnings.map((w) => w.code)).toEqual(['group.unknown-owner']);
  });

  it('an existing group gets an update of the drifted name only, and none when in sync', () => {
    const desired = aDesiredGroup('entrasync-staff');
    const drifted = newFindings();
    groupChanges(
      drifted,
      at(desired, aGroup('entrasync-staff', { displayName: 'Old' })),
      () => new Map(),
    );
    expect(drifted.changes).toMatchObject([
      { kind: 'updateGroup', set: [{ attribute: 'displayName', before: 'Old', after: 'Staff' }] },
    ]);

    const inSync = newFindings();
    groupChanges(
      inSync,
      at(desired, aGroup('entrasync-staff', { displayName: 'Staff' })),
      () => new Map(),
    );
    expect(inSync.changes).toEqual([]);
  });
});

describe('groups: members', () => {
  const users = new Map<string, TenantUser>(
    ['kept', 'gone', 'guarded', 'leaver'].map((id) => [
      id,
      anAccount(`${id}@contoso.com`, {}, { id }),
    ]),
  );
  const ownership = new Map<string, Ownership>([
    ['kept', 'managed'],
    ['gone', 'managed'],
    ['guarded', 'protected'],
    ['leaver', 'managed'],
  ]);
  const leavers = new Map([['leaver', 'retain' as const]]);

  it('removes only managed users no rule wants: not protected accounts, retained leavers or non-user members', () => {
    const existing = aGroup('entrasync-staff', {
      memberIds: ['kept', 'gone', 'guarded', 'leaver', 'device-1'],
    });
    const desired = new Map([['id:kept', { id: 'kept', userPrincipalName: 'kept@contoso.com' }]]);
    expect(removableMembers(existing, desired, { ownership, leavers }, users)).toEqual([
      { id: 'gone', userPrincipalName: 'gone@contoso.com' },
    ]);
    expect(removableMembers(undefined, desired, { ownership, leavers }, users)).toEqual([]);
  });

  it('adds in chunks of 20 in UPN order, each waiting for the create of a new group', () => {
    const out = newFindings();
    const members = Array.from({ length: 25 }, (_, i) => account(25 - i));
    const result = memberChanges(
      out,
      at(aDesiredGroup('entrasync-big', members)),
      { ownership, leavers },
      users,
    );

    expect(out.changes.map((c) => c.id)).toEqual([
      'addMembers:entrasync-big#1',
      'addMembers:entrasync-big#2',
    ]);
    expect(upns(out.changes[0] as Change)).toHaveLength(20);
    expect(upns(out.changes[0] as Change).slice(0, 3)).toEqual([
      // code-unit order: '0' sorts before '@'
      'p10@contoso.com',
      'p11@contoso.com',
      'p12@contoso.com',
    ]);
    expect(out.changes[1]).toMatchObject({ requires: ['createGroup:entrasync-big'] });
    expect(result.added.map((c) => c.members.length)).toEqual([20, 5]);
    expect(result.removed).toEqual([]);
  });

  it('an existing member is not added again; a member no rule wants is removed', () => {
    const out = newFindings();
    const existing = aGroup('entrasync-staff', { memberIds: ['kept', 'gone'] });
    const desired = aDesiredGroup('entrasync-staff', [
      { id: 'kept', userPrincipalName: 'kept@contoso.com' },
    ]);
    const result = memberChanges(out, at(desired, existing), { ownership, leavers }, users);
    expect(out.changes.map((c) => `${c.kind} ${upns(c).join(',')}`)).toEqual([
      'removeMembers gone@contoso.com',
    ]);
    expect(result.removes).toEqual([{ id: 'gone', userPrincipalName: 'gone@contoso.com' }]);
  });
});

describe('groups: orphans', () => {
  it('a managed group no rule asks for is emptied with a warning; role-assignable, unresolved and another config’s are not', () => {
    const users = new Map<string, TenantUser>(
      ['mine', 'theirs'].map((id) => [id, anAccount(`${id}@contoso.com`, {}, { id })]),
    );
    const ownership = new Map<string, Ownership>([
      ['mine', 'managed'],
      ['theirs', 'other-config'],
    ]);
    const tenant = {
      users: [...users.values()],
      groups: [
        aGroup('entrasync-old', { memberIds: ['mine'] }),
        aGroup('entrasync-admins', { memberIds: ['mine'], isAssignableToRole: true }),
        aGroup('entrasync-license-e3', { memberIds: ['mine'] }),
        aGroup('entrasync-other', { memberIds: ['theirs'] }),
        aGroup('entrasync-kept', { memberIds: ['mine'] }),
      ],
    };
    const groups = groupsView(
      new Map([['entrasync-kept', aDesiredGroup('entrasync-kept')]]),
      tenant,
    );
    const out = newFindings();
    orphanGroupChanges(
      out,
      groups,
      new Set(['entrasync-license-e3']),
      { ownership, leavers: new Map() },
      users,
    );

    expect(out.changes.map((c) => `${c.id} ${upns(c).join(',')}`)).toEqual([
      'removeMembers:entrasync-old#1 mine@contoso.com',
    ]);
    expect(out.warnings.map((w) => `${w.code} ${w.subject ?? ''}`)).toEqual([
      'group.orphan entrasync-old',
      'group.other-config entrasync-other',
    ]);
  });
});
