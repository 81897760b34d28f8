/**
 * `entrasync show plan.json` through the CLI: a plan saved by `plan --out` (quickstart example,
 * embedded simulator) renders as the plan command renders it, in each format, and the Markdown
 * keeps its budget; a file that is not a plan is an error (exit 1).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPlanJson, renderPlanMarkdown, renderPlanText } from '../../engine/index.js';
import type { Plan } from '../../engine/index.js';
import { cli } from '../../test/helpers/cli.js';
import { exampleWorkspace, removeWorkspaces } from '../../test/helpers/workspace.js';

afterAll(removeWorkspaces);

describe('show', () => {
  it('renders a saved plan as text, JSON and budgeted markdown, as plan does', async () => {
    const { work, config } = exampleWorkspace('quickstart', 'entrasync-show-');
    const planFile = join(work, 'plan.json');
    const planned = await cli('plan', '-c', config, '-f', 'markdown', '--out', planFile);
    expect(planned.code).toBe(2);
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
    expect(plan.changes.length).toBeGreaterThan(0);
    expect(planned.stdout).toBe(renderPlanMarkdown(plan));

    const text = await cli('show', planFile);
    expect(text).toEqual({ code: 0, stdout: renderPlanText(plan), stderr: '' });
    const json = await cli('show', planFile, '-f', 'json');
    expect(json.stdout).toBe(renderPlanJson(plan));
    expect(json.stdout).toBe(readFileSync(planFile, 'utf8'));

    const small = await cli('show', planFile, '--format', 'markdown', '--markdown-budget', '1500');
    expect(small.code).toBe(0);
    expect(small.stdout.length).toBeLessThanOrEqual(1500);
    expect(small.stdout).toBe(renderPlanMarkdown(plan, { budget: 1500 }));
    expect(small.stdout).toMatch(/:scissors: \*\*\d+ more change\(s\)/);
    const budgeted = await cli('plan', '-c', config, '-f', 'markdown', '--markdown-budget', '1500');
    expect(budgeted.stdout).toBe(small.stdout);
  });

  it('refuses a file that is not a plan, and a missing one (exit 1)', async () => {
    const { work } = exampleWorkspace('quickstart', 'entrasync-show-');
    const notAPlan = join(work, 'not-a-plan.json');
    writeFileSync(notAPlan, JSON.stringify({ formatVersion: 99, changes: [] }));
    const wrong = await cli('show', notAPlan);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('is not an entrasync plan of format 1');
    const missing = await cli('show', join(work, 'absent.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read plan .*absent\.json/);
  });
});
