/**
 * The `objects` table (users and groups in every state) and the tenant-wide change sequence:
 * reads, keyset pages, delta's change windows, and the writes every other part of the store
 * goes through, which keep the unique keys, the address index and the per-property change
 * sequences (`pcseq`) in step. Writes here run inside the caller's transaction.
 */
import type Database from 'better-sqlite3';
import type { AddressIndex } from '../addresses.js';
import { createAddressIndex } from '../addresses.js';
import type {
  DirectoryDocument,
  ObjectKind,
  ObjectQuery,
  ObjectState,
  SqlFilter,
  StoredObject,
  StoredUser,
  UserDocument,
  WriteResult,
} from './model.js';

/** An `objects` row as the store reads it. */
export interface ObjectRow {
  readonly seq: number;
  readonly kind: ObjectKind;
  readonly state: ObjectState;
  readonly doc: string;
  readonly cseq: number;
  readonly deleted_ms: number | null;
}

const COLUMNS = 'seq, kind, state, doc, cseq, deleted_ms';

const toStored = (row: ObjectRow): StoredObject => ({
  seq: row.seq,
  kind: row.kind,
  state: row.state,
  doc: JSON.parse(row.doc) as DirectoryDocument,
  cseq: row.cseq,
  deletedMs: row.deleted_ms,
});

/** The unique key of an object: lowercased UPN for users, uniqueName for groups. */
export function keyOf(kind: ObjectKind, doc: DirectoryDocument): string | null {
  const value = kind === 'user' ? doc['userPrincipalName'] : doc['uniqueName'];
  return typeof value === 'string' && value !== '' ? value.toLowerCase() : null;
}

export function immutableIdOf(kind: ObjectKind, doc: DirectoryDocument): string | null {
  if (kind !== 'user') return null;
  const value = doc['onPremisesImmutableId'];
  return typeof value === 'string' && value !== '' ? value : null;
}

function allProps(doc: DirectoryDocument, cseq: number): Record<string, number> {
  return Object.fromEntries(Object.keys(doc).map((name) => [name, cseq]));
}

/** A state change of one object (recycle bin, restore, purge), as `setState` writes it. */
export interface StateChange {
  readonly state: ObjectState;
  readonly key: string | null;
  readonly immutableId: string | null;
  readonly doc: DirectoryDocument;
  readonly deletedMs: number | null;
  readonly cseq: number;
  readonly pcseq: Readonly<Record<string, number>>;
}

export type ObjectTable = ReturnType<typeof createObjectTable>;

export function createObjectTable(db: Database.Database) {
  const nextCseqStmt = db.prepare<[], { value: number }>(
    "UPDATE counters SET value = value + 1 WHERE name = 'cseq' RETURNING value",
  );
  const currentCseqStmt = db.prepare<[], { value: number }>(
    "SELECT value FROM counters WHERE name = 'cseq'",
  );
  const nextCseq = (): number => nextCseqStmt.get()?.value ?? 0;
  const addresses = createAddressIndex(db);

  const selectById = db.prepare<[string], ObjectRow>(`SELECT ${COLUMNS} FROM objects WHERE id = ?`);
  const selectByKey = db.prepare<[string, string], ObjectRow>(
    `SELECT ${COLUMNS} FROM objects WHERE kind = ? AND key = ?`,
  );
  const { selectPcseq, touchStmt, insertStmt, updateStmt, setStateStmt } = prepareObjectWrites(db);
  const countActive = db.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM objects WHERE kind = ? AND state = 'active'",
  );
  const conflictFor = createConflictCheck(db, addresses);

  /** The stored per-property change sequences of an object (`id` lowercased). */
  const propertySeqs = (id: string): Record<string, number> =>
    JSON.parse(selectPcseq.get(id)?.pcseq ?? '{}') as Record<string, number>;

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

  /** Stamps a new change sequence on `id` and on the named (delta-visible) properties. */
  function touch(id: string, props: readonly string[]): number {
    const cseq = nextCseq();
    const pcseq = propertySeqs(id);
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
    const pcseq = propertySeqs(id);
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

  const { setState, changeState } = createStateChanges(setStateStmt, nextCseq, propertySeqs);

  return {
    addresses,
    nextCseq,
    currentCseq: (): number => currentCseqStmt.get()?.value ?? 0,
    /** The row of `id` (lowercased) in any state. */
    rowById: (id: string): ObjectRow | undefined => selectById.get(id),
    countActive: (kind: ObjectKind): number => countActive.get(kind)?.n ?? 0,
    conflictFor,
    insertObjectTx,
    updateObjectTx,
    touch,
    setState,
    changeState,
    ...createObjectQueries(db, selectById, selectByKey),
  };
}

