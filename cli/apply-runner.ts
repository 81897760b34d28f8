/**
 * The one way entrasync applies a plan, shared by `entrasync apply` and the daemon: the engine's
 * `applyRun` with the journal and the apply lock of the store beside the config
 * (cli/apply-store.ts), and each change's outcome recorded in history as it happens.
 *
 * Contracts:
 * - Both appliers use the same store file, `.entrasync/apply.db` beside the config, so one
 *   holds the lock while the other is refused (`apply.locked`, naming the holder), and a run of
 *   either that was cut short is resumed by the next run of either: its applied changes are
 *   reported, its in-doubt writes reconciled before anything is written again (engine/apply).
 * - The lock is taken by `applyRun` itself (the CLI: after planning, before the stale-plan
 *   check), unless the caller already holds it for the whole run (the daemon takes it before
 *   it reads the tenant, so nothing can change the tenant between its plan and its apply).
 * - Each outcome is recorded as the engine reports it, before the next one: a run killed after
 *   180 creates shows 180 applied in history, not 0. The report fills in the rest (`not-run`).
 *   A history write that fails never stops the apply (the recorder decides what to say).
 */
import { resolve } from 'node:path';
import { applyRun, LockHeldError } from '../engine/index.js';
import type { ApplyIO, ApplyLock, OpResult, Plan, RunReport } from '../engine/index.js';
import type { SyncSpec } from '../engine/model/spec.js';
import type { TenantState } from '../engine/model/tenant.js';
import { DEFAULT_APPLY_STORE, openApplyStore } from './apply-store.js';
import type { ApplyStore } from './apply-store.js';
import type { RunLock } from './daemon/ports.js';

/** Where the apply journal and lock live for a config in `baseDir`. */
export function applyStorePath(baseDir: string): string {
  return resolve(baseDir, DEFAULT_APPLY_STORE);
}

/** Opens the apply store beside the config in `baseDir`. */
export function openApplyStoreBeside(baseDir: string): ApplyStore {
  return openApplyStore(applyStorePath(baseDir));
}

/** Where an apply's outcomes go as they happen (history). Must not throw. */
export interface OutcomeRecorder {
  op(result: OpResult): void;
  report(report: RunReport): void;
}

export interface JournaledApplyOptions {
  /** The journal and lock; absent (`apply --no-journal`): neither, resume re-plans only. */
  readonly store?: ApplyStore;
  /** Who takes the lock (`apply`, `daemon run <id>`); shown to whoever finds it held. */
  readonly lockOwner: string;
  /** The caller holds `store`'s lock for this run already (see the contracts above). */
  readonly lockHeld?: boolean;
  readonly history?: OutcomeRecorder;
  readonly onResult?: (result: OpResult, index: number, total: number) => void;
  readonly onVerified?: () => void;
  readonly concurrency?: number;
  readonly timeBudgetMs?: number;
  readonly tenant?: TenantState;
}

/** Applies `plan` through the store's journal and lock, recording each outcome as it comes. */
export async function applyJournaled(
  plan: Plan,
  spec: SyncSpec,
  io: ApplyIO,
  options: JournaledApplyOptions,
): Promise<RunReport> {
  const { store, history } = options;
  const report = await applyRun(plan, spec, io, {
    ...(store ? { journal: store.journal } : {}),
    ...(store && !options.lockHeld ? { lock: store.lock, lockOwner: options.lockOwner } : {}),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.timeBudgetMs === undefined ? {} : { timeBudgetMs: options.timeBudgetMs }),
    ...(options.tenant ? { tenant: options.tenant } : {}),
    ...(options.onVerified ? { onVerified: options.onVerified } : {}),
    onResult: (result, index, total) => {
      history?.op(result);
      options.onResult?.(result, index, total);
    },
  });
  history?.report(report);
  return report;
}

/**
 * The store's apply lock as the daemon's `RunLock`: taken for a whole run, renewed while it
 * lasts; a lock held by anyone else (an `entrasync apply`, another daemon) is reported with its
 * holder instead of thrown.
 */
export function runLockOf(lock: ApplyLock): RunLock {
  return {
    async acquire(run) {
      try {
        const lease = await lock.acquire(`daemon run ${run.runId}`);
        return { ok: true, release: () => lease.release() };
      } catch (err) {
        if (err instanceof LockHeldError) return { ok: false, holder: err.holder };
        throw err;
      }
    },
  };
}
