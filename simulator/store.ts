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
 *   administrative units, role definitions, domains) as JSON documents.
 *
 * Secrets never reach this file: documents hold no password, and client secrets and tokens
 * live only in the memory of the process that issued them.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { GroupGrant } from './licensing.js';
import {
  assignedLicensesOf,
  assignmentStatesOf,
  computeLicenses,
  directLicensesOf,
} from './licensing.js';
import { defaultDomains, INITIAL_DOMAIN } from './domains.js';
import { roleDefinitionDocs } from './roles.js';
import { ADDRESS_SCHEMA, createAddressIndex, withoutAddresses } from './addresses.js';

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
  | 'domain';

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
  /** A mail address another active object holds (see addresses.ts). */
  | 'proxyAddresses';

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
   * The tenant's domains, replacing the defaults (see domains.ts). Absent: the defaults plus
   * the domains the seeded users' userPrincipalName and mail are in.
   */
  readonly domains?: readonly DirectoryDocument[];
}

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

  listDocs(kind: DocKind): DirectoryDocument[];
  getDoc(kind: DocKind, id: string): DirectoryDocument | undefined;

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

/** The tenant id of a new state when none is asked for: fixed, so test output is stable. */
export const DEFAULT_TENANT_ID = '8d3b2f1e-5c4a-4e7b-9f60-51a1c0de0001';
const DEFAULT_DOMAIN = INITIAL_DOMAIN;

