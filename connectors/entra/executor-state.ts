/**
 * The bookkeeping of one `executeOperations` call: the options it runs under (defaults settled
 * once), each operation's state while rounds run, and how an operation ends. The other pieces
 * of the executor (batch-round.ts, answer-rules.ts, reconcile.ts, member-fallback.ts) read and
 * update these states; only batch-executor.ts orders the steps.
 */
import type { IBackoff } from 'cockatiel';
import type { TargetError } from '../../engine/model/report.js';
import type { WriteContext, WriteResult } from '../../engine/ports.js';
import type { Clock } from './clock.js';
import type { GraphOperation } from './graph-operation.js';
import type { WritePacer } from './pacer.js';
import type { GraphTransport } from './transport.js';
import {
  DEFAULT_MAX_THROTTLED_ATTEMPTS,
  DEFAULT_MAX_TRANSIENT_ATTEMPTS,
  writeBackoff,
} from './write-policy.js';

export interface ExecutorStats {
  writes: number;
  throttled: number;
  retries: number;
  reconciled: number;
  firstWriteAt?: number;
  lastWriteAt?: number;
}

export interface ExecutorOptions {
  readonly transport: GraphTransport;
  readonly pacer: WritePacer;
  readonly stats: ExecutorStats;
  /** Clock time after which no wait is started; operations answer `notRun` instead. */
  readonly deadline?: () => number | undefined;
  /** How long a 404 on an object created this run counts as replication lag. Default 60 s. */
  readonly lagWindowMs?: number;
  /** Object ids the tenant protects (restricted administrative units, role holders): P4. */
  readonly protectedIds?: ReadonlySet<string>;
  /** Headers for each request inside a `$batch` (e.g. `x-ms-throttle-priority`). */
  readonly itemHeaders?: Readonly<Record<string, string>>;
  /** Base of `@odata.id` references: `https://graph.microsoft.com/v1.0`. */
  readonly referenceBase: string;
  /** Sends of one operation before a throttled or transient one gives up. Default 12 / 6. */
  readonly maxThrottledAttempts?: number;
  readonly maxTransientAttempts?: number;
}

/** One call: its options with the defaults settled, the run it writes for and its clock. */
export interface ExecutorRun extends ExecutorOptions {
  readonly context: WriteContext;
  readonly clock: Clock;
  readonly lagWindowMs: number;
  readonly maxThrottledAttempts: number;
  readonly maxTransientAttempts: number;
}

export const DEFAULT_LAG_WINDOW_MS = 60_000;

export function startRun(context: WriteContext, options: ExecutorOptions): ExecutorRun {
  return {
    ...options,
    context,
    clock: options.transport.clock,
    lagWindowMs: options.lagWindowMs ?? DEFAULT_LAG_WINDOW_MS,
    maxThrottledAttempts: options.maxThrottledAttempts ?? DEFAULT_MAX_THROTTLED_ATTEMPTS,
    maxTransientAttempts: options.maxTransientAttempts ?? DEFAULT_MAX_TRANSIENT_ATTEMPTS,
  };
}

export interface OpState {
  /** Replaced once by the same upsert without its owners (see `withoutOwners`). */
  op: GraphOperation;
  result?: WriteResult;
  throttledAttempts: number;
  transientAttempts: number;
  notBefore: number;
  /** Read back before (re)sending: a create that may have committed unseen. */
  reconcile: boolean;
  /** Graph said the create's UPN exists: the account must be found (lag may hide it briefly). */
  conflictSeen: boolean;
  /** Graph's "already exists" error, reported if the account found is not ours. */
  conflict?: TargetError;
  /**
   * 401s met in a row by this operation (the transport's own refresh-and-resend counts one);
   * reset by any other answer. Each 401 gets a refresh and a resend until MAX_401_IN_A_ROW.
   */
  unauthorized: number;
  /** A send got no answer (or a 5xx): the write may have committed (a delete's 404 is success). */
  mayHaveCommitted: boolean;
  lagSince?: number;
  backoff?: IBackoff<unknown>;
  /** add-members met "already exist": add them one by one. */
  oneByOne: boolean;
}

/**
 * The state of an operation before its first send. One the journal holds in doubt (a send of
 * an earlier run got no answer) may have committed; a create or a delete is read back first.
 */
export function newOpState(op: GraphOperation, context: WriteContext): OpState {
  const inDoubt = context.inDoubt.has(op.changeId);
  return {
    op,
    throttledAttempts: 0,
    transientAttempts: 0,
    notBefore: 0,
    reconcile:
      (op.semantics.kind === 'create-user' || op.semantics.kind === 'delete-user') && inDoubt,
    conflictSeen: false,
    unauthorized: 0,
    mayHaveCommitted: inDoubt,
    oneByOne: false,
  };
}

/** The operations without a final result yet. */
export function openOf(states: readonly OpState[]): OpState[] {
  return states.filter((s) => s.result === undefined);
}

/** Not sent (or not sent again): `notRun`, resumable by a later run. */
export function stopOp(s: OpState, code: string, reason: string): void {
  s.result = { ok: false, notRun: true, code, reason };
}

/** A wait of `waitMs` would pass the run's time budget: stopped instead of retried early (G2). */
export function stopForTimeBudget(s: OpState, waitMs: number, waitingFor?: string): void {
  const seconds = Math.ceil(waitMs / 1000);
  const what = waitingFor === undefined ? '' : ` (${waitingFor})`;
  stopOp(
    s,
    'time-budget',
    `waiting ${seconds} s${what} would pass the run's time budget; not retried early, resumable`,
  );
}

export function failOp(s: OpState, error: TargetError): void {
  s.result = { ok: false, error };
}

/** The next wait of this operation's backoff (write-policy.ts), one sequence per operation. */
export function nextBackoff(s: OpState): number {
  s.backoff = s.backoff ? s.backoff.next(undefined) : writeBackoff();
  return s.backoff.duration;
}

/** The result an operation ended with; one the rounds never settled is an internal error. */
export function outcomeOf(s: OpState): WriteResult {
  return (
    s.result ?? {
      ok: false,
      error: { code: 'internal', message: 'no outcome', class: 'transient' },
    }
  );
}

/** A 429 asked for `waitMs`: the longest wait is counted and the pacer slows down. */
export function noteThrottle(
  run: ExecutorRun,
  waitMs: number,
  headers: Readonly<Record<string, string>>,
): void {
  const counters = run.transport.counters;
  if (waitMs > counters.longestRetryAfterMs) counters.longestRetryAfterMs = waitMs;
  run.pacer.throttled(waitMs, headers['x-ms-throttle-scope'] !== undefined);
}
