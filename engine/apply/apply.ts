/**
 * Apply: carries out a plan's changes through the target writer and reports every change's
 * outcome; one failure never stops the others (invariant 6, style practice 11). Only `apply`
 * ever receives a writer: planning cannot write by construction (practice 10).
 *
 * Scheduling. Changes that touch the same object (by object id or UPN) run in plan order, one
 * after the other; changes to distinct objects are independent. With a batching writer
 * (`BatchTargetWriter`) ready changes go out in batches of `maxBatchSize`, `concurrency`
 * batches at a time; pacing, retries and exactly-once reconciliation are the writer's. A change
 * after a failed change to the same object is skipped (it would act on a wrong premise).
 *
 * Journal. Each batch's intents are recorded before the batch is handed to the writer, and its
 * outcomes after (see journal.ts). A journal that cannot record stops the run: writing without
 * a record would make a crash unrecoverable by the journal (the tenant still is: re-planning
 * converges). The resume state of interrupted runs feeds the writer's context (`inDoubt`,
 * `created`) and the report (`resumed`).
 *
 * Stopping. The circuit breaker (breaker.ts) stops the run when the target as a whole fails
 * (G10); the writer answers `notRun` when the run's time budget would be overrun (G2) or the
 * run is aborted. Changes never attempted are reported `not-run`; the run is journaled as
 * `stopped`, so the next apply resumes it.
 */
import { subjectOf } from '../model/plan.js';
import type { Change, GroupRef, Plan, UserRef } from '../model/plan.js';
import type { OpResult, RunReport, RunStopped, WriteStats } from '../model/report.js';
import type { BatchTargetWriter, TargetWriter, WriteContext, WriteResult } from '../ports.js';
import { isBatchTargetWriter } from '../ports.js';
import type { BreakerSettings } from './breaker.js';
import { createRunBreaker } from './breaker.js';
import type { Journal, ResumeState } from './journal.js';
import { NO_RESUME, intentOf, outcomeOf } from './journal.js';

export interface ApplyOptions {
  /** Called after each change's outcome is known, e.g. for progress output. */
  readonly onResult?: (result: OpResult, index: number, total: number) => void;
  /** Records every change before and after its write; enables resume. */
  readonly journal?: Journal;
  /** Journal id of this run; default a random UUID. */
  readonly runId?: string;
  /** Circuit breaker limits (G10). */
  readonly breaker?: BreakerSettings;
  /** Aborting stops the run: nothing more is sent, what was not attempted is `not-run`. */
  readonly signal?: AbortSignal;
  /** The config digest the journal files this run under (resume finds runs by it). */
  readonly configDigest?: string;
  /** Batches in flight; default (and at most) the writer's own `concurrency`. */
  readonly concurrency?: number;
  /** See WriteContext.timeBudgetMs (G2). */
  readonly timeBudgetMs?: number;
}

export async function applyPlan(
  plan: Plan,
  writer: TargetWriter,
  options: ApplyOptions = {},
): Promise<RunReport> {
  const runId = options.runId ?? globalThis.crypto.randomUUID();
  const journal = options.journal;
  const changes = plan.changes;
  const resume = journal
    ? await journal.begin({
        runId,
        configDigest: options.configDigest ?? plan.configDigest,
        planFingerprint: plan.fingerprint,
        totalChanges: changes.length,
      })
    : NO_RESUME;
  const before = isBatchTargetWriter(writer) ? writer.stats() : undefined;

  const run = isBatchTargetWriter(writer)
    ? await runBatched(changes, writer, resume, runId, options)
    : await runSequential(changes, writer, runId, options);

  if (journal) await journal.finish(runId, run.stopped ? 'stopped' : 'completed');
  const planned = new Set(changes.map((c) => c.id));
  const alreadyApplied: OpResult[] = [...resume.applied.values()]
    .filter((c) => !planned.has(c.changeId))
    .map((c) => ({
      changeId: c.changeId,
      kind: c.kind,
      user: {
        userPrincipalName: c.userPrincipalName,
        ...(c.objectId === undefined ? {} : { id: c.objectId }),
      },
      outcome: 'skipped',
      ...(c.objectId === undefined ? {} : { targetId: c.objectId }),
      note: `applied by interrupted run ${c.runId}`,
    }));
  return {
    planFingerprint: plan.fingerprint,
    ops: run.ops,
    ...(journal ? { runId } : {}),
    ...(run.stopped ? { stopped: run.stopped } : {}),
    ...(before && isBatchTargetWriter(writer) ? { stats: diffStats(before, writer.stats()) } : {}),
    ...(resume.runIds.length > 0 ? { resumed: { runIds: resume.runIds, alreadyApplied } } : {}),
  };
}

