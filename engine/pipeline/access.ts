/**
 * Access: what people get besides an account — managed groups and their members (groups.ts),
 * nested groups (nesting.ts), licenses, direct or group-based, with the seat check
 * (licenses.ts), and managers (managers.ts). Pure: desired users (with the groups, license rules
 * and manager key mapping gave them), the accounts the user diff settled on, and the tenant's
 * groups, SKUs and assignments -> changes.
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
import type { Change, LicenseSeats, PlanIssue, PlanWarning } from '../model/plan.js';
import type { AccessContext, AccessInput, Findings, GroupsView } from './access-model.js';
import { accessContext, groupsView, newFindings, refOf } from './access-model.js';
import { compareText } from './compare.js';
import {
  dynamicMembers,
  desiredGroupSet,
  groupChanges,
  memberChanges,
  orphanGroupChanges,
  roleAssignableGroup,
  ruleGroups,
} from './groups.js';
import type { ResolvedSkus, SeatLedger } from './licenses.js';
import {
  directLicenseChanges,
  groupLicenseChanges,
  licenseGroups,
  noteGroupSeats,
  resolveSkus,
  seatCheck,
  seatLedger,
  unresolvedLicenseRules,
} from './licenses.js';
import { existingGroupLicenseChanges } from './existing-group-licenses.js';
import { ownerChanges } from './group-owners.js';
import { managerChanges } from './managers.js';
import type { Nesting } from './nesting.js';
import { nestedChanges, nestGroups, roleAssignableNesting } from './nesting.js';
import { createGroupId } from '../model/plan.js';

export type { AccessInput, AccountRef } from './access-model.js';
export { MEMBERS_PER_CHANGE } from './access-model.js';

export interface AccessResult {
  readonly changes: readonly Change[];
  readonly warnings: readonly PlanWarning[];
  readonly issues: readonly PlanIssue[];
  readonly seats: readonly LicenseSeats[];
  /** Assignments the tenant has no seats for, by change id, with the reason (G9). */
  readonly seatShortfall: ReadonlyMap<string, string>;
}

/** groups -> nesting -> licenses (with the seat check) -> managers. */
export function accessChanges(input: AccessInput): AccessResult {
  const context = accessContext(input);
  const { spec, tenant, ordered } = context;
  const out = newFindings();
  const skus = resolveSkus(spec, tenant, out.issues);

  const desired = desiredGroupSet(spec.marker.groupPrefix, context.accounts);
  ruleGroups(spec, ordered, desired.add);
  const nesting = nestGroups(spec, ordered, desired.groups, desired.add, out.issues);
  const unresolved = unresolvedLicenseRules(spec, tenant, skus);
  licenseGroups(spec, skus, ordered, desired.add);

  const groups = groupsView(desired.groups, tenant);
  const ledger = seatLedger(context.accountById);
  desiredGroupChanges(out, context, { groups, nesting, skus, ledger });
  orphanGroupChanges(out, groups, unresolved.groups, context, context.usersById());
  directLicenseChanges(out, context, skus, unresolved.skuIds, ledger);
  existingGroupLicenseChanges(out, context, skus, ledger);
  const seats = seatCheck(out.changes, ledger, tenant.skus ?? [], skus);
  managerChanges(out, context);
  return { ...out, ...seats };
}

/**
 * Each desired group in uniqueName order, through every stage that touches it: its create or
 * update, its licenses, its user members, its nested groups, and the seats all of them take.
 * A role-assignable group is left alone.
 */
function desiredGroupChanges(
  out: Findings,
  context: AccessContext,
  stages: {
    readonly groups: GroupsView;
    readonly nesting: Nesting;
    readonly skus: ResolvedSkus;
    readonly ledger: SeatLedger;
  },
): void {
  const { groups, nesting, skus, ledger } = stages;
  const source = context.spec.primarySource;
  for (const [lower, desired] of [...groups.desired].sort(([a], [b]) => compareText(a, b))) {
    const existing = groups.tenant.get(lower);
    if (existing?.isAssignableToRole) {
      roleAssignableNesting(out, nesting, groups, { lower, desired, existing }, source);
      roleAssignableGroup(out, existing);
      continue;
    }
    const ref = refOf(desired, existing);
    const requires = existing ? [] : [createGroupId(lower)];
    const group = { lower, desired, existing, ref, requires };
    groupChanges(out, group, context.usersByUpn);
    ownerChanges(out, group, context.usersByUpn, context.usersById, context.ownership);
    if (dynamicMembers(out, group)) continue;
    const licenses = groupLicenseChanges(out, group, skus);
    const members = memberChanges(out, group, context, context.usersById());
    nestedChanges(out, nesting, groups, group, { source, heldPeople: context.heldPeople ?? 0 });
    noteGroupSeats(ledger, group, licenses, members, context.usersById());
  }
}
