/**
 * Managed groups: the groups the rules ask for (from group rules; group-based license rules add
 * theirs through licenses.ts), their create or update, and their user members. A disabled
 * account is never added (P11). A member no rule puts there is removed unless the account is
 * read-only to this config (protected, privileged, synced, guest, another config's) or a
 * leaver still within `removeAccessAfterDays`; members that are not users (nested groups,
 * devices) are left to nesting.ts. A managed group no rule asks for any more is emptied.
 */
import { toMailNickname } from '../expr/normalize.js';
import type { DesiredUser } from '../model/desired.js';
import type { AttributeChange, Change, GroupProperties, GroupRef } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import type { TenantGroup, TenantUser } from '../model/tenant.js';
import type {
  AccessInput,
  AccountRef,
  AddToGroup,
  DesiredGroup,
  Findings,
  GroupAt,
  GroupsView,
} from './access-model.js';
import {
  groupKeyOf,
  groupOf,
  isDisabled,
  memberKey,
  sortedChunks,
  userRefOf,
} from './access-model.js';
import { nestedRemovals, pushNestedChanges, tenantGroupRef } from './nesting.js';
import type { Ownership } from './ownership.js';
import { createGroupId } from '../model/plan.js';

const PROVENANCE_PER_GROUP = 3;

/** The desired groups by lower-case uniqueName, and the one way groups and members get in. */
export function desiredGroupSet(
  prefix: string,
  accounts: ReadonlyMap<DesiredUser, AccountRef>,
): { readonly groups: ReadonlyMap<string, DesiredGroup>; readonly add: AddToGroup } {
  const groups = new Map<string, DesiredGroup>();
  const add: AddToGroup = (key, make, user) => {
    const uniqueName = `${prefix}${key}`;
    const lower = uniqueName.toLowerCase();
    let group = groups.get(lower);
    if (!group) {
      group = { ...make(), uniqueName, members: new Map(), provenance: [] };
      groups.set(lower, group);
    }
    if (!user) return;
    const account = accounts.get(user);
    // A disabled account is never added (P11); the lifecycle decides what it keeps.
    if (!account || isDisabled(user)) return;
    group.members.set(memberKey(account), account);
    if (group.provenance.length < PROVENANCE_PER_GROUP) group.provenance.push(...user.provenance);
  };
  return { groups, add };
}

/** Every static group rule's group, and each person's groups of the rules that hold for them. */
export function ruleGroups(
  spec: SyncSpec,
  ordered: readonly DesiredUser[],
  addToGroup: AddToGroup,
): void {
  spec.groups.forEach((rule) => {
    if (!rule.foreach) addToGroup(rule.key, () => groupOf(rule, rule.key, rule.name as string));
  });
  for (const user of ordered) {
    for (const m of user.groups ?? []) {
      const rule = spec.groups[m.rule];
      // A dynamic group's members are Entra's to compute from its rule.
      if (!rule || m.nestingOnly || rule.membershipRule !== undefined) continue;
      const key = groupKeyOf(rule, m);
      addToGroup(key, () => groupOf(rule, key, m.name), user);
    }
  }
}

/** A role-assignable managed group is left alone: its membership grants directory roles. */
export function roleAssignableGroup(out: Findings, existing: TenantGroup): void {
  out.warnings.push({
    code: 'group.role-assignable',
    message: `group ${existing.displayName} (${existing.uniqueName}) is role-assignable: entrasync does not manage the membership of groups that grant directory roles; left unchanged`,
    subject: existing.uniqueName,
  });
}

/**
 * A new group's create (with the owners that have accounts), or an existing one's update of the
 * name and description the rule gives it.
 */
export function groupChanges(
  out: Findings,
  group: GroupAt,
  usersByUpn: () => ReadonlyMap<string, TenantUser>,
): void {
  const { lower, desired, existing, ref } = group;
  const base = { reason: 'group-rule' as const, rule: desired.configPath };
  if (!existing) {
    const owners = desired.owners.flatMap((upn) => {
      const owner = usersByUpn().get(upn.toLowerCase());
      if (owner) return [{ id: owner.id, userPrincipalName: owner.userPrincipalName }];
      out.warnings.push({
        code: 'group.unknown-owner',
        message: `${desired.configPath}: owner ${upn} has no account in the tenant; the group is created without it`,
        subject: desired.uniqueName,
      });
      return [];
    });
    out.changes.push({
      ...base,
      id: createGroupId(lower),
      kind: 'createGroup',
      message: `create group ${desired.displayName} (${desired.uniqueName})`,
      group: ref,
      provenance: desired.provenance,
      properties: groupProperties(desired),
      owners,
    });
    return;
  }
  const set = [
    ...(existing.displayName !== desired.displayName
      ? [{ attribute: 'displayName', before: existing.displayName, after: desired.displayName }]
      : []),
    ...((existing.description ?? null) !== desired.description
      ? [{ attribute: 'description', before: existing.description, after: desired.description }]
      : []),
    ...dynamicChanges(existing, desired),
  ];
  if (set.length === 0 || ref.id === undefined) return;
  out.changes.push({
    ...base,
    id: `updateGroup:${existing.id}`,
    kind: 'updateGroup',
    message: `update ${set.map((c) => c.attribute).join(', ')} of group ${existing.displayName}`,
    group: { id: ref.id, uniqueName: ref.uniqueName, displayName: ref.displayName },
    provenance: desired.provenance,
    set,
  });
}

