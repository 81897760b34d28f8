/**
 * Journal, resume and lock (catalogue A1, A2, A3) through the real stack: config loader, CSV
 * source, planner, engine scheduler, the entra connector with the real Graph SDK and
 * @azure/identity, the simulator on its virtual clock, and the SQLite apply store.
 *
 * A1 kills a 200-change apply after every journal write boundary in-process: the killed run's
 * journal stops recording (what it had not yet recorded is lost, as with SIGKILL), its lock is
 * never released, its memory is dropped; a new runtime then re-plans from the tenant and applies
 * with the journal. One real SIGKILL of the CLI process at a few points checks the same end to
 * end.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import type { Journal } from '../engine/apply/journal.js';
import type { ApplyLock } from '../engine/apply/lock.js';
import { LockHeldError } from '../engine/apply/lock.js';
import { StalePlanError, applyRun, planRun, renderPlanJson } from '../engine/index.js';
import type { RunReport } from '../engine/model/report.js';
import { Redactor } from '../engine/secret.js';
import type { RunningSimulator, VirtualClock } from '../simulator/index.js';
import { createVirtualClock, startSimulator } from '../simulator/index.js';
import { connect } from '../test/helpers/connect.js';
import { openApplyStore } from './apply-store.js';
import { runApply } from './commands/apply.js';
import { openRuntime } from './runtime.js';
import { Killed, dyingJournal } from '../test/helpers/dying-journal.js';

const temps: string[] = [];
/**
 * Journals live in memory-backed storage where the machine has it: A1 opens and closes 400
 * journals, and what it proves (resume from what was recorded) does not depend on fsync, whose
 * cost on a busy disk is what made it slow. Durability itself is the store's own test.
 */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

const MANAGED = 60;
const NEW = 140;
const UPDATED = 40; // of the managed, department changes
const LEFT = 20; // of the managed, gone from the CSV -> disabled

/** A config dir with a CSV that makes a 200-change plan against the seed below. */
function workspace(extraTarget = ''): { dir: string; configPath: string } {
  const dir = mkdtempSync(join(SCRATCH, 'entrasync-resume-'));
  temps.push(dir);
  const rows = ['id,first,last,dept'];
  for (let i = 0; i < MANAGED - LEFT; i++)
    rows.push(`${i},Old,Person${i},${i < UPDATED ? 'Sales' : 'Ops'}`);
  for (let i = 0; i < NEW; i++) rows.push(`${1000 + i},New,Person${i},Ops`);
  writeFileSync(join(dir, 'people.csv'), rows.join('\n') + '\n');
  const configPath = join(dir, 'entrasync.yaml');
  writeFileSync(
    configPath,
    `version: 1
target:
${extraTarget || '  auth: { method: simulator }'}
sources:
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
  maxDisables: { count: 10000 }
  minSourceRatio: 0
`,
  );
  return { dir, configPath };
}

