/**
 * One apply path (issue 21, item 3): the daemon and `entrasync apply` apply through the same
 * journal and lock (cli/apply-runner.ts), and both write history as each change happens. The
 * real stack: a CSV source, the simulator over HTTPS through the real Graph SDK, the SQLite
 * apply store and history beside the config; the daemon on a virtual clock with ticks by hand.
 *
 * A daemon "killed" in-process has a journal that stops recording (as in apply-resume's A1); its
 * lock is released as the end of a killed process frees it on this host (the PID is gone). The
 * killed CLI apply is a real process killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockHeldError } from '../engine/apply/lock.js';
import { PORT_API_VERSION } from '../engine/ports.js';
import { Redactor } from '../engine/secret.js';
import type { SourceConnector } from '../engine/ports.js';
import { startSimulator } from '../simulator/index.js';
import type { RunningSimulator } from '../simulator/index.js';
import { simTarget } from '../test/helpers/sim-target.js';
import { openApplyStoreBeside } from './apply-runner.js';
import type { ApplyStore } from './apply-store.js';
import { runApply } from './commands/apply.js';
import { runReport } from './commands/report.js';
import type { DaemonOptions } from './daemon/daemon.js';
import { createDaemon } from './daemon/daemon.js';
import type { TestStack } from './daemon/test-helpers.js';
import { HOUR, MINUTE, openTestStack, runtimeOfStack } from './daemon/test-helpers.js';
import { openHistoryStore } from './history/history-store.js';
import type { HistoryStore, RunRow } from './history/history-store.js';
import type { Output } from './output.js';
import { dyingJournal } from '../test/helpers/dying-journal.js';

const MANAGED = 20;
const UPDATED = 10; // of the managed: a new department
const NEW = 100;
const CHANGES = NEW + UPDATED;

const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

/** A config dir (config, CSV, simulator seed) whose plan has CHANGES changes. */
function workspace(target = '  auth: { method: simulator }\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-one-path-'));
  temps.push(dir);
  const rows = ['id,first,last,dept'];
  for (let i = 0; i < MANAGED; i++)
    rows.push(`${i},Old,Person${i},${i < UPDATED ? 'Sales' : 'Ops'}`);
  for (let i = 0; i < NEW; i++) rows.push(`${1000 + i},New,Person${i},Ops`);
  writeFileSync(join(dir, 'people.csv'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'tenant.json'), JSON.stringify(seed()));
  writeFileSync(
    join(dir, 'entrasync.yaml'),
    `version: 1
target:
${target.replace(/^target:\n/, '')}sources:
  hr: { kind: csv, path: people.csv, key: id }
users:
  anchor: id
  attributes:
    userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'"
    displayName: "first & ' ' & last"
    mailNickname: "$lowercase(first & last)"
    department: dept
safety:
  maxCreates: { count: 10000 }
  maxUpdates: { count: 10000 }
  minSourceRatio: 0
`,
  );
  return dir;
}

function seed() {
  return {
    users: Array.from({ length: MANAGED }, (_, i) => ({
      userPrincipalName: `old.person${i}@contoso.com`,
      displayName: `Old Person${i}`,
      mailNickname: `oldperson${i}`,
      accountEnabled: true,
      employeeId: String(i),
      department: 'Ops',
      onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync:hr' },
    })),
  };
}

function daemonFor(
  stack: TestStack,
  history: HistoryStore,
  overrides: Partial<DaemonOptions> = {},
) {
  return createDaemon({
    spec: stack.loaded.spec,
    sources: stack.sources,
    target: stack.target,
    mode: 'apply',
    clock: stack.clock,
    scheduler: stack.scheduler,
    redactor: stack.redactor,
    logger: stack.logger,
    history,
    backoff: { initialMs: 10 * MINUTE, maxMs: 24 * HOUR },
    failureRatio: 0.5,
    fullReadEveryMs: 24 * HOUR,
    ...overrides,
  });
}

function historyOf(stack: TestStack): HistoryStore {
  return openHistoryStore(join(stack.work, '.entrasync', 'history.db'), stack.redactor);
}

function capture(): Output & { text(): string } {
  let text = '';
  return { out: (t) => void (text += t), err: (t) => void (text += t), text: () => text };
}

/** A source that waits for `release` before reading; `reading` resolves once it is asked. */
function heldSource(inner: SourceConnector) {
  let release!: () => void;
  let asked!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const reading = new Promise<void>((r) => (asked = r));
  const source: SourceConnector = {
    apiVersion: PORT_API_VERSION,
    kind: inner.kind,
    name: inner.name,
    async read() {
      asked();
      await gate;
      return inner.read();
    },
  };
  return { source, release, reading };
}

