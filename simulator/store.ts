/**
 * The simulated tenant's state in SQLite (better-sqlite3, WAL). Every request reads the database
 * afresh, so a second process opened on the same file sees the same tenant at once; nothing is
 * cached in memory.
 *
 * Why SQLite rather than an in-memory map plus a snapshot file: the tenant survives crashes
 * without a save step (entrasync's crash tests kill processes), several simulators or a test
 * and a simulator can share one tenant live, uniqueness is enforced by UNIQUE indexes inside
 * immediate transactions, and 300,000 users are paged in O(page) by keyset ranges without the
 * whole tenant in the JS heap. `:memory:` is used when no file is asked for.
 *
 * Layout:
 * - `objects`: one row per directory object (`kind` user | group), its Graph document as JSON
 *   in Graph's property names, and derived columns for the constraints Entra enforces: `key`
 *   (lowercased UPN for users, uniqueName for groups; unique per kind) and `immutable_id`
 *   (unique when set). `state` is active | deleted (recycle bin) | purged (a tombstone kept
 *   for delta queries). `seq` is insertion order: list pages are keyset ranges `seq > last`.
 * - `cseq` is a tenant-wide change sequence; each write stamps the object's `cseq` and, per
 *   property, `pcseq` (for delta with `$select`). `link_log` records reference changes.
 * - `links`: group members and owners, user managers, administrative unit members.
 * - `skus`: subscribed SKUs with a consumed-units counter kept in step with assignments: one
 *   unit per user and SKU held, directly or through a licensed group. Users' documents carry
 *   `assignedLicenses` (SKUs held) and `licenseAssignmentStates` (one per path), recomputed in
 *   the same transaction as every write that can change them (see licensing.ts).
 * - `docs`: read-mostly directory data (role assignments, PIM eligibility schedules,
 *   administrative units, role definitions, domains, the authentication methods policy) as JSON
 *   documents.
 * - `auth_methods`: one Temporary Access Pass per user, without the pass (store/authentication.ts);
 *   `outbox`: the mails `sendMail` accepted, bodies included (store/outbox.ts).
 *
 * The parts, one module each under store/, composed here into the one TenantStore the routes
 * use: model.ts (the data shapes; a leaf, so licensing.ts, domains.ts and addresses.ts can name
 * them), schema.ts (opening, migration, once-per-state setup), objects.ts (users and groups,
 * change sequences), links.ts, licenses.ts (SKUs, seats, assignment paths), recycle-bin.ts
 * (soft delete, restore, purge, expiry), docs.ts and seeding.ts. Dependencies point one way:
 * model < objects < links < licenses < recycle-bin < seeding < this module; the pure modules
 * (licensing.ts, domains.ts, addresses.ts) import only model.ts and are imported by the parts.
 *
 * Secrets never reach these files: documents hold no password or Temporary Access Pass, and
 * client secrets and tokens live only in the memory of the process that issued them. The one
 * deliberate exception is the outbox: a mail that carries a credential to its recipient is that
 * recipient's mail, kept as delivered.
 */
import type { TemporaryAccessPassPolicy } from './authentication-policy.js';
import { DEFAULT_TAP_POLICY, TAP_CONFIGURATION_ID } from './authentication-policy.js';
import { createAuditLog } from './store/audit-log.js';
import { createAuthenticationMethods } from './store/authentication.js';
import { createDocTable } from './store/docs.js';
import { createLicenseAssignment, createSkuSeats } from './store/licenses.js';
import { createLinkTable } from './store/links.js';
import type {
  AssignedLicense,
  AuditQuery,
  DirectoryAuditDocument,
  DirectoryDocument,
  DocKind,
  GroupLicenseResult,
  LicenseResult,
  LinkChange,
  LinkRelation,
  ObjectKind,
  ObjectQuery,
  ObjectState,
  OutboxMail,
  OutboxMailInput,
  SeedData,
  SqlFilter,
  StoredObject,
  StoredSku,
  StoredUser,
  TemporaryAccessPassRecord,
  UserDocument,
  WriteResult,
} from './store/model.js';
import { createObjectTable } from './store/objects.js';
import { createOutbox } from './store/outbox.js';
import { createRecycleBin } from './store/recycle-bin.js';
import { initialiseState, openDatabase } from './store/schema.js';
import { createSeeding } from './store/seeding.js';

