/**
 * Users beyond v1: $filter, $count with advanced queries, delete to the recycle bin and restore,
 * the manager reference, licenses (subscribedSkus, assignLicense), through the real Graph SDK.
 */
import { describe, expect, test } from 'vitest';
import {
  graphFailure,
  graphFor,
  newUser,
  raw,
  bearer,
  readAll,
  simulator,
} from './test-helpers/simulator.js';

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const E5 = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
const YAMMER = '7547a3fe-08ee-4ccb-b430-5077c5041653';

function seedUsers(count: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: count }, (_, i) => ({
    accountEnabled: i % 3 !== 0,
    displayName: `Person ${i}`,
    mailNickname: `person${i}`,
    userPrincipalName: `person${i}@contoso.example`,
    mail: `person${i}@contoso.example`,
    employeeId: `E${1000 + i}`,
    ...extra(i),
  }));
}

describe('GET /users?$filter', () => {
  test('eq, startsWith, in, and/or on UPN, mail, employeeId, accountEnabled', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        users: seedUsers(30, (i) => ({
          onPremisesExtensionAttributes: {
            extensionAttribute1: i % 2 === 0 ? 'FTE' : 'Contractor',
          },
        })),
      },
    });
    const graph = graphFor(sim);
    const upns = async (filter: string, headers: Record<string, string> = {}, count = false) => {
      let request = graph.api('/users').filter(filter).select('userPrincipalName').top(999);
      for (const [k, v] of Object.entries(headers)) request = request.header(k, v);
      if (count) request = request.count(true);
      const page = (await request.get()) as { value: { userPrincipalName: string }[] };
      return page.value.map((u) => u.userPrincipalName);
    };
    expect(await upns("userPrincipalName eq 'PERSON3@contoso.example'")).toEqual([
      'person3@contoso.example',
    ]);
    expect(await upns("mail eq 'person4@contoso.example'")).toEqual(['person4@contoso.example']);
    expect(await upns("employeeId in ('E1005', 'E1007', 'E9999')")).toEqual([
      'person5@contoso.example',
      'person7@contoso.example',
    ]);
    expect(await upns("startsWith(userPrincipalName, 'person2')")).toEqual([
      'person2@contoso.example',
      'person20@contoso.example',
      'person21@contoso.example',
      'person22@contoso.example',
      'person23@contoso.example',
      'person24@contoso.example',
      'person25@contoso.example',
      'person26@contoso.example',
      'person27@contoso.example',
      'person28@contoso.example',
      'person29@contoso.example',
    ]);
    expect(
      await upns("startsWith(userPrincipalName, 'person1') and accountEnabled eq false"),
    ).toEqual(['person12@contoso.example', 'person15@contoso.example', 'person18@contoso.example']);
    expect(await upns("employeeId eq 'E1001' or mail eq 'person2@contoso.example'")).toEqual([
      'person1@contoso.example',
      'person2@contoso.example',
    ]);
    // onPremisesExtensionAttributes need advanced query parameters (ConsistencyLevel + $count).
    const advanced = await upns(
      "onPremisesExtensionAttributes/extensionAttribute1 eq 'Contractor' and startsWith(mail, 'person1')",
      { ConsistencyLevel: 'eventual' },
      true,
    );
    // person1, person11, 13, 15, 17, 19 (odd numbers are contractors).
    expect(advanced).toHaveLength(6);
    const notAdvanced = await graphFailure(
      graph
        .api('/users')
        .filter("onPremisesExtensionAttributes/extensionAttribute1 eq 'FTE'")
        .get(),
    );
    expect([notAdvanced.statusCode, notAdvanced.code, notAdvanced.message]).toEqual([
      400,
      'Request_UnsupportedQuery',
      "Unsupported or invalid query filter clause specified for property 'onPremisesExtensionAttributes/extensionAttribute1' of resource 'User'.",
    ]);
  });

  test('$count=true with ConsistencyLevel: eventual adds @odata.count; without it is ignored', async () => {
    const sim = await simulator({ throttling: false, seed: { users: seedUsers(12) } });
    const graph = graphFor(sim);
    const counted = (await graph
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .count(true)
      .filter('accountEnabled eq true')
      .top(3)
      .get()) as Record<string, unknown>;
    expect(counted['@odata.count']).toBe(8);
    expect(counted['@odata.nextLink']).toMatch(/\$count=true/);
    const ignored = (await graph.api('/users').count(true).get()) as Record<string, unknown>;
    expect(ignored['@odata.count']).toBeUndefined();

    const authorization = await bearer(sim);
    const count = await raw(sim, '/v1.0/users/$count', {
      headers: { authorization, ConsistencyLevel: 'eventual' },
    });
    expect([count.status, count.text, count.headers.get('content-type')]).toEqual([
      200,
      '12',
      'text/plain',
    ]);
    const refused = await raw(sim, '/v1.0/users/$count', { headers: { authorization } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: { code: 'Request_BadRequest', message: '$count is not currently supported.' },
    });
  });

  test('unsupported filters are Graph’s 400s, never ignored', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const cases: [string, number, string, RegExp][] = [
      ["nosuch eq 'x'", 400, 'BadRequest', /Could not find a property named 'nosuch'/],
      ["accountEnabled eq 'yes'", 400, 'BadRequest', /incompatible types/],
      ["displayName ne 'x'", 400, 'Request_UnsupportedQuery', /Operator 'ne' is not supported/],
      ["endsWith(mail, '@contoso.example')", 400, 'Request_UnsupportedQuery', /'endsWith'/],
      ['userPrincipalName eq', 400, 'BadRequest', /Syntax error/],
      ["jobTitle gt 'a'", 400, 'Request_UnsupportedQuery', /property 'jobTitle'/],
      [
        `employeeId in (${Array.from({ length: 16 }, (_, i) => `'E${i}'`).join(',')})`,
        400,
        'Request_UnsupportedQuery',
        /Too many child clauses/,
      ],
    ];
    for (const [filter, status, code, message] of cases) {
      const error = await graphFailure(graph.api('/users').filter(filter).get());
      expect({ filter, status: error.statusCode, code: error.code }).toEqual({
        filter,
        status,
        code,
      });
      expect(error.message).toMatch(message);
    }
  });

  test('filtered paging returns every match exactly once', async () => {
    const sim = await simulator({ throttling: false, seed: { users: seedUsers(250) } });
    const graph = graphFor(sim);
    const all = await readAll(graph, '/users?$filter=accountEnabled eq true&$top=40&$select=id');
    expect(all).toHaveLength(166);
    expect(new Set(all.map((u) => u['id'])).size).toBe(166);
  });
});

