import type { Provenance } from './person.js';
import type { SourceIssue, SourceStatus } from './source.js';
import type { MatchRule, ThresholdAction } from './spec.js';
import type { AttributeValue, Attributes } from './tenant.js';
import type { WritebackSection } from './writeback.js';

/** Bumped when a saved plan's shape changes incompatibly; apply refuses other versions. */
export const PLAN_FORMAT_VERSION = 1 as const;

/**
 * Why a change is in the plan. Explains, never selects a code path in apply (style practice 6).
 * - new-person: in scope in the sources, no account matched.
 * - adopt: an existing unmanaged account matched a person and becomes managed.
 * - attribute-drift: a managed account's attributes differ from the mapping.
 * - source-status: the mapping says the account should be enabled or disabled.
 * - left-source: a managed account no person in any (healthy) source matches any more.
 * - left-scope: the person is still in the sources but the scope rule no longer holds.
 */
export type ChangeReason =
  | 'new-person'
  | 'adopt'
  | 'attribute-drift'
  | 'source-status'
  | 'left-source'
  | 'left-scope'
  | 'rehire'
  | 'group-rule'
  | 'license-rule'
  | 'manager'
  | 'grace-elapsed'
  | 'claim-legacy'
  | 'onboarding';

export interface UserRef {
  /** Graph object id; absent for a user this plan creates. */
  readonly id?: string;
  readonly userPrincipalName: string;
}

/** A group this config manages, found again by its `uniqueName` (prefix + rule key). */
export interface GroupRef {
  /** Graph object id; absent for a group this plan creates. */
  readonly id?: string;
  readonly uniqueName: string;
  readonly displayName: string;
}

/** A license by SKU: part numbers and plan names for people, GUIDs for Graph. */
export interface LicenseRef {
  readonly skuPartNumber: string;
  readonly skuId: string;
  /** Service plan names switched off, sorted. */
  readonly disabledPlans: readonly string[];
  /** The same plans by id, in the same order. */
  readonly disabledPlanIds: readonly string[];
}

export interface AttributeChange {
  readonly attribute: string;
  readonly before: AttributeValue;
  readonly after: AttributeValue;
}

interface ChangeBase {
  /** Stable within a plan and across re-plans of the same inputs, e.g. `createUser:jdoe@contoso.com`. */
  readonly id: string;
  readonly reason: ChangeReason;
  /** One line for humans. */
  readonly message: string;
  /** Source records behind the change (empty for deprovisioning: the person is gone). */
  readonly provenance: readonly Provenance[];
  /** Config path of the rule or mapping that produced the change, e.g. `groups[2]`. */
  readonly rule?: string;
  /**
   * Changes this one only makes sense after (a license for a user this plan creates): if any of
   * them is blocked, so is this one.
   */
  readonly requires?: readonly string[];
}

interface UserChangeBase extends ChangeBase {
  readonly user: UserRef;
}

export interface CreateUserChange extends UserChangeBase {
  readonly kind: 'createUser';
  /** Every attribute to set on create, marker and anchor included. Never a password. */
  readonly attributes: Attributes;
}

export interface UpdateUserChange extends UserChangeBase {
  readonly kind: 'updateUser' | 'adoptUser';
  readonly user: Required<UserRef>;
  readonly set: readonly AttributeChange[];
  /** For `adoptUser`: the rule that matched the existing account (soft matches need approval). */
  readonly matchedBy?: MatchRule;
  /**
   * The change rewrites the anchor the account already has (`set` holds the anchor attribute):
   * it moves an identity, a `reanchors` action that needs approval. Applied like any update.
   */
  readonly reanchor?: true;
}

export interface SetAccountEnabledChange extends UserChangeBase {
  readonly kind: 'enableUser' | 'disableUser';
  readonly user: Required<UserRef>;
  /**
   * Deprovisioning state attribute written in the same request: on a disable, the time of the
   * apply (when the grace periods start; not in the plan, so the plan stays the same until it
   * is applied); on an enable, cleared.
   */
  readonly stateAttribute?: string;
  /** With a disable: also revoke the user's sign-in sessions (refresh tokens, cookies). */
  readonly revokeSessions?: true;
}