function seed(): unknown {
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

interface Stack {
  readonly loaded: LoadedConfig;
  readonly sim: RunningSimulator;
  readonly clock: VirtualClock;
}

function runtimeFor(stack: Stack) {
  return connect(stack.loaded, stack.sim, stack.clock);
}

async function applyOnce(
  stack: Stack,
  journal: Journal,
  lock: ApplyLock,
): Promise<{ report: RunReport; planned: number }> {
  const { sources, target } = runtimeFor(stack);
  const plan = await planRun(stack.loaded.spec, { sources, target: target.reader });
  const report = await applyRun(
    plan,
    stack.loaded.spec,
    { target: target.reader, writer: target.writer },
    { journal, lock },
  );
  return { report, planned: plan.changes.length };
}

/** The tenant as the test compares it: one line per user, sorted. */
function tenantImage(sim: RunningSimulator): string[] {
  return sim.store
    .listUsers()
    .map((u) => {
      const ext = (u.onPremisesExtensionAttributes ?? {}) as Record<string, unknown>;
      return [
        u.userPrincipalName,
        u.employeeId,
        u.department,
        u.accountEnabled,
        ext['extensionAttribute15'],
      ].join('|');
    })
    .sort();
}

/** A killed process never releases its lock. */
function leakedLock(inner: ApplyLock): ApplyLock {
  return {
    acquire: async (owner) => {
      const lease = await inner.acquire(owner);
      return { ...lease, release: () => Promise.resolve() };
    },
    forceUnlock: (id) => inner.forceUnlock(id),
  };
}

async function stackFor(configPath: string): Promise<Stack> {
  const clock = createVirtualClock();
  const sim = await startSimulator({ clock, seed: seed() });
  const loaded = await loadConfig(configPath);
  return { sim, clock, loaded };
}

describe('journal and resume', () => {
  it('A1: a 200-change apply killed after every journal write boundary (intent and outcome) resumes to the uninterrupted result, with no duplicates', async () => {
    const { dir, configPath } = workspace();
    // The uninterrupted run.
    const reference = await stackFor(configPath);
    let expected: string[];
    try {
      const store = openApplyStore(join(dir, 'reference.db'));
      const { report, planned } = await applyOnce(reference, store.journal, store.lock);
      store.close();
      expect(planned).toBe(200);
      expect(report.ops.filter((o) => o.outcome !== 'applied')).toEqual([]);
      expected = tenantImage(reference.sim);
      expect(expected).toHaveLength(MANAGED + NEW);
    } finally {
      await reference.sim.close();
    }

    // Each change is two journal writes (intent, outcome): kill at each of the 400 boundaries'
    // halves in turn, covering every change before and after its write.
    const failures: string[] = [];
    for (let k = 0; k < 200; k++) {
      const limit = 2 * k + (k % 2); // before the write of change ~k, or after it
      const stack = await stackFor(configPath);
      const path = join(dir, `apply-${k}.db`);
      try {
        const first = openApplyStore(path, { synchronous: 'NORMAL' });
        const killed = await applyOnce(
          stack,
          dyingJournal(first.journal, limit),
          leakedLock(first.lock),
        ).then(
          () => false,
          (err: unknown) => err instanceof Killed,
        );
        first.close();
        if (!killed) failures.push(`k=${k}: the run was not killed`);

        // A new process: the old lease is over (an hour later), memory gone, journal on disk.
        const later = openApplyStore(path, {
          synchronous: 'NORMAL',
          now: () => Date.now() + 3_600_000,
        });
        const { report } = await applyOnce(stack, later.journal, later.lock);
        // A third plan is empty (A4); checked at every tenth k to keep the test fast, since
        // the tenant image below already proves convergence.
        const again = k % 10 === 0 ? await applyOnce(stack, later.journal, later.lock) : undefined;
        later.close();
        const image = tenantImage(stack.sim);
        if (JSON.stringify(image) !== JSON.stringify(expected)) {
          failures.push(`k=${k}: final tenant differs from the uninterrupted run`);
        }
        if (report.ops.some((o) => o.outcome !== 'applied')) {
          failures.push(
            `k=${k}: resumed run had ${report.ops
              .filter((o) => o.outcome !== 'applied')
              .map((o) => `${o.changeId} ${o.outcome} ${o.error?.message ?? ''}`)
              .join(', ')}`,
          );
        }
        if (limit > 0 && (report.resumed?.runIds.length ?? 0) !== 1) {
          failures.push(`k=${k}: resumed run did not take over the killed run's journal`);
        }
        if (again && again.planned !== 0)
          failures.push(`k=${k}: a third plan still has ${again.planned} changes`);
        const appliedBefore = report.resumed?.alreadyApplied.length ?? 0;
        if (appliedBefore + report.ops.length > 200) {
          failures.push(`k=${k}: ${appliedBefore} + ${report.ops.length} changes exceed the plan`);
        }
      } finally {
        await stack.sim.close();
      }
    }
    expect(failures).toEqual([]);
  }, 240_000);

  it('A1: the journal shows the changes an interrupted run applied as skipped-as-done, and its in-doubt create is reconciled, not duplicated', async () => {
    const { dir, configPath } = workspace();
    const stack = await stackFor(configPath);
    try {
      const path = join(dir, 'apply.db');
      const first = openApplyStore(path);
      // Killed three quarters through its 400 journal writes, with batches in flight.
      await expect(
        applyOnce(stack, dyingJournal(first.journal, 300), leakedLock(first.lock)),
      ).rejects.toThrow(Killed);
      first.close();
      const later = openApplyStore(path, { now: () => Date.now() + 3_600_000 });
      const { report } = await applyOnce(stack, later.journal, later.lock);
      later.close();
      expect(report.resumed?.alreadyApplied.length).toBeGreaterThanOrEqual(20);
      expect(report.resumed?.alreadyApplied.every((o) => o.outcome === 'skipped')).toBe(true);
      expect(report.ops.length + (report.resumed?.alreadyApplied.length ?? 0)).toBeLessThanOrEqual(
        200,
      );
      const upns = stack.sim.store.listUsers().map((u) => String(u.userPrincipalName));
      expect(new Set(upns).size).toBe(upns.length);
      expect(upns).toHaveLength(MANAGED + NEW);
    } finally {
      await stack.sim.close();
    }
  });
});

describe('saved plan after an interruption', () => {
  it('A2: `apply plan.json` finishes an interrupted saved plan when what is left is exactly what a fresh plan wants; applied again once complete, it is refused', async () => {
    const { dir, configPath } = workspace(
      '  auth: { method: simulator }\n  writes: { perSecond: 200 }',
    );
    const planFile = join(dir, 'plan.json');
    const first = await openRuntime(configPath, new Redactor());
    try {
      const plan = await planRun(first.loaded.spec, {
        sources: first.sources,
        target: first.target.reader,
      });
      expect(plan.changes).toHaveLength(NEW + MANAGED - LEFT);
      writeFileSync(planFile, renderPlanJson(plan));
      const store = openApplyStore(join(dir, '.entrasync', 'apply.db'));
      await expect(
        applyRun(
          plan,
          first.loaded.spec,
          { target: first.target.reader, writer: first.target.writer },
          { journal: dyingJournal(store.journal, 100), lock: store.lock },
        ),
      ).rejects.toThrow(Killed);
      store.close();
    } finally {
      await first.close();
    }

    const text: string[] = [];
    const output = { out: (t: string) => void text.push(t), err: (t: string) => void text.push(t) };
    const second = await openRuntime(configPath, new Redactor());
    try {
      expect(await runApply(second, planFile, output, undefined, { progress: false })).toBe(0);
    } finally {
      await second.close();
    }
    expect(text.join('')).toMatch(/was interrupted: \d+ of its 180 change\(s\) are left/);
    // Applied completely: applying the same saved plan again is refused (A2).
    const third = await openRuntime(configPath, new Redactor());
    try {
      await expect(runApply(third, planFile, output)).rejects.toThrow(StalePlanError);
      const again = await planRun(third.loaded.spec, {
        sources: third.sources,
        target: third.target.reader,
      });
      expect(again.changes).toEqual([]);
    } finally {
      await third.close();
    }
  });
});

describe('apply lock', () => {
  it("A3: a second applier fails and is told the holder, PID and start time; a killed holder's lease expires; force-unlock needs the lock id", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entrasync-lock-'));
    temps.push(dir);
    const path = join(dir, 'apply.db');
    let now = Date.UTC(2026, 0, 1);
    const a = openApplyStore(path, { now: () => now, leaseMs: 60_000, pid: 4242, host: 'ci-1' });
    const b = openApplyStore(path, { now: () => now, leaseMs: 60_000, pid: 5353, host: 'ci-2' });
    try {
      const lease = await a.lock.acquire('daemon');
      const error = await b.lock.acquire('apply').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockHeldError);
      const holder = (error as LockHeldError).holder;
      expect(holder).toMatchObject({ lockId: lease.holder.lockId, pid: 4242, host: 'ci-1' });
      expect(holder.owner).toMatch(/^daemon/);
      expect(holder.startedAt).toBe('2026-01-01T00:00:00.000Z');
      expect((error as Error).message).toMatch(/PID 4242 on ci-1\) since 2026-01-01T00:00:00.000Z/);

      expect(await b.lock.forceUnlock('not-the-lock-id')).toBe(false);
      await expect(b.lock.acquire('apply')).rejects.toThrow(LockHeldError);

      now += 61_000; // the holder was killed: no renewal, the lease lapses
      const taken = await b.lock.acquire('apply');
      await expect(lease.renew()).rejects.toThrow(/taken over/);
      await expect(a.lock.acquire('daemon')).rejects.toThrow(LockHeldError);
      expect(await a.lock.forceUnlock(taken.holder.lockId)).toBe(true);
      const again = await a.lock.acquire('daemon');
      await again.release();
    } finally {
      a.close();
      b.close();
    }
  });

  it('A3: a holder on this host whose process is gone does not block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entrasync-lock-'));
    temps.push(dir);
    const path = join(dir, 'apply.db');
    const gone = openApplyStore(path, { pid: 2 ** 22 + 12345 });
    await gone.lock.acquire('apply'); // never released
    gone.close();
    const next = openApplyStore(path);
    const lease = await next.lock.acquire('apply');
    await lease.release();
    next.close();
  });
});

