/**
 * Nested groups (`memberGroups`): which managed group contains which, and the `addMembers` /
 * `removeMembers` changes that carry groups in `memberGroups`. What Graph refuses (cycles,
 * Microsoft 365 groups on either side, role-assignable parents) is a plan error and nothing is
 * nested for it. Only groups this config manages are ever taken out of one; while people are
 * held none is (the nesting may rest on their records).
 */
import type { DesiredUser } from '../model/desired.js';
import type { Change, GroupRef, PlanIssue } from '../model/plan.js';
import type { GroupSpec, SyncSpec } from '../model/spec.js';
import type { TenantGroup } from '../model/tenant.js';
import type { AddToGroup, DesiredGroup, Findings, GroupAt, GroupsView } from './access-model.js';
import { groupKeyOf, groupOf, refOf, sortedChunks } from './access-model.js';
import { compareText } from './compare.js';
import { createGroupId } from '../model/plan.js';

export interface Nesting {
  /** Parent group (lower-case uniqueName) -> the managed groups it should contain. */
  readonly children: ReadonlyMap<string, ReadonlySet<string>>;
  /** Groups on a nesting cycle: their nested groups are left as they are (plan error). */
  readonly cyclic: ReadonlySet<string>;
}

type Described = { readonly rule: GroupSpec; readonly key: string; readonly name: string };

/** Every group the rules describe this run, members or not, by rule and by person. */
interface Descriptions {
  /** Lower-case uniqueName -> how the first rule to describe it did. */
  readonly all: ReadonlyMap<string, Described>;
  /** Rule index -> its groups (lower-case uniqueNames). */
  readonly byRule: ReadonlyMap<number, ReadonlyMap<string, Described>>;
  /** Per person, rule index -> that person's groups of the rule. */
  readonly perPerson: readonly ReadonlyMap<number, readonly string[]>[];
}

/**
 * Which managed group contains which (`memberGroups`), by lower-case uniqueName. Static rules are
 * one group, `foreach` rules every group they make this run; a `foreach` parent with a `foreach`
 * child is paired through people (each person's parent group contains their child groups). A
 * group that has no members but nests groups is still made (a division of department groups),
 * through `addToGroup`; a child group nobody makes is not nested. Cycles are plan errors.
 */
export function nestGroups(
  spec: SyncSpec,
  ordered: readonly DesiredUser[],
  desiredGroups: ReadonlyMap<string, DesiredGroup>,
  addToGroup: AddToGroup,
  issues: PlanIssue[],
): Nesting {
  const children = new Map<string, Set<string>>();
  if (!spec.groups.some((g) => (g.memberGroups ?? []).length > 0)) {
    return { children, cyclic: new Set() };
  }
  const described = describeGroups(spec, ordered);
  candidateEdges(spec, described, children, issues);
  // A group that only nests groups exists when one of its groups does (to a fixpoint: levels).
  for (let grew = true; grew;) {
    grew = false;
    for (const [parent, set] of children) {
      if (desiredGroups.has(parent) || ![...set].some((c) => desiredGroups.has(c))) continue;
      const d = described.all.get(parent);
      if (!d) continue;
      addToGroup(d.key, () => groupOf(d.rule, d.key, d.name));
      grew = true;
    }
  }
  for (const [parent, set] of children) {
    for (const c of set) if (!desiredGroups.has(c)) set.delete(c);
    if (set.size === 0 || !desiredGroups.has(parent)) children.delete(parent);
  }
  const cyclic = nestingCycles(children, desiredGroups, spec.primarySource, issues);
  return { children, cyclic };
}

function describeGroups(spec: SyncSpec, ordered: readonly DesiredUser[]): Descriptions {
  const prefix = spec.marker.groupPrefix;
  const all = new Map<string, Described>();
  const byRule = new Map<number, Map<string, Described>>();
  const note = (index: number, d: Described): string => {
    const lower = `${prefix}${d.key}`.toLowerCase();
    if (!all.has(lower)) all.set(lower, d);
    let groups = byRule.get(index);
    if (!groups) byRule.set(index, (groups = new Map()));
    if (!groups.has(lower)) groups.set(lower, d);
    return lower;
  };
  spec.groups.forEach((rule, i) => {
    if (!rule.foreach) note(i, { rule, key: rule.key, name: rule.name as string });
  });
  const perPerson: Map<number, string[]>[] = [];
  for (const user of ordered) {
    const mine = new Map<number, string[]>();
    for (const m of user.groups ?? []) {
      const rule = spec.groups[m.rule];
      if (!rule) continue;
      const key = groupKeyOf(rule, m);
      const lower = note(m.rule, { rule, key, name: m.name });
      mine.set(m.rule, [...(mine.get(m.rule) ?? []), lower]);
    }
    perPerson.push(mine);
  }
  return { all, byRule, perPerson };
}

