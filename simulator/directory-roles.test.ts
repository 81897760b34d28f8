/**
 * Finding admins and protected accounts: role assignments and PIM eligibility schedules
 * (`/roleManagement/directory/...` with $filter and $expand=principal), administrative units,
 * restricted-management units answering 403 on writes (P4), and app-only permissions that
 * cannot delete or disable a user holding a directory role.
 */
import { describe, expect, test } from 'vitest';
import type { SimulatorClient } from './index.js';
import { graphFailure, graphFor, simulator } from './test-helpers/simulator.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const PRIVILEGED_ROLE_ADMIN = 'e8611ab8-c189-46e8-94e1-60213ab1f814';

const seed = {
  users: ['admin', 'eligible', 'exec', 'plain'].map((name) => ({
    accountEnabled: true,
    displayName: name,
    mailNickname: name,
    userPrincipalName: `${name}@contoso.example`,
  })),
  groups: [
    {
      displayName: 'Tier 0',
      mailEnabled: false,
      mailNickname: 'tier0',
      securityEnabled: true,
      isAssignableToRole: true,
      members: ['admin@contoso.example'],
    },
  ],
  roleAssignments: [{ principal: 'admin@contoso.example', role: 'Global Administrator' }],
  roleEligibilitySchedules: [
    { principal: 'eligible@contoso.example', roleDefinitionId: PRIVILEGED_ROLE_ADMIN },
  ],
  administrativeUnits: [
    {
      displayName: 'Executives',
      isMemberManagementRestricted: true,
      members: ['exec@contoso.example'],
    },
  ],
};

describe('role management', () => {
  test('role assignments and eligibility schedules, filtered and expanded', async () => {
    const sim = await simulator({ throttling: false, seed });
    const graph = graphFor(sim);
    const admin = sim.store.getUserByUpn('admin@contoso.example')?.user.id;
    const eligible = sim.store.getUserByUpn('eligible@contoso.example')?.user.id;

    const assignments = (await graph
      .api('/roleManagement/directory/roleAssignments')
      .filter(`roleDefinitionId eq '${GLOBAL_ADMIN}'`)
      .expand('principal')
      .get()) as { '@odata.context': string; value: Record<string, unknown>[] };
    expect(assignments['@odata.context']).toBe(
      `${sim.origin}/v1.0/$metadata#roleManagement/directory/roleAssignments(principal())`,
    );
    expect(assignments.value).toEqual([
      expect.objectContaining({
        principalId: admin,
        roleDefinitionId: GLOBAL_ADMIN,
        directoryScopeId: '/',
        principal: expect.objectContaining({
          '@odata.type': '#microsoft.graph.user',
          userPrincipalName: 'admin@contoso.example',
        }),
      }),
    ]);

    const schedules = (await graph
      .api('/roleManagement/directory/roleEligibilitySchedules')
      .filter(`principalId eq '${eligible}'`)
      .get()) as { value: Record<string, unknown>[] };
    expect(schedules.value).toEqual([
      expect.objectContaining({
        principalId: eligible,
        roleDefinitionId: PRIVILEGED_ROLE_ADMIN,
        memberType: 'Direct',
        status: 'Provisioned',
        scheduleInfo: expect.objectContaining({
          expiration: expect.objectContaining({ type: 'noExpiration' }),
        }),
      }),
    ]);
    const definitions = (await graph.api('/roleManagement/directory/roleDefinitions').get()) as {
      value: { id: string; displayName: string }[];
    };
    expect(definitions.value.find((d) => d.id === GLOBAL_ADMIN)?.displayName).toBe(
      'Global Administrator',
    );

    const groups = (await graph
      .api('/groups')
      .filter('isAssignableToRole eq true')
      .select('displayName')
      .get()) as {
      value: unknown[];
    };
    expect(groups.value).toHaveLength(1);
  });

  test('reading roles needs RoleManagement.Read.Directory (or higher)', async () => {
    const reader: SimulatorClient = {
      clientId: '3c3c3c3c-0000-4000-8000-000000000003',
      clientSecret: 'user-reader-secret-1',
      roles: ['User.Read.All'],
    };
    const sim = await simulator({ throttling: false, seed, clients: [reader] });
    const denied = await graphFailure(
      graphFor(sim, reader).api('/roleManagement/directory/roleAssignments').get(),
    );
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
  });
});

describe('protected targets', () => {
  test('restricted administrative unit members answer 403 on writes (P4)', async () => {
    const sim = await simulator({ throttling: false, seed });
    const graph = graphFor(sim);
    const units = (await graph.api('/directory/administrativeUnits').get()) as {
      value: { id: string; isMemberManagementRestricted: boolean }[];
    };
    expect(units.value).toEqual([
      expect.objectContaining({ displayName: 'Executives', isMemberManagementRestricted: true }),
    ]);
    const members = (await graph
      .api(`/directory/administrativeUnits/${units.value[0]?.id}/members`)
      .get()) as {
      value: { userPrincipalName: string }[];
    };
    expect(members.value.map((m) => m.userPrincipalName)).toEqual(['exec@contoso.example']);
    for (const write of [
      graph.api('/users/exec@contoso.example').patch({ jobTitle: 'CEO' }),
      graph.api('/users/exec@contoso.example').delete(),
    ]) {
      const error = await graphFailure(write);
      expect([error.statusCode, error.code, error.message]).toEqual([
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      ]);
    }
    await expect(graph.api('/users/exec@contoso.example').get()).resolves.toBeDefined();
    await graph.api('/users/plain@contoso.example').patch({ jobTitle: 'ok' });
  });

  test('app-only permissions cannot delete or disable a directory role holder', async () => {
    const sim = await simulator({ throttling: false, seed });
    const graph = graphFor(sim);
    expect(
      (await graphFailure(graph.api('/users/admin@contoso.example').delete())).statusCode,
    ).toBe(403);
    expect(
      (
        await graphFailure(
          graph.api('/users/admin@contoso.example').patch({ accountEnabled: false }),
        )
      ).statusCode,
    ).toBe(403);
    await graph.api('/users/admin@contoso.example').patch({ jobTitle: 'Still allowed' });
  });
});
