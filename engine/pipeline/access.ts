/**
 * Access: what people get besides an account — managed groups and their members, licenses
 * (direct or group-based) with the seat check, and managers. Pure: desired users (with the
 * groups, license rules and manager key mapping gave them), the accounts the user diff settled
 * on, and the tenant's groups, SKUs and assignments -> changes.
 *
 * A disabled account (one the mapping disables or creates disabled; a leaver) is never added to
 * a group or given a license by a rule (P11). What is never taken away here: the access of a
 * held person (their records have errors this run), of a leaver or a mapping-disabled account
 * within `removeAccessAfterDays` (lifecycle.ts), of protected and privileged accounts, and
 * of members that are neither user accounts nor groups this config manages (unmanaged groups,
 * devices). Managed groups are nested by `memberGroups` and removed from a managed group no rule
 * nests them in any more. Removals are deprovisioning changes: an unhealthy source blocks them
 * (safety.ts).
 */
import { groupSlug, toMailNickname } from '../expr/normalize.js';
import type { DesiredMembership, DesiredUser } from '../model/desired.js';
import type { Provenance } from '../model/person.js';
import type {
  Change,
  GroupProperties,
  GroupRef,
  LicenseRef,
  LicenseSeats,
  PlanIssue,
  PlanWarning,
  UserRef,
} from '../model/plan.js';
import type { GroupSpec, LicenseGrant, SyncSpec } from '../model/spec.js';
import type { TenantGroup, TenantSku, TenantState, TenantUser } from '../model/tenant.js';
import { compareText } from './compare.js';
import { lazy } from './group-by.js';
import type { Ownership } from './ownership.js';

/** Members per membership change: one `members@odata.bind` PATCH carries at most 20. */
export const MEMBERS_PER_CHANGE = 20;

/** A desired user's account as the user diff settled it (see DiffResult.accounts). */
export type AccountRef = UserRef & { readonly createdBy?: string };

export interface AccessInput {
  readonly spec: SyncSpec;
  readonly users: readonly DesiredUser[];
  readonly accounts: ReadonlyMap<DesiredUser, AccountRef>;
  readonly leavers: ReadonlyMap<string, 'retain' | 'remove'>;
  readonly ownership: ReadonlyMap<string, Ownership>;
  readonly tenant: TenantState;
  /**
   * People held this run (their records have errors): how groups nest may rest on their data,
   * so while any is held no nested group is taken out of another.
   */
  readonly heldPeople?: number;
}

export interface AccessResult {
  readonly changes: readonly Change[];
  readonly warnings: readonly PlanWarning[];
  readonly issues: readonly PlanIssue[];
  readonly seats: readonly LicenseSeats[];
  /** Assignments the tenant has no seats for, by change id, with the reason (G9). */
  readonly seatShortfall: ReadonlyMap<string, string>;
}

interface DesiredGroup {
  readonly uniqueName: string;
  displayName: string;
  readonly description: string | null;
  readonly type: GroupSpec['type'];
  readonly owners: readonly string[];
  readonly licenses: readonly LicenseGrant[];
  readonly configPath: string;
  readonly members: Map<string, AccountRef>;
  readonly provenance: Provenance[];
}

const PROVENANCE_PER_GROUP = 3;