function upns(sim: RunningSimulator): string[] {
  return sim.store.listUsers().map((u) => String(u.userPrincipalName));
}

/**
 * Kills a daemon apply after `limit` journal entries; returns the killed run's history row.
 * The engine records every batch's intents before the first outcome: a limit up to CHANGES
 * kills it before any write is sent (every journaled change in doubt), a larger one after
 * writes went out (what was in flight still lands, as the other batches are not stopped).
 */
async function killDaemonMidApply(
  stack: TestStack,
  history: HistoryStore,
  limit: number,
): Promise<RunRow> {
  const store = openApplyStoreBeside(stack.work);
  try {
    const dying: ApplyStore = { ...store, journal: dyingJournal(store.journal, limit) };
    const killed = await daemonFor(stack, history, { applyStore: dying }).tick();
    expect(killed).toMatchObject({ ran: true, outcome: 'error' });
    expect(store.unfinishedRun(stack.loaded.spec.configDigest)).toBeDefined();
  } finally {
    store.close();
  }
  return history.runs()[0]!;
}

describe('one apply path: lock', () => {
  it('A3: `entrasync apply` while a daemon apply holds the lock fails with apply.locked naming the daemon run; nothing is written', async () => {
    const stack = await openTestStack({ work: workspace() });
    const history = historyOf(stack);
    const store = openApplyStoreBeside(stack.work);
    const held = heldSource(stack.sources[0]!);
    const tick = daemonFor(stack, history, { sources: [held.source], applyStore: store }).tick();
    await held.reading; // the run took the lock, then started reading
    const daemonRun = history.runs()[0]!.id;

    const out = capture();
    const error = await runApply(runtimeOfStack(stack), undefined, out, undefined, {
      autoApprove: true,
      progress: false,
      redactor: stack.redactor,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).code).toBe('apply.locked');
    expect((error as Error).message).toContain(`held by daemon run ${daemonRun}`);
    expect((error as Error).message).toMatch(/PID \d+ on /);
    expect(out.text()).not.toContain('Applying');
    expect(stack.sim.counters.writes).toBe(0);

    held.release();
    expect(await tick).toMatchObject({ ran: true, outcome: 'applied' });
    store.close();
    // The refused CLI run is in history with the daemon's.
    const runs = history.runs();
    expect(runs.find((r) => r.trigger === 'cli')).toMatchObject({
      outcome: 'error',
      errorCode: 'apply.locked',
      applied: 0,
    });
    expect(runs.find((r) => r.id === daemonRun)).toMatchObject({
      outcome: 'applied',
      applied: CHANGES,
    });
    history.close();
  });

  it('A3: a daemon tick while `entrasync apply` holds the lock is skipped naming it, without back-off', async () => {
    const stack = await openTestStack({ work: workspace() });
    const history = historyOf(stack);
    const cli = openApplyStoreBeside(stack.work);
    const lease = await cli.lock.acquire('apply');
    const store = openApplyStoreBeside(stack.work);
    const daemon = daemonFor(stack, history, { applyStore: store });
    const result = await daemon.tick();
    expect(result).toMatchObject({ ran: false, skipped: 'locked' });
    expect(result.ran ? '' : result.detail).toMatch(/^held by apply \(.*\) pid \d+ on /);
    expect(daemon.health()).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
    expect(stack.sim.counters.writes).toBe(0);
    await lease.release();
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'applied' });
    cli.close();
    store.close();
    history.close();
  });
});

