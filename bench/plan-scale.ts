/**
 * Benchmark (issue 24): a cold `plan` at growing size, N people against a tenant of N accounts
 * with N / 50 managed groups (bench/latency-workload.ts), no latency, the parallel read. Prints
 * per stage the wall time, the tenant read, peak RSS of the plan process and of the simulator,
 * what seeding the simulator cost, and the growth factor per stage (time ratio ÷ people ratio:
 * 1.0 is linear). Asserts nothing.
 *
 *   npm run bench -- plan-scale                     (10,000, 100,000 and 300,000 people)
 *   ENTRASYNC_BENCH_SCALE=1000000 npm run bench -- plan-scale
 *
 * A 1,000,000-person stage seeds a 1M-account SQLite tenant first (several minutes, several GB
 * of disk in the temporary directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanFigures, Prepared, ServedStats } from './latency-workload.js';
import { externalConfig, runPlan, runPrepare, startServer } from './latency-workload.js';

const SCALE = (process.env['ENTRASYNC_BENCH_SCALE'] ?? '10000,100000,300000')
  .split(',')
  .map((n) => Number(n.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);

interface Stage {
  readonly people: number;
  readonly prepared: Prepared;
  readonly plan: PlanFigures;
  readonly served: ServedStats;
}

async function stage(people: number): Promise<Stage> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-scale-'));
  try {
    const prepared = runPrepare(dir, people, Math.max(1, Math.round(people / 50)));
    const server = await startServer(dir, 'none', 'wall');
    try {
      const config = externalConfig(dir, server.served, people);
      await server.mark();
      const plan = runPlan(config, 'parallel');
      const served = await server.stats();
      return { people, prepared, plan, served };
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const head = [
    'people',
    'groups',
    'plan s',
    'tenant read s',
    'HTTP/Graph requests',
    'CPU s plan/sim',
    '429s',
    'plan peak RSS MB',
    'simulator RSS MB',
    'seed s',
    'growth (time)',
    'growth (RSS)',
  ];
  const rows: string[][] = [];
  let previous: Stage | undefined;
  for (const people of SCALE) {
    const s = await stage(people);
    const ratio = previous === undefined ? undefined : s.people / previous.people;
    rows.push([
      String(people),
      String(s.prepared.groups),
      (s.plan.ms / 1000).toFixed(1),
      (s.plan.tenantReadMs / 1000).toFixed(1),
      `${s.served.httpRequests}/${s.served.graphRequests}`,
      `${(s.plan.cpuMs / 1000).toFixed(1)}/${(s.served.cpuMs / 1000).toFixed(1)}`,
      String(s.served.throttled),
      (s.plan.maxRSS / 1024).toFixed(0),
      (s.served.maxRSS / 1024).toFixed(0),
      (s.prepared.prepareMs / 1000).toFixed(0),
      previous === undefined || ratio === undefined
        ? '-'
        : (s.plan.ms / previous.plan.ms / ratio).toFixed(2),
      previous === undefined || ratio === undefined
        ? '-'
        : (s.plan.maxRSS / previous.plan.maxRSS / ratio).toFixed(2),
    ]);
    process.stdout.write(`  stage ${people}: done (users read ${s.plan.usersRead?.mode ?? '-'})\n`);
    previous = s;
  }
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  process.stdout.write('\n');
  for (const r of all) {
    process.stdout.write(`  ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}\n`);
  }
  process.stdout.write(
    `\n  machine: ${String(cpus().length)} cores, load average ${loadavg()[0]?.toFixed(1) ?? '?'} at the end (shared: wall figures are noisy)`,
  );
  process.stdout.write(
    '\n  growth = (time or peak RSS ratio) / (people ratio) against the previous stage; 1.00 is linear\n',
  );
}

await main();
