/** The Markdown plan under its character budget (issue 21): what stays, what is cut, and how. */
import { describe, expect, it } from 'vitest';
import { aPerson, aSnapshot, aSpec } from '../../test/helpers/builders.js';
import type { Plan, PlanIssue } from '../model/plan.js';
import { DEFAULT_THRESHOLDS } from '../model/spec.js';
import { computePlan } from '../pipeline/plan.js';
import { DEFAULT_MARKDOWN_BUDGET, renderPlanMarkdown } from './markdown.js';

const people = Array.from({ length: 3000 }, (_, i) =>
  aPerson(String(i + 1), `First${i + 1}`, `Last${i + 1}`, { department: 'Navy | <b>' }),
);

/** 3,000 creates; with the default thresholds they are all held (threshold), else they apply. */
async function creates(held: boolean): Promise<Plan> {
  const thresholds = held
    ? DEFAULT_THRESHOLDS
    : { ...DEFAULT_THRESHOLDS, creates: { count: 5000, percent: 100 } };
  return computePlan(aSpec({ safety: { thresholds } }), [aSnapshot(people)], { users: [] });
}

/** Number of `| \`upn\` |` table rows: the changes listed one by one. */
const rows = (md: string) => md.split('\n').filter((l) => /^\| `[^`]+@contoso\.com` \|/.test(l));

/** The count the closing line gives of changes not shown. */
function cutCount(md: string): number {
  const m = /:scissors: \*\*(\d+) more change\(s\)/.exec(md);
  return m ? Number(m[1]) : 0;
}

describe('renderPlanMarkdown under a budget', () => {
  it('3,000 creates stay under the default budget with the summary first, and count what is cut', async () => {
    const plan = await creates(false);
    expect(plan.changes).toHaveLength(3000);
    const md = renderPlanMarkdown(plan);
    expect(md.length).toBeLessThanOrEqual(DEFAULT_MARKDOWN_BUDGET);
    expect(md.indexOf('| Create | 3000 |')).toBeGreaterThan(0);
    expect(md.indexOf('| Create | 3000 |')).toBeLessThan(500);
    const listed = rows(md).length;
    expect(listed).toBeGreaterThan(50);
    // Rows listed, rows counted past the per-section cap, and rows cut: every create once.
    const capped = /\| … \| (\d+) more \|/.exec(md);
    expect(listed + cutCount(md) + (capped ? Number(capped[1]) : 0)).toBe(3000);
    expect(md).toContain('not shown** (this text is kept under its size limit)');
    expect(md).toContain('see the full plan (`entrasync show plan.json`)');
    // The collapsed section is still closed after the last row that fit.
    expect(md.split('<details>').length).toBe(md.split('</details>').length);
    expect(md).toContain('Navy \\| &lt;b&gt;');
  });

  it('keeps the budget it is given, and cuts nothing when everything fits', async () => {
    const plan = await creates(false);
    for (const budget of [5_000, 20_000]) {
      const md = renderPlanMarkdown(plan, { budget });
      expect(md.length, String(budget)).toBeLessThanOrEqual(budget);
      expect(md).toContain('| Create | 3000 |');
    }
    expect(rows(renderPlanMarkdown(plan, { budget: 5_000 })).length).toBeLessThan(
      rows(renderPlanMarkdown(plan, { budget: 20_000 })).length,
    );
    const small = { ...plan, changes: plan.changes.slice(0, 3) };
    expect(renderPlanMarkdown(small)).not.toContain(':scissors:');
    expect(rows(renderPlanMarkdown(small))).toHaveLength(3);
  });

  it("a failed source's cause, and the held reasons, come first, whatever the plan's size", async () => {
    const held = await creates(true);
    expect(held.blocked).toHaveLength(3000);
    const recordProblems: PlanIssue[] = Array.from({ length: 2000 }, (_, i) => ({
      severity: 'error',
      code: 'record.invalid',
      message: `record ${i} has no usable key <x>`,
      source: 'hr',
      location: { file: 'hr.csv', line: i + 2 },
    }));
    const plan: Plan = {
      ...held,
      sources: [
        ...held.sources,
        { name: 'ad', kind: 'ldap', status: 'failed', records: 0, errors: 1, warnings: 0 },
      ],
      issues: [
        ...recordProblems,
        {
          severity: 'error',
          code: 'source.unreachable',
          message: 'ldaps://dc1.contoso.com:636: connect ECONNREFUSED | retry <later>',
          source: 'ad',
        },
      ],
    };
    const md = renderPlanMarkdown(plan);
    expect(md.length).toBeLessThanOrEqual(DEFAULT_MARKDOWN_BUDGET);
    const cause = md.indexOf(
      '`source.unreachable`: ldaps://dc1.contoso.com:636: connect ECONNREFUSED \\| retry &lt;later&gt;',
    );
    expect(cause).toBeGreaterThan(0);
    expect(cause).toBeLessThan(1500);
    expect(md.indexOf('#### :x: Source `ad` failed')).toBeLessThan(cause);
    // The held reasons follow, above every list of rows.
    const reasons = md.indexOf('#### Held');
    expect(reasons).toBeGreaterThan(cause);
    expect(md).toContain('Held: 3000 threshold;');
    expect(md.indexOf('<details>')).toBeGreaterThan(reasons);
    expect(md).toMatch(/\n- blocked: .*\(3000 change\(s\)\)\n/);
    // Record problems of a complete source stay in the collapsed section, budgeted.
    expect(md).toContain('<details><summary>Problems (2000) and warnings (2)</summary>');
    expect(md).toContain('`record.invalid` at `hr.csv:2`: record 0 has no usable key &lt;x&gt;');
  });

  it('lists the problems of an incomplete source at the top, errors first, ten at most', async () => {
    const plan = await creates(false);
    const issues: PlanIssue[] = [
      { severity: 'warning', code: 'source.limit', message: 'size limit reached', source: 'hr' },
      ...Array.from({ length: 12 }, (_, i) => ({
        severity: 'error' as const,
        code: 'source.referral',
        message: `referral ${i} not followed`,
        source: 'hr',
      })),
    ];
    const incomplete: Plan = {
      ...plan,
      sources: plan.sources.map((s) => ({ ...s, status: 'incomplete' as const })),
      issues,
    };
    const md = renderPlanMarkdown(incomplete);
    const top = md.slice(0, md.indexOf('<details>'));
    expect(top).toContain('#### :warning: Source `hr` incomplete');
    expect(top).toContain('referral 9 not followed');
    expect(top).not.toContain('referral 10 not followed');
    expect(top).toContain('- … and 3 more: see the full plan');
    expect(md).toContain('referral 10 not followed');
  });
});