/** State changes (recycle bin, restore, purge) as `setStateStmt` writes them. */
function createStateChanges(
  setStateStmt: ReturnType<typeof prepareObjectWrites>['setStateStmt'],
  nextCseq: () => number,
  propertySeqs: (id: string) => Record<string, number>,
) {
  /** Moves `id` (lowercased) to another state, stamping `@state` with a new change sequence. */
  function changeState(id: string, change: Omit<StateChange, 'cseq' | 'pcseq'>): void {
    const cseq = nextCseq();
    const pcseq = propertySeqs(id);
    pcseq['@state'] = cseq;
    setState(id, { ...change, cseq, pcseq });
  }

  function setState(id: string, change: StateChange): void {
    setStateStmt.run(
      change.state,
      change.key,
      change.immutableId,
      JSON.stringify(change.doc),
      change.deletedMs,
      change.cseq,
      JSON.stringify(change.pcseq),
      id,
    );
  }

  return { setState, changeState };
}

/** The statements behind the object writes (see createObjectTable). */
function prepareObjectWrites(db: Database.Database) {
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
  return { selectPcseq, touchStmt, insertStmt, updateStmt, setStateStmt };
}

/**
 * Whether a write of `doc` would take a unique key, immutable id or mail address another
 * object holds. Checked inside the write transaction; the UNIQUE indexes are the backstop.
 */
function createConflictCheck(
  db: Database.Database,
  addresses: AddressIndex,
): (kind: ObjectKind, doc: DirectoryDocument, selfId: string | undefined) => WriteResult {
  const selectOwnerOfKey = db.prepare<[string, string], { id: string }>(
    'SELECT id FROM objects WHERE kind = ? AND key = ?',
  );
  // The issuer + issuerAssignedId pair of an identity is unique in the tenant. A scan, run
  // only for a user carrying identities other than its userPrincipalName one (whose
  // uniqueness the UPN key already ensures), so seeding a large tenant does not pay for it.
  const selectOwnerOfIdentity = db.prepare<[string, string], { id: string }>(
    `SELECT o.id FROM objects o, json_each(o.doc, '$.identities') i
     WHERE o.kind = 'user' AND o.state = 'active'
       AND lower(json_extract(i.value, '$.issuer')) = ?
       AND lower(json_extract(i.value, '$.issuerAssignedId')) = ? LIMIT 1`,
  );
  const selectOwnerOfImmutable = db.prepare<[string], { id: string }>(
    'SELECT id FROM objects WHERE immutable_id = ?',
  );
  return (kind, doc, selfId) => {
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
    if (kind === 'user') {
      for (const [issuer, assigned] of localIdentities(doc)) {
        const owner = selectOwnerOfIdentity.get(issuer, assigned);
        if (owner !== undefined && owner.id !== selfId)
          return { ok: false, conflict: 'identities' };
      }
    }
    return { ok: true };
  };
}

