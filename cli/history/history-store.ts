/**
 * Run history in SQLite (better-sqlite3, WAL): every run, its plan fingerprint and digests, each
 * source's status and record count, and every change of its plan with its outcome and Graph
 * error. `entrasync report` reads it; the daemon writes it and reads back its own recent runs to
 * resume a back-off after a restart.
 *
 * Contracts:
 * - History is never an input to planning. Grace periods and "who is managed" are proven from
 *   the tenant (design.md, "Where state lives"), so a lost or deleted history file can delay a
 *   disable or delete (a back-off restarts from now), never hasten one.
 * - Every text column is passed through the run's `Redactor` before it is written (invariant 5,
 *   catalogue X1): messages and error texts can quote what a server said.
 * - One row per change per run: written `planned` or `blocked` when the plan is recorded, then
 *   updated to the apply outcome (`applied`, `failed`, `skipped`, `not-run`).
 * - A run without `finished_at` was cut short (a crash or SIGKILL mid-run); reports show it.
 */
import { subjectOf } from '../../engine/model/plan.js';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { EntrasyncError } from '../../engine/errors.js';
import type { Change, Plan } from '../../engine/model/plan.js';
import type { OpOutcome, OpResult, RunReport } from '../../engine/model/report.js';
import type { Redactor } from '../../engine/secret.js';

/** Bumped with every schema change; older files are migrated in `migrate`. */
export const HISTORY_SCHEMA_VERSION = 2;

/** `cli`: an `entrasync apply` (GitOps, cron); the others are the daemon's. */
export type RunTrigger = 'schedule' | 'start' | 'manual' | 'cli';
export type RunMode = 'plan' | 'apply';
export type TenantReadKind = 'full' | 'delta';

/**
 * How a run ended.
 * - `no-changes`: the tenant matched the config.
 * - `planned`: plan-only mode; changes are waiting (none blocked).
 * - `applied`: every change applied.
 * - `partial`: some changes failed, below the daemon's failure ratio.
 * - `blocked`: safety blocked changes; nothing was applied.
 * - `source-failed`: a source failed; nothing was applied.
 * - `apply-failed`: the circuit breaker stopped the apply, or too many changes failed.
 * - `error`: no plan or no apply (tenant read failed, stale plan, lock held, ...).
 */
export type RunOutcome =
  | 'no-changes'
  | 'planned'
  | 'applied'
  | 'partial'
  | 'blocked'
  | 'source-failed'
  | 'apply-failed'
  | 'error';

export type HistoryOpOutcome = 'planned' | 'blocked' | OpOutcome;

export const HISTORY_OP_OUTCOMES: readonly HistoryOpOutcome[] = [
  'planned',
  'blocked',
  'applied',
  'failed',
  'skipped',
  'not-run',
];

export interface RunStart {
  readonly id: string;
  readonly startedAt: number;
  readonly trigger: RunTrigger;
  readonly mode: RunMode;
}

