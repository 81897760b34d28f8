/**
 * Benchmark: the seeded chaos campaign of test/chaos (issue 18) over many seeds. Prints
 *
 *   N seeds: D duplicates, W wrongful deprovisions, S state mismatches, L leaks, F applies that needed a second run
 *
 * then why those first applies did not finish, and the fault plan of every seed with a problem
 * (each replays it). ENTRASYNC_BENCH_CHAOS_SEEDS (default 1000) and ENTRASYNC_BENCH_CHAOS_FIRST
 * (default 1) choose the seeds; the suite runs the first 20 of them.
 *
 * Then the crash series (test/chaos/crash.ts): the real CLI killed with SIGKILL before any
 * write, mid-run or in a Retry-After wait, and run again. Prints
 *
 *   N crash runs: D duplicates, W wrongful deprovisions, S state mismatches, L leaks, R kills that needed more than one apply after
 *
 * ENTRASYNC_BENCH_CRASH_RUNS (default 100; 0 skips it) sets how many; the suite runs 6.
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
import type { Workload } from '../test/chaos/workload.js';
import { prepareWorkload } from '../test/chaos/workload.js';
import { assertCliBuilt, crashProblems, describeCrash, runCrash } from '../test/chaos/crash.js';

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
    const secondRuns: string[] = [];
    for (let seed = first; seed < first + seeds; seed++) {
      const outcome = await runSeed(workload, seed, drawFaultPlan(seed), intent, {
        verify: 'report',
      });
      const problems = addOutcome(figures, outcome, reference);
      if (problems.length > 0) failures.push(describeFailure(outcome, problems));
      else if (outcome.applies > 1) secondRuns.push(`seed ${seed}: ${outcome.runs[0] ?? ''}`);
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
    for (const line of secondRuns.slice(0, 20)) console.log(`    ${line}`);
    if (figures.readFailureWrites > 0) {
      console.log(`  ${figures.readFailureWrites} seed(s) wrote after a failed tenant read`);
    }
    if (figures.notConverged > 0) {
      console.log(`  ${figures.notConverged} seed(s) not converged after 3 applies`);
    }
    for (const failure of failures) console.log(`\n${failure}`);
    console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
    await crashSeries(workload, envInt('ENTRASYNC_BENCH_CRASH_RUNS', 100));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function crashSeries(workload: Workload, runs: number): Promise<void> {
  if (runs === 0) return;
  assertCliBuilt();
  const started = Date.now();
  const reference = await runCrash(workload, 0, 0);
  if (reference.exits.join() !== '0,0') {
    throw new Error(
      `the unkilled CLI run did not converge: exits ${JSON.stringify(reference.exits)}`,
    );
  }
  const counts = { duplicates: 0, wrongful: 0, mismatches: 0, leaks: 0, rerun: 0 };
  const failures: string[] = [];
  for (let seed = 1; seed <= runs; seed++) {
    const outcome = await runCrash(workload, seed, reference.writes);
    const problems = crashProblems(outcome, reference);
    if (outcome.duplicates.length > 0) counts.duplicates += 1;
    if (outcome.wrongful.length > 0) counts.wrongful += 1;
    if (outcome.leaks.length > 0) counts.leaks += 1;
    if (problems.some((p) => p.startsWith('state differs'))) counts.mismatches += 1;
    if (problems.some((p) => p.includes('did not finish in one apply'))) counts.rerun += 1;
    if (problems.length > 0) failures.push(describeCrash(outcome, problems));
  }
  console.log(
    `${runs} crash runs: ${counts.duplicates} duplicates, ${counts.wrongful} wrongful deprovisions, ${counts.mismatches} state mismatches, ${counts.leaks} leaks, ${counts.rerun} kills that needed more than one apply after`,
  );
  for (const failure of failures) console.log(`\n${failure}`);
  console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
}

await main();
