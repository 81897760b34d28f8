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
  /**
   * License assignments, one per SKU and path: direct (`viaGroup` absent) or inherited from a
   * group. Absent when the read did not ask for licenses.
   */
  readonly licenses?: readonly TenantLicense[];
  /** The manager's object id; absent when none or not read. */
  readonly managerId?: string;
  /**
   * `signInSessionsValidFromDateTime` (ISO 8601): sessions and refresh tokens issued before it
   * are invalid; a revoke moves it to the revoke's time. Absent: not read, or unknown. Kept out
   * of `attributes` (and so of the tenant digest): it moves with every revoke and password
   * change, and the plan's revokes are in its fingerprint anyway.
   */
  readonly signInSessionsValidFromDateTime?: string;
}

export interface TenantLicense {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
  /** Group the assignment is inherited from; absent for a direct assignment. */
  readonly viaGroup?: string;
}

/** A group whose uniqueName carries this config's prefix, with its members. */
export interface TenantGroup {
  readonly id: string;
  readonly uniqueName: string;
  readonly displayName: string;
  readonly description: string | null;
  readonly mailEnabled: boolean;
  readonly securityEnabled: boolean;
  readonly groupTypes: readonly string[];
  readonly isAssignableToRole: boolean;
  /** A dynamic group's rule (`groupTypes` has `DynamicMembership`); absent: none. */
  readonly membershipRule?: string;
  /** A dynamic group's `On` or `Paused`; absent: none. */
  readonly membershipRuleProcessingState?: string;
  /** Direct members' object ids (users and groups). */
  readonly memberIds: readonly string[];
  /**
   * User owners' object ids (owners that are not users, such as service principals, are left
   * out: entrasync never manages them). Absent: not read (no rule names owners, or a delta read
   * that does not track owners); then no owner is added or removed.
   */
  readonly ownerIds?: readonly string[];
  /** The group's own license assignments (group-based licensing). */
  readonly licenses: readonly {
    readonly skuId: string;
    readonly disabledPlans: readonly string[];
  }[];
}

/** A SKU the tenant subscribes to, with its seats and service plans. */
export interface TenantSku {
  readonly skuId: string;
  readonly skuPartNumber: string;
  /** Prepaid enabled + warning units. */
  readonly seats: number;
  readonly consumed: number;
  readonly servicePlans: readonly { readonly id: string; readonly name: string }[];
}

export interface TenantState {
  readonly users: readonly TenantUser[];
  /**
   * The directory extensions of the applications `TenantReadRequest.extensionApps` named (an
   * application that does not exist has none); absent: not read.
   */
  readonly extensionProperties?: readonly DirectoryExtension[];
  /** Soft-deleted users (the recycle bin), for restore and for `$selectUnique`; absent: not read. */
  readonly deletedUsers?: readonly TenantUser[];
  /** Groups managed by this config (uniqueName prefix); absent: not read. */
  readonly groups?: readonly TenantGroup[];
  /** Subscribed SKUs; absent: not read. */
  readonly skus?: readonly TenantSku[];
  /**
   * Existing groups license rules name by id (`licenses[].group`), with their members and
   * licenses; a group not found is left out. Absent: not read.
   */
  readonly licensedGroups?: readonly TenantGroup[];
  /**
   * Accounts holding power in the tenant: an active or PIM-eligible directory role, or
   * membership/ownership of a role-assignable group. Never adopted, changed or deprovisioned
   * without an explicit config rule (P3). Absent means the reader could not tell, which the
   * engine treats as "unknown", never as "nobody".
   */
  readonly privileged?: readonly PrivilegedAccount[];
  /**
   * The tenant's domains, for the verified-domain check of userPrincipalName and mail; absent:
   * not read (the request did not ask).
   */
  readonly domains?: TenantDomains;
  /**
   * Microsoft Graph's clock as this read saw it, for the time-based deprovisioning stages
   * (removeAccessAfterDays, deleteAfterDays). Absent: the reader did not measure it (engine
   * tests, fixtures); the plan's `now` is then taken as Graph's time.
   */
  readonly clock?: TenantClock;
  /** What `users.onboarding` rests on (the TAP policy, the sending mailbox); absent: not read. */
  readonly onboarding?: TenantOnboarding;
}