/** Parent -> children as the rules ask, into `children`; an unknown key is a plan error. */
function candidateEdges(
  spec: SyncSpec,
  described: Descriptions,
  children: Map<string, Set<string>>,
  issues: PlanIssue[],
): void {
  const ruleIndex = new Map(spec.groups.map((g, i) => [g.key, i] as const));
  const edge = (parent: string, child: string) => {
    let set = children.get(parent);
    if (!set) children.set(parent, (set = new Set()));
    set.add(child);
  };
  spec.groups.forEach((parent, p) => {
    for (const key of parent.memberGroups ?? []) {
      const c = ruleIndex.get(key);
      const child = c === undefined ? undefined : spec.groups[c];
      if (c === undefined || !child) {
        issues.push({
          severity: 'error',
          code: 'group.unknown-member-group',
          message: `${parent.configPath}.memberGroups: no group rule has the key ${key}; nothing is nested for it`,
          source: spec.primarySource,
        });
        continue;
      }
      if (parent.foreach && child.foreach) {
        for (const mine of described.perPerson) {
          for (const pg of mine.get(p) ?? []) for (const cg of mine.get(c) ?? []) edge(pg, cg);
        }
        continue;
      }
      for (const pg of described.byRule.get(p)?.keys() ?? []) {
        for (const cg of described.byRule.get(c)?.keys() ?? []) edge(pg, cg);
      }
    }
  });
}

/**
 * Groups on a cycle of `children` (Tarjan's strongly connected components), one plan error per
 * cycle: a group cannot contain itself, directly or through other groups.
 */
export function nestingCycles(
  children: ReadonlyMap<string, ReadonlySet<string>>,
  desiredGroups: ReadonlyMap<string, DesiredGroup>,
  source: string,
  issues: PlanIssue[],
): Set<string> {
  const cyclic = new Set<string>();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of children.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length === 1 && !children.get(v)?.has(v)) return;
    component.sort(compareText);
    for (const g of component) cyclic.add(g);
    const names = component.map((g) => desiredGroups.get(g)?.displayName ?? g);
    const rules = [...new Set(component.map((g) => desiredGroups.get(g)?.configPath ?? g))];
    issues.push({
      severity: 'error',
      code: 'group.nesting-cycle',
      message: `${rules.join(', ')}: nested groups form a cycle (${names.join(', ')}): a group cannot contain itself, directly or through other groups; their nested groups are left as they are`,
      source,
    });
  };
  for (const v of [...children.keys()].sort(compareText)) if (!index.has(v)) connect(v);
  return cyclic;
}

/** A role-assignable parent cannot contain groups: a plan error naming the ones not nested. */
export function roleAssignableNesting(
  out: Findings,
  nesting: Nesting,
  groups: GroupsView,
  group: Pick<GroupAt, 'lower' | 'desired'> & { readonly existing: TenantGroup },
  source: string,
): void {
  const nested = nesting.children.get(group.lower);
  if (!nested || nested.size === 0) return;
  const { existing, desired } = group;
  out.issues.push({
    severity: 'error',
    code: 'group.nesting-role-assignable',
    message: `${desired.configPath}: group ${existing.displayName} (${existing.uniqueName}) is role-assignable, and role-assignable groups cannot contain groups (Graph refuses); ${[
      ...nested,
    ]
      .sort(compareText)
      .map((c) => groups.desired.get(c)?.displayName ?? c)
      .join(', ')} not nested`,
    source,
  });
}

/**
 * The nested groups of one desired group: adds for the children the rules ask for and it lacks,
 * removals of managed children no rule nests there any more (none while people are held).
 * Left as they are while the group is on a cycle.
 */
export function nestedChanges(
  out: Findings,
  nesting: Nesting,
  groups: GroupsView,
  group: GroupAt,
  context: { readonly source: string; readonly heldPeople: number },
): void {
  const { lower, desired, existing, ref } = group;
  if (nesting.cyclic.has(lower)) return;
  const wanted = wantedChildren(out, nesting, groups, group, context.source);
  if (wanted.length > 0 && desired.licenses.length > 0) {
    out.warnings.push({
      code: 'group.nested-licenses',
      message: `${desired.configPath}: group ${desired.displayName} holds licenses and contains groups; group-based licensing does not reach the members of nested groups`,
      subject: ref.uniqueName,
    });
  }
  const memberIds = new Set(existing?.memberIds ?? []);
  const toAdd = wanted.filter((c) => c.id === undefined || !memberIds.has(c.id));
  pushNestedChanges(out.changes, 'addMembers', ref, toAdd, desired, group.requires);
  const wantedIds = new Set(wanted.flatMap((c) => (c.id === undefined ? [] : [c.id])));
  const nestedOut = nestedRemovals(existing, wantedIds, groups.tenantById);
  const held = context.heldPeople;
  if (nestedOut.length > 0 && held > 0) {
    out.warnings.push({
      code: 'group.nesting-held',
      message: `${desired.configPath}: ${nestedOut.map((g) => g.displayName).join(', ')} not taken out of ${desired.displayName}: ${String(held)} ${held === 1 ? 'person is' : 'people are'} held this run and the nesting may rest on their records`,
      subject: ref.uniqueName,
    });
  } else {
    pushNestedChanges(out.changes, 'removeMembers', ref, nestedOut, desired, []);
  }
}

