/**
 * `$expand=manager` on GET /users and GET /users/{id}, `POST /users/{id}/revokeSignInSessions`,
 * and the new user and group properties through `$batch`, with the real Graph SDK.
 */
import { BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';
import { describe, expect, test } from 'vitest';
import type { SimulatorClient } from './index.js';
import { createVirtualClock } from './index.js';
import {
  graphFailure,
  graphFor,
  readAll,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';

function person(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accountEnabled: true,
    displayName: `Person ${i}`,
    mailNickname: `person${i}`,
    userPrincipalName: `person${i}@contoso.example`,
    usageLocation: 'GB',
    employeeId: `E${i}`,
    ...extra,
  };
}

/** person0 manages person1 and person2; person3 has no manager. */
const orgChart = {
  users: [
    person(0),
    person(1, { manager: 'person0@contoso.example' }),
    person(2, { manager: 'person0@contoso.example' }),
    person(3),
  ],
};

describe('$expand=manager', () => {
  test('GET /users carries each manager (with a nested $select) or no manager property', async () => {
    const sim = await simulator({ throttling: false, seed: orgChart });
    const graph = graphFor(sim);
    const [p0, p1, p2, p3] = sim.store.listUsers().map((u) => u.id) as [
      string,
      string,
      string,
      string,
    ];
    const page = (await graph
      .api('/users')
      .select('id,displayName')
      .expand('manager($select=id)')
      .get()) as { '@odata.context': string; value: Record<string, unknown>[] };
    expect(page['@odata.context']).toBe(
      `${sim.origin}/v1.0/$metadata#users(id,displayName,manager(id))`,
    );
    const manager = { '@odata.type': '#microsoft.graph.user', id: p0 };
    expect(page.value).toEqual([
      { id: p0, displayName: 'Person 0' },
      { id: p1, displayName: 'Person 1', manager },
      { id: p2, displayName: 'Person 2', manager },
      { id: p3, displayName: 'Person 3' },
    ]);

    // Plain $expand=manager: the default user properties, with @odata.type first.
    const plain = (await graph
      .api('/users')
      .filter("employeeId eq 'E1'")
      .expand('manager')
      .get()) as { '@odata.context': string; value: Record<string, unknown>[] };
    expect(plain['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#users(manager())`);
    expect(Object.keys(plain.value[0]?.['manager'] as object)).toEqual([
      '@odata.type',
      'businessPhones',
      'displayName',
      'givenName',
      'jobTitle',
      'mail',
      'mobilePhone',
      'officeLocation',
      'preferredLanguage',
      'surname',
      'userPrincipalName',
      'id',
    ]);

    // GET /users/{id} expands the same way.
    const one = (await graph
      .api(`/users/${p2}`)
      .select('displayName')
      .expand('manager($select=displayName)')
      .get()) as Record<string, unknown>;
    expect(one).toEqual({
      '@odata.context': `${sim.origin}/v1.0/$metadata#users(displayName,manager(displayName))/$entity`,
      displayName: 'Person 2',
      id: p2,
      manager: { '@odata.type': '#microsoft.graph.user', displayName: 'Person 0', id: p0 },
    });

    // A manager in the recycle bin is not expanded.
    await graph.api(`/users/${p0}`).delete();
    const orphan = (await graph.api(`/users/${p1}`).expand('manager').get()) as Record<
      string,
      unknown
    >;
    expect(orphan).not.toHaveProperty('manager');
  });

  test('with $expand a page holds at most 100 users whatever $top says; paging still works', async () => {
    const users = Array.from({ length: 150 }, (_, i) =>
      person(i, i === 0 ? {} : { manager: 'person0@contoso.example' }),
    );
    const sim = await simulator({ throttling: false, seed: { users } });
    const graph = graphFor(sim);
    const first = (await graph
      .api('/users')
      .select('id')
      .expand('manager($select=id)')
      .top(999)
      .get()) as { value: unknown[]; '@odata.nextLink': string };
    expect(first.value).toHaveLength(100);
    expect(first['@odata.nextLink']).toContain('$expand=manager($select=id)');
    expect(first['@odata.nextLink']).toContain('$top=999');
    const all = await readAll(graph, '/users?$select=id&$expand=manager($select=id)&$top=999');
    expect(new Set(all.map((u) => u['id'])).size).toBe(150);
    expect(all.filter((u) => u['manager'] !== undefined)).toHaveLength(149);
    // $top below the cap is honoured.
    const small = (await graph.api('/users').expand('manager').top(7).get()) as {
      value: unknown[];
    };
    expect(small.value).toHaveLength(7);
  });

  test('what Graph refuses or the simulator does not implement fails loudly', async () => {
    const sim = await simulator({ throttling: false, seed: orgChart });
    const graph = graphFor(sim);
    const cases: [() => Promise<unknown>, number, string][] = [
      [
        () =>
          graph
            .api('/users')
            .header('ConsistencyLevel', 'eventual')
            .count(true)
            .expand('manager')
            .get(),
        400,
        'Request_UnsupportedQuery',
      ],
      [
        () => graph.api('/users').expand('manager($expand=manager)').get(),
        400,
        'Request_UnsupportedQuery',
      ],
      [() => graph.api('/users').expand('manager($levels=max)').get(), 501, 'NotImplemented'],
      [() => graph.api('/users').expand('directReports').get(), 501, 'NotImplemented'],
      [() => graph.api('/users').expand('manager,memberOf').get(), 501, 'NotImplemented'],
      [() => graph.api('/users').expand('displayName').get(), 400, 'BadRequest'],
      [() => graph.api('/users').expand('colleagues').get(), 400, 'BadRequest'],
      [() => graph.api('/users').expand('manager($select=nope)').get(), 400, 'BadRequest'],
      [() => graph.api('/groups').expand('members').get(), 501, 'NotImplemented'],
      // Graph documents $expand as unsupported on user delta.
      [() => graph.api('/users/delta').expand('manager').get(), 501, 'NotImplemented'],
    ];
    for (const [request, status, code] of cases) {
      const error = await graphFailure(request());
      expect([error.statusCode, error.code]).toEqual([status, code]);
    }
    const structural = await graphFailure(graph.api('/users').expand('displayName').get());
    expect(structural.message).toBe(
      "Property 'displayName' on type 'microsoft.graph.user' is not a navigation property or complex property. Only navigation properties can be expanded.",
    );
  });
});

describe('POST /users/{id}/revokeSignInSessions', () => {
  test('answers Edm.Boolean true and records signInSessionsValidFromDateTime', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({ throttling: false, clock, seed: { users: [person(0)] } });
    const graph = graphFor(sim);
    const before = (await graph
      .api('/users/person0@contoso.example')
      .select('signInSessionsValidFromDateTime,createdDateTime')
      .get()) as Record<string, unknown>;
    // A9: valid from the creation on, as Graph shows a user never revoked.
    expect(before['signInSessionsValidFromDateTime']).toBe(before['createdDateTime']);
    expect(before['signInSessionsValidFromDateTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    clock.advance(65_000);
    const response = (await graph
      .api('/users/person0@contoso.example/revokeSignInSessions')
      .post(undefined)) as Record<string, unknown>;
    expect(response).toEqual({
      '@odata.context': `${sim.origin}/v1.0/$metadata#Edm.Boolean`,
      value: true,
    });
    const after = (await graph
      .api('/users/person0@contoso.example')
      .select('signInSessionsValidFromDateTime')
      .get()) as Record<string, unknown>;
    expect(after['signInSessionsValidFromDateTime']).toBe('2026-01-01T00:01:05Z');
    // Not in the default property set; the SDK's fully qualified action name works too.
    const plain = (await graph.api('/users/person0@contoso.example').get()) as object;
    expect(plain).not.toHaveProperty('signInSessionsValidFromDateTime');
    clock.advance(1000);
    await graph.api('/users/person0@contoso.example/microsoft.graph.revokeSignInSessions').post({});
    expect(
      (
        (await graph
          .api('/users/person0@contoso.example')
          .select('signInSessionsValidFromDateTime')
          .get()) as Record<string, unknown>
      )['signInSessionsValidFromDateTime'],
    ).toBe('2026-01-01T00:01:06Z');
    // Read-only, and 404 for a missing user.
    const readOnly = await graphFailure(
      graph
        .api('/users/person0@contoso.example')
        .patch({ signInSessionsValidFromDateTime: '2026-01-01T00:00:00Z' }),
    );
    expect(readOnly.statusCode).toBe(400);
    const missing = await graphFailure(
      graph.api('/users/nobody@contoso.example/revokeSignInSessions').post({}),
    );
    expect([missing.statusCode, missing.code]).toEqual([404, 'Request_ResourceNotFound']);
  });

  test('needs User.RevokeSessions.All, User.ReadWrite.All or Directory.ReadWrite.All', async () => {
    const revoker: SimulatorClient = {
      clientId: '41111111-2222-4333-8444-555555555555',
      clientSecret: 'revoker-secret-value-1',
      roles: ['User.RevokeSessions.All'],
    };
    const reader: SimulatorClient = {
      clientId: '51111111-2222-4333-8444-555555555555',
      clientSecret: 'reader-secret-value-1',
      roles: ['User.Read.All'],
    };
    const sim = await simulator({
      throttling: false,
      clients: [revoker, reader],
      seed: { users: [person(0)] },
    });
    await expect(
      graphFor(sim, revoker).api('/users/person0@contoso.example/revokeSignInSessions').post({}),
    ).resolves.toMatchObject({ value: true });
    const denied = await graphFailure(
      graphFor(sim, reader).api('/users/person0@contoso.example/revokeSignInSessions').post({}),
    );
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
  });
});

describe('$batch', () => {
  test('licenses, assignment states, sessions and $expand work inside a batch', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({
      throttling: false,
      clock,
      seed: {
        ...orgChart,
        subscribedSkus: [{ skuId: E3, skuPartNumber: 'SPE_E3', prepaidUnits: { enabled: 5 } }],
      },
    });
    const graph = graphFor(sim);
    const [p0, p1] = sim.store.listUsers().map((u) => u.id) as [string, string];
    const group = (await graph
      .api('/groups')
      .post(securityGroup(1, { 'members@odata.bind': [ref(p1)] }))) as { id: string };
    const request = (method: string, url: string, body?: unknown): Request =>
      new Request(`https://graph.microsoft.com${url}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      });
    // The SDK accepts serial dependencies only: each item depends on the previous one.
    const batch = new BatchRequestContent([
      {
        id: 'license',
        request: request('POST', `/groups/${group.id}/assignLicense`, {
          addLicenses: [{ skuId: E3, disabledPlans: [] }],
          removeLicenses: [],
        }),
      },
      {
        id: 'revoke',
        request: request('POST', `/users/${p1}/revokeSignInSessions`, {}),
        dependsOn: ['license'],
      },
      {
        id: 'read',
        request: request(
          'GET',
          `/users/${p1}?$select=assignedLicenses,licenseAssignmentStates,signInSessionsValidFromDateTime`,
        ),
        dependsOn: ['revoke'],
      },
      {
        id: 'group',
        request: request('GET', `/groups/${group.id}?$select=assignedLicenses`),
        dependsOn: ['read'],
      },
      {
        id: 'expand',
        request: request('GET', `/users/${p1}?$select=id&$expand=manager($select=id)`),
        dependsOn: ['group'],
      },
    ]);
    const response = new BatchResponseContent(
      await graph.api('/$batch').post(await batch.getContent()),
    );
    expect(response.getResponseById('license')?.status).toBe(202);
    expect(await response.getResponseById('revoke')?.json()).toMatchObject({ value: true });
    expect(await response.getResponseById('read')?.json()).toMatchObject({
      assignedLicenses: [{ disabledPlans: [], skuId: E3 }],
      licenseAssignmentStates: [
        { assignedByGroup: group.id, error: 'None', skuId: E3, state: 'Active' },
      ],
      signInSessionsValidFromDateTime: '2026-01-01T00:00:00Z',
    });
    expect(await response.getResponseById('group')?.json()).toMatchObject({
      assignedLicenses: [{ disabledPlans: [], skuId: E3 }],
    });
    expect(await response.getResponseById('expand')?.json()).toMatchObject({
      id: p1,
      manager: { '@odata.type': '#microsoft.graph.user', id: p0 },
    });
  });
});
