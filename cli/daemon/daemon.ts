/**
 * The daemon's loop: on each tick, plan (and in apply mode, apply) with the engine's `planRun`
 * and `applyRun`, exactly as the CLI does; record the run in history, metrics and logs; keep the
 * health state; back off while runs fail; alert on changes of health.
 *
 * Contracts:
 * - One run at a time. A tick while a run is going is skipped and logged (cron overlap, A3);
 *   across processes the apply lock (`RunLock`, when given) decides, and a run that finds it
 *   held is skipped with the holder's pid and start time in the log and history.
 * - A failed source, a failed tenant read or apply, an open circuit breaker, or any error makes
 *   the run failed: health turns `degraded` with the reason, an alert goes out, and scheduled
 *   ticks are skipped for a back-off that doubles toward `backoff.max` (S2, G10). The first run
 *   that does not fail resets it and sends a "recovered" alert.
 * - A plan with blocked changes applies nothing (applyRun refuses it) and degrades health until
 *   a reviewer acts, without backing off: re-planning it is cheap and shows when it clears.
 * - A run whose connectors hand back the very inputs of the last run (the same CSV bytes, an
 *   unmoved directory change counter, an empty Graph delta) reuses the last plan instead of
 *   computing it again, until a staged-offboarding date falls due (engine/pipeline/reuse.ts).
 * - Plan mode never receives a writer (Entra Connect's staging mode).
 * - History is written, and read for planning once: the `protect` list the previous run planned
 *   with, so a restart with a config that lifts an account's protection does not change that
 *   account in its first run (P2). A history write that fails is logged and degrades health,
 *   but never stops a run.
 * - `stop` lets the current run finish up to a time limit; a run cut short is recorded as
 *   interrupted, and the apply engine's journal resumes it on the next start.
 */
import { subjectOf } from '../../engine/model/plan.js';
import {
  applyRun,
  EntrasyncError,
  hasFailedSource,
  planRunRepeated,
  SafetyBlockedError,
} from '../../engine/index.js';
import type {
  ApplyIO,
  OpResult,
  Plan,
  PlanMemo,
  PlanOptions,
  RunReport,
} from '../../engine/index.js';
import type { TenantReadRequest, TenantState } from '../../engine/model/tenant.js';
import type { SyncSpec } from '../../engine/model/spec.js';
import type { SourceConnector, TargetReader } from '../../engine/ports.js';
import type { Redactor } from '../../engine/secret.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type {
  HistoryStore,
  RunMode,
  RunOutcome,
  RunTrigger,
  TenantReadKind,
} from '../history/history-store.js';
import type { Logger } from '../logging.js';
import { newRunId, runLogger } from '../logging.js';
import type { Alert, AlertSink } from './alerts.js';
import type { BackoffPolicy } from './backoff.js';
import { backoffDelay, backoffFromHistory, FAILED_OUTCOMES } from './backoff.js';
import { formatDuration } from './duration.js';
import type { HealthStatus } from './health-server.js';
import { collectReadGarbage } from '../memory.js';
import type { DaemonMetrics, SkipReason } from './metrics.js';
import type {
  CircuitBreakerProbe,
  DaemonClock,
  DeltaTenantReader,
  GraphTelemetry,
  LockHolder,
  RunLock,
  Scheduler,
} from './ports.js';

export interface DaemonOptions {
  readonly spec: SyncSpec;
  readonly sources: readonly SourceConnector[];
  readonly target: { readonly reader: TargetReader; readonly writer: ApplyIO['writer'] };
  readonly mode: RunMode;
  readonly clock: DaemonClock;
  readonly scheduler: Scheduler;
  /** Scrubs health reasons and alerts (logs and history scrub on their own). */
  readonly redactor: Redactor;
  /** Base logger; each run logs through a child carrying its run id. */
  readonly logger: Logger;
  readonly history?: HistoryStore;
  readonly metrics?: DaemonMetrics;
  readonly alerts?: AlertSink;
  readonly backoff: BackoffPolicy;
  /** Share of attempted changes that may fail before the run counts as failed. */
  readonly failureRatio: number;
  /** With a delta reader: read the whole tenant at least this often. */
  readonly fullReadEveryMs: number;
  readonly delta?: DeltaTenantReader;
  readonly circuit?: CircuitBreakerProbe;
  readonly telemetry?: GraphTelemetry;
  readonly lock?: RunLock;
  readonly planOptions?: PlanOptions;
  /**
   * How a plan is applied. Default: the engine's `applyRun` with this run's reader and the
   * target's writer. The apply command's journaled, locked apply plugs in here; a lock it finds
   * held must throw an error with code `apply.locked` (and optionally `holder`).
   */
  readonly applier?: Applier;
}

