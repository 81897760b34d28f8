/**
 * The apply journal: every change is recorded before its write is sent (`intent`) and after
 * its outcome is known (`outcome`), so a run killed at any point can be resumed.
 *
 * Contract (the storage is I/O and lives outside the engine; see cli/apply-store.ts):
 * - `record` returns only once the entries are durable: an intent must be on disk before the
 *   write it announces leaves the process, or a crash could lose the fact that it was sent.
 * - The journal is an accelerator, never a source of truth. A resumed run re-plans from the
 *   tenant (a GitOps runner has no disk from the last run, and must converge the same way); the
 *   journal only says which writes may have committed unseen (`inDoubt`: reconcile before
 *   writing again, G4), which objects the interrupted run created (a 404 on them is replication
 *   lag, G6), and what it already applied (reported as such). Nothing is ever deprovisioned
 *   because of what a journal says or lacks.
 * - No attribute values, passwords or tokens are journaled: change ids, kinds, UPNs, object ids,
 *   outcomes and Graph error codes only (invariant 5).
 */
import { subjectOf } from '../model/plan.js';
import type { Change, ChangeKind } from '../model/plan.js';
import type { OpOutcome, OpResult } from '../model/report.js';

export interface JournalIntent {
  readonly type: 'intent';
  readonly changeId: string;
  readonly kind: ChangeKind;
  readonly userPrincipalName: string;
  readonly objectId?: string;
}

export interface JournalOutcome {
  readonly type: 'outcome';
  readonly changeId: string;
  readonly kind: ChangeKind;
  readonly userPrincipalName: string;
  readonly outcome: OpOutcome;
  readonly objectId?: string;
  readonly recovered?: true;
  readonly errorStatus?: number;
  readonly errorCode?: string;
}

export type JournalEntry = JournalIntent | JournalOutcome;

export interface JournalRun {
  readonly runId: string;
  readonly configDigest: string;
  readonly planFingerprint: string;
  readonly totalChanges: number;
}

/** A change an earlier run applied, as the journal remembers it. */
export interface JournaledChange {
  readonly runId: string;
  readonly changeId: string;
  readonly kind: ChangeKind;
  readonly userPrincipalName: string;
  readonly objectId?: string;
  readonly recovered?: true;
}

/** What unfinished earlier runs of the same config left behind. */
export interface ResumeState {
  /** The unfinished runs this run takes over (oldest first); empty when there is none. */
  readonly runIds: readonly string[];
  /** Changes they applied, by change id (the latest record wins). */
  readonly applied: ReadonlyMap<string, JournaledChange>;
  /** Changes with an intent and no outcome: their write may have committed unseen. */
  readonly inDoubt: ReadonlySet<string>;
  /** Object ids they created. */
  readonly created: ReadonlySet<string>;
}

export const NO_RESUME: ResumeState = {
  runIds: [],
  applied: new Map(),
  inDoubt: new Set(),
  created: new Set(),
};

export type RunStatus = 'completed' | 'stopped';

export interface Journal {
  /**
   * Registers a run and returns what unfinished earlier runs of the same config (same
   * `configDigest`) left: killed ones (still `running`: the caller holds the apply lock, so no
   * other run is alive) and stopped ones. A run that completes supersedes them all.
   */
  begin(run: JournalRun): Promise<ResumeState>;
  /** Appends entries durably (see the module comment). A throw stops the run. */
  record(runId: string, entries: readonly JournalEntry[]): Promise<void>;
  /** `completed`: every change was attempted; `stopped`: resumable (breaker, time budget). */
  finish(runId: string, status: RunStatus): Promise<void>;
}

export function intentOf(change: Change): JournalIntent {
  return {
    type: 'intent',
    changeId: change.id,
    kind: change.kind,
    userPrincipalName: subjectOf(change).userPrincipalName,
    ...(subjectOf(change).id === undefined ? {} : { objectId: subjectOf(change).id }),
  };
}

export function outcomeOf(result: OpResult): JournalOutcome {
  return {
    type: 'outcome',
    changeId: result.changeId,
    kind: result.kind,
    userPrincipalName: result.user.userPrincipalName,
    outcome: result.outcome,
    ...(result.targetId === undefined ? {} : { objectId: result.targetId }),
    ...(result.recovered ? { recovered: true as const } : {}),
    ...(result.error?.status === undefined ? {} : { errorStatus: result.error.status }),
    ...(result.error === undefined ? {} : { errorCode: result.error.code }),
  };
}

/**
 * Folds the entries of unfinished runs (oldest first, in record order) into a ResumeState.
 * Pure, so every storage computes resume the same way.
 */
export function foldResume(
  runs: readonly { readonly runId: string; readonly entries: readonly JournalEntry[] }[],
): ResumeState {
  const applied = new Map<string, JournaledChange>();
  const open = new Map<string, JournalIntent>();
  const created = new Set<string>();
  for (const run of runs) {
    for (const entry of run.entries) {
      if (entry.type === 'intent') {
        open.set(entry.changeId, entry);
        continue;
      }
      open.delete(entry.changeId);
      if (entry.outcome !== 'applied') continue;
      applied.set(entry.changeId, {
        runId: run.runId,
        changeId: entry.changeId,
        kind: entry.kind,
        userPrincipalName: entry.userPrincipalName,
        ...(entry.objectId === undefined ? {} : { objectId: entry.objectId }),
        ...(entry.recovered ? { recovered: true as const } : {}),
      });
      if (entry.kind === 'createUser' && entry.objectId !== undefined) created.add(entry.objectId);
    }
  }
  return {
    runIds: runs.map((r) => r.runId),
    applied,
    inDoubt: new Set(open.keys()),
    created,
  };
}
