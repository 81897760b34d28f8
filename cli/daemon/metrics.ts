/**
 * The daemon's Prometheus metrics (prom-client), on a registry of its own so several daemons in
 * one process (tests) never share series. Names follow Prometheus conventions: `_total` for
 * counters, `_seconds` for times, base units only.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChangeKind, Plan } from '../../engine/model/plan.js';
import type { RunReport } from '../../engine/model/report.js';
import type { SourceStatus } from '../../engine/model/source.js';
import type { RunMode, RunOutcome } from '../history/history-store.js';

const SOURCE_STATUSES: readonly SourceStatus[] = ['complete', 'incomplete', 'failed'];

export type SkipReason = 'overlap' | 'backoff' | 'locked' | 'stopping';

export interface DaemonMetrics {
  readonly registry: Registry;
  observePlan(plan: Plan): void;
  /** `countThrottled`: add the report's 429 count (when no target telemetry is connected). */
  observeReport(report: RunReport, options?: { readonly countThrottled?: boolean }): void;
  observeRun(mode: RunMode, outcome: RunOutcome, durationSeconds: number, at: number): void;
  observeSkip(reason: SkipReason): void;
  /** Adds 429 responses seen since the last call. */
  addThrottled(count: number): void;
  /** Adds Graph requests and directory writes since the last call. */
  addGraphTraffic(requests: number, writes: number): void;
  setWriteCeiling(perSecond: number): void;
  setBackoff(consecutiveFailures: number, waitSeconds: number): void;
  setHealthy(healthy: boolean): void;
  /** Prometheus text exposition format. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface DaemonMetricsOptions {
  /** Also export the process metrics (CPU, memory, event loop lag) of prom-client. */
  readonly processMetrics?: boolean;
}

/** The daemon's metric families, registered on `registry`. Names and labels are stable: the
 * Grafana dashboard (examples/daemon/grafana-dashboard.json) and alert rules query them. */
