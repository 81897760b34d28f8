/**
 * Benchmark: the seeded chaos campaign of test/chaos (issue 18) over many seeds. Prints
 *
 *   N seeds: D duplicates, W wrongful deprovisions, S state mismatches, L leaks, F applies that needed a second run
 *
 * then why those first applies did not finish, and the fault plan of every seed with a problem
 * (each replays it). ENTRASYNC_BENCH_CHAOS_SEEDS (default 1000) and ENTRASYNC_BENCH_CHAOS_FIRST
 * (default 1) choose the seeds; the suite runs the first 20 of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addOutcome,
  describeFailure,
  drawFaultPlan,
  emptyFigures,
  figuresLine,
  runSeed,
} from '../test/chaos/campaign.js';
import { prepareWorkload } from '../test/chaos/workload.js';

function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

async function main(): Promise<void> {
  const seeds = envInt('ENTRASYNC_BENCH_CHAOS_SEEDS', 1000);
  const first = envInt('ENTRASYNC_BENCH_CHAOS_FIRST', 1);
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-chaos-bench-'));
  const started = Date.now();
  try {
    const workload = await prepareWorkload(dir);
    const reference = await runSeed(workload, 0, undefined);
    if (!reference.converged || reference.applies !== 1) {
      throw new Error(
        `the fault-free run did not converge in one apply: ${reference.runs.join('; ')}`,
      );
    }
    const intent = new Set(reference.intent);
    const figures = emptyFigures();
    const failures: string[] = [];
    for (let seed = first; seed < first + seeds; seed++) {
      const outcome = await runSeed(workload, seed, drawFaultPlan(seed), intent, {
        verify: 'report',
      });
      const problems = addOutcome(figures, outcome, reference);
      if (problems.length > 0) failures.push(describeFailure(outcome, problems));
      if ((seed - first + 1) % 100 === 0) {
        console.error(
          `... ${seed - first + 1} seeds, ${Math.round((Date.now() - started) / 1000)} s`,
        );
      }
    }
    console.log(figuresLine(figures));
    for (const [reason, n] of [...figures.firstRunReasons].sort((a, b) => b[1] - a[1])) {
      console.log(`  first apply did not finish (${n}): ${reason}`);
    }
    if (figures.readFailureWrites > 0) {
      console.log(`  ${figures.readFailureWrites} seed(s) wrote after a failed tenant read`);
    }
    if (figures.notConverged > 0) {
      console.log(`  ${figures.notConverged} seed(s) not converged after 3 applies`);
    }
    for (const failure of failures) console.log(`\n${failure}`);
    console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