/**
 * Whether Entra, not this plan, keeps the group's members: a dynamic group, or one this plan
 * turns static (its members are planned from the next run, once Graph has the group static:
 * until then a member write would be refused).
 */
export function dynamicMembers(out: Findings, group: GroupAt): boolean {
  if (isDynamic(group.desired)) return true;
  if (!group.existing || !isDynamic(group.existing)) return false;
  out.warnings.push({
    code: 'group.dynamic-to-static',
    message: `${group.desired.configPath}: group ${group.existing.displayName} becomes static (its membershipRule is taken out); its members are kept by the rules from the next plan`,
    subject: group.desired.uniqueName,
  });
  return true;
}

/** A group's membership changes, and who they add and remove (the seat check counts them). */
export interface MemberChanges {
  readonly added: readonly MemberChunk[];
  readonly removed: readonly MemberChunk[];
  /** Every account the group loses. */
  readonly removes: readonly AccountRef[];
}

/** One membership change's id and members. */
export interface MemberChunk {
  readonly id: string;
  readonly members: readonly AccountRef[];
}

/** The user members a desired group gains and loses. */
export function memberChanges(
  out: Findings,
  group: GroupAt,
  input: Pick<AccessInput, 'ownership' | 'leavers'>,
  usersById: ReadonlyMap<string, TenantUser>,
): MemberChanges {
  const { existing, desired, ref } = group;
  const memberIds = new Set(existing?.memberIds ?? []);
  const adds = [...desired.members.values()].filter(
    (m) => m.id === undefined || !memberIds.has(m.id),
  );
  const removes = removableMembers(existing, desired.members, input, usersById);
  const added = pushMemberChanges(out.changes, 'addMembers', ref, adds, desired, group.requires);
  const removed = pushMemberChanges(out.changes, 'removeMembers', ref, removes, desired, []);
  return { added, removed, removes };
}

/**
 * Members a managed group loses: user accounts no rule puts there, except held people, leavers
 * still within `removeAccessAfterDays`, and protected or privileged accounts. Members that are
 * not users this read knows (nested groups, devices) are left.
 */
export function removableMembers(
  existing: TenantGroup | undefined,
  desired: ReadonlyMap<string, AccountRef>,
  input: Pick<AccessInput, 'ownership' | 'leavers'>,
  usersById: ReadonlyMap<string, TenantUser>,
): AccountRef[] {
  if (!existing) return [];
  const out: AccountRef[] = [];
  for (const id of existing.memberIds) {
    if (desired.has(`id:${id}`)) continue;
    const user = usersById.get(id);
    if (!user) continue;
    const ownership = input.ownership.get(id);
    // Read-only accounts (P5 synced, guests) are neither added nor taken out; nor are another
    // config's (P16: two configs whose group keys meet in one group each keep their own people).
    if (
      ownership === 'protected' ||
      ownership === 'privileged' ||
      ownership === 'synced-from-on-premises' ||
      ownership === 'guest' ||
      ownership === 'other-config' ||
      ownership === 'legacy-marker'
    ) {
      continue;
    }
    if (input.leavers.get(id) === 'retain') continue;
    out.push({ id, userPrincipalName: user.userPrincipalName });
  }
  return out;
}

/** Membership changes of 20 members each, in UPN order; returns each change's id and members. */
function pushMemberChanges(
  changes: Change[],
  kind: 'addMembers' | 'removeMembers',
  group: GroupRef,
  members: readonly AccountRef[],
  desired: Pick<DesiredGroup, 'configPath' | 'provenance'>,
  requires: readonly string[],
): MemberChunk[] {
  return sortedChunks(members, (m) => m.userPrincipalName).map((chunk, i) => {
    const id = `${kind}:${group.uniqueName.toLowerCase()}#${i + 1}`;
    changes.push({
      id,
      kind,
      reason: 'group-rule',
      rule: desired.configPath,
      message: `${kind === 'addMembers' ? 'add' : 'remove'} ${chunk.length} member(s) ${kind === 'addMembers' ? 'to' : 'from'} ${group.displayName}`,
      group,
      members: chunk.map(userRefOf),
      provenance: kind === 'addMembers' ? desired.provenance : [],
      ...(requires.length > 0 ? { requires } : {}),
    });
    return { id, members: chunk };
  });
}

/**
 * Managed groups no rule asks for any more are emptied, their users and nested managed groups
 * alike (their members' access came from a rule), with a warning to delete them. Left alone:
 * role-assignable groups, the groups of license rules that did not resolve, and groups that
 * hold only another config's accounts (P16).
 */