describe('one apply path: journal', () => {
  it('A1: a daemon run killed mid-apply is resumed by the next daemon run from the journal: no duplicates; history shows what the killed run applied', async () => {
    const stack = await openTestStack({ work: workspace() });
    const history = historyOf(stack);
    const killed = await killDaemonMidApply(stack, history, CHANGES + 30);
    // Recorded as each change happened: the killed run is not "applied 0".
    const appliedOps = history.ops({ outcomes: ['applied'] }).filter((o) => o.runId === killed.id);
    expect(killed.applied).toBeGreaterThan(0);
    expect(killed.applied).toBe(appliedOps.length);
    const tenant = new Set(upns(stack.sim));
    expect(appliedOps.every((o) => tenant.has(o.userPrincipalName))).toBe(true);

    const store = openApplyStoreBeside(stack.work);
    const next = daemonFor(stack, history, { applyStore: store });
    // In-process the killed run ended `error`, which backs off; a killed process ends nothing.
    // What it had in flight landed, so what is left may be nothing.
    const outcome = await next.tick('manual');
    expect(outcome.ran && ['applied', 'no-changes'].includes(outcome.outcome)).toBe(true);
    const resumed = stack.log
      .records()
      .find((r) => r.msg === 'resumed interrupted run(s) from the journal');
    expect(resumed?.interruptedRunIds).toHaveLength(1);
    const all = upns(stack.sim);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(MANAGED + NEW);
    expect(await next.tick('manual')).toMatchObject({ ran: true, outcome: 'no-changes' });
    expect(store.unfinishedRun(stack.loaded.spec.configDigest)).toBeUndefined();
    store.close();
    history.close();
  });

  it('A1: a daemon run killed mid-apply is resumed by `entrasync apply`, which shows in `report --runs` with its applied count', async () => {
    const stack = await openTestStack({ work: workspace() });
    const history = historyOf(stack);
    // Killed before any write left: every journaled change is in doubt, and reconciled.
    const killed = await killDaemonMidApply(stack, history, 50);
    expect(upns(stack.sim)).toHaveLength(MANAGED);
    history.close();

    const out = capture();
    const code = await runApply(runtimeOfStack(stack), undefined, out, undefined, {
      autoApprove: true,
      progress: false,
      redactor: stack.redactor,
    });
    expect(code).toBe(0);
    expect(out.text()).toMatch(/Resuming interrupted run \S+\./);
    const all = upns(stack.sim);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(MANAGED + NEW);

    let json = '';
    const options = { config: join(stack.work, 'entrasync.yaml'), runs: true } as const;
    await runReport(
      { ...options, format: 'json' },
      { out: (t) => void (json += t), err: () => {} },
      stack.redactor,
    );
    const runs = (JSON.parse(json) as { runs: RunRow[] }).runs;
    const cliRun = runs.find((r) => r.trigger === 'cli');
    expect(cliRun).toMatchObject({ mode: 'apply', outcome: 'applied', changes: CHANGES });
    expect(cliRun?.applied).toBe(CHANGES);
    expect(runs.find((r) => r.id === killed.id)).toMatchObject({ applied: 0, outcome: 'error' });
    let text = '';
    await runReport(
      { ...options, format: 'text' },
      { out: (t) => void (text += t), err: () => {} },
      stack.redactor,
    );
    const line = text.split('\n').find((l) => l.includes(cliRun!.id));
    expect(line).toMatch(
      new RegExp(`\\bapply\\s+applied\\s+full\\s+${CHANGES}\\s+0\\s+${CHANGES}\\s+0\\b`),
    );
  });
});

describe('one apply path: a killed CLI apply', () => {
  const cli = resolve('dist/cli/main.js');

  it('`entrasync apply` killed with SIGKILL mid-run: history shows the changes it applied and no end; the next apply finishes', async () => {
    if (!existsSync(cli))
      throw new Error(`${cli} is missing: run \`npm run build\` before the tests`);
    const sim = await startSimulator({ seed: seed() });
    try {
      const app = sim.clients[0]!;
      const dir = workspace(
        simTarget(sim, { secretEnv: 'SIM_SECRET', extra: ['writes: { perSecond: 50 }'] }),
      );
      const run = (kill?: number) =>
        new Promise<number | null>((done, fail) => {
          const child = spawn(
            process.execPath,
            [
              cli,
              'apply',
              '--auto-approve',
              '--no-progress',
              '--config',
              join(dir, 'entrasync.yaml'),
            ],
            { env: { ...process.env, SIM_SECRET: app.clientSecret }, stdio: 'ignore' },
          );
          let timer: NodeJS.Timeout | undefined;
          if (kill !== undefined) {
            const start = sim.counters.writes;
            timer = setInterval(() => {
              if (sim.counters.writes - start >= kill) child.kill('SIGKILL');
            }, 1);
          }
          child.on('error', fail);
          child.on('exit', (code) => {
            if (timer) clearInterval(timer);
            done(code);
          });
        });
      expect(await run(60)).toBeNull(); // killed by the signal
      const created = upns(sim).length - MANAGED;
      const path = join(dir, '.entrasync', 'history.db');
      const history = openHistoryStore(path, new Redactor(), { readonly: true });
      const [killed] = history.runs();
      history.close();
      expect(killed).toMatchObject({
        trigger: 'cli',
        mode: 'apply',
        finishedAt: null,
        outcome: null,
      });
      expect(killed!.changes).toBe(CHANGES);
      expect(killed!.applied).toBeGreaterThan(0);
      // What it recorded it had applied is in the tenant (what was in flight may be more).
      expect(killed!.applied).toBeLessThanOrEqual(created + UPDATED);

      expect(await run()).toBe(0);
      const all = upns(sim);
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(MANAGED + NEW);
      const after = openHistoryStore(path, new Redactor(), { readonly: true });
      const [finished, first] = after.runs();
      after.close();
      expect(first?.id).toBe(killed!.id);
      expect(finished).toMatchObject({ trigger: 'cli', outcome: 'applied' });
    } finally {
      await sim.close();
    }
  }, 60_000);
});