/**
 * - deleteUser: to the recycle bin (`deletedItems`), restorable for 30 days.
 * - restoreUser: back from the recycle bin (`user.id` is the deleted object's id), for a person
 *   who returned within the grace period: the same account, not a new one.
 */
export interface UserLifecycleChange extends UserChangeBase {
  readonly kind: 'deleteUser' | 'restoreUser';
  readonly user: Required<UserRef>;
  /** restoreUser: the old UPN is another account's now; restore under this one (P15). */
  readonly newUserPrincipalName?: string;
  /** restoreUser: drop the old account's proxy addresses another account holds now. */
  readonly autoReconcileProxyConflict?: true;
}

/**
 * Revoke the sign-in sessions of an account that is disabled already: the revoke sent with its
 * disable did not take effect (`signInSessionsValidFromDateTime` is older than the disable date
 * recorded on the account), so it is sent again, plan after plan, until it does (A9).
 */
export interface RevokeSessionsChange extends UserChangeBase {
  readonly kind: 'revokeSessions';
  readonly user: Required<UserRef>;
}

/** The user's manager; the user or the manager may be created by this plan. */
export interface SetManagerChange extends UserChangeBase {
  readonly kind: 'setManager';
  readonly manager: UserRef;
}

/** Direct license assignments of one user (assignLicense), by the `licenses` rules. */
export interface UserLicensesChange extends UserChangeBase {
  readonly kind: 'assignLicenses' | 'removeLicenses';
  readonly licenses: readonly LicenseRef[];
}

/** Who receives a new hire's first credential, and how (`users.onboarding.delivery`). */
export interface OnboardingDelivery {
  /** `email`: sent through Graph `sendMail`; `webhook`: posted to the configured URL. */
  readonly channel: 'email' | 'webhook';
  /** Whose address `recipient` is: the manager's, a sponsor's or the person's own. */
  readonly to: 'manager' | 'sponsor' | 'personal';
  /** The address the credential (or, for a webhook, the notice) goes to. Never the credential. */
  readonly recipient: string;
}

/**
 * A new hire's first credential (issue 23), made after the account exists and has its manager:
 * a Temporary Access Pass or a fresh random password, delivered at once and kept nowhere. The
 * plan carries who gets it and when it is valid, never the credential itself. Re-running it
 * (a retry, a resumed run) makes a new credential: the old pass is deleted first.
 */
export interface OnboardUserChange extends UserChangeBase {
  readonly kind: 'onboardUser';
  readonly credential: 'tap' | 'password';
  readonly delivery: OnboardingDelivery;
  /** With `tap`: the pass's validity, as Graph takes it. */
  readonly tap?: {
    /** ISO 8601; absent: valid at once (when it is made). */
    readonly startDateTime?: string;
    /** `startAt` gave this time, which is not in the future: the pass is valid at once. */
    readonly startPassed?: string;
    readonly lifetimeInMinutes: number;
    readonly isUsableOnce: boolean;
  };
  /** Values the delivery template may name besides the credential (`{{manager}}`, `{{name}}`). */
  readonly placeholders: Readonly<Record<string, string>>;
  /**
   * Attribute (flattened path) that says the account still awaits its credential: set by the
   * create, cleared once the credential is delivered. While set, every plan onboards the
   * account again with a new credential (a failed delivery, a run that stopped in between).
   */
  readonly stateAttribute: string;
}

/** The value of `OnboardUserChange.stateAttribute` while an account awaits its credential. */
export const ONBOARDING_PENDING = 'entrasync:onboarding-pending';

interface GroupChangeBase extends ChangeBase {
  readonly group: GroupRef;
}