export function accessChanges(input: AccessInput): AccessResult {
  const { spec, tenant } = input;
  const changes: Change[] = [];
  const warnings: PlanWarning[] = [];
  const issues: PlanIssue[] = [];
  const usersById = lazy(() => new Map(tenant.users.map((u) => [u.id, u])));
  const usersByUpn = lazy(
    () => new Map(tenant.users.map((u) => [u.userPrincipalName.toLowerCase(), u])),
  );
  // A restored account is read from the recycle bin: its usageLocation, licenses and manager.
  const deletedById = new Map((tenant.deletedUsers ?? []).map((u) => [u.id, u]));
  const accountById = (id: string) => usersById().get(id) ?? deletedById.get(id);
  const skus = resolveSkus(spec, tenant, issues);
  const ordered = [...input.users].sort((a, b) => compareText(a.personKey, b.personKey));

  // --- desired groups, from group rules and group-based license rules
  const desiredGroups = new Map<string, DesiredGroup>();
  const addToGroup = (
    key: string,
    make: () => Omit<DesiredGroup, 'members' | 'provenance'>,
    user?: DesiredUser,
  ): void => {
    const uniqueName = `${spec.marker.groupPrefix}${key}`;
    const lower = uniqueName.toLowerCase();
    let group = desiredGroups.get(lower);
    if (!group) {
      group = { ...make(), uniqueName, members: new Map(), provenance: [] };
      desiredGroups.set(lower, group);
    }
    if (!user) return;
    const account = input.accounts.get(user);
    // A disabled account is never added (P11); the lifecycle decides what it keeps.
    if (!account || isDisabled(user)) return;
    group.members.set(memberKey(account), account);
    if (group.provenance.length < PROVENANCE_PER_GROUP) group.provenance.push(...user.provenance);
  };
  spec.groups.forEach((rule) => {
    if (!rule.foreach) addToGroup(rule.key, () => groupOf(rule, rule.key, rule.name as string));
  });
  for (const user of ordered) {
    for (const m of user.groups ?? []) {
      const rule = spec.groups[m.rule];
      if (!rule || m.nestingOnly) continue;
      const key = groupKeyOf(rule, m);
      addToGroup(key, () => groupOf(rule, key, m.name), user);
    }
  }
  const nesting = nestGroups(spec, ordered, desiredGroups, addToGroup, issues);
  // A license rule that does not resolve assigns and removes nothing: its group is not emptied
  // as an orphan, and its SKU is not taken from anyone directly.
  const unresolvedGroups = new Set<string>();
  const unresolvedSkuIds = new Set<string>();
  spec.licenses.forEach((rule, index) => {
    if (skus.rules.has(index)) return;
    for (const s of tenant.skus ?? []) {
      if (s.skuPartNumber.toUpperCase() === rule.sku.toUpperCase()) unresolvedSkuIds.add(s.skuId);
    }
    if (rule.assignBy === 'group') {
      unresolvedGroups.add(
        `${spec.marker.groupPrefix}license-${groupSlug(rule.sku)}`.toLowerCase(),
      );
    }
  });
  spec.licenses.forEach((rule, index) => {
    if (rule.assignBy !== 'group' || !skus.rules.has(index)) return;
    const key = `license-${groupSlug(rule.sku)}`;
    const make = () => ({
      uniqueName: `${spec.marker.groupPrefix}${key}`,
      displayName: `License - ${rule.sku}`,
      description: `Members get ${rule.sku} (group-based licensing, managed by entrasync ${rule.configPath})`,
      type: 'security' as const,
      owners: [],
      licenses: [{ sku: rule.sku, disabledPlans: rule.disabledPlans }],
      configPath: rule.configPath,
    });
    addToGroup(key, make);
    for (const user of ordered) if (user.licenseRules?.includes(index)) addToGroup(key, make, user);
  });

  // --- groups: create, update, members
  const tenantGroups = new Map(
    (tenant.groups ?? []).map((g) => [g.uniqueName.toLowerCase(), g] as const),
  );
  const seatDelta = new Map<string, { adding: Set<string>; removing: Set<string> }>();
  const seatChanges = new Map<string, Set<string>>();
  const noteSeat = (skuId: string, changeId: string, adding: string[], removing: string[]) => {
    let d = seatDelta.get(skuId);
    if (!d) seatDelta.set(skuId, (d = { adding: new Set(), removing: new Set() }));
    for (const a of adding) d.adding.add(a);
    for (const r of removing) d.removing.add(r);
    if (adding.length === 0) return;
    let ids = seatChanges.get(skuId);
    if (!ids) seatChanges.set(skuId, (ids = new Set()));
    ids.add(changeId);
  };
  /** Whether an existing account already holds the SKU, directly or through a group. */
  const holds = (account: AccountRef, skuId: string): boolean =>
    account.id !== undefined &&
    (accountById(account.id)?.licenses ?? []).some((l) => l.skuId === skuId);

  const tenantGroupsById = new Map((tenant.groups ?? []).map((g) => [g.id, g] as const));
  /** A desired group as changes name it: the tenant's id and uniqueName when it exists. */
  const refOf = (desired: DesiredGroup, existing: TenantGroup | undefined): GroupRef => ({
    ...(existing ? { id: existing.id } : {}),
    uniqueName: existing?.uniqueName ?? desired.uniqueName,
    displayName: desired.displayName,
  });
  const groupRefOf = (lower: string): GroupRef | undefined => {
    const desired = desiredGroups.get(lower);
    return desired ? refOf(desired, tenantGroups.get(lower)) : undefined;
  };
  const isUnified = (lower: string): boolean =>
    desiredGroups.get(lower)?.type === 'microsoft365' ||
    (tenantGroups.get(lower)?.groupTypes.includes('Unified') ?? false);

  for (const [lower, desired] of [...desiredGroups].sort(([a], [b]) => compareText(a, b))) {
    const existing = tenantGroups.get(lower);
    const nested = nesting.children.get(lower);
    if (existing?.isAssignableToRole) {
      if (nested && nested.size > 0) {
        issues.push({
          severity: 'error',
          code: 'group.nesting-role-assignable',
          message: `${desired.configPath}: group ${existing.displayName} (${existing.uniqueName}) is role-assignable, and role-assignable groups cannot contain groups (Graph refuses); ${[
            ...nested,
          ]
            .sort(compareText)
            .map((c) => desiredGroups.get(c)?.displayName ?? c)
            .join(', ')} not nested`,
          source: spec.primarySource,
        });
      }
      warnings.push({
        code: 'group.role-assignable',
        message: `group ${existing.displayName} (${existing.uniqueName}) is role-assignable: entrasync does not manage the membership of groups that grant directory roles; left unchanged`,
        subject: existing.uniqueName,
      });
      continue;
    }
    const ref = refOf(desired, existing);
    const base = { reason: 'group-rule' as const, rule: desired.configPath };
    const createId = `createGroup:${lower}`;
    if (!existing) {
      const owners = desired.owners.flatMap((upn) => {
        const owner = usersByUpn().get(upn.toLowerCase());
        if (owner) return [{ id: owner.id, userPrincipalName: owner.userPrincipalName }];
        warnings.push({
          code: 'group.unknown-owner',
          message: `${desired.configPath}: owner ${upn} has no account in the tenant; the group is created without it`,
          subject: desired.uniqueName,
        });
        return [];
      });
      changes.push({
        ...base,
        id: createId,
        kind: 'createGroup',
        message: `create group ${desired.displayName} (${desired.uniqueName})`,
        group: ref,
        provenance: desired.provenance,
        properties: groupProperties(desired),
        owners,
      });
    } else {
      const set = [
        ...(existing.displayName !== desired.displayName
          ? [{ attribute: 'displayName', before: existing.displayName, after: desired.displayName }]
          : []),
        ...((existing.description ?? null) !== desired.description
          ? [{ attribute: 'description', before: existing.description, after: desired.description }]
          : []),
      ];
      if (set.length > 0 && ref.id !== undefined) {
        changes.push({
          ...base,
          id: `updateGroup:${existing.id}`,
          kind: 'updateGroup',
          message: `update ${set.map((c) => c.attribute).join(', ')} of group ${existing.displayName}`,
          group: { id: ref.id, uniqueName: ref.uniqueName, displayName: ref.displayName },
          provenance: desired.provenance,
          set,
        });
      }
    }
    const requires = existing ? [] : [createId];

    // group-based licenses
    const grants = desired.licenses.flatMap((g) => {
      const license = skus.license(g, desired.configPath);
      return license ? [license] : [];
    });
    const current = existing?.licenses ?? [];
    const toGrant = grants.filter(
      (l) =>
        !current.some((c) => c.skuId === l.skuId && samePlans(c.disabledPlans, l.disabledPlanIds)),
    );
    const grantId = `assignGroupLicenses:${lower}`;
    if (toGrant.length > 0) {
      changes.push({
        ...base,
        reason: 'license-rule',
        id: grantId,
        kind: 'assignGroupLicenses',
        message: `license group ${desired.displayName}: ${toGrant.map((l) => l.skuPartNumber).join(', ')}`,
        group: ref,
        provenance: desired.provenance,
        licenses: toGrant,
        requires,
      });
    }
    // A grant that did not resolve (license.unknown) revokes nothing.
    const toRevoke =
      grants.length < desired.licenses.length
        ? []
        : current.filter((c) => !grants.some((g) => g.skuId === c.skuId));
    if (toRevoke.length > 0 && existing) {
      changes.push({
        ...base,
        reason: 'license-rule',
        id: `removeGroupLicenses:${lower}`,
        kind: 'removeGroupLicenses',
        message: `remove ${toRevoke.length} license(s) from group ${desired.displayName}`,
        group: ref,
        provenance: desired.provenance,
        licenses: toRevoke.map((c) => skus.byId(c.skuId, c.disabledPlans)),
      });
    }

    // members
    const memberIds = new Set(existing?.memberIds ?? []);
    const adds = [...desired.members.values()].filter(
      (m) => m.id === undefined || !memberIds.has(m.id),
    );
    const removes = removableMembers(existing, desired.members, input, usersById());
    const added = pushMemberChanges(changes, 'addMembers', ref, adds, desired, requires);
    const removed = pushMemberChanges(changes, 'removeMembers', ref, removes, desired, []);

    // nested groups (memberGroups); left as they are while the nesting has a cycle
    if (!nesting.cyclic.has(lower)) {
      const wanted: GroupRef[] = [];
      const refused: string[] = [];
      for (const child of [...(nested ?? [])].sort(compareText)) {
        const childRef = groupRefOf(child);
        if (!childRef) continue;
        if (isUnified(lower) || isUnified(child)) refused.push(childRef.displayName);
        else wanted.push(childRef);
      }
      if (refused.length > 0) {
        issues.push({
          severity: 'error',
          code: 'group.nesting-unified',
          message: isUnified(lower)
            ? `${desired.configPath}: group ${desired.displayName} (${ref.uniqueName}) is a Microsoft 365 group, and Microsoft 365 groups cannot contain groups (Graph refuses); ${refused.join(', ')} not nested`
            : `${desired.configPath}: ${refused.join(', ')} ${refused.length === 1 ? 'is a Microsoft 365 group' : 'are Microsoft 365 groups'}, and Microsoft 365 groups cannot be members of other groups (Graph refuses); not nested in ${desired.displayName}`,
          source: spec.primarySource,
        });
      }
      if (wanted.length > 0 && desired.licenses.length > 0) {
        warnings.push({
          code: 'group.nested-licenses',
          message: `${desired.configPath}: group ${desired.displayName} holds licenses and contains groups; group-based licensing does not reach the members of nested groups`,
          subject: ref.uniqueName,
        });
      }
      const wantedIds = new Set(wanted.flatMap((c) => (c.id === undefined ? [] : [c.id])));
      pushNestedChanges(
        changes,
        'addMembers',
        ref,
        wanted.filter((c) => c.id === undefined || !memberIds.has(c.id)),
        desired,
        requires,
      );
      const nestedOut = nestedRemovals(existing, wantedIds, tenantGroupsById);
      if (nestedOut.length > 0 && (input.heldPeople ?? 0) > 0) {
        warnings.push({
          code: 'group.nesting-held',
          message: `${desired.configPath}: ${nestedOut.map((g) => g.displayName).join(', ')} not taken out of ${desired.displayName}: ${String(input.heldPeople)} ${input.heldPeople === 1 ? 'person is' : 'people are'} held this run and the nesting may rest on their records`,
          subject: ref.uniqueName,
        });
      } else {
        pushNestedChanges(changes, 'removeMembers', ref, nestedOut, desired, []);
      }
    }
    // A license newly put on an existing group reaches the members who stay in it at once.
    if (existing && toGrant.length > 0) {
      const leaving = new Set(removes.map((m) => m.id));
      const staying = existing.memberIds.flatMap((id): AccountRef[] => {
        const user = usersById().get(id);
        return user && !leaving.has(id) ? [{ id, userPrincipalName: user.userPrincipalName }] : [];
      });
      for (const license of toGrant) {
        const keys = staying.filter((m) => !holds(m, license.skuId)).map(memberKey);
        noteSeat(license.skuId, grantId, keys, []);
      }
    }
    for (const grant of grants) {
      for (const chunk of added) {
        const keys = chunk.members.filter((m) => !holds(m, grant.skuId)).map(memberKey);
        noteSeat(grant.skuId, chunk.id, keys, []);
      }
      for (const chunk of removed) {
        noteSeat(grant.skuId, chunk.id, [], chunk.members.map(memberKey));
      }
    }
  }

  // managed groups no rule asks for any more: emptied (their members' access came from a rule)
  for (const [lower, existing] of tenantGroups) {
    if (desiredGroups.has(lower) || existing.isAssignableToRole || unresolvedGroups.has(lower))
      continue;
    if (anotherConfigsGroup(existing, input.ownership)) {
      warnings.push({
        code: 'group.other-config',
        message: `group ${existing.displayName} (${existing.uniqueName}) carries this config's groupPrefix but holds only another config's accounts: left alone (another config); give each config sharing the tenant its own target.marker.groupPrefix`,
        subject: existing.uniqueName,
      });
      continue;
    }
    const removes = removableMembers(existing, new Map(), input, usersById());
    const ref = tenantGroupRef(existing);
    const orphan = { configPath: 'groups', provenance: [] };
    pushMemberChanges(changes, 'removeMembers', ref, removes, orphan, []);
    const nestedOut = nestedRemovals(existing, new Set(), tenantGroupsById);
    pushNestedChanges(changes, 'removeMembers', ref, nestedOut, orphan, []);
    warnings.push({
      code: 'group.orphan',
      message: `group ${existing.displayName} (${existing.uniqueName}) is managed by this config but no rule gives it members any more${removes.length > 0 ? `; its ${removes.length} member(s) are removed` : ''}; delete the group in the portal if it is no longer needed`,
      subject: existing.uniqueName,
    });
  }

  // --- direct licenses
  const directRules = spec.licenses
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule, index }) => rule.assignBy === 'direct' && skus.rules.has(index));
  const managedSkuIds = new Set(
    directRules.flatMap(({ index }) => {
      const l = skus.rules.get(index);
      return l ? [l.skuId] : [];
    }),
  );
  if (directRules.length > 0) {
    for (const user of ordered) {
      const account = input.accounts.get(user);
      // A disabled account gets no license (P11) and loses them as a leaver does, below.
      if (!account || isDisabled(user)) continue;
      const tenantUser = account.id !== undefined ? accountById(account.id) : undefined;
      const direct = (tenantUser?.licenses ?? []).filter((l) => l.viaGroup === undefined);
      const wanted = directRules
        .filter(({ index }) => user.licenseRules?.includes(index))
        .flatMap(({ index }) => {
          const l = skus.rules.get(index);
          return l ? [l] : [];
        });
      const add = wanted.filter(
        (l) =>
          !direct.some((d) => d.skuId === l.skuId && samePlans(d.disabledPlans, l.disabledPlanIds)),
      );
      const remove = direct.filter(
        (d) =>
          managedSkuIds.has(d.skuId) &&
          !unresolvedSkuIds.has(d.skuId) &&
          !wanted.some((w) => w.skuId === d.skuId),
      );
      const key = account.id ?? account.userPrincipalName.toLowerCase();
      const base = {
        reason: 'license-rule' as const,
        user: {
          ...(account.id === undefined ? {} : { id: account.id }),
          userPrincipalName: account.userPrincipalName,
        },
        provenance: user.provenance,
        ...(account.createdBy ? { requires: [account.createdBy] } : {}),
      };
      if (add.length > 0) {
        const usageLocation = user.attributes.usageLocation ?? tenantUser?.attributes.usageLocation;
        if (typeof usageLocation !== 'string' || usageLocation === '') {
          issues.push({
            severity: 'error',
            code: 'license.no-usage-location',
            message: `${user.personKey}: ${add.map((l) => l.skuPartNumber).join(', ')} cannot be assigned to ${account.userPrincipalName} without a usageLocation; map users.attributes.usageLocation (Graph refuses the assignment)`,
            source: spec.primarySource,
            key: user.personKey,
          });
        } else {
          const id = `assignLicenses:${key}`;
          changes.push({
            ...base,
            id,
            kind: 'assignLicenses',
            rule: add.map((l) => skus.ruleOf(l.skuId) ?? 'licenses').join(', '),
            message: `assign ${add.map((l) => l.skuPartNumber).join(', ')} to ${account.userPrincipalName}`,
            licenses: add,
          });
          for (const l of add) {
            noteSeat(l.skuId, id, holds(account, l.skuId) ? [] : [memberKey(account)], []);
          }
        }
      }
      if (remove.length > 0) {
        const id = `removeLicenses:${key}`;
        changes.push({
          ...base,
          id,
          kind: 'removeLicenses',
          rule: 'licenses',
          message: `remove ${remove.map((l) => skus.byId(l.skuId, l.disabledPlans).skuPartNumber).join(', ')} from ${account.userPrincipalName}: no license rule holds any more`,
          licenses: remove.map((l) => skus.byId(l.skuId, l.disabledPlans)),
        });
        for (const l of remove) noteSeat(l.skuId, id, [], [memberKey(account)]);
      }
    }
    // leavers and mapping-disabled accounts past removeAccessAfterDays lose the licenses the
    // rules gave them
    const disabledByMapping = new Set(
      input.users.flatMap((u) => {
        const id = isDisabled(u) ? input.accounts.get(u)?.id : undefined;
        return id === undefined ? [] : [id];
      }),
    );
    for (const [accountId, fate] of input.leavers) {
      if (fate !== 'remove' || input.ownership.get(accountId) !== 'managed') continue;
      const account = usersById().get(accountId);
      const remove = (account?.licenses ?? []).filter(
        (l) => l.viaGroup === undefined && managedSkuIds.has(l.skuId),
      );
      if (!account || remove.length === 0) continue;
      const id = `removeLicenses:${account.id}`;
      changes.push({
        id,
        kind: 'removeLicenses',
        reason: disabledByMapping.has(account.id) ? 'source-status' : 'left-source',
        rule: 'users.deprovision',
        message: `remove ${remove.map((l) => skus.byId(l.skuId, l.disabledPlans).skuPartNumber).join(', ')} from ${account.userPrincipalName}: deprovisioned`,
        user: { id: account.id, userPrincipalName: account.userPrincipalName },
        provenance: [],
        licenses: remove.map((l) => skus.byId(l.skuId, l.disabledPlans)),
      });
      for (const l of remove) noteSeat(l.skuId, id, [], [memberKey(account)]);
    }
  }

  // --- seats
  const seats: LicenseSeats[] = [];
  const seatShortfall = new Map<string, string>();
  /** SKUs the tenant has too few seats for, with the message their assignments are blocked by. */
  const shortSkus = new Map<string, string>();
  for (const [skuId, delta] of [...seatDelta].sort(([a], [b]) => compareText(a, b))) {
    const sku = tenant.skus?.find((s) => s.skuId === skuId);
    if (!sku) continue;
    const shortfall = Math.max(
      0,
      sku.consumed + delta.adding.size - delta.removing.size - sku.seats,
    );
    seats.push({
      skuPartNumber: sku.skuPartNumber,
      skuId,
      seats: sku.seats,
      consumed: sku.consumed,
      adding: delta.adding.size,
      removing: delta.removing.size,
      shortfall,
    });
    if (shortfall === 0) continue;
    const message = `blocked: ${sku.skuPartNumber} has ${Math.max(0, sku.seats - sku.consumed)} free seat(s) (${sku.seats} seats, ${sku.consumed} consumed) and the plan assigns it to ${delta.adding.size} more user(s) (removing ${delta.removing.size}): ${shortfall} seat(s) short; buy seats or narrow the rule`;
    for (const id of seatChanges.get(skuId) ?? []) seatShortfall.set(id, message);
    shortSkus.set(skuId, message);
  }
  splitShortAssignments(changes, shortSkus, seatChanges, seatShortfall, skus);

  // --- managers
  if (spec.users.manager) {
    const byPersonKey = new Map(input.users.map((u) => [u.personKey, u]));
    for (const user of ordered) {
      if (user.managerKey === undefined) continue;
      const account = input.accounts.get(user);
      if (!account) continue;
      const managerPerson = byPersonKey.get(`${spec.primarySource}:${user.managerKey}`);
      const manager = managerPerson ? input.accounts.get(managerPerson) : undefined;
      if (!managerPerson || !manager) {
        warnings.push({
          code: 'manager.unknown',
          message: `${user.personKey}: manager ${user.managerKey} (${spec.users.manager.configPath}) is not a person with an account managed by this config; the manager is left as it is`,
          subject: account.userPrincipalName,
        });
        continue;
      }
      if (managerPerson === user) {
        warnings.push({
          code: 'manager.self',
          message: `${user.personKey} is their own manager (${spec.users.manager.configPath}); not set`,
          subject: account.userPrincipalName,
        });
        continue;
      }
      const currentId = account.id !== undefined ? accountById(account.id)?.managerId : undefined;
      if (manager.id !== undefined && manager.id === currentId) continue;
      changes.push({
        id: `setManager:${account.id ?? account.userPrincipalName.toLowerCase()}`,
        kind: 'setManager',
        reason: 'manager',
        rule: spec.users.manager.configPath,
        message: `set the manager of ${account.userPrincipalName} to ${manager.userPrincipalName}`,
        user: {
          ...(account.id === undefined ? {} : { id: account.id }),
          userPrincipalName: account.userPrincipalName,
        },
        manager: {
          ...(manager.id === undefined ? {} : { id: manager.id }),
          userPrincipalName: manager.userPrincipalName,
        },
        provenance: user.provenance,
        ...(account.createdBy ? { requires: [account.createdBy] } : {}),
      });
    }
  }

  return { changes, warnings, issues, seats, seatShortfall };
}

