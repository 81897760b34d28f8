/**
 * The HTML plan (issue 27): one self-contained page, every value escaped, the filter script the
 * only thing its Content Security Policy lets run. The page in a real browser (filter, no
 * requests, screenshot) is test/browser/html-plan.test.ts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aPerson, aSnapshot, aSpec } from '../../test/helpers/builders.js';
import type { Plan } from '../model/plan.js';
import { DEFAULT_THRESHOLDS } from '../model/spec.js';
import { computePlan } from '../pipeline/plan.js';
import { renderPlanHtml } from './html.js';
import { escapeHtml } from './html-page.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

async function planOf(count: number, held = false): Promise<Plan> {
  const people = Array.from({ length: count }, (_, i) =>
    aPerson(String(i + 1), `First${i + 1}`, `Last${i + 1}`, {
      department: i === 0 ? HOSTILE : 'Sales "East" & <West>',
    }),
  );
  const thresholds = held
    ? DEFAULT_THRESHOLDS
    : { ...DEFAULT_THRESHOLDS, creates: { count: 100_000, percent: 100 } };
  return computePlan(aSpec({ safety: { thresholds } }), [aSnapshot(people)], { users: [] });
}

describe('renderPlanHtml', () => {
  it('V1: escapes every value: markup in a display name or department stays text', async () => {
    const html = renderPlanHtml(await planOf(3));
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain('Sales \\&quot;East\\&quot; &amp; &lt;West&gt;');
    // The only elements are the page's own: no img, no second script, no external reference.
    expect(html.match(/<img/g)).toBeNull();
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('lets only its own script run: the CSP names the inline script by its hash', async () => {
    const html = renderPlanHtml(await planOf(2));
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
  });

  it('puts the verdict, counts and held reasons first, then changes grouped by action', async () => {
    const held = renderPlanHtml(await planOf(140, true));
    const order = [
      'class="verdict"',
      'id="counts"',
      'id="held-reasons"',
      'id="health"',
      'id="filter"',
    ];
    const at = order.map((marker) => held.indexOf(marker));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(held).toContain('<code>threshold</code> (140)');
    expect(held).toContain('id="held"');

    const applied = renderPlanHtml(await planOf(40));
    expect(applied).toMatch(
      /<section class="changes filter-group" id="kind-createUser"><h2>Create \(<span class="count">40<\/span>\)/,
    );
    expect(applied.match(/<tr class="change filterable"/g)).toHaveLength(40);
    // Each change opens to its values and the record behind it.
    expect(applied).toMatch(/<details><summary>[^<]*first2\.last2@contoso\.com/i);
    expect(applied).toMatch(/<li>source record: hr:2[ (<]/);
    expect(applied).toContain(
      '<output id="shown" for="filter" data-noun="changes">40 of 40 changes shown</output>',
    );
  });

  it('lists write-backs to the sources, held ones with their reason', async () => {
    const plan = await planOf(2);
    const writeback = {
      id: 'writeback:ad:1001',
      source: 'ad',
      record: { key: '1001', dn: 'CN=Ann <Doe>,OU=Staff,DC=contoso,DC=com' },
      user: { id: '11111111-1111-1111-1111-111111111111', userPrincipalName: 'ann@contoso.com' },
      set: [{ field: 'mail', from: 'mail', before: null, after: 'ann@contoso.com' }],
      message: 'write mail back to ad:1001',
    };
    const html = renderPlanHtml({
      ...plan,
      writebacks: {
        changes: [writeback],
        blocked: [
          {
            change: { ...writeback, id: 'writeback:ad:1002' },
            code: 'threshold',
            message: 'too many',
          },
        ],
      },
    });
    expect(html).toMatch(
      /id="writebacks"><h2>Write-back to sources \(<span class="count">2<\/span>\)/,
    );
    expect(html).toContain('CN=Ann &lt;Doe&gt;,OU=Staff,DC=contoso,DC=com');
    expect(html).toContain('<li>mail: (none) → &quot;ann@contoso.com&quot; (from mail)</li>');
    expect(html).toContain('<li>held: threshold: too many</li>');
    expect(html).toContain('4 of 4 changes shown');
  });

  it('is the same bytes for the same plan, and fine for a plan with nothing to do', async () => {
    const plan = await planOf(5);
    expect(renderPlanHtml(plan)).toBe(renderPlanHtml(plan));
    const empty = renderPlanHtml({ ...plan, changes: [] });
    expect(empty).toContain('No changes: the tenant matches the configuration.');
    expect(empty).not.toContain('id="filter"');
  });
});
