/**
 * `entrasync report` over a history the daemon wrote against the real stack: a plan-only run,
 * then an apply two days later in which one write is refused (403).
 */
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redactor } from '../../engine/secret.js';
import { createDaemon } from '../daemon/daemon.js';
import { HOUR, MINUTE, openTestStack } from '../daemon/test-helpers.js';
import { openHistoryStore } from '../history/history-store.js';
import type { ReportOptions } from './report.js';
import { runReport } from './report.js';

let historyPath: string;
let t0: number;
let now: number;
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanups.reverse()) await step();
});

beforeAll(async () => {
  const stack = await openTestStack({
    cleanup: (step) => cleanups.push(step),
    faultPlan: {
      seed: 1,
      faults: [{ kind: 'status', status: 403, match: { method: 'PATCH' }, when: { nth: [1] } }],
    },
  });
  historyPath = join(stack.work, '.entrasync', 'history.db');
  const history = openHistoryStore(historyPath, stack.redactor);
  const common = {
    spec: stack.loaded.spec,
    sources: stack.sources,
    target: stack.target,
    clock: stack.clock,
    scheduler: stack.scheduler,
    redactor: stack.redactor,
    logger: stack.logger,
    history,
    backoff: { initialMs: 10 * MINUTE, maxMs: 24 * HOUR },
    failureRatio: 0.5,
    fullReadEveryMs: 24 * HOUR,
  };
  t0 = stack.clock.now();
  expect(await createDaemon({ ...common, mode: 'plan' }).tick()).toMatchObject({
    outcome: 'planned',
  });
  stack.clock.advance(48 * HOUR);
  expect(await createDaemon({ ...common, mode: 'apply' }).tick()).toMatchObject({
    outcome: 'partial',
  });
  now = stack.clock.now() + HOUR;
  history.close();
});

async function report(options: Partial<ReportOptions>) {
  let stdout = '';
  const code = await runReport(
    { format: 'json', history: historyPath, ...options },
    { out: (t) => (stdout += t), err: (t) => (stdout += t) },
    new Redactor(),
    now,
  );
  expect(code).toBe(0);
  return stdout;
}

interface JsonReport {
  formatVersion: number;
  summary: Record<string, number>;
  events: {
    action: string;
    outcome: string;
    userPrincipalName: string;
    time: string;
    errorStatus: number | null;
    errorCode: string | null;
    people: string[];
  }[];
}

async function events(options: Partial<ReportOptions>) {
  return JSON.parse(await report(options)) as JsonReport;
}

describe('entrasync report', () => {
  it('lists every change planned and applied, with outcomes and the Graph error of a failed write', async () => {
    const all = await events({});
    expect(all.formatVersion).toBe(1);
    expect(all.events).toHaveLength(20);
    expect(all.summary).toEqual({ planned: 10, applied: 9, failed: 1 });
    const failed = all.events.find((e) => e.outcome === 'failed');
    expect(failed).toMatchObject({ action: 'updateUser', errorStatus: 403 });
    expect(failed?.errorCode).toBeTruthy();
  });

  it('filters by user: UPN in any case, person key, or bare primary key', async () => {
    for (const user of ['ava.thomas@contoso.com', 'AVA.THOMAS@contoso.com', 'hr:1005', '1005']) {
      const r = await events({ user });
      expect(r.events.map((e) => [e.action, e.outcome])).toEqual([
        ['updateUser', 'planned'],
        ['updateUser', 'applied'],
      ]);
      expect(r.events[0]?.people).toEqual(['hr:1005']);
    }
    expect((await events({ user: 'nobody@contoso.com' })).events).toEqual([]);
  });

  it('filters by time span (durations before now, or ISO times) and by action', async () => {
    const lastDay = await events({ since: '1d' });
    expect(lastDay.events).toHaveLength(10);
    expect(new Set(lastDay.events.map((e) => e.outcome))).toEqual(new Set(['applied', 'failed']));
    const firstDay = await events({ until: new Date(t0 + 24 * HOUR).toISOString() });
    expect(firstDay.summary).toEqual({ planned: 10 });
    const disables = await events({ action: ['disable'] });
    expect(disables.events.map((e) => e.outcome)).toEqual([
      'planned',
      'planned',
      'planned',
      'planned',
      'applied',
      'applied',
      'applied',
      'applied',
    ]);
    const both = await events({ action: ['create', 'enableUser'], outcome: ['applied'] });
    expect(both.events).toHaveLength(4);
  });

  it('prints text and CSV (formula-safe) as well as JSON', async () => {
    const text = await report({ format: 'text', user: '1005' });
    expect(text).toContain('Provisioning report (user=1005): 2 change(s)');
    expect(text).toMatch(/updateUser +planned +ava\.thomas@contoso\.com +hr:1005/);
    expect(text).toContain('Summary: 1 planned, 1 applied.');

    const csv = await report({ format: 'csv', action: ['update'] });
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(4);
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'time',
      'runId',
      'mode',
      'action',
      'outcome',
      'userPrincipalName',
      'userId',
      'people',
      'reason',
      'message',
      'errorStatus',
      'errorCode',
      'errorMessage',
      'blockedCode',
    ]);
    expect(rows.filter((r) => r.outcome === 'failed').map((r) => r.errorStatus)).toEqual(['403']);

    const runs = await report({ format: 'text', runs: true });
    expect(runs).toMatch(/apply +partial +full +10 +0 +9 +1/);
    expect(runs).toMatch(/plan +planned +full +10 +0 +0 +0/);
  });

  it('rejects bad filters and a missing history with a usage error', async () => {
    await expect(report({ since: 'last week' })).rejects.toThrow(
      '--since last week: give a duration before now',
    );
    await expect(report({ action: ['delete'] })).rejects.toThrow(/--action delete: one of create/);
    await expect(report({ history: `${historyPath}.none` })).rejects.toThrow(/no history at/);
  });
});
