/**
 * The directory audit log: `GET /auditLogs/directoryAudits` (shape, newest first, `$filter` on
 * time and initiating app, `$top` paging, AuditLog.Read.All, 501 for what is not modelled), and
 * the entries committed writes add (top level and inside `$batch`; none for a refused write),
 * through the real Graph SDK.
 */
import { describe, expect, test } from 'vitest';
import { createVirtualClock } from './index.js';
import type { RunningSimulator } from './index.js';
import {
  graphFailure,
  graphFor,
  newUser,
  PASSWORD,
  readAll,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const WRITER = {
  clientId: 'a0d10000-0000-4000-8000-000000000001',
  clientSecret: 'audit-writer-secret-1',
  roles: [
    'User.ReadWrite.All',
    'User.DeleteRestore.All',
    'Group.ReadWrite.All',
    'GroupMember.ReadWrite.All',
    'LicenseAssignment.ReadWrite.All',
  ],
};
const OTHER = {
  clientId: 'a0d10000-0000-4000-8000-000000000002',
  clientSecret: 'audit-other-secret-22',
  roles: ['User.ReadWrite.All'],
};
const AUDITOR = {
  clientId: 'a0d10000-0000-4000-8000-000000000003',
  clientSecret: 'audit-reader-secret-3',
  roles: ['AuditLog.Read.All'],
};
const NO_AUDIT = {
  clientId: 'a0d10000-0000-4000-8000-000000000004',
  clientSecret: 'audit-none-secret-444',
  roles: ['User.Read.All', 'Directory.Read.All'],
};

interface Entry {
  id: string;
  category: string;
  correlationId: string;
  result: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: string;
  initiatedBy: { app: { appId: string; servicePrincipalId: string } };
  targetResources: {
    id: string;
    type: string;
    userPrincipalName: string | null;
    displayName: string | null;
    modifiedProperties: { displayName: string; oldValue: string; newValue: string }[];
  }[];
}

async function audits(sim: RunningSimulator, query = ''): Promise<Entry[]> {
  return (await readAll(
    graphFor(sim, AUDITOR),
    `/auditLogs/directoryAudits${query}`,
  )) as unknown as Entry[];
}

async function tenantWithWrites() {
  const clock = createVirtualClock(Date.parse('2026-03-01T08:00:00Z'));
  const sim = await simulator({
    clock,
    throttling: false,
    clients: [WRITER, OTHER, AUDITOR, NO_AUDIT],
    seed: {
      users: [],
      subscribedSkus: [{ skuId: E3, skuPartNumber: 'SPE_E3', prepaidUnits: { enabled: 5 } }],
    },
  });
  const graph = graphFor(sim, WRITER);
  const ann = (await graph.api('/users').post(newUser('ann', { usageLocation: 'GB' }))) as {
    id: string;
  };
  clock.advance(60_000);
  const bob = (await graph.api('/users').post(newUser('bob'))) as { id: string };
  await graph.api(`/users/${ann.id}`).patch({ displayName: 'Ann Smith' });
  await graph.api(`/users/${ann.id}/assignLicense`).post({
    addLicenses: [{ skuId: E3, disabledPlans: [] }],
    removeLicenses: [],
  });
  await graph.api(`/users/${bob.id}/manager/$ref`).put({ '@odata.id': ref(ann.id) });
  const group = (await graph.api('/groups').post(securityGroup('staff'))) as { id: string };
  // Inside a batch, as entrasync writes: each item is audited on its own.
  await graph.api('/$batch').post({
    requests: [
      {
        id: '1',
        method: 'POST',
        url: `/groups/${group.id}/members/$ref`,
        headers: { 'Content-Type': 'application/json' },
        body: { '@odata.id': ref(bob.id) },
      },
      {
        id: '2',
        method: 'PATCH',
        url: `/users/${bob.id}`,
        headers: { 'Content-Type': 'application/json' },
        body: { accountEnabled: false },
      },
    ],
  });
  clock.advance(60_000);
  await graph.api(`/groups/${group.id}/members/${bob.id}/$ref`).delete();
  await graph.api(`/users/${bob.id}`).delete();
  // Refused (UPN taken): nothing commits, nothing is logged.
  await graphFailure(graph.api('/users').post(newUser('ann')));
  await graphFor(sim, OTHER).api('/users').post(newUser('eve'));
  return { sim, clock, ann, bob, group };
}

describe('GET /auditLogs/directoryAudits', () => {
  test('every committed write is one entry (two for a disable), newest first, for the app that made it', async () => {
    const { sim, ann, bob, group } = await tenantWithWrites();
    const all = await audits(sim);
    expect(all.map((e) => e.activityDisplayName)).toEqual([
      'Add user',
      'Delete user',
      'Remove member from group',
      'Disable account',
      'Update user',
      'Add member to group',
      'Add group',
      'Set user manager',
      'Change user license',
      'Update user',
      'Add user',
      'Add user',
    ]);
    expect(all[0]?.initiatedBy.app.appId).toBe(OTHER.clientId);
    expect(all.slice(1).every((e) => e.initiatedBy.app.appId === WRITER.clientId)).toBe(true);
    const first = all.at(-1)!;
    expect(first).toMatchObject({
      category: 'UserManagement',
      result: 'success',
      loggedByService: 'Core Directory',
      operationType: 'Add',
      activityDateTime: '2026-03-01T08:00:00.000Z',
      targetResources: [{ id: ann.id, type: 'User', userPrincipalName: 'userann@contoso.example' }],
    });
    expect(first.id).toMatch(/^Directory_/);
    expect(first.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.initiatedBy.app.servicePrincipalId).toMatch(/^[0-9a-f-]{36}$/);
    // No password ever reaches the log.
    expect(JSON.stringify(all)).not.toContain(PASSWORD);
    expect(JSON.stringify(all)).not.toContain('passwordProfile');

    const rename = all.at(-3)!;
    expect(rename.targetResources[0]?.modifiedProperties).toEqual([
      { displayName: 'displayName', oldValue: '["User ann"]', newValue: '["Ann Smith"]' },
    ]);
    const member = all.find((e) => e.activityDisplayName === 'Add member to group')!;
    expect(member).toMatchObject({ category: 'GroupManagement', operationType: 'Assign' });
    expect(member.targetResources.map((t) => [t.id, t.type])).toEqual([
      [bob.id, 'User'],
      [group.id, 'Group'],
    ]);
    const license = all.find((e) => e.activityDisplayName === 'Change user license')!;
    expect(license.targetResources[0]?.modifiedProperties[0]?.newValue).toContain(E3);
  });

  test('$filter on the initiating app and on activityDateTime (ge, le), and $top paging with nextLinks', async () => {
    const { sim } = await tenantWithWrites();
    const mine = await audits(sim, `?$filter=initiatedBy/app/appId eq '${WRITER.clientId}'`);
    expect(mine).toHaveLength(11);
    const span = await audits(
      sim,
      `?$filter=activityDateTime ge 2026-03-01T08:01:00Z and activityDateTime le 2026-03-01T08:01:59Z and initiatedBy/app/appId eq '${WRITER.clientId}'`,
    );
    expect(span.map((e) => e.activityDateTime)).toEqual(Array(8).fill('2026-03-01T08:01:00.000Z'));
    const graph = graphFor(sim, AUDITOR);
    const page = (await graph.api('/auditLogs/directoryAudits?$top=5').get()) as {
      '@odata.context': string;
      '@odata.nextLink'?: string;
      value: Entry[];
    };
    expect(page['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#auditLogs/directoryAudits`);
    expect(page.value).toHaveLength(5);
    expect(page['@odata.nextLink']).toContain('$top=5');
    const paged = await audits(sim, '?$top=5');
    expect(paged.map((e) => e.id)).toEqual((await audits(sim)).map((e) => e.id));
    expect(new Set(paged.map((e) => e.id)).size).toBe(12);
  });

  test('a write whose answer was lost still committed, so it is logged; restore and permanent delete are too', async () => {
    const sim = await simulator({
      throttling: false,
      clients: [WRITER, AUDITOR],
      faultPlan: {
        seed: 1,
        faults: [
          {
            kind: 'lost-response',
            match: { method: 'POST', path: '^/users$' },
            when: { nth: [1] },
          },
        ],
      },
    });
    const graph = graphFor(sim, WRITER);
    expect((await graphFailure(graph.api('/users').post(newUser('lost')))).statusCode).toBe(504);
    const lost = (await graph.api('/users/userlost@contoso.example').get()) as { id: string };
    await graph.api(`/users/${lost.id}`).delete();
    await graph.api(`/directory/deletedItems/${lost.id}/restore`).post({});
    await graph.api(`/users/${lost.id}`).delete();
    await graph.api(`/directory/deletedItems/${lost.id}`).delete();
    const all = await audits(sim);
    expect(all.map((e) => [e.activityDisplayName, e.targetResources[0]?.id])).toEqual([
      ['Hard delete user', lost.id],
      ['Delete user', lost.id],
      ['Restore user', lost.id],
      ['Delete user', lost.id],
      ['Add user', lost.id],
    ]);
  });

  test('AuditLog.Read.All is required; filters and options not modelled are 501', async () => {
    const { sim } = await tenantWithWrites();
    const refused = await graphFailure(
      graphFor(sim, NO_AUDIT).api('/auditLogs/directoryAudits').get(),
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.code).toBe('Authorization_RequestDenied');
    const graph = graphFor(sim, AUDITOR);
    for (const url of [
      "/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Add user'",
      '/auditLogs/directoryAudits?$orderby=activityDateTime',
      '/auditLogs/directoryAudits/some-id',
      '/auditLogs/signIns',
    ]) {
      const failure = await graphFailure(graph.api(url).get());
      expect([url, failure.statusCode]).toEqual([url, 501]);
    }
  });
});
