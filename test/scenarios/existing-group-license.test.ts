/**
 * Licenses assigned to an existing, unmanaged group named by id (issue 26; Okta licenses
 * Microsoft 365 through groups the directory already has), through the CLI runtime against the
 * simulator (the real Graph SDK over HTTPS). The group gets the SKU with its disabled plans, its
 * members inherit it, and neither its members nor its other licenses are touched; the seat check
 * counts the group's members who would take a seat and holds a group too large for the seats
 * left (`license-shortfall`); an id the tenant does not have is a plan error; `when` beside
 * `group` is a config error. Every applied step re-plans to nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionsOfConfig } from '../../cli/commands/doctor-checks.js';
import { openRuntime } from '../../cli/runtime.js';
import { loadConfig } from '../../config/load.js';
import { applyRun, planRun } from '../../engine/index.js';
import { ConfigError } from '../../engine/errors.js';
import type { Plan } from '../../engine/model/plan.js';
import { tenantReadRequest } from '../../engine/pipeline/plan.js';
import { Redactor } from '../../engine/secret.js';
import { openTenantStore } from '../../simulator/index.js';

const work = mkdtempSync(join(tmpdir(), 'entrasync-group-license-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const config = join(work, 'entrasync.yaml');
const db = join(work, '.entrasync', 'tenant.db');

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const SALES = '5a1e5000-0000-4000-8000-000000000001';
const SUPPORT = '5a1e5000-0000-4000-8000-000000000002';
const person = (n: string) => ({
  userPrincipalName: `${n}@contoso.com`,
  displayName: n,
  mailNickname: n,
  accountEnabled: true,
  usageLocation: 'GB',
});
const group = (id: string, name: string, members: string[]) => ({
  id,
  displayName: name,
  mailEnabled: false,
  mailNickname: name.toLowerCase(),
  securityEnabled: true,
  members: members.map((m) => `${m}@contoso.com`),
});
writeFileSync(
  join(work, 'tenant.json'),
  JSON.stringify({
    users: ['s1', 's2', 's3', 'h1', 'h2', 'h3', 'h4'].map(person),
    groups: [
      group(SALES, 'Sales', ['s1', 's2', 's3']),
      group(SUPPORT, 'Support', ['h1', 'h2', 'h3', 'h4']),
    ],
    subscribedSkus: [
      {
        skuId: E3,
        skuPartNumber: 'SPE_E3',
        prepaidUnits: { enabled: 5 },
        servicePlans: [
          {
            servicePlanId: '7547a3fe-08ee-4ccb-b430-5077c5041653',
            servicePlanName: 'YAMMER_ENTERPRISE',
          },
        ],
      },
    ],
  }),
);
writeFileSync(join(work, 'hr.csv'), 'id,first\n1,newhire\n');

function writeConfig(licenses: string): void {
  writeFileSync(
    config,
    `version: 1
target:
  auth:
    method: simulator
  simulator:
    state: .entrasync/tenant.db
    seed: tenant.json
sources:
  hr:
    kind: csv
    path: hr.csv
    key: id
users:
  anchor: id
  attributes:
    userPrincipalName: "first & '@contoso.com'"
    displayName: first
    usageLocation: "'GB'"
licenses:
${licenses}`,
  );
}

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

async function apply(): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  try {
    const first = await planRun(runtime.loaded.spec, {
      sources: runtime.sources,
      target: runtime.target.reader,
    });
    const report = await applyRun(first, runtime.loaded.spec, {
      target: runtime.target.reader,
      writer: runtime.target.writer,
    });
    expect(report.ops.filter((op) => op.outcome !== 'applied' && op.outcome !== 'skipped')).toEqual(
      [],
    );
    return first;
  } finally {
    await runtime.close();
  }
}

function groupState(id: string): { licenses: unknown; members: string[]; licensed: string[] } {
  const store = openTenantStore(db);
  try {
    const g = store.getObject(id);
    const members = store
      .pageLinks('member', id, 0, 100)
      .map((l) => store.getObject(l.targetId)?.doc as Record<string, unknown>);
    return {
      licenses: g?.doc['assignedLicenses'],
      members: members.map((m) => String(m['userPrincipalName'])).sort(),
      licensed: members
        .filter((m) => Array.isArray(m['assignedLicenses']) && m['assignedLicenses'].length > 0)
        .map((m) => String(m['userPrincipalName']))
        .sort(),
    };
  } finally {
    store.close();
  }
}

describe('licenses on an existing group named by id, against the simulator', () => {
  it('GL1: the existing group gets the SKU (disabled plans kept); its members inherit it and are not touched; re-plan empty', async () => {
    writeConfig(`  - sku: SPE_E3\n    group: ${SALES}\n    disabledPlans: [YAMMER_ENTERPRISE]\n`);
    const first = await apply();
    const grants = first.changes.filter((c) => c.kind === 'assignGroupLicenses');
    expect(grants).toMatchObject([
      {
        id: `assignGroupLicenses:id:${SALES}`,
        group: { id: SALES, displayName: 'Sales' },
        licenses: [{ skuPartNumber: 'SPE_E3', disabledPlans: ['YAMMER_ENTERPRISE'] }],
        rule: 'licenses[0]',
      },
    ]);
    expect(
      first.changes.filter((c) => c.kind === 'addMembers' || c.kind === 'createGroup'),
    ).toEqual([]);
    expect(first.licenses).toMatchObject([{ skuPartNumber: 'SPE_E3', seats: 5, consumed: 0 }]);
    expect(groupState(SALES)).toMatchObject({
      licenses: [{ skuId: E3, disabledPlans: ['7547a3fe-08ee-4ccb-b430-5077c5041653'] }],
      members: ['s1@contoso.com', 's2@contoso.com', 's3@contoso.com'],
      licensed: ['s1@contoso.com', 's2@contoso.com', 's3@contoso.com'],
    });
    const again = await plan();
    expect(again.changes.map((c) => c.id)).toEqual([]);
  });

  it('GL2: a second group with more members than the seats left is held by the seat check; the first keeps its license', async () => {
    writeConfig(
      `  - sku: SPE_E3\n    group: ${SALES}\n    disabledPlans: [YAMMER_ENTERPRISE]\n  - sku: SPE_E3\n    group: ${SUPPORT}\n`,
    );
    const held = await plan();
    expect(held.changes.map((c) => c.id)).toEqual([]);
    expect(held.blocked.map((b) => [b.change.id, b.code])).toEqual([
      [`assignGroupLicenses:id:${SUPPORT}`, 'license-shortfall'],
    ]);
    await apply();
    expect(groupState(SUPPORT)).toMatchObject({ licensed: [] });
    expect(groupState(SALES).licensed).toHaveLength(3);
  });

  it('GL3: an id the tenant does not have is a plan error; `when` beside `group` is a config error; doctor names the permission', async () => {
    writeConfig(`  - sku: SPE_E3\n    group: 00000000-0000-4000-8000-00000000dead\n`);
    const missing = await plan();
    expect(missing.issues.map((i) => [i.severity, i.code])).toContainEqual([
      'error',
      'license.unknown-group',
    ]);
    const runtime = await openRuntime(config, new Redactor());
    const spec = runtime.loaded.spec;
    await runtime.close();
    const actions = actionsOfConfig(spec, tenantReadRequest(spec));
    expect([actions.has('assign group licenses'), actions.has('create groups')]).toEqual([
      true,
      false,
    ]);

    writeConfig(`  - sku: SPE_E3\n    group: ${SALES}\n    when: "first = 'x'"\n`);
    const error = await loadConfig(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).diagnostics.map((d) => d.code)).toEqual(['config.license-group']);
  });
});
