/** The HTML report (issue 27): charts drawn from the events, timelines per person, escaping. */
import { describe, expect, it } from 'vitest';
import type { ReportHtmlEvent, ReportHtmlRun } from './report-html.js';
import { renderReportHtml } from './report-html.js';

function event(
  time: string,
  action: string,
  outcome: string,
  upn: string,
  extra: Partial<ReportHtmlEvent> = {},
): ReportHtmlEvent {
  return {
    time,
    runId: `run-${time.slice(0, 10)}`,
    action,
    outcome,
    userPrincipalName: upn,
    people: ['hr:1'],
    message: `${action} ${upn}`,
    errorCode: null,
    blockedCode: null,
    ...extra,
  };
}

const run = (id: string, start: string, seconds: number): ReportHtmlRun => ({
  id,
  startedAt: Date.parse(start),
  finishedAt: Date.parse(start) + seconds * 1000,
  mode: 'apply',
  outcome: 'applied',
  changes: 1,
  applied: 1,
  failed: 0,
  blocked: 0,
});

describe('renderReportHtml', () => {
  const events = [
    event('2026-12-01T08:00:00.000Z', 'createUser', 'applied', 'ann@contoso.com'),
    event('2026-12-01T09:00:00.000Z', 'createUser', 'applied', 'bob@contoso.com'),
    event('2026-12-01T09:00:01.000Z', 'updateUser', 'applied', 'ann@contoso.com'),
    event('2026-12-03T09:00:00.000Z', 'disableUser', 'blocked', 'cy@contoso.com', {
      blockedCode: 'threshold',
    }),
    event('2026-12-03T10:00:00.000Z', 'createUser', 'failed', '<img src=x onerror=alert(1)>', {
      errorCode: 'Request_BadRequest',
    }),
  ];
  const runs = [run('a', '2026-12-01T08:00:00Z', 3), run('b', '2026-12-03T09:00:00Z', 42)];
  const html = renderReportHtml(events, runs, 'since=2026-12-01');

  it('V3: stacks applied changes per day by action, with every day in between', () => {
    const chart = /id="applied-chart">([\s\S]*?)<\/section>/.exec(html)![1]!;
    const bars = [...chart.matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1]);
    expect(bars).toEqual(['2026-12-01: 2 createUser', '2026-12-01: 1 updateUser']);
    // Three days on the axis (the 2nd had nothing): the table underneath lists the days with data.
    expect(chart).toContain('>2026-12-01<');
    expect(chart).toContain('>2026-12-03<');
    const problems = /id="problems-chart">([\s\S]*?)<\/section>/.exec(html)![1]!;
    expect([...problems.matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1])).toEqual([
      '2026-12-03: 1 failed',
      '2026-12-03: 1 held',
    ]);
  });

  it('lists the slowest runs first and one timeline per person, escaped', () => {
    const slowest = /id="slowest">([\s\S]*?)<\/section>/.exec(html)![1]!;
    expect(slowest.indexOf('<td>b</td>')).toBeLessThan(slowest.indexOf('<td>a</td>'));
    expect(slowest).toContain('<td class="n">42.0</td>');
    expect(html.match(/<details class="person filterable"/g)).toHaveLength(4);
    expect(html).toMatch(/<summary>ann@contoso\.com — 2 change\(s\), last updateUser applied/);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('Request_BadRequest: createUser');
    expect(html).toContain('held (threshold): disableUser cy@contoso.com');
  });

  it('says so when the span is empty', () => {
    const empty = renderReportHtml([], [], '');
    expect(empty).toContain('Nothing in this span.');
    expect(empty).toContain('No changes applied in this span.');
  });
});