describe('DELETE /users and the recycle bin', () => {
  test('delete moves to deletedItems; restore brings the user back; purge removes it', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const { id } = (await graph.api('/users').post(newUser(1))) as { id: string };
    await graph.api(`/users/${id}`).delete();
    const gone = await graphFailure(graph.api(`/users/${id}`).get());
    expect(gone.statusCode).toBe(404);

    const deleted = (await graph
      .api('/directory/deletedItems/microsoft.graph.user')
      .select('id,userPrincipalName,deletedDateTime')
      .get()) as { '@odata.context': string; value: Record<string, unknown>[] };
    expect(deleted['@odata.context']).toBe(
      `${sim.origin}/v1.0/$metadata#users(id,userPrincipalName,deletedDateTime)`,
    );
    expect(deleted.value).toEqual([
      {
        id,
        userPrincipalName: 'user1@contoso.example',
        deletedDateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      },
    ]);
    const item = (await graph.api(`/directory/deletedItems/${id}`).get()) as Record<
      string,
      unknown
    >;
    expect(item).toMatchObject({ '@odata.type': '#microsoft.graph.user', id });

    const restored = (await graph.api(`/directory/deletedItems/${id}/restore`).post({})) as Record<
      string,
      unknown
    >;
    expect(restored).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#directoryObjects/$entity`,
      '@odata.type': '#microsoft.graph.user',
      id,
      userPrincipalName: 'user1@contoso.example',
    });
    await expect(graph.api(`/users/${id}`).get()).resolves.toMatchObject({ id });

    await graph.api(`/users/${id}`).delete();
    await graph.api(`/directory/deletedItems/${id}`).delete();
    const purged = await graphFailure(graph.api(`/directory/deletedItems/${id}`).get());
    expect(purged.statusCode).toBe(404);
  });

  test('a deleted user’s UPN can be reused; restoring the old one then conflicts', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const { id } = (await graph.api('/users').post(newUser(2))) as { id: string };
    await graph.api(`/users/${id}`).delete();
    await graph.api('/users').post(newUser(2));
    const conflict = await graphFailure(
      graph.api(`/directory/deletedItems/${id}/restore`).post({}),
    );
    expect([conflict.statusCode, conflict.message]).toEqual([
      400,
      'Another object with the same value for property userPrincipalName already exists.',
    ]);
  });

  test('listing deletedItems needs a type cast; deleting needs a delete permission', async () => {
    const reader = {
      clientId: '0e0f1a2b-0000-4000-8000-000000000001',
      clientSecret: 'reader-secret-1',
      roles: ['User.Read.All'],
    };
    const sim = await simulator({
      throttling: false,
      clients: [reader],
      seed: { users: seedUsers(1) },
    });
    const graph = graphFor(sim, reader);
    const noCast = await graphFailure(graph.api('/directory/deletedItems').get());
    expect(noCast.statusCode).toBe(501);
    const denied = await graphFailure(graph.api('/users/person0@contoso.example').delete());
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
  });
});