function defineMetrics(registry: Registry) {
  const registers = [registry];

  const runs = new Counter({
    name: 'entrasync_runs_total',
    help: 'Runs by mode and outcome.',
    labelNames: ['mode', 'outcome'] as const,
    registers,
  });
  const failures = new Counter({
    name: 'entrasync_run_failures_total',
    help: 'Runs that failed: a source failed, the apply failed or tripped the circuit breaker, or an error stopped the run.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const skipped = new Counter({
    name: 'entrasync_runs_skipped_total',
    help: 'Scheduled runs not started: a run was still going (overlap), backing off, the apply lock was held elsewhere, or shutting down.',
    labelNames: ['reason'] as const,
    registers,
  });
  const changes = new Counter({
    name: 'entrasync_changes_total',
    help: 'Changes by kind and outcome: planned and blocked when planned, then applied, failed, skipped or not-run.',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const planChanges = new Gauge({
    name: 'entrasync_plan_changes',
    help: 'Changes in the latest plan, by kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const planBlocked = new Gauge({
    name: 'entrasync_plan_blocked_changes',
    help: 'Changes the latest plan holds blocked by safety checks.',
    registers,
  });
  const planHeld = new Gauge({
    name: 'entrasync_plan_held_changes',
    help: 'Changes the latest plan holds, by reason (a safety check, or requires-blocked for those that wait for a held change); the rest of the plan applies.',
    labelNames: ['reason'] as const,
    registers,
  });
  const throttled = new Counter({
    name: 'entrasync_graph_throttled_total',
    help: 'Microsoft Graph 429 (throttled) responses.',
    registers,
  });
  const graphRequests = new Counter({
    name: 'entrasync_graph_requests_total',
    help: 'Microsoft Graph HTTP requests sent (reads and writes; a $batch is one request).',
    registers,
  });
  const graphWrites = new Counter({
    name: 'entrasync_graph_writes_total',
    help: 'Directory writes carried out (each item of a $batch counts).',
    registers,
  });
  const writeCeiling = new Gauge({
    name: 'entrasync_graph_write_ceiling_per_second',
    help: "The sustained write rate entrasync paces its writes to (target.writes.perSecond; Graph's ceiling is 20 per app and tenant).",
    registers,
  });
  const sourceRecords = new Gauge({
    name: 'entrasync_source_records',
    help: 'Records each source returned in the latest run.',
    labelNames: ['source'] as const,
    registers,
  });
  const sourceStatus = new Gauge({
    name: 'entrasync_source_status',
    help: 'Status of each source in the latest run: 1 for its status, 0 for the others.',
    labelNames: ['source', 'status'] as const,
    registers,
  });
  const lastSuccess = new Gauge({
    name: 'entrasync_last_success_timestamp_seconds',
    help: 'When the latest run that did not fail ended (Unix time).',
    registers,
  });
  const lastRun = new Gauge({
    name: 'entrasync_last_run_timestamp_seconds',
    help: 'When the latest run ended (Unix time).',
    registers,
  });
  const duration = new Histogram({
    name: 'entrasync_run_duration_seconds',
    help: 'Duration of runs (plan, and apply in apply mode).',
    labelNames: ['mode'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  });
  const consecutive = new Gauge({
    name: 'entrasync_consecutive_failures',
    help: 'Failed runs in a row.',
    registers,
  });
  const backoff = new Gauge({
    name: 'entrasync_backoff_seconds',
    help: 'Current wait before the next try while backing off (0 when not backing off).',
    registers,
  });
  const healthy = new Gauge({
    name: 'entrasync_healthy',
    help: '1 when /healthz answers ok, 0 when degraded.',
    registers,
  });
  return {
    runs,
    failures,
    skipped,
    changes,
    planChanges,
    planBlocked,
    planHeld,
    throttled,
    graphRequests,
    graphWrites,
    writeCeiling,
    sourceRecords,
    sourceStatus,
    lastSuccess,
    lastRun,
    duration,
    consecutive,
    backoff,
    healthy,
  };
}

export function createDaemonMetrics(options: DaemonMetricsOptions = {}): DaemonMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'entrasync_' });
  const m = defineMetrics(registry);
  m.healthy.set(1);

  const FAILED: ReadonlySet<RunOutcome> = new Set(['source-failed', 'apply-failed', 'error']);

  return {
    registry,
    contentType: registry.contentType,
    observePlan(plan) {
      const byKind = new Map<ChangeKind, number>();
      for (const change of plan.changes) {
        byKind.set(change.kind, (byKind.get(change.kind) ?? 0) + 1);
        m.changes.inc({ kind: change.kind, outcome: 'planned' });
      }
      for (const blocked of plan.blocked) {
        m.changes.inc({ kind: blocked.change.kind, outcome: 'blocked' });
      }
      m.planChanges.reset();
      for (const [kind, n] of byKind) m.planChanges.set({ kind }, n);
      m.planBlocked.set(plan.blocked.length);
      m.planHeld.reset();
      for (const blocked of plan.blocked) m.planHeld.inc({ reason: blocked.code });
      for (const source of plan.sources) {
        m.sourceRecords.set({ source: source.name }, source.records);
        for (const status of SOURCE_STATUSES) {
          m.sourceStatus.set({ source: source.name, status }, source.status === status ? 1 : 0);
        }
      }
    },
    observeReport(report, { countThrottled = true } = {}) {
      for (const op of report.ops) m.changes.inc({ kind: op.kind, outcome: op.outcome });
      if (!countThrottled) return;
      // The paced writer counts every 429 it met (retried ones included) in `stats.throttled`;
      // without it, only the writes that finally failed with 429 are known.
      const stats = (report as { stats?: { throttled?: number } }).stats;
      if (typeof stats?.throttled === 'number') m.throttled.inc(stats.throttled);
      else m.throttled.inc(report.ops.filter((op) => op.error?.status === 429).length);
    },
    observeRun(mode, outcome, durationSeconds, at) {
      m.runs.inc({ mode, outcome });
      m.duration.observe({ mode }, durationSeconds);
      m.lastRun.set(at / 1000);
      if (FAILED.has(outcome)) m.failures.inc({ outcome });
      else m.lastSuccess.set(at / 1000);
    },
    observeSkip(reason) {
      m.skipped.inc({ reason });
    },
    addThrottled(count) {
      if (count > 0) m.throttled.inc(count);
    },
    addGraphTraffic(requests, writes) {
      if (requests > 0) m.graphRequests.inc(requests);
      if (writes > 0) m.graphWrites.inc(writes);
    },
    setWriteCeiling(perSecond) {
      m.writeCeiling.set(perSecond);
    },
    setBackoff(n, waitSeconds) {
      m.consecutive.set(n);
      m.backoff.set(waitSeconds);
    },
    setHealthy(ok) {
      m.healthy.set(ok ? 1 : 0);
    },
    render: () => registry.metrics(),
  };
}