/**
 * The children a group should contain, as changes name them; those Graph refuses (a Microsoft
 * 365 group on either side) are a plan error instead.
 */
function wantedChildren(
  out: Findings,
  nesting: Nesting,
  groups: GroupsView,
  group: GroupAt,
  source: string,
): GroupRef[] {
  const { lower, desired, ref } = group;
  const isUnified = (g: string): boolean =>
    groups.desired.get(g)?.type === 'microsoft365' ||
    (groups.tenant.get(g)?.groupTypes.includes('Unified') ?? false);
  const wanted: GroupRef[] = [];
  const refused: string[] = [];
  for (const child of [...(nesting.children.get(lower) ?? [])].sort(compareText)) {
    const childDesired = groups.desired.get(child);
    if (!childDesired) continue;
    const childRef = refOf(childDesired, groups.tenant.get(child));
    if (isUnified(lower) || isUnified(child)) refused.push(childRef.displayName);
    else wanted.push(childRef);
  }
  if (refused.length > 0) {
    out.issues.push({
      severity: 'error',
      code: 'group.nesting-unified',
      message: isUnified(lower)
        ? `${desired.configPath}: group ${desired.displayName} (${ref.uniqueName}) is a Microsoft 365 group, and Microsoft 365 groups cannot contain groups (Graph refuses); ${refused.join(', ')} not nested`
        : `${desired.configPath}: ${refused.join(', ')} ${refused.length === 1 ? 'is a Microsoft 365 group' : 'are Microsoft 365 groups'}, and Microsoft 365 groups cannot be members of other groups (Graph refuses); not nested in ${desired.displayName}`,
      source,
    });
  }
  return wanted;
}

/**
 * Nested managed groups a group loses: members that are groups this config manages and that no
 * rule nests there any more. Users, unmanaged groups and other objects are never touched here.
 */
export function nestedRemovals(
  existing: TenantGroup | undefined,
  wantedIds: ReadonlySet<string>,
  managedGroupsById: ReadonlyMap<string, TenantGroup>,
): GroupRef[] {
  if (!existing) return [];
  return existing.memberIds.flatMap((id) => {
    const group = wantedIds.has(id) ? undefined : managedGroupsById.get(id);
    return group ? [tenantGroupRef(group)] : [];
  });
}

/** A managed group of the tenant as changes name it. */
export function tenantGroupRef(group: TenantGroup): GroupRef {
  return { id: group.id, uniqueName: group.uniqueName, displayName: group.displayName };
}

/**
 * Nested-group changes of 20 groups each, in uniqueName order: the same `addMembers` and
 * `removeMembers` kinds as users, the groups in `memberGroups`. An add waits for the parent's
 * create and for the creates of the new groups it nests.
 */
export function pushNestedChanges(
  changes: Change[],
  kind: 'addMembers' | 'removeMembers',
  group: GroupRef,
  members: readonly GroupRef[],
  desired: Pick<DesiredGroup, 'configPath' | 'provenance'>,
  requires: readonly string[],
): void {
  sortedChunks(members, (g) => g.uniqueName).forEach((chunk, i) => {
    const needs = [
      ...requires,
      ...chunk.filter((c) => c.id === undefined).map((c) => createGroupId(c.uniqueName)),
    ];
    const adding = kind === 'addMembers';
    changes.push({
      id: `${kind}:${group.uniqueName.toLowerCase()}#g${i + 1}`,
      kind,
      reason: 'group-rule',
      rule: desired.configPath,
      message: `${adding ? 'add' : 'remove'} ${chunk.length} nested group(s) ${adding ? 'to' : 'from'} ${group.displayName}: ${chunk.map((c) => c.displayName).join(', ')}`,
      group,
      members: [],
      memberGroups: chunk,
      provenance: adding ? desired.provenance : [],
      ...(needs.length > 0 ? { requires: needs } : {}),
    });
  });
}
