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

export interface DesiredState {
  readonly users: readonly DesiredUser[];
  /**
   * People whose fate is unknown this run (a mapping failed, a duplicate key, a record from an
   * unhealthy source): their accounts are neither created nor deprovisioned.
   */
  readonly heldAnchors: readonly string[];
  readonly heldPersonKeys: readonly string[];
}
