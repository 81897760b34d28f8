/**
 * The tenant store's data shapes: what the store holds and hands out. A leaf module (it imports
 * nothing), so the pure modules that compute over stored documents (licensing.ts, domains.ts,
 * addresses.ts) can name them without importing the store that uses them.
 */

/** A directory object as stored: Graph property names to JSON values; unset ones absent. */
export type DirectoryDocument = Readonly<Record<string, unknown>> & { readonly id: string };

/** A user as stored. */
export type UserDocument = DirectoryDocument & { readonly userPrincipalName: string };

export type ObjectKind = 'user' | 'group';
export type ObjectState = 'active' | 'deleted' | 'purged';
export type LinkRelation = 'member' | 'owner' | 'manager' | 'auMember';
export type DocKind =
  | 'roleAssignment'
  | 'roleEligibilitySchedule'
  | 'roleDefinition'
  | 'administrativeUnit'
  /** Keyed by the lowercased domain name; the document's `id` keeps the name as given. */
  | 'domain'
  /** Authentication methods policy entries, keyed by configuration id (`TemporaryAccessPass`). */
  | 'authenticationMethodConfiguration'
  /** Applications (seeded), for their directory extensions. */
  | 'application'
  /** Directory extensions (`extensionProperty`), with the owning app's id in `ownerAppId`. */
  | 'extensionProperty';

export interface StoredObject {
  readonly seq: number;
  readonly kind: ObjectKind;
  readonly state: ObjectState;
  readonly doc: DirectoryDocument;
  readonly cseq: number;
  /** Clock time (ms) the object went to the recycle bin or was purged. */
  readonly deletedMs: number | null;
}

export interface StoredUser {
  readonly seq: number;
  readonly user: UserDocument;
}

export type Conflict =
  | 'userPrincipalName'
  | 'onPremisesImmutableId'
  | 'id'
  | 'uniqueName'
  /** A mail address another active object holds (see ../addresses.ts). */
  | 'proxyAddresses'
  /** An identity's issuer + issuerAssignedId pair another user holds (../graph/identities.ts). */
  | 'identities';

export type WriteResult =
  { readonly ok: true } | { readonly ok: false; readonly conflict: Conflict };

/** A SQL boolean expression over the `objects` row (columns doc, id, key) with its parameters. */
export interface SqlFilter {
  readonly sql: string;
  readonly params: readonly unknown[];
}

export interface ObjectQuery {
  readonly kind: ObjectKind;
  readonly state: ObjectState;
  readonly afterSeq: number;
  readonly limit: number;
  readonly where?: SqlFilter;
}

export interface StoredSku {
  readonly skuId: string;
  readonly doc: Readonly<Record<string, unknown>>;
  readonly consumedUnits: number;
}

export interface AssignedLicense {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
}

export type LicenseResult =
  | { readonly ok: true; readonly user: UserDocument }
  | {
      readonly ok: false;
      /** `inherited`: a SKU to remove is held only through a group (Graph refuses that). */
      readonly reason: 'unknownSku' | 'noSeats' | 'inherited';
      readonly skuId: string;
    };

export type GroupLicenseResult =
  | { readonly ok: true; readonly group: DirectoryDocument }
  | { readonly ok: false; readonly reason: 'unknownSku'; readonly skuId: string };

export interface LinkChange {
  readonly sourceId: string;
  readonly targetId: string;
  readonly removed: boolean;
  readonly cseq: number;
}

/** Everything a seed (file or generator) can put into a new tenant. */
export interface SeedData {
  readonly users: readonly UserDocument[];
  readonly groups?: readonly DirectoryDocument[];
  readonly links?: readonly { rel: LinkRelation; sourceId: string; targetId: string }[];
  readonly skus?: readonly (Readonly<Record<string, unknown>> & { skuId: string })[];
  readonly docs?: readonly { kind: DocKind; doc: DirectoryDocument }[];
  /**
   * The tenant's domains, replacing the defaults (see ../domains.ts). Absent: the defaults plus
   * the domains the seeded users' userPrincipalName and mail are in.
   */
  readonly domains?: readonly DirectoryDocument[];
}

/** A Graph `directoryAudit` entry as stored and served (see ../graph/audit.ts). */
export type DirectoryAuditDocument = Readonly<Record<string, unknown>> & { readonly id: string };

export interface AuditQuery {
  /** Entries committed before this keyset position (newest first); absent: from the newest. */
  readonly beforeSeq?: number;
  readonly fromMs?: number;
  readonly toMs?: number;
  /** The initiating app's id, any case. */
  readonly appId?: string;
  readonly limit: number;
}

/**
 * A user's Temporary Access Pass as stored (see ../authentication-policy.ts): everything Graph
 * returns about it except the pass itself, which is never stored (Graph returns it once, on
 * creation). At most one per user.
 */
export interface TemporaryAccessPassRecord {
  readonly id: string;
  readonly createdDateTime: string;
  readonly startDateTime: string;
  readonly lifetimeInMinutes: number;
  readonly isUsableOnce: boolean;
}

/** An email address as Graph's `recipient.emailAddress` writes it. */
export interface MailAddress {
  readonly address: string;
  readonly name?: string;
}

/**
 * A mail accepted by `POST /users/{id}/sendMail`, as the simulator's outbox keeps it (see
 * ../graph/mail.ts). The body is kept: the outbox is the recipients' mailboxes.
 */
export interface OutboxMail {
  /** 1-based position in the outbox (send order). */
  readonly seq: number;
  /** ISO 8601 time of the simulator's clock when the mail was accepted. */
  readonly sentDateTime: string;
  /** The sending user (the mailbox in the request path). */
  readonly senderId: string;
  readonly senderAddress: string;
  /** The app that sent it. */
  readonly appId: string;
  readonly subject: string;
  readonly body: { readonly contentType: 'text' | 'html'; readonly content: string };
  readonly toRecipients: readonly MailAddress[];
  readonly ccRecipients: readonly MailAddress[];
  readonly bccRecipients: readonly MailAddress[];
  readonly saveToSentItems: boolean;
}

export type OutboxMailInput = Omit<OutboxMail, 'seq'>;
