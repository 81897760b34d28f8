/**
 * The crash series of issue 18 in the suite (see crash.ts): the real CLI killed with SIGKILL
 * before any write, mid-run and while waiting out a Retry-After, then run again. A few runs
 * here; `npm run bench -- chaos` runs ENTRASYNC_BENCH_CRASH_RUNS (default 100).
 *
 * ENTRASYNC_CRASH_RUNS sets the number of runs (default 6), ENTRASYNC_CRASH_FIRST the first seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrashOutcome } from './crash.js';
import { assertCliBuilt, crashProblems, describeCrash, runCrash } from './crash.js';
import type { Workload } from './workload.js';
import { prepareWorkload } from './workload.js';

const RUNS = Number(process.env['ENTRASYNC_CRASH_RUNS'] ?? 6);
const FIRST = Number(process.env['ENTRASYNC_CRASH_FIRST'] ?? 1);

const dir = mkdtempSync(join(tmpdir(), 'entrasync-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let workload: Workload;
let reference: CrashOutcome;

beforeAll(async () => {
  assertCliBuilt();
  workload = await prepareWorkload(dir);
  reference = await runCrash(workload, 0, 0);
}, 120_000);

describe('crash series: SIGKILL, then run again', () => {
  it('C3: the unkilled CLI apply converges in one run and writes what the plan intends', () => {
    expect(reference.exits).toEqual([0, 0]);
    expect(reference.writes).toBeGreaterThan(10);
    expect(reference.intent.length).toBeGreaterThan(0);
    expect(reference.duplicates).toEqual([]);
    expect(reference.wrongful).toEqual([]);
    expect(reference.leaks).toEqual([]);
  });

  it(`C4: ${RUNS} kills at seeded moments (before writes, mid-run, in a Retry-After): one more apply converges, nothing twice, nothing wrongful, no leak`, async () => {
    const failures: string[] = [];
    const moments = new Set<string>();
    for (let seed = FIRST; seed < FIRST + RUNS; seed++) {
      const outcome = await runCrash(workload, seed, reference.writes);
      moments.add(outcome.moment);
      console.log(
        `crash seed ${String(seed)}: ${outcome.moment}, killed ${outcome.killedAt}, exits ${JSON.stringify(outcome.exits)}`,
      );
      const problems = crashProblems(outcome, reference);
      if (problems.length > 0) failures.push(describeCrash(outcome, problems));
    }
    expect(failures).toEqual([]);
    if (RUNS >= 3) expect(moments.size).toBe(3);
  }, 400_000);
});
