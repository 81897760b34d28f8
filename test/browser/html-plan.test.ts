/**
 * The HTML plan in a real browser (issue 27): the quickstart's plan as `entrasync plan -f html`
 * writes it, opened from a file in Debian's headless Chromium. Typing into the filter box leaves
 * exactly the matching rows visible, the page requests nothing but itself, and a hostile display
 * name neither renders markup nor runs script. Screenshots land in test-artifacts/.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPlanHtml } from '../../engine/render/html.js';
import { computePlan } from '../../engine/pipeline/plan.js';
import { DEFAULT_THRESHOLDS } from '../../engine/model/spec.js';
import { aPerson, aSnapshot, aSpec } from '../helpers/builders.js';
import { artifactPath, launchChromium, recordingPage } from '../helpers/browser.js';
import { cli } from '../helpers/cli.js';
import { exampleWorkspace, removeWorkspaces } from '../helpers/workspace.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-html-plan-'));
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
  removeWorkspaces();
});

/** Rows the reader sees: not hidden by the filter, inside a section that is not hidden. */
const visibleRows = (page: Page) =>
  page.$$eval('tr.change', (rows) =>
    rows
      .filter((r) => (r as unknown as { offsetParent: unknown }).offsetParent !== null)
      .map((r) => r.textContent ?? ''),
  );

describe('the HTML plan in Chromium', () => {
  it("V2: the quickstart's plan: the filter narrows the rows, and nothing leaves the page", async () => {
    const { config } = exampleWorkspace('quickstart');
    const file = join(dir, 'quickstart.html');
    const result = await cli('plan', '-c', config, '-f', 'html');
    expect(result.code).toBe(2);
    writeFileSync(file, result.stdout);

    const { page, requests, dialogs } = await recordingPage(browser);
    await page.goto(pathToFileURL(file).href);
    const all = await visibleRows(page);
    expect(all.length).toBeGreaterThan(5);
    expect(await page.textContent('#shown')).toBe(`${all.length} of ${all.length} changes shown`);

    await page.fill('#filter', 'engineering');
    const engineering = await visibleRows(page);
    const expected = await page.$$eval(
      'tr.change',
      (rows) => rows.filter((r) => r.getAttribute('data-search')!.includes('engineering')).length,
    );
    expect(engineering.length).toBe(expected);
    expect(engineering.length).toBeGreaterThan(0);
    expect(engineering.length).toBeLessThan(all.length);
    expect(await page.textContent('#shown')).toBe(`${expected} of ${all.length} changes shown`);
    await page.screenshot({
      path: artifactPath('html-plan-quickstart-filtered.png'),
      fullPage: false,
    });

    await page.fill('#filter', 'create zz-nobody-by-this-name');
    expect(await visibleRows(page)).toEqual([]);
    expect(
      await page.$$eval('section.changes', (s) => s.every((x) => x.classList.contains('hidden'))),
    ).toBe(true);

    await page.fill('#filter', '');
    expect((await visibleRows(page)).length).toBe(all.length);
    await page.click('tr.change >> nth=0 >> summary');
    expect(await page.isVisible('tr.change >> nth=0 >> details li')).toBe(true);
    await page.screenshot({ path: artifactPath('html-plan-quickstart.png'), fullPage: true });

    expect(requests.map((r) => r.url())).toEqual([pathToFileURL(file).href]);
    expect(dialogs).toEqual([]);
    await page.close();

    // Without the script (JavaScript off, as in a terminal browser): plain tables, every row.
    const plain = await browser.newPage({ javaScriptEnabled: false });
    await plain.goto(pathToFileURL(file).href);
    expect((await visibleRows(plain)).length).toBe(all.length);
    await plain.close();
  });

  it('V1: a hostile display name is text: no element, no script, no request', async () => {
    const people = [
      aPerson('1', 'Ann', 'Doe', { department: '<img src=x onerror=alert(1)>' }),
      aPerson('2', 'Bob', 'Roe', {
        department: '<script>alert(2)</script>" onmouseover="alert(3)',
      }),
      // Not a valid UPN: a problem row, shown in the notes, equally escaped.
      aPerson('3', '<img src=y onerror=alert(4)>', 'Poe'),
    ];
    const spec = aSpec({
      safety: { thresholds: { ...DEFAULT_THRESHOLDS, creates: { count: 10, percent: 100 } } },
    });
    const plan = await computePlan(spec, [aSnapshot(people)], { users: [] });
    const file = join(dir, 'hostile.html');
    writeFileSync(file, renderPlanHtml(plan));

    const { page, requests, dialogs } = await recordingPage(browser);
    await page.goto(pathToFileURL(file).href);
    expect(await page.$$('tr.change')).toHaveLength(2);
    expect(await page.textContent('#notes')).toContain('<img src=y onerror=alert(4)>');
    await page.hover('tr.change >> nth=1');
    await page.click('tr.change >> nth=0 >> summary');
    expect(await page.$$('img')).toHaveLength(0);
    expect(await page.$$('script')).toHaveLength(1);
    expect(await page.textContent('body')).toContain('<img src=x onerror=alert(1)>');
    expect(dialogs).toEqual([]);
    expect(requests.map((r) => r.url())).toEqual([pathToFileURL(file).href]);
    await page.close();
  });
});

describe('the HTML report in Chromium', () => {
  it('V3: after two applies: charts drawn, a click opens a timeline, the filter narrows people', async () => {
    const { work, config } = exampleWorkspace('quickstart');
    expect((await cli('apply', '-c', config, '--auto-approve')).code).toBe(0);
    // A second apply: a new hire in the export.
    appendFileSync(
      join(work, 'employees.csv'),
      '1099,Zoe,Quinn,Engineering,Software Engineer,London,GB,active\n',
    );
    expect((await cli('apply', '-c', config, '--auto-approve')).code).toBe(0);
    const report = await cli('report', '-c', config, '-f', 'html');
    expect(report.code).toBe(0);
    const file = join(dir, 'report.html');
    writeFileSync(file, report.stdout);

    const { page, requests, dialogs } = await recordingPage(browser);
    await page.goto(pathToFileURL(file).href);
    expect(await page.$$('#applied-chart svg rect')).not.toHaveLength(0);
    expect(await page.$$('#slowest tbody tr')).toHaveLength(2);
    const people = await page.$$('details.person');
    expect(people.length).toBeGreaterThan(5);

    await page.fill('#filter', 'zoe.quinn');
    const visible = await page.$$eval('details.person', (ds) =>
      ds
        .filter((d) => !d.classList.contains('hidden'))
        .map((d) => d.querySelector('summary')!.textContent),
    );
    expect(visible).toEqual([expect.stringMatching(/^zoe\.quinn@contoso\.com — 1 change/)]);
    expect(await page.isVisible('details.person:not(.hidden) table')).toBe(false);
    await page.click('details.person:not(.hidden) summary');
    expect(await page.isVisible('details.person:not(.hidden) table')).toBe(true);
    expect(await page.textContent('details.person:not(.hidden) table')).toContain('createUser');
    await page.fill('#filter', '');
    await page.screenshot({ path: artifactPath('html-report-quickstart.png'), fullPage: true });

    expect(requests.map((r) => r.url())).toEqual([pathToFileURL(file).href]);
    expect(dialogs).toEqual([]);
    await page.close();
  });
});
