import type { Expression } from '../expr/jsonata.js';

/**
 * What the engine needs from configuration, already validated and compiled. `config/` builds it
 * from YAML; tests build it from literals. The engine never sees YAML or secrets.
 */
export interface SyncSpec {
  /** Hash of the configuration's effective content (secrets excluded). */
  readonly configDigest: string;
  /** Source whose records define who exists (`join.primary`). */
  readonly primarySource: string;
  readonly marker: MarkerSpec;
  readonly users: UsersSpec;
}

/**
 * Where entrasync records that it manages an account. Read in the same list read as every other
 * attribute, so proving ownership costs no extra request per user.
 */
export interface MarkerSpec {
  /** Flattened Graph attribute path, e.g. `onPremisesExtensionAttributes.extensionAttribute15`. */
  readonly attribute: string;
  /** Value that means "managed by this config". */
  readonly value: string;
}

export type MatchRule = 'anchor' | 'userPrincipalName' | 'mail';

export interface UsersSpec {
  /** Who should have an account; absent means every record of the primary source. */
  readonly scope?: Expression;
  /** Stable hard-match key for the person, written to `anchorAttribute`. */
  readonly anchor: Expression;
  /** Flattened Graph attribute path holding the anchor, e.g. `employeeId`. */
  readonly anchorAttribute: string;
  /** How existing accounts are found, in order. */
  readonly match: readonly MatchRule[];
  /** Graph attribute path -> expression. Has userPrincipalName and displayName. */
  readonly attributes: Readonly<Record<string, Expression>>;
  readonly deprovision: DeprovisionSpec;
}

export interface DeprovisionSpec {
  /** What happens to a managed account whose person left the sources or the scope. */
  readonly action: 'disable' | 'none';
}
