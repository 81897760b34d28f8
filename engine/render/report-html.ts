/**
 * The provisioning report as one self-contained HTML page (`report -f html`): changes applied
 * per day by action as a stacked bar chart, failed and held changes per day, the slowest runs,
 * and every person's timeline, opened by a click on their name; a filter box narrows the people.
 * Charts are inline SVG drawn here (no chart library: nothing may load at view time, and two bar
 * charts do not need one). Same shell and escaping as the HTML plan (html-page.ts).
 *
 * Input is plain data (the history's rows as `report` reads them), so this stays pure.
 */
import { escapeHtml, filterBox, htmlPage } from './html-page.js';

export interface ReportHtmlEvent {
  /** ISO 8601 time of the change's outcome. */
  readonly time: string;
  readonly runId: string;
  readonly action: string;
  /** planned, blocked, applied, failed, skipped, not-run. */
  readonly outcome: string;
  readonly userPrincipalName: string;
  readonly people: readonly string[];
  readonly message: string;
  readonly errorCode: string | null;
  readonly blockedCode: string | null;
}

export interface ReportHtmlRun {
  readonly id: string;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly mode: string;
  readonly outcome: string | null;
  readonly changes: number;
  readonly applied: number;
  readonly failed: number;
  readonly blocked: number;
}

const e = escapeHtml;
/** Colour-blind-safe palette (Okabe–Ito), then greys. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442'];
const SLOWEST = 10;

export function renderReportHtml(
  events: readonly ReportHtmlEvent[],
  runs: readonly ReportHtmlRun[],
  scope: string,
): string {
  const applied = events.filter((ev) => ev.outcome === 'applied');
  const actions = [...new Set(applied.map((ev) => ev.action))].sort();
  const people = timelines(events);
  const body = [
    `<header><h1>entrasync provisioning report</h1><p>${e(scope || 'everything in the history')}: ${events.length} change(s) in ${runs.length} run(s)</p></header>`,
    countsTable(events),
    '<section class="panel" id="applied-chart"><h2>Changes applied per day, by action</h2>',
    stackedBars(
      perDay(applied, (ev) => ev.action, events),
      actions,
      'changes applied',
    ),
    '</section>',
    '<section class="panel" id="problems-chart"><h2>Failed and held changes per day</h2>',
    stackedBars(
      perDay(
        events.filter((ev) => ev.outcome === 'failed' || ev.outcome === 'blocked'),
        (ev) => (ev.outcome === 'failed' ? 'failed' : 'held'),
        events,
      ),
      ['failed', 'held'],
      'failed or held changes',
    ),
    '</section>',
    slowestRuns(runs),
    `<section class="filter-group" id="people"><h2>People (<span class="count">${people.length}</span>)</h2>`,
    filterBox(people.length, 'people', 'person, UPN, action, outcome, error code, run'),
    people.map(personTimeline).join('\n'),
    '</section>',
  ].join('\n');
  return htmlPage('entrasync provisioning report', body);
}

function countsTable(events: readonly ReportHtmlEvent[]): string {
  const counts = new Map<string, number>();
  for (const ev of events) counts.set(ev.outcome, (counts.get(ev.outcome) ?? 0) + 1);
  if (counts.size === 0) return '<p>Nothing in this span.</p>';
  const rows = [...counts].map(([k, n]) => `<tr><td>${e(k)}</td><td class="n">${n}</td></tr>`);
  return `<table class="counts" id="counts"><thead><tr><th>outcome</th><th>changes</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/**
 * Counts per UTC day and series, over every day from the first to the last of `span` (all the
 * report's events, so both charts share one axis).
 */
function perDay(
  events: readonly ReportHtmlEvent[],
  seriesOf: (ev: ReportHtmlEvent) => string,
  span: readonly ReportHtmlEvent[],
): { day: string; counts: Map<string, number> }[] {
  const byDay = new Map<string, Map<string, number>>();
  for (const ev of events) {
    const day = ev.time.slice(0, 10);
    const counts = byDay.get(day) ?? new Map<string, number>();
    counts.set(seriesOf(ev), (counts.get(seriesOf(ev)) ?? 0) + 1);
    byDay.set(day, counts);
  }
  const days = span.map((ev) => ev.time.slice(0, 10)).sort();
  if (byDay.size === 0 || days.length === 0) return [];
  const out: { day: string; counts: Map<string, number> }[] = [];
  for (let t = Date.parse(days[0]!); t <= Date.parse(days.at(-1)!); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ day, counts: byDay.get(day) ?? new Map() });
  }
  return out;
}

