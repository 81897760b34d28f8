/**
 * Attribute values as Graph returns them after flattening: nested complex properties are
 * addressed by dotted path (`onPremisesExtensionAttributes.extensionAttribute15`).
 */
export type AttributeValue = string | number | boolean | null | readonly string[];
export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface TenantUser {
  /** Graph object id. Opaque to the engine except as a target reference. */
  readonly id: string;
  readonly userPrincipalName: string;
  /**
   * Every attribute the reader selected, by flattened Graph path, including `accountEnabled`,
   * `userType`, `onPremisesSyncEnabled`, the anchor attribute and the marker attribute.
   */
  readonly attributes: Attributes;
}

export interface TenantState {
  readonly users: readonly TenantUser[];
  /**
   * Accounts holding power in the tenant: an active or PIM-eligible directory role, or
   * membership/ownership of a role-assignable group. Never adopted, changed or deprovisioned
   * without an explicit config rule (P3). Absent means the reader could not tell, which the
   * engine treats as "unknown", never as "nobody".
   */
  readonly privileged?: readonly PrivilegedAccount[];
}

export interface PrivilegedAccount {
  readonly userId: string;
  /** e.g. `active role Global Administrator`, `eligible role User Administrator`. */
  readonly reason: string;
}

/** What the engine asks the tenant reader for. */
export interface TenantReadRequest {
  /** Flattened Graph attribute paths to select, beyond the reader's own minimum. */
  readonly userAttributes: readonly string[];
}
