/**
 * Authentication methods: the `auth_methods` table (one Temporary Access Pass per user, keyed
 * by user id, without the pass itself) and the authentication methods policy's configurations,
 * kept in the `docs` table (kind `authenticationMethodConfiguration`, keyed by configuration id)
 * so a seed sets them like any other directory document. The table is created on open (`IF NOT
 * EXISTS`), so states made before TAPs were modelled gain it without a schema step.
 */
import type Database from 'better-sqlite3';
import type { DirectoryDocument, TemporaryAccessPassRecord } from './model.js';

export type AuthenticationMethods = ReturnType<typeof createAuthenticationMethods>;

export function createAuthenticationMethods(db: Database.Database) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS auth_methods (
      user_id TEXT PRIMARY KEY,
      doc TEXT NOT NULL
    );
  `);
  const select = db.prepare<[string], { doc: string }>(
    'SELECT doc FROM auth_methods WHERE user_id = ?',
  );
  const upsert = db.prepare<[string, string]>(
    'INSERT INTO auth_methods (user_id, doc) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc',
  );
  const remove = db.prepare<[string, string]>(
    "DELETE FROM auth_methods WHERE user_id = ? AND lower(json_extract(doc, '$.id')) = lower(?)",
  );
  const selectConfig = db.prepare<[string], { doc: string }>(
    "SELECT doc FROM docs WHERE kind = 'authenticationMethodConfiguration' AND lower(id) = lower(?)",
  );
  const upsertConfig = db.prepare<[string, string]>(
    "INSERT INTO docs (kind, id, doc) VALUES ('authenticationMethodConfiguration', ?, ?) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc",
  );
  return {
    getTemporaryAccessPass: (userId: string): TemporaryAccessPassRecord | undefined => {
      const row = select.get(userId.toLowerCase());
      return row === undefined ? undefined : (JSON.parse(row.doc) as TemporaryAccessPassRecord);
    },
    /** Replaces the user's pass, if any (Graph deletes the previous one). */
    putTemporaryAccessPassTx: (userId: string, record: TemporaryAccessPassRecord): void => {
      upsert.run(userId.toLowerCase(), JSON.stringify(record));
    },
    deleteTemporaryAccessPassTx: (userId: string, methodId: string): boolean =>
      remove.run(userId.toLowerCase(), methodId).changes > 0,
    /** A stored configuration (`TemporaryAccessPass`, any case), or undefined: the default applies. */
    getMethodConfiguration: (id: string): DirectoryDocument | undefined => {
      const row = selectConfig.get(id);
      return row === undefined ? undefined : (JSON.parse(row.doc) as DirectoryDocument);
    },
    putMethodConfigurationTx: (doc: DirectoryDocument): void => {
      upsertConfig.run(doc.id, JSON.stringify(doc));
    },
  };
}
