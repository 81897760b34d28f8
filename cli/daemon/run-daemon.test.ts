/**
 * `entrasync daemon` as the command runs it: the quickstart config through the real runtime
 * (embedded simulator), history beside the config, the HTTP endpoints on 127.0.0.1, signals from
 * a stand-in for the process, ticks by hand.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, EntrasyncError } from '../../engine/errors.js';
import { Redactor } from '../../engine/secret.js';
import { openHistoryStore } from '../history/history-store.js';
import type { Daemon } from './daemon.js';
import type { DaemonCommandOptions } from './run-daemon.js';
import { runDaemon } from './run-daemon.js';
import { createManualScheduler } from './scheduler.js';
import { QUICKSTART, captureLog, tempCopyOfQuickstart, until } from './test-helpers.js';

function start(
  work: string,
  options: Partial<DaemonCommandOptions> = {},
  env: NodeJS.ProcessEnv = {},
) {
  const signals = new EventEmitter();
  const scheduler = createManualScheduler();
  const log = captureLog();
  let started: { url: string; daemon: Daemon } | undefined;
  const done = runDaemon(
    {
      config: join(work, 'entrasync.yaml'),
      schedule: '*/30 * * * *',
      port: 0,
      runOnStart: false,
      ...options,
    },
    {
      redactor: new Redactor(),
      env,
      signals,
      logDestination: log.destination,
      scheduler: () => scheduler,
      onStarted: (s) => (started = s),
    },
  );
  return { signals, scheduler, log, done, started: () => until(() => started, 'start') };
}

describe('entrasync daemon (command)', () => {
  it('SIGTERM lets the current run finish, then stops; /healthz and /metrics are served until then', async () => {
    const work = tempCopyOfQuickstart();
    const d = start(work);
    const { url, daemon } = await d.started();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    expect(d.scheduler.fire()).toBe(true);
    await until(() => !daemon.running && daemon.health().lastOutcome, 'first run');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('entrasync_runs_total{mode="plan",outcome="planned"} 1');
    expect(metrics).toContain('entrasync_source_records{source="hr"} 52');
    expect(metrics).toContain('# TYPE entrasync_process_cpu_seconds_total counter');

    d.scheduler.fire();
    expect(daemon.running).toBe(true);
    d.signals.emit('SIGTERM');
    expect(await d.done).toBe(0);

    const history = openHistoryStore(join(work, '.entrasync', 'history.db'), new Redactor(), {
      readonly: true,
    });
    const runs = history.runs();
    history.close();
    expect(runs.map((r) => r.outcome)).toEqual(['planned', 'planned']);
    expect(runs.every((r) => r.finishedAt !== null)).toBe(true);
    const messages = d.log.records().map((r) => r.msg);
    expect(messages).toContain('SIGTERM received: shutting down');
    expect(messages).toContain('stopping: letting the current run finish');
    expect(messages.at(-1)).toBe('daemon stopped');
    expect(d.log.records().every((r) => typeof r.runId === 'string')).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('S2 + X1: a failed source sends one alert to the webhook, whose token never reaches the logs', async () => {
    const canary = 'canary-hook-token-3c9d';
    const received: { path: string; body: Record<string, unknown> }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => hook.close(() => r())));
    const port = (hook.address() as AddressInfo).port;

    const work = tempCopyOfQuickstart();
    rmSync(join(work, 'employees.csv'));
    const d = start(
      work,
      {},
      { ENTRASYNC_ALERT_WEBHOOK: `http://127.0.0.1:${port}/hooks/${canary}` },
    );
    const { url, daemon } = await d.started();
    d.scheduler.fire();
    await until(() => received.length > 0, 'the alert');
    const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'degraded', consecutiveFailures: 1 });
    expect(String(health.reason)).toMatch(/^source hr \(csv\) failed/);
    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe(`/hooks/${canary}`);
    expect(received[0]?.body).toMatchObject({ source: 'entrasync', event: 'degraded' });
    expect(String(received[0]?.body.text)).toMatch(
      /^entrasync degraded .*source hr \(csv\) failed/,
    );
    expect(daemon.health().status).toBe('degraded');
    d.signals.emit('SIGTERM');
    expect(await d.done).toBe(0);
    expect(d.log.text()).not.toContain(canary);
  });

  it('a corrected export clears the back-off by itself: the next tick runs and succeeds (issue 22)', async () => {
    const work = tempCopyOfQuickstart();
    renameSync(join(work, 'employees.csv'), join(work, 'employees.csv.away'));
    const d = start(work);
    const { daemon } = await d.started();
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'source-failed' });
    expect(await daemon.tick()).toMatchObject({ ran: false, skipped: 'backoff' });

    renameSync(join(work, 'employees.csv.away'), join(work, 'employees.csv'));
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'planned' });
    expect(daemon.health()).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
    expect(d.log.records().map((r) => r.msg)).toContain(
      'back-off cleared (a source changed since the failed run)',
    );
    d.signals.emit('SIGTERM');
    expect(await d.done).toBe(0);
  });

  it('SIGHUP clears the back-off when the cause was fixed elsewhere: the next tick runs', async () => {
    const work = tempCopyOfQuickstart();
    renameSync(join(work, 'employees.csv'), join(work, 'employees.csv.away'));
    const d = start(work);
    const { daemon } = await d.started();
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'source-failed' });
    expect(await daemon.tick()).toMatchObject({ ran: false, skipped: 'backoff' });
    d.signals.emit('SIGHUP');
    // The file is still away, so the run fails again; what SIGHUP did is let it run.
    expect(await daemon.tick()).toMatchObject({ ran: true, outcome: 'source-failed' });
    expect(d.log.records().map((r) => r.msg)).toContain('back-off cleared (SIGHUP)');
    d.signals.emit('SIGTERM');
    expect(await d.done).toBe(0);
  });

  it('needs a valid schedule', async () => {
    const work = tempCopyOfQuickstart();
    const missing = start(work, { schedule: undefined });
    await expect(missing.done).rejects.toBeInstanceOf(EntrasyncError);
    const bad = start(work, { schedule: 'every day' });
    await expect(bad.done).rejects.toBeInstanceOf(ConfigError);
  });

  it("the README's try-it config (examples/daemon) starts with no alert webhook variable set", async () => {
    // The example reads the quickstart's files by relative path: copy both, as they sit in git.
    const root = mkdtempSync(join(tmpdir(), 'entrasync-daemon-example-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'examples'));
    cpSync(join(QUICKSTART, '..', 'daemon'), join(root, 'examples', 'daemon'), { recursive: true });
    cpSync(QUICKSTART, join(root, 'examples', 'quickstart'), {
      recursive: true,
      filter: (p) => !p.includes('.entrasync'),
    });
    const d = start(join(root, 'examples', 'daemon'), { schedule: undefined }, {});
    const { url } = await d.started();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    d.signals.emit('SIGTERM');
    expect(await d.done).toBe(0);
  });
});
