/**
 * Groups through the real Graph SDK: create (security and Microsoft 365), get, list with
 * $filter, update, upsert by uniqueName, members by $ref and by members@odata.bind, removal,
 * role-assignable groups, deletion (unified to the recycle bin, security permanently).
 */
import { describe, expect, test } from 'vitest';
import type { SimulatorClient } from './index.js';
import {
  graphFailure,
  graphFor,
  newUser,
  readAll,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

// The upsert page's 201 example lists these properties, in this order.
const DEFAULT_GROUP_KEYS = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesLastSyncDateTime',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'visibility',
  'uniqueName',
  'onPremisesProvisioningErrors',
];

async function users(graph: ReturnType<typeof graphFor>, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    ids.push(((await graph.api('/users').post(newUser(`m${i}`))) as { id: string }).id);
  }
  return ids;
}

describe('POST /groups and GET', () => {
  test('creates security and Microsoft 365 groups in Graph’s shape', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const security = (await graph.api('/groups').post(securityGroup(1))) as Record<string, unknown>;
    expect(Object.keys(security)).toEqual(['@odata.context', ...DEFAULT_GROUP_KEYS]);
    expect(security).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#groups/$entity`,
      displayName: 'Group 1',
      groupTypes: [],
      mail: null,
      mailEnabled: false,
      securityEnabled: true,
      proxyAddresses: [],
      securityIdentifier: expect.stringMatching(/^S-1-12-1-\d+-\d+-\d+-\d+$/),
    });
    const unified = (await graph.api('/groups').post({
      description: 'Self help community for golf',
      displayName: 'Golf Assist',
      groupTypes: ['Unified'],
      mailEnabled: true,
      mailNickname: 'golfassist',
      securityEnabled: false,
    })) as Record<string, unknown>;
    expect(unified).toMatchObject({
      groupTypes: ['Unified'],
      mail: 'golfassist@contoso.onmicrosoft.com',
      proxyAddresses: ['SMTP:golfassist@contoso.onmicrosoft.com'],
      visibility: 'Public',
    });
    const read = (await graph
      .api(`/groups/${String(unified['id'])}`)
      .select('displayName,mail')
      .get()) as Record<string, unknown>;
    expect(read).toEqual({
      '@odata.context': `${sim.origin}/v1.0/$metadata#groups(displayName,mail)/$entity`,
      displayName: 'Golf Assist',
      mail: 'golfassist@contoso.onmicrosoft.com',
      id: unified['id'],
    });
    const filtered = (await graph
      .api('/groups')
      .filter("groupTypes/any(c:c eq 'Unified')")
      .select('displayName')
      .get()) as { value: unknown[] };
    expect(filtered.value).toEqual([{ displayName: 'Golf Assist', id: unified['id'] }]);
  });

  test('required properties, mail-enabled security groups and unknown properties fail', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const { securityEnabled: _omit, ...noSecurity } = securityGroup(2);
    const cases: [Record<string, unknown>, string][] = [
      [noSecurity, "A value is required for property 'securityEnabled' of resource 'Group'."],
      [
        securityGroup(2, { mailEnabled: true }),
        'The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or set to false.',
      ],
      [securityGroup(2, { colour: 'red' }), "Invalid property 'colour'."],
      [
        securityGroup(2, { mailNickname: 'has space' }),
        "Invalid value specified for property 'mailNickname' of resource 'Group'.",
      ],
    ];
    for (const [body, message] of cases) {
      const error = await graphFailure(graph.api('/groups').post(body));
      expect([error.statusCode, error.message]).toEqual([400, message]);
    }
  });
});

describe('upsert by uniqueName', () => {
  test('Prefer: create-if-missing creates (201) then updates (204); a replay makes no duplicate', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const body = securityGroup('ops', { description: 'first' });
    const created = (await graph
      .api("/groups(uniqueName='ops-2026')")
      .header('Prefer', 'create-if-missing')
      .patch(body)) as Record<string, unknown>;
    expect(created).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#groups/$entity`,
      uniqueName: 'ops-2026',
      description: 'first',
    });
    const again: unknown = await graph
      .api("/groups(uniqueName='ops-2026')")
      .header('Prefer', 'create-if-missing')
      .patch({ ...body, description: 'second' });
    expect(again).toBeUndefined();
    expect(sim.requestLog.at(-1)).toMatchObject({ method: 'PATCH', status: 204 });
    const all = await readAll(graph, '/groups?$select=uniqueName,description');
    expect(all).toEqual([{ uniqueName: 'ops-2026', description: 'second', id: created['id'] }]);

    const byKey = (await graph.api("/groups(uniqueName='ops-2026')").get()) as { id: string };
    expect(byKey.id).toBe(created['id']);
    const missing = await graphFailure(graph.api("/groups(uniqueName='nope')").patch(body));
    expect(missing.statusCode).toBe(404);
    const dup = await graphFailure(graph.api('/groups').post({ ...body, uniqueName: 'OPS-2026' }));
    expect([dup.statusCode, dup.message]).toEqual([
      400,
      'Another object with the same value for property uniqueName already exists.',
    ]);
  });
});

