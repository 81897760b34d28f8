/**
 * What the daemon needs from the world, as small interfaces it can be handed. Time and the
 * schedule are injected so tests drive the daemon with a fake clock and explicit ticks.
 *
 * The last four are abilities of the apply engine (issue 5) that the daemon uses when given and
 * does without otherwise: a delta reader, the circuit breaker's state, Graph throttling counts,
 * and the apply lock. Each is optional; connecting one is a line in `run-daemon.ts`.
 */
import type { TenantReadRequest, TenantState } from '../../engine/model/tenant.js';

/** The daemon's notion of now; the simulator's virtual clock fits. */
export interface DaemonClock {
  now(): number;
}

/** Calls `tick` on a schedule (node-cron in production, by hand in tests). */
export interface Scheduler {
  start(tick: () => void): void;
  stop(): void;
  /** When the next tick is due (ms since epoch), if known. */
  nextRun(): number | undefined;
}

/**
 * Delta reads between full reads. `readDelta` must return the WHOLE tenant state (the baseline
 * of the last full read with every change since applied), never only the changes; an expired
 * delta token throws, and the daemon then reads in full (a delta failure is never "nothing
 * changed", and never "everything is gone").
 */
export interface DeltaTenantReader {
  /** Full read that also (re)establishes the delta baseline. */
  readFull(request: TenantReadRequest): Promise<TenantState>;
  readDelta(request: TenantReadRequest): Promise<TenantState>;
}

export type CircuitState =
  | { readonly open: false }
  | { readonly open: true; readonly reason: string; readonly until?: number };

/** The apply engine's circuit breaker (G10), as the daemon sees it after each run. */
export interface CircuitBreakerProbe {
  state(): CircuitState;
}

/** Cumulative Graph counters kept by the target connector. */
export interface GraphTelemetry {
  /** 429 responses seen since start (retried or not). */
  throttledResponses(): number;
  /** Graph HTTP requests sent since start (reads and writes; a `$batch` is one). */
  requests?(): number;
  /** Directory writes carried out since start (each item of a `$batch` counts). */
  writes?(): number;
  /** The configured sustained write rate (`target.writes.perSecond`, default Graph's 20). */
  readonly writeCeilingPerSecond?: number;
}

export interface LockHolder {
  readonly lockId?: string;
  readonly runId?: string;
  readonly pid: number;
  readonly host?: string;
  readonly owner?: string;
  /** ms since epoch, or ISO 8601. */
  readonly startedAt: number | string;
  /** ISO 8601: when a holder that stopped renewing loses the lock. */
  readonly leaseUntil?: string;
}

export type LockAttempt =
  | { readonly ok: true; release(): Promise<void> }
  | { readonly ok: false; readonly holder: LockHolder };

/** The apply lock (A3): one applier per tenant and config, across processes and machines. */
export interface RunLock {
  acquire(owner: { readonly runId: string; readonly startedAt: number }): Promise<LockAttempt>;
}