/** Graph group properties entrasync sets, by Graph name. */
export interface GroupProperties {
  readonly displayName: string;
  readonly description: string | null;
  readonly mailNickname: string;
  readonly mailEnabled: boolean;
  readonly securityEnabled: boolean;
  readonly groupTypes: readonly string[];
  /** A dynamic group's rule (`groupTypes` has `DynamicMembership`); absent: assigned membership. */
  readonly membershipRule?: string;
  /** With `membershipRule`: `On` or `Paused`. */
  readonly membershipRuleProcessingState?: string;
}

/** Creates the group by upsert on its `uniqueName` (safe to replay). */
export interface CreateGroupChange extends GroupChangeBase {
  readonly kind: 'createGroup';
  readonly properties: GroupProperties;
  /** Existing accounts set as owners with the create. */
  readonly owners: readonly Required<UserRef>[];
}

export interface UpdateGroupChange extends GroupChangeBase {
  readonly kind: 'updateGroup';
  readonly group: Required<GroupRef>;
  readonly set: readonly AttributeChange[];
}

/**
 * At most 20 members per change: one `members@odata.bind` PATCH, or 20 `$ref` deletes. Members
 * are user accounts (`members`) or, for nested groups, groups this config manages
 * (`memberGroups`; absent: none); a change carries one or the other.
 */
export interface GroupMembersChange extends GroupChangeBase {
  readonly kind: 'addMembers' | 'removeMembers';
  readonly members: readonly UserRef[];
  /** Managed groups added to or removed from the group (nested groups); absent: none. */
  readonly memberGroups?: readonly GroupRef[];
}

/**
 * Owners of an existing managed group kept to its rule's `owners` (one `$ref` POST or DELETE
 * per owner). Owners are added before any is removed (`removeOwners` requires the group's
 * `addOwners`), and a removal that would leave the group without a user owner is never planned:
 * Graph refuses to remove a group's last owner.
 */
export interface GroupOwnersChange extends GroupChangeBase {
  readonly kind: 'addOwners' | 'removeOwners';
  readonly group: Required<GroupRef>;
  readonly owners: readonly Required<UserRef>[];
}

/** Group-based licensing: the group's own license assignments. */
export interface GroupLicensesChange extends GroupChangeBase {
  readonly kind: 'assignGroupLicenses' | 'removeGroupLicenses';
  readonly licenses: readonly LicenseRef[];
}

export type UserChange =
  | CreateUserChange
  | UpdateUserChange
  | SetAccountEnabledChange
  | UserLifecycleChange
  | SetManagerChange
  | UserLicensesChange
  | RevokeSessionsChange
  | OnboardUserChange;
export type GroupChange =
  | CreateGroupChange
  | UpdateGroupChange
  | GroupMembersChange
  | GroupOwnersChange
  | GroupLicensesChange;
export type Change = UserChange | GroupChange;
export type ChangeKind = Change['kind'];

export const GROUP_CHANGE_KINDS: ReadonlySet<ChangeKind> = new Set([
  'createGroup',
  'updateGroup',
  'addMembers',
  'removeMembers',
  'addOwners',
  'removeOwners',
  'assignGroupLicenses',
  'removeGroupLicenses',
]);

/** The id of the change that creates the account `userPrincipalName` (what others `require`). */
export function createUserId(userPrincipalName: string): string {
  return `createUser:${userPrincipalName.toLowerCase()}`;
}

/** The id of the change that creates the managed group `uniqueName`. */
export function createGroupId(uniqueName: string): string {
  return `createGroup:${uniqueName.toLowerCase()}`;
}

export function isGroupChange(change: Change): change is GroupChange {
  return GROUP_CHANGE_KINDS.has(change.kind);
}

/**
 * The object a change acts on, for reports, journals and approvals: a user by UPN, or a group
 * by display name (its id when it has one).
 */
export function subjectOf(change: Change): UserRef {
  if (isGroupChange(change)) {
    return {
      ...(change.group.id === undefined ? {} : { id: change.group.id }),
      userPrincipalName: change.group.displayName,
    };
  }
  return change.user;
}

