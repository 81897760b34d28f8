/**
 * Where the apply journal and the apply lock live: one SQLite file beside the config
 * (`.entrasync/apply.db`), through better-sqlite3.
 *
 * Why SQLite rather than an append-only file: an intent must be durable before its write leaves
 * the process, and a lock must be taken atomically by exactly one of two racing appliers. SQLite
 * gives both (a commit per record with `synchronous=FULL` in WAL mode; `BEGIN IMMEDIATE` to test
 * and take the lock), survives SIGKILL mid-write without a torn last line, and is already a
 * dependency (the simulator's state). A file per record or an O_EXCL lock file would re-invent
 * the same guarantees less reliably.
 *
 * What it is not: a source of truth. A GitOps runner starts without this file and converges by
 * re-planning from the tenant; the journal only accelerates and reports (engine/apply/journal.ts).
 * It holds change ids, kinds, UPNs, object ids, outcomes and Graph error codes: no attribute
 * values, passwords or tokens.
 */
import { mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  Journal,
  JournalEntry,
  JournalRun,
  ResumeState,
  RunStatus,
} from '../engine/apply/journal.js';
import { foldResume } from '../engine/apply/journal.js';
import type { ApplyLock, LockHolder, LockLease } from '../engine/apply/lock.js';
import { LockHeldError } from '../engine/apply/lock.js';
import type { ChangeKind } from '../engine/model/plan.js';
import type { OpOutcome } from '../engine/model/report.js';

export const DEFAULT_APPLY_STORE = '.entrasync/apply.db';

export interface ApplyStoreOptions {
  /** Clock for run times and lock leases (ms since epoch). Default `Date.now`. */
  readonly now?: () => number;
  /** How long a lock stays valid without renewal. Default 120 s; renewed every third of it. */
  readonly leaseMs?: number;
  /** `FULL` (default) survives power loss too; `NORMAL` survives a killed process. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** This process, for the lock (tests simulate other processes). */
  readonly pid?: number;
  readonly host?: string;
}

export interface ApplyStore {
  readonly journal: Journal;
  readonly lock: ApplyLock;
  /** The latest unfinished run (killed or stopped) of a config, if any. */
  unfinishedRun(configDigest: string): { runId: string; planFingerprint: string } | undefined;
  close(): void;
}

interface EntryRow {
  run_id: string;
  type: 'intent' | 'outcome';
  change_id: string;
  kind: ChangeKind;
  upn: string;
  object_id: string | null;
  outcome: OpOutcome | null;
  recovered: number | null;
  error_status: number | null;
  error_code: string | null;
}

interface LockRow {
  lock_id: string;
  owner: string;
  pid: number;
  host: string;
  started_at: number;
  lease_until: number;
}