/** The key of a person's group of a rule: the rule's key, with the `foreach` value's slug. */
function groupKeyOf(rule: GroupSpec, membership: DesiredMembership): string {
  return membership.value === undefined ? rule.key : `${rule.key}-${groupSlug(membership.value)}`;
}

/** A group a rule describes; its uniqueName is completed with the prefix by the caller. */
function groupOf(
  rule: GroupSpec,
  key: string,
  displayName: string,
): Omit<DesiredGroup, 'members' | 'provenance'> {
  return {
    uniqueName: key,
    displayName,
    description: rule.description ?? null,
    type: rule.type,
    owners: rule.owners,
    licenses: rule.licenses,
    configPath: rule.configPath,
  };
}

function groupProperties(group: DesiredGroup): GroupProperties {
  const unified = group.type === 'microsoft365';
  return {
    displayName: group.displayName,
    description: group.description,
    mailNickname: toMailNickname(group.uniqueName).slice(0, 64) || 'group',
    mailEnabled: unified,
    securityEnabled: !unified,
    groupTypes: unified ? ['Unified'] : [],
  };
}

/**
 * A user's assignment of several SKUs, some of them short of seats: the short ones move to a
 * change of their own (`<id>#short`, blocked), so a shortfall on one SKU never holds back the
 * user's other licenses. One assignLicense call each; only plans with a shortfall pay it.
 */