export interface RunFinish {
  readonly finishedAt: number;
  readonly outcome: RunOutcome;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

export interface RunRow extends RunStart {
  readonly finishedAt: number | null;
  readonly outcome: RunOutcome | null;
  readonly read: TenantReadKind | null;
  readonly planFingerprint: string | null;
  readonly configDigest: string | null;
  readonly tenantDigest: string | null;
  readonly changes: number;
  readonly blocked: number;
  readonly applied: number;
  readonly failed: number;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

export interface SourceRow {
  readonly runId: string;
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly records: number;
  readonly errors: number;
  readonly warnings: number;
}

export interface OpRow {
  readonly runId: string;
  readonly mode: RunMode;
  /** When the op was planned, or applied (ms since epoch). */
  readonly at: number;
  readonly changeId: string;
  readonly kind: Change['kind'];
  readonly reason: Change['reason'];
  readonly userPrincipalName: string;
  readonly userId: string | null;
  /** Source records behind the change, `source:key`. */
  readonly people: readonly string[];
  readonly message: string;
  readonly outcome: HistoryOpOutcome;
  readonly errorStatus: number | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  /** Why a blocked change was blocked (`threshold`, `source-unhealthy`, ...). */
  readonly blockedCode: string | null;
}

export interface OpQuery {
  /** Inclusive, ms since epoch. */
  readonly since?: number;
  /** Exclusive, ms since epoch. */
  readonly until?: number;
  /** UPN (any case), object id, person key `hr:1005` or bare key `1005`. */
  readonly user?: string;
  readonly kinds?: readonly Change['kind'][];
  readonly outcomes?: readonly HistoryOpOutcome[];
  readonly limit?: number;
}

export interface RunQuery {
  readonly since?: number;
  readonly until?: number;
  readonly limit?: number;
}

export interface HistoryStore {
  readonly path: string;
  startRun(run: RunStart): void;
  /** Stores the plan's identity, its sources and one row per change (planned or blocked). */
  recordPlan(runId: string, plan: Plan, read: TenantReadKind, at: number): void;
  /**
   * Updates one change's row with its apply outcome and the run's counts, as the change
   * happens: a run killed half-way shows what it applied.
   */
  recordOp(runId: string, op: OpResult, at: number): void;
  /** Updates each change's row with its apply outcome (the ops not yet recorded: `not-run`). */
  recordReport(runId: string, report: RunReport, at: number): void;
  finishRun(runId: string, finish: RunFinish): void;
  runs(query?: RunQuery): RunRow[];
  sources(runId: string): SourceRow[];
  ops(query?: OpQuery): OpRow[];
  /**
   * The `protect` list of the config the daemon last planned with (P2: an account it no longer
   * lists may not be changed in the first run that drops it); undefined before any run.
   */
  lastProtect(): readonly string[] | undefined;
  recordProtect(protect: readonly string[], at: number): void;
  /** Removes runs (and their ops and sources) started before `before`; returns how many. */
  prune(before: number): number;
  close(): void;
}

export interface OpenHistoryOptions {
  /** Open an existing file for reading only (reports): never creates or migrates it. */
  readonly readonly?: boolean;
}

export function openHistoryStore(
  path: string,
  redactor: Redactor,
  options: OpenHistoryOptions = {},
): HistoryStore {
  if (options.readonly) {
    if (!existsSync(path)) {
      throw new EntrasyncError(
        'history.missing',
        `no history at ${path}: the daemon writes it (\`history.path\`), or pass --history <file>`,
      );
    }
  } else if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {});
  db.pragma('busy_timeout = 5000');
  if (options.readonly) {
    const version = db.pragma('user_version', { simple: true }) as number;
    // Version 2 only added the daemon's own state table: reports read version 1 files too.
    if (version < 1 || version > HISTORY_SCHEMA_VERSION) {
      db.close();
      throw new EntrasyncError(
        'history.version',
        version === 0
          ? `${path} is not an entrasync history file`
          : `history file ${path} has schema version ${version}; this entrasync reads ${HISTORY_SCHEMA_VERSION}`,
      );
    }
  } else {
    if (path !== ':memory:') {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    migrate(db);
  }
  const r = (text: string | undefined | null): string | null =>
    text === undefined || text === null ? null : redactor.redact(text);

  const insertRun = db.prepare(
    `INSERT INTO runs (id, started_at, trigger, mode) VALUES (@id, @startedAt, @trigger, @mode)`,
  );
  const updatePlan = db.prepare(
    `UPDATE runs SET read = ?, plan_fingerprint = ?, config_digest = ?, tenant_digest = ?,
       changes = ?, blocked = ? WHERE id = ?`,
  );
  const insertSource = db.prepare(
    `INSERT INTO sources (run_id, name, kind, status, records, errors, warnings)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOp = db.prepare(
    `INSERT INTO ops (run_id, seq, at, change_id, kind, reason, upn, user_id, people, message,
       outcome, blocked_code)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const setOutcome = `UPDATE ops SET outcome = ?, at = ?, user_id = coalesce(?, user_id),
       error_status = ?, error_code = ?, error_message = ? WHERE run_id = ? AND change_id = ?`;
  const updateOp = db.prepare(setOutcome);
  const updateCounts = db.prepare(
    `UPDATE runs SET applied = (SELECT count(*) FROM ops WHERE run_id = @id AND outcome = 'applied'),
       failed = (SELECT count(*) FROM ops WHERE run_id = @id AND outcome = 'failed') WHERE id = @id`,
  );
  const finish = db.prepare(
    `UPDATE runs SET finished_at = ?, outcome = ?, error_code = ?, error_message = ? WHERE id = ?`,
  );

  const recordPlan = db.transaction(
    (runId: string, plan: Plan, read: TenantReadKind, at: number) => {
      updatePlan.run(
        read,
        plan.fingerprint,
        plan.configDigest,
        plan.tenantDigest,
        plan.changes.length,
        plan.blocked.length,
        runId,
      );
      for (const s of plan.sources) {
        insertSource.run(runId, s.name, s.kind, s.status, s.records, s.errors, s.warnings);
      }
      let seq = 0;
      const add = (change: Change, outcome: HistoryOpOutcome, blockedCode: string | null) => {
        insertOp.run(
          runId,
          seq++,
          at,
          change.id,
          change.kind,
          change.reason,
          r(subjectOf(change).userPrincipalName),
          subjectOf(change).id ?? null,
          r(JSON.stringify(change.provenance.map((p) => `${p.source}:${p.key}`))),
          r(change.message),
          outcome,
          blockedCode,
        );
      };
      for (const change of plan.changes) add(change, 'planned', null);
      for (const blocked of plan.blocked) add(blocked.change, 'blocked', blocked.code);
    },
  );

  const outcomeOf = db.prepare<[string, string], { outcome: HistoryOpOutcome }>(
    'SELECT outcome FROM ops WHERE run_id = ? AND change_id = ?',
  );
  const addCounts = db.prepare(
    'UPDATE runs SET applied = applied + ?, failed = failed + ? WHERE id = ?',
  );
  const writeOp = (runId: string, op: OpResult, at: number, statement = updateOp): void => {
    statement.run(
      op.outcome,
      at,
      op.targetId ?? null,
      op.error?.status ?? null,
      r(op.error?.code),
      r(op.error?.message),
      runId,
      op.changeId,
    );
  };
  // The counts move by the difference, so one op costs the same at 100 changes as at 100,000.
  const recordOp = db.transaction((runId: string, op: OpResult, at: number) => {
    const before = outcomeOf.get(runId, op.changeId)?.outcome;
    if (before === undefined) return;
    writeOp(runId, op, at);
    const delta = (o: HistoryOpOutcome | undefined, which: OpOutcome) =>
      (op.outcome === which ? 1 : 0) - (o === which ? 1 : 0);
    addCounts.run(delta(before, 'applied'), delta(before, 'failed'), runId);
  });
  // Ops recorded as they happened keep their time; the rest (`not-run`, or all of them when
  // nothing was recorded on the way) take the report's.
  const updateUnrecorded = db.prepare(`${setOutcome} AND outcome = 'planned'`);
  const recordReport = db.transaction((runId: string, report: RunReport, at: number) => {
    for (const op of report.ops) writeOp(runId, op, at, updateUnrecorded);
    updateCounts.run({ id: runId });
  });

  return {
    path,
    startRun(run) {
      insertRun.run({ ...run });
    },
    recordPlan(runId, plan, read, at) {
      recordPlan(runId, plan, read, at);
    },
    recordOp(runId, op, at) {
      recordOp(runId, op, at);
    },
    recordReport(runId, report, at) {
      recordReport(runId, report, at);
    },
    finishRun(runId, f) {
      finish.run(f.finishedAt, f.outcome, r(f.errorCode), r(f.errorMessage), runId);
    },
    lastProtect() {
      const row = db.prepare(`SELECT value FROM daemon_state WHERE key = 'protect'`).get() as
        { value: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.value) as string[]);
    },
    recordProtect(protect, at) {
      db.prepare(
        `INSERT INTO daemon_state (key, value, updated_at) VALUES ('protect', ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(JSON.stringify(protect), at);
    },
    runs(query = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.since !== undefined) {
        where.push('started_at >= ?');
        params.push(query.since);
      }
      if (query.until !== undefined) {
        where.push('started_at < ?');
        params.push(query.until);
      }
      const rows = db
        .prepare(
          `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY started_at DESC, id DESC ${query.limit !== undefined ? 'LIMIT ?' : ''}`,
        )
        .all(...params, ...(query.limit !== undefined ? [query.limit] : [])) as RawRun[];
      return rows.map(toRunRow);
    },
    sources(runId) {
      const rows = db
        .prepare('SELECT * FROM sources WHERE run_id = ? ORDER BY name')
        .all(runId) as RawSource[];
      return rows.map((s) => ({
        runId: s.run_id,
        name: s.name,
        kind: s.kind,
        status: s.status,
        records: s.records,
        errors: s.errors,
        warnings: s.warnings,
      }));
    },
    ops(query = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.since !== undefined) {
        where.push('ops.at >= ?');
        params.push(query.since);
      }
      if (query.until !== undefined) {
        where.push('ops.at < ?');
        params.push(query.until);
      }
      if (query.user !== undefined) {
        where.push(
          `(lower(ops.upn) = lower(?) OR ops.user_id = ? OR EXISTS (SELECT 1 FROM json_each(ops.people) p
             WHERE p.value = ? OR substr(p.value, instr(p.value, ':') + 1) = ?))`,
        );
        params.push(query.user, query.user, query.user, query.user);
      }
      if (query.kinds && query.kinds.length > 0) {
        where.push(`ops.kind IN (${query.kinds.map(() => '?').join(', ')})`);
        params.push(...query.kinds);
      }
      if (query.outcomes && query.outcomes.length > 0) {
        where.push(`ops.outcome IN (${query.outcomes.map(() => '?').join(', ')})`);
        params.push(...query.outcomes);
      }
      const rows = db
        .prepare(
          `SELECT ops.*, runs.mode AS mode FROM ops JOIN runs ON runs.id = ops.run_id
           ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY runs.started_at, ops.run_id, ops.seq
           ${query.limit !== undefined ? 'LIMIT ?' : ''}`,
        )
        .all(...params, ...(query.limit !== undefined ? [query.limit] : [])) as RawOp[];
      return rows.map(toOpRow);
    },
    prune(before) {
      return db.transaction(() => {
        const old = db.prepare('SELECT id FROM runs WHERE started_at < ?').all(before) as {
          id: string;
        }[];
        for (const { id } of old) {
          db.prepare('DELETE FROM ops WHERE run_id = ?').run(id);
          db.prepare('DELETE FROM sources WHERE run_id = ?').run(id);
          db.prepare('DELETE FROM runs WHERE id = ?').run(id);
        }
        return old.length;
      })();
    },
    close() {
      db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > HISTORY_SCHEMA_VERSION) {
    throw new Error(
      `history file has schema version ${version}, newer than this entrasync (${HISTORY_SCHEMA_VERSION}); upgrade entrasync or use another file`,
    );
  }
  if (version < 1) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        trigger TEXT NOT NULL,
        mode TEXT NOT NULL,
        outcome TEXT,
        read TEXT,
        plan_fingerprint TEXT,
        config_digest TEXT,
        tenant_digest TEXT,
        changes INTEGER NOT NULL DEFAULT 0,
        blocked INTEGER NOT NULL DEFAULT 0,
        applied INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        error_message TEXT
      );
      CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
      CREATE TABLE IF NOT EXISTS sources (
        run_id TEXT NOT NULL REFERENCES runs (id),
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        records INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
      );
      CREATE TABLE IF NOT EXISTS ops (
        run_id TEXT NOT NULL REFERENCES runs (id),
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        change_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        upn TEXT NOT NULL,
        user_id TEXT,
        people TEXT NOT NULL,
        message TEXT NOT NULL,
        outcome TEXT NOT NULL,
        blocked_code TEXT,
        error_status INTEGER,
        error_code TEXT,
        error_message TEXT,
        PRIMARY KEY (run_id, seq)
      );
      CREATE INDEX IF NOT EXISTS ops_at ON ops (at);
      CREATE INDEX IF NOT EXISTS ops_upn ON ops (lower(upn));
      CREATE INDEX IF NOT EXISTS ops_change ON ops (run_id, change_id);
    `);
    db.pragma('user_version = 1');
  }
  if (version < 2) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS daemon_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `);
    db.pragma(`user_version = ${HISTORY_SCHEMA_VERSION}`);
  }
}

interface RawRun {
  id: string;
  started_at: number;
  finished_at: number | null;
  trigger: RunTrigger;
  mode: RunMode;
  outcome: RunOutcome | null;
  read: TenantReadKind | null;
  plan_fingerprint: string | null;
  config_digest: string | null;
  tenant_digest: string | null;
  changes: number;
  blocked: number;
  applied: number;
  failed: number;
  error_code: string | null;
  error_message: string | null;
}

interface RawSource {
  run_id: string;
  name: string;
  kind: string;
  status: string;
  records: number;
  errors: number;
  warnings: number;
}

interface RawOp {
  run_id: string;
  mode: RunMode;
  at: number;
  change_id: string;
  kind: Change['kind'];
  reason: Change['reason'];
  upn: string;
  user_id: string | null;
  people: string;
  message: string;
  outcome: HistoryOpOutcome;
  blocked_code: string | null;
  error_status: number | null;
  error_code: string | null;
  error_message: string | null;
}

function toRunRow(raw: RawRun): RunRow {
  return {
    id: raw.id,
    startedAt: raw.started_at,
    finishedAt: raw.finished_at,
    trigger: raw.trigger,
    mode: raw.mode,
    outcome: raw.outcome,
    read: raw.read,
    planFingerprint: raw.plan_fingerprint,
    configDigest: raw.config_digest,
    tenantDigest: raw.tenant_digest,
    changes: raw.changes,
    blocked: raw.blocked,
    applied: raw.applied,
    failed: raw.failed,
    errorCode: raw.error_code,
    errorMessage: raw.error_message,
  };
}

function toOpRow(raw: RawOp): OpRow {
  let people: string[] = [];
  try {
    const parsed = JSON.parse(raw.people) as unknown;
    if (Array.isArray(parsed)) people = parsed.filter((p): p is string => typeof p === 'string');
  } catch {
    people = [];
  }
  return {
    runId: raw.run_id,
    mode: raw.mode,
    at: raw.at,
    changeId: raw.change_id,
    kind: raw.kind,
    reason: raw.reason,
    userPrincipalName: raw.upn,
    userId: raw.user_id,
    people,
    message: raw.message,
    outcome: raw.outcome,
    errorStatus: raw.error_status,
    errorCode: raw.error_code,
    errorMessage: raw.error_message,
    blockedCode: raw.blocked_code,
  };
}