describe('SIGKILL', () => {
  const cli = resolve('dist/cli/main.js');

  it('A1: `entrasync apply` killed with SIGKILL mid-run at a few points, then run again: converges, no duplicates', async () => {
    // The real CLI process is what gets killed; `npm ci` (prepare) and `npm run test:all` build it.
    if (!existsSync(cli))
      throw new Error(`${cli} is missing: run \`npm run build\` before the tests`);
    for (const killAt of [3, 70, 150]) {
      const sim = await startSimulator({ seed: seed() });
      try {
        const app = sim.clients[0]!;
        const { configPath } = workspace(
          [
            '  auth: { method: secret, clientSecret: "${env:SIM_SECRET}" }',
            `  tenantId: ${sim.tenantId}`,
            `  clientId: ${app.clientId}`,
            `  graphUrl: ${sim.origin}`,
            `  authorityHost: ${sim.authorityHost}`,
            `  caFile: ${sim.caFile}`,
            '  writes: { perSecond: 200 }',
          ].join('\n'),
        );
        const run = (kill?: number) =>
          new Promise<number | null>((done, fail) => {
            const child = spawn(
              process.execPath,
              [cli, 'apply', '--auto-approve', '--config', configPath],
              {
                env: { ...process.env, SIM_SECRET: app.clientSecret },
                stdio: 'ignore',
              },
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
        expect(await run(killAt)).toBeNull(); // killed by the signal
        expect(await run()).toBe(0);
        const upns = sim.store.listUsers().map((u) => String(u.userPrincipalName));
        expect(new Set(upns).size).toBe(upns.length);
        expect(upns).toHaveLength(MANAGED + NEW);
        if (killAt === 3) expect(await run()).toBe(0); // nothing left to do
      } finally {
        await sim.close();
      }
    }
  }, 60_000);
});