function splitShortAssignments(
  changes: Change[],
  shortSkus: ReadonlyMap<string, string>,
  seatChanges: ReadonlyMap<string, ReadonlySet<string>>,
  seatShortfall: Map<string, string>,
  skus: { ruleOf(skuId: string): string | undefined },
): void {
  if (shortSkus.size === 0) return;
  const out: Change[] = [];
  for (const change of changes) {
    if (change.kind !== 'assignLicenses') {
      out.push(change);
      continue;
    }
    // Short only where this change takes a seat: a SKU the user holds already (through a
    // group) needs none, whatever the shortfall.
    const takesShortSeat = (skuId: string): boolean =>
      shortSkus.has(skuId) && (seatChanges.get(skuId)?.has(change.id) ?? false);
    const short = change.licenses.filter((l) => takesShortSeat(l.skuId));
    const rest = change.licenses.filter((l) => !takesShortSeat(l.skuId));
    if (short.length === 0 || rest.length === 0) {
      out.push(change);
      continue;
    }
    const part = (licenses: typeof rest, id: string): Change => ({
      ...change,
      id,
      rule: licenses.map((l) => skus.ruleOf(l.skuId) ?? 'licenses').join(', '),
      message: `assign ${licenses.map((l) => l.skuPartNumber).join(', ')} to ${change.user.userPrincipalName}`,
      licenses,
    });
    const shortId = `${change.id}#short`;
    out.push(part(rest, change.id), part(short, shortId));
    seatShortfall.delete(change.id);
    seatShortfall.set(shortId, shortSkus.get(short[0]?.skuId ?? '') ?? '');
  }
  // Rebuilt in one pass (a splice per split change is quadratic in the plan's size).
  changes.length = 0;
  for (const change of out) changes.push(change);
}

