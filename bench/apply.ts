/**
 * Benchmark: apply speed against Graph's write ceiling through entrasync's real path, on the
 * simulator's throttled buckets and virtual clock (so minutes of simulated Graph time take
 * seconds). Prints figures; asserts nothing.
 *
 * Each run is what a user gets: a config (bench/workload.ts) with nine mapped attributes, three
 * static group rules (`Team 0..2`) and a license rule for SPE_E3, assigned `direct` (one
 * `assignLicense` per user) or by `group` (the managed group `entrasync-license-spe-e3` holds the
 * license; people are its members), or (onboarding only) `team`: Team 0 holds the license
 * (`groups[].licenses`), so the license costs no write per user; the tenant read through the
 * entra reader, `computePlan`,
 * then `applyPlan` with the entra writer (pacing, `$batch`, retries: the writer's own).
 *
 * - onboarding: N new people against a tenant that has the three team groups (as an earlier
 *   run left them) and enough SPE_E3 seats; with group licensing the license group is created
 *   by the plan. Each person: create + license + 3 groups.
 * - the same at ENTRASYNC_BENCH_CREATES (default 10,000);
 * - churn: 1% of a managed tenant of ENTRASYNC_BENCH_TENANT accounts (default 100,000;
 *   `seedTenant`, seed 1, every account marked managed and already in its groups and licensed
 *   as the config says): 0.5% leavers (disable + revoke sessions + memberships and licenses
 *   removed at once), 0.5% hires, 1% department changes;
 * - onboarding with pacing misconfigured at twice the ceiling (Graph's bucket then runs dry and
 *   answers 429s with Retry-After).
 *
 * Printed for each: writes per second as a fraction of the ceiling (3,000 writes per 150 s per
 * app+tenant = 20/s), writes (2xx) by Graph operation and per new user, Graph HTTP requests
 * (top-level requests and `$batch` envelopes, identity endpoints not counted) per new user,
 * 429s, simulated and real seconds.
 *
 * Random fault-plan 429s (catalogue G1) are covered by tests, not here: the virtual clock jumps
 * to the next sleeper whenever the event loop turns, also while other requests' real I/O is in
 * flight, so rates measured in virtual time under many concurrent Retry-After waits understate
 * what the same schedule achieves on a real clock.
 *
 *   npm run bench -- apply   (ENTRASYNC_BENCH_USERS=2000, ENTRASYNC_BENCH_CREATES=10000,
 *                             ENTRASYNC_BENCH_TENANT=100000; 0 skips a run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVirtualClock, startSimulator } from '../simulator/index.js';
import type { Licensing, Person, PipelineFigures } from './workload.js';
import {
  CEILING,
  newHire,
  onboarding,
  planAndApply,
  prepareManagedTenant,
  snapshotOf,
  specFor,
} from './workload.js';

const count = (name: string, fallback: number): number => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number`);
  return n;
};
const USERS = count('ENTRASYNC_BENCH_USERS', 2000);
const CREATES = count('ENTRASYNC_BENCH_CREATES', 10_000);
const TENANT = count('ENTRASYNC_BENCH_TENANT', 100_000);

async function first(runs: Promise<PipelineFigures[]>): Promise<PipelineFigures> {
  const [figures] = await runs;
  if (!figures) throw new Error('no run');
  return figures;
}

interface Run {
  readonly name: string;
  /** People the figures are divided by: new users (onboarding) or changed people (churn). */
  readonly per: number;
  readonly perLabel: string;
  readonly figures: PipelineFigures;
  readonly prepareReal?: number;
}