/**
 * The tenant's side of onboarding (issue 23), read at plan time. `unreadable`: the app may not
 * read it (403), which holds every onboarding step with the reason, never "allowed".
 */
export interface TenantOnboarding {
  /** The Temporary Access Pass method policy (`/policies/authenticationMethodsPolicy`). */
  readonly tapPolicy?:
    | {
        readonly status: 'read';
        readonly enabled: boolean;
        /** The policy targets all users (`includeTargets` has `all_users`), not some groups. */
        readonly allUsers: boolean;
        readonly minimumLifetimeInMinutes?: number;
        readonly maximumLifetimeInMinutes?: number;
        /** The policy makes every pass one-time. */
        readonly isUsableOnce?: boolean;
      }
    | { readonly status: 'unreadable'; readonly reason: string };
  /** The sending mailbox of `delivery.from`. */
  readonly mailbox?:
    | { readonly status: 'found' }
    | { readonly status: 'missing'; readonly reason: string }
    | { readonly status: 'unreadable'; readonly reason: string };
}

/**
 * `read`: a live read; `serverTime` is the `Date` header of a Graph response of the read and
 * `localTime` the local clock when that response arrived (both ms since the epoch), so
 * `localTime - serverTime` is the local clock's skew (the header has a resolution of 1 s).
 * `recorded`: the tenant state is of a past instant of Graph's clock (an offline snapshot);
 * grace periods are counted at that instant, never at the local clock's now. `unknown`: no
 * Graph time at all (a snapshot taken before entrasync recorded it): time-based stages are
 * not planned.
 */
export type TenantClock =
  | { readonly status: 'read'; readonly serverTime: number; readonly localTime: number }
  | { readonly status: 'recorded'; readonly serverTime: number }
  | { readonly status: 'unknown'; readonly reason: string };

/**
 * `read`: the verified domain names (`GET /domains`, `isVerified` true; unverified ones do not
 * count). `unreadable`: the app may not read domains (403: no Domain.Read.All), so the check
 * is skipped with a warning; never read as "no domain is verified".
 */
export type TenantDomains =
  | { readonly status: 'read'; readonly verified: readonly string[] }
  | { readonly status: 'unreadable'; readonly reason: string };

export interface PrivilegedAccount {
  readonly userId: string;
  /** e.g. `active role Global Administrator`, `eligible role User Administrator`. */
  readonly reason: string;
}

/** What the engine asks the tenant reader for. */
export interface TenantReadRequest {
  /** Flattened Graph attribute paths to select, beyond the reader's own minimum. */
  readonly userAttributes: readonly string[];
  /** Also read users' license assignments and `subscribedSkus` (license rules exist). */
  readonly licenses?: boolean;
  /** Also read each user's manager id. */
  readonly manager?: boolean;
  /** Read groups whose uniqueName starts with this prefix, with members and licenses. */
  readonly groupPrefix?: string;
  /** With `groupPrefix`: also read each managed group's user owners (a rule names owners). */
  readonly groupOwners?: boolean;
  /** Existing groups to read by object id (license rules name them), lower case. */
  readonly licensedGroups?: readonly string[];
  /** Read the recycle bin's users (deprovisioning deletes, so returns restore). */
  readonly deletedUsers?: boolean;
  /** Read the tenant's verified domains (the config writes userPrincipalName or mail). */
  readonly domains?: boolean;
  /** Read users' `signInSessionsValidFromDateTime` (a lost session revoke is retried). */
  readonly signInSessions?: boolean;
  /**
   * Application ids (GUIDs with dashes) whose directory extensions (`extensionProperties`) the
   * mapping writes: each is read, so the plan knows the names that exist and their types.
   */
  readonly extensionApps?: readonly string[];
  /** Read what `users.onboarding` rests on: the TAP policy (with `tap`), the sending mailbox. */
  readonly onboarding?: { readonly credential: 'tap' | 'password'; readonly mailbox?: string };
}

/** A directory extension an application registered (`extensionProperty`). */
export interface DirectoryExtension {
  /** `extension_<appId without dashes>_<name>`. */
  readonly name: string;
  /** `Binary`, `Boolean`, `DateTime`, `Integer`, `LargeInteger` or `String`. */
  readonly dataType: string;
  readonly isMultiValued: boolean;
  /** Object types it applies to, e.g. `User`. */
  readonly targetObjects: readonly string[];
}
