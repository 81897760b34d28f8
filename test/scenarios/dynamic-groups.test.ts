/**
 * Dynamic groups created and kept from config (issue 26), through the CLI runtime against the
 * simulator (the real Graph SDK over HTTPS): a rule with `membershipRule` is created with
 * `groupTypes` `DynamicMembership`, its rule and processing state, and entrasync never plans a
 * member of it; a changed rule or state is written; a static managed group given a rule becomes
 * dynamic without a member removal; every step re-plans to nothing. The config refuses a dynamic
 * rule that also picks members, and the simulator refuses a rule Graph would not parse and
 * member writes to a dynamic group.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../../cli/runtime.js';
import { loadConfig } from '../../config/load.js';
import { applyRun, planRun } from '../../engine/index.js';
import { ConfigError } from '../../engine/errors.js';
import type { Plan } from '../../engine/model/plan.js';
import { Redactor } from '../../engine/secret.js';
import { openTenantStore } from '../../simulator/index.js';

const work = mkdtempSync(join(tmpdir(), 'entrasync-dynamic-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const config = join(work, 'entrasync.yaml');
const db = join(work, '.entrasync', 'tenant.db');

const HEAD = `version: 1
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
    userPrincipalName: "$lowercase(first) & '@contoso.com'"
    displayName: "first & ' ' & last"
    department: department
groups:
`;
const SALES = `  - name: Sales team
    key: sales
    membershipRule: '(user.department -eq "Sales") and (user.accountEnabled -eq true)'
`;
writeFileSync(
  join(work, 'hr.csv'),
  'id,first,last,department\n1,Ada,Lovelace,Sales\n2,Alan,Turing,Ops\n',
);

async function apply(): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  try {
    const plan = await planRun(runtime.loaded.spec, {
      sources: runtime.sources,
      target: runtime.target.reader,
    });
    expect(plan.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(plan.blocked).toEqual([]);
    const report = await applyRun(plan, runtime.loaded.spec, {
      target: runtime.target.reader,
      writer: runtime.target.writer,
    });
    expect(report.ops.filter((op) => op.outcome !== 'applied')).toEqual([]);
    return plan;
  } finally {
    await runtime.close();
  }
}

async function expectEmptyReplan(): Promise<void> {
  const runtime = await openRuntime(config, new Redactor());
  try {
    const again = await planRun(runtime.loaded.spec, {
      sources: runtime.sources,
      target: runtime.target.reader,
    });
    expect(again.changes.map((c) => c.id)).toEqual([]);
  } finally {
    await runtime.close();
  }
}

function tenantGroup(uniqueName: string): Record<string, unknown> & { members: number } {
  const store = openTenantStore(db);
  try {
    const group = store.getGroupByUniqueName(uniqueName);
    if (!group) throw new Error(`no group ${uniqueName}`);
    const members = store.pageLinks('member', group.doc.id, 0, 100).length;
    return { ...group.doc, members };
  } finally {
    store.close();
  }
}

describe('dynamic groups against the simulator', () => {
  it('DG1: a membershipRule makes a dynamic group, created with its rule; no member is planned; re-plan empty', async () => {
    writeFileSync(config, HEAD + SALES);
    const first = await apply();
    const create = first.changes.find((c) => c.kind === 'createGroup');
    expect(create).toMatchObject({
      properties: {
        groupTypes: ['DynamicMembership'],
        membershipRule: '(user.department -eq "Sales") and (user.accountEnabled -eq true)',
        membershipRuleProcessingState: 'On',
      },
    });
    expect(first.changes.filter((c) => c.kind === 'addMembers')).toEqual([]);
    expect(tenantGroup('entrasync-sales')).toMatchObject({
      groupTypes: ['DynamicMembership'],
      membershipRule: '(user.department -eq "Sales") and (user.accountEnabled -eq true)',
      membershipRuleProcessingState: 'On',
      members: 0,
    });
    await expectEmptyReplan();
  });

  it('DG2: a changed rule and a paused state are written to the group; re-plan empty', async () => {
    writeFileSync(
      config,
      HEAD +
        SALES.replace('"Sales"', '"Sales EMEA"') +
        '    membershipRuleProcessingState: Paused\n',
    );
    const changed = await apply();
    expect(
      changed.changes.map((c) =>
        c.kind === 'updateGroup' ? c.set.map((s) => s.attribute) : c.kind,
      ),
    ).toEqual([['membershipRule', 'membershipRuleProcessingState']]);
    expect(tenantGroup('entrasync-sales')).toMatchObject({
      membershipRule: '(user.department -eq "Sales EMEA") and (user.accountEnabled -eq true)',
      membershipRuleProcessingState: 'Paused',
    });
    await expectEmptyReplan();
  });

  it('DG3: a static managed group given a rule becomes dynamic, with no member removal', async () => {
    writeFileSync(
      config,
      HEAD + SALES + '  - name: Ops team\n    key: ops\n    members: "department = \'Ops\'"\n',
    );
    await apply();
    expect(tenantGroup('entrasync-ops')).toMatchObject({ groupTypes: [], members: 1 });
    writeFileSync(
      config,
      HEAD +
        SALES +
        '  - name: Ops team\n    key: ops\n    membershipRule: \'user.department -eq "Ops"\'\n',
    );
    const converted = await apply();
    expect(converted.changes.map((c) => c.kind)).toEqual(['updateGroup']);
    expect(tenantGroup('entrasync-ops')).toMatchObject({
      groupTypes: ['DynamicMembership'],
      membershipRule: 'user.department -eq "Ops"',
      membershipRuleProcessingState: 'On',
    });
    await expectEmptyReplan();
  });

  it('DG4: a dynamic rule that also picks members is a config error at its line', async () => {
    writeFileSync(config, HEAD + SALES + '    members: "department = \'Sales\'"\n');
    const error = await loadConfig(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(
      (error as ConfigError).diagnostics.map((d) => [d.code, d.message, d.position?.line]),
    ).toEqual([
      [
        'config.dynamic-group',
        '`groups[0]` is a dynamic group (`membershipRule`): it cannot have `members` (Entra computes its members from the rule)',
        22,
      ],
    ]);
  });
});
