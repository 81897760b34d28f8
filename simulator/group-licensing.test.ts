/**
 * Group-based licensing through the real Graph SDK: POST /groups/{id}/assignLicense, members
 * inheriting (and losing) licenses as membership changes, licenseAssignmentStates per path,
 * seats counted once per user and SKU, CountViolation when seats run out, direct and inherited
 * assignments side by side, and deletion/restore of users and groups.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import { describe, expect, test } from 'vitest';
import type { RunningSimulator, SimulatorClient } from './index.js';
import {
  bearer,
  graphFailure,
  graphFor,
  raw,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const E5 = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
const YAMMER = '7547a3fe-08ee-4ccb-b430-5077c5041653';
const TEAMS = '57ff2da0-773e-42df-b2af-ffb7a2317929';

function person(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accountEnabled: true,
    displayName: `Person ${i}`,
    mailNickname: `person${i}`,
    userPrincipalName: `person${i}@contoso.example`,
    usageLocation: 'GB',
    ...extra,
  };
}

async function licensedSim(
  e3Seats: number,
  users = 4,
  clients?: SimulatorClient[],
): Promise<{ sim: RunningSimulator; graph: Client; ids: string[] }> {
  const sim = await simulator({
    throttling: false,
    ...(clients === undefined ? {} : { clients }),
    seed: {
      users: Array.from({ length: users }, (_, i) => person(i)),
      subscribedSkus: [
        { skuId: E3, skuPartNumber: 'SPE_E3', prepaidUnits: { enabled: e3Seats } },
        { skuId: E5, skuPartNumber: 'SPE_E5', prepaidUnits: { enabled: 10 } },
      ],
    },
  });
  const graph = graphFor(sim, clients?.[0]);
  const ids = sim.store.listUsers().map((u) => u.id);
  return { sim, graph, ids };
}

async function createGroup(
  graph: Client,
  n: number | string,
  members: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const group = (await graph
    .api('/groups')
    .post(securityGroup(n, { 'members@odata.bind': members.map(ref), ...extra }))) as {
    id: string;
  };
  return group.id;
}

async function licensing(
  graph: Client,
  userId: string,
): Promise<{ assignedLicenses: unknown[]; licenseAssignmentStates: Record<string, unknown>[] }> {
  return (await graph
    .api(`/users/${userId}`)
    .select('assignedLicenses,licenseAssignmentStates')
    .get()) as { assignedLicenses: unknown[]; licenseAssignmentStates: Record<string, unknown>[] };
}

async function consumed(graph: Client): Promise<Record<string, number>> {
  const skus = (await graph.api('/subscribedSkus').select('skuId,consumedUnits').get()) as {
    value: { skuId: string; consumedUnits: number }[];
  };
  return Object.fromEntries(skus.value.map((s) => [s.skuId, s.consumedUnits]));
}

function active(skuId: string, group: string | null, disabledPlans: string[] = []) {
  return {
    assignedByGroup: group,
    disabledPlans,
    error: 'None',
    lastUpdatedDateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    skuId,
    state: 'Active',
  };
}

describe('POST /groups/{id}/assignLicense', () => {
  test('answers 202 with the group and a location; members inherit; seats count once', async () => {
    const { sim, graph, ids } = await licensedSim(3);
    const [p0, p1, p2, p3] = ids as [string, string, string, string];
    const group = await createGroup(graph, 1, [p0, p1]);

    const response = await raw(sim, `/v1.0/groups/${group}/assignLicense`, {
      method: 'POST',
      headers: { Authorization: await bearer(sim), 'Content-Type': 'application/json' },
      body: JSON.stringify({
        addLicenses: [{ skuId: E3, disabledPlans: [YAMMER] }],
        removeLicenses: [],
      }),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(
      `${sim.origin}/v2/${sim.tenantId}/directoryObjects/${group}/Microsoft.DirectoryServices.Group`,
    );
    expect(response.body).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#groups/$entity`,
      id: group,
      securityEnabled: true,
    });
    // assignedLicenses is returned only on $select.
    expect(response.body).not.toHaveProperty('assignedLicenses');
    const read = (await graph.api(`/groups/${group}`).select('assignedLicenses').get()) as Record<
      string,
      unknown
    >;
    expect(read['assignedLicenses']).toEqual([{ disabledPlans: [YAMMER], skuId: E3 }]);

    expect(await licensing(graph, p0)).toMatchObject({
      assignedLicenses: [{ disabledPlans: [YAMMER], skuId: E3 }],
      licenseAssignmentStates: [active(E3, group, [YAMMER])],
    });
    expect((await consumed(graph))[E3]).toBe(2);

    // Membership added later inherits; the last seat goes to p2, p3 finds none.
    await graph.api(`/groups/${group}/members/$ref`).post({ '@odata.id': ref(p2) });
    await graph.api(`/groups/${group}/members/$ref`).post({ '@odata.id': ref(p3) });
    expect((await licensing(graph, p2)).assignedLicenses).toEqual([
      { disabledPlans: [YAMMER], skuId: E3 },
    ]);
    expect(await licensing(graph, p3)).toEqual({
      '@odata.context': expect.any(String),
      id: p3,
      assignedLicenses: [],
      licenseAssignmentStates: [
        {
          assignedByGroup: group,
          disabledPlans: [YAMMER],
          error: 'CountViolation',
          lastUpdatedDateTime: expect.any(String),
          skuId: E3,
          state: 'Error',
        },
      ],
    });
    expect((await consumed(graph))[E3]).toBe(3);
    const holders = (await graph
      .api('/users')
      .filter(`assignedLicenses/any(x:x/skuId eq ${E3})`)
      .select('id')
      .get()) as { value: { id: string }[] };
    expect(holders.value.map((u) => u.id)).toEqual([p0, p1, p2]);

    // Leaving the group loses the license and frees the seat; re-running the group's
    // assignment retries members in error.
    await graph.api(`/groups/${group}/members/${p1}/$ref`).delete();
    expect(await licensing(graph, p1)).toMatchObject({
      assignedLicenses: [],
      licenseAssignmentStates: [],
    });
    expect((await consumed(graph))[E3]).toBe(2);
    expect((await licensing(graph, p3)).assignedLicenses).toEqual([]);
    await graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [YAMMER] }], removeLicenses: [] });
    expect((await licensing(graph, p3)).licenseAssignmentStates).toEqual([
      active(E3, group, [YAMMER]),
    ]);
    expect((await consumed(graph))[E3]).toBe(3);

    // Removing the group's license takes it from every member.
    await graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [], removeLicenses: [E3] });
    for (const id of [p0, p2, p3]) {
      expect(await licensing(graph, id)).toMatchObject({
        assignedLicenses: [],
        licenseAssignmentStates: [],
      });
    }
    expect(await consumed(graph)).toEqual({ [E3]: 0, [E5]: 0 });
  });

  test('direct and inherited paths coexist; an inherited license cannot be removed directly', async () => {
    const { graph, ids } = await licensedSim(5);
    const [p0] = ids as [string];
    const group = await createGroup(graph, 2, [p0]);
    await graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [YAMMER, TEAMS] }], removeLicenses: [] });
    await graph
      .api(`/users/${p0}/assignLicense`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [TEAMS] }], removeLicenses: [] });
    // One entry per SKU: a plan is disabled only when every path disables it.
    expect(await licensing(graph, p0)).toMatchObject({
      assignedLicenses: [{ disabledPlans: [TEAMS], skuId: E3 }],
      licenseAssignmentStates: [active(E3, null, [TEAMS]), active(E3, group, [YAMMER, TEAMS])],
    });
    expect((await consumed(graph))[E3]).toBe(1);

    // Removing the direct license leaves the inherited one (and its seat) in place.
    await graph.api(`/users/${p0}/assignLicense`).post({ addLicenses: [], removeLicenses: [E3] });
    expect(await licensing(graph, p0)).toMatchObject({
      assignedLicenses: [{ disabledPlans: [YAMMER, TEAMS], skuId: E3 }],
      licenseAssignmentStates: [active(E3, group, [YAMMER, TEAMS])],
    });
    expect((await consumed(graph))[E3]).toBe(1);

    const inherited = await graphFailure(
      graph.api(`/users/${p0}/assignLicense`).post({ addLicenses: [], removeLicenses: [E3] }),
    );
    expect([inherited.statusCode, inherited.code, inherited.message]).toEqual([
      400,
      'Request_BadRequest',
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
    ]);

    // Direct assignment of another SKU works as before, next to the inherited one.
    const user = (await graph
      .api(`/users/${p0}/assignLicense`)
      .post({ addLicenses: [{ skuId: E5, disabledPlans: [] }], removeLicenses: [] })) as Record<
      string,
      unknown
    >;
    expect(user['id']).toBe(p0);
    expect((await licensing(graph, p0)).assignedLicenses).toEqual([
      { disabledPlans: [], skuId: E5 },
      { disabledPlans: [YAMMER, TEAMS], skuId: E3 },
    ]);
    expect(await consumed(graph)).toEqual({ [E3]: 1, [E5]: 1 });

    // Leaving the group keeps what is also held directly.
    await graph
      .api(`/users/${p0}/assignLicense`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    await graph.api(`/groups/${group}/members/${p0}/$ref`).delete();
    expect(await licensing(graph, p0)).toMatchObject({
      assignedLicenses: [
        { disabledPlans: [], skuId: E5 },
        { disabledPlans: [], skuId: E3 },
      ],
      licenseAssignmentStates: [active(E5, null), active(E3, null)],
    });
    expect(await consumed(graph)).toEqual({ [E3]: 1, [E5]: 1 });
  });

  test('a direct assignment takes a seat a CountViolation path was waiting for', async () => {
    const { graph, ids } = await licensedSim(1);
    const [p0, p1] = ids as [string, string];
    const group = await createGroup(graph, 3, [p0, p1]);
    await graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    expect((await licensing(graph, p1)).licenseAssignmentStates).toMatchObject([
      { state: 'Error', error: 'CountViolation' },
    ]);
    const noSeats = await graphFailure(
      graph
        .api(`/users/${p1}/assignLicense`)
        .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] }),
    );
    expect(noSeats.message).toBe(
      `Subscription with SKU ${E3} does not have any available licenses.`,
    );
    // p0 leaves: the seat is free, p1's direct assignment takes it and its group path heals.
    await graph.api(`/groups/${group}/members/${p0}/$ref`).delete();
    await graph
      .api(`/users/${p1}/assignLicense`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    expect((await licensing(graph, p1)).licenseAssignmentStates).toEqual([
      active(E3, null),
      active(E3, group),
    ]);
    expect((await consumed(graph))[E3]).toBe(1);
  });

  test('deleting and restoring groups and users drops and restores inherited licenses', async () => {
    const { graph, ids } = await licensedSim(2);
    const [p0, p1] = ids as [string, string];
    const security = await createGroup(graph, 4, [p0]);
    const unified = await createGroup(graph, 5, [p1], {
      groupTypes: ['Unified'],
      mailEnabled: true,
    });
    for (const group of [security, unified]) {
      await graph
        .api(`/groups/${group}/assignLicense`)
        .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    }
    expect((await consumed(graph))[E3]).toBe(2);

    // A Microsoft 365 group goes to the recycle bin: its members stop inheriting, and
    // inherit again once it is restored.
    await graph.api(`/groups/${unified}`).delete();
    expect((await licensing(graph, p1)).assignedLicenses).toEqual([]);
    expect((await consumed(graph))[E3]).toBe(1);
    await graph.api(`/directory/deletedItems/${unified}/restore`).post({});
    expect((await licensing(graph, p1)).licenseAssignmentStates).toEqual([active(E3, unified)]);
    expect((await consumed(graph))[E3]).toBe(2);

    // A deleted user frees its seat and keeps its membership; restored, it inherits again.
    await graph.api(`/users/${p0}`).delete();
    expect((await consumed(graph))[E3]).toBe(1);
    await graph.api(`/directory/deletedItems/${p0}/restore`).post({});
    expect((await licensing(graph, p0)).licenseAssignmentStates).toEqual([active(E3, security)]);
    expect((await consumed(graph))[E3]).toBe(2);

    // A security group is deleted permanently: its members lose what they inherited.
    await graph.api(`/groups/${security}`).delete();
    expect(await licensing(graph, p0)).toMatchObject({
      assignedLicenses: [],
      licenseAssignmentStates: [],
    });
    expect((await consumed(graph))[E3]).toBe(1);
  });

  test('validation: unknown SKUs, non-security groups, body shape and permissions', async () => {
    const licenser: SimulatorClient = {
      clientId: '21111111-2222-4333-8444-555555555555',
      clientSecret: 'licenser-secret-value-1',
      roles: ['Group.ReadWrite.All', 'User.ReadWrite.All', 'Organization.Read.All'],
    };
    const { sim, graph, ids } = await licensedSim(2, 1, [
      {
        clientId: '31111111-2222-4333-8444-555555555555',
        clientSecret: 'admin-secret-value-1',
        roles: ['Directory.ReadWrite.All'],
      },
      licenser,
    ]);
    const [p0] = ids as [string];
    const group = await createGroup(graph, 6, [p0]);
    const unknown = await graphFailure(
      graph.api(`/groups/${group}/assignLicense`).post({
        addLicenses: [{ skuId: '11111111-1111-4111-8111-111111111111', disabledPlans: [] }],
        removeLicenses: [],
      }),
    );
    expect([unknown.statusCode, unknown.message]).toEqual([
      400,
      'License 11111111-1111-4111-8111-111111111111 does not correspond to a valid company License.',
    ]);
    const missing = await graphFailure(
      graph.api(`/groups/${group}/assignLicense`).post({ addLicenses: [] }),
    );
    expect(missing.message).toBe(
      "A value is required for property 'removeLicenses' of resource 'assignLicense'.",
    );
    const team = (await graph.api('/groups').post({
      displayName: 'Team',
      groupTypes: ['Unified'],
      mailEnabled: true,
      mailNickname: 'team',
      securityEnabled: false,
    })) as { id: string };
    const notSecurity = await graphFailure(
      graph
        .api(`/groups/${team.id}/assignLicense`)
        .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] }),
    );
    expect(notSecurity.statusCode).toBe(400);
    const denied = await graphFailure(
      graphFor(sim, licenser)
        .api(`/groups/${group}/assignLicense`)
        .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] }),
    );
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
    // Nothing was assigned along the way.
    expect(await consumed(graph)).toEqual({ [E3]: 0, [E5]: 0 });
    // licenseAssignmentStates is read-only.
    const readOnly = await graphFailure(
      graph.api(`/users/${p0}`).patch({ licenseAssignmentStates: [] }),
    );
    expect(readOnly.message).toBe(
      "Property 'licenseAssignmentStates' is read-only and cannot be set.",
    );
  });

  test('a seed may license groups; members inherit from the start and show in delta', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        users: [person(0), person(1)],
        groups: [
          {
            displayName: 'Licensed',
            mailEnabled: false,
            mailNickname: 'licensed',
            securityEnabled: true,
            uniqueName: 'licensed',
            members: ['person0@contoso.example'],
            assignedLicenses: [{ skuId: E5, disabledPlans: [YAMMER] }],
          },
        ],
        subscribedSkus: [{ skuId: E5, skuPartNumber: 'SPE_E5', prepaidUnits: { enabled: 1 } }],
      },
    });
    const graph = graphFor(sim);
    const group = (await graph.api("/groups(uniqueName='licensed')").select('id').get()) as {
      id: string;
    };
    const [p0, p1] = sim.store.listUsers().map((u) => u.id) as [string, string];
    expect((await licensing(graph, p0)).licenseAssignmentStates).toEqual([
      active(E5, group.id, [YAMMER]),
    ]);
    expect(await consumed(graph)).toEqual({ [E5]: 1 });
    const licensed = (await graph
      .api('/groups')
      .filter(`assignedLicenses/any(x:x/skuId eq ${E5})`)
      .select('displayName')
      .get()) as { value: unknown[] };
    expect(licensed.value).toEqual([{ displayName: 'Licensed', id: group.id }]);

    // Inheritance changes are user changes: delta with $select=assignedLicenses reports them.
    const first = (await graph
      .api('/users/delta')
      .select('assignedLicenses,licenseAssignmentStates')
      .get()) as { '@odata.deltaLink': string };
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(p1) });
    const changes = (await graph.api(first['@odata.deltaLink']).get()) as {
      value: Record<string, unknown>[];
    };
    expect(changes.value).toEqual([
      {
        id: p1,
        assignedLicenses: [],
        licenseAssignmentStates: [
          {
            assignedByGroup: group.id,
            disabledPlans: [YAMMER],
            error: 'CountViolation',
            lastUpdatedDateTime: expect.any(String),
            skuId: E5,
            state: 'Error',
          },
        ],
      },
    ]);
  });
});