describe('members', () => {
  test('add by $ref, list with @odata.type, remove; adding twice is Graph’s 400', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const [a, b] = await users(graph, 2);
    const group = (await graph.api('/groups').post(securityGroup(3))) as { id: string };
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(a ?? '') });
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(b ?? '') });
    const twice = await graphFailure(
      graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(a ?? '') }),
    );
    expect([twice.statusCode, twice.code, twice.message]).toEqual([
      400,
      'Request_BadRequest',
      "One or more added object references already exist for the following modified properties: 'members'.",
    ]);
    const members = (await graph
      .api(`/groups/${group.id}/members`)
      .select('id,userPrincipalName')
      .get()) as {
      '@odata.context': string;
      value: unknown[];
    };
    expect(members['@odata.context']).toBe(
      `${sim.origin}/v1.0/$metadata#directoryObjects(id,userPrincipalName)`,
    );
    expect(members.value).toEqual([
      {
        '@odata.type': '#microsoft.graph.user',
        id: a,
        userPrincipalName: 'userm0@contoso.example',
      },
      {
        '@odata.type': '#microsoft.graph.user',
        id: b,
        userPrincipalName: 'userm1@contoso.example',
      },
    ]);
    await graph.api(`/groups/${group.id}/members/${a}/$ref`).delete();
    const notMember = await graphFailure(
      graph.api(`/groups/${group.id}/members/${a}/$ref`).delete(),
    );
    expect(notMember.statusCode).toBe(404);
    const unknown = await graphFailure(
      graph
        .api(`/groups/${group.id}/members/$ref`)
        .post({ '@odata.id': ref('00000000-0000-4000-8000-000000000000') }),
    );
    expect([unknown.statusCode, unknown.code]).toEqual([404, 'Request_ResourceNotFound']);
  });

  test('members@odata.bind adds up to 20 in one PATCH, all or nothing', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const ids = await users(graph, 22);
    const group = (await graph.api('/groups').post(securityGroup(4))) as { id: string };
    await graph
      .api(`/groups/${group.id}`)
      .patch({ 'members@odata.bind': ids.slice(0, 3).map((id) => ref(id)) });
    const tooMany = await graphFailure(
      graph
        .api(`/groups/${group.id}`)
        .patch({ 'members@odata.bind': ids.slice(0, 21).map((id) => ref(id)) }),
    );
    expect(tooMany.statusCode).toBe(400);
    // One existing member in the bind: 400, and none of the new ones is added.
    const partial = await graphFailure(
      graph
        .api(`/groups/${group.id}`)
        .patch({ 'members@odata.bind': ids.slice(2, 6).map((id) => ref(id)) }),
    );
    expect(partial.message).toMatch(
      /already exist for the following modified properties: 'members'/,
    );
    const members = await readAll(graph, `/groups/${group.id}/members?$select=id`);
    expect(members.map((m) => m['id'])).toEqual(ids.slice(0, 3));
    await graph
      .api(`/groups/${group.id}`)
      .patch({ 'members@odata.bind': ids.slice(3, 22).map((id) => ref(id)) });
    expect(await readAll(graph, `/groups/${group.id}/members?$select=id&$top=5`)).toHaveLength(22);
  });

  test('role-assignable groups need RoleManagement.ReadWrite.Directory to create or change', async () => {
    const admin: SimulatorClient = {
      clientId: '7d0b1c1e-0000-4000-8000-00000000000a',
      clientSecret: 'admin-secret-value-1',
      roles: ['Group.ReadWrite.All', 'User.ReadWrite.All', 'RoleManagement.ReadWrite.Directory'],
    };
    const plain: SimulatorClient = {
      clientId: '7d0b1c1e-0000-4000-8000-00000000000b',
      clientSecret: 'plain-secret-value-1',
      roles: ['Group.ReadWrite.All', 'GroupMember.ReadWrite.All', 'User.ReadWrite.All'],
    };
    const sim = await simulator({ throttling: false, clients: [admin, plain] });
    const denied = await graphFailure(
      graphFor(sim, plain)
        .api('/groups')
        .post(securityGroup(5, { isAssignableToRole: true })),
    );
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
    const group = (await graphFor(sim, admin)
      .api('/groups')
      .post(securityGroup(5, { isAssignableToRole: true }))) as {
      id: string;
      isAssignableToRole: boolean;
    };
    expect(group.isAssignableToRole).toBe(true);
    const { id: userId } = (await graphFor(sim, plain).api('/users').post(newUser(5))) as {
      id: string;
    };
    const memberDenied = await graphFailure(
      graphFor(sim, plain)
        .api(`/groups/${group.id}/members/$ref`)
        .post({ '@odata.id': ref(userId) }),
    );
    expect(memberDenied.statusCode).toBe(403);
    await graphFor(sim, admin)
      .api(`/groups/${group.id}/members/$ref`)
      .post({ '@odata.id': ref(userId) });
  });
});

