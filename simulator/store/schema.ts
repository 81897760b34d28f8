/**
 * Opening a state: the SQLite connection, the schema (and the v1 -> v2 migration), and the
 * once-per-state setup every open checks: address index, built-in role definitions, default
 * domains, tenant id. See ../store.ts for the layout.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ADDRESS_SCHEMA, createAddressIndex } from '../addresses.js';
import { defaultDomains, INITIAL_DOMAIN } from '../domains.js';
import { roleDefinitionDocs } from '../roles.js';

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

/** The `meta` table: one string per key (schema version, tenant id, what was set up once). */
export interface StateMeta {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** The connection with its pragmas, and the `meta` table (created first: it says the version). */
export function openDatabase(statePath: string | undefined): {
  readonly db: Database.Database;
  readonly meta: StateMeta;
} {
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
  return {
    db,
    meta: {
      get: (key) => getMeta.get(key)?.value,
      set: (key, value) => {
        setMeta.run(key, value);
      },
    },
  };
}

/**
 * Brings the state to the current schema and runs the once-per-state setup, in one immediate
 * transaction (two processes opening one new file set it up once). Returns the state's tenant
 * id (`tenantId` for a new state; an existing state must not be asked for another) and its
 * initial domain.
 */
export function initialiseState(
  db: Database.Database,
  meta: StateMeta,
  statePath: string | undefined,
  tenantId: string | undefined,
): { readonly tenantId: string; readonly defaultDomain: string } {
  const stored = db
    .transaction((): string => {
      const version = meta.get('schemaVersion');
      if (version === '1') migrateFromV1(db);
      else if (version !== undefined && version !== SCHEMA_VERSION) {
        throw new Error(
          `Simulator state ${statePath ?? ':memory:'} has schema version ${version}; this simulator reads version ${SCHEMA_VERSION}.`,
        );
      }
      db.exec(SCHEMA);
      db.exec(ADDRESS_SCHEMA);
      // Mail addresses: indexed once per state (a state from before they were indexed).
      if (meta.get('addresses') === undefined) {
        createAddressIndex(db).backfill();
        meta.set('addresses', 'indexed');
      }
      meta.set('schemaVersion', SCHEMA_VERSION);
      if (meta.get('defaultDomain') === undefined) meta.set('defaultDomain', DEFAULT_DOMAIN);
      const insertRole = db.prepare<[string, string]>(
        "INSERT OR IGNORE INTO docs (kind, id, doc) VALUES ('roleDefinition', ?, ?)",
      );
      for (const role of roleDefinitionDocs()) insertRole.run(role.id, JSON.stringify(role));
      if (meta.get('domains') === undefined) addDefaultDomains(db, meta);
      return claimTenantId(meta, statePath, tenantId);
    })
    .immediate();
  return { tenantId: stored, defaultDomain: meta.get('defaultDomain') ?? DEFAULT_DOMAIN };
}

/**
 * Domains: once per state. A state from before domains were modelled gets the defaults plus
 * the domains its users are in, so none of its users sits in an unverified domain.
 */
function addDefaultDomains(db: Database.Database, meta: StateMeta): void {
  const users = (
    db
      .prepare("SELECT doc FROM objects WHERE kind = 'user' AND state IN ('active', 'deleted')")
      .all() as { doc: string }[]
  ).map((r) => JSON.parse(r.doc) as Record<string, unknown>);
  const insertDomain = db.prepare<[string, string]>(
    "INSERT OR REPLACE INTO docs (kind, id, doc) VALUES ('domain', ?, ?)",
  );
  const initial = meta.get('defaultDomain') ?? DEFAULT_DOMAIN;
  for (const domain of defaultDomains(initial, users)) {
    insertDomain.run(domain.id.toLowerCase(), JSON.stringify(domain));
  }
  meta.set('domains', 'default');
}

/** The stored tenant id, or `asked` (default: DEFAULT_TENANT_ID) stored for a new state. */
function claimTenantId(
  meta: StateMeta,
  statePath: string | undefined,
  asked: string | undefined,
): string {
  const stored = meta.get('tenantId');
  if (stored !== undefined) {
    if (asked !== undefined && asked.toLowerCase() !== stored) {
      throw new Error(
        `Simulator state ${statePath ?? ':memory:'} belongs to tenant ${stored}, not ${asked}.`,
      );
    }
    return stored;
  }
  const chosen = (asked ?? DEFAULT_TENANT_ID).toLowerCase();
  meta.set('tenantId', chosen);
  return chosen;
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