async function churn(
  tenantUsers: number,
  licensing: Licensing,
): Promise<{ figures: PipelineFigures; prepareReal: number; changed: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-apply-'));
  try {
    const clock = createVirtualClock();
    const spec = specFor(licensing);
    const statePath = join(dir, 'tenant.db');
    const started = performance.now();
    const people = prepareManagedTenant(statePath, tenantUsers, licensing, spec, clock.now());
    const prepareReal = (performance.now() - started) / 1000;
    // 1% churn by index stride, as bench/plan.ts: leavers where i % 200 == 137, department
    // changes where i % 100 == 42, hires appended.
    const leavers = Math.round(tenantUsers * 0.005);
    const hires = Math.round(tenantUsers * 0.005);
    const moves = Math.round(tenantUsers * 0.01);
    let left = 0;
    let moved = 0;
    const churned: Person[] = [];
    people.forEach((p, i) => {
      if (i % 200 === 137 && left < leavers) {
        left += 1;
        return;
      }
      if (i % 100 === 42 && moved < moves) {
        moved += 1;
        churned.push({
          ...p,
          department: p.department === 'Reorganised' ? 'Engineering' : 'Reorganised',
        });
        return;
      }
      churned.push(p);
    });
    for (let j = 0; j < hires; j += 1) churned.push(newHire(j));
    const sim = await startSimulator({ clock, statePath });
    try {
      const figures = await planAndApply(sim, clock, spec, snapshotOf(churned));
      return { figures, prepareReal, changed: left + moved + hires };
    } finally {
      await sim.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(run: Run): void {
  const f = run.figures;
  const a = f.apply;
  const rate = a.writes / f.applySeconds;
  const per = (n: number): string => (n / run.per).toFixed(3);
  const changes = [...f.changesByKind]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `${run.name}:`,
    `  plan                     ${f.plan.changes.length} changes (${changes}); computePlan ${f.planReal.toFixed(1)} s real`,
    `  tenant read              ${f.read.http} Graph HTTP requests, ${f.read.throttled} x 429, ${f.readSeconds.toFixed(1)} s simulated (real ${f.readReal.toFixed(1)} s)`,
    `  writes accepted (2xx)    ${a.writes} = ${(a.writes / run.per).toFixed(4)} per ${run.perLabel}${a.writesRefused > 0 ? `; ${a.writesRefused} refused (4xx/5xx)` : ''}`,
    ...[...a.writesByKind]
      .sort((x, y) => y[1] - x[1])
      .map(
        ([k, n]) => `    ${k.padEnd(52)} ${String(n).padStart(6)} = ${per(n)} per ${run.perLabel}`,
      ),
    `  Graph HTTP requests      ${a.http} apply (${per(a.http)} per ${run.perLabel}; ${a.batches} $batch envelopes carrying ${a.graph - (a.http - a.batches)} requests) + ${f.read.http} read = ${per(a.http + f.read.http)} per ${run.perLabel}`,
    `  simulated time           ${f.applySeconds.toFixed(1)} s  (real ${f.applyReal.toFixed(1)} s)`,
    `  writes per second        ${rate.toFixed(1)} = ${(rate / CEILING).toFixed(2)} of the ceiling; ${(a.writes / (3000 + CEILING * f.applySeconds)).toFixed(2)} of what Graph's bucket allowed in that time (3,000 at the start + 20/s)`,
    `  429s received            ${a.throttled}`,
    `  pacing slow-downs        ${f.slowDowns} (x-ms-throttle-limit-percentage >= 80%, or a 429)`,
    `  changes not applied      ${f.failed}${f.failed > 0 ? ` (${[...f.notApplied].map(([k, n]) => `${n} x ${k}`).join(', ')})` : ''}`,
    ...(run.prepareReal === undefined
      ? []
      : [`  tenant prepared in       ${run.prepareReal.toFixed(1)} s real (not in the figures)`]),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

process.stdout.write(
  `Apply benchmark: the real path (config -> readTenant -> computePlan -> applyPlan, entra writer) on the simulator; Graph's write ceiling ${CEILING} writes/s (3,000 per 150 s per app+tenant)\n\n`,
);
const runs: Run[] = [];
const add = (run: Run): void => {
  runs.push(run);
  report(run);
};
const LICENSING_LABEL = {
  direct: 'direct licensing',
  group: 'group licensing (license group)',
  team: 'group licensing (license on a team group)',
} as const;
for (const people of [USERS, CREATES].filter((n) => n > 0)) {
  for (const licensing of ['direct', 'group', 'team'] as const) {
    add({
      name: `onboarding ${people.toLocaleString('en')} new users, ${LICENSING_LABEL[licensing]}`,
      per: people,
      perLabel: 'new user',
      figures: await first(onboarding(people, licensing)),
    });
  }
}
if (TENANT > 0) {
  for (const licensing of ['direct', 'group'] as const) {
    const r = await churn(TENANT, licensing);
    add({
      name: `1% churn of a managed tenant of ${TENANT.toLocaleString('en')} accounts, ${licensing} licensing (0.5% leavers, 0.5% hires, 1% movers: ${r.changed.toLocaleString('en')} people)`,
      per: r.changed,
      perLabel: 'changed person',
      figures: r.figures,
      prepareReal: r.prepareReal,
    });
  }
}
if (USERS > 0) {
  // Pacing set to twice the ceiling (direct licensing, for more writes per user): Graph's
  // bucket starts full (3,000 writes) and refills at 20/s; the pacer slows down when Graph
  // reports 80% of it used (or on a 429).
  const people = Math.round(2.5 * USERS);
  add({
    name: `onboarding ${people.toLocaleString('en')} new users, direct licensing, pacing misconfigured at 40 writes/s`,
    per: people,
    perLabel: 'new user',
    figures: await first(onboarding(people, 'direct', { writesPerSecond: 40 })),
  });
}

process.stdout.write('Summary\n');
process.stdout.write(
  `  ${'run'.padEnd(100)} ${'ceiling'.padStart(7)} ${'writes/u'.padStart(8)} ${'reqs/u'.padStart(7)} ${'429s'.padStart(5)} ${'sim s'.padStart(7)} ${'real s'.padStart(6)}\n`,
);
for (const run of runs) {
  const f = run.figures;
  const real = f.readReal + f.planReal + f.applyReal;
  process.stdout.write(
    `  ${run.name.slice(0, 100).padEnd(100)} ${(f.apply.writes / f.applySeconds / CEILING).toFixed(2).padStart(7)} ${(f.apply.writes / run.per).toFixed(3).padStart(8)} ${((f.apply.http + f.read.http) / run.per).toFixed(3).padStart(7)} ${String(f.apply.throttled).padStart(5)} ${f.applySeconds.toFixed(0).padStart(7)} ${real.toFixed(1).padStart(6)}\n`,
  );
}
process.stdout.write(
  '  (ceiling: apply writes per second / 20; writes/u and reqs/u per new user, or per changed person for churn; reqs/u counts the tenant read too; real s: read + plan + apply)\n',
);
