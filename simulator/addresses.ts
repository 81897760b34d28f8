/**
 * Mail addresses are unique across the directory, as Entra enforces them: a user's `mail` is
 * copied into its `proxyAddresses` as the primary `SMTP:` address ("Changes to the mail property
 * update this collection to include the value as an SMTP address", user resource, Graph v1.0),
 * and proxy addresses are unique across users and groups. A write that would give an object an
 * address another active object holds (as mail or as an `smtp:` proxy address, any case) is
 * refused with 400 `Request_BadRequest` "Another object with the same value for property
 * proxyAddresses already exists." and an `ObjectConflict` detail targeting `proxyAddresses` (the
 * shape observed in microsoftgraph/microsoft-graph-docs-contrib#8421). Objects in the recycle bin
 * hold no address: an active object may take it, and restoring the deleted one then conflicts
 * unless the restore asks Entra to drop the conflicting addresses (`autoReconcileProxyConflict`).
 *
 * The index is a table `addresses (address -> object id)` kept in the same transactions as the
 * objects it indexes, so a check costs one lookup per address, not a scan of the tenant.
 */
import type Database from 'better-sqlite3';
import type { DirectoryDocument } from './store/model.js';

export const ADDRESS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS addresses (address TEXT PRIMARY KEY, object_id TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS addresses_object ON addresses (object_id);
`;

/** The lowercased mail addresses a document holds: its mail and its `smtp:` proxy addresses. */
export function addressKeysOf(doc: Readonly<Record<string, unknown>>): string[] {
  const out = new Set<string>();
  const mail = doc['mail'];
  if (typeof mail === 'string' && mail !== '') out.add(mail.toLowerCase());
  const proxies = doc['proxyAddresses'];
  if (Array.isArray(proxies)) {
    for (const p of proxies) {
      if (typeof p === 'string' && p.length > 5 && p.slice(0, 5).toLowerCase() === 'smtp:') {
        out.add(p.slice(5).toLowerCase());
      }
    }
  }
  return [...out];
}

/**
 * `proxyAddresses` after `mail` is set to `mail`: the new mail is the primary `SMTP:` address
 * and every other address is kept as a secondary `smtp:` one (Entra keeps the old primary as an
 * alias). A cleared mail leaves the collection as it was.
 */
export function proxiesWithMail(proxies: unknown, mail: unknown): string[] | undefined {
  const old = Array.isArray(proxies)
    ? proxies.filter((p): p is string => typeof p === 'string')
    : [];
  if (typeof mail !== 'string' || mail === '') return old.length > 0 ? old : undefined;
  const key = mail.toLowerCase();
  const rest = old
    .filter((p) => p.slice(5).toLowerCase() !== key || p.slice(0, 5).toLowerCase() !== 'smtp:')
    .map((p) => (p.slice(0, 5).toLowerCase() === 'smtp:' ? `smtp:${p.slice(5)}` : p));
  return [`SMTP:${mail}`, ...rest];
}

/** The document without the given (lowercased) addresses: as mail, cleared; as proxies, dropped. */
export function withoutAddresses(
  doc: DirectoryDocument,
  drop: readonly string[],
): DirectoryDocument {
  if (drop.length === 0) return doc;
  const gone = new Set(drop);
  const out: Record<string, unknown> = { ...doc };
  const mail = doc['mail'];
  if (typeof mail === 'string' && gone.has(mail.toLowerCase())) delete out['mail'];
  const proxies = doc['proxyAddresses'];
  if (Array.isArray(proxies)) {
    out['proxyAddresses'] = proxies.filter(
      (p) =>
        typeof p !== 'string' ||
        p.slice(0, 5).toLowerCase() !== 'smtp:' ||
        !gone.has(p.slice(5).toLowerCase()),
    );
  }
  return out as DirectoryDocument;
}

export interface AddressIndex {
  /** Whether another object (not `selfId`) holds one of the document's addresses. */
  conflicts(doc: DirectoryDocument, selfId: string | undefined): boolean;
  /** Addresses of the document another object holds. */
  heldByOthers(doc: DirectoryDocument, selfId: string): string[];
  /** The object's addresses become the document's. */
  set(id: string, doc: DirectoryDocument): void;
  /** The object holds no address any more (recycle bin, purge). */
  clear(id: string): void;
  /** Indexes every active object (a state from before addresses were indexed). */
  backfill(): void;
}

export function createAddressIndex(db: Database.Database): AddressIndex {
  const owner = db.prepare<[string], { object_id: string }>(
    'SELECT object_id FROM addresses WHERE address = ?',
  );
  const insert = db.prepare<[string, string]>(
    'INSERT OR IGNORE INTO addresses (address, object_id) VALUES (?, ?)',
  );
  const clearStmt = db.prepare<[string]>('DELETE FROM addresses WHERE object_id = ?');
  const heldByOthers = (doc: DirectoryDocument, selfId: string | undefined): string[] =>
    addressKeysOf(doc).filter((a) => {
      const held = owner.get(a);
      return held !== undefined && held.object_id !== selfId;
    });
  return {
    conflicts: (doc, selfId) => heldByOthers(doc, selfId?.toLowerCase()).length > 0,
    heldByOthers: (doc, selfId) => heldByOthers(doc, selfId.toLowerCase()),
    set(id, doc) {
      clearStmt.run(id.toLowerCase());
      for (const a of addressKeysOf(doc)) insert.run(a, id.toLowerCase());
    },
    clear(id) {
      clearStmt.run(id.toLowerCase());
    },
    backfill() {
      const rows = db
        .prepare("SELECT id, doc FROM objects WHERE state = 'active' ORDER BY seq")
        .all() as { id: string; doc: string }[];
      for (const row of rows) {
        for (const a of addressKeysOf(JSON.parse(row.doc) as Record<string, unknown>)) {
          insert.run(a, row.id);
        }
      }
    },
  };
}