export type Applier = (
  plan: Plan,
  io: { readonly reader: TargetReader },
  onResult: (op: OpResult, index: number, total: number) => void,
) => Promise<RunReport>;

export type TickResult =
  | { readonly ran: true; readonly runId: string; readonly outcome: RunOutcome }
  | { readonly ran: false; readonly skipped: SkipReason; readonly detail: string };

export interface Daemon {
  /** Starts the schedule; with `runNow`, also runs once at once. */
  start(options?: { readonly runNow?: boolean }): Promise<TickResult | undefined>;
  /**
   * Runs now unless a run is going (skipped: overlap) or the daemon is backing off (skipped:
   * backoff; a `manual` trigger ignores the back-off). Resolves when the run has ended.
   */
  tick(trigger?: RunTrigger): Promise<TickResult>;
  health(): HealthStatus;
  /**
   * Clears the back-off so the next scheduled tick runs (SIGHUP: an operator fixed the cause).
   * The failure count starts again; health stays degraded until a run succeeds.
   */
  resetBackoff(reason: string): void;
  /** Stops the schedule and waits up to `timeoutMs` for the current run; true if it finished. */
  stop(timeoutMs: number): Promise<boolean>;
  readonly running: boolean;
}

interface RunState {
  readonly id: string;
  readonly startedAt: number;
  readonly done: Promise<TickResult>;
}

const LOCKED = 'apply.locked';

