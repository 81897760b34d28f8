import type { Expression } from '../expr/jsonata.js';
import type { WritebackSpec } from './writeback.js';

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
  /** Groups this config manages, in config order. */
  readonly groups: readonly GroupSpec[];
  /** License rules, in config order. */
  readonly licenses: readonly LicenseSpec[];
  /**
   * Approvals reviewed in git (`approvals.yaml` beside the config). Not part of `configDigest`:
   * approving a plan must not change the plan's fingerprint.
   */
  readonly approvals: Approvals;
  /** `writeback`: Entra values written back to source records after an apply (absent: none). */
  readonly writeback?: readonly WritebackSpec[];
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
  /**
   * Value that means "managed by this config": `entrasync:<id>` unless the config sets it. Other
   * values starting `entrasync:` belong to other configs (left alone, never matched); the bare
   * legacy value `entrasync` is claimed only as `claimLegacy` says (ownership.ts).
   */
  readonly value: string;
  /**
   * Groups are managed when their `uniqueName` starts with this prefix (groups have no extension
   * attributes; `uniqueName` is immutable and read in the same list read).
   */
  readonly groupPrefix: string;
  /**
   * Accounts carrying the bare legacy marker `entrasync` (written by versions before per-config
   * markers) count as this config's, so those no person matches are deprovisioned. Without it,
   * only a legacy account a person matches by anchor is claimed (and re-marked).
   */
  readonly claimLegacy?: boolean;
}

/** The marker value of entrasync before per-config markers; shared by every config then. */
export const LEGACY_MARKER_VALUE = 'entrasync';
/** Marker values `entrasync:<id>`: each names the config that manages the account. */
export const MARKER_VALUE_PREFIX = 'entrasync:';

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
  /**
   * `false`: update-only. Accounts that exist and match are managed; none is created or
   * restored, and a person without one is listed as not provisioned (`Plan.notProvisioned`).
   * Absent: accounts are created.
   */
  readonly create?: false;
  /**
   * The person's manager: evaluates to the manager's primary key (the value of the primary
   * source's key column), resolved to the manager's account.
   */
  readonly manager?: Expression;
  /**
   * A new account's first credential and who receives it (`users.onboarding`). Absent, or
   * `credential: none`: no onboarding step; the create's random password is received by nobody.
   */
  readonly onboarding?: OnboardingSpec;
}

/** `users.onboarding` with `credential: tap | password` (see OnboardUserChange). */
export interface OnboardingSpec {
  readonly credential: 'tap' | 'password';
  /** Flattened path of the attribute marking an account that awaits its credential. */
  readonly stateAttribute: string;
  /** With `tap`: the pass's lifetime and one-time use; `startAt` over the person. */
  readonly tap?: {
    readonly lifetimeInMinutes: number;
    readonly isUsableOnce: boolean;
    readonly startAt?: Expression;
  };
  readonly delivery: {
    readonly channel: 'email' | 'webhook';
    readonly to: 'manager' | 'sponsor' | 'personal';
    /** With `to: sponsor | personal`: the expression giving the address. */
    readonly address?: Expression;
    /** With `email`: userPrincipalName of the sending mailbox (checked at plan time). */
    readonly mailbox?: string;
  };
}

/**
 * Staged offboarding of a managed account whose person left the sources or the scope (Okta's
 * practice): block sign-in (and revoke sessions) at once, remove group memberships and licenses
 * after `removeAccessAfterDays`, delete after `deleteAfterDays`. The day count starts when
 * entrasync disabled the account, recorded in `stateAttribute` on the account itself, so a
 * stateless CI run knows it; an account without a readable date gets one now (never earlier).
 */
export interface DeprovisionSpec {
  /** `disable`: staged as above; `delete`: delete at once; `none`: leave the account alone. */
  readonly action: 'disable' | 'delete' | 'none';
  readonly revokeSessions: boolean;
  readonly removeAccessAfterDays: number;
  /** Absent: never deleted. */
  readonly deleteAfterDays?: number;
  /** Flattened Graph path of the attribute holding when deprovisioning started (ISO 8601). */
  readonly stateAttribute: string;
  /**
   * The stages of an account the mapping disables (`accountEnabled` false) while its person is
   * still in the sources; each absent field is the leaver policy's own (`deleteAfterDays: null`:
   * never deleted). Absent: the leaver policy's stages.
   */
  readonly whenDisabled?: {
    readonly removeAccessAfterDays?: number;
    readonly deleteAfterDays?: number | null;
  };
}

export const DEFAULT_DEPROVISION: DeprovisionSpec = {
  action: 'disable',
  revokeSessions: true,
  removeAccessAfterDays: 0,
  stateAttribute: 'onPremisesExtensionAttributes.extensionAttribute14',
};

/**
 * A managed group: static (one group) or `foreach` (one group per distinct value). Members are
 * the people in scope for whom `members` holds (everyone when absent).
 */
