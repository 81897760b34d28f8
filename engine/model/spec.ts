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
  /** How records of the other sources attach to a primary record (`join.link`). */
  readonly links: readonly LinkSpec[];
  readonly marker: MarkerSpec;
  readonly users: UsersSpec;
  readonly safety: SafetySpec;
  /**
   * Approvals reviewed in git (`approvals.yaml` beside the config). Not part of `configDigest`:
   * approving a plan must not change the plan's fingerprint.
   */
  readonly approvals: Approvals;
}

/**
 * A whole plan approved by fingerprint (at least its first 12 characters), or one action on one
 * account (by UPN, object id or person key such as `hr:1001`).
 */
export interface Approvals {
  readonly plans: readonly string[];
  readonly changes: readonly { readonly action: ApprovalAction; readonly subject: string }[];
}

export const NO_APPROVALS: Approvals = { plans: [], changes: [] };

/**
 * A record of `source` belongs to the person whose primary record gives `equals` the value its
 * own `key` gives: `ad: { key: employeeID, equals: employee_id }`.
 */
export interface LinkSpec {
  readonly source: string;
  /** Evaluated on the linked source's record. */
  readonly key: Expression;
  /** Evaluated on the primary record (with every source bound as `$name`). */
  readonly equals: Expression;
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
  /** Attributes written when an account is created and never compared again (kept as users edit them). */
  readonly createOnly: readonly string[];
}

export interface DeprovisionSpec {
  /** What happens to a managed account whose person left the sources or the scope. */
  readonly action: 'disable' | 'none';
}

/** Plan-level brakes (issue 9). Each action has its own threshold. */
export type ThresholdAction = 'creates' | 'adoptions' | 'updates' | 'enables' | 'disables';

/**
 * A brake that holds when a plan has more than `count` changes of one action AND they are more
 * than `percent` % of the accounts this config manages. The count keeps the percentage from
 * firing in a small tenant (2 of 20 is 10 %); the percentage keeps the count from firing on
 * ordinary churn in a large one.
 */
export interface Threshold {
  readonly count: number;
  readonly percent: number;
}

export interface SafetySpec {
  readonly thresholds: Readonly<Record<ThresholdAction, Threshold>>;
  /**
   * A source that holds fewer records than this ratio of the managed population has shrunk:
   * it cannot prove who left, so it blocks deprovisioning like an incomplete source (S1, S8).
   */
  readonly minSourceRatio: number;
  /** UPNs (lower case) and object ids entrasync must never write, whatever the sources say (P2). */
  readonly protect: readonly string[];
  /**
   * Privileged accounts (a directory role, a role-assignable group) this config may manage
   * anyway, by UPN (lower case) or object id. Every other privileged account is read-only (P3).
   */
  readonly allowPrivileged: readonly string[];
  /** Actions whose changes each need an approval (`approvals.yaml`) before they are applied. */
  readonly requireApproval: readonly ApprovalAction[];
}

/** What an approval can approve: a threshold action, or adopting an existing account. */
export type ApprovalAction = ThresholdAction;

export const DEFAULT_THRESHOLDS: Readonly<Record<ThresholdAction, Threshold>> = {
  creates: { count: 100, percent: 50 },
  adoptions: { count: 25, percent: 10 },
  updates: { count: 50, percent: 30 },
  enables: { count: 25, percent: 10 },
  disables: { count: 10, percent: 5 },
};

export const DEFAULT_MIN_SOURCE_RATIO = 0.9;

export const DEFAULT_SAFETY: SafetySpec = {
  thresholds: DEFAULT_THRESHOLDS,
  minSourceRatio: DEFAULT_MIN_SOURCE_RATIO,
  protect: [],
  allowPrivileged: [],
  requireApproval: [],
};
