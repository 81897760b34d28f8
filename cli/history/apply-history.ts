/**
 * The history of one `entrasync apply`, in the same file the daemon writes (`history.path`
 * beside the config, default `.entrasync/history.db`, or `--history <file>`), so that
 * `entrasync report` covers GitOps and cron applies too. Its runs carry trigger `cli`.
 *
 * Contracts:
 * - The run is started before anything is read, its plan recorded once known, each change's
 *   outcome as the engine reports it (a killed apply shows what it applied, and no end), and
 *   the run finished with the same outcomes the daemon uses (run-verdict.ts).
 * - History never stops an apply: a file that cannot be opened or written is reported once on
 *   stderr as a warning, and the apply goes on without it.
 * - What is written is redacted by the store (invariant 5); `history.keepDays` prunes as the
 *   daemon's does.
 */
import type { OpResult, Plan, RunReport } from '../../engine/index.js';
import type { Redactor } from '../../engine/secret.js';
import type { OutcomeRecorder } from '../apply-runner.js';
import type { Verdict } from '../daemon/run-verdict.js';
import { newRunId } from '../logging.js';
import type { HistoryStore } from './history-store.js';
import { openHistoryStore } from './history-store.js';

export interface ApplyHistory extends OutcomeRecorder {
  /** This run's id in history. */
  readonly runId: string;
  planned(plan: Plan): void;
  finish(verdict: Verdict): void;
  close(): void;
}

export interface ApplyHistoryOptions {
  readonly path: string;
  readonly redactor: Redactor;
  /** Where the one warning goes when history cannot be written. */
  readonly warn: (text: string) => void;
  /** `history.keepDays`: runs started longer ago are removed, as the daemon does at start. */
  readonly keepDays?: number;
  readonly now?: () => number;
}

export function openApplyHistory(options: ApplyHistoryOptions): ApplyHistory {
  const now = options.now ?? (() => Date.now());
  const startedAt = now();
  const runId = newRunId(startedAt);
  let store: HistoryStore | undefined;
  const warn = (err: unknown): void =>
    options.warn(
      `warning: history not written to ${options.path}: ${err instanceof Error ? err.message : String(err)}; the apply goes on\n`,
    );
  /** Runs one write; the first failure warns and turns history off for the rest of the run. */
  const write = (body: (s: HistoryStore) => void): void => {
    if (!store) return;
    try {
      body(store);
    } catch (err) {
      warn(err);
      const broken = store;
      store = undefined;
      try {
        broken.close();
      } catch {
        // Already unusable; nothing more to say than the warning.
      }
    }
  };
  try {
    store = openHistoryStore(options.path, options.redactor);
  } catch (err) {
    warn(err);
  }
  const { keepDays } = options;
  if (keepDays !== undefined) write((s) => void s.prune(startedAt - keepDays * 86_400_000));
  write((s) => s.startRun({ id: runId, startedAt, trigger: 'cli', mode: 'apply' }));
  return {
    runId,
    planned: (plan) => write((s) => s.recordPlan(runId, plan, 'full', now())),
    op: (result: OpResult) => write((s) => s.recordOp(runId, result, now())),
    report: (report: RunReport) => write((s) => s.recordReport(runId, report, now())),
    finish: (verdict) =>
      write((s) =>
        s.finishRun(runId, {
          finishedAt: now(),
          outcome: verdict.outcome,
          ...(verdict.errorCode ? { errorCode: verdict.errorCode } : {}),
          ...(verdict.reason ? { errorMessage: verdict.reason } : {}),
        }),
      ),
    close: () => {
      store?.close();
      store = undefined;
    },
  };
}