interface RunResult {
  readonly ops: OpResult[];
  readonly stopped?: RunStopped;
}

/** Key of a user: its object id, or its UPN when this plan creates it (no id yet). */
export function userKey(user: UserRef): string {
  return user.id !== undefined
    ? `id:${user.id.toLowerCase()}`
    : `upn:${user.userPrincipalName.toLowerCase()}`;
}

/** Key of a group: its object id, or its uniqueName when this plan creates it. */
export function groupKey(group: GroupRef): string {
  return group.id !== undefined
    ? `id:${group.id.toLowerCase()}`
    : `group:${group.uniqueName.toLowerCase()}`;
}

/**
 * How a change depends on the objects it names:
 * - `own`: the objects it changes. Changes to one object run in plan order, and a change after
 *   a failed one on the same object is skipped (it would act on a wrong premise).
 * - `needs`: objects that must exist first (a new group before its members): waited for, and
 *   skipped if their change did not apply.
 * - `after`: objects it refers to that this plan creates (new members, a new manager): waited
 *   for only; one member whose create failed never holds back the others in the chunk — the
 *   writer leaves out what has no id and reports it.
 * An existing account and a create that collides with its UPN have different keys: the
 * create's failure must not hold the other's changes.
 */
export function objectKeys(change: Change): {
  readonly own: readonly string[];
  readonly needs: readonly string[];
  readonly after: readonly string[];
} {
  const newUsers = (users: readonly UserRef[]) =>
    users.filter((u) => u.id === undefined).map(userKey);
  switch (change.kind) {
    case 'addMembers':
    case 'removeMembers':
      // Chunks of one existing group run side by side; a new group is waited for.
      return {
        own: [],
        needs: change.group.id === undefined ? [groupKey(change.group)] : [],
        after: [
          ...newUsers(change.members),
          ...(change.memberGroups ?? []).filter((g) => g.id === undefined).map(groupKey),
        ],
      };
    case 'createGroup':
    case 'updateGroup':
    case 'addOwners':
    case 'removeOwners':
    case 'assignGroupLicenses':
    case 'removeGroupLicenses':
      return { own: [groupKey(change.group)], needs: [], after: [] };
    case 'setManager':
      return { own: [userKey(change.user)], needs: [], after: newUsers([change.manager]) };
    default:
      return { own: [userKey(change.user)], needs: [], after: [] };
  }
}

/**
 * For each change, the earlier changes it must wait for: `hard` ones must have applied (else it
 * is skipped), `soft` ones only settled.
 */
export function predecessors(
  changes: readonly Change[],
): { readonly hard: number[]; readonly soft: number[] }[] {
  const last = new Map<string, number>();
  return changes.map((change, index) => {
    const keys = objectKeys(change);
    const hard = new Set<number>();
    const soft = new Set<number>();
    for (const key of [...keys.own, ...keys.needs]) {
      const previous = last.get(key);
      if (previous !== undefined) hard.add(previous);
    }
    for (const key of keys.after) {
      const previous = last.get(key);
      if (previous !== undefined && !hard.has(previous)) soft.add(previous);
    }
    for (const key of keys.own) last.set(key, index);
    return { hard: [...hard], soft: [...soft] };
  });
}

