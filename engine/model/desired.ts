import type { Provenance } from './person.js';
import type { Attributes } from './tenant.js';

export interface DesiredUser {
  /** Person key (`hr:1001`). */
  readonly personKey: string;
  /** Hard-match key written to the anchor attribute; stable across renames. */
  readonly anchor: string;
  /** Desired Graph attributes by flattened path; always has userPrincipalName, displayName, accountEnabled. */
  readonly attributes: Attributes;
  readonly provenance: readonly Provenance[];
  /** Groups the rules put the person in (absent: no group rules). */
  readonly groups?: readonly DesiredMembership[];
  /** Indices of the `licenses` rules that hold for the person. */
  readonly licenseRules?: readonly number[];
  /** The manager's key in the primary source (`users.manager`), when it gives one. */
  readonly managerKey?: string;
  /**
   * `users.onboarding` as evaluated for the person (absent without onboarding): when the first
   * credential becomes valid and, for `to: sponsor | personal`, the address it goes to. A field
   * is absent when its expression gave nothing.
   */
  readonly onboarding?: { readonly startAt?: string; readonly address?: string };
}

/** One group a person belongs in: a rule of `groups`, and with `foreach` the value. */
export interface DesiredMembership {
  /** Index of the rule in `spec.groups`. */
  readonly rule: number;
  /** The `foreach` value (trimmed text); absent for a static group. */
  readonly value?: string;
  /** The group's display name as the rule gives it for this person. */
  readonly name: string;
  /**
   * The rule's `members` does not hold for the person, but the rule nests groups (`memberGroups`)
   * by people's values: the value only says which groups nest in which, it is no membership.
   */
  readonly nestingOnly?: true;
}

/** A person the sources know but the scope rule excludes: their account is deprovisioned. */
export interface OutOfScopePerson {
  readonly personKey: string;
  readonly anchor: string;
  readonly provenance: readonly Provenance[];
}

export interface DesiredState {
  readonly users: readonly DesiredUser[];
  readonly outOfScope: readonly OutOfScopePerson[];
  /**
   * Anchors of people whose fate is unknown this run (a mapping failed, a duplicate key): their
   * accounts are neither created, changed nor deprovisioned.
   */
  readonly heldAnchors: readonly string[];
  /**
   * People held without a known anchor. Their account cannot be told apart from a leaver's, so
   * while any exist no account may be deprovisioned.
   */
  readonly heldWithoutAnchor: readonly string[];
}