/** Lowercased [issuer, issuerAssignedId] of a user's identities other than the UPN one. */
function localIdentities(doc: DirectoryDocument): [string, string][] {
  const list = doc['identities'];
  if (!Array.isArray(list)) return [];
  return (list as Record<string, unknown>[])
    .filter((i) => i['signInType'] !== 'userPrincipalName')
    .map((i) => [String(i['issuer']).toLowerCase(), String(i['issuerAssignedId']).toLowerCase()]);
}

/** The read side of `objects`: users, keyset pages with filters, and delta's change windows. */
function createObjectQueries(
  db: Database.Database,
  selectById: Database.Statement<[string], ObjectRow>,
  selectByKey: Database.Statement<[string, string], ObjectRow>,
) {
  const selectAllUsers = db.prepare<[], ObjectRow>(
    `SELECT ${COLUMNS} FROM objects WHERE kind = 'user' AND state = 'active' ORDER BY seq`,
  );
  const selectUserPage = db.prepare<[number, number], ObjectRow>(
    `SELECT ${COLUMNS} FROM objects WHERE kind = 'user' AND state = 'active' AND seq > ? ORDER BY seq LIMIT ?`,
  );
  const toUser = (row: ObjectRow): StoredUser => ({
    seq: row.seq,
    user: JSON.parse(row.doc) as UserDocument,
  });
  const objectPageCache = new Map<string, Database.Statement>();
  const objectCountCache = new Map<string, Database.Statement>();
  /** A statement for `sql`, prepared once; at most 500 filter shapes are kept. */
  const cached = (cache: Map<string, Database.Statement>, sql: string): Database.Statement => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      if (cache.size < 500) cache.set(sql, stmt);
    }
    return stmt;
  };

  return {
    listUsers: () => selectAllUsers.all().map((row) => toUser(row).user),
    pageUsers: (afterSeq: number, limit: number) => selectUserPage.all(afterSeq, limit).map(toUser),
    getUserById: (id: string): StoredUser | undefined => {
      const row = selectById.get(id.toLowerCase());
      return row === undefined || row.kind !== 'user' || row.state !== 'active'
        ? undefined
        : toUser(row);
    },
    getUserByUpn: (upn: string): StoredUser | undefined => {
      const row = selectByKey.get('user', upn.toLowerCase());
      return row === undefined || row.state !== 'active' ? undefined : toUser(row);
    },
    getObject: (id: string): StoredObject | undefined => {
      const row = selectById.get(id.toLowerCase());
      return row === undefined ? undefined : toStored(row);
    },
    getGroupByUniqueName: (uniqueName: string): StoredObject | undefined => {
      const row = selectByKey.get('group', uniqueName.toLowerCase());
      return row === undefined ? undefined : toStored(row);
    },
    queryObjects: ({ kind, state, afterSeq, limit, where }: ObjectQuery): StoredObject[] => {
      const sql = `SELECT ${COLUMNS} FROM objects WHERE kind = ? AND state = ? AND seq > ?${
        where === undefined ? '' : ` AND (${where.sql})`
      } ORDER BY seq LIMIT ?`;
      const stmt = cached(objectPageCache, sql);
      return (stmt.all(kind, state, afterSeq, ...(where?.params ?? []), limit) as ObjectRow[]).map(
        toStored,
      );
    },
    countObjects: (kind: ObjectKind, state: ObjectState, where?: SqlFilter): number => {
      const sql = `SELECT count(*) AS n FROM objects WHERE kind = ? AND state = ?${
        where === undefined ? '' : ` AND (${where.sql})`
      }`;
      const stmt = cached(objectCountCache, sql);
      return (stmt.get(kind, state, ...(where?.params ?? [])) as { n: number }).n;
    },
    changedObjects: createChangedObjects(db),
  };
}

/** Delta's window query (see TenantStore.changedObjects), one statement per kind and `$select` size. */
function createChangedObjects(db: Database.Database) {
  const changedStmtCache = new Map<string, Database.Statement>();
  return function changedObjects(
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
    ) as ObjectRow[];
    return rows.map(toStored);
  };
}
