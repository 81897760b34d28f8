/**
 * One run of the daemon: take the apply lock (apply mode: `lock`, else the apply store's),
 * read the tenant (tenant-reads.ts), plan (reusing the last plan when the inputs did not change,
 * with the P2 baseline of protect-baseline.ts), apply in apply mode through the journaled
 * applier `entrasync apply` uses (cli/apply-runner.ts), and judge the outcome (run-verdict.ts);
 * run-record.ts records how it ended.
 *
 * Contracts:
 * - Every run that starts is recorded as ended, whatever happens in it; an error ends it
 *   `error` (`blocked` for a safety refusal) and is logged, never thrown.
 * - A lock held by another applier, found here or by the applier (`apply.locked`), skips the
 *   run: the holder is named and neither health nor the back-off moves.
 * - Plan mode never receives a writer.
 * - Each change's outcome is written to history as it happens, so a run cut short shows what it
 *   applied; an interrupted run waiting in the journal is taken over even by a plan with
 *   nothing to write, which closes it.
 */
import { subjectOf } from '../../engine/model/plan.js';
import { hasFailedSource, planRunRepeated } from '../../engine/index.js';
import type { OpResult, Plan, PlanMemo, RunReport } from '../../engine/index.js';
import { applyJournaled, runLockOf } from '../apply-runner.js';
import { applyWritebacks } from '../writeback-apply.js';
import type { OutcomeRecorder } from '../apply-runner.js';
import type { TargetReader } from '../../engine/ports.js';
import type { RunTrigger, TenantReadKind } from '../history/history-store.js';
import type { Logger } from '../logging.js';
import { runLogger } from '../logging.js';
import { collectReadGarbage } from '../memory.js';
import type { DaemonOptions, TickResult } from './daemon-types.js';
import { LOCKED } from './daemon-types.js';
import type { HistoryGuard } from './history-guard.js';
import type { LockHolder } from './ports.js';
import { createProtectBaseline } from './protect-baseline.js';
import type { Verdict } from './run-verdict.js';
import type { RunRecorder } from './run-record.js';
import { describeHolder, errorVerdict, judgeApply, judgePlan } from './run-verdict.js';
import { createTenantReads } from './tenant-reads.js';

export interface RunStartInfo {
  readonly id: string;
  readonly startedAt: number;
  readonly trigger: RunTrigger;
}

/** Where a run cycle writes: history through the guard, and its end through the recorder. */
export interface RunCycleParts {
  readonly guard: HistoryGuard;
  readonly record: RunRecorder;
}

export interface RunCycle {
  /** Runs once; resolves when the run has ended and is recorded. */
  execute(run: RunStartInfo): Promise<TickResult>;
}