/** The key under which a change that creates an object announces its id (see WriteContext.createdIds). */
export function createdKey(change: Change): string | undefined {
  if (change.kind === 'createUser') return userKey(change.user);
  if (change.kind === 'createGroup') return groupKey(change.group);
  return undefined;
}

function toOpResult(change: Change, written: WriteResult): OpResult {
  const base = { changeId: change.id, kind: change.kind, user: subjectOf(change) };
  if (written.ok) {
    return {
      ...base,
      outcome: 'applied',
      ...(written.targetId ? { targetId: written.targetId } : {}),
      ...(written.recovered ? { recovered: true as const } : {}),
      ...(written.note ? { note: written.note } : {}),
    };
  }
  if ('notRun' in written) return { ...base, outcome: 'not-run', note: written.reason };
  return { ...base, outcome: 'failed', error: written.error };
}

function internalFailure(change: Change, err: unknown): OpResult {
  return {
    changeId: change.id,
    kind: change.kind,
    user: subjectOf(change),
    outcome: 'failed',
    error: { code: 'internal', message: err instanceof Error ? err.message : String(err) },
  };
}

async function runSequential(
  changes: readonly Change[],
  writer: TargetWriter,
  runId: string,
  options: ApplyOptions,
): Promise<RunResult> {
  const ops: OpResult[] = [];
  const breaker = createRunBreaker(options.breaker);
  let stopped: RunStopped | undefined;
  for (const [index, change] of changes.entries()) {
    if (stopped || options.signal?.aborted) {
      stopped ??= { code: 'aborted', message: 'the run was aborted' };
      ops.push({
        changeId: change.id,
        kind: change.kind,
        user: subjectOf(change),
        outcome: 'not-run',
        note: stopped.message,
      });
      continue;
    }
    await options.journal?.record(runId, [intentOf(change)]);
    let result: OpResult;
    try {
      result = toOpResult(change, await writer.apply(change));
    } catch (err) {
      // A writer that throws has broken its contract; record it against the change and go on.
      result = internalFailure(change, err);
    }
    await options.journal?.record(runId, [outcomeOf(result)]);
    ops.push(result);
    options.onResult?.(result, index, changes.length);
    stopped =
      result.outcome === 'not-run'
        ? { code: 'stopped', message: result.note ?? 'the writer stopped' }
        : breaker.record(result);
  }
  return { ops, ...(stopped ? { stopped } : {}) };
}

