/**
 * The crash series of issue 18, shared by the suite (test/chaos/crash.test.ts, a few runs) and
 * the benchmark (`npm run bench -- chaos`, ENTRASYNC_BENCH_CRASH_RUNS of them).
 *
 * The real CLI (`node dist/cli/main.js apply`) runs the chaos workload (workload.ts) against a
 * simulator on the system clock (a CLI process has no virtual clock), and is killed with SIGKILL
 * at a moment drawn from the run's seed:
 *
 * - `before-writes`: after the Nth HTTP request (token, tenant pages), before or around the
 *   first write;
 * - `mid-run`: after the Nth committed write (inside a `$batch`, between batches);
 * - `retry-after`: while it waits out a `Retry-After` the fault plan answered a write with.
 *
 * It is then run again, as an operator or the daemon would, and must finish (exit 0) with the
 * same checks as the seeded campaign: no duplicate user or group, no account outside the plan's
 * intent disabled or deleted at any moment, the end state equal to an unkilled CLI run's, no
 * secret in anything it printed. A last `plan` must then find nothing to do.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FaultPlan, RunningSimulator } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { createRandomSource } from '../../simulator/random.js';
import {
  duplicatesIn,
  imageDifference,
  leaksIn,
  tenantImage,
  watchStore,
  wrongfulIn,
} from './campaign.js';
import type { Workload } from './workload.js';
import { copyState } from './workload.js';

export type KillMoment = 'none' | 'before-writes' | 'mid-run' | 'retry-after';

export interface CrashOutcome {
  readonly seed: number;
  readonly moment: KillMoment;
  /** What the kill waited for, e.g. `after write 7`; `not killed` when the run ended first. */
  readonly killedAt: string;
  /** Exit code of each CLI run (null: killed by the signal). */
  readonly exits: (number | null)[];
  readonly duplicates: string[];
  readonly wrongful: string[];
  readonly leaks: string[];
  readonly image: string[];
  /** The object ids the plan meant to disable or delete. */
  readonly intent: string[];
  /** Writes the unkilled run made (the reference uses it to place mid-run kills). */
  readonly writes: number;
  /** The last run's output, for a failure message. */
  readonly lastOutput: string;
}

const CLI = resolve('dist/cli/main.js');

/** The CLI must have been built (`npm run build`; `npm ci` and `npm run test:all` do). */
export function assertCliBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
}

/** The kill of `seed`: its moment, how far in, and the fault plan a `retry-after` needs. */
export function drawKill(
  seed: number,
  referenceWrites: number,
): { moment: KillMoment; at: number; faultPlan?: FaultPlan } {
  if (seed === 0) return { moment: 'none', at: 0 };
  const r = createRandomSource(seed).stream(2000);
  // Every three seeds cover the three moments; how far in is drawn.
  const moment = (['before-writes', 'mid-run', 'retry-after'] as const)[seed % 3]!;
  if (moment === 'before-writes') return { moment, at: r.int(1, 14) };
  if (moment === 'mid-run') return { moment, at: r.int(1, Math.max(1, referenceWrites - 1)) };
  const faultPlan: FaultPlan = {
    seed,
    faults: [
      {
        kind: 'throttle',
        retryAfterSeconds: r.int(2, 4),
        match: { method: ['POST', 'PATCH', 'PUT', 'DELETE'] },
        when: { nth: [r.int(1, 6)] },
      },
    ],
  };
  return { moment, at: r.int(100, 1200), faultPlan };
}

/** A directory holding the chaos config with a target block for `sim`, and its HR file. */
function crashWorkspace(workload: Workload, sim: RunningSimulator, name: string): string {
  const source = join(workload.dir, 'chaos');
  const dir = join(workload.dir, name);
  cpSync(source, dir, { recursive: true });
  const app = sim.clients[0]!;
  const configPath = join(dir, 'entrasync.yaml');
  const target = [
    '  auth: { method: secret, clientSecret: "${env:CRASH_SIM_SECRET}" }',
    `  tenantId: ${sim.tenantId}`,
    `  clientId: ${app.clientId}`,
    `  graphUrl: ${sim.origin}`,
    `  authorityHost: ${sim.authorityHost}`,
    `  caFile: ${sim.caFile}`,
  ].join('\n');
  const text = readFileSync(configPath, 'utf8');
  if (!text.includes('  auth: { method: simulator }')) throw new Error('chaos config changed');
  writeFileSync(configPath, text.replace('  auth: { method: simulator }', target));
  return configPath;
}

interface CliRun {
  readonly exit: number | null;
  readonly stdout: string;
  /** stdout and stderr as they came. */
  readonly output: string;
  readonly killedAt?: string;
}

/** Runs the CLI; `killWhen` is polled every millisecond and SIGKILLs it once true. */
function runCli(
  args: readonly string[],
  secret: string,
  killWhen?: () => string | undefined,
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, CRASH_SIM_SECRET: secret, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: string[] = [];
    const stdout: string[] = [];
    child.stdout.on('data', (d: Buffer) => {
      stdout.push(d.toString());
      chunks.push(d.toString());
    });
    child.stderr.on('data', (d: Buffer) => chunks.push(d.toString()));
    let killedAt: string | undefined;
    const timer = killWhen
      ? setInterval(() => {
          if (killedAt !== undefined) return;
          killedAt = killWhen();
          if (killedAt !== undefined) child.kill('SIGKILL');
        }, 1)
      : undefined;
    child.on('error', fail);
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      done({
        exit: code,
        stdout: stdout.join(''),
        output: chunks.join(''),
        ...(killedAt ? { killedAt } : {}),
      });
    });
  });
}