export type * from './store/model.js';
export { DEFAULT_TENANT_ID } from './store/schema.js';

export interface TenantStore {
  /** The SQLite file, or undefined for an in-memory tenant. */
  readonly path: string | undefined;
  readonly tenantId: string;
  /** The tenant's initial domain, used for Microsoft 365 group addresses. */
  readonly defaultDomain: string;

  /** Every active user in insertion order. For tests and tooling. */
  listUsers(): UserDocument[];
  countUsers(): number;
  /** Up to `limit` active users with `seq > afterSeq`, in insertion order. */
  pageUsers(afterSeq: number, limit: number): StoredUser[];
  getUserById(id: string): StoredUser | undefined;
  /** Case-insensitive, as Entra matches UPNs. Active users only. */
  getUserByUpn(userPrincipalName: string): StoredUser | undefined;
  insertUser(user: UserDocument): WriteResult;
  /** Replaces the document of the active user with `user.id`; every property counts as changed. */
  replaceUser(user: UserDocument): WriteResult;

  getObject(id: string): StoredObject | undefined;
  getGroupByUniqueName(uniqueName: string): StoredObject | undefined;
  queryObjects(query: ObjectQuery): StoredObject[];
  countObjects(kind: ObjectKind, state: ObjectState, where?: SqlFilter): number;
  insertObject(kind: ObjectKind, doc: DirectoryDocument): WriteResult;
  /** Replaces an active object's document; `changed` names the properties that changed. */
  updateObject(kind: ObjectKind, doc: DirectoryDocument, changed: readonly string[]): WriteResult;
  /**
   * Active -> deleted (recycle bin). A user releases its seats; a group stops passing its
   * licenses on to its members (recomputed at `nowMs`).
   */
  softDelete(id: string, nowMs: number): void;
  /**
   * Deleted -> active; fails when its UPN or uniqueName has been taken meanwhile. A user takes
   * its direct seats back and re-inherits from its licensed groups (seat-checked); a group's
   * members re-inherit its licenses.
   */
  restore(
    id: string,
    doc: DirectoryDocument,
    nowMs: number,
    options?: { readonly reconcileAddresses?: boolean },
  ): WriteResult;
  /** Any state -> purged tombstone; drops its links (a group's members lose its licenses). */
  purge(id: string, nowMs: number): void;
  /** Purges recycle-bin objects deleted before `deletedBeforeMs`; drops tombstones before `tombstonesBeforeMs`. */
  expire(deletedBeforeMs: number, tombstonesBeforeMs: number): void;

  /**
   * Adds links atomically; nothing is added when any already exists. New user members of a
   * licensed group inherit its licenses (recomputed at `nowMs`, in the same transaction).
   */
  addLinks(
    rel: LinkRelation,
    sourceId: string,
    targetIds: readonly string[],
    nowMs: number,
  ): { ok: true } | { ok: false; existing: string };
  /** Removes one link; a user leaving a licensed group loses what it inherited from it. */
  removeLink(rel: LinkRelation, sourceId: string, targetId: string, nowMs: number): boolean;
  /** Link targets of `sourceId` with `seq > afterSeq`, in link order. */
  pageLinks(
    rel: LinkRelation,
    sourceId: string,
    afterSeq: number,
    limit: number,
  ): { seq: number; targetId: string }[];
  /** Sources linking to `targetId` (groups a user is in, AUs holding it, ...). */
  linkSources(rel: LinkRelation, targetId: string): string[];
  setManager(userId: string, managerId: string | null): void;
  getManagerId(userId: string): string | undefined;

  listSkus(): StoredSku[];
  /**
   * Adds and removes a user's direct licenses in one transaction, checking SKUs, seats (for
   * SKUs the user does not already hold) and that removed SKUs are not held only through a
   * group. Inherited paths are recomputed with it.
   */
  assignLicenses(
    userId: string,
    add: readonly AssignedLicense[],
    remove: readonly string[],
    nowMs: number,
  ): LicenseResult;
  /**
   * Adds and removes a group's licenses and recomputes every user member's inherited paths in
   * the same transaction (seats are checked per member, in membership order: members without
   * a free seat get a CountViolation path instead of a failure).
   */
  assignGroupLicenses(
    groupId: string,
    add: readonly AssignedLicense[],
    remove: readonly string[],
    nowMs: number,
  ): GroupLicenseResult;

