/**
 * P2 for the daemon: the first run after a restart compares this config's `protect` list with
 * the one the previous run planned with (from history), so an account whose protection the new
 * config lifts is not changed in that run; once a run has planned, later runs compare with this
 * config's own list, which is recorded for the next restart. A run that fails before its plan
 * is made leaves the first-run baseline in place (read again next run).
 * Without history there is no baseline and the plan says the check did not run.
 */
import type { PlanOptions } from '../../engine/index.js';
import type { HistoryStore } from '../history/history-store.js';
import type { HistoryGuard } from './history-guard.js';
import type { DaemonClock } from './ports.js';

export interface ProtectBaselineOptions {
  /** This config's `protect` list. */
  readonly protect: readonly string[];
  /** The plan options the daemon was given; the baseline is added to them. */
  readonly planOptions: PlanOptions;
  readonly history?: HistoryStore;
  readonly guard: HistoryGuard;
  readonly clock: DaemonClock;
}

export interface ProtectBaseline {
  /** The plan options for the run about to plan. */
  planOptions(): PlanOptions;
  /** Called once a run has planned. */
  planned(): void;
}

export function createProtectBaseline(options: ProtectBaselineOptions): ProtectBaseline {
  const { history, guard, protect } = options;
  const base = options.planOptions;
  let current: PlanOptions = base;
  let settled = history === undefined;
  return {
    planOptions() {
      if (settled || history === undefined) return current;
      const previous = guard.attempt(() => history.lastProtect(), undefined);
      current = {
        ...base,
        protectBaseline: {
          protect: [...(previous ?? protect)],
          from: previous === undefined ? 'this config (no earlier run)' : 'the previous run',
        },
      };
      return current;
    },
    planned() {
      if (settled || history === undefined) return;
      settled = true;
      guard.attempt(() => history.recordProtect(protect, options.clock.now()), undefined);
      current = { ...base, protectBaseline: { protect: [...protect], from: 'this config' } };
    },
  };
}
