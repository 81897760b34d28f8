import type { Provenance } from './person.js';
import type { SourceIssue, SourceStatus } from './source.js';
import type { MatchRule, ThresholdAction } from './spec.js';
import type { AttributeValue, Attributes } from './tenant.js';

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
  'new-person' | 'adopt' | 'attribute-drift' | 'source-status' | 'left-source' | 'left-scope';

export interface UserRef {
  /** Graph object id; absent for a user this plan creates. */
  readonly id?: string;
  readonly userPrincipalName: string;
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
  readonly user: UserRef;
  /** Source records behind the change (empty for deprovisioning: the person is gone). */
  readonly provenance: readonly Provenance[];
}

export interface CreateUserChange extends ChangeBase {
  readonly kind: 'createUser';
  /** Every attribute to set on create, marker and anchor included. Never a password. */
  readonly attributes: Attributes;
}

export interface UpdateUserChange extends ChangeBase {
  readonly kind: 'updateUser' | 'adoptUser';
  readonly user: Required<UserRef>;
  readonly set: readonly AttributeChange[];
  /** For `adoptUser`: the rule that matched the existing account (soft matches need approval). */
  readonly matchedBy?: MatchRule;
}

export interface SetAccountEnabledChange extends ChangeBase {
  readonly kind: 'enableUser' | 'disableUser';
  readonly user: Required<UserRef>;
}

export type Change = CreateUserChange | UpdateUserChange | SetAccountEnabledChange;
export type ChangeKind = Change['kind'];

/** Kinds that take access away; the ones source health and thresholds guard. */
export const DEPROVISIONING_KINDS: ReadonlySet<ChangeKind> = new Set(['disableUser']);

/** The threshold each change kind counts against. */
export const THRESHOLD_ACTION_OF: Readonly<Record<ChangeKind, ThresholdAction>> = {
  createUser: 'creates',
  adoptUser: 'adoptions',
  updateUser: 'updates',
  enableUser: 'enables',
  disableUser: 'disables',
};

export interface BlockedChange {
  readonly change: Change;
  /** Stable code, e.g. `source-unhealthy`, `threshold`. */
  readonly code: string;
  readonly message: string;
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
export interface IgnoredUser {
  readonly user: Required<UserRef>;
  readonly reason: 'unmanaged' | 'synced-from-on-premises' | 'guest' | 'protected' | 'privileged';
}

export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  /** Hash of configDigest, tenantDigest and the changes: what an override or approval binds to. */
  readonly fingerprint: string;
  readonly configDigest: string;
  /** Hash of the tenant read the plan was made from; apply refuses if the live tenant differs. */
  readonly tenantDigest: string;
  readonly sources: readonly SourceSummary[];
  readonly changes: readonly Change[];
  readonly blocked: readonly BlockedChange[];
  readonly warnings: readonly PlanWarning[];
  readonly issues: readonly PlanIssue[];
  readonly ignored: readonly IgnoredUser[];
  readonly managedUsers: number;
  /** Threshold overrides this plan was made with, bound to its fingerprint (A5). */
  readonly overrides?: Readonly<Partial<Record<ThresholdAction, number>>>;
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
  return plan.changes.length === 0 && plan.blocked.length === 0;
}