  /**
   * Appends a directory audit entry for a write by `appId` at `timeMs`. Call it inside the
   * write's `transaction`, so the entry commits with the write or not at all.
   */
  appendAudit(timeMs: number, appId: string, entry: DirectoryAuditDocument): void;
  /** Audit entries, newest first, with their keyset positions. */
  pageAudits(query: AuditQuery): { seq: number; doc: DirectoryAuditDocument }[];

  listDocs(kind: DocKind): DirectoryDocument[];
  getDoc(kind: DocKind, id: string): DirectoryDocument | undefined;

  /** The tenant's TAP policy: the stored one, or DEFAULT_TAP_POLICY (enabled for all users). */
  temporaryAccessPassPolicy(): TemporaryAccessPassPolicy;
  /** Replaces the TAP policy (checked with `temporaryAccessPassPolicy()` of authentication-policy.ts). */
  setTemporaryAccessPassPolicy(policy: TemporaryAccessPassPolicy): void;
  /** The user's Temporary Access Pass (never the pass itself), if any. */
  getTemporaryAccessPass(userId: string): TemporaryAccessPassRecord | undefined;
  /** Sets the user's Temporary Access Pass, replacing (deleting) any previous one. */
  putTemporaryAccessPass(userId: string, record: TemporaryAccessPassRecord): void;
  /** Deletes the user's pass with this id; false when the user has no such pass. */
  deleteTemporaryAccessPass(userId: string, methodId: string): boolean;

  /** Records a mail `sendMail` accepted; returns it with its outbox position. */
  appendOutbox(mail: OutboxMailInput): OutboxMail;
  /** Every mail sent through `sendMail`, oldest first, bodies included (the recipients' mailboxes). */
  outbox(): OutboxMail[];

  /** The latest change sequence number. */
  currentCseq(): number;
  /**
   * Objects of `kind` changed in (since, upto], ordered by (cseq, seq), after the keyset
   * position `after`. With `props`, only objects where one of them (or their existence)
   * changed in the window.
   */
  changedObjects(
    kind: ObjectKind,
    since: number,
    upto: number,
    after: { cseq: number; seq: number },
    limit: number,
    props?: readonly string[],
  ): StoredObject[];
  linkChanges(
    rel: LinkRelation,
    sourceIds: readonly string[],
    since: number,
    upto: number,
  ): LinkChange[];

  /**
   * Inserts a seed only if this state was never seeded and holds no users; returns whether it
   * did. Atomic across processes, so two simulators starting on one new file seed it once.
   * Members of seeded licensed groups inherit their licenses, dated `nowMs` (default: now).
   */
  seedIfNew(seed: SeedData | readonly UserDocument[], nowMs?: number): boolean;
  /** Runs `fn` in one immediate (write-locked) transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export interface OpenTenantStoreOptions {
  /**
   * Tenant id for a new state. An existing state keeps its own; asking for a different one is
   * an error rather than a silent switch of tenant.
   */
  readonly tenantId?: string;
}