describe('manager', () => {
  test('PUT, GET and DELETE /users/{id}/manager', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const boss = (await graph.api('/users').post(newUser('boss'))) as { id: string };
    const worker = (await graph.api('/users').post(newUser('worker'))) as { id: string };
    const none = await graphFailure(graph.api(`/users/${worker.id}/manager`).get());
    expect([none.statusCode, none.code]).toEqual([404, 'Request_ResourceNotFound']);

    await graph
      .api(`/users/${worker.id}/manager/$ref`)
      .put({ '@odata.id': `https://graph.microsoft.com/v1.0/users/${boss.id}` });
    const manager = (await graph.api(`/users/${worker.id}/manager`).get()) as Record<
      string,
      unknown
    >;
    expect(manager).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#directoryObjects/$entity`,
      '@odata.type': '#microsoft.graph.user',
      id: boss.id,
      userPrincipalName: 'userboss@contoso.example',
    });
    await graph.api(`/users/${worker.id}/manager/$ref`).delete();
    expect((await graphFailure(graph.api(`/users/${worker.id}/manager`).get())).statusCode).toBe(
      404,
    );

    const missing = await graphFailure(
      graph.api(`/users/${worker.id}/manager/$ref`).put({
        '@odata.id': 'https://graph.microsoft.com/v1.0/users/00000000-0000-4000-8000-000000000000',
      }),
    );
    expect(missing.statusCode).toBe(404);
  });
});