const SCHEMA_VERSION = '2';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT OR IGNORE INTO counters (name, value) VALUES ('cseq', 0);
  CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    key TEXT,
    immutable_id TEXT UNIQUE,
    doc TEXT NOT NULL,
    deleted_ms INTEGER,
    cseq INTEGER NOT NULL,
    pcseq TEXT NOT NULL DEFAULT '{}'
  );
  CREATE UNIQUE INDEX IF NOT EXISTS objects_key ON objects (kind, key);
  CREATE INDEX IF NOT EXISTS objects_list ON objects (kind, state, seq);
  CREATE INDEX IF NOT EXISTS objects_changes ON objects (kind, cseq, seq);
  CREATE INDEX IF NOT EXISTS objects_mail ON objects (lower(json_extract(doc, '$.mail')));
  CREATE INDEX IF NOT EXISTS objects_employee_id ON objects (lower(json_extract(doc, '$.employeeId')));
  CREATE INDEX IF NOT EXISTS objects_display_name ON objects (lower(json_extract(doc, '$.displayName')));
  CREATE TABLE IF NOT EXISTS links (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rel TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    UNIQUE (rel, source_id, target_id)
  );
  CREATE INDEX IF NOT EXISTS links_target ON links (rel, target_id);
  CREATE TABLE IF NOT EXISTS link_log (
    cseq INTEGER NOT NULL,
    rel TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    removed INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS link_log_source ON link_log (rel, source_id, cseq);
  CREATE TABLE IF NOT EXISTS skus (
    sku_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
  );
`;

export function openTenantStore(
  statePath?: string,
  options: OpenTenantStoreOptions = {},
): TenantStore {
  if (statePath) mkdirSync(dirname(statePath), { recursive: true });
  const db = new Database(statePath ?? ':memory:');
  db.pragma('busy_timeout = 5000');
  if (statePath !== undefined) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('cache_size = -65536');
  // Refresh query-planner statistics where SQLite thinks they are stale (cheap otherwise).
  db.pragma('optimize = 0x10002');

  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);');
  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const setMeta = db.prepare<[string, string]>(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );

  const tenantId = db
    .transaction((): string => {
      const version = getMeta.get('schemaVersion')?.value;
      if (version === '1') migrateFromV1(db);
      else if (version !== undefined && version !== SCHEMA_VERSION) {
        throw new Error(
          `Simulator state ${statePath ?? ':memory:'} has schema version ${version}; this simulator reads version ${SCHEMA_VERSION}.`,
        );
      }
      db.exec(SCHEMA);
      db.exec(ADDRESS_SCHEMA);
      // Mail addresses: indexed once per state (a state from before they were indexed).
      if (getMeta.get('addresses') === undefined) {
        createAddressIndex(db).backfill();
        setMeta.run('addresses', 'indexed');
      }
      setMeta.run('schemaVersion', SCHEMA_VERSION);
      if (getMeta.get('defaultDomain') === undefined) setMeta.run('defaultDomain', DEFAULT_DOMAIN);
      const insertRole = db.prepare<[string, string]>(
        "INSERT OR IGNORE INTO docs (kind, id, doc) VALUES ('roleDefinition', ?, ?)",
      );
      for (const role of roleDefinitionDocs()) insertRole.run(role.id, JSON.stringify(role));
      // Domains: once per state. A state from before domains were modelled gets the defaults
      // plus the domains its users are in, so none of its users sits in an unverified domain.
      if (getMeta.get('domains') === undefined) {
        const users = (
          db
            .prepare(
              "SELECT doc FROM objects WHERE kind = 'user' AND state IN ('active', 'deleted')",
            )
            .all() as { doc: string }[]
        ).map((r) => JSON.parse(r.doc) as Record<string, unknown>);
        const insertDomain = db.prepare<[string, string]>(
          "INSERT OR REPLACE INTO docs (kind, id, doc) VALUES ('domain', ?, ?)",
        );
        const initial = getMeta.get('defaultDomain')?.value ?? DEFAULT_DOMAIN;
        for (const domain of defaultDomains(initial, users)) {
          insertDomain.run(domain.id.toLowerCase(), JSON.stringify(domain));
        }
        setMeta.run('domains', 'default');
      }
      const stored = getMeta.get('tenantId')?.value;
      if (stored !== undefined) {
        if (options.tenantId !== undefined && options.tenantId.toLowerCase() !== stored) {
          throw new Error(
            `Simulator state ${statePath ?? ':memory:'} belongs to tenant ${stored}, not ${options.tenantId}.`,
          );
        }
        return stored;
      }
      const chosen = (options.tenantId ?? DEFAULT_TENANT_ID).toLowerCase();
      setMeta.run('tenantId', chosen);
      return chosen;
    })
    .immediate();
  const defaultDomain = getMeta.get('defaultDomain')?.value ?? DEFAULT_DOMAIN;

  type Row = {
    seq: number;
    kind: ObjectKind;
    state: ObjectState;
    doc: string;
    cseq: number;
    deleted_ms: number | null;
  };
  const COLUMNS = 'seq, kind, state, doc, cseq, deleted_ms';
  const toStored = (row: Row): StoredObject => ({
    seq: row.seq,
    kind: row.kind,
    state: row.state,
    doc: JSON.parse(row.doc) as DirectoryDocument,
    cseq: row.cseq,
    deletedMs: row.deleted_ms,
  });
  const toUser = (row: Row): StoredUser => ({
    seq: row.seq,
    user: JSON.parse(row.doc) as UserDocument,
  });

  const nextCseqStmt = db.prepare<[], { value: number }>(
    "UPDATE counters SET value = value + 1 WHERE name = 'cseq' RETURNING value",
  );
  const currentCseqStmt = db.prepare<[], { value: number }>(
    "SELECT value FROM counters WHERE name = 'cseq'",
  );
  const nextCseq = (): number => nextCseqStmt.get()?.value ?? 0;
  const addresses = createAddressIndex(db);

  const selectById = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM objects WHERE id = ?`);
  const selectByKey = db.prepare<[string, string], Row>(
    `SELECT ${COLUMNS} FROM objects WHERE kind = ? AND key = ?`,
  );
  const selectOwnerOfKey = db.prepare<[string, string], { id: string }>(
    'SELECT id FROM objects WHERE kind = ? AND key = ?',
  );
  const selectOwnerOfImmutable = db.prepare<[string], { id: string }>(
    'SELECT id FROM objects WHERE immutable_id = ?',
  );
  const selectPcseq = db.prepare<[string], { pcseq: string }>(
    'SELECT pcseq FROM objects WHERE id = ?',
  );
  const touchStmt = db.prepare<[number, string, string]>(
    'UPDATE objects SET cseq = ?, pcseq = ? WHERE id = ?',
  );
  const insertStmt = db.prepare<
    [string, string, string | null, string | null, string, number, string]
  >(
    "INSERT INTO objects (id, kind, state, key, immutable_id, doc, cseq, pcseq) VALUES (?, ?, 'active', ?, ?, ?, ?, ?)",
  );
  const updateStmt = db.prepare<[string | null, string | null, string, number, string, string]>(
    'UPDATE objects SET key = ?, immutable_id = ?, doc = ?, cseq = ?, pcseq = ? WHERE id = ?',
  );
  const setStateStmt = db.prepare<
    [ObjectState, string | null, string | null, string, number | null, number, string, string]
  >(
    'UPDATE objects SET state = ?, key = ?, immutable_id = ?, doc = ?, deleted_ms = ?, cseq = ?, pcseq = ? WHERE id = ?',
  );
  const countActive = db.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM objects WHERE kind = ? AND state = 'active'",
  );
  const selectAllUsers = db.prepare<[], Row>(
    `SELECT ${COLUMNS} FROM objects WHERE kind = 'user' AND state = 'active' ORDER BY seq`,
  );
  const selectUserPage = db.prepare<[number, number], Row>(
    `SELECT ${COLUMNS} FROM objects WHERE kind = 'user' AND state = 'active' AND seq > ? ORDER BY seq LIMIT ?`,
  );

  const insertLink = db.prepare<[string, string, string]>(
    'INSERT INTO links (rel, source_id, target_id) VALUES (?, ?, ?)',
  );
  const existsLink = db.prepare<[string, string, string], { seq: number }>(
    'SELECT seq FROM links WHERE rel = ? AND source_id = ? AND target_id = ?',
  );
  const deleteLink = db.prepare<[string, string, string]>(
    'DELETE FROM links WHERE rel = ? AND source_id = ? AND target_id = ?',
  );
  const logLink = db.prepare<[number, string, string, string, number]>(
    'INSERT INTO link_log (cseq, rel, source_id, target_id, removed) VALUES (?, ?, ?, ?, ?)',
  );
  const pageLinksStmt = db.prepare<
    [string, string, number, number],
    { seq: number; target_id: string }
  >(
    'SELECT seq, target_id FROM links WHERE rel = ? AND source_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  // INDEXED BY: without statistics SQLite prefers scanning the covering UNIQUE index, which makes
  // "groups this user is in" (every license recompute) linear in all links.
  const linkSourcesStmt = db.prepare<[string, string], { source_id: string }>(
    'SELECT source_id FROM links INDEXED BY links_target WHERE rel = ? AND target_id = ? ORDER BY seq',
  );
  const linksOfObject = db.prepare<
    [string, string],
    { rel: string; source_id: string; target_id: string }
  >('SELECT rel, source_id, target_id FROM links WHERE source_id = ? OR target_id = ?');
  const deleteLinksOfObject = db.prepare<[string, string]>(
    'DELETE FROM links WHERE source_id = ? OR target_id = ?',
  );

  const selectSkus = db.prepare<[], { sku_id: string; doc: string; consumed: number }>(
    'SELECT sku_id, doc, consumed FROM skus ORDER BY rowid',
  );
  const selectSku = db.prepare<[string], { sku_id: string; doc: string; consumed: number }>(
    'SELECT sku_id, doc, consumed FROM skus WHERE sku_id = ?',
  );
  const insertSku = db.prepare<[string, string]>('INSERT INTO skus (sku_id, doc) VALUES (?, ?)');
  const addConsumed = db.prepare<[number, string]>(
    'UPDATE skus SET consumed = max(0, consumed + ?) WHERE sku_id = ?',
  );

  const selectDocs = db.prepare<[string], { doc: string }>(
    'SELECT doc FROM docs WHERE kind = ? ORDER BY rowid',
  );
  const selectDoc = db.prepare<[string, string], { doc: string }>(
    'SELECT doc FROM docs WHERE kind = ? AND id = ?',
  );
  const insertDoc = db.prepare<[string, string, string]>(
    'INSERT INTO docs (kind, id, doc) VALUES (?, ?, ?)',
  );
  const deleteDocsOfKind = db.prepare<[string]>('DELETE FROM docs WHERE kind = ?');

  function keyOf(kind: ObjectKind, doc: DirectoryDocument): string | null {
    const value = kind === 'user' ? doc['userPrincipalName'] : doc['uniqueName'];
    return typeof value === 'string' && value !== '' ? value.toLowerCase() : null;
  }

  function immutableIdOf(kind: ObjectKind, doc: DirectoryDocument): string | null {
    if (kind !== 'user') return null;
    const value = doc['onPremisesImmutableId'];
    return typeof value === 'string' && value !== '' ? value : null;
  }

  // Checked inside the write transaction; the UNIQUE indexes are the backstop.
  function conflictFor(
    kind: ObjectKind,
    doc: DirectoryDocument,
    selfId: string | undefined,
  ): WriteResult {
    const key = keyOf(kind, doc);
    if (key !== null) {
      const owner = selectOwnerOfKey.get(kind, key);
      if (owner !== undefined && owner.id !== selfId) {
        return { ok: false, conflict: kind === 'user' ? 'userPrincipalName' : 'uniqueName' };
      }
    }
    const immutableId = immutableIdOf(kind, doc);
    if (immutableId !== null) {
      const owner = selectOwnerOfImmutable.get(immutableId);
      if (owner !== undefined && owner.id !== selfId) {
        return { ok: false, conflict: 'onPremisesImmutableId' };
      }
    }
    if (addresses.conflicts(doc, selfId)) return { ok: false, conflict: 'proxyAddresses' };
    return { ok: true };
  }

  function allProps(doc: DirectoryDocument, cseq: number): Record<string, number> {
    return Object.fromEntries(Object.keys(doc).map((name) => [name, cseq]));
  }

  function insertObjectTx(kind: ObjectKind, doc: DirectoryDocument): WriteResult {
    const id = doc.id.toLowerCase();
    if (selectById.get(id) !== undefined) return { ok: false, conflict: 'id' };
    const conflict = conflictFor(kind, doc, undefined);
    if (!conflict.ok) return conflict;
    const cseq = nextCseq();
    insertStmt.run(
      id,
      kind,
      keyOf(kind, doc),
      immutableIdOf(kind, doc),
      JSON.stringify({ ...doc, id }),
      cseq,
      JSON.stringify({ ...allProps(doc, cseq), '@created': cseq }),
    );
    addresses.set(id, doc);
    return { ok: true };
  }

  function touch(id: string, props: readonly string[]): number {
    const cseq = nextCseq();
    const pcseq = JSON.parse(selectPcseq.get(id)?.pcseq ?? '{}') as Record<string, number>;
    for (const name of props) pcseq[name] = cseq;
    touchStmt.run(cseq, JSON.stringify(pcseq), id);
    return cseq;
  }

  function updateObjectTx(
    kind: ObjectKind,
    doc: DirectoryDocument,
    changed: readonly string[],
  ): WriteResult {
    const id = doc.id.toLowerCase();
    const row = selectById.get(id);
    if (row === undefined || row.state !== 'active' || row.kind !== kind) {
      throw new Error(`updateObject: no active ${kind} with id ${doc.id}`);
    }
    const conflict = conflictFor(kind, doc, id);
    if (!conflict.ok) return conflict;
    const cseq = nextCseq();
    const pcseq = JSON.parse(selectPcseq.get(id)?.pcseq ?? '{}') as Record<string, number>;
    for (const name of changed) pcseq[name] = cseq;
    updateStmt.run(
      keyOf(kind, doc),
      immutableIdOf(kind, doc),
      JSON.stringify(doc),
      cseq,
      JSON.stringify(pcseq),
      id,
    );
    addresses.set(id, doc);
    return { ok: true };
  }

  function releaseLicenses(doc: DirectoryDocument, sign: 1 | -1): void {
    for (const license of licensesOf(doc)) addConsumed.run(sign, license.skuId);
  }

  // ------------------------------------------------------------------ group-based licensing

  /** An active group's licenses; none for a deleted, purged or missing group. */
  function groupLicensesTx(groupId: string): AssignedLicense[] {
    const row = selectById.get(groupId.toLowerCase());
    if (row === undefined || row.state !== 'active' || row.kind !== 'group') return [];
    return licensesOf(JSON.parse(row.doc) as DirectoryDocument);
  }

  /** User members of a group (any state), in membership order. */
  function memberIdsTx(groupId: string): string[] {
    const out: string[] = [];
    let after = 0;
    for (;;) {
      const links = pageLinksStmt.all('member', groupId.toLowerCase(), after, 1000);
      for (const link of links) out.push(link.target_id);
      const last = links.at(-1);
      if (last === undefined || links.length < 1000) return out;
      after = last.seq;
    }
  }

  /**
   * Recomputes an active user's assignment paths (see licensing.ts) and keeps the SKU
   * consumed-unit counters in step; writes the user only when its licensing changed, so delta
   * reports `assignedLicenses` / `licenseAssignmentStates` exactly when they move. `directs`
   * replaces the direct assignments (user assignLicense); `previouslyHeld` overrides the SKUs
   * the user is taken to hold a seat of (a restored user holds none). Returns the user as
   * stored afterwards, or undefined when it is not an active user.
   */
  function relicenseUserTx(
    userId: string,
    nowMs: number,
    options: { directs?: readonly AssignedLicense[]; previouslyHeld?: ReadonlySet<string> } = {},
  ): UserDocument | undefined {
    const row = selectById.get(userId.toLowerCase());
    if (row === undefined || row.state !== 'active' || row.kind !== 'user') return undefined;
    const user = JSON.parse(row.doc) as UserDocument;
    const grants: GroupGrant[] = linkSourcesStmt
      .all('member', user.id.toLowerCase())
      .map((link) => ({ groupId: link.source_id, licenses: groupLicensesTx(link.source_id) }))
      .filter((grant) => grant.licenses.length > 0);
    const previouslyHeld =
      options.previouslyHeld ?? new Set(licensesOf(user).map((l) => l.skuId.toLowerCase()));
    const previous = assignmentStatesOf(user);
    const result = computeLicenses({
      directs: options.directs ?? directLicensesOf(user),
      grants,
      previous,
      previouslyHeld,
      now: dateTimeOf(nowMs),
      takeSeat: (skuId, required) => {
        const sku = selectSku.get(skuId);
        if (sku === undefined) return false;
        if (!required && sku.consumed >= seatsOf(JSON.parse(sku.doc) as Record<string, unknown>)) {
          return false;
        }
        addConsumed.run(1, skuId);
        return true;
      },
    });
    for (const skuId of previouslyHeld) if (!result.held.has(skuId)) addConsumed.run(-1, skuId);
    const changed: string[] = [];
    if (JSON.stringify(result.assignedLicenses) !== JSON.stringify(licensesOf(user))) {
      changed.push('assignedLicenses');
    }
    if (JSON.stringify(result.states) !== JSON.stringify(previous)) {
      changed.push('licenseAssignmentStates');
    }
    if (changed.length === 0) return user;
    const updated = {
      ...user,
      assignedLicenses: result.assignedLicenses,
      licenseAssignmentStates: result.states,
    } as UserDocument;
    updateObjectTx('user', updated, changed);
    return updated;
  }

  /**
   * Recomputes the user members of a group that carries licenses (in any state: a group in
   * the recycle bin keeps them), or the given ones; a group without licenses costs nothing.
   */
  function relicenseMembersTx(groupId: string, nowMs: number, memberIds?: readonly string[]): void {
    if (licensesOf(groupDocTx(groupId)).length === 0) return;
    for (const memberId of memberIds ?? memberIdsTx(groupId)) relicenseUserTx(memberId, nowMs);
  }

  /** A group's document in any state (licenses survive soft deletion), or an empty one. */
  function groupDocTx(groupId: string): DirectoryDocument {
    const row = selectById.get(groupId.toLowerCase());
    return row === undefined || row.kind !== 'group'
      ? { id: groupId }
      : (JSON.parse(row.doc) as DirectoryDocument);
  }

  function softDeleteTx(id: string, nowMs: number): void {
    const row = selectById.get(id.toLowerCase());
    if (row === undefined || row.state !== 'active') return;
    const doc = JSON.parse(row.doc) as DirectoryDocument;
    if (row.kind === 'user') releaseLicenses(doc, -1);
    const deletedDoc = {
      ...doc,
      deletedDateTime: new Date(nowMs).toISOString().slice(0, 19) + 'Z',
    };
    const cseq = nextCseq();
    const pcseq = JSON.parse(selectPcseq.get(id.toLowerCase())?.pcseq ?? '{}') as Record<
      string,
      number
    >;
    pcseq['@state'] = cseq;
    // A deleted user keeps its UPN in the document but releases the unique key: Entra lets a
    // new user take the name, and restoring the old one then fails with a conflict.
    setStateStmt.run(
      'deleted',
      row.kind === 'group' ? keyOf('group', doc) : null,
      null,
      JSON.stringify(deletedDoc),
      nowMs,
      cseq,
      JSON.stringify(pcseq),
      id.toLowerCase(),
    );
    addresses.clear(id);
    // Members keep their membership in the recycle bin but no longer inherit its licenses.
    if (row.kind === 'group') relicenseMembersTx(id, nowMs);
  }

  function restoreTx(
    id: string,
    given: DirectoryDocument,
    nowMs: number,
    reconcileAddresses: boolean,
  ): WriteResult {
    const row = selectById.get(id.toLowerCase());
    if (row === undefined || row.state !== 'deleted') {
      throw new Error(`restore: no deleted object with id ${id}`);
    }
    // autoReconcileProxyConflict: addresses an active object took meanwhile are dropped.
    const doc = reconcileAddresses
      ? withoutAddresses(given, addresses.heldByOthers(given, id))
      : given;
    const conflict = conflictFor(row.kind, doc, id.toLowerCase());
    if (!conflict.ok) return conflict;
    const cseq = nextCseq();
    const pcseq = JSON.parse(selectPcseq.get(id.toLowerCase())?.pcseq ?? '{}') as Record<
      string,
      number
    >;
    pcseq['@state'] = cseq;
    setStateStmt.run(
      'active',
      keyOf(row.kind, doc),
      immutableIdOf(row.kind, doc),
      JSON.stringify(doc),
      null,
      cseq,
      JSON.stringify(pcseq),
      id.toLowerCase(),
    );
    addresses.set(id, doc);
    // A restored user held no seats in the recycle bin: its direct licenses take theirs back
    // (as before deletion, unchecked) and inherited ones are seat-checked again.
    if (row.kind === 'user') relicenseUserTx(id, nowMs, { previouslyHeld: new Set() });
    else relicenseMembersTx(id, nowMs);
    return { ok: true };
  }

  function purgeTx(id: string, nowMs: number): void {
    const lower = id.toLowerCase();
    const row = selectById.get(lower);
    if (row === undefined || row.state === 'purged') return;
    if (row.state === 'active' && row.kind === 'user') {
      releaseLicenses(JSON.parse(row.doc) as DirectoryDocument, -1);
    }
    // Members of an active licensed group, found before the links go.
    const members =
      row.kind === 'group' &&
      row.state === 'active' &&
      licensesOf(JSON.parse(row.doc) as DirectoryDocument).length > 0
        ? memberIdsTx(lower)
        : [];
    const cseq = nextCseq();
    for (const link of linksOfObject.all(lower, lower)) {
      logLink.run(cseq, link.rel, link.source_id, link.target_id, 1);
    }
    deleteLinksOfObject.run(lower, lower);
    addresses.clear(lower);
    setStateStmt.run(
      'purged',
      null,
      null,
      JSON.stringify({ id: lower }),
      nowMs,
      cseq,
      JSON.stringify({ '@state': cseq }),
      lower,
    );
    // Former members of a purged licensed group lose what they inherited from it.
    for (const memberId of members) relicenseUserTx(memberId, nowMs);
  }

  const expireDeleted = db.prepare<[number], { id: string }>(
    "SELECT id FROM objects WHERE state = 'deleted' AND deleted_ms < ?",
  );
  const dropTombstones = db.prepare<[number]>(
    "DELETE FROM objects WHERE state = 'purged' AND deleted_ms < ?",
  );

  function addLinksTx(
    rel: LinkRelation,
    sourceId: string,
    targetIds: readonly string[],
  ): { ok: true } | { ok: false; existing: string } {
    const source = sourceId.toLowerCase();
    const targets = targetIds.map((t) => t.toLowerCase());
    for (const target of targets) {
      if (existsLink.get(rel, source, target) !== undefined) return { ok: false, existing: target };
    }
    if (new Set(targets).size !== targets.length) {
      return { ok: false, existing: targets.find((t, i) => targets.indexOf(t) !== i) ?? '' };
    }
    if (targets.length === 0) return { ok: true };
    const cseq = touch(source, [linkProperty(rel)]);
    for (const target of targets) {
      insertLink.run(rel, source, target);
      logLink.run(cseq, rel, source, target, 0);
    }
    return { ok: true };
  }

  function removeLinkTx(rel: LinkRelation, sourceId: string, targetId: string): boolean {
    const source = sourceId.toLowerCase();
    const target = targetId.toLowerCase();
    if (existsLink.get(rel, source, target) === undefined) return false;
    deleteLink.run(rel, source, target);
    const cseq = touch(source, [linkProperty(rel)]);
    logLink.run(cseq, rel, source, target, 1);
    return true;
  }

  function setManagerTx(userId: string, managerId: string | null): void {
    const source = userId.toLowerCase();
    const current = pageLinksStmt.get('manager', source, 0, 1)?.target_id;
    if (current === (managerId?.toLowerCase() ?? undefined)) return;
    if (current !== undefined) removeLinkTx('manager', source, current);
    if (managerId !== null) addLinksTx('manager', source, [managerId]);
  }

  function assignLicensesTx(
    userId: string,
    add: readonly AssignedLicense[],
    remove: readonly string[],
    nowMs: number,
  ): LicenseResult {
    const row = selectById.get(userId.toLowerCase());
    if (row === undefined || row.state !== 'active' || row.kind !== 'user') {
      throw new Error(`assignLicenses: no active user ${userId}`);
    }
    const user = JSON.parse(row.doc) as UserDocument;
    const unknown = unknownSku(add, remove);
    if (unknown !== undefined) return { ok: false, reason: 'unknownSku', skuId: unknown };
    const directs = new Map(directLicensesOf(user).map((l) => [l.skuId, l]));
    const inherited = new Set(
      assignmentStatesOf(user)
        .filter((s) => s.assignedByGroup !== null)
        .map((s) => s.skuId.toLowerCase()),
    );
    for (const skuId of remove) {
      const lower = skuId.toLowerCase();
      if (!directs.has(lower) && inherited.has(lower)) {
        return { ok: false, reason: 'inherited', skuId };
      }
    }
    const next = new Map(directs);
    for (const skuId of remove) next.delete(skuId.toLowerCase());
    for (const license of add) {
      next.set(license.skuId.toLowerCase(), {
        skuId: license.skuId.toLowerCase(),
        disabledPlans: license.disabledPlans.map((p) => p.toLowerCase()),
      });
    }
    // A SKU the user already holds (directly or through a group) needs no new seat.
    const held = new Set(licensesOf(user).map((l) => l.skuId.toLowerCase()));
    for (const skuId of next.keys()) {
      if (held.has(skuId)) continue;
      const sku = selectSku.get(skuId);
      if (sku === undefined) return { ok: false, reason: 'unknownSku', skuId };
      if (sku.consumed >= seatsOf(JSON.parse(sku.doc) as Record<string, unknown>)) {
        return { ok: false, reason: 'noSeats', skuId };
      }
    }
    const updated = relicenseUserTx(userId, nowMs, { directs: [...next.values()] }) ?? user;
    return { ok: true, user: updated };
  }

  function assignGroupLicensesTx(
    groupId: string,
    add: readonly AssignedLicense[],
    remove: readonly string[],
    nowMs: number,
  ): GroupLicenseResult {
    const row = selectById.get(groupId.toLowerCase());
    if (row === undefined || row.state !== 'active' || row.kind !== 'group') {
      throw new Error(`assignGroupLicenses: no active group ${groupId}`);
    }
    const group = JSON.parse(row.doc) as DirectoryDocument;
    const unknown = unknownSku(add, remove);
    if (unknown !== undefined) return { ok: false, reason: 'unknownSku', skuId: unknown };
    const current = licensesOf(group);
    const next = new Map(current.map((l) => [l.skuId, l]));
    for (const skuId of remove) next.delete(skuId.toLowerCase());
    for (const license of add) {
      next.set(license.skuId.toLowerCase(), {
        skuId: license.skuId.toLowerCase(),
        disabledPlans: license.disabledPlans.map((p) => p.toLowerCase()),
      });
    }
    const licenses = [...next.values()];
    let updated = group;
    if (JSON.stringify(licenses) !== JSON.stringify(current)) {
      updated = { ...group, assignedLicenses: licenses };
      updateObjectTx('group', updated, ['assignedLicenses']);
    }
    // Every member is recomputed even when the group's licenses did not change, so repeating
    // an assignment retries members that found no free seat before.
    for (const memberId of memberIdsTx(group.id)) relicenseUserTx(memberId, nowMs);
    return { ok: true, group: updated };
  }

  /** The first SKU named in `add` or `remove` that the tenant does not subscribe to. */
  function unknownSku(
    add: readonly AssignedLicense[],
    remove: readonly string[],
  ): string | undefined {
    for (const skuId of [...remove, ...add.map((l) => l.skuId)]) {
      if (selectSku.get(skuId.toLowerCase()) === undefined) return skuId;
    }
    return undefined;
  }

  const changedStmtCache = new Map<string, Database.Statement>();
  function changedObjects(
    kind: ObjectKind,
    since: number,
    upto: number,
    after: { cseq: number; seq: number },
    limit: number,
    props?: readonly string[],
  ): StoredObject[] {
    // Property names come from the user/group schema tables (validated by $select), never
    // from raw input; they are still bound as parameters, only the count shapes the SQL.
    const propCount = props?.length ?? 0;
    const cacheKey = `${kind}:${propCount}`;
    let stmt = changedStmtCache.get(cacheKey);
    if (stmt === undefined) {
      const propClause =
        propCount === 0
          ? ''
          : ` AND (${[...Array(propCount + 2).keys()]
              .map(() => 'coalesce(json_extract(pcseq, ?), 0) > ?')
              .join(' OR ')})`;
      stmt = db.prepare(
        `SELECT ${COLUMNS} FROM objects WHERE kind = ? AND cseq > ? AND cseq <= ? AND (cseq > ? OR (cseq = ? AND seq > ?))${propClause} ORDER BY cseq, seq LIMIT ?`,
      );
      changedStmtCache.set(cacheKey, stmt);
    }
    const propParams =
      propCount === 0
        ? []
        : ['@created', '@state', ...(props ?? [])].flatMap((name) => [
            `$."${name.replace(/"/g, '')}"`,
            since,
          ]);
    const rows = stmt.all(
      kind,
      since,
      upto,
      after.cseq,
      after.cseq,
      after.seq,
      ...propParams,
      limit,
    ) as Row[];
    return rows.map(toStored);
  }

  const objectPageCache = new Map<string, Database.Statement>();
  const objectCountCache = new Map<string, Database.Statement>();

  const seedTx = db.transaction((seed: SeedData, nowMs: number): boolean => {
    if (getMeta.get('seeded') !== undefined || (countActive.get('user')?.n ?? 0) !== 0)
      return false;
    for (const [index, user] of seed.users.entries()) {
      const result = insertObjectTx('user', user);
      if (!result.ok) throw new Error(`seed users[${index}]: duplicate ${result.conflict}`);
    }
    for (const [index, group] of (seed.groups ?? []).entries()) {
      const result = insertObjectTx('group', group);
      if (!result.ok) throw new Error(`seed groups[${index}]: duplicate ${result.conflict}`);
    }
    for (const sku of seed.skus ?? []) {
      const { skuId, ...rest } = sku;
      insertSku.run(skuId.toLowerCase(), JSON.stringify({ ...rest, skuId: skuId.toLowerCase() }));
    }
    for (const link of seed.links ?? []) {
      insertLink.run(link.rel, link.sourceId.toLowerCase(), link.targetId.toLowerCase());
    }
    for (const { kind, doc } of seed.docs ?? []) insertDoc.run(kind, doc.id, JSON.stringify(doc));
    if (seed.domains !== undefined) {
      deleteDocsOfKind.run('domain');
      for (const domain of seed.domains) {
        insertDoc.run('domain', domain.id.toLowerCase(), JSON.stringify(domain));
      }
      setMeta.run('domains', 'seeded');
    } else {
      // Stored by the lowercased name: those already there are kept as they are.
      for (const domain of defaultDomains(defaultDomain, seed.users)) {
        const key = domain.id.toLowerCase();
        if (selectDoc.get('domain', key) === undefined) {
          insertDoc.run('domain', key, JSON.stringify(domain));
        }
      }
    }
    // Seeded licenses consume seats like assigned ones.
    for (const user of seed.users) {
      for (const license of licensesOf(user)) addConsumed.run(1, license.skuId.toLowerCase());
    }
    // Members of seeded licensed groups inherit, in seed order (seats checked as in Entra).
    for (const group of seed.groups ?? []) relicenseMembersTx(group.id, nowMs);
    setMeta.run('seeded', new Date().toISOString());
    return true;
  });
  // Statistics let SQLite pick the expression indexes for $filter (eq/in on mail, employeeId)
  // instead of walking the list index in seq order.
  const analyze = (): void => {
    db.exec('ANALYZE');
  };

  return {
    path: statePath,
    tenantId,
    defaultDomain,
    listUsers: () => selectAllUsers.all().map((row) => toUser(row).user),
    countUsers: () => countActive.get('user')?.n ?? 0,
    pageUsers: (afterSeq, limit) => selectUserPage.all(afterSeq, limit).map(toUser),
    getUserById: (id) => {
      const row = selectById.get(id.toLowerCase());
      return row === undefined || row.kind !== 'user' || row.state !== 'active'
        ? undefined
        : toUser(row);
    },
    getUserByUpn: (upn) => {
      const row = selectByKey.get('user', upn.toLowerCase());
      return row === undefined || row.state !== 'active' ? undefined : toUser(row);
    },
    // IMMEDIATE takes SQLite's write lock before the checks, so a concurrent writer in
    // another process cannot slip a conflicting row between check and write.
    insertUser: (user) => db.transaction(() => insertObjectTx('user', user)).immediate(),
    replaceUser: (user) =>
      db.transaction(() => updateObjectTx('user', user, Object.keys(user))).immediate(),

    getObject: (id) => {
      const row = selectById.get(id.toLowerCase());
      return row === undefined ? undefined : toStored(row);
    },
    getGroupByUniqueName: (uniqueName) => {
      const row = selectByKey.get('group', uniqueName.toLowerCase());
      return row === undefined ? undefined : toStored(row);
    },
    queryObjects: ({ kind, state, afterSeq, limit, where }) => {
      const sql = `SELECT ${COLUMNS} FROM objects WHERE kind = ? AND state = ? AND seq > ?${
        where === undefined ? '' : ` AND (${where.sql})`
      } ORDER BY seq LIMIT ?`;
      let stmt = objectPageCache.get(sql);
      if (stmt === undefined) {
        stmt = db.prepare(sql);
        if (objectPageCache.size < 500) objectPageCache.set(sql, stmt);
      }
      return (stmt.all(kind, state, afterSeq, ...(where?.params ?? []), limit) as Row[]).map(
        toStored,
      );
    },
    countObjects: (kind, state, where) => {
      const sql = `SELECT count(*) AS n FROM objects WHERE kind = ? AND state = ?${
        where === undefined ? '' : ` AND (${where.sql})`
      }`;
      let stmt = objectCountCache.get(sql);
      if (stmt === undefined) {
        stmt = db.prepare(sql);
        if (objectCountCache.size < 500) objectCountCache.set(sql, stmt);
      }
      return (stmt.get(kind, state, ...(where?.params ?? [])) as { n: number }).n;
    },
    insertObject: (kind, doc) => db.transaction(() => insertObjectTx(kind, doc)).immediate(),
    updateObject: (kind, doc, changed) =>
      db.transaction(() => updateObjectTx(kind, doc, changed)).immediate(),
    softDelete: (id, nowMs) => db.transaction(() => softDeleteTx(id, nowMs)).immediate(),
    restore: (id, doc, nowMs, options) =>
      db
        .transaction(() => restoreTx(id, doc, nowMs, options?.reconcileAddresses === true))
        .immediate(),
    purge: (id, nowMs) => db.transaction(() => purgeTx(id, nowMs)).immediate(),
    expire: (deletedBeforeMs, tombstonesBeforeMs) => {
      db.transaction(() => {
        for (const { id } of expireDeleted.all(deletedBeforeMs)) purgeTx(id, deletedBeforeMs);
        dropTombstones.run(tombstonesBeforeMs);
      }).immediate();
      db.pragma('optimize');
    },

    addLinks: (rel, sourceId, targetIds, nowMs) =>
      db
        .transaction(() => {
          const result = addLinksTx(rel, sourceId, targetIds);
          if (result.ok && rel === 'member') relicenseMembersTx(sourceId, nowMs, targetIds);
          return result;
        })
        .immediate(),
    removeLink: (rel, sourceId, targetId, nowMs) =>
      db
        .transaction(() => {
          const removed = removeLinkTx(rel, sourceId, targetId);
          if (removed && rel === 'member') relicenseMembersTx(sourceId, nowMs, [targetId]);
          return removed;
        })
        .immediate(),
    pageLinks: (rel, sourceId, afterSeq, limit) =>
      pageLinksStmt
        .all(rel, sourceId.toLowerCase(), afterSeq, limit)
        .map((r) => ({ seq: r.seq, targetId: r.target_id })),
    linkSources: (rel, targetId) =>
      linkSourcesStmt.all(rel, targetId.toLowerCase()).map((r) => r.source_id),
    setManager: (userId, managerId) =>
      db.transaction(() => setManagerTx(userId, managerId)).immediate(),
    getManagerId: (userId) => pageLinksStmt.get('manager', userId.toLowerCase(), 0, 1)?.target_id,

    listSkus: () =>
      selectSkus.all().map((row) => ({
        skuId: row.sku_id,
        doc: JSON.parse(row.doc) as Record<string, unknown>,
        consumedUnits: row.consumed,
      })),
    assignLicenses: (userId, add, remove, nowMs) =>
      db.transaction(() => assignLicensesTx(userId, add, remove, nowMs)).immediate(),
    assignGroupLicenses: (groupId, add, remove, nowMs) =>
      db.transaction(() => assignGroupLicensesTx(groupId, add, remove, nowMs)).immediate(),

    listDocs: (kind) => selectDocs.all(kind).map((r) => JSON.parse(r.doc) as DirectoryDocument),
    getDoc: (kind, id) => {
      const row = selectDoc.get(kind, id);
      return row === undefined ? undefined : (JSON.parse(row.doc) as DirectoryDocument);
    },

    currentCseq: () => currentCseqStmt.get()?.value ?? 0,
    changedObjects,
    linkChanges: (rel, sourceIds, since, upto) => {
      if (sourceIds.length === 0) return [];
      const rows = db
        .prepare(
          `SELECT cseq, source_id, target_id, removed FROM link_log WHERE rel = ? AND cseq > ? AND cseq <= ? AND source_id IN (${sourceIds
            .map(() => '?')
            .join(',')}) ORDER BY cseq`,
        )
        .all(rel, since, upto, ...sourceIds.map((s) => s.toLowerCase())) as {
        cseq: number;
        source_id: string;
        target_id: string;
        removed: number;
      }[];
      return rows.map((r) => ({
        cseq: r.cseq,
        sourceId: r.source_id,
        targetId: r.target_id,
        removed: r.removed === 1,
      }));
    },

    seedIfNew: (seed, nowMs = Date.now()) => {
      const seeded = seedTx.immediate(
        Array.isArray(seed) ? { users: seed } : (seed as SeedData),
        nowMs,
      );
      if (seeded) analyze();
      return seeded;
    },
    transaction: (fn) => db.transaction(fn).immediate(),
    close: () => db.close(),
  };
}

