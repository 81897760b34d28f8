import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  BlockedChange,
  Change,
  GroupMembersChange,
  GroupRef,
  UserRef,
} from '../model/plan.js';
import { holdDependents } from './holds.js';

const base = { reason: 'new-person', message: '', provenance: [] } as const;

function create(upn: string): Change {
  return {
    ...base,
    id: `createUser:${upn}`,
    kind: 'createUser',
    user: { userPrincipalName: upn },
    attributes: {},
  };
}
function members(group: GroupRef, refs: UserRef[], id: string, requires?: string[]): Change {
  return {
    ...base,
    id,
    kind: 'addMembers',
    reason: 'group-rule',
    group,
    members: refs,
    ...(requires ? { requires } : {}),
  };
}
const held = (change: Change): BlockedChange => ({ change, code: 'threshold', message: 'x' });
const newUser = (n: string): UserRef => ({ userPrincipalName: `${n}@contoso.com` });
const oldUser = (n: string): UserRef => ({ id: `id-${n}`, userPrincipalName: `${n}@contoso.com` });
const all: GroupRef = { id: 'g-all', uniqueName: 'entrasync-all', displayName: 'All' };

describe('holds (issue 20)', () => {
  it('H1: a membership naming a held new hire is split: the colleagues apply, the new hire waits', () => {
    const ada = create('ada@contoso.com');
    const add = members(all, [newUser('ada'), newUser('alan'), oldUser('grace')], 'add#1');
    const result = holdDependents([create('alan@contoso.com'), add], [held(ada)]);
    expect(result.changes.map((c) => c.id)).toEqual(['createUser:alan@contoso.com', 'add#1']);
    const kept = result.changes[1] as GroupMembersChange;
    expect(kept.members.map((m) => m.userPrincipalName)).toEqual([
      'alan@contoso.com',
      'grace@contoso.com',
    ]);
    expect(kept.message).toBe('add 2 member(s) to All');
    const part = result.blocked[1]!;
    expect(part.change.id).toBe('add#1~held');
    expect((part.change as typeof kept).members).toEqual([newUser('ada')]);
    expect(part.code).toBe('requires-blocked');
    expect(part.message).toMatch(/follows createUser:ada@contoso\.com, which is held/);
  });

  it('H2: licenses, managers and session revokes that follow a held change are held with it, transitively', () => {
    const disable: Change = {
      ...base,
      id: 'disableUser:bob',
      kind: 'disableUser',
      user: { id: 'id-bob', userPrincipalName: 'bob@contoso.com' },
    };
    const license: Change = {
      ...base,
      id: 'assignLicenses:ada@contoso.com',
      kind: 'assignLicenses',
      user: newUser('ada'),
      licenses: [],
      requires: ['createUser:ada@contoso.com'],
    };
    const managedByAda: Change = {
      ...base,
      id: 'setManager:grace',
      kind: 'setManager',
      user: oldUser('grace'),
      manager: newUser('ada'),
    };
    const revoke: Change = {
      ...base,
      id: 'revokeSessions:bob',
      kind: 'revokeSessions',
      user: { id: 'id-bob', userPrincipalName: 'bob@contoso.com' },
      requires: ['disableUser:bob'],
    };
    const after: Change = { ...revoke, id: 'later', requires: ['revokeSessions:bob'] };
    const independent = members(all, [oldUser('grace')], 'add#1');
    const result = holdDependents(
      [license, managedByAda, revoke, after, independent],
      [held(create('ada@contoso.com')), held(disable)],
    );
    expect(result.changes.map((c) => c.id)).toEqual(['add#1']);
    expect(result.blocked.map((b) => b.change.id).sort()).toEqual(
      [
        'assignLicenses:ada@contoso.com',
        'createUser:ada@contoso.com',
        'disableUser:bob',
        'later',
        'revokeSessions:bob',
        'setManager:grace',
      ].sort(),
    );
  });

  it('H3 (property): no appliable change depends on a held one, every independent change applies whole, and no member is lost', () => {
    const people = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const arbitraryPlan = fc.record({
      isNew: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      heldCreates: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      groupIsNew: fc.boolean(),
      groupHeld: fc.boolean(),
      memberSets: fc.array(fc.subarray(people, { minLength: 1 }), { maxLength: 4 }),
      managers: fc.array(fc.tuple(fc.constantFrom(...people), fc.constantFrom(...people)), {
        maxLength: 4,
      }),
    });
    fc.assert(
      fc.property(arbitraryPlan, (p) => {
        const ref = (n: string) => (p.isNew[people.indexOf(n)] ? newUser(n) : oldUser(n));
        const group: GroupRef = p.groupIsNew
          ? { uniqueName: 'entrasync-x', displayName: 'X' }
          : { id: 'g-x', uniqueName: 'entrasync-x', displayName: 'X' };
        const creates = people.filter((_, i) => p.isNew[i]).map((n) => create(`${n}@contoso.com`));
        const groupCreate: Change = {
          ...base,
          id: 'createGroup:entrasync-x',
          kind: 'createGroup',
          group,
          properties: {
            displayName: 'X',
            description: null,
            mailNickname: 'x',
            mailEnabled: false,
            securityEnabled: true,
            groupTypes: [],
          },
          owners: [],
        };
        const adds = p.memberSets.map((set, i) =>
          members(
            group,
            set.map(ref),
            `add#${i}`,
            p.groupIsNew ? ['createGroup:entrasync-x'] : undefined,
          ),
        );
        const managers = p.managers.map(([u, m], i): Change => ({
          ...base,
          id: `setManager#${i}`,
          kind: 'setManager',
          user: ref(u),
          manager: ref(m),
          ...(p.isNew[people.indexOf(u)] ? { requires: [`createUser:${u}@contoso.com`] } : {}),
        }));
        const heldInput = creates
          .filter((c) => p.heldCreates[people.indexOf(c.id.slice(11, 12))])
          .concat(p.groupIsNew && p.groupHeld ? [groupCreate] : []);
        const input = [
          ...creates.filter((c) => !heldInput.includes(c)),
          ...(p.groupIsNew && !heldInput.includes(groupCreate) ? [groupCreate] : []),
          ...adds,
          ...managers,
        ];
        const result = holdDependents(input, heldInput.map(held));
        const heldIds = new Set(result.blocked.map((b) => b.change.id));
        const heldCreate = (r: UserRef) =>
          r.id === undefined && heldIds.has(`createUser:${r.userPrincipalName}`);
        // No appliable change depends on a held one.
        for (const c of result.changes) {
          expect(c.requires?.some((id) => heldIds.has(id)) ?? false).toBe(false);
          if (c.kind === 'addMembers') expect(c.members.some(heldCreate)).toBe(false);
          if (c.kind === 'setManager') expect(heldCreate(c.manager)).toBe(false);
        }
        // Every independent change applies whole.
        const groupHeld = heldIds.has('createGroup:entrasync-x');
        for (const c of input) {
          const dependent =
            (c.kind === 'addMembers' && (groupHeld || c.members.some(heldCreate))) ||
            (c.kind === 'setManager' && (heldCreate(c.manager) || heldCreate(c.user)));
          if (!dependent) expect(result.changes).toContainEqual(c);
        }
        // No member is lost: the appliable and held parts of each add hold exactly its members.
        for (const add of adds) {
          const parts = [...result.changes, ...result.blocked.map((b) => b.change)].filter(
            (c) => c.id === add.id || c.id === `${add.id}~held`,
          );
          const got = parts.flatMap((c) => (c.kind === 'addMembers' ? c.members : []));
          const wanted = add.kind === 'addMembers' ? add.members : [];
          expect(got.map((m) => m.userPrincipalName).sort()).toEqual(
            wanted.map((m) => m.userPrincipalName).sort(),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
