/**
 * examples/role-based end to end against the embedded simulator (real Graph SDK over HTTPS),
 * through the `entrasync` command: validate -> plan -> apply -> re-plan is empty; then the
 * identity provider's export changes: losing the last Microsoft 365 role disables the account
 * (and leaves the role group), gaining one provisions it, a role swap moves groups and the
 * department the tenant's dynamic groups read; regaining the role re-enables the same account.
 *
 * The same workflow read over SCIM 2.0 (examples/role-based/entrasync-scim.yaml) runs against a
 * SCIM service provider built on SCIMMY (connectors/http/test-helpers/scim-server.ts) holding the
 * same people, and must give the same accounts, departments and groups.
 *
 * The simulator does not evaluate dynamic membership rules, so the dynamic groups of the
 * example's README are checked as their rules read the accounts: `user.department -eq "Sales"`
 * is every enabled account whose department is Sales.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { startScimServer } from '../../connectors/http/test-helpers/scim-server.js';
import type { ScimUser } from '../../connectors/http/test-helpers/scim-server.js';
import type { Plan } from '../../engine/model/plan.js';
import type { ExampleCopy, TenantView } from './helpers.js';
import {
  changesFor,
  copyExample,
  planApplyReplan,
  readTenant,
  validatePlanApplyReplan,
} from './helpers.js';

const example: ExampleCopy = copyExample('role-based');
afterAll(() => example.remove());
const csv = join(example.dir, 'users.csv');

/** Sets one person's roles in the IdP export. */
function setRoles(userId: string, roles: string): void {
  const lines = readFileSync(csv, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${userId},`));
  expect(i).toBeGreaterThan(0);
  lines[i] = lines[i]!.replace(/,[^,]*$/, `,${roles}`);
  writeFileSync(csv, lines.join('\n'));
}

/** What the dynamic group rule `user.department -eq "<department>"` would hold. */
function dynamicDepartment(tenant: TenantView, department: string): string[] {
  return tenant.users
    .filter((u) => u['accountEnabled'] === true && u['department'] === department)
    .map((u) => String(u.userPrincipalName))
    .sort();
}

function extensionAttribute1(tenant: TenantView, upn: string): unknown {
  const ext = tenant.user(upn)?.['onPremisesExtensionAttributes'] as
    Record<string, unknown> | undefined;
  return ext?.['extensionAttribute1'];
}

/** plan --out, apply that plan, plan again: the saved plan, with every change applied. */
async function planApplyReplanned(): Promise<Plan> {
  const { planFile } = await planApplyReplan(example);
  return JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
}

describe('examples/role-based: accounts, groups and department from roles in the identity provider', () => {
  it('provisions exactly the holders of a Microsoft 365 role; re-plan is empty', async () => {
    const plan = await validatePlanApplyReplan(example);
    expect(plan.stdout).toContain('idp (csv): complete, 8 records');
    expect(plan.stdout).toContain('6 to create, 4 to create group, 4 to add members.');

    const tenant = readTenant(example);
    // Fatima holds only VPN, George nothing: no account.
    expect(tenant.user('fatima.zahra@contoso.com')).toBeUndefined();
    expect(tenant.user('george.kim@contoso.com')).toBeUndefined();
    expect(tenant.members('entrasync-role-sales')).toEqual([
      'ana.silva@contoso.com',
      'ben.carter@contoso.com',
    ]);
    expect(tenant.members('entrasync-role-sales-manager')).toEqual(['ben.carter@contoso.com']);
    expect(tenant.members('entrasync-role-support')).toEqual([
      'chen.wei@contoso.com',
      'eli.katz@contoso.com',
      'hana.sato@contoso.com',
    ]);
    expect(tenant.members('entrasync-role-engineering')).toEqual([
      'dara.okafor@contoso.com',
      'eli.katz@contoso.com',
    ]);
    // The department follows the first role in priority order; extensionAttribute1 lists them.
    expect(tenant.user('ben.carter@contoso.com')?.['department']).toBe('Sales');
    expect(extensionAttribute1(tenant, 'ben.carter@contoso.com')).toBe('Sales;Sales Manager');
    expect(tenant.user('eli.katz@contoso.com')?.['department']).toBe('Engineering');
    expect(extensionAttribute1(tenant, 'eli.katz@contoso.com')).toBe('Engineering;Support');
    expect(tenant.user('hana.sato@contoso.com')?.['department']).toBe('Customer Support');
    expect(extensionAttribute1(tenant, 'hana.sato@contoso.com')).toBe('Support');
    expect(dynamicDepartment(tenant, 'Sales')).toEqual([
      'ana.silva@contoso.com',
      'ben.carter@contoso.com',
    ]);
  });

  it('losing the last role disables; gaining one provisions; a role swap moves group and department', async () => {
    setRoles('u-101', 'VPN'); // Ana loses Sales
    setRoles('u-106', 'Support;VPN'); // Fatima gains Support
    setRoles('u-105', 'Support'); // Eli leaves Engineering, keeps Support
    const plan = await planApplyReplanned();

    expect(changesFor(plan, 'ana.silva@contoso.com')).toEqual([
      'disableUser ana.silva@contoso.com',
      'removeMembers Role - Sales',
    ]);
    expect(plan.changes.find((c) => c.kind === 'disableUser')).toMatchObject({
      reason: 'left-scope',
      revokeSessions: true,
    });
    expect(changesFor(plan, 'fatima.zahra@contoso.com')).toEqual([
      'addMembers Role - Support',
      'createUser fatima.zahra@contoso.com',
    ]);
    expect(changesFor(plan, 'eli.katz@contoso.com')).toEqual([
      'removeMembers Role - Engineering',
      'updateUser eli.katz@contoso.com',
    ]);

    const tenant = readTenant(example);
    expect(tenant.user('ana.silva@contoso.com')?.['accountEnabled']).toBe(false);
    expect(tenant.groupsOf('ana.silva@contoso.com')).toEqual([]);
    expect(tenant.user('fatima.zahra@contoso.com')).toMatchObject({
      accountEnabled: true,
      department: 'Customer Support',
      usageLocation: 'MA',
    });
    expect(tenant.user('eli.katz@contoso.com')?.['department']).toBe('Customer Support');
    expect(extensionAttribute1(tenant, 'eli.katz@contoso.com')).toBe('Support');
    expect(tenant.members('entrasync-role-engineering')).toEqual(['dara.okafor@contoso.com']);
    expect(dynamicDepartment(tenant, 'Sales')).toEqual(['ben.carter@contoso.com']);
    expect(dynamicDepartment(tenant, 'Customer Support')).toEqual([
      'chen.wei@contoso.com',
      'eli.katz@contoso.com',
      'fatima.zahra@contoso.com',
      'hana.sato@contoso.com',
    ]);
  });

  it('regaining a role re-enables the same account, never a second one', async () => {
    const before = readTenant(example).user('ana.silva@contoso.com')?.id;
    setRoles('u-101', 'Sales;VPN');
    const plan = await planApplyReplanned();
    expect(changesFor(plan, 'ana.silva@contoso.com')).toEqual([
      'addMembers Role - Sales',
      'enableUser ana.silva@contoso.com',
    ]);
    const tenant = readTenant(example);
    expect(tenant.user('ana.silva@contoso.com')).toMatchObject({
      id: before,
      accountEnabled: true,
    });
    expect(tenant.users.filter((u) => u.userPrincipalName.startsWith('ana.silva'))).toHaveLength(1);
    expect(dynamicDepartment(tenant, 'Sales')).toEqual([
      'ana.silva@contoso.com',
      'ben.carter@contoso.com',
    ]);
  });
});

describe('examples/role-based/entrasync-scim.yaml: the same workflow from a SCIM 2.0 identity provider', () => {
  const scimExample = copyExample('role-based');
  const TOKEN = 'scim-example-token';
  afterAll(() => scimExample.remove());

  /** The people of the example's users.csv as a SCIM IdP serves them. */
  function scimUsers(): ScimUser[] {
    const [, ...rows] = readFileSync(join(scimExample.dir, 'users.csv'), 'utf8').trim().split('\n');
    return rows.map((row) => {
      const [id = '', email = '', first = '', last = '', country = '', roles = ''] = row.split(',');
      return {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id,
        userName: email,
        name: { givenName: first, familyName: last },
        emails: [{ value: email, type: 'work', primary: true }],
        addresses: [{ type: 'work', country }],
        active: true,
        roles: roles === '' ? [] : roles.split(';').map((value) => ({ value })),
      };
    });
  }

  it("validate -> plan -> apply -> re-plan is empty, with the CSV run's accounts and groups", async () => {
    const users = scimUsers();
    // Dara is deactivated in the IdP: still holds Engineering, but no account.
    users.find((u) => u['id'] === 'u-104')!['active'] = false;
    const server = await startScimServer({ users, token: TOKEN });
    const saved = process.env['IDP_SCIM_TOKEN'];
    process.env['IDP_SCIM_TOKEN'] = TOKEN;
    try {
      const config = join(scimExample.dir, 'entrasync-scim.yaml');
      const doc = parseDocument(readFileSync(config, 'utf8'));
      doc.setIn(['sources', 'idp', 'url'], server.usersUrl);
      writeFileSync(config, doc.toString());

      const plan = await validatePlanApplyReplan({ ...scimExample, config });
      expect(plan.stdout).toContain('idp (http): complete, 8 records');

      const store = join(scimExample.dir, '.entrasync', 'tenant-scim.db');
      const tenant = readTenant({ ...scimExample, config }, store);
      expect(tenant.user('dara.okafor@contoso.com')).toBeUndefined();
      expect(tenant.user('fatima.zahra@contoso.com')).toBeUndefined();
      expect(tenant.user('ben.carter@contoso.com')).toMatchObject({
        department: 'Sales',
        usageLocation: 'US',
        employeeId: 'u-102',
      });
      expect(extensionAttribute1(tenant, 'ben.carter@contoso.com')).toBe('Sales;Sales Manager');
      expect(tenant.user('hana.sato@contoso.com')?.['department']).toBe('Customer Support');
      expect(tenant.members('entrasync-role-engineering')).toEqual(['eli.katz@contoso.com']);
      expect(tenant.members('entrasync-role-sales')).toEqual([
        'ana.silva@contoso.com',
        'ben.carter@contoso.com',
      ]);
      expect(dynamicDepartment(tenant, 'Sales')).toEqual([
        'ana.silva@contoso.com',
        'ben.carter@contoso.com',
      ]);
    } finally {
      if (saved === undefined) delete process.env['IDP_SCIM_TOKEN'];
      else process.env['IDP_SCIM_TOKEN'] = saved;
      await server.close();
    }
  });
});
