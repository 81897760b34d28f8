/**
 * What the access stages (groups.ts, nesting.ts, licenses.ts, managers.ts) share: the input
 * they all read, the desired groups they build up, the sink their findings go to, and the few
 * helpers more than one of them needs. Plain data; composed by access.ts.
 */
import { groupSlug } from '../expr/normalize.js';
import type { DesiredMembership, DesiredUser } from '../model/desired.js';
import type { Provenance } from '../model/person.js';
import type { Change, GroupRef, PlanIssue, PlanWarning, UserRef } from '../model/plan.js';
import type { GroupSpec, LicenseGrant, SyncSpec } from '../model/spec.js';
import type { TenantGroup, TenantState, TenantUser } from '../model/tenant.js';
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

/**
 * The input with the indexes every stage looks accounts up in. The user indexes are built on
 * first use (a plan may never need them at 100,000 users).
 */
export interface AccessContext extends AccessInput {
  /** The desired users in person-key order: the order every stage visits them in. */
  readonly ordered: readonly DesiredUser[];
  readonly usersById: () => ReadonlyMap<string, TenantUser>;
  readonly usersByUpn: () => ReadonlyMap<string, TenantUser>;
  /** A tenant account by id, the recycle bin included (a restore reads its licenses, manager). */
  readonly accountById: (id: string) => TenantUser | undefined;
}

export function accessContext(input: AccessInput): AccessContext {
  const { tenant } = input;
  const usersById = lazy(() => new Map(tenant.users.map((u) => [u.id, u])));
  const usersByUpn = lazy(
    () => new Map(tenant.users.map((u) => [u.userPrincipalName.toLowerCase(), u])),
  );
  const deletedById = new Map((tenant.deletedUsers ?? []).map((u) => [u.id, u]));
  return {
    ...input,
    ordered: [...input.users].sort((a, b) => compareText(a.personKey, b.personKey)),
    usersById,
    usersByUpn,
    accountById: (id) => usersById().get(id) ?? deletedById.get(id),
  };
}

/** Where the stages put what they find; access.ts returns it with the seat check's results. */
export interface Findings {
  readonly changes: Change[];
  readonly warnings: PlanWarning[];
  readonly issues: PlanIssue[];
}

export function newFindings(): Findings {
  return { changes: [], warnings: [], issues: [] };
}

/** A group the rules ask for, keyed by lower-case uniqueName in DesiredGroups. */
export interface DesiredGroup {
  readonly uniqueName: string;
  displayName: string;
  readonly description: string | null;
  readonly type: GroupSpec['type'];
  readonly owners: readonly string[];
  readonly licenses: readonly LicenseGrant[];
  readonly configPath: string;
  /** A dynamic group's rule (Entra computes the members); absent: assigned membership. */
  readonly membershipRule?: string;
  readonly membershipRuleProcessingState?: 'On' | 'Paused';
  /** By memberKey. */
  readonly members: Map<string, AccountRef>;
  readonly provenance: Provenance[];
}

/** A desired group as a rule describes it, before members are added. */
export type GroupTemplate = Omit<DesiredGroup, 'members' | 'provenance'>;

/**
 * Adds the group `prefix + key` (made by `make` when it is new) and, with a user, puts their
 * account in it (see groups.ts, desiredGroupSet).
 */
export type AddToGroup = (key: string, make: () => GroupTemplate, user?: DesiredUser) => void;

/** The key of a person's group of a rule: the rule's key, with the `foreach` value's slug. */
export function groupKeyOf(rule: GroupSpec, membership: DesiredMembership): string {
  return membership.value === undefined ? rule.key : `${rule.key}-${groupSlug(membership.value)}`;
}

/** A group a rule describes; its uniqueName is completed with the prefix by the caller. */
export function groupOf(rule: GroupSpec, key: string, displayName: string): GroupTemplate {
  return {
    uniqueName: key,
    displayName,
    description: rule.description ?? null,
    type: rule.type,
    owners: rule.owners,
    licenses: rule.licenses,
    configPath: rule.configPath,
    ...(rule.membershipRule === undefined
      ? {}
      : {
          membershipRule: rule.membershipRule,
          membershipRuleProcessingState: rule.membershipRuleProcessingState ?? 'On',
        }),
  };
}

/** The mapping disables the account (or creates it disabled): it gets no access by rule (P11). */
export function isDisabled(user: DesiredUser): boolean {
  return user.attributes.accountEnabled !== true;
}

/** One key per account, new or existing: group members and seats are counted by it. */
export function memberKey(account: AccountRef): string {
  return account.id !== undefined
    ? `id:${account.id}`
    : `new:${account.userPrincipalName.toLowerCase()}`;
}

/** An account as a change names it: its id when it has one, and its UPN. */
export function userRefOf(account: AccountRef): UserRef {
  return {
    ...(account.id === undefined ? {} : { id: account.id }),
    userPrincipalName: account.userPrincipalName,
  };
}

/** Items in order of their lower-cased name, in chunks of one membership change each. */
export function sortedChunks<T>(items: readonly T[], name: (item: T) => string): T[][] {
  const sorted = [...items].sort((a, b) =>
    compareText(name(a).toLowerCase(), name(b).toLowerCase()),
  );
  const out: T[][] = [];
  for (let i = 0; i < sorted.length; i += MEMBERS_PER_CHANGE) {
    out.push(sorted.slice(i, i + MEMBERS_PER_CHANGE));
  }
  return out;
}

/** The groups the rules ask for and the tenant's managed groups, by lower-case uniqueName. */
export interface GroupsView {
  readonly desired: ReadonlyMap<string, DesiredGroup>;
  readonly tenant: ReadonlyMap<string, TenantGroup>;
  readonly tenantById: ReadonlyMap<string, TenantGroup>;
}

export function groupsView(
  desired: ReadonlyMap<string, DesiredGroup>,
  tenant: TenantState,
): GroupsView {
  const groups = tenant.groups ?? [];
  return {
    desired,
    tenant: new Map(groups.map((g) => [g.uniqueName.toLowerCase(), g] as const)),
    tenantById: new Map(groups.map((g) => [g.id, g] as const)),
  };
}

/** A desired group as changes name it: the tenant's id and uniqueName when it exists. */
export function refOf(desired: DesiredGroup, existing: TenantGroup | undefined): GroupRef {
  return {
    ...(existing ? { id: existing.id } : {}),
    uniqueName: existing?.uniqueName ?? desired.uniqueName,
    displayName: desired.displayName,
  };
}

/** One desired group as each stage's per-group step sees it. */
export interface GroupAt {
  /** Lower-case uniqueName. */
  readonly lower: string;
  readonly desired: DesiredGroup;
  readonly existing: TenantGroup | undefined;
  readonly ref: GroupRef;
  /** What a change to the group waits for: its create, when it is new. */
  readonly requires: readonly string[];
}