describe('nested groups', () => {
  test('a security group contains security groups by bind or $ref, and loses them by $ref', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const parent = (await graph.api('/groups').post(securityGroup(20))) as { id: string };
    const [a, b] = (await Promise.all([
      graph.api('/groups').post(securityGroup(21)),
      graph.api('/groups').post(securityGroup(22)),
    ])) as { id: string }[];
    await graph.api(`/groups/${parent.id}`).patch({ 'members@odata.bind': [ref(a!.id)] });
    await graph.api(`/groups/${parent.id}/members/$ref`).post({ '@odata.id': ref(b!.id) });
    const members = await readAll(graph, `/groups/${parent.id}/members?$select=id`);
    expect(members).toEqual([
      { '@odata.type': '#microsoft.graph.group', id: a!.id },
      { '@odata.type': '#microsoft.graph.group', id: b!.id },
    ]);
    await graph.api(`/groups/${parent.id}/members/${a!.id}/$ref`).delete();
    expect(
      (await readAll(graph, `/groups/${parent.id}/members?$select=id`)).map((m) => m['id']),
    ).toEqual([b!.id]);
  });

  test('Microsoft 365 groups contain no group and are in none; role-assignable groups contain no group: 400', async () => {
    const admin: SimulatorClient = {
      clientId: '7d0b1c1e-0000-4000-8000-00000000000c',
      clientSecret: 'admin-secret-value-2',
      roles: ['Group.ReadWrite.All', 'User.ReadWrite.All', 'RoleManagement.ReadWrite.Directory'],
    };
    const sim = await simulator({ throttling: false, clients: [admin] });
    const graph = graphFor(sim, admin);
    const unified = (await graph.api('/groups').post({
      displayName: 'Guild',
      mailEnabled: true,
      mailNickname: 'guild',
      securityEnabled: false,
      groupTypes: ['Unified'],
    })) as { id: string };
    const security = (await graph.api('/groups').post(securityGroup(23))) as { id: string };
    const roleAssignable = (await graph
      .api('/groups')
      .post(securityGroup(24, { isAssignableToRole: true }))) as { id: string };
    const intoUnified = await graphFailure(
      graph.api(`/groups/${unified.id}`).patch({ 'members@odata.bind': [ref(security.id)] }),
    );
    expect([intoUnified.statusCode, intoUnified.code]).toEqual([400, 'Request_BadRequest']);
    expect(intoUnified.message).toMatch(/^Groups cannot be added to Unified Groups\./);
    const unifiedIn = await graphFailure(
      graph.api(`/groups/${security.id}/members/$ref`).post({ '@odata.id': ref(unified.id) }),
    );
    expect([unifiedIn.statusCode, unifiedIn.code]).toEqual([400, 'Request_BadRequest']);
    const intoRoleAssignable = await graphFailure(
      graph.api(`/groups/${roleAssignable.id}`).patch({ 'members@odata.bind': [ref(security.id)] }),
    );
    expect(intoRoleAssignable.statusCode).toBe(400);
    expect(await readAll(graph, `/groups/${security.id}/members?$select=id`)).toEqual([]);
    // Users still join a Microsoft 365 group.
    const { id: userId } = (await graph.api('/users').post(newUser(25))) as { id: string };
    await graph.api(`/groups/${unified.id}/members/$ref`).post({ '@odata.id': ref(userId) });
  });
});

describe('PATCH and DELETE /groups/{id}', () => {
  test('updates properties; unified groups go to the recycle bin, security groups are gone', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const security = (await graph.api('/groups').post(securityGroup(6))) as { id: string };
    await graph
      .api(`/groups/${security.id}`)
      .patch({ description: 'Updated', displayName: 'Renamed' });
    await expect(
      graph.api(`/groups/${security.id}`).select('description,displayName').get(),
    ).resolves.toMatchObject({
      description: 'Updated',
      displayName: 'Renamed',
    });
    const readOnly = await graphFailure(
      graph.api(`/groups/${security.id}`).patch({ isAssignableToRole: true }),
    );
    expect(readOnly.message).toBe("Property 'isAssignableToRole' is read-only and cannot be set.");
    const unified = (await graph.api('/groups').post({
      displayName: 'Team',
      groupTypes: ['Unified'],
      mailEnabled: true,
      mailNickname: 'team',
      securityEnabled: false,
    })) as { id: string };
    await graph.api(`/groups/${security.id}`).delete();
    await graph.api(`/groups/${unified.id}`).delete();
    const bin = await readAll(graph, '/directory/deletedItems/microsoft.graph.group?$select=id');
    expect(bin.map((g) => g['id'])).toEqual([unified.id]);
    await graph.api(`/directory/deletedItems/${unified.id}/restore`).post({});
    await expect(graph.api(`/groups/${unified.id}`).get()).resolves.toMatchObject({
      id: unified.id,
    });
    expect((await graphFailure(graph.api(`/groups/${security.id}`).get())).statusCode).toBe(404);
  });
});