/** Kinds that take access away; the ones source health guards. */
export const DEPROVISIONING_KINDS: ReadonlySet<ChangeKind> = new Set([
  'disableUser',
  'deleteUser',
  'removeLicenses',
  'removeMembers',
  'removeGroupLicenses',
]);

/**
 * The threshold each change kind counts against; absent: not braked on its own (it follows a
 * change that is, such as a license for a user being created).
 */
export const THRESHOLD_ACTION_OF: Readonly<Record<ChangeKind, ThresholdAction | undefined>> = {
  createUser: 'creates',
  adoptUser: 'adoptions',
  updateUser: 'updates',
  enableUser: 'enables',
  restoreUser: 'enables',
  disableUser: 'disables',
  deleteUser: 'deletes',
  setManager: undefined,
  assignLicenses: undefined,
  removeLicenses: 'licenseRemovals',
  createGroup: undefined,
  updateGroup: undefined,
  addMembers: undefined,
  removeMembers: 'membershipRemovals',
  // Owners come from the config, not the sources: a config edit, reviewed like one.
  addOwners: undefined,
  removeOwners: undefined,
  assignGroupLicenses: undefined,
  removeGroupLicenses: 'licenseRemovals',
  // Follows a disable that was braked (and applied) already; takes nothing more away.
  revokeSessions: undefined,
  // Follows the create it requires (braked as `creates`).
  onboardUser: undefined,
};

/** Members a membership change names: accounts and nested groups. */
export function memberCount(change: GroupMembersChange): number {
  return change.members.length + (change.memberGroups?.length ?? 0);
}

/** How many of its threshold's units a change is: members removed, licenses removed, else 1. */
export function thresholdWeight(change: Change): number {
  // Re-marking a legacy account (P16 migration) and nothing else is entrasync's bookkeeping.
  if (change.kind === 'updateUser' && change.reason === 'claim-legacy' && change.set.length === 1)
    return 0;
  return change.kind === 'removeMembers' ? memberCount(change) : 1;
}

export interface BlockedChange {
  readonly change: Change;
  /** Stable code, e.g. `source-unhealthy`, `threshold`. */
  readonly code: string;
  readonly message: string;
  /** With `requires-blocked`: the held changes this one waits for (their ids). */
  readonly waitsFor?: readonly string[];
}

export interface PlanWarning {
  readonly code: string;
  readonly message: string;
  readonly subject?: string;
}

export interface SourceSummary {
  readonly name: string;
  readonly kind: string;
  readonly status: SourceStatus;
  readonly records: number;
  readonly errors: number;
  readonly warnings: number;
}

/** A problem with one record or one person, from reading, joining, mapping or matching. */
export interface PlanIssue extends SourceIssue {
  readonly source: string;
}

/** Tenant accounts the plan deliberately leaves alone, and why (P1, P5). */
/** Seats of one SKU: what the tenant has and what the plan needs (licenses rules). */
export interface LicenseSeats {
  readonly skuPartNumber: string;
  readonly skuId: string;
  /** Prepaid enabled + warning units. */
  readonly seats: number;
  readonly consumed: number;
  /** Users this plan gives the SKU (directly or through a group) who do not hold it now. */
  readonly adding: number;
  /** Users this plan takes it from. */
  readonly removing: number;
  /** Seats missing for the plan's assignments: max(0, consumed + adding - removing - seats). */
  readonly shortfall: number;
}

/** A person update-only mode (`users.create: false`) gives no account: they have none. */
export interface NotProvisioned {
  readonly personKey: string;
  readonly userPrincipalName: string;
}

export interface IgnoredUser {
  readonly user: Required<UserRef>;
  readonly reason:
    | 'unmanaged'
    | 'synced-from-on-premises'
    | 'guest'
    | 'protected'
    | 'privileged'
    | 'other-config'
    | 'legacy-marker';
  /** With `other-config` and `legacy-marker`: the marker value the account carries. */
  readonly marker?: string;
}

