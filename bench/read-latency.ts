/**
 * Benchmark (issue 24): a cold `plan` of 100,000 people against a 100,000-account tenant with
 * 2,000 managed groups (department × building, ~50 members each), at Graph-like latency and
 * without, the parallel read beside the sequential one (EntraReaderOptions.sequential: the read
 * before issue 24). Prints figures; asserts nothing. Workload: bench/latency-workload.ts (HR
 * CSV only; the LDAP join of bench/plan.ts is left out, it does not touch Graph).
 *
 *   npm run bench -- read-latency
 *
 * ENTRASYNC_BENCH_PEOPLE (100000), ENTRASYNC_BENCH_MANAGED_GROUPS (2000),
 * ENTRASYNC_BENCH_LATENCY (`150ms+1ms`: the simulator's latency model, simulator/latency.ts).
 * ENTRASYNC_BENCH_SEQUENTIAL: `virtual` (default) runs the sequential read at latency against a
 * simulator on a virtual clock and adds the latency the answers were given (exact for a client
 * with one request in flight, without waiting minutes); `wall` waits it out; `skip` skips it.
 *
 * Every run is a fresh process against a simulator in another process (Graph's throttling on),
 * so peak RSS is the plan's own. 429s are those the simulator sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LATENCY, formatLatencyModel, parseLatencyModel } from '../simulator/index.js';
import type { PlanFigures, ServedStats } from './latency-workload.js';
import {
  externalConfig,
  inFlightChart,
  runPlan,
  runPrepare,
  startServer,
} from './latency-workload.js';

const PEOPLE = Number(process.env['ENTRASYNC_BENCH_PEOPLE'] ?? 100_000);
const GROUPS = Number(process.env['ENTRASYNC_BENCH_MANAGED_GROUPS'] ?? 2_000);
const LATENCY = process.env['ENTRASYNC_BENCH_LATENCY'] ?? '150ms+1ms';
const SEQUENTIAL = process.env['ENTRASYNC_BENCH_SEQUENTIAL'] ?? 'virtual';

interface Run {
  readonly label: string;
  readonly plan: PlanFigures;
  readonly served: ServedStats;
  /** Latency added on a virtual clock (sequential estimate), 0 on the wall clock. */
  readonly addedMs: number;
}

async function measure(
  dir: string,
  label: string,
  latency: string,
  mode: 'parallel' | 'sequential',
  clock: 'wall' | 'virtual',
): Promise<Run> {
  const server = await startServer(dir, latency, clock);
  try {
    const config = externalConfig(dir, server.served, PEOPLE);
    await server.mark();
    const plan = runPlan(config, mode);
    const served = await server.stats();
    return { label, plan, served, addedMs: clock === 'virtual' ? served.clockMs : 0 };
  } finally {
    await server.close();
  }
}

function row(run: Run): string[] {
  const s = (ms: number): string => (ms / 1000).toFixed(1);
  return [
    run.label,
    s(run.plan.ms + run.addedMs),
    s(run.plan.tenantReadMs + run.addedMs),
    `${run.served.httpRequests}/${run.served.graphRequests}`,
    String(run.served.throttled),
    `${s(run.plan.cpuMs)}/${s(run.served.cpuMs)}`,
    (run.plan.maxRSS / 1024).toFixed(0),
    run.plan.usersRead?.mode ?? '-',
    `${run.plan.users}/${run.plan.groups}`,
    String(run.plan.changes),
  ];
}

function table(rows: readonly (readonly string[])[]): void {
  const head = [
    'run',
    'plan s',
    'tenant read s',
    'HTTP/Graph requests',
    '429s',
    'CPU s plan/simulator',
    'peak RSS MB',
    'users read',
    'users/groups',
    'changes',
  ];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  for (const r of all) {
    process.stdout.write(`  ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}\n`);
  }
}

async function main(): Promise<void> {
  const model = parseLatencyModel(LATENCY);
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-latency-'));
  try {
    const prepared = runPrepare(dir, PEOPLE, GROUPS);
    process.stdout.write(
      `workload: ${PEOPLE} people, ${prepared.rows} HR rows, ${prepared.groups} managed groups (${prepared.memberships} memberships); prepared in ${(prepared.prepareMs / 1000).toFixed(1)} s\n` +
        `latency model: ${formatLatencyModel(model)} (default ${formatLatencyModel(BENCH_LATENCY)}; a 999-user page ≈ ${((model.baseMs + 999 * model.perObjectMs) / 1000).toFixed(2)} s)\n` +
        `machine: ${String(cpus().length)} cores, load average ${loadavg()[0]?.toFixed(1) ?? '?'} at the start (shared: wall figures are noisy, CPU times less so)\n\n`,
    );
    const runs: Run[] = [];
    runs.push(await measure(dir, `parallel, latency ${LATENCY}`, LATENCY, 'parallel', 'wall'));
    if (SEQUENTIAL !== 'skip') {
      const clock = SEQUENTIAL === 'wall' ? 'wall' : 'virtual';
      runs.push(
        await measure(
          dir,
          `sequential, latency ${LATENCY}${clock === 'virtual' ? ' (modelled)' : ''}`,
          LATENCY,
          'sequential',
          clock,
        ),
      );
    }
    runs.push(await measure(dir, 'parallel, no latency', 'none', 'parallel', 'wall'));
    runs.push(await measure(dir, 'sequential, no latency', 'none', 'sequential', 'wall'));
    table(runs.map(row));
    const first = runs[0];
    if (first !== undefined) {
      process.stdout.write(
        `\nrequests in flight (most per 0.5 s), ${first.label}, from the start of the tenant read:\n`,
      );
      for (const line of inFlightChart(first.plan.requests, 500)) {
        process.stdout.write(`  ${line}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
