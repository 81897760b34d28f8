/**
 * Nested groups (issue 8) end to end, through the real CLI runtime against the simulator (the
 * real Graph SDK over HTTPS): a static group of division groups, each division group holding the
 * department groups of its people (from the HR columns), all created in one run, the nested ones
 * bound by the ids their creates returned. Plan -> apply -> re-plan to nothing; then HR moves a
 * department to another division: it joins the new division group, leaves the old one
 * (`$ref` delete), and the re-plan is empty again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../../cli/runtime.js';
import { applyRun, planRun } from '../../engine/index.js';
import type { Change, GroupMembersChange, Plan } from '../../engine/model/plan.js';
import { Redactor } from '../../engine/secret.js';
import { openTenantStore } from '../../simulator/index.js';

const work = mkdtempSync(join(tmpdir(), 'entrasync-nested-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const config = join(work, 'entrasync.yaml');
const csv = join(work, 'hr.csv');

writeFileSync(
  config,
  `version: 1
target:
  auth:
    method: simulator
  simulator:
    state: .entrasync/tenant.db
sources:
  hr:
    kind: csv
    path: hr.csv
    key: id
users:
  anchor: id
  attributes:
    userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'"
    displayName: "first & ' ' & last"
    department: department
groups:
  - name: All Divisions
    key: all-divisions
    members: "false"
    memberGroups: [division]
  - name: "'Division - ' & $value"
    key: division
    foreach: division
    members: "false"
    memberGroups: [dept]
  - name: "'Dept - ' & $value"
    key: dept
    foreach: department
`,
);

const HEADER = 'id,first,last,division,department';
const PEOPLE = [
  '1,Ada,Lovelace,Tech,Platform',
  '2,Alan,Turing,Tech,Apps',
  '3,Grace,Hopper,Commercial,Sales',
  '4,Edsger,Dijkstra,Commercial,Marketing',
];
const writeHr = (rows: string[]) => writeFileSync(csv, [HEADER, ...rows].join('\n') + '\n');

async function plan(): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  try {
    return await planRun(runtime.loaded.spec, {
      sources: runtime.sources,
      target: runtime.target.reader,
    });
  } finally {
    await runtime.close();
  }
}

/** Plans, applies (every change must apply) and re-plans to nothing; returns the first plan. */
async function converge(): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  let first: Plan;
  try {
    first = await planRun(runtime.loaded.spec, {
      sources: runtime.sources,
      target: runtime.target.reader,
    });
    expect(first.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(first.blocked.map((b) => `${b.code}: ${b.message}`)).toEqual([]);
    const report = await applyRun(first, runtime.loaded.spec, {
      target: runtime.target.reader,
      writer: runtime.target.writer,
    });
    expect(report.ops.filter((op) => op.outcome !== 'applied')).toEqual([]);
  } finally {
    await runtime.close();
  }
  const again = await plan();
  expect(again.changes.map((c) => c.id)).toEqual([]);
  expect(again.blocked).toEqual([]);
  return first;
}

function nested(changes: readonly Change[]): string[] {
  return changes
    .filter(
      (c): c is GroupMembersChange =>
        (c.kind === 'addMembers' || c.kind === 'removeMembers') &&
        (c.memberGroups?.length ?? 0) > 0,
    )
    .map(
      (c) =>
        `${c.kind} ${c.group.uniqueName}: ${(c.memberGroups ?? []).map((g) => g.uniqueName).join(', ')}`,
    );
}

/** The simulated tenant's nesting: group uniqueName -> uniqueNames of its member groups. */
function tenantNesting(): Record<string, string[]> {
  const store = openTenantStore(join(work, '.entrasync', 'tenant.db'));
  try {
    const out: Record<string, string[]> = {};
    for (const name of [
      'entrasync-all-divisions',
      'entrasync-division-tech',
      'entrasync-division-commercial',
    ]) {
      const group = store.getGroupByUniqueName(name);
      if (!group) continue;
      out[name] = store
        .pageLinks('member', group.doc.id, 0, 100)
        .map((l) => store.getObject(l.targetId))
        .filter((o) => o?.kind === 'group')
        .map((o) => String(o?.doc['uniqueName']))
        .sort();
    }
    return out;
  } finally {
    store.close();
  }
}

describe('nested groups against the simulator', () => {
  it('creates the groups and nests them in one run (new children by their create ids); re-plan is empty', async () => {
    writeHr(PEOPLE);
    const first = await converge();
    expect(first.changes.filter((c) => c.kind === 'createGroup')).toHaveLength(7);
    expect(nested(first.changes)).toEqual([
      'addMembers entrasync-all-divisions: entrasync-division-commercial, entrasync-division-tech',
      'addMembers entrasync-division-commercial: entrasync-dept-marketing, entrasync-dept-sales',
      'addMembers entrasync-division-tech: entrasync-dept-apps, entrasync-dept-platform',
    ]);
    expect(tenantNesting()).toEqual({
      'entrasync-all-divisions': ['entrasync-division-commercial', 'entrasync-division-tech'],
      'entrasync-division-commercial': ['entrasync-dept-marketing', 'entrasync-dept-sales'],
      'entrasync-division-tech': ['entrasync-dept-apps', 'entrasync-dept-platform'],
    });
  });

  it('a department moved to another division leaves the old division group; re-plan is empty', async () => {
    writeHr(PEOPLE.map((row) => row.replace('Commercial,Marketing', 'Tech,Marketing')));
    const moved = await converge();
    expect(nested(moved.changes)).toEqual([
      'addMembers entrasync-division-tech: entrasync-dept-marketing',
      'removeMembers entrasync-division-commercial: entrasync-dept-marketing',
    ]);
    expect(tenantNesting()).toEqual({
      'entrasync-all-divisions': ['entrasync-division-commercial', 'entrasync-division-tech'],
      'entrasync-division-commercial': ['entrasync-dept-sales'],
      'entrasync-division-tech': [
        'entrasync-dept-apps',
        'entrasync-dept-marketing',
        'entrasync-dept-platform',
      ],
    });
  });
});