/**
 * The protect entries in effect before this config change (P2): the `safety.protect` of the
 * config as it was at a git ref (`--baseline`), in a file (`--baseline-config`), or as the daemon
 * last applied it. Plain data; the entries match accounts exactly as `safety.protect` does.
 */
export interface ProtectBaseline {
  /** `safety.protect` entries of the baseline config (userPrincipalName or object id). */
  readonly protect: readonly string[];
  /** Where the baseline was read, for people (`git origin/main:entrasync.yaml`); not hashed. */
  readonly from?: string;
}

/**
 * The protect-lift check (P2): an account on the baseline's protect list that is not on the
 * current one had its protection lifted in this change, and no change to it may be applied in
 * the same plan. `ran: false`: no baseline was given, so the check did not run.
 */
export type ProtectLiftCheck =
  | { readonly ran: false }
  | {
      readonly ran: true;
      /** The baseline, entries lower case, sorted and unique (as the fingerprint hashes them). */
      readonly baseline: ProtectBaseline;
      /** Accounts whose protection this change lifts, sorted by userPrincipalName. */
      readonly lifted: readonly Required<UserRef>[];
    };

export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  /** Hash of configDigest, tenantDigest and the changes: what an override or approval binds to. */
  readonly fingerprint: string;
  readonly configDigest: string;
  /** Hash of the tenant read the plan was made from; apply refuses if the live tenant differs. */
  readonly tenantDigest: string;
  readonly sources: readonly SourceSummary[];
  readonly changes: readonly Change[];
  /** Held changes (issue 20): blocked by a check, or following one that is; never applied. */
  readonly blocked: readonly BlockedChange[];
  /**
   * The fingerprint of what the plan holds before any approval (heldFingerprint): an approval
   * (`plans: [...]`) or `--allow-* --plan` bound to it releases the held part, in this plan or
   * in the plans made after the rest was applied. Absent: nothing to hold.
   */
  readonly releaseFingerprint?: string;
  /** `safety.onBlocked: hold-plan`: a plan with anything held is applied not at all. */
  readonly onBlocked?: 'hold-plan';
  readonly warnings: readonly PlanWarning[];
  readonly issues: readonly PlanIssue[];
  readonly ignored: readonly IgnoredUser[];
  /** `users.create: false`: people without an account, who get none (absent: none such). */
  readonly notProvisioned?: readonly NotProvisioned[];
  readonly managedUsers: number;
  /** Seat check per SKU the plan assigns or removes (absent without `licenses` rules). */
  readonly licenses?: readonly LicenseSeats[];
  /** Threshold overrides this plan was made with, bound to its fingerprint (A5). */
  readonly overrides?: Readonly<Partial<Record<ThresholdAction, number>>>;
  /**
   * The protect-lift check (P2); its baseline is part of the fingerprint. Absent in plans made
   * before the check existed: read as `{ ran: false }`.
   */
  readonly protectLift?: ProtectLiftCheck;
  /**
   * Write-backs to the sources (issue 26), applied after the Graph changes by the sources'
   * connectors; absent when the config has no `writeback` section.
   */
  readonly writebacks?: WritebackSection;
}

/**
 * `--allow-disables 16000 --plan <fingerprint>`: lifts one action's threshold for the one plan
 * whose fingerprint is given, up to that many changes. The next plan is braked again.
 */
export interface ThresholdOverrides {
  readonly fingerprint: string;
  readonly allow: Readonly<Partial<Record<ThresholdAction, number>>>;
}

export function hasFailedSource(plan: Plan): boolean {
  return plan.sources.some((s) => s.status === 'failed');
}

export function isEmptyPlan(plan: Plan): boolean {
  return (
    plan.changes.length === 0 &&
    plan.blocked.length === 0 &&
    (plan.writebacks?.changes.length ?? 0) === 0 &&
    (plan.writebacks?.blocked.length ?? 0) === 0
  );
}