export function createRunCycle(options: DaemonOptions, parts: RunCycleParts): RunCycle {
  const { clock, logger, history, metrics, mode } = options;
  const { guard, record } = parts;
  const reads = createTenantReads({
    reader: options.target.reader,
    ...(options.delta ? { delta: options.delta } : {}),
    fullReadEveryMs: options.fullReadEveryMs,
    clock,
  });
  const baseline = createProtectBaseline({
    protect: options.spec.safety.protect,
    planOptions: options.planOptions ?? {},
    ...(history ? { history } : {}),
    guard,
    clock,
  });
  /** The last plan and its inputs: a run whose connectors report no change reuses it. */
  let memo: PlanMemo | undefined;
  const store = options.applyStore;
  // Without a lock of its own the run holds the store's from before it reads the tenant, so
  // the applier must not take it again (it would find it held).
  const lock = options.lock ?? (store ? runLockOf(store.lock) : undefined);
  const storeLockHeld = options.lock === undefined;

  async function execute(run: RunStartInfo): Promise<TickResult> {
    const log = runLogger(logger, run.id);
    log.info({ trigger: run.trigger, mode }, 'run started');
    guard.attempt(() => history?.startRun({ ...run, mode }), undefined);
    let verdict: Verdict;
    let release: (() => Promise<void>) | undefined;
    try {
      if (mode === 'apply' && lock) {
        const attempt = await lock.acquire({ runId: run.id, startedAt: run.startedAt });
        if (!attempt.ok) {
          return record.locked(run, log, attempt.holder, describeHolder(attempt.holder));
        }
        release = () => attempt.release();
      }
      verdict = await planAndApply(run, log);
    } catch (err) {
      const failure = errorVerdict(err);
      verdict = failure;
      if (failure.errorCode === LOCKED) {
        // The apply engine's own lock (A3): another applier holds it. Not a failure of this
        // daemon, so no back-off; the error names the holder, PID and start time.
        const holder = (err as { holder?: LockHolder }).holder;
        return record.locked(run, log, holder, options.redactor.redact(failure.reason));
      }
      log.error({ err }, 'run failed');
    } finally {
      if (release) {
        await release().catch((err: unknown) =>
          log.error({ err }, 'releasing the apply lock failed'),
        );
      }
    }
    return record.finished(run, log, verdict);
  }

  async function planAndApply(run: RunStartInfo, log: Logger): Promise<Verdict> {
    const read = reads.forRun(log);
    const repeated = await planRunRepeated(
      options.spec,
      { sources: options.sources, target: read.reader, afterRead: collectReadGarbage },
      baseline.planOptions(),
      memo,
    );
    memo = repeated.memo;
    const plan = repeated.plan;
    baseline.planned();
    guard.attempt(() => history?.recordPlan(run.id, plan, read.kind, clock.now()), undefined);
    metrics?.observePlan(plan);
    logPlan(log, plan, read.kind, repeated.reused);
    const stop = judgePlan(plan, mode);
    if (stop === undefined) return apply(run, log, plan, read.reader);
    const interrupted = mode === 'apply' ? interruptedRunFor(plan) : undefined;
    if (interrupted === undefined) return stop;
    log.info({ interruptedRunId: interrupted }, 'closing the journal of an interrupted run');
    const closed = await apply(run, log, plan, read.reader);
    return closed.outcome === 'applied' ? stop : closed;
  }

  /** An unfinished journaled run that an apply of `plan` would take over and close. */
  function interruptedRunFor(plan: Plan): string | undefined {
    if (hasFailedSource(plan) || (plan.blocked.length > 0 && plan.onBlocked === 'hold-plan')) {
      return undefined;
    }
    return store?.unfinishedRun(plan.configDigest)?.runId;
  }

  async function apply(
    run: RunStartInfo,
    log: Logger,
    plan: Plan,
    reader: TargetReader,
  ): Promise<Verdict> {
    const onResult = (op: OpResult, index: number, total: number) =>
      logChange(log, op, index, total);
    const outcomes: OutcomeRecorder = {
      op: (op) => guard.attempt(() => history?.recordOp(run.id, op, clock.now()), undefined),
      report: (report) =>
        guard.attempt(() => history?.recordReport(run.id, report, clock.now()), undefined),
    };
    let report: RunReport;
    if (options.applier) {
      report = await options.applier(plan, { reader }, (op, index, total) => {
        outcomes.op(op);
        onResult(op, index, total);
      });
      outcomes.report(report);
    } else {
      report = await applyJournaled(
        plan,
        options.spec,
        { target: reader, writer: options.target.writer },
        {
          ...(store ? { store } : {}),
          lockOwner: `daemon run ${run.id}`,
          lockHeld: storeLockHeld,
          history: outcomes,
          onResult,
        },
      );
    }
    logResumed(log, report);
    // With telemetry the target's own 429 counter is used; the report's would count twice.
    metrics?.observeReport(report, { countThrottled: !options.telemetry });
    const written = report.stopped
      ? undefined
      : await applyWritebacks(plan, options.sourceWriter, {
          out: (text) => {
            if (text.trim() !== '') log.info(text.trim());
          },
          err: (text) => log.warn(text.trim()),
        });
    if (written && written.failed > 0) {
      return {
        outcome: 'error',
        errorCode: 'writeback.failed',
        reason: `${written.failed} write-back(s) failed: ${written.results.find((r) => r.error)?.error?.message ?? ''}`,
      };
    }
    return judgeApply(plan, report, options);
  }

  return { execute };
}

/** `reused`: the inputs were those of the last run, so its plan stands (not computed again). */
function logPlan(log: Logger, plan: Plan, read: TenantReadKind, reused: boolean): void {
  const kinds: Record<string, number> = {};
  for (const c of plan.changes) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
  log.info(
    {
      fingerprint: plan.fingerprint,
      read,
      reused,
      changes: plan.changes.length,
      byKind: kinds,
      blocked: plan.blocked.length,
      sources: plan.sources.map((s) => ({ name: s.name, status: s.status, records: s.records })),
    },
    'planned',
  );
  // The local clock is skewed against Graph's: time-based stages were refused (A7).
  for (const issue of plan.issues.filter(
    (i) => i.severity === 'error' && i.code === 'clock.skew',
  )) {
    log.error({ code: issue.code }, issue.message);
  }
  for (const c of plan.changes) {
    log.debug(
      { changeId: c.id, kind: c.kind, reason: c.reason, user: subjectOf(c).userPrincipalName },
      c.message,
    );
  }
}

/** What a run took over from interrupted runs in the journal. */
function logResumed(log: Logger, report: RunReport): void {
  if (!report.resumed) return;
  log.info(
    {
      interruptedRunIds: report.resumed.runIds,
      alreadyApplied: report.resumed.alreadyApplied.length,
      recovered: report.ops.filter((op) => op.recovered).length,
    },
    'resumed interrupted run(s) from the journal',
  );
}

/** One applied (or failed) change, as the apply reports it. */
function logChange(log: Logger, op: OpResult, index: number, total: number): void {
  log[op.outcome === 'failed' ? 'warn' : 'info'](
    {
      op: index + 1,
      of: total,
      changeId: op.changeId,
      kind: op.kind,
      user: op.user.userPrincipalName,
      outcome: op.outcome,
      ...(op.error ? { error: op.error } : {}),
    },
    'change',
  );
}