export function openApplyStore(path: string, options: ApplyStoreOptions = {}): ApplyStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS runs (
      run_id TEXT PRIMARY KEY,
      config_digest TEXT NOT NULL,
      plan_fingerprint TEXT NOT NULL,
      total INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      status TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS runs_by_config ON runs (config_digest, status, started_at);
    CREATE TABLE IF NOT EXISTS entries (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL,
      type TEXT NOT NULL,
      change_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      upn TEXT NOT NULL,
      object_id TEXT,
      outcome TEXT,
      recovered INTEGER,
      error_status INTEGER,
      error_code TEXT
    );
    CREATE INDEX IF NOT EXISTS entries_by_run ON entries (run_id, seq);
    CREATE TABLE IF NOT EXISTS lock (
      one INTEGER PRIMARY KEY CHECK (one = 1),
      lock_id TEXT NOT NULL,
      owner TEXT NOT NULL,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      lease_until INTEGER NOT NULL
    );
  `);
  const now = options.now ?? (() => Date.now());
  const leaseMs = options.leaseMs ?? 120_000;
  const pid = options.pid ?? process.pid;
  const host = options.host ?? hostname();

  const unfinished = db.prepare<[string], { run_id: string; plan_fingerprint: string }>(
    `SELECT run_id, plan_fingerprint FROM runs
     WHERE config_digest = ? AND status IN ('running', 'stopped') ORDER BY started_at, rowid`,
  );
  const entriesOf = db.prepare<[string], EntryRow>(
    'SELECT * FROM entries WHERE run_id = ? ORDER BY seq',
  );
  const insertRun = db.prepare(
    `INSERT INTO runs (run_id, config_digest, plan_fingerprint, total, started_at, status)
     VALUES (@runId, @configDigest, @planFingerprint, @totalChanges, @startedAt, 'running')`,
  );
  const insertEntry = db.prepare(
    `INSERT INTO entries (run_id, type, change_id, kind, upn, object_id, outcome, recovered, error_status, error_code)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const finishRun = db.prepare('UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?');
  const configOf = db.prepare<[string], { config_digest: string }>(
    'SELECT config_digest FROM runs WHERE run_id = ?',
  );
  const supersede = db.prepare(
    `UPDATE runs SET status = 'superseded' WHERE config_digest = ? AND run_id <> ? AND status IN ('running', 'stopped')`,
  );

  const toEntry = (row: EntryRow): JournalEntry =>
    row.type === 'intent'
      ? {
          type: 'intent',
          changeId: row.change_id,
          kind: row.kind,
          userPrincipalName: row.upn,
          ...(row.object_id === null ? {} : { objectId: row.object_id }),
        }
      : {
          type: 'outcome',
          changeId: row.change_id,
          kind: row.kind,
          userPrincipalName: row.upn,
          outcome: row.outcome ?? 'failed',
          ...(row.object_id === null ? {} : { objectId: row.object_id }),
          ...(row.recovered ? { recovered: true as const } : {}),
          ...(row.error_status === null ? {} : { errorStatus: row.error_status }),
          ...(row.error_code === null ? {} : { errorCode: row.error_code }),
        };

  const journal: Journal = {
    async begin(run: JournalRun): Promise<ResumeState> {
      const resume = db.transaction((): ResumeState => {
        const earlier = unfinished.all(run.configDigest).map((r) => ({
          runId: r.run_id,
          entries: entriesOf.all(r.run_id).map(toEntry),
        }));
        insertRun.run({ ...run, startedAt: now() });
        return foldResume(earlier);
      })();
      return resume;
    },
    async record(runId: string, entries: readonly JournalEntry[]): Promise<void> {
      db.transaction(() => {
        for (const e of entries) {
          insertEntry.run(
            runId,
            e.type,
            e.changeId,
            e.kind,
            e.userPrincipalName,
            e.objectId ?? null,
            e.type === 'outcome' ? e.outcome : null,
            e.type === 'outcome' && e.recovered ? 1 : null,
            e.type === 'outcome' ? (e.errorStatus ?? null) : null,
            e.type === 'outcome' ? (e.errorCode ?? null) : null,
          );
        }
      })();
    },
    async finish(runId: string, status: RunStatus): Promise<void> {
      db.transaction(() => {
        finishRun.run(status, now(), runId);
        const config = configOf.get(runId)?.config_digest;
        if (status === 'completed' && config !== undefined) supersede.run(config, runId);
      })();
    },
  };

  const readLock = db.prepare<[], LockRow>('SELECT * FROM lock WHERE one = 1');
  const writeLock = db.prepare(
    `INSERT OR REPLACE INTO lock (one, lock_id, owner, pid, host, started_at, lease_until)
     VALUES (1, @lock_id, @owner, @pid, @host, @started_at, @lease_until)`,
  );
  const renewLock = db.prepare('UPDATE lock SET lease_until = ? WHERE lock_id = ?');
  const deleteLock = db.prepare('DELETE FROM lock WHERE lock_id = ?');

  const holderOf = (row: LockRow): LockHolder => ({
    lockId: row.lock_id,
    owner: row.owner,
    pid: row.pid,
    host: row.host,
    startedAt: new Date(row.started_at).toISOString(),
    leaseUntil: new Date(row.lease_until).toISOString(),
  });

  const lock: ApplyLock = {
    async acquire(owner: string): Promise<LockLease> {
      const row = db
        .transaction((): LockRow => {
          const current = readLock.get();
          if (current !== undefined && current.lease_until > now() && holderAlive(current)) {
            throw new LockHeldError(holderOf(current));
          }
          const mine: LockRow = {
            lock_id: globalThis.crypto.randomUUID(),
            owner: `${owner} (${safeUser()})`,
            pid,
            host,
            started_at: now(),
            lease_until: now() + leaseMs,
          };
          writeLock.run(mine);
          return mine;
        })
        .immediate();
      let released = false;
      const timer = setInterval(
        () => {
          if (released || !db.open) return;
          try {
            renewLock.run(now() + leaseMs, row.lock_id);
          } catch {
            // The next renewal tries again; a lapsed lease is the worst outcome.
          }
        },
        Math.max(1000, Math.floor(leaseMs / 3)),
      );
      timer.unref();
      return {
        holder: holderOf(row),
        renew() {
          if (renewLock.run(now() + leaseMs, row.lock_id).changes === 0) {
            return Promise.reject(
              new Error(`lock ${row.lock_id} was taken over after its lease lapsed`),
            );
          }
          return Promise.resolve();
        },
        release() {
          released = true;
          clearInterval(timer);
          if (db.open) deleteLock.run(row.lock_id);
          return Promise.resolve();
        },
      };
    },
    async forceUnlock(lockId: string): Promise<boolean> {
      return deleteLock.run(lockId).changes > 0;
    },
  };

  /** A holder on this host whose PID is gone was killed: its lock is free at once. */
  function holderAlive(row: LockRow): boolean {
    if (row.host !== host) return true;
    if (row.pid === pid) return true;
    try {
      process.kill(row.pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  }

  return {
    journal,
    lock,
    unfinishedRun(configDigest) {
      const rows = unfinished.all(configDigest);
      const last = rows[rows.length - 1];
      return last ? { runId: last.run_id, planFingerprint: last.plan_fingerprint } : undefined;
    },
    close: () => db.close(),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown user';
  }
}