/** The mapping disables the account (or creates it disabled): it gets no access by rule. */
function isDisabled(user: DesiredUser): boolean {
  return user.attributes.accountEnabled !== true;
}

function memberKey(account: AccountRef): string {
  return account.id !== undefined
    ? `id:${account.id}`
    : `new:${account.userPrincipalName.toLowerCase()}`;
}

/**
 * Members a managed group loses: user accounts no rule puts there, except held people, leavers
 * still within `removeAccessAfterDays`, and protected or privileged accounts. Members that are
 * not users this read knows (nested groups, devices) are left.
 */
function removableMembers(
  existing: TenantGroup | undefined,
  desired: ReadonlyMap<string, AccountRef>,
  input: AccessInput,
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

/** Items in order of their lower-cased name, in chunks of one membership change each. */
function sortedChunks<T>(items: readonly T[], name: (item: T) => string): T[][] {
  const sorted = [...items].sort((a, b) =>
    compareText(name(a).toLowerCase(), name(b).toLowerCase()),
  );
  const out: T[][] = [];
  for (let i = 0; i < sorted.length; i += MEMBERS_PER_CHANGE) {
    out.push(sorted.slice(i, i + MEMBERS_PER_CHANGE));
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
): { readonly id: string; readonly members: readonly AccountRef[] }[] {
  return sortedChunks(members, (m) => m.userPrincipalName).map((chunk, i) => {
    const id = `${kind}:${group.uniqueName.toLowerCase()}#${i + 1}`;
    changes.push({
      id,
      kind,
      reason: 'group-rule',
      rule: desired.configPath,
      message: `${kind === 'addMembers' ? 'add' : 'remove'} ${chunk.length} member(s) ${kind === 'addMembers' ? 'to' : 'from'} ${group.displayName}`,
      group,
      members: chunk.map((m) => ({
        ...(m.id === undefined ? {} : { id: m.id }),
        userPrincipalName: m.userPrincipalName,
      })),
      provenance: kind === 'addMembers' ? desired.provenance : [],
      ...(requires.length > 0 ? { requires } : {}),
    });
    return { id, members: chunk };
  });
}

/**
 * Nested managed groups a group loses: members that are groups this config manages and that no
 * rule nests there any more. Users, unmanaged groups and other objects are never touched here.
 */
function nestedRemovals(
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
function tenantGroupRef(group: TenantGroup): GroupRef {
  return { id: group.id, uniqueName: group.uniqueName, displayName: group.displayName };
}

/**
 * Nested-group changes of 20 groups each, in uniqueName order: the same `addMembers` and
 * `removeMembers` kinds as users, the groups in `memberGroups`. An add waits for the parent's
 * create and for the creates of the new groups it nests.
 */
function pushNestedChanges(
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
      ...chunk
        .filter((c) => c.id === undefined)
        .map((c) => `createGroup:${c.uniqueName.toLowerCase()}`),
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

interface Nesting {
  /** Parent group (lower-case uniqueName) -> the managed groups it should contain. */
  readonly children: ReadonlyMap<string, ReadonlySet<string>>;
  /** Groups on a nesting cycle: their nested groups are left as they are (plan error). */
  readonly cyclic: ReadonlySet<string>;
}

/**
 * Which managed group contains which (`memberGroups`), by lower-case uniqueName. Static rules are
 * one group, `foreach` rules every group they make this run; a `foreach` parent with a `foreach`
 * child is paired through people (each person's parent group contains their child groups). A
 * group that has no members but nests groups is still made (a division of department groups);
 * a child group nobody makes is not nested. Cycles are plan errors.
 */
function nestGroups(
  spec: SyncSpec,
  ordered: readonly DesiredUser[],
  desiredGroups: Map<string, DesiredGroup>,
  addToGroup: (key: string, make: () => Omit<DesiredGroup, 'members' | 'provenance'>) => void,
  issues: PlanIssue[],
): Nesting {
  const prefix = spec.marker.groupPrefix;
  const lowerOf = (key: string) => `${prefix}${key}`.toLowerCase();
  type Described = { readonly rule: GroupSpec; readonly key: string; readonly name: string };
  const ruleIndex = new Map(spec.groups.map((g, i) => [g.key, i] as const));
  const nests = spec.groups.some((g) => (g.memberGroups ?? []).length > 0);
  const children = new Map<string, Set<string>>();
  if (!nests) return { children, cyclic: new Set() };

  // Every group each rule describes this run (members or not), and each person's.
  const described = new Map<string, Described>();
  const byRule = new Map<number, Map<string, Described>>();
  const note = (index: number, d: Described): string => {
    const lower = lowerOf(d.key);
    if (!described.has(lower)) described.set(lower, d);
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

  // Candidate edges, parent -> children.
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
        for (const mine of perPerson) {
          for (const pg of mine.get(p) ?? []) for (const cg of mine.get(c) ?? []) edge(pg, cg);
        }
        continue;
      }
      for (const pg of byRule.get(p)?.keys() ?? []) {
        for (const cg of byRule.get(c)?.keys() ?? []) edge(pg, cg);
      }
    }
  });

  // A group that only nests groups exists when one of its groups does (to a fixpoint: levels).
  for (let grew = true; grew;) {
    grew = false;
    for (const [parent, set] of children) {
      if (desiredGroups.has(parent) || ![...set].some((c) => desiredGroups.has(c))) continue;
      const d = described.get(parent);
      if (!d) continue;
      addToGroup(d.key, () => groupOf(d.rule, d.key, d.name));
      grew = true;
    }
  }
  for (const [parent, set] of children) {
    for (const c of set) if (!desiredGroups.has(c)) set.delete(c);
    if (set.size === 0 || !desiredGroups.has(parent)) children.delete(parent);
  }

  // Cycles (Tarjan's strongly connected components): a group cannot contain itself.
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
      source: spec.primarySource,
    });
  };
  for (const v of [...children.keys()].sort(compareText)) if (!index.has(v)) connect(v);
  return { children, cyclic };
}

