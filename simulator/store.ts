/**
 * The simulated tenant's state in SQLite (better-sqlite3, WAL). Every request reads the database
 * afresh, so a second process opened on the same file sees the same tenant at once; nothing is
 * cached in memory.
 *
 * Each user is one JSON document in Graph's property names. Three columns are derived from it
 * for the constraints Entra enforces: `id`, the lowercased UPN (unique; Entra compares UPNs
 * case-insensitively) and `onPremisesImmutableId` (unique when set). `seq` is the insertion
 * order; list pages are keyset ranges over it (`seq > last`), so paging is stable while writes
 * happen and costs O(page).
 *
 * Secrets never reach this file: user documents hold no password, and client secrets and tokens
 * live only in the memory of the process that issued them.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** A user as stored: Graph property names to JSON values; unset properties are absent. */
export type UserDocument = Readonly<Record<string, unknown>> & {
  readonly id: string;
  readonly userPrincipalName: string;
};

export interface StoredUser {
  readonly seq: number;
  readonly user: UserDocument;
}

export type WriteResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly conflict: 'userPrincipalName' | 'onPremisesImmutableId' | 'id' };

export interface TenantStore {
  /** The SQLite file, or undefined for an in-memory tenant. */
  readonly path: string | undefined;
  readonly tenantId: string;
  /** Every user in insertion order. For tests and tooling; Graph reads go through `pageUsers`. */
  listUsers(): UserDocument[];
  countUsers(): number;
  /** Up to `limit` users with `seq > afterSeq`, in insertion order. */
  pageUsers(afterSeq: number, limit: number): StoredUser[];
  getUserById(id: string): StoredUser | undefined;
  /** Case-insensitive, as Entra matches UPNs. */
  getUserByUpn(userPrincipalName: string): StoredUser | undefined;
  insertUser(user: UserDocument): WriteResult;
  /** Replaces the document of the user with `user.id`; the user must exist. */
  replaceUser(user: UserDocument): WriteResult;
  /**
   * Inserts `users` only if this state was never seeded and holds no users; returns whether it
   * did. Atomic across processes, so two simulators starting on one new file seed it once.
   */
  seedIfNew(users: readonly UserDocument[]): boolean;
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

const SCHEMA_VERSION = '1';

export function openTenantStore(
  statePath?: string,
  options: OpenTenantStoreOptions = {},
): TenantStore {
  if (statePath) mkdirSync(dirname(statePath), { recursive: true });
  const db = new Database(statePath ?? ':memory:');
  db.pragma('busy_timeout = 5000');
  if (statePath !== undefined) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');

  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS users (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      upn_lower TEXT NOT NULL UNIQUE,
      immutable_id TEXT UNIQUE,
      doc TEXT NOT NULL
    );
  `);

  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const setMeta = db.prepare<[string, string]>(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );

  const tenantId = db
    .transaction((): string => {
      const version = getMeta.get('schemaVersion')?.value;
      if (version !== undefined && version !== SCHEMA_VERSION) {
        throw new Error(
          `Simulator state ${statePath ?? ':memory:'} has schema version ${version}; this simulator reads version ${SCHEMA_VERSION}.`,
        );
      }
      setMeta.run('schemaVersion', SCHEMA_VERSION);
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

  type Row = { seq: number; doc: string };
  const toStored = (row: Row): StoredUser => ({
    seq: row.seq,
    user: JSON.parse(row.doc) as UserDocument,
  });

  const selectAll = db.prepare<[], Row>('SELECT seq, doc FROM users ORDER BY seq');
  const selectCount = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users');
  const selectPage = db.prepare<[number, number], Row>(
    'SELECT seq, doc FROM users WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const selectById = db.prepare<[string], Row>('SELECT seq, doc FROM users WHERE id = ?');
  const selectByUpn = db.prepare<[string], Row>('SELECT seq, doc FROM users WHERE upn_lower = ?');
  const selectByImmutableId = db.prepare<[string], { id: string }>(
    'SELECT id FROM users WHERE immutable_id = ?',
  );
  const selectIdByUpn = db.prepare<[string], { id: string }>(
    'SELECT id FROM users WHERE upn_lower = ?',
  );
  const insert = db.prepare<[string, string, string | null, string]>(
    'INSERT INTO users (id, upn_lower, immutable_id, doc) VALUES (?, ?, ?, ?)',
  );
  const update = db.prepare<[string, string | null, string, string]>(
    'UPDATE users SET upn_lower = ?, immutable_id = ?, doc = ? WHERE id = ?',
  );

  // Checked inside the write transaction; the UNIQUE columns are the backstop.
  function conflictFor(user: UserDocument, selfId: string | undefined): WriteResult {
    const upnOwner = selectIdByUpn.get(user.userPrincipalName.toLowerCase());
    if (upnOwner !== undefined && upnOwner.id !== selfId) {
      return { ok: false, conflict: 'userPrincipalName' };
    }
    const immutableId = immutableIdOf(user);
    if (immutableId !== null) {
      const owner = selectByImmutableId.get(immutableId);
      if (owner !== undefined && owner.id !== selfId) {
        return { ok: false, conflict: 'onPremisesImmutableId' };
      }
    }
    return { ok: true };
  }

  const insertTx = db.transaction((user: UserDocument): WriteResult => {
    if (selectById.get(user.id.toLowerCase()) !== undefined) return { ok: false, conflict: 'id' };
    const conflict = conflictFor(user, undefined);
    if (!conflict.ok) return conflict;
    insert.run(
      user.id.toLowerCase(),
      user.userPrincipalName.toLowerCase(),
      immutableIdOf(user),
      JSON.stringify(user),
    );
    return { ok: true };
  });

  const replaceTx = db.transaction((user: UserDocument): WriteResult => {
    const id = user.id.toLowerCase();
    if (selectById.get(id) === undefined) {
      throw new Error(`replaceUser: no user with id ${user.id}`);
    }
    const conflict = conflictFor(user, id);
    if (!conflict.ok) return conflict;
    update.run(user.userPrincipalName.toLowerCase(), immutableIdOf(user), JSON.stringify(user), id);
    return { ok: true };
  });

  const seedTx = db.transaction((users: readonly UserDocument[]): boolean => {
    if (getMeta.get('seeded') !== undefined || selectCount.get()?.n !== 0) return false;
    for (const [index, user] of users.entries()) {
      const result = insertTx(user);
      if (!result.ok) {
        throw new Error(`seed users[${index}]: duplicate ${result.conflict}`);
      }
    }
    setMeta.run('seeded', new Date().toISOString());
    return true;
  });

  return {
    path: statePath,
    tenantId,
    listUsers: () => selectAll.all().map((row) => toStored(row).user),
    countUsers: () => selectCount.get()?.n ?? 0,
    pageUsers: (afterSeq, limit) => selectPage.all(afterSeq, limit).map(toStored),
    getUserById: (id) => {
      const row = selectById.get(id.toLowerCase());
      return row === undefined ? undefined : toStored(row);
    },
    getUserByUpn: (upn) => {
      const row = selectByUpn.get(upn.toLowerCase());
      return row === undefined ? undefined : toStored(row);
    },
    // IMMEDIATE takes SQLite's write lock before the checks, so a concurrent writer in
    // another process cannot slip a conflicting row between check and write.
    insertUser: (user) => insertTx.immediate(user),
    replaceUser: (user) => replaceTx.immediate(user),
    seedIfNew: (users) => seedTx.immediate(users),
    close: () => db.close(),
  };
}

function immutableIdOf(user: UserDocument): string | null {
  const value = user['onPremisesImmutableId'];
  return typeof value === 'string' && value !== '' ? value : null;
}