export function openTenantStore(
  statePath?: string,
  options: OpenTenantStoreOptions = {},
): TenantStore {
  const { db, meta } = openDatabase(statePath);
  const { tenantId, defaultDomain } = initialiseState(db, meta, statePath, options.tenantId);
  const objects = createObjectTable(db);
  const links = createLinkTable(db, objects);
  const seats = createSkuSeats(db, objects, links);
  const assignment = createLicenseAssignment(objects, links, seats);
  const recycleBin = createRecycleBin(db, objects, links, seats);
  const docs = createDocTable(db);
  const audits = createAuditLog(db);
  const methods = createAuthenticationMethods(db);
  const outbox = createOutbox(db);
  const seedIfNew = createSeeding(db, { meta, objects, links, seats, docs, defaultDomain });
  // IMMEDIATE takes SQLite's write lock before the checks, so a concurrent writer in
  // another process cannot slip a conflicting row between check and write.
  const write = <T>(fn: () => T): T => db.transaction(fn).immediate();

  return {
    path: statePath,
    tenantId,
    defaultDomain,
    listUsers: objects.listUsers,
    countUsers: () => objects.countActive('user'),
    pageUsers: objects.pageUsers,
    getUserById: objects.getUserById,
    getUserByUpn: objects.getUserByUpn,
    insertUser: (user) => write(() => objects.insertObjectTx('user', user)),
    replaceUser: (user) => write(() => objects.updateObjectTx('user', user, Object.keys(user))),

    getObject: objects.getObject,
    getGroupByUniqueName: objects.getGroupByUniqueName,
    queryObjects: objects.queryObjects,
    countObjects: objects.countObjects,
    insertObject: (kind, doc) => write(() => objects.insertObjectTx(kind, doc)),
    updateObject: (kind, doc, changed) => write(() => objects.updateObjectTx(kind, doc, changed)),
    softDelete: (id, nowMs) => write(() => recycleBin.softDeleteTx(id, nowMs)),
    restore: (id, doc, nowMs, options) =>
      write(() => recycleBin.restoreTx(id, doc, nowMs, options?.reconcileAddresses === true)),
    purge: (id, nowMs) => write(() => recycleBin.purgeTx(id, nowMs)),
    expire: (deletedBeforeMs, tombstonesBeforeMs) => {
      write(() => recycleBin.expireTx(deletedBeforeMs, tombstonesBeforeMs));
      db.pragma('optimize');
    },

    addLinks: (rel, sourceId, targetIds, nowMs) =>
      write(() => {
        const result = links.addLinksTx(rel, sourceId, targetIds);
        if (result.ok && rel === 'member') seats.relicenseMembersTx(sourceId, nowMs, targetIds);
        return result;
      }),
    removeLink: (rel, sourceId, targetId, nowMs) =>
      write(() => {
        const removed = links.removeLinkTx(rel, sourceId, targetId);
        if (removed && rel === 'member') seats.relicenseMembersTx(sourceId, nowMs, [targetId]);
        return removed;
      }),
    pageLinks: links.pageLinks,
    linkSources: links.linkSources,
    setManager: (userId, managerId) => write(() => links.setManagerTx(userId, managerId)),
    getManagerId: links.getManagerId,

    listSkus: seats.listSkus,
    assignLicenses: (userId, add, remove, nowMs) =>
      write(() => assignment.assignLicensesTx(userId, add, remove, nowMs)),
    assignGroupLicenses: (groupId, add, remove, nowMs) =>
      write(() => assignment.assignGroupLicensesTx(groupId, add, remove, nowMs)),

    appendAudit: (timeMs, appId, entry) => write(() => audits.appendAuditTx(timeMs, appId, entry)),
    pageAudits: audits.pageAudits,

    listDocs: docs.listDocs,
    getDoc: docs.getDoc,

    temporaryAccessPassPolicy: () =>
      (methods.getMethodConfiguration(TAP_CONFIGURATION_ID) as
        TemporaryAccessPassPolicy | undefined) ?? DEFAULT_TAP_POLICY,
    setTemporaryAccessPassPolicy: (policy) =>
      write(() => methods.putMethodConfigurationTx({ ...policy })),
    getTemporaryAccessPass: methods.getTemporaryAccessPass,
    putTemporaryAccessPass: (userId, record) =>
      write(() => methods.putTemporaryAccessPassTx(userId, record)),
    deleteTemporaryAccessPass: (userId, methodId) =>
      write(() => methods.deleteTemporaryAccessPassTx(userId, methodId)),

    appendOutbox: (mail) => write(() => outbox.appendOutboxTx(mail)),
    outbox: outbox.listOutbox,

    currentCseq: objects.currentCseq,
    changedObjects: objects.changedObjects,
    linkChanges: links.linkChanges,

    seedIfNew: (seed, nowMs = Date.now()) =>
      seedIfNew(Array.isArray(seed) ? { users: seed } : (seed as SeedData), nowMs),
    transaction: write,
    close: () => db.close(),
  };
}