function samePlans(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].map((p) => p.toLowerCase()).sort();
  const y = [...b].map((p) => p.toLowerCase()).sort();
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

interface ResolvedSkus {
  /** License rules whose SKU and plans resolved, by rule index. */
  readonly rules: ReadonlyMap<number, LicenseRef>;
  license(grant: LicenseGrant, configPath: string): LicenseRef | undefined;
  byId(skuId: string, disabledPlanIds: readonly string[]): LicenseRef;
  ruleOf(skuId: string): string | undefined;
}

/**
 * Part numbers and plan names to ids, from `subscribedSkus`. A SKU or plan the tenant does not
 * have is a plan error naming the rule; the rule then assigns and removes nothing.
 */
function resolveSkus(spec: SyncSpec, tenant: TenantState, issues: PlanIssue[]): ResolvedSkus {
  const all: readonly TenantSku[] = tenant.skus ?? [];
  const byPart = new Map(all.map((s) => [s.skuPartNumber.toUpperCase(), s]));
  const reported = new Set<string>();
  const license = (grant: LicenseGrant, configPath: string): LicenseRef | undefined => {
    const sku = byPart.get(grant.sku.toUpperCase());
    const problem = (message: string) => {
      if (reported.has(`${configPath}:${message}`)) return undefined;
      reported.add(`${configPath}:${message}`);
      issues.push({
        severity: 'error',
        code: 'license.unknown',
        message: `${configPath}: ${message}; the rule assigns and removes nothing until it is fixed`,
        source: spec.primarySource,
      });
      return undefined;
    };
    if (!sku) {
      return problem(
        `the tenant has no SKU ${grant.sku} (it has ${all.map((s) => s.skuPartNumber).join(', ') || 'none'})`,
      );
    }
    const ids: string[] = [];
    for (const name of grant.disabledPlans) {
      const plan = sku.servicePlans.find((p) => p.name.toUpperCase() === name.toUpperCase());
      if (!plan) {
        return problem(
          `${sku.skuPartNumber} has no service plan ${name} (it has ${sku.servicePlans.map((p) => p.name).join(', ')})`,
        );
      }
      ids.push(plan.id);
    }
    const names = [...grant.disabledPlans].sort(compareText);
    return {
      skuPartNumber: sku.skuPartNumber,
      skuId: sku.skuId,
      disabledPlans: names,
      disabledPlanIds: names.map(
        (n) => sku.servicePlans.find((p) => p.name.toUpperCase() === n.toUpperCase())?.id ?? n,
      ),
    };
  };
  const rules = new Map<number, LicenseRef>();
  const ruleBySku = new Map<string, string>();
  spec.licenses.forEach((rule, index) => {
    const resolved = license(rule, rule.configPath);
    if (!resolved) return;
    rules.set(index, resolved);
    ruleBySku.set(resolved.skuId, rule.configPath);
  });
  return {
    rules,
    license,
    byId(skuId, disabledPlanIds) {
      const sku = all.find((s) => s.skuId === skuId);
      const names = disabledPlanIds.map(
        (id) => sku?.servicePlans.find((p) => p.id === id)?.name ?? id,
      );
      return {
        skuPartNumber: sku?.skuPartNumber ?? skuId,
        skuId,
        disabledPlans: names,
        disabledPlanIds: [...disabledPlanIds],
      };
    },
    ruleOf: (skuId) => ruleBySku.get(skuId),
  };
}
