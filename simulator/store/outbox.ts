/**
 * The `outbox` table: every mail `POST /users/{id}/sendMail` accepted, in send order, as JSON
 * (see ../graph/mail.ts). It stands for the recipients' mailboxes, so bodies are kept: reading
 * them is how tests and `entrasync simulator outbox` see what was delivered. Created on open
 * (`IF NOT EXISTS`), so states made before mail was modelled gain it without a schema step.
 */
import type Database from 'better-sqlite3';
import type { OutboxMail, OutboxMailInput } from './model.js';

export type Outbox = ReturnType<typeof createOutbox>;

export function createOutbox(db: Database.Database) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      sender_id TEXT NOT NULL,
      doc TEXT NOT NULL
    );
  `);
  const insert = db.prepare<[string, string]>('INSERT INTO outbox (sender_id, doc) VALUES (?, ?)');
  const selectAll = db.prepare<[], { seq: number; doc: string }>(
    'SELECT seq, doc FROM outbox ORDER BY seq',
  );
  return {
    appendOutboxTx: (mail: OutboxMailInput): OutboxMail => {
      const { lastInsertRowid } = insert.run(mail.senderId, JSON.stringify(mail));
      return { seq: Number(lastInsertRowid), ...mail };
    },
    listOutbox: (): OutboxMail[] =>
      selectAll.all().map((row) => ({ seq: row.seq, ...(JSON.parse(row.doc) as OutboxMailInput) })),
  };
}
