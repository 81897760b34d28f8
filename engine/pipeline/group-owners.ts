/**
 * Owners of existing managed groups, kept to the rule's `owners` (issue 26). A rule without
 * owners leaves a group's owners alone; a rule with owners makes them exactly the group's user
 * owners: the missing ones are added, the others removed. Owners that are not users (service
 * principals) are never read as owners here and never removed; nor are protected or privileged
 * accounts (`safety.protect`, admins) removed as owners.
 *
 * Never a group without an owner: Graph refuses to remove a group's last user owner ("The group
 * must have at least one owner"), and a group whose owners all left would have nobody to run
 * it. So the additions come first and every removal requires them (held with them, skipped by
 * apply when they failed), and when none of the rule's owners has an account, nothing is
 * removed (`group.no-owner`). A group whose owners were not read (a delta read does not track
 * owners) gets no owner change.
 */
import type { Change, GroupRef, UserRef } from '../model/plan.js';
import type { TenantGroup, TenantUser } from '../model/tenant.js';
import type { DesiredGroup, Findings } from './access-model.js';
import { compareText } from './compare.js';
import type { Ownership } from './ownership.js';

type Owner = Required<UserRef>;

const KEPT: ReadonlySet<Ownership> = new Set(['protected', 'privileged']);

/** The owner changes of one existing managed group (none for a group this plan creates). */
export function ownerChanges(
  out: Findings,
  group: {
    readonly desired: DesiredGroup;
    readonly existing: TenantGroup | undefined;
    readonly ref: GroupRef;
  },
  usersByUpn: () => ReadonlyMap<string, TenantUser>,
  usersById: () => ReadonlyMap<string, TenantUser>,
  ownership: ReadonlyMap<string, Ownership> = new Map(),
): void {
  const { desired, existing, ref } = group;
  if (!existing || ref.id === undefined || desired.owners.length === 0) return;
  if (existing.ownerIds === undefined) return;
  const wanted = new Map<string, Owner>();
  for (const upn of desired.owners) {
    const owner = usersByUpn().get(upn.toLowerCase());
    if (owner) wanted.set(owner.id, { id: owner.id, userPrincipalName: owner.userPrincipalName });
    else {
      out.warnings.push({
        code: 'group.unknown-owner',
        message: `${desired.configPath}: owner ${upn} has no account in the tenant; not added to group ${existing.displayName}`,
        subject: desired.uniqueName,
      });
    }
  }
  const current = new Set(existing.ownerIds);
  const adds = [...wanted.values()].filter((o) => !current.has(o.id));
  // Protected and privileged accounts keep their ownership (P2, P3), as they keep memberships.
  const removes = existing.ownerIds
    .filter((id) => !wanted.has(id) && !KEPT.has(ownership.get(id) ?? 'managed'))
    .map((id): Owner => ({ id, userPrincipalName: usersById().get(id)?.userPrincipalName ?? id }));
  const target = { id: ref.id, uniqueName: ref.uniqueName, displayName: ref.displayName };
  const base = {
    reason: 'group-rule' as const,
    rule: desired.configPath,
    group: target,
    provenance: [],
  };
  const addId = `addOwners:${ref.uniqueName.toLowerCase()}`;
  const changes: Change[] = [];
  if (adds.length > 0) {
    changes.push({
      ...base,
      id: addId,
      kind: 'addOwners',
      message: `add ${adds.length} owner(s) to ${ref.displayName}`,
      owners: sorted(adds),
    });
  }
  if (removes.length > 0 && wanted.size === 0) {
    out.warnings.push({
      code: 'group.no-owner',
      message: `${desired.configPath}: none of the owners of group ${existing.displayName} has an account in the tenant; its ${removes.length} other owner(s) are kept so the group is never left without one`,
      subject: desired.uniqueName,
    });
  } else if (removes.length > 0) {
    changes.push({
      ...base,
      id: `removeOwners:${ref.uniqueName.toLowerCase()}`,
      kind: 'removeOwners',
      message: `remove ${removes.length} owner(s) from ${ref.displayName}`,
      owners: sorted(removes),
      ...(adds.length > 0 ? { requires: [addId] } : {}),
    });
  }
  out.changes.push(...changes);
}

function sorted(owners: readonly Owner[]): Owner[] {
  return [...owners].sort((a, b) =>
    compareText(a.userPrincipalName.toLowerCase(), b.userPrincipalName.toLowerCase()),
  );
}
