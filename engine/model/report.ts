import type { ChangeKind, UserRef } from './plan.js';

/**
 * - applied: the change is in the tenant (written now, or found already written: `recovered`).
 * - failed: the target refused it; `error` says why. Never retried by this run again.
 * - skipped: not written by this run because it needs no write: an interrupted earlier run
 *   already applied it (`note`), or an earlier change to the same object failed.
 * - not-run: never attempted: the run stopped first (circuit breaker, time budget, abort).
 */
export type OpOutcome = 'applied' | 'failed' | 'skipped' | 'not-run';

/**
 * How a failure is classed, which decides what happens next. Final per-object failures (bad
 * data, no seats, a protected target) are recorded and never stop the others (invariant 6);
 * `permission`, `auth` and `transient` failures mean the target as a whole is unwell and count
 * toward the circuit breaker (G10).
 * - final: the target refused this object's write (400 validation, no seats, usageLocation).
 * - permission: 403 Authorization_RequestDenied on an object not known to be protected.
 * - protected-by-tenant: 403 on an object the tenant protects (restricted administrative unit,
 *   directory role holder): no retry, no escalation, excluded from the breaker (P4).
 * - stale: 404 on an object this run did not create: the plan is stale (never a deprovision).
 * - auth: no token could be had, or 401 again after a refresh.
 * - transient: 5xx / network failures that outlasted their retries.
 * - throttled: 429s that outlasted their retries.
 */
export type FailureClass =
  'final' | 'permission' | 'protected-by-tenant' | 'stale' | 'auth' | 'transient' | 'throttled';

/** A Graph (or other target) error as the target reported it. */
export interface TargetError {
  readonly status?: number;
  /** Graph's `error.code`, e.g. `Request_BadRequest`, or a transport code like `ECONNRESET`. */
  readonly code: string;
  readonly message: string;
  readonly class?: FailureClass;
}

export interface OpResult {
  readonly changeId: string;
  readonly kind: ChangeKind;
  readonly user: UserRef;
  readonly outcome: OpOutcome;
  /** Object id the write produced or touched. */
  readonly targetId?: string;
  readonly error?: TargetError;
  /**
   * The write's response was lost (504, reset) or it met "already exists", and reading the
   * object back proved it was already applied by this run or the one it resumes (G4).
   */
  readonly recovered?: true;
  /** Why an op was skipped or not run, for people. */
  readonly note?: string;
}

/** Figures a paced writer reports for one run (all counts; times in the writer's clock). */
export interface WriteStats {
  /** HTTP requests sent to the target (a `$batch` envelope counts one). */
  readonly requests: number;
  /** Write operations sent, batch items included, retries included. */
  readonly writes: number;
  /** 429 answers received, batch items included. */
  readonly throttled: number;
  /** Retries of any kind (throttling, transient, replication lag, token refresh). */
  readonly retries: number;
  /** Writes whose outcome was settled by reading the object back (G4). */
  readonly reconciled: number;
  /** Credentials refreshed after a 401 (G7). */
  readonly tokenRefreshes: number;
  /** Longest single wait asked by a Retry-After, in ms. */
  readonly longestRetryAfterMs: number;
  /** Elapsed time of the writer's clock between the first and last write, in ms. */
  readonly elapsedMs: number;
}

export interface RunStopped {
  /** `circuit-open`, `time-budget`, `aborted`. */
  readonly code: string;
  readonly message: string;
}

export interface RunReport {
  readonly planFingerprint: string;
  readonly ops: readonly OpResult[];
  /** Journal id of this run, when a journal was kept. */
  readonly runId?: string;
  /** Set when the run stopped before attempting every change; the journal allows a resume. */
  readonly stopped?: RunStopped;
  readonly stats?: WriteStats;
  /**
   * Changes an interrupted earlier run of this config applied (from the journal), reported so
   * the resumed run accounts for the whole work; they are not in `ops` (the fresh plan no
   * longer needs them).
   */
  readonly resumed?: {
    readonly runIds: readonly string[];
    readonly alreadyApplied: readonly OpResult[];
  };
}

export function countOutcomes(report: RunReport): Record<OpOutcome, number> {
  const counts: Record<OpOutcome, number> = { applied: 0, failed: 0, skipped: 0, 'not-run': 0 };
  for (const op of report.ops) counts[op.outcome]++;
  return counts;
}