/** When to kill, as a poll over the simulator's counters from the moment the run starts. */
function killer(
  sim: RunningSimulator,
  moment: KillMoment,
  at: number,
): (() => string | undefined) | undefined {
  const start = { ...sim.counters };
  if (moment === 'before-writes') {
    return () =>
      sim.counters.requests - start.requests >= at ? `after request ${String(at)}` : undefined;
  }
  if (moment === 'mid-run') {
    return () =>
      sim.counters.writes - start.writes >= at ? `after write ${String(at)}` : undefined;
  }
  if (moment === 'retry-after') {
    let throttledAt: number | undefined;
    return () => {
      if (throttledAt === undefined && sim.counters.throttled > start.throttled) {
        throttledAt = Date.now();
      }
      return throttledAt !== undefined && Date.now() - throttledAt >= at
        ? `${String(at)} ms into a Retry-After wait`
        : undefined;
    };
  }
  return undefined;
}

/**
 * One crash run: apply killed at the drawn moment, then applied again until it exits 0 (at most
 * twice more), then planned. `referenceWrites`: the unkilled run's writes (0 for the reference).
 */
export async function runCrash(
  workload: Workload,
  seed: number,
  referenceWrites: number,
): Promise<CrashOutcome> {
  const kill = drawKill(seed, referenceWrites);
  const sim = await startSimulator({
    statePath: copyState(workload, `crash-${String(seed)}`),
    ...(kill.faultPlan ? { faultPlan: kill.faultPlan } : {}),
  });
  try {
    const watch = watchStore(sim.store);
    const sessionsBefore = new Map(
      sim.store.listUsers().map((u) => [String(u.id), u['signInSessionsValidFromDateTime']]),
    );
    const configPath = crashWorkspace(workload, sim, `crash-${String(seed)}`);
    const secret = sim.clients[0]!.clientSecret;
    const outputs: string[] = [];
    const exits: (number | null)[] = [];
    // The plan's intent, from a plan before anything runs (plan never writes).
    const first = await runCli(['plan', '--config', configPath, '--format', 'json'], secret);
    outputs.push(first.output);
    const intent = intentOf(first.stdout);
    const writesBefore = sim.counters.writes;
    const killed = await runCli(
      ['apply', '--auto-approve', '--config', configPath],
      secret,
      killer(sim, kill.moment, kill.at),
    );
    outputs.push(killed.output);
    exits.push(killed.exit);
    const writes = sim.counters.writes - writesBefore;
    for (let again = 0; again < 2 && exits.at(-1) !== 0; again++) {
      const run = await runCli(['apply', '--auto-approve', '--config', configPath], secret);
      outputs.push(run.output);
      exits.push(run.exit);
    }
    const last = await runCli(['plan', '--config', configPath], secret);
    outputs.push(last.output);
    exits.push(last.exit);
    return {
      seed,
      moment: kill.moment,
      killedAt: killed.killedAt ?? 'not killed',
      exits,
      duplicates: duplicatesIn(sim.store),
      wrongful: wrongfulIn(watch, new Set(intent), sim),
      leaks: leaksIn(outputs.join('\n'), secret),
      image: tenantImage(sim.store, sessionsBefore),
      intent,
      writes,
      lastOutput: outputs.slice(1).join('\n---\n'),
    };
  } finally {
    await sim.close();
  }
}

/** The ids a JSON plan disables or deletes. */
function intentOf(planJson: string): string[] {
  const plan = JSON.parse(planJson) as {
    changes: { kind: string; user?: { id?: string } }[];
  };
  return plan.changes
    .filter((c) => c.kind === 'disableUser' || c.kind === 'deleteUser')
    .map((c) => (c.user?.id ?? '').toLowerCase());
}

/** What is wrong with a crash run against the unkilled reference, one line each. */
export function crashProblems(outcome: CrashOutcome, reference: CrashOutcome): string[] {
  const problems: string[] = [];
  if (outcome.duplicates.length > 0) problems.push(`duplicates: ${outcome.duplicates.join(', ')}`);
  if (outcome.wrongful.length > 0)
    problems.push(`wrongful deprovisions: ${outcome.wrongful.join(', ')}`);
  if (outcome.leaks.length > 0) problems.push(`leaks: ${outcome.leaks.join(', ')}`);
  const applies = outcome.exits.slice(0, -1);
  const rerun = outcome.killedAt === 'not killed' ? applies : applies.slice(1);
  if (rerun.at(-1) !== 0 || rerun.length > 1) {
    problems.push(
      `the run after the kill did not finish in one apply: exits ${JSON.stringify(outcome.exits)}`,
    );
  }
  if (outcome.exits.at(-1) !== 0) {
    problems.push(`the last plan was not empty (exit ${String(outcome.exits.at(-1))})`);
  }
  const differs = imageDifference(outcome.image, reference.image);
  if (differs) problems.push(differs);
  return problems;
}

export function describeCrash(outcome: CrashOutcome, problems: readonly string[]): string {
  return `crash seed ${String(outcome.seed)} (${outcome.moment}, killed ${outcome.killedAt}): ${problems.join('; ')}\n${outcome.lastOutput.slice(-3000)}`;
}
