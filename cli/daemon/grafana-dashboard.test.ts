/**
 * examples/daemon/grafana-dashboard.json reads only metrics the daemon exports: every metric
 * name in its queries is served by a running daemon's /metrics (an apply run of the quickstart
 * through `entrasync daemon`'s own code), and every label a query filters or groups by is one
 * that metric has. Renaming a metric or a label fails here, so the dashboard's names stay stable.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../engine/secret.js';
import type { Daemon } from './daemon.js';
import { createDaemonMetrics } from './metrics.js';
import { runDaemon } from './run-daemon.js';
import { createManualScheduler } from './scheduler.js';
import { captureLog, tempCopyOfQuickstart, until } from './test-helpers.js';

const DASHBOARD = join(
  import.meta.dirname,
  '..',
  '..',
  'examples',
  'daemon',
  'grafana-dashboard.json',
);

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly targets?: { expr: string; refId: string }[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: Panel[];
  readonly templating: { list: { name: string; query: unknown }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** Labels Prometheus adds at scrape time or that a histogram's buckets carry. */
const SCRAPE_LABELS = new Set(['instance', 'job', 'le']);
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Each metric a PromQL expression names, with the labels it matches on or groups by. */
function metricsIn(expr: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const grouped = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((l) => l.trim()),
  );
  for (const m of expr.matchAll(/\b(entrasync_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = found.get(m[1]!) ?? new Set<string>();
    for (const matcher of (m[3] ?? '').split(',')) {
      const name = /^\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/.exec(matcher)?.[1];
      if (name) labels.add(name);
    }
    for (const label of grouped) labels.add(label);
    found.set(m[1]!, labels);
  }
  return found;
}

/** The /metrics of `entrasync daemon --mode apply` after one run over the quickstart. */
async function metricsAfterAnApplyRun(): Promise<string> {
  const work = tempCopyOfQuickstart();
  const signals = new EventEmitter();
  const scheduler = createManualScheduler();
  let started: { url: string; daemon: Daemon } | undefined;
  const done = runDaemon(
    {
      config: join(work, 'entrasync.yaml'),
      mode: 'apply',
      schedule: '*/30 * * * *',
      port: 0,
      runOnStart: false,
    },
    {
      redactor: new Redactor(),
      env: {},
      signals,
      logDestination: captureLog().destination,
      scheduler: () => scheduler,
      onStarted: (s) => (started = s),
    },
  );
  const { url, daemon } = await until(() => started, 'start');
  scheduler.fire();
  await until(() => !daemon.running && daemon.health().lastOutcome, 'the run');
  const text = await (await fetch(`${url}/metrics`)).text();
  signals.emit('SIGTERM');
  expect(await done).toBe(0);
  return text;
}

describe('examples/daemon/grafana-dashboard.json', () => {
  it('is a dashboard of distinct panels on a 24-column grid, one query per target', () => {
    expect(dashboard.uid).toBe('entrasync-daemon');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type !== 'row') expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    expect(queries.length).toBeGreaterThanOrEqual(20);
  });

  it('V4: queries only metrics and labels a running daemon exports', async () => {
    const exposition = await metricsAfterAnApplyRun();
    const served = new Set(
      [...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!).filter(Boolean),
    );
    // Label names of each metric, from the daemon's own registry (a labelled counter that has
    // not counted yet has no sample to read them from).
    const registry = createDaemonMetrics({ processMetrics: true }).registry;
    const labelsOf = new Map(
      registry.getMetricsAsArray().map((m) => {
        const names = (m as unknown as { labelNames?: string[] }).labelNames ?? [];
        return [m.name, new Set(names)] as const;
      }),
    );
    const used = new Map<string, Set<string>>();
    for (const expr of [...queries, 'label_values(entrasync_healthy, instance)']) {
      for (const [metric, labels] of metricsIn(expr)) {
        const family = served.has(metric) ? metric : metric.replace(HISTOGRAM_SUFFIX, '');
        expect(served, `"${expr}" reads ${metric}, which /metrics does not serve`).toContain(
          family,
        );
        used.set(family, new Set([...(used.get(family) ?? []), ...labels]));
      }
    }
    for (const [family, labels] of used) {
      for (const label of labels) {
        if (SCRAPE_LABELS.has(label)) continue;
        expect(labelsOf.get(family), `${family} has no label "${label}"`).toContain(label);
      }
    }
    // The panels: outcomes, applied and held by action, sources, back-off, Graph traffic.
    for (const metric of [
      'entrasync_runs_total',
      'entrasync_changes_total',
      'entrasync_plan_held_changes',
      'entrasync_source_status',
      'entrasync_backoff_seconds',
      'entrasync_graph_requests_total',
      'entrasync_graph_throttled_total',
      'entrasync_graph_writes_total',
      'entrasync_graph_write_ceiling_per_second',
    ]) {
      expect(used.has(metric), metric).toBe(true);
    }
    // The apply run's Graph traffic reached the counters the dashboard plots.
    const sample = (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(exposition)?.[1] ?? NaN);
    expect(sample('entrasync_graph_requests_total')).toBeGreaterThan(0);
    expect(sample('entrasync_graph_writes_total')).toBeGreaterThan(0);
    expect(sample('entrasync_graph_write_ceiling_per_second')).toBe(20);
    expect(exposition).toMatch(
      /^entrasync_changes_total\{kind="createUser",outcome="applied"\} \d+/m,
    );
  });
});
