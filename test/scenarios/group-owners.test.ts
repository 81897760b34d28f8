/**
 * Group owners kept in sync after creation (issue 26), through the CLI runtime against the
 * simulator (the real Graph SDK over HTTPS). A group whose owner has no account yet is created
 * without it and gets it once the account exists; a changed `owners` list adds the new owners
 * before it removes the old one; an owner added in the portal is removed; an `owners` list none
 * of whose accounts exists removes nobody (never a group without an owner). Every step re-plans
 * to nothing. The plan names the permission owner changes need (Group.ReadWrite.All).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionsOfConfig } from '../../cli/commands/doctor-checks.js';
import { openRuntime } from '../../cli/runtime.js';
import {
  grantedAccessOf,
  neededActions,
  planAccessWarnings,
} from '../../connectors/entra/permissions.js';
import { applyRun, planRun } from '../../engine/index.js';
import type { Change, GroupOwnersChange, Plan } from '../../engine/model/plan.js';
import { tenantReadRequest } from '../../engine/pipeline/plan.js';
import { Redactor } from '../../engine/secret.js';
import { openTenantStore } from '../../simulator/index.js';

const work = mkdtempSync(join(tmpdir(), 'entrasync-owners-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const config = join(work, 'entrasync.yaml');
const db = join(work, '.entrasync', 'tenant.db');

function writeConfig(owners: readonly string[]): void {
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
    userPrincipalName: "$lowercase(first) & '@contoso.com'"
    displayName: "first & ' ' & last"
groups:
  - name: Team Leads
    key: leads
    owners: [${owners.join(', ')}]
`,
  );
}
writeFileSync(
  join(work, 'hr.csv'),
  'id,first,last\n1,Ada,Lovelace\n2,Alan,Turing\n3,Grace,Hopper\n',
);

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

/** Plans, applies (every change must apply); returns the plan. */
async function apply(): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  try {
    const first = await planRun(runtime.loaded.spec, {
      sources: runtime.sources,
      target: runtime.target.reader,
    });
    expect(first.blocked.map((b) => `${b.code}: ${b.message}`)).toEqual([]);
    const report = await applyRun(first, runtime.loaded.spec, {
      target: runtime.target.reader,
      writer: runtime.target.writer,
    });
    expect(report.ops.filter((op) => op.outcome !== 'applied')).toEqual([]);
    return first;
  } finally {
    await runtime.close();
  }
}

async function expectEmptyReplan(): Promise<void> {
  const again = await plan();
  expect(again.changes.map((c) => c.id)).toEqual([]);
}

function owners(changes: readonly Change[]): string[] {
  return changes
    .filter((c): c is GroupOwnersChange => c.kind === 'addOwners' || c.kind === 'removeOwners')
    .map(
      (c) =>
        `${c.kind} ${c.group.uniqueName}: ${c.owners.map((o) => o.userPrincipalName).join(', ')}${c.requires ? ` (after ${c.requires.join(', ')})` : ''}`,
    );
}

/** The group's owners in the simulated tenant, by UPN. */
function tenantOwners(): string[] {
  const store = openTenantStore(db);
  try {
    const group = store.getGroupByUniqueName('entrasync-leads');
    if (!group) return [];
    return store
      .pageLinks('owner', group.doc.id, 0, 100)
      .map((l) => String(store.getObject(l.targetId)?.doc['userPrincipalName']))
      .sort();
  } finally {
    store.close();
  }
}

describe('group owners kept in sync against the simulator', () => {
  it('GO3: a group created before its owner has an account gets the owner on the next run', async () => {
    writeConfig(['ada@contoso.com']);
    const created = await apply();
    expect(created.warnings.map((w) => w.code)).toContain('group.unknown-owner');
    expect(created.changes.find((c) => c.kind === 'createGroup')).toMatchObject({ owners: [] });
    expect(tenantOwners()).toEqual([]);
    const next = await apply();
    expect(owners(next.changes)).toEqual(['addOwners entrasync-leads: ada@contoso.com']);
    expect(tenantOwners()).toEqual(['ada@contoso.com']);
    await expectEmptyReplan();
  });

  it('GO4: a changed owners list adds the new owners first and removes the old one after them; the plan names Group.ReadWrite.All', async () => {
    writeConfig(['alan@contoso.com', 'grace@contoso.com']);
    const changed = await apply();
    expect(owners(changed.changes)).toEqual([
      'addOwners entrasync-leads: alan@contoso.com, grace@contoso.com',
      'removeOwners entrasync-leads: ada@contoso.com (after addOwners:entrasync-leads)',
    ]);
    const ids = changed.changes.map((c) => c.id);
    expect(ids.indexOf('addOwners:entrasync-leads')).toBeLessThan(
      ids.indexOf('removeOwners:entrasync-leads'),
    );
    expect(tenantOwners()).toEqual(['alan@contoso.com', 'grace@contoso.com']);
    await expectEmptyReplan();

    // The permission check: an apply identity with GroupMember.ReadWrite.All alone is told.
    const runtime = await openRuntime(config, new Redactor());
    const spec = runtime.loaded.spec;
    const needed = neededActions(changed.changes, tenantReadRequest(spec));
    await runtime.close();
    // `doctor` checks it from the config alone, whatever today's plan holds.
    expect(actionsOfConfig(spec, tenantReadRequest(spec)).has('manage group owners')).toBe(true);
    expect(needed.get('manage group owners')).toBe(2);
    const token = `x.${Buffer.from(JSON.stringify({ roles: ['User.ReadWrite.All', 'GroupMember.ReadWrite.All', 'Group.Create'] })).toString('base64url')}.y`;
    const warnings = planAccessWarnings(grantedAccessOf(token), 'the apply identity', needed);
    expect(warnings.map((w) => w.message)).toContainEqual(
      expect.stringMatching(
        /^missing permission Group\.ReadWrite\.All for action "manage group owners" \(2 changes\)/,
      ),
    );
  });

  it('GO5: an owner added in the portal is removed; an owners list with no account removes nobody', async () => {
    const store = openTenantStore(db);
    try {
      const group = store.getGroupByUniqueName('entrasync-leads');
      const ada = store.getUserByUpn('ada@contoso.com');
      store.addLinks('owner', group?.doc.id ?? '', [ada?.user.id ?? ''], Date.now());
    } finally {
      store.close();
    }
    expect(tenantOwners()).toEqual(['ada@contoso.com', 'alan@contoso.com', 'grace@contoso.com']);
    const portal = await apply();
    expect(owners(portal.changes)).toEqual(['removeOwners entrasync-leads: ada@contoso.com']);
    expect(tenantOwners()).toEqual(['alan@contoso.com', 'grace@contoso.com']);

    writeConfig(['nobody@contoso.com']);
    const none = await plan();
    expect(owners(none.changes)).toEqual([]);
    expect(none.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['group.unknown-owner', 'group.no-owner']),
    );
    expect(tenantOwners()).toEqual(['alan@contoso.com', 'grace@contoso.com']);
  });
});
