/**
 * The `audit_log` table: Entra's directory audit log as the simulator keeps it, one row per
 * entry, its Graph `directoryAudit` document as JSON, with the columns the listing filters on
 * (clock time, the initiating app). Rows are appended inside the transaction of the write they
 * record, so an entry exists exactly when its write committed. Created on open (`IF NOT
 * EXISTS`), so states made before the audit log existed gain it without a schema step.
 */
import type Database from 'better-sqlite3';
import type { AuditQuery, DirectoryAuditDocument } from './model.js';

export type AuditLog = ReturnType<typeof createAuditLog>;

export function createAuditLog(db: Database.Database) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS audit_log (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      time_ms INTEGER NOT NULL,
      app_id TEXT NOT NULL,
      doc TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_log_app ON audit_log (app_id, seq);
  `);
  const insert = db.prepare<[number, string, string]>(
    'INSERT INTO audit_log (time_ms, app_id, doc) VALUES (?, ?, ?)',
  );
  return {
    appendAuditTx: (timeMs: number, appId: string, doc: DirectoryAuditDocument): void => {
      insert.run(timeMs, appId.toLowerCase(), JSON.stringify(doc));
    },
    /** Newest first (commit order), keyset-paged by `beforeSeq`. */
    pageAudits: (query: AuditQuery): { seq: number; doc: DirectoryAuditDocument }[] => {
      const where = ['seq < ?'];
      const params: (string | number)[] = [query.beforeSeq ?? Number.MAX_SAFE_INTEGER];
      if (query.fromMs !== undefined) {
        where.push('time_ms >= ?');
        params.push(query.fromMs);
      }
      if (query.toMs !== undefined) {
        where.push('time_ms <= ?');
        params.push(query.toMs);
      }
      if (query.appId !== undefined) {
        where.push('app_id = ?');
        params.push(query.appId.toLowerCase());
      }
      const rows = db
        .prepare<(string | number)[], { seq: number; doc: string }>(
          `SELECT seq, doc FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`,
        )
        .all(...params, query.limit);
      return rows.map((r) => ({ seq: r.seq, doc: JSON.parse(r.doc) as DirectoryAuditDocument }));
    },
  };
}
