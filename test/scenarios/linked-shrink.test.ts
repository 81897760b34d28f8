/**
 * S17 end to end through the `entrasync` command, the real CSV source and the embedded simulator:
 * the quickstart with office locations coming from a second, linked CSV export. When that export
 * arrives with its header and no rows (Success, 0 records), the plan must not write `null` over
 * everyone's officeLocation; the people it has no record for are held, deprovisioning is blocked
 * and the plan exits 3.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { Plan } from '../../engine/model/plan.js';
import { cli } from '../helpers/cli.js';
import { exampleWorkspace, removeWorkspaces } from '../helpers/workspace.js';

afterAll(removeWorkspaces);

let work: string;
let config: string;
beforeEach(() => {
  ({ work, config } = exampleWorkspace('quickstart', 'entrasync-linked-'));
  // offices.csv: employee_id,office from the HR export; officeLocation now comes from it.
  const rows = readFileSync(join(work, 'employees.csv'), 'utf8').trim().split('\n').slice(1);
  const offices = rows.map((r) => {
    const cells = r.split(',');
    return `${cells[0]},${cells[5]}`;
  });
  writeFileSync(join(work, 'offices.csv'), ['employee_id,office', ...offices, ''].join('\n'));
  const doc = parseDocument(readFileSync(config, 'utf8'));
  doc.setIn(['sources', 'offices'], { kind: 'csv', path: 'offices.csv', key: 'employee_id' });
  doc.setIn(['join'], {
    primary: 'hr',
    link: { offices: { key: 'employee_id', equals: 'employee_id' } },
  });
  doc.setIn(['users', 'attributes', 'officeLocation'], '$offices.office');
  writeFileSync(config, doc.toString());
});

/** Every attribute write a plan holds, planned or blocked, as `upn attribute: before -> after`. */
function clears(plan: Plan): string[] {
  return [...plan.changes, ...plan.blocked.map((b) => b.change)].flatMap((c) =>
    c.kind === 'updateUser' || c.kind === 'adoptUser'
      ? c.set
          .filter((a) => a.after === null || a.after === '')
          .map((a) => `${c.user.userPrincipalName} ${a.attribute}: ${String(a.before)} -> null`)
      : [],
  );
}

describe('a linked source that answers with 0 records (S17)', () => {
  it('S17: plan exits 3, writes no officeLocation -> null, holds everyone and blocks the disable', async () => {
    expect((await cli('apply', '--auto-approve', '--config', config)).code).toBe(0);
    const settled = await cli('plan', '--config', config);
    expect(settled.code).toBe(0);

    // The office export arrives empty, and one person left HR the same day.
    writeFileSync(join(work, 'offices.csv'), 'employee_id,office\n');
    const hr = readFileSync(join(work, 'employees.csv'), 'utf8').split('\n');
    writeFileSync(join(work, 'employees.csv'), [hr[0], ...hr.slice(2)].join('\n'));

    const json = await cli('plan', '--config', config, '--format', 'json');
    expect(json.code).toBe(3);
    const plan = JSON.parse(json.stdout) as Plan;
    expect(clears(plan)).toEqual([]);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => `${b.change.kind} ${b.code}`)).toEqual([
      'disableUser source-unhealthy',
    ]);
    expect(plan.blocked[0]?.message).toContain('linked source "offices" has records for 0 of the');

    const text = await cli('plan', '--config', config);
    expect(text.code).toBe(3);
    expect(text.stdout).not.toMatch(/officeLocation.*-> (null|\(none\))/);
  });
});