describe('licenses', () => {
  const skus = [
    {
      skuId: E3,
      skuPartNumber: 'SPE_E3',
      prepaidUnits: { enabled: 2 },
      servicePlans: [
        {
          servicePlanId: YAMMER,
          servicePlanName: 'YAMMER_ENTERPRISE',
          provisioningStatus: 'Success',
          appliesTo: 'User',
        },
      ],
    },
    { skuId: E5, skuPartNumber: 'SPE_E5', prepaidUnits: { enabled: 5, warning: 1 } },
  ];

  test('subscribedSkus reports prepaid and consumed units in Graph’s shape', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        users: seedUsers(2, () => ({ usageLocation: 'GB', assignedLicenses: [{ skuId: E3 }] })),
        subscribedSkus: skus,
      },
    });
    const list = (await graphFor(sim).api('/subscribedSkus').get()) as {
      '@odata.context': string;
      value: Record<string, unknown>[];
    };
    expect(list['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#subscribedSkus`);
    expect(list.value[0]).toEqual({
      accountName: 'entrasync simulator',
      accountId: sim.tenantId,
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      consumedUnits: 2,
      id: `${sim.tenantId}_${E3}`,
      prepaidUnits: { enabled: 2, lockedOut: 0, suspended: 0, warning: 0 },
      servicePlans: skus[0]?.servicePlans,
      skuId: E3,
      skuPartNumber: 'SPE_E3',
      subscriptionIds: [],
    });
    expect(Object.keys(list.value[0] ?? {})).toEqual([
      'accountName',
      'accountId',
      'appliesTo',
      'capabilityStatus',
      'consumedUnits',
      'id',
      'prepaidUnits',
      'servicePlans',
      'skuId',
      'skuPartNumber',
      'subscriptionIds',
    ]);
  });

  test('assignLicense adds with disabledPlans, removes, and fails as Graph does', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        users: seedUsers(4, (i) => (i === 3 ? {} : { usageLocation: 'US' })),
        subscribedSkus: skus,
      },
    });
    const graph = graphFor(sim);
    const user = (await graph.api('/users/person0@contoso.example/assignLicense').post({
      addLicenses: [{ skuId: E3, disabledPlans: [YAMMER] }],
      removeLicenses: [],
    })) as Record<string, unknown>;
    expect(user).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#users/$entity`,
      userPrincipalName: 'person0@contoso.example',
    });
    const read = (await graph
      .api('/users/person0@contoso.example')
      .select('assignedLicenses')
      .get()) as { assignedLicenses: unknown };
    expect(read.assignedLicenses).toEqual([{ disabledPlans: [YAMMER], skuId: E3 }]);

    await graph
      .api('/users/person1@contoso.example/assignLicense')
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    const noSeats = await graphFailure(
      graph
        .api('/users/person2@contoso.example/assignLicense')
        .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] }),
    );
    expect([noSeats.statusCode, noSeats.code, noSeats.message]).toEqual([
      400,
      'Request_BadRequest',
      `Subscription with SKU ${E3} does not have any available licenses.`,
    ]);
    const noLocation = await graphFailure(
      graph
        .api('/users/person3@contoso.example/assignLicense')
        .post({ addLicenses: [{ skuId: E5, disabledPlans: [] }], removeLicenses: [] }),
    );
    expect([noLocation.statusCode, noLocation.message]).toEqual([
      400,
      'License assignment cannot be done for user with invalid usage location.',
    ]);
    const unknown = await graphFailure(
      graph.api('/users/person2@contoso.example/assignLicense').post({
        addLicenses: [{ skuId: '11111111-1111-4111-8111-111111111111', disabledPlans: [] }],
        removeLicenses: [],
      }),
    );
    expect(unknown.message).toBe(
      'License 11111111-1111-4111-8111-111111111111 does not correspond to a valid company License.',
    );

    // Removing frees the seat; deleting a user frees its seats too.
    await graph
      .api('/users/person0@contoso.example/assignLicense')
      .post({ addLicenses: [], removeLicenses: [E3] });
    await graph
      .api('/users/person2@contoso.example/assignLicense')
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    await graph.api('/users/person1@contoso.example').delete();
    const after = (await graph.api('/subscribedSkus').select('skuId,consumedUnits').get()) as {
      value: { skuId: string; consumedUnits: number }[];
    };
    // $select always brings the key (id) too, as Graph does.
    expect(after.value).toEqual([
      { skuId: E3, consumedUnits: 1, id: `${sim.tenantId}_${E3}` },
      { skuId: E5, consumedUnits: 0, id: `${sim.tenantId}_${E5}` },
    ]);
  });
});