export interface GroupSpec {
  /** Config path, e.g. `groups[2]`, cited by the changes the rule makes. */
  readonly configPath: string;
  /** Rule key: the group's uniqueName is prefix + key (+ `-` + value slug with `foreach`). */
  readonly key: string;
  /** Display name: literal text, or with `foreach` an expression (the value bound as `$value`). */
  readonly name: string | Expression;
  readonly foreach?: Expression;
  readonly members?: Expression;
  readonly description?: string;
  readonly type: 'security' | 'microsoft365';
  /** Owners by userPrincipalName (accounts that exist in the tenant). */
  readonly owners: readonly string[];
  /**
   * A dynamic group: Entra computes the members from this rule; entrasync writes the rule and
   * never the members. Absent: an assigned (static) group.
   */
  readonly membershipRule?: string;
  /** With `membershipRule`: `On` (absent) or `Paused`. */
  readonly membershipRuleProcessingState?: 'On' | 'Paused';
  /** Group-based licensing: licenses the group itself holds. */
  readonly licenses: readonly LicenseGrant[];
  /**
   * Nested groups: keys of other rules whose groups are members of this rule's groups. A static
   * child is one group; a `foreach` child is every group its rule makes, except under a
   * `foreach` parent, where the pairing comes from the people: the parent group of each of a
   * person's values of this rule's `foreach` contains the child groups of that person's values
   * of the child's `foreach` (the `members` filters do not apply to the pairing). Absent: none.
   */
  readonly memberGroups?: readonly string[];
}

export interface LicenseGrant {
  /** Part number, e.g. `SPE_E3`. */
  readonly sku: string;
  /** Service plan names switched off, e.g. `YAMMER_ENTERPRISE`. */
  readonly disabledPlans: readonly string[];
}

/** A license rule: who gets a SKU, directly or through a managed group. */
export interface LicenseSpec extends LicenseGrant {
  readonly configPath: string;
  /** Absent: everyone in scope. */
  readonly when?: Expression;
  /**
   * `group`: through a managed group `license-<sku>` holding the license (group-based
   * licensing); `existing-group`: on the existing group `group` (by object id) entrasync does not
   * manage: only the license is written, never its members or other licenses.
   */
  readonly assignBy: 'direct' | 'group' | 'existing-group';
  /** With `existing-group`: the group's object id. */
  readonly group?: string;
}

/** Plan-level brakes (issue 9). Each action has its own threshold. */
export type ThresholdAction =
  | 'creates'
  | 'adoptions'
  | 'updates'
  | 'enables'
  | 'disables'
  | 'deletes'
  | 'licenseRemovals'
  | 'membershipRemovals'
  | 'writebacks';

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
  /**
   * How far (ms, either way) the local clock may be from Microsoft Graph's (`Date` header)
   * before the time-based deprovisioning stages (removeAccessAfterDays, deleteAfterDays) are
   * refused (A7). Absent: `DEFAULT_MAX_CLOCK_SKEW_MS`.
   */
  readonly maxClockSkewMs?: number;
  /**
   * What a blocked change does to the rest of the plan (issue 20): `hold-changes` holds it and
   * its dependents and applies the rest; `hold-plan` applies nothing of a plan with one.
   * Absent: `hold-changes`.
   */
  readonly onBlocked?: OnBlocked;
}

export type OnBlocked = 'hold-changes' | 'hold-plan';

/**
 * What an approval can approve: a threshold action, or `reanchors` (rewriting the anchor of an
 * existing account, which always needs an approval of the plan or of the change).
 */
export type ApprovalAction = ThresholdAction | 'reanchors';

export const THRESHOLD_ACTIONS: readonly ThresholdAction[] = [
  'creates',
  'adoptions',
  'updates',
  'enables',
  'disables',
  'deletes',
  'licenseRemovals',
  'membershipRemovals',
  'writebacks',
];

/** The `apply` flag that lifts an action's threshold for one reviewed plan. */
export const THRESHOLD_FLAG: Readonly<Record<ThresholdAction, string>> = {
  creates: '--allow-creates',
  adoptions: '--allow-adoptions',
  updates: '--allow-updates',
  enables: '--allow-enables',
  disables: '--allow-disables',
  deletes: '--allow-deletes',
  licenseRemovals: '--allow-license-removals',
  membershipRemovals: '--allow-membership-removals',
  writebacks: '--allow-writebacks',
};

export const DEFAULT_THRESHOLDS: Readonly<Record<ThresholdAction, Threshold>> = {
  creates: { count: 100, percent: 50 },
  adoptions: { count: 25, percent: 10 },
  updates: { count: 50, percent: 30 },
  enables: { count: 25, percent: 10 },
  disables: { count: 10, percent: 5 },
  deletes: { count: 10, percent: 5 },
  licenseRemovals: { count: 10, percent: 5 },
  membershipRemovals: { count: 50, percent: 10 },
  // The first run after `writeback` is configured writes to every record: braked like creates.
  writebacks: { count: 100, percent: 50 },
};

export const DEFAULT_MIN_SOURCE_RATIO = 0.9;

/** `safety.maxClockSkew` when the config does not set it: 5 minutes. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 300_000;

export const DEFAULT_SAFETY: SafetySpec = {
  thresholds: DEFAULT_THRESHOLDS,
  minSourceRatio: DEFAULT_MIN_SOURCE_RATIO,
  protect: [],
  allowPrivileged: [],
  requireApproval: [],
};
