/**
 * The seeded chaos campaign (issue 18) in the suite: a few dozen seeds, each a random fault
 * plan in the simulator's language applied to the workload of workload.ts (see campaign.ts for
 * what is checked). `npm run bench -- chaos` runs a thousand. A failing seed prints the fault
 * plan that replays it: pass it to `runSeed` (or `startSimulator({ faultPlan })`).
 *
 * ENTRASYNC_CHAOS_SEEDS sets the number of seeds (default 20), ENTRASYNC_CHAOS_FIRST the first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeedOutcome } from './campaign.js';
import {
  addOutcome,
  describeFailure,
  drawFaultPlan,
  emptyFigures,
  figuresLine,
  runSeed,
} from './campaign.js';
import type { Workload } from './workload.js';
import { BYSTANDERS, prepareWorkload } from './workload.js';

const SEEDS = Number(process.env['ENTRASYNC_CHAOS_SEEDS'] ?? 20);
const FIRST = Number(process.env['ENTRASYNC_CHAOS_FIRST'] ?? 1);

const dir = mkdtempSync(join(tmpdir(), 'entrasync-chaos-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let workload: Workload;
let reference: SeedOutcome;

beforeAll(async () => {
  workload = await prepareWorkload(dir);
  reference = await runSeed(workload, 0, undefined);
}, 60_000);

describe('chaos: every fault converges', () => {
  it('C1: the fault-free run converges in one apply and its plan holds every kind of change, beside untouched bystanders', () => {
    expect(reference.applies).toBe(1);
    expect(reference.converged).toBe(true);
    expect(reference.intent).toHaveLength(4);
    expect(reference.wrongful).toEqual([]);
    for (const upn of BYSTANDERS) {
      expect(
        reference.image.some(
          (l) => l.includes(`"user:${upn}"`) && l.includes('"accountEnabled":true'),
        ),
      ).toBe(true);
    }
  });

  it(`C2: ${SEEDS} seeded fault plans: no duplicate, no wrongful deprovision, no leak, the fault-free end state, no write after a failed read`, async () => {
    const figures = emptyFigures();
    const failures: string[] = [];
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
      const outcome = await runSeed(
        workload,
        seed,
        drawFaultPlan(seed),
        new Set(reference.intent),
        {
          verify: 'report',
        },
      );
      const problems = addOutcome(figures, outcome, reference);
      if (problems.length > 0) failures.push(describeFailure(outcome, problems));
    }
    console.log(figuresLine(figures), Object.fromEntries(figures.firstRunReasons));
    expect(failures).toEqual([]);
  }, 120_000);
});