export function orphanGroupChanges(
  out: Findings,
  groups: GroupsView,
  unresolvedGroups: ReadonlySet<string>,
  input: Pick<AccessInput, 'ownership' | 'leavers'>,
  usersById: ReadonlyMap<string, TenantUser>,
): void {
  for (const [lower, existing] of groups.tenant) {
    if (groups.desired.has(lower) || existing.isAssignableToRole || unresolvedGroups.has(lower))
      continue;
    if (isDynamic(existing)) {
      // Its members are Entra's (Graph refuses member writes to a dynamic group).
      out.warnings.push({
        code: 'group.orphan',
        message: `dynamic group ${existing.displayName} (${existing.uniqueName}) is managed by this config but no rule asks for it any more; its members come from its rule, so it is left as it is: delete the group in the portal if it is no longer needed`,
        subject: existing.uniqueName,
      });
      continue;
    }
    if (anotherConfigsGroup(existing, input.ownership)) {
      out.warnings.push({
        code: 'group.other-config',
        message: `group ${existing.displayName} (${existing.uniqueName}) carries this config's groupPrefix but holds only another config's accounts: left alone (another config); give each config sharing the tenant its own target.marker.groupPrefix`,
        subject: existing.uniqueName,
      });
      continue;
    }
    const removes = removableMembers(existing, new Map(), input, usersById);
    const ref = tenantGroupRef(existing);
    const orphan = { configPath: 'groups', provenance: [] };
    pushMemberChanges(out.changes, 'removeMembers', ref, removes, orphan, []);
    const nestedOut = nestedRemovals(existing, new Set(), groups.tenantById);
    pushNestedChanges(out.changes, 'removeMembers', ref, nestedOut, orphan, []);
    out.warnings.push({
      code: 'group.orphan',
      message: `group ${existing.displayName} (${existing.uniqueName}) is managed by this config but no rule gives it members any more${removes.length > 0 ? `; its ${removes.length} member(s) are removed` : ''}; delete the group in the portal if it is no longer needed`,
      subject: existing.uniqueName,
    });
  }
}

/**
 * A group under this config's prefix that no rule asks for and whose user members are all
 * another config's (P16): two configs share the prefix, and the group is the other's. It is
 * neither emptied nor un-nested.
 */
function anotherConfigsGroup(
  group: TenantGroup,
  ownership: ReadonlyMap<string, Ownership>,
): boolean {
  let theirs = 0;
  for (const id of group.memberIds) {
    const o = ownership.get(id);
    if (o === 'managed') return false;
    if (o === 'other-config' || o === 'legacy-marker') theirs += 1;
  }
  return theirs > 0;
}

function groupProperties(group: DesiredGroup): GroupProperties {
  const unified = group.type === 'microsoft365';
  return {
    displayName: group.displayName,
    description: group.description,
    mailNickname: toMailNickname(group.uniqueName).slice(0, 64) || 'group',
    mailEnabled: unified,
    securityEnabled: !unified,
    groupTypes: [...(unified ? ['Unified'] : []), ...(isDynamic(group) ? [DYNAMIC] : [])],
    ...(group.membershipRule === undefined
      ? {}
      : {
          membershipRule: group.membershipRule,
          membershipRuleProcessingState: group.membershipRuleProcessingState ?? 'On',
        }),
  };
}

const DYNAMIC = 'DynamicMembership';

/** A group whose members Entra computes from its rule: a desired one, or one in the tenant. */
export function isDynamic(group: Pick<DesiredGroup, 'membershipRule'> | TenantGroup): boolean {
  return 'groupTypes' in group
    ? group.groupTypes.includes(DYNAMIC)
    : group.membershipRule !== undefined;
}

/**
 * A dynamic group's rule kept (issue 26): a changed rule or processing state is written; a
 * static group given a rule becomes dynamic (`groupTypes` gains `DynamicMembership`); a dynamic
 * group whose rule was taken out becomes static (the rule cleared).
 */
function dynamicChanges(existing: TenantGroup, desired: DesiredGroup): AttributeChange[] {
  const was = isDynamic(existing);
  const wants = isDynamic(desired);
  const out: AttributeChange[] = [];
  if (was !== wants) {
    const after = wants
      ? [...existing.groupTypes, DYNAMIC]
      : existing.groupTypes.filter((t) => t !== DYNAMIC);
    out.push({ attribute: 'groupTypes', before: [...existing.groupTypes], after });
  }
  const rule = desired.membershipRule ?? null;
  if ((existing.membershipRule ?? null) !== rule) {
    out.push({ attribute: 'membershipRule', before: existing.membershipRule ?? null, after: rule });
  }
  const state = wants ? (desired.membershipRuleProcessingState ?? 'On') : null;
  const current = existing.membershipRuleProcessingState ?? null;
  if (wants ? current !== state : was && current !== null) {
    out.push({ attribute: 'membershipRuleProcessingState', before: current, after: state });
  }
  return out;
}