/** The delta-visible name of a link relation on its source object. */
function linkProperty(rel: LinkRelation): string {
  return rel === 'member' ? 'members' : rel === 'owner' ? 'owners' : rel;
}

/** A user's or group's `assignedLicenses` (the SKUs a user holds a seat of), lowercased. */
export function licensesOf(doc: DirectoryDocument): AssignedLicense[] {
  return assignedLicensesOf(doc);
}

/** Graph's DateTimeOffset form, to the second (`lastUpdatedDateTime`). */
function dateTimeOf(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Seats that can be assigned: enabled plus warning units (warning units still work). */
export function seatsOf(sku: Readonly<Record<string, unknown>>): number {
  const prepaid = sku['prepaidUnits'];
  if (typeof prepaid !== 'object' || prepaid === null) return 0;
  const units = prepaid as Record<string, unknown>;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return n(units['enabled']) + n(units['warning']);
}

/** v1 held users only, in a `users` table; v2 keeps them as `objects` of kind user. */
function migrateFromV1(db: Database.Database): void {
  db.exec(SCHEMA);
  db.exec(`
    INSERT INTO objects (seq, id, kind, state, key, immutable_id, doc, cseq, pcseq)
      SELECT seq, id, 'user', 'active', upn_lower, immutable_id, doc, seq, '{}' FROM users;
    UPDATE counters SET value = (SELECT coalesce(max(seq), 0) FROM users) WHERE name = 'cseq';
    DROP TABLE users;
  `);
}
