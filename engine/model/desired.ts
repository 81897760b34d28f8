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
