/**
 * Benchmark (issue 27): the HTML plan and report, rendered from plain data. Prints the page size
 * and the median render time of 5 renders; asserts nothing. `npm run bench -- html`.
 *
 * Workloads: the plan of 3,000 new people (3,000 creates, engine builders, no tenant), the same
 * as the markdown budget test uses, and a report of 30 days x 1,000 applied changes over 3,000
 * people. The pages are written to $TMPDIR/entrasync-bench-html/ to be opened in a browser.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_THRESHOLDS } from '../engine/model/spec.js';
import { computePlan } from '../engine/pipeline/plan.js';
import { renderPlanHtml } from '../engine/render/html.js';
import { renderPlanMarkdown } from '../engine/render/markdown.js';
import type { ReportHtmlEvent, ReportHtmlRun } from '../engine/render/report-html.js';
import { renderReportHtml } from '../engine/render/report-html.js';
import { aPerson, aSnapshot, aSpec } from '../test/helpers/builders.js';

const out = join(tmpdir(), 'entrasync-bench-html');
mkdirSync(out, { recursive: true });

function time(render: () => string): { ms: number; bytes: number; page: string } {
  const samples: number[] = [];
  let page = '';
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    page = render();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[2]!, bytes: Buffer.byteLength(page), page };
}

const people = Array.from({ length: 3000 }, (_, i) =>
  aPerson(String(i + 1), `First${i + 1}`, `Last${i + 1}`, {
    department: ['Sales', 'Engineering', 'Finance', 'Marketing'][i % 4]!,
  }),
);
const thresholds = { ...DEFAULT_THRESHOLDS, creates: { count: 5000, percent: 100 } };
const plan = await computePlan(aSpec({ safety: { thresholds } }), [aSnapshot(people)], {
  users: [],
});

const html = time(() => renderPlanHtml(plan));
const markdown = time(() => renderPlanMarkdown(plan));
writeFileSync(join(out, 'plan-3000.html'), html.page);

const day0 = Date.parse('2026-11-01T08:00:00Z');
const events: ReportHtmlEvent[] = [];
const runs: ReportHtmlRun[] = [];
for (let d = 0; d < 30; d++) {
  const at = day0 + d * 86_400_000;
  runs.push({
    id: `run-${d}`,
    startedAt: at,
    finishedAt: at + 20_000 + (d % 7) * 3_000,
    mode: 'apply',
    outcome: 'applied',
    changes: 1000,
    applied: 1000,
    failed: 0,
    blocked: 0,
  });
  for (let i = 0; i < 1000; i++) {
    const who = (d * 1000 + i) % 3000;
    events.push({
      time: new Date(at + i * 10).toISOString(),
      runId: `run-${d}`,
      action: ['createUser', 'updateUser', 'disableUser'][i % 3]!,
      outcome: i % 97 === 0 ? 'failed' : 'applied',
      userPrincipalName: `first${who}.last${who}@contoso.com`,
      people: [`hr:${who}`],
      message: `change ${i}`,
      errorCode: i % 97 === 0 ? 'Request_BadRequest' : null,
      blockedCode: null,
    });
  }
}
const report = time(() => renderReportHtml(events, runs, 'last 30 days'));
writeFileSync(join(out, 'report-30d.html'), report.page);

const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
console.log(
  `plan, 3,000 creates:   HTML ${kb(html.bytes)} (${html.bytes} bytes) in ${html.ms.toFixed(0)} ms; markdown ${kb(markdown.bytes)} in ${markdown.ms.toFixed(0)} ms (median of 5)`,
);
console.log(
  `report, 30,000 changes: HTML ${kb(report.bytes)} (${report.bytes} bytes) in ${report.ms.toFixed(0)} ms (median of 5)`,
);
console.log(`pages: ${out}`);
