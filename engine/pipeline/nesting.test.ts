/**
 * nesting.ts on its own: which group contains which, cycles, and the nested-group changes of one
 * group (adds, removals, what Graph refuses, held people). Literal data, no pipeline.
 */
import { describe, expect, it } from 'vitest';
import type { DesiredUser } from '../model/desired.js';
import type { Change, GroupMembersChange, PlanIssue } from '../model/plan.js';
import type { TenantGroup } from '../model/tenant.js';
import { aGroup, aSpec } from '../../test/helpers/builders.js';
import type { DesiredGroup, GroupAt } from './access-model.js';
import { groupsView, newFindings, refOf } from './access-model.js';
import { desiredGroupSet, ruleGroups } from './groups.js';
import { nestGroups, nestedChanges, nestingCycles } from './nesting.js';

function person(n: number, region: string, dept: string): DesiredUser {
  return {
    personKey: `hr:${n}`,
    anchor: String(n),
    attributes: { userPrincipalName: `p${n}@contoso.com`, accountEnabled: true },
    provenance: [],
    groups: [
      { rule: 0, value: region, name: region },
      { rule: 1, value: dept, name: dept },
    ],
  };
}

function aDesiredGroup(uniqueName: string, o: Partial<DesiredGroup> = {}): DesiredGroup {
  return {
    uniqueName,
    displayName: uniqueName,
    description: null,
    type: 'security',
    owners: [],
    licenses: [],
    configPath: 'groups[0]',
    members: new Map(),
    provenance: [],
    ...o,
  };
}

const edges = (children: ReadonlyMap<string, ReadonlySet<string>>) =>
  [...children].map(([p, c]) => `${p} > ${[...c].join(' ')}`);

describe('nesting: which group contains which', () => {
  it('a foreach parent with a foreach child is paired through people, not every group with every group', () => {
    const spec = aSpec({
      groups: [
        { name: '$value', key: 'region', foreach: 'region', memberGroups: ['dept'] },
        { name: '$value', key: 'dept', foreach: 'department' },
      ],
    });
    const users = [person(1, 'North', 'Sales'), person(2, 'South', 'Ops')];
    const accounts = new Map(users.map((u, i) => [u, { id: `u${i}`, userPrincipalName: `p${i}` }]));
    const set = desiredGroupSet(spec.marker.groupPrefix, accounts);
    ruleGroups(spec, users, set.add);
    const issues: PlanIssue[] = [];
    const nesting = nestGroups(spec, users, set.groups, set.add, issues);

    expect(edges(nesting.children)).toEqual([
      'entrasync-region-north > entrasync-dept-sales',
      'entrasync-region-south > entrasync-dept-ops',
    ]);
    expect(nesting.cyclic.size).toBe(0);
    expect(issues).toEqual([]);
  });

  it('a static parent with no members of its own is made when a group it nests exists; an unknown key is a plan error', () => {
    const spec = aSpec({
      groups: [
        { name: 'Division', key: 'division', members: 'false', memberGroups: ['dept', 'nope'] },
        { name: '$value', key: 'dept', foreach: 'department' },
      ],
    });
    const user: DesiredUser = {
      ...person(1, 'x', 'Sales'),
      groups: [{ rule: 1, value: 'Sales', name: 'Sales' }],
    };
    const set = desiredGroupSet(spec.marker.groupPrefix, new Map());
    // the static rule's group is not in the set: only the nesting can make it
    set.add('dept-sales', () => aDesiredGroup('dept-sales'));
    const issues: PlanIssue[] = [];
    const nesting = nestGroups(spec, [user], set.groups, set.add, issues);

    expect(set.groups.has('entrasync-division')).toBe(true);
    expect(edges(nesting.children)).toEqual(['entrasync-division > entrasync-dept-sales']);
    expect(issues.map((i) => i.code)).toEqual(['group.unknown-member-group']);
  });

  it('no rule nests: nothing is computed', () => {
    const spec = aSpec({ groups: [{ name: 'All', key: 'all' }] });
    const set = desiredGroupSet(spec.marker.groupPrefix, new Map());
    ruleGroups(spec, [], set.add);
    const nesting = nestGroups(spec, [], set.groups, set.add, []);
    expect(nesting.children.size).toBe(0);
  });
});

describe('nesting: cycles', () => {
  it('groups on a cycle (and a self-loop) are reported once per cycle; a chain is no cycle', () => {
    const children = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['d'])],
      ['e', new Set(['a'])],
    ]);
    const desired = new Map(['a', 'b', 'c', 'd'].map((g) => [g, aDesiredGroup(`G-${g}`)]));
    const issues: PlanIssue[] = [];
    const cyclic = nestingCycles(children, desired, 'hr', issues);

    expect([...cyclic].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(issues.map((i) => i.code)).toEqual(['group.nesting-cycle', 'group.nesting-cycle']);
    expect(issues[0]?.message).toContain('(G-a, G-b, G-c)');
  });
});

describe('nesting: changes of one group', () => {
  const parent = aDesiredGroup('entrasync-parent');
  const newChild = aDesiredGroup('entrasync-new');
  const unified = aDesiredGroup('entrasync-m365', { type: 'microsoft365' });
  const oldChild = aGroup('entrasync-old');

  function run(existing: TenantGroup | undefined, children: string[], heldPeople = 0) {
    const desired = new Map([
      ['entrasync-parent', parent],
      ['entrasync-new', newChild],
      ['entrasync-m365', unified],
    ]);
    const groups = groupsView(desired, {
      users: [],
      groups: [oldChild, ...(existing ? [existing] : [])],
    });
    const nesting = {
      children: new Map([['entrasync-parent', new Set(children)]]),
      cyclic: new Set<string>(),
    };
    const group: GroupAt = {
      lower: 'entrasync-parent',
      desired: parent,
      existing,
      ref: refOf(parent, existing),
      requires: existing ? [] : ['createGroup:entrasync-parent'],
    };
    const out = newFindings();
    nestedChanges(out, nesting, groups, group, { source: 'hr', heldPeople });
    return out;
  }
  const groupsOf = (c: Change) =>
    `${c.kind} ${((c as GroupMembersChange).memberGroups ?? []).map((g) => g.uniqueName).join(',')}`;

  it('a new child is added waiting for both creates; a Microsoft 365 child is refused with a plan error', () => {
    const out = run(undefined, ['entrasync-new', 'entrasync-m365']);
    expect(out.changes.map(groupsOf)).toEqual(['addMembers entrasync-new']);
    expect(out.changes[0]?.requires).toEqual([
      'createGroup:entrasync-parent',
      'createGroup:entrasync-new',
    ]);
    expect(out.issues.map((i) => i.code)).toEqual(['group.nesting-unified']);
  });

  it('a managed child no rule nests any more is taken out, unless people are held', () => {
    const existing = aGroup('entrasync-parent', { memberIds: [oldChild.id, 'device-1'] });
    expect(run(existing, []).changes.map(groupsOf)).toEqual(['removeMembers entrasync-old']);

    const held = run(existing, [], 2);
    expect(held.changes).toEqual([]);
    expect(held.warnings.map((w) => w.code)).toEqual(['group.nesting-held']);
  });
});
