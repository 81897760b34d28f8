/**
 * The daemon driven by a virtual clock and explicit ticks (no real cron minutes), against the
 * real stack: the quickstart config, the CSV source, the simulator over HTTPS through the real
 * Graph SDK, SQLite history, prom-client metrics and pino logs.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceConnector } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import { openHistoryStore } from '../history/history-store.js';
import { createMemoryAlertSink } from './alerts.js';
import { backoffDelay } from './backoff.js';
import type { DaemonOptions } from './daemon.js';
import { createDaemon } from './daemon.js';
import { startHealthServer } from './health-server.js';
import { createDaemonMetrics } from './metrics.js';
import type { DeltaTenantReader, RunLock } from './ports.js';
import type { TestStack } from './test-helpers.js';
import { HOUR, MINUTE, openTestStack, tempCopyOfQuickstart } from './test-helpers.js';

const BACKOFF = { initialMs: 10 * MINUTE, maxMs: 24 * HOUR };

function daemonFor(stack: TestStack, overrides: Partial<DaemonOptions> = {}) {
  const history = openHistoryStore(join(stack.work, '.entrasync', 'history.db'), stack.redactor);
  const metrics = createDaemonMetrics();
  const alerts = createMemoryAlertSink();
  const daemon = createDaemon({
    spec: stack.loaded.spec,
    sources: stack.sources,
    target: stack.target,
    mode: 'plan',
    clock: stack.clock,
    scheduler: stack.scheduler,
    redactor: stack.redactor,
    logger: stack.logger,
    history,
    metrics,
    alerts,
    backoff: BACKOFF,
    failureRatio: 0.5,
    fullReadEveryMs: 24 * HOUR,
    ...overrides,
  });
  return { daemon, history, metrics, alerts };
}

function deferredSource(inner: SourceConnector) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const source: SourceConnector = {
    apiVersion: PORT_API_VERSION,
    kind: inner.kind,
    name: inner.name,
    async read() {
      await gate;
      return inner.read();
    },
  };
  return { source, release };
}

describe('entrasync daemon', () => {
  it('S2: a failing source makes health degraded with the reason, alerts once, and backs off toward daily', async () => {
    const stack = await openTestStack();
    const { daemon, history, alerts, metrics } = daemonFor(stack);
    const csv = join(stack.work, 'employees.csv');
    renameSync(csv, `${csv}.away`);

    const first = await daemon.tick();
    expect(first).toMatchObject({ ran: true, outcome: 'source-failed' });
    const health = daemon.health();
    expect(health.status).toBe('degraded');
    expect(health.reason).toMatch(/^source hr \(csv\) failed: .*employees\.csv/);
    expect(health.consecutiveFailures).toBe(1);

    // Scheduled ticks inside the back-off are skipped; each failure doubles the wait up to a day.
    const waits: number[] = [];
    for (let failures = 1; failures <= 9; failures++) {
      const wait = Date.parse(daemon.health().nextAttemptAt ?? '') - stack.clock.now();
      waits.push(wait);
      stack.clock.advance(wait - MINUTE);
      expect(await daemon.tick()).toMatchObject({ ran: false, skipped: 'backoff' });
      stack.clock.advance(MINUTE);
      expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'source-failed' });
    }
    expect(waits).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 1440].map((m) => m * MINUTE));
    expect(backoffDelay(30, BACKOFF)).toBe(24 * HOUR);
    expect(daemon.health().consecutiveFailures).toBe(10);

    // One alert for the transition, not one per failed run; nothing was planned from the failure.
    expect(alerts.sent.map((a) => a.event)).toEqual(['degraded']);
    expect(alerts.sent[0]?.reason).toContain('source hr (csv) failed');
    expect(history.ops({ outcomes: ['planned'] })).toEqual([]);
    expect(history.ops({ kinds: ['disableUser'] }).every((op) => op.outcome === 'blocked')).toBe(
      true,
    );
    const text = await metrics.render();
    expect(text).toMatch(/entrasync_run_failures_total\{outcome="source-failed"\} 10/);
    expect(text).toMatch(/entrasync_runs_skipped_total\{reason="backoff"\} 9/);
    expect(text).toMatch(/entrasync_backoff_seconds 86400/);
    expect(text).toMatch(/entrasync_healthy 0/);

    // A restarted daemon resumes the back-off from history instead of hammering the source.
    const restarted = daemonFor(stack);
    expect(restarted.daemon.health()).toMatchObject({
      status: 'degraded',
      consecutiveFailures: 10,
    });
    expect(await restarted.daemon.tick()).toMatchObject({ ran: false, skipped: 'backoff' });

    // The source comes back: the next attempt succeeds, health recovers, the back-off resets.
    renameSync(`${csv}.away`, csv);
    stack.clock.advance(24 * HOUR);
    expect(await restarted.daemon.tick()).toMatchObject({ ran: true, outcome: 'planned' });
    expect(restarted.daemon.health()).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
    expect(restarted.alerts.sent.map((a) => a.event)).toEqual(['recovered']);
    restarted.history.close();
    history.close();
  });

  it('S2: an unreachable LDAP directory fails the source: degraded with the LDAP error, no secret in the reason', async () => {
    const work = tempCopyOfQuickstart();
    const password = 'canary-ldap-password-81f2';
    writeFileSync(
      join(work, 'entrasync.yaml'),
      [
        'version: 1',
        'target: { auth: { method: simulator } }',
        'sources:',
        '  ad:',
        '    kind: ldap',
        '    url: ldaps://127.0.0.1:1',
        '    bindDn: cn=svc-entrasync,dc=example,dc=org',
        '    password: ${env:LDAP_PASSWORD}',
        '    baseDn: ou=people,dc=example,dc=org',
        '    key: uid',
        '    connectTimeoutSeconds: 2',
        'users:',
        '  anchor: uid',
        '  attributes: { userPrincipalName: mail, displayName: cn }',
        '',
      ].join('\n'),
    );
    const stack = await openTestStack({ work, env: { LDAP_PASSWORD: password } });
    const { daemon, history, alerts } = daemonFor(stack);
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'source-failed' });
    const health = daemon.health();
    expect(health.status).toBe('degraded');
    expect(health.reason).toMatch(/^source ad \(ldap\) failed: .*127\.0\.0\.1/);
    expect(health.nextAttemptAt).toBe(new Date(stack.clock.now() + 10 * MINUTE).toISOString());
    expect(history.ops({ outcomes: ['planned'] })).toEqual([]);
    expect(stack.sim.counters.writes).toBe(0);
    expect(JSON.stringify([health, alerts.sent]) + stack.log.text()).not.toContain(password);
    history.close();
  });

  it('G10 (daemon side): an apply whose writes are refused (403) fails the run, backs off and alerts', async () => {
    const stack = await openTestStack({
      faultPlan: {
        seed: 10,
        faults: [{ kind: 'status', status: 403, match: { method: ['POST', 'PATCH'] } }],
      },
    });
    const { daemon, history, alerts } = daemonFor(stack, {
      mode: 'apply',
      telemetry: { throttledResponses: () => stack.sim.counters.throttled },
    });
    const result = await daemon.tick();
    expect(result).toMatchObject({ ran: true, outcome: 'apply-failed' });
    const health = daemon.health();
    expect(health.status).toBe('degraded');
    // The apply engine's circuit breaker stops the run (`apply stopped (circuit-open)`); without
    // one the daemon's own failure ratio does (`apply failed: 10 of 10 ...`). Either way: 403.
    expect(health.reason).toMatch(/^apply (stopped \(circuit-open\)|failed: 10 of 10).*403/);
    expect(health.nextAttemptAt).toBe(new Date(stack.clock.now() + 10 * MINUTE).toISOString());
    expect(alerts.sent).toHaveLength(1);
    expect(alerts.sent[0]).toMatchObject({ event: 'degraded', consecutiveFailures: 1 });

    const ops = history.ops();
    expect(ops).toHaveLength(10);
    expect(new Set(ops.map((op) => op.outcome))).toEqual(new Set(['failed']));
    expect(ops.every((op) => op.errorStatus === 403 && op.errorCode)).toBe(true);
    expect(history.runs()[0]).toMatchObject({ outcome: 'apply-failed', failed: 10, applied: 0 });
    expect(await daemon.tick()).toMatchObject({ ran: false, skipped: 'backoff' });
    history.close();
  });

  it('G10: an open circuit breaker fails the run and keeps health degraded while open', async () => {
    const stack = await openTestStack();
    let open = true;
    const { daemon, history } = daemonFor(stack, {
      mode: 'apply',
      circuit: {
        state: () =>
          open ? { open: true, reason: '60% of writes returned 403' } : { open: false },
      },
    });
    expect(await daemon.tick()).toMatchObject({ outcome: 'apply-failed' });
    expect(daemon.health().reason).toMatch(/^circuit breaker open: 60% of writes returned 403/);
    open = false;
    expect(daemon.health().status).toBe('degraded'); // the failed run still stands until a good one
    stack.clock.advance(10 * MINUTE);
    expect(await daemon.tick()).toMatchObject({ outcome: 'no-changes' });
    expect(daemon.health().status).toBe('ok');
    history.close();
  });

  it('a plan that holds changes applies the rest, degrades health without backing off, and alerts once per held set (issue 20)', async () => {
    const stack = await openTestStack();
    const csv = join(stack.work, 'employees.csv');
    const lines = readFileSync(csv, 'utf8').split('\n');
    writeFileSync(csv, [...lines.slice(0, 30), ...lines.slice(45)].join('\n'));
    const enabledBefore = stack.sim.store
      .listUsers()
      .filter((u) => u['accountEnabled'] === true)
      .map((u) => String(u.id));
    const { daemon, history, alerts, metrics } = daemonFor(stack, { mode: 'apply' });
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'blocked' });
    expect(daemon.health()).toMatchObject({ status: 'degraded', consecutiveFailures: 0 });
    expect(daemon.health().reason).toMatch(
      /^\d+ change\(s\) held, everything else applies\. Held: \d+ source-unhealthy; each is released when its reason is resolved/,
    );
    expect(daemon.health().nextAttemptAt).toBeUndefined();
    // The rest applied (the new hires); the held disables did not.
    const writes = stack.sim.counters.writes;
    expect(writes).toBeGreaterThan(0);
    const enabled = new Set(
      stack.sim.store
        .listUsers()
        .filter((u) => u['accountEnabled'] === true)
        .map((u) => String(u.id)),
    );
    for (const id of enabledBefore) expect(enabled.has(id)).toBe(true);
    expect(await metrics.render()).toMatch(
      /entrasync_plan_held_changes\{reason="source-unhealthy"\} \d+/,
    );
    expect(alerts.sent.map((a) => a.event)).toEqual(['degraded']);
    // The next cycle holds the same set: nothing more is written, no second alert.
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'blocked' });
    expect(stack.sim.counters.writes).toBe(writes);
    expect(alerts.sent.map((a) => a.event)).toEqual(['degraded']);
    const restarted = daemonFor(stack);
    expect(restarted.daemon.health().status).toBe('degraded'); // also after a restart
    restarted.history.close();
    history.close();
  });

  it('A3: a tick while a run is going is skipped and logged; one run at a time', async () => {
    const stack = await openTestStack();
    const gated = deferredSource(stack.sources[0]!);
    const { daemon, history, metrics } = daemonFor(stack, { sources: [gated.source] });
    await daemon.start();
    expect(stack.scheduler.fire()).toBe(true);
    expect(daemon.running).toBe(true);
    const overlap = await daemon.tick();
    expect(overlap).toMatchObject({ ran: false, skipped: 'overlap' });
    gated.release();
    while (daemon.running) await new Promise((r) => setTimeout(r, 5));
    expect(history.runs()).toHaveLength(1);
    const skipped = stack.log.records().find((r) => r.skipped === 'overlap');
    expect(skipped?.msg).toMatch(/previous run .* is still going; skipping this tick/);
    expect(skipped?.runningRunId).toBe(history.runs()[0]?.id);
    expect(await metrics.render()).toMatch(/entrasync_runs_skipped_total\{reason="overlap"\} 1/);
    await daemon.stop(1000);
    history.close();
  });

  it('A3: with the apply lock held elsewhere, the run is skipped naming holder, pid and start time', async () => {
    const stack = await openTestStack();
    const lock: RunLock = {
      acquire: () =>
        Promise.resolve({
          ok: false,
          holder: { pid: 4242, host: 'ci-runner-7', startedAt: Date.UTC(2026, 0, 1, 0, 5) },
        }),
    };
    const { daemon, history } = daemonFor(stack, { mode: 'apply', lock });
    const result = await daemon.tick();
    expect(result).toMatchObject({ ran: false, skipped: 'locked' });
    expect(result.ran ? '' : result.detail).toBe(
      'held by pid 4242 on ci-runner-7 since 2026-01-01T00:05:00.000Z',
    );
    expect(history.runs()[0]).toMatchObject({ outcome: 'error', errorCode: 'apply.locked' });
    expect(daemon.health().status).toBe('ok'); // another applier is doing the work: no back-off
    expect(stack.sim.counters.writes).toBe(0);
    history.close();
  });

  it('A3: a lock the apply engine finds held (apply.locked) skips the run without backing off', async () => {
    const stack = await openTestStack();
    const held = Object.assign(
      new Error('another apply holds the lock: lock 7f3a held by apply (PID 31337 on ops-1)'),
      {
        code: 'apply.locked',
        holder: { lockId: '7f3a', pid: 31337, host: 'ops-1', startedAt: '2026-01-01T00:00:00Z' },
      },
    );
    const { daemon, history } = daemonFor(stack, {
      mode: 'apply',
      applier: () => Promise.reject(held),
    });
    expect(await daemon.tick()).toMatchObject({ ran: false, skipped: 'locked' });
    expect(history.runs()[0]).toMatchObject({ errorCode: 'apply.locked' });
    expect(history.runs()[0]?.errorMessage).toContain('PID 31337 on ops-1');
    expect(daemon.health()).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
    const line = stack.log.records().find((r) => r.holder !== undefined);
    expect(line?.holder).toMatchObject({ pid: 31337, startedAt: '2026-01-01T00:00:00Z' });
    history.close();
  });

  it('runs in apply mode record every op with its outcome; plan mode never writes', async () => {
    const stack = await openTestStack();
    const planOnly = daemonFor(stack);
    expect(await planOnly.daemon.tick()).toMatchObject({ outcome: 'planned' });
    expect(stack.sim.counters.writes).toBe(0);
    const planned = planOnly.history.ops();
    expect(planned).toHaveLength(10);
    expect(new Set(planned.map((op) => op.outcome))).toEqual(new Set(['planned']));
    planOnly.history.close();

    const applying = daemonFor(stack, { mode: 'apply' });
    stack.clock.advance(30 * MINUTE);
    expect(await applying.daemon.tick()).toMatchObject({ outcome: 'applied' });
    const runs = applying.history.runs();
    expect(runs.map((r) => r.outcome)).toEqual(['applied', 'planned']);
    expect(runs[0]).toMatchObject({ mode: 'apply', changes: 10, applied: 10, failed: 0 });
    expect(runs[0]?.planFingerprint).toMatch(/^[0-9a-f]{64}$/);
    const applied = applying.history.ops().filter((op) => op.runId === runs[0]?.id);
    expect(applied.map((op) => op.outcome)).toEqual(Array(10).fill('applied'));
    expect(applied.find((op) => op.kind === 'createUser')?.people[0]).toMatch(/^hr:\d+$/);
    expect(applying.history.sources(runs[0]!.id)).toEqual([
      expect.objectContaining({ name: 'hr', status: 'complete', records: 52 }),
    ]);

    stack.clock.advance(30 * MINUTE);
    expect(await applying.daemon.tick()).toMatchObject({ outcome: 'no-changes' });
    applying.history.close();
  });

  it('serves /healthz (ok / degraded with the reason) and /metrics in Prometheus text format', async () => {
    const stack = await openTestStack();
    const { daemon, history, metrics } = daemonFor(stack, { mode: 'apply' });
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      health: () => daemon.health(),
      metrics,
      redactor: stack.redactor,
    });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await daemon.tick();
      const ok = await fetch(`${server.url}/healthz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({
        status: 'ok',
        mode: 'apply',
        lastOutcome: 'applied',
      });

      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      expect(text).toContain('# TYPE entrasync_runs_total counter');
      expect(text).toContain('entrasync_runs_total{mode="apply",outcome="applied"} 1');
      expect(text).toContain('entrasync_changes_total{kind="createUser",outcome="applied"} 4');
      expect(text).toContain('entrasync_changes_total{kind="disableUser",outcome="planned"} 4');
      expect(text).toContain('entrasync_plan_blocked_changes 0');
      expect(text).toContain('entrasync_source_records{source="hr"} 52');
      expect(text).toContain('entrasync_source_status{source="hr",status="complete"} 1');
      expect(text).toContain('# TYPE entrasync_graph_throttled_total counter');
      expect(text).toContain(
        `entrasync_last_success_timestamp_seconds ${stack.clock.now() / 1000}`,
      );

      rmSync(join(stack.work, 'employees.csv'));
      await daemon.tick('manual');
      const degraded = await fetch(`${server.url}/healthz`);
      expect(degraded.status).toBe(503);
      const body = (await degraded.json()) as { status: string; reason: string };
      expect(body.status).toBe('degraded');
      expect(body.reason).toMatch(/source hr \(csv\) failed/);
      expect((await fetch(`${server.url}/livez`)).status).toBe(200);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
      history.close();
    }
  });

  it('reads the tenant by delta between periodic full reads, and in full when a delta fails', async () => {
    const stack = await openTestStack();
    const calls: string[] = [];
    let failDelta = false;
    const delta: DeltaTenantReader = {
      readFull: (request) => {
        calls.push('full');
        return stack.target.reader.read(request);
      },
      readDelta: (request) => {
        calls.push('delta');
        if (failDelta) return Promise.reject(new Error('syncStateNotFound: delta token expired'));
        return stack.target.reader.read(request);
      },
    };
    const { daemon, history } = daemonFor(stack, { delta, fullReadEveryMs: 2 * HOUR });
    for (let i = 0; i < 5; i++) {
      await daemon.tick();
      stack.clock.advance(30 * MINUTE);
    }
    expect(calls).toEqual(['full', 'delta', 'delta', 'delta', 'full']);
    expect(history.runs().map((r) => r.read)).toEqual(['full', 'delta', 'delta', 'delta', 'full']);
    failDelta = true;
    calls.length = 0;
    await daemon.tick();
    expect(calls).toEqual(['delta', 'full']);
    expect(history.runs()[0]?.read).toBe('full');
    expect(stack.log.text()).toContain('delta read failed; reading the whole tenant');
    history.close();
  });

  it('a run whose inputs did not change (same CSV bytes, empty Graph delta) reuses the last plan; an edited CSV is planned again', async () => {
    const stack = await openTestStack();
    const { daemon, history } = daemonFor(stack, {
      mode: 'apply',
      delta: stack.target.delta,
      fullReadEveryMs: 24 * HOUR,
    });
    const planned = () =>
      stack.log
        .records()
        .filter((r) => r['msg'] === 'planned')
        .map((r) => ({ read: r['read'], reused: r['reused'], changes: r['changes'] }));
    await daemon.tick(); // full read, applies the quickstart's changes
    await daemon.tick(); // delta brings the apply's own writes: planned again, nothing to do
    await daemon.tick(); // nothing moved anywhere
    expect(planned()).toEqual([
      { read: 'full', reused: false, changes: expect.any(Number) as number },
      { read: 'delta', reused: false, changes: 0 },
      { read: 'delta', reused: true, changes: 0 },
    ]);
    expect(planned()[0]?.changes).toBeGreaterThan(0);

    const csv = join(stack.work, 'employees.csv');
    const text = readFileSync(csv, 'utf8');
    writeFileSync(csv, text.replace('Engineering', 'Research'));
    await daemon.tick();
    expect(planned()[3]).toMatchObject({ reused: false });
    expect(planned()[3]?.changes).toBeGreaterThan(0);
    history.close();
  });

  it('P2: after a restart with a config that lifts protection, the first run changes nothing of that account; the next run may', async () => {
    const stack = await openTestStack();
    const { daemon, history } = daemonFor(stack, { mode: 'apply' });
    // The previous daemon run (before this restart) planned with ava.wilson on `protect`.
    history.recordProtect(['ava.wilson@contoso.com'], stack.clock.now());
    const blockedFor = () =>
      history
        .ops({ user: 'ava.wilson@contoso.com' })
        .flatMap((o) => (o.blockedCode === null ? [] : [o.blockedCode]));
    const first = await daemon.tick();
    expect(first).toMatchObject({ ran: true, outcome: 'blocked' });
    expect(blockedFor()).toContain('protection-lifted');
    expect(stack.sim.store.getUserByUpn('ava.wilson@contoso.com')?.user.accountEnabled).toBe(true);
    expect(history.lastProtect()).toEqual([]);

    const second = await daemon.tick();
    expect(second).toMatchObject({ ran: true, outcome: 'applied' });
    expect(stack.sim.store.getUserByUpn('ava.wilson@contoso.com')?.user.accountEnabled).toBe(false);
    history.close();
  });

  it('stop lets the running run finish, and records a run cut short by the timeout as interrupted', async () => {
    const stack = await openTestStack();
    const gated = deferredSource(stack.sources[0]!);
    const { daemon, history } = daemonFor(stack, { sources: [gated.source] });
    const running = daemon.tick();
    setTimeout(() => gated.release(), 20);
    expect(await daemon.stop(5_000)).toBe(true);
    expect(await running).toMatchObject({ ran: true, outcome: 'planned' });
    expect(await daemon.tick()).toMatchObject({ ran: false, skipped: 'stopping' });

    stack.clock.advance(MINUTE);
    const stuck = deferredSource(stack.sources[0]!);
    const second = daemonFor(stack, { sources: [stuck.source] });
    void second.daemon.tick();
    expect(await second.daemon.stop(30)).toBe(false);
    expect(second.history.runs()[0]).toMatchObject({
      outcome: 'error',
      errorCode: 'daemon.interrupted',
    });
    stuck.release();
    history.close();
  });

  it('history is never an input to planning: without it the plan is the same (a lost history can delay, never hasten)', async () => {
    const stack = await openTestStack();
    const first = daemonFor(stack);
    await first.daemon.tick();
    const fingerprint = first.history.runs()[0]?.planFingerprint;
    first.history.close();
    rmSync(join(stack.work, '.entrasync', 'history.db'), { force: true });
    rmSync(join(stack.work, '.entrasync', 'history.db-wal'), { force: true });
    rmSync(join(stack.work, '.entrasync', 'history.db-shm'), { force: true });

    const fresh = daemonFor(stack);
    expect(fresh.history.runs()).toEqual([]);
    await fresh.daemon.tick();
    expect(fresh.history.runs()[0]?.planFingerprint).toBe(fingerprint);
    fresh.history.close();
  });

  it('X1: a canary secret in an error never reaches logs, history, health or alerts', async () => {
    const stack = await openTestStack();
    const canary = 'canary-7f3a9c1e-secret';
    stack.redactor.add(canary);
    const leaky: SourceConnector = {
      apiVersion: PORT_API_VERSION,
      kind: 'http',
      name: 'api',
      read: () =>
        Promise.reject(new Error(`GET https://hr.example/api?token=${canary} answered 500`)),
    };
    const { daemon, history, alerts, metrics } = daemonFor(stack, {
      sources: [...stack.sources, leaky],
    });
    expect(await daemon.tick()).toMatchObject({ outcome: 'source-failed' });
    expect(daemon.health().reason).toContain('token=[redacted]');
    const files = () =>
      ['history.db', 'history.db-wal']
        .map((f) => join(stack.work, '.entrasync', f))
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString('latin1'));
    const beforeClose = files();
    history.close();

    const everything = [
      stack.log.text(),
      JSON.stringify(daemon.health()),
      JSON.stringify(alerts.sent),
      await metrics.render(),
      ...beforeClose,
      ...files(),
    ].join('\n');
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(canary);
    // Every log line carries a run id.
    expect(stack.log.records().every((r) => typeof r.runId === 'string')).toBe(true);
  });
});