async function runBatched(
  changes: readonly Change[],
  writer: BatchTargetWriter,
  resume: ResumeState,
  runId: string,
  options: ApplyOptions,
): Promise<RunResult> {
  const total = changes.length;
  const results: (OpResult | undefined)[] = new Array<OpResult | undefined>(total);
  const waitsFor = predecessors(changes);
  const dispatched = new Set<number>();
  const breaker = createRunBreaker(options.breaker);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort);
  const context: WriteContext = {
    inDoubt: resume.inDoubt,
    created: new Set(resume.created),
    createdIds: new Map(),
    signal: controller.signal,
    ...(options.timeBudgetMs === undefined ? {} : { timeBudgetMs: options.timeBudgetMs }),
  };
  let stopped: RunStopped | undefined;
  let fatal: { error: unknown } | undefined;
  const running = new Set<Promise<void>>();
  const maxBatch = Math.max(1, writer.maxBatchSize);
  const concurrency = Math.max(1, Math.min(writer.concurrency, options.concurrency ?? Infinity));

  const settle = (index: number, result: OpResult): void => {
    results[index] = result;
    const change = changes[index];
    const key = change && createdKey(change);
    if (key !== undefined && result.outcome === 'applied' && result.targetId !== undefined) {
      context.createdIds.set(key, result.targetId);
    }
    options.onResult?.(result, index, total);
  };

  /** Ready: not dispatched, every predecessor settled. Skips those behind a failure. */
  const takeReady = (): number[] => {
    const ready: number[] = [];
    for (let index = 0; index < total && ready.length < maxBatch; index++) {
      if (dispatched.has(index)) continue;
      const before = waitsFor[index] ?? { hard: [], soft: [] };
      if ([...before.hard, ...before.soft].some((p) => results[p] === undefined)) continue;
      const blocker = before.hard.map((p) => results[p]).find((r) => r && r.outcome !== 'applied');
      const change = changes[index];
      if (change === undefined) continue;
      dispatched.add(index);
      if (blocker) {
        settle(index, {
          changeId: change.id,
          kind: change.kind,
          user: subjectOf(change),
          outcome: blocker.outcome === 'not-run' ? 'not-run' : 'skipped',
          note: `an earlier change to the same account did not apply (${blocker.changeId})`,
        });
        index = -1; // a settled skip may free others earlier in the order
        continue;
      }
      ready.push(index);
    }
    return ready;
  };

  const runBatch = async (indices: readonly number[]): Promise<void> => {
    const batch = indices.map((i) => changes[i]).filter((c): c is Change => c !== undefined);
    if (options.journal) await options.journal.record(runId, batch.map(intentOf));
    let written: readonly WriteResult[];
    try {
      written = await writer.applyBatch(batch, context);
    } catch (err) {
      written = batch.map(() => ({
        ok: false as const,
        error: { code: 'internal', message: err instanceof Error ? err.message : String(err) },
      }));
    }
    const outcomes = batch.map((change, i) =>
      toOpResult(
        change,
        written[i] ?? {
          ok: false,
          error: { code: 'internal', message: 'the writer returned no result for this change' },
        },
      ),
    );
    // Durable before anyone learns the outcome: a crash now resumes with these settled.
    if (options.journal) await options.journal.record(runId, outcomes.map(outcomeOf));
    for (const [i, result] of outcomes.entries()) {
      const index = indices[i];
      if (index === undefined) continue;
      settle(index, result);
      const writtenOne = written[i];
      const open =
        writtenOne && !writtenOne.ok && 'notRun' in writtenOne
          ? { code: writtenOne.code, message: writtenOne.reason }
          : breaker.record(result);
      if (open && !stopped) {
        stopped = open;
        controller.abort();
      }
    }
  };

  try {
    for (;;) {
      if (!stopped && !fatal && options.signal?.aborted) {
        stopped = { code: 'aborted', message: 'the run was aborted' };
        controller.abort();
      }
      if (!stopped && !fatal) {
        while (running.size < concurrency) {
          const ready = takeReady();
          if (ready.length === 0) break;
          const task: Promise<void> = runBatch(ready)
            .catch((error: unknown) => {
              fatal ??= { error };
              controller.abort();
            })
            .finally(() => running.delete(task));
          running.add(task);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (fatal) throw fatal.error;

  const ops = changes.map(
    (change, index): OpResult =>
      results[index] ?? {
        changeId: change.id,
        kind: change.kind,
        user: subjectOf(change),
        outcome: 'not-run',
        note: stopped?.message ?? 'not attempted',
      },
  );
  return { ops, ...(stopped ? { stopped } : {}) };
}

function diffStats(a: WriteStats, b: WriteStats): WriteStats {
  return {
    requests: b.requests - a.requests,
    writes: b.writes - a.writes,
    throttled: b.throttled - a.throttled,
    retries: b.retries - a.retries,
    reconciled: b.reconciled - a.reconciled,
    tokenRefreshes: b.tokenRefreshes - a.tokenRefreshes,
    longestRetryAfterMs: b.longestRetryAfterMs,
    elapsedMs: b.elapsedMs - a.elapsedMs,
  };
}