export function createDaemon(options: DaemonOptions): Daemon {
  const { clock, logger, history, metrics, alerts, mode } = options;
  const daemonLog = runLogger(logger, 'daemon');

  let current: RunState | undefined;
  let stopping = false;
  let lastFullReadAt: number | undefined;
  /** The last plan and its inputs: a run whose connectors report no change reuses it. */
  let memo: PlanMemo | undefined;
  /**
   * P2 for the daemon: the first run after a restart compares this config's `protect` list with
   * the one the previous run planned with (from history), so an account whose protection the
   * new config lifts is not changed in that run; later runs compare with this config's own.
   * Without history there is no baseline and the plan says the check did not run.
   */
  const basePlanOptions = options.planOptions ?? {};
  let planOptions: PlanOptions = basePlanOptions;
  let baselineSettled = history === undefined;
  function settleBaseline(): void {
    if (baselineSettled || history === undefined) return;
    const previous = safe(() => history.lastProtect(), undefined);
    planOptions = {
      ...basePlanOptions,
      protectBaseline: {
        protect: [...(previous ?? options.spec.safety.protect)],
        from: previous === undefined ? 'this config (no earlier run)' : 'the previous run',
      },
    };
  }
  function advanceBaseline(): void {
    if (baselineSettled || history === undefined) return;
    baselineSettled = true;
    safe(() => history.recordProtect(options.spec.safety.protect, clock.now()), undefined);
    planOptions = {
      ...basePlanOptions,
      protectBaseline: { protect: [...options.spec.safety.protect], from: 'this config' },
    };
  }
  let lastThrottled = options.telemetry?.throttledResponses() ?? 0;
  let historyError: string | undefined;
  const pendingAlerts = new Set<Promise<void>>();

  // Health and back-off, resumed from history so a restart does not reset a back-off to zero.
  let consecutiveFailures = 0;
  let nextAttemptAt: number | undefined;
  let failureReason: string | undefined;
  let lastOutcome: RunOutcome | undefined;
  let lastRunAt: number | undefined;
  let lastSuccessAt: number | undefined;
  let blockedReason: string | undefined;
  if (history) {
    const recent = safe(() => history.runs({ limit: 50 }), []);
    const resumed = backoffFromHistory(recent, options.backoff);
    consecutiveFailures = resumed.consecutiveFailures;
    nextAttemptAt = resumed.nextAttemptAt;
    failureReason = resumed.lastFailureReason;
    const finished = recent.find((r) => r.outcome !== null && r.errorCode !== LOCKED);
    if (finished?.outcome) {
      lastOutcome = finished.outcome;
      lastRunAt = finished.finishedAt ?? finished.startedAt;
      if (finished.outcome === 'blocked') blockedReason = finished.errorMessage ?? undefined;
    }
    const success = recent.find((r) => r.outcome !== null && !FAILED_OUTCOMES.has(r.outcome));
    if (success) lastSuccessAt = success.finishedAt ?? success.startedAt;
    if (consecutiveFailures > 0) {
      daemonLog.warn(
        {
          consecutiveFailures,
          nextAttemptAt: iso(nextAttemptAt),
          reason: failureReason,
        },
        'resuming back-off from history',
      );
    }
  }
  publishBackoff();

  function safe<T>(body: () => T, fallback: T): T {
    try {
      const value = body();
      historyError = undefined;
      return value;
    } catch (err) {
      historyError = err instanceof Error ? err.message : String(err);
      daemonLog.error({ err }, 'history could not be written or read');
      return fallback;
    }
  }

  function health(): HealthStatus {
    let reason: string | undefined;
    const circuit = options.circuit?.state();
    if (circuit?.open) reason = `circuit breaker open: ${circuit.reason}`;
    else if (lastOutcome && FAILED_OUTCOMES.has(lastOutcome)) reason = failureReason;
    else if (lastOutcome === 'blocked')
      reason = blockedReason ?? 'changes blocked by safety checks';
    else if (consecutiveFailures > 0) reason = failureReason;
    else if (historyError) reason = `history: ${historyError}`;
    return {
      status: reason === undefined ? 'ok' : 'degraded',
      ...(reason !== undefined ? { reason: options.redactor.redact(reason) } : {}),
      mode,
      running: current !== undefined,
      consecutiveFailures,
      ...(lastRunAt !== undefined ? { lastRunAt: iso(lastRunAt) } : {}),
      ...(lastSuccessAt !== undefined ? { lastSuccessAt: iso(lastSuccessAt) } : {}),
      ...(nextAttemptAt !== undefined && consecutiveFailures > 0
        ? { nextAttemptAt: iso(nextAttemptAt) }
        : {}),
      ...(lastOutcome ? { lastOutcome } : {}),
    };
  }

  function publishBackoff(): void {
    const wait =
      nextAttemptAt !== undefined && consecutiveFailures > 0
        ? Math.max(0, nextAttemptAt - clock.now())
        : 0;
    metrics?.setBackoff(consecutiveFailures, wait / 1000);
  }

  function skip(reason: SkipReason, detail: string, fields: Record<string, unknown>): TickResult {
    metrics?.observeSkip(reason);
    daemonLog.info({ skipped: reason, ...fields }, detail);
    return { ran: false, skipped: reason, detail };
  }

  /** A reader for this run: full, or delta between full reads (falling back to full). */
  function readerFor(log: Logger, readKind: { value: TenantReadKind }): TargetReader {
    const delta = options.delta;
    const now = clock.now();
    const full =
      !delta || lastFullReadAt === undefined || now - lastFullReadAt >= options.fullReadEveryMs;
    if (!delta) return options.target.reader;
    readKind.value = full ? 'full' : 'delta';
    const readFull = async (request: TenantReadRequest): Promise<TenantState> => {
      const state = await delta.readFull(request);
      readKind.value = 'full';
      lastFullReadAt = clock.now();
      return state;
    };
    let fullDone = false;
    return {
      apiVersion: PORT_API_VERSION,
      async read(request) {
        if (full && !fullDone) {
          fullDone = true;
          return readFull(request);
        }
        try {
          return await delta.readDelta(request);
        } catch (err) {
          log.warn({ err }, 'delta read failed; reading the whole tenant');
          return readFull(request);
        }
      },
    };
  }

  async function execute(run: { id: string; startedAt: number; trigger: RunTrigger }) {
    const log = runLogger(logger, run.id);
    log.info({ trigger: run.trigger, mode }, 'run started');
    safe(() => history?.startRun({ ...run, mode }), undefined);

    let outcome: RunOutcome = 'error';
    let errorCode: string | undefined;
    let reason: string | undefined;
    let release: (() => Promise<void>) | undefined;
    try {
      if (mode === 'apply' && options.lock) {
        const attempt = await options.lock.acquire({ runId: run.id, startedAt: run.startedAt });
        if (!attempt.ok) {
          errorCode = LOCKED;
          reason = describeHolder(attempt.holder);
          return finishLocked(run, log, attempt.holder, reason);
        }
        release = () => attempt.release();
      }
      const readKind = { value: 'full' as TenantReadKind };
      const reader = readerFor(log, readKind);
      settleBaseline();
      const repeated = await planRunRepeated(
        options.spec,
        { sources: options.sources, target: reader, afterRead: collectReadGarbage },
        planOptions,
        memo,
      );
      memo = repeated.memo;
      const plan = repeated.plan;
      advanceBaseline();
      safe(() => history?.recordPlan(run.id, plan, readKind.value, clock.now()), undefined);
      metrics?.observePlan(plan);
      logPlan(log, plan, readKind.value, repeated.reused);

      if (hasFailedSource(plan)) {
        outcome = 'source-failed';
        errorCode = 'source.failed';
        reason = describeFailedSources(plan);
      } else if (plan.blocked.length > 0) {
        outcome = 'blocked';
        reason = `${plan.blocked.length} change(s) blocked by safety checks in plan ${plan.fingerprint.slice(0, 12)} (first: ${plan.blocked[0]?.message ?? ''}); review it with \`entrasync plan\``;
      } else if (plan.changes.length === 0) {
        outcome = 'no-changes';
      } else if (mode === 'plan') {
        outcome = 'planned';
      } else {
        const onResult = (op: OpResult, index: number, total: number) =>
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
        const report = options.applier
          ? await options.applier(plan, { reader }, onResult)
          : await applyRun(
              plan,
              options.spec,
              { target: reader, writer: options.target.writer },
              { onResult },
            );
        safe(() => history?.recordReport(run.id, report, clock.now()), undefined);
        // With telemetry the target's own 429 counter is used; the report's would count twice.
        metrics?.observeReport(report, { countThrottled: !options.telemetry });
        ({ outcome, reason, errorCode } = judgeReport(report, options));
      }
    } catch (err) {
      outcome = 'error';
      errorCode =
        err instanceof EntrasyncError ? err.code : ((err as { code?: string }).code ?? 'internal');
      reason = err instanceof Error ? err.message : String(err);
      if (errorCode === LOCKED) {
        // The apply engine's own lock (A3): another applier holds it. Not a failure of this
        // daemon, so no back-off; the error names the holder, PID and start time.
        const holder = (err as { holder?: LockHolder }).holder;
        return finishLocked(run, log, holder, options.redactor.redact(reason));
      }
      if (err instanceof SafetyBlockedError) outcome = 'blocked';
      log.error({ err }, 'run failed');
    } finally {
      if (release) {
        await release().catch((err: unknown) =>
          log.error({ err }, 'releasing the apply lock failed'),
        );
      }
    }
    return finishRun(run, log, outcome, errorCode, reason);
  }

  function finishLocked(
    run: { id: string; startedAt: number },
    log: Logger,
    holder: LockHolder | undefined,
    reason: string,
  ): TickResult {
    log.warn(holder ? { holder } : {}, `apply lock held: ${reason}; skipping this run`);
    safe(
      () =>
        history?.finishRun(run.id, {
          finishedAt: clock.now(),
          outcome: 'error',
          errorCode: LOCKED,
          errorMessage: reason,
        }),
      undefined,
    );
    metrics?.observeSkip('locked');
    return { ran: false, skipped: 'locked', detail: reason };
  }

  function finishRun(
    run: { id: string; startedAt: number },
    log: Logger,
    outcome: RunOutcome,
    errorCode: string | undefined,
    reason: string | undefined,
  ): TickResult {
    const now = clock.now();
    const before = health();
    if (reason !== undefined) reason = options.redactor.redact(reason);
    safe(
      () =>
        history?.finishRun(run.id, {
          finishedAt: now,
          outcome,
          ...(errorCode ? { errorCode } : {}),
          ...(reason ? { errorMessage: reason } : {}),
        }),
      undefined,
    );
    lastOutcome = outcome;
    lastRunAt = now;
    blockedReason = outcome === 'blocked' ? reason : undefined;
    if (FAILED_OUTCOMES.has(outcome)) {
      consecutiveFailures++;
      failureReason = reason ?? outcome;
      const wait = backoffDelay(consecutiveFailures, options.backoff);
      nextAttemptAt = now + wait;
      log.warn(
        {
          outcome,
          errorCode,
          consecutiveFailures,
          backoff: formatDuration(wait),
          nextAttemptAt: iso(nextAttemptAt),
        },
        `run failed: ${failureReason}`,
      );
    } else {
      if (consecutiveFailures > 0) {
        log.info({ after: consecutiveFailures }, 'recovered; back-off reset');
      }
      consecutiveFailures = 0;
      nextAttemptAt = undefined;
      failureReason = undefined;
      lastSuccessAt = now;
    }
    if (options.telemetry) {
      const total = options.telemetry.throttledResponses();
      metrics?.addThrottled(total - lastThrottled);
      lastThrottled = total;
    }
    metrics?.observeRun(mode, outcome, (now - run.startedAt) / 1000, now);
    publishBackoff();
    const after = health();
    metrics?.setHealthy(after.status === 'ok');
    log.info(
      { outcome, durationMs: now - run.startedAt, health: after.status },
      `run finished: ${outcome}`,
    );
    maybeAlert(before, after, run.id);
    return { ran: true, runId: run.id, outcome };
  }

  function maybeAlert(before: HealthStatus, after: HealthStatus, runId: string): void {
    if (!alerts) return;
    let alert: Alert | undefined;
    const at = new Date(clock.now()).toISOString();
    if (
      after.status === 'degraded' &&
      (before.status !== 'degraded' || before.reason !== after.reason)
    ) {
      alert = {
        event: 'degraded',
        reason: after.reason ?? 'degraded',
        runId,
        at,
        consecutiveFailures: after.consecutiveFailures,
        ...(after.nextAttemptAt ? { nextAttemptAt: after.nextAttemptAt } : {}),
      };
    } else if (after.status === 'ok' && before.status === 'degraded') {
      alert = {
        event: 'recovered',
        reason: `was: ${before.reason ?? 'degraded'}`,
        runId,
        at,
        consecutiveFailures: 0,
      };
    }
    if (!alert) return;
    daemonLog.info({ alert: alert.event, runId }, 'sending alert');
    const sending = alerts.send(alert).catch((err: unknown) => {
      daemonLog.warn({ err }, 'alert failed');
    });
    pendingAlerts.add(sending);
    void sending.finally(() => pendingAlerts.delete(sending));
  }

  async function tick(trigger: RunTrigger = 'schedule'): Promise<TickResult> {
    if (stopping) return skip('stopping', 'shutting down; tick ignored', {});
    if (current) {
      return skip('overlap', `previous run ${current.id} is still going; skipping this tick`, {
        runningRunId: current.id,
        runningSince: iso(current.startedAt),
      });
    }
    const now = clock.now();
    if (trigger !== 'manual' && nextAttemptAt !== undefined && now < nextAttemptAt) {
      publishBackoff();
      return skip(
        'backoff',
        `backing off after ${consecutiveFailures} failed run(s); next try at ${iso(nextAttemptAt)}`,
        { consecutiveFailures, nextAttemptAt: iso(nextAttemptAt), reason: failureReason },
      );
    }
    const run = { id: newRunId(now), startedAt: now, trigger };
    const done = execute(run)
      .catch((err: unknown): TickResult => {
        // execute records its own failures; reaching here is a bug, logged rather than thrown
        // into a timer callback.
        daemonLog.error({ err }, 'run crashed');
        return { ran: true, runId: run.id, outcome: 'error' };
      })
      .finally(() => {
        current = undefined;
      });
    current = { id: run.id, startedAt: now, done };
    return done;
  }

  return {
    async start(startOptions = {}) {
      daemonLog.info(
        { mode, nextRun: iso(options.scheduler.nextRun()) },
        `daemon started in ${mode} mode`,
      );
      options.scheduler.start(() => void tick('schedule'));
      daemonLog.info({ nextRun: iso(options.scheduler.nextRun()) }, 'schedule started');
      return startOptions.runNow ? tick('start') : undefined;
    },
    tick,
    health,
    async stop(timeoutMs) {
      stopping = true;
      options.scheduler.stop();
      const running = current;
      let finished = true;
      if (running) {
        daemonLog.info(
          { runningRunId: running.id, timeoutMs },
          'stopping: letting the current run finish',
        );
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const result = await Promise.race([running.done, timedOut]);
        clearTimeout(timer);
        if (result === 'timeout') {
          finished = false;
          daemonLog.error(
            { runningRunId: running.id },
            `run ${running.id} did not finish within ${formatDuration(timeoutMs)}; exiting: an apply cut short resumes from its journal on the next run`,
          );
          safe(
            () =>
              history?.finishRun(running.id, {
                finishedAt: clock.now(),
                outcome: 'error',
                errorCode: 'daemon.interrupted',
                errorMessage: `stopped before the run finished (shutdown timeout ${formatDuration(timeoutMs)})`,
              }),
            undefined,
          );
        }
      }
      await Promise.allSettled([...pendingAlerts]);
      daemonLog.info({ finished }, 'daemon stopped');
      return finished;
    },
    resetBackoff(reason) {
      if (consecutiveFailures === 0 && nextAttemptAt === undefined) return;
      daemonLog.info({ after: consecutiveFailures, reason }, `back-off cleared (${reason})`);
      consecutiveFailures = 0;
      nextAttemptAt = undefined;
      publishBackoff();
    },
    get running() {
      return current !== undefined;
    },
  };
}