/** A stacked bar per day; the SVG carries a title per bar and a plain table underneath. */
function stackedBars(
  days: readonly { day: string; counts: Map<string, number> }[],
  series: readonly string[],
  what: string,
): string {
  if (days.length === 0) return `<p>No ${e(what)} in this span.</p>`;
  const colour = (s: string) => PALETTE[series.indexOf(s) % PALETTE.length]!;
  const max = Math.max(1, ...days.map((d) => [...d.counts.values()].reduce((a, b) => a + b, 0)));
  const height = 160;
  const barWidth = Math.max(4, Math.min(28, Math.floor(720 / days.length) - 2));
  const width = Math.max(240, 40 + days.length * (barWidth + 2));
  const bars = days.map((d, i) => {
    let y = height;
    const x = 40 + i * (barWidth + 2);
    const parts = series
      .filter((s) => (d.counts.get(s) ?? 0) > 0)
      .map((s) => {
        const n = d.counts.get(s)!;
        const h = Math.max(1, Math.round((n / max) * height));
        y -= h;
        return `<rect x="${x}" y="${y}" width="${barWidth}" height="${h}" fill="${colour(s)}"><title>${e(`${d.day}: ${n} ${s}`)}</title></rect>`;
      });
    return parts.join('');
  });
  const axis = `<text x="0" y="10">${max}</text><text x="0" y="${height}">0</text><line x1="38" y1="0" x2="38" y2="${height}" stroke="#999"/>`;
  const ends = days.length === 1 ? [days[0]!] : [days[0]!, days.at(-1)!];
  const labels = ends.map(
    (d, i) => `<text x="${i === 0 ? 40 : width - 70}" y="${height + 14}">${e(d.day)}</text>`,
  );
  const legend = series
    .map((s) => `<span><i style="background:${colour(s)}"></i>${e(s)}</span>`)
    .join('');
  const table = days
    .filter((d) => d.counts.size > 0)
    .map(
      (d) =>
        `<tr><td>${e(d.day)}</td>${series.map((s) => `<td class="n">${d.counts.get(s) ?? 0}</td>`).join('')}</tr>`,
    );
  return [
    `<svg class="chart" role="img" aria-label="${e(what)} per day" viewBox="0 0 ${width} ${height + 18}" width="${width}" height="${height + 18}">${axis}${bars.join('')}${labels.join('')}</svg>`,
    `<p class="legend">${legend}</p>`,
    `<details><summary>as a table</summary><table><thead><tr><th>day</th>${series.map((s) => `<th>${e(s)}</th>`).join('')}</tr></thead><tbody>${table.join('')}</tbody></table></details>`,
  ].join('');
}

function slowestRuns(runs: readonly ReportHtmlRun[]): string {
  const finished = runs
    .filter((r) => r.finishedAt !== null)
    .map((r) => ({ ...r, seconds: (r.finishedAt! - r.startedAt) / 1000 }))
    .sort((a, b) => b.seconds - a.seconds || a.id.localeCompare(b.id))
    .slice(0, SLOWEST);
  if (finished.length === 0) return '';
  const rows = finished.map(
    (r) =>
      `<tr><td>${e(r.id)}</td><td>${e(new Date(r.startedAt).toISOString())}</td><td>${e(r.mode)}</td><td>${e(r.outcome ?? 'interrupted')}</td><td class="n">${r.seconds.toFixed(1)}</td><td class="n">${r.changes}</td><td class="n">${r.applied}</td><td class="n">${r.failed}</td><td class="n">${r.blocked}</td></tr>`,
  );
  return `<section class="panel" id="slowest"><h2>Slowest runs</h2><table><thead><tr><th>run</th><th>started</th><th>mode</th><th>outcome</th><th>seconds</th><th>changes</th><th>applied</th><th>failed</th><th>held</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

interface Timeline {
  readonly upn: string;
  readonly events: readonly ReportHtmlEvent[];
}

/** One timeline per person (by UPN), the most recently changed first; events oldest first. */
function timelines(events: readonly ReportHtmlEvent[]): Timeline[] {
  const byUpn = new Map<string, ReportHtmlEvent[]>();
  for (const ev of events) {
    const list = byUpn.get(ev.userPrincipalName) ?? [];
    list.push(ev);
    byUpn.set(ev.userPrincipalName, list);
  }
  return [...byUpn]
    .map(([upn, list]) => ({ upn, events: [...list].sort((a, b) => a.time.localeCompare(b.time)) }))
    .sort(
      (a, b) =>
        b.events.at(-1)!.time.localeCompare(a.events.at(-1)!.time) || a.upn.localeCompare(b.upn),
    );
}

function personTimeline(t: Timeline): string {
  const last = t.events.at(-1)!;
  const search = [
    t.upn,
    ...t.events.flatMap((ev) => [
      ev.action,
      ev.outcome,
      ev.errorCode ?? '',
      ev.runId,
      ...ev.people,
    ]),
  ]
    .join(' ')
    .toLowerCase();
  const rows = t.events.map(
    (ev) =>
      `<tr><td>${e(ev.time.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'))}</td><td>${e(ev.action)}</td><td>${e(ev.outcome)}</td><td>${e(detail(ev))}</td><td>${e(ev.runId)}</td></tr>`,
  );
  return `<details class="person filterable" data-search="${e(search)}"><summary>${e(t.upn)} — ${t.events.length} change(s), last ${e(last.action)} ${e(last.outcome)} ${e(last.time.slice(0, 10))}</summary><table><thead><tr><th>time</th><th>action</th><th>outcome</th><th>detail</th><th>run</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

function detail(ev: ReportHtmlEvent): string {
  if (ev.errorCode) return `${ev.errorCode}: ${ev.message}`;
  if (ev.outcome === 'blocked') return `held (${ev.blockedCode ?? 'safety'}): ${ev.message}`;
  return ev.message;
}
