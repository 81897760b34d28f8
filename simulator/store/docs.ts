/**
 * The `docs` table: read-mostly directory data (role assignments, PIM eligibility schedules,
 * administrative units, role definitions, domains) as JSON documents keyed by kind and id.
 */
import type Database from 'better-sqlite3';
import type { DirectoryDocument, DocKind } from './model.js';

export type DocTable = ReturnType<typeof createDocTable>;

export function createDocTable(db: Database.Database) {
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
  return {
    listDocs: (kind: DocKind): DirectoryDocument[] =>
      selectDocs.all(kind).map((r) => JSON.parse(r.doc) as DirectoryDocument),
    /** `id` as stored (a domain's is its lowercased name). */
    getDoc: (kind: DocKind, id: string): DirectoryDocument | undefined => {
      const row = selectDoc.get(kind, id);
      return row === undefined ? undefined : (JSON.parse(row.doc) as DirectoryDocument);
    },
    insertDoc: (kind: DocKind, id: string, doc: DirectoryDocument): void => {
      insertDoc.run(kind, id, JSON.stringify(doc));
    },
    deleteDocsOfKind: (kind: DocKind): void => {
      deleteDocsOfKind.run(kind);
    },
  };
}