function judgeReport(
  report: RunReport,
  options: Pick<DaemonOptions, 'failureRatio' | 'circuit'>,
): { outcome: RunOutcome; reason?: string; errorCode?: string } {
  const counts = { applied: 0, failed: 0, skipped: 0, 'not-run': 0 };
  for (const op of report.ops) counts[op.outcome]++;
  // Set by the apply engine when it stopped before attempting every change (circuit breaker,
  // time budget, abort); read structurally so this works with and without that field.
  const stopped = (report as { stopped?: { code: string; message: string } }).stopped;
  if (stopped?.code === 'time-budget') {
    // Not a failure: the run used its time (long Retry-After waits, G2); the next run resumes.
    return {
      outcome: 'partial',
      reason: `apply stopped at its time budget: ${stopped.message} (${counts.applied} applied, ${counts['not-run']} left for the next run)`,
    };
  }
  if (stopped) {
    return {
      outcome: 'apply-failed',
      errorCode: `apply.${stopped.code}`,
      reason: `apply stopped (${stopped.code}): ${stopped.message} (${counts.applied} applied, ${counts.failed} failed, ${counts['not-run']} not run)`,
    };
  }
  const circuit = options.circuit?.state();
  if (circuit?.open) {
    return {
      outcome: 'apply-failed',
      errorCode: 'apply.circuit-open',
      reason: `circuit breaker open: ${circuit.reason} (${counts.applied} applied, ${counts.failed} failed, ${counts['not-run']} not run)`,
    };
  }
  const attempted = counts.applied + counts.failed;
  const firstError = report.ops.find((op) => op.error)?.error;
  const errorText = firstError
    ? `; first error: ${firstError.status ?? ''} ${firstError.code}: ${firstError.message}`.replace(
        /: {2}/,
        ': ',
      )
    : '';
  if (
    counts['not-run'] > 0 ||
    (attempted > 0 && counts.failed / attempted > options.failureRatio)
  ) {
    return {
      outcome: 'apply-failed',
      errorCode: 'apply.failed',
      reason: `apply failed: ${counts.failed} of ${attempted} attempted change(s) failed, ${counts['not-run']} not run${errorText}`,
    };
  }
  if (counts.failed > 0) {
    return {
      outcome: 'partial',
      reason: `${counts.failed} of ${attempted} change(s) failed${errorText}`,
    };
  }
  return { outcome: 'applied' };
}

function describeFailedSources(plan: Plan): string {
  const failed = plan.sources.filter((s) => s.status === 'failed');
  return failed
    .map((s) => {
      const issue = plan.issues.find((i) => i.source === s.name && i.severity === 'error');
      return `source ${s.name} (${s.kind}) failed${issue ? `: ${issue.message}` : ''}`;
    })
    .join('; ');
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

function describeHolder(holder: LockHolder): string {
  const since =
    typeof holder.startedAt === 'number'
      ? new Date(holder.startedAt).toISOString()
      : holder.startedAt;
  const parts = [
    ...(holder.owner ? [holder.owner] : []),
    `pid ${holder.pid}`,
    ...(holder.host ? [`on ${holder.host}`] : []),
    `since ${since}`,
    ...(holder.runId ? [`run ${holder.runId}`] : []),
    ...(holder.lockId ? [`lock ${holder.lockId}`] : []),
    ...(holder.leaseUntil ? [`lease until ${holder.leaseUntil}`] : []),
  ];
  return `held by ${parts.join(' ')}`;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
