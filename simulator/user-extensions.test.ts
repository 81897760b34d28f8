/**
 * Directory extensions and the rest of the writable user, through the real Graph SDK: an
 * application's extensionProperties (seeded, listed by object id and by appId, created by POST),
 * extension values on users (typed by dataType, shown only on $select and only when set, an
 * unregistered one refused), employeeOrgData merged per subfield, ageGroup and otherMails
 * validated as Graph does.
 */
import { describe, expect, test } from 'vitest';
import { graphFailure, graphFor, newUser, simulator } from './test-helpers/simulator.js';

const APP_ID = '6a1e0c7b-3f2d-4d5e-9b8a-1c2d3e4f5a6b';
const APP_OBJECT_ID = '1f000000-0000-4000-8000-0000000000a1';
const ext = (name: string) => `extension_${APP_ID.replace(/-/g, '')}_${name}`;

const seed = {
  applications: [
    {
      appId: APP_ID,
      id: APP_OBJECT_ID,
      displayName: 'HR sync',
      extensionProperties: [
        { name: 'badge', dataType: 'Integer', targetObjects: ['User'] },
        { name: 'cleared', dataType: 'Boolean', targetObjects: ['User'] },
        { name: 'tags', dataType: 'String', isMultiValued: true, targetObjects: ['User'] },
        { name: 'site', dataType: 'String', targetObjects: ['Group'] },
      ],
    },
  ],
  users: [],
};

describe('applications/extensionProperties', () => {
  test('S-EXT1 listed by appId and by object id; created by POST with Application.ReadWrite.OwnedBy', async () => {
    const sim = await simulator({
      throttling: false,
      seed,
      clients: [
        { clientId: 'reader', clientSecret: 's', roles: ['Application.Read.All', 'User.Read.All'] },
        { clientId: 'owner', clientSecret: 's', roles: ['Application.ReadWrite.OwnedBy'] },
      ],
    });
    const [readerClient, ownerClient] = sim.clients;
    const reader = graphFor(sim, readerClient);
    const byAppId = (await reader
      .api(`/applications(appId='${APP_ID}')/extensionProperties`)
      .get()) as { value: Record<string, unknown>[] };
    expect(byAppId.value.map((e) => e['name'])).toEqual([
      ext('badge'),
      ext('cleared'),
      ext('tags'),
      ext('site'),
    ]);
    expect(byAppId.value[0]).toMatchObject({
      appDisplayName: 'HR sync',
      dataType: 'Integer',
      isMultiValued: false,
      isSyncedFromOnPremises: false,
      targetObjects: ['User'],
    });
    expect(byAppId.value[0]).not.toHaveProperty('ownerAppId');
    const byId = (await reader.api(`/applications/${APP_OBJECT_ID}/extensionProperties`).get()) as {
      value: unknown[];
    };
    expect(byId.value).toHaveLength(4);

    const missing = await graphFailure(
      reader
        .api(`/applications(appId='00000000-0000-4000-8000-000000000000')/extensionProperties`)
        .get(),
    );
    expect(missing.statusCode).toBe(404);
    const denied = await graphFailure(
      reader
        .api(`/applications/${APP_OBJECT_ID}/extensionProperties`)
        .post({ name: 'floor', dataType: 'String', targetObjects: ['User'] }),
    );
    expect(denied.statusCode).toBe(403);

    const owner = graphFor(sim, ownerClient);
    const created = (await owner
      .api(`/applications/${APP_OBJECT_ID}/extensionProperties`)
      .post({ name: 'floor', dataType: 'String', targetObjects: ['User'] })) as Record<
      string,
      unknown
    >;
    expect(created['name']).toBe(ext('floor'));
    const bad = await graphFailure(
      owner
        .api(`/applications/${APP_OBJECT_ID}/extensionProperties`)
        .post({ name: 'x', dataType: 'Decimal', targetObjects: ['User'] }),
    );
    expect(bad.statusCode).toBe(400);
    await sim.close();
  });
});

describe('extension values and the rest of the writable user', () => {
  test('S-EXT2 typed by dataType, shown only on $select and only when set; an unregistered one is 400', async () => {
    const sim = await simulator({ throttling: false, seed });
    const graph = graphFor(sim);
    const user = (await graph
      .api('/users')
      .post(newUser(1, { [ext('badge')]: 71001, [ext('tags')]: ['a', 'b'] }))) as { id: string };
    expect(user).not.toHaveProperty(ext('badge'));
    const read = (await graph
      .api(`/users/${user.id}`)
      .select(['id', ext('badge'), ext('cleared'), ext('tags')])
      .get()) as Record<string, unknown>;
    expect(read).toMatchObject({ [ext('badge')]: 71001, [ext('tags')]: ['a', 'b'] });
    // Unset: left out, not null.
    expect(read).not.toHaveProperty(ext('cleared'));

    for (const body of [
      { [ext('badge')]: '71001' },
      { [ext('badge')]: 3_000_000_000 },
      { [ext('cleared')]: 'true' },
      { [ext('tags')]: 'a' },
    ]) {
      expect((await graphFailure(graph.api(`/users/${user.id}`).patch(body))).statusCode).toBe(400);
    }
    const unknown = await graphFailure(
      graph.api(`/users/${user.id}`).patch({ [ext('nope')]: 'x' }),
    );
    expect(unknown.message).toBe(`Invalid property '${ext('nope')}'.`);
    // Registered for groups, not users.
    expect(
      (await graphFailure(graph.api(`/users/${user.id}`).patch({ [ext('site')]: 'x' }))).statusCode,
    ).toBe(400);
    await sim.close();
  });

  test('S-EXT3 employeeOrgData merges per subfield; ageGroup, consentProvidedForMinor and otherMails as Graph validates them', async () => {
    const sim = await simulator({ throttling: false, seed });
    const graph = graphFor(sim);
    const user = (await graph.api('/users').post(
      newUser(2, {
        employeeOrgData: { costCenter: 'CC-1', division: 'Eng' },
        otherMails: ['a@x.example', 'b@x.example'],
        faxNumber: '+1 555 0100',
        ageGroup: 'Adult',
      }),
    )) as { id: string };
    await graph.api(`/users/${user.id}`).patch({ employeeOrgData: { costCenter: 'CC-2' } });
    const read = (await graph
      .api(`/users/${user.id}`)
      .select(['employeeOrgData', 'otherMails', 'faxNumber', 'ageGroup', 'consentProvidedForMinor'])
      .get()) as Record<string, unknown>;
    expect(read).toMatchObject({
      employeeOrgData: { costCenter: 'CC-2', division: 'Eng' },
      otherMails: ['a@x.example', 'b@x.example'],
      faxNumber: '+1 555 0100',
      ageGroup: 'Adult',
      consentProvidedForMinor: null,
    });
    for (const body of [
      { ageGroup: 'Teen' },
      { consentProvidedForMinor: 'Maybe' },
      { employeeOrgData: { team: 'x' } },
      { otherMails: ['x'.repeat(251)] },
      { passwordPolicies: 'NeverExpire' },
    ]) {
      expect((await graphFailure(graph.api(`/users/${user.id}`).patch(body))).statusCode).toBe(400);
    }
    await graph
      .api(`/users/${user.id}`)
      .patch({ ageGroup: 'minor', consentProvidedForMinor: 'granted' });
    await sim.close();
  });

  test('S-EXT4 $filter on extension values: eq on String and Boolean, any() on multi-valued, eq null with advanced queries', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        ...seed,
        applications: [
          {
            ...seed.applications[0],
            extensionProperties: [
              ...seed.applications[0]!.extensionProperties,
              { name: 'office', dataType: 'String', targetObjects: ['User'] },
            ],
          },
        ],
        users: [1, 2, 3].map((n) => {
          const { passwordProfile: _p, ...user } = newUser(n);
          return {
            ...user,
            ...(n < 3 ? { [ext('office')]: n === 1 ? 'Lisbon' : 'Accra' } : {}),
            [ext('cleared')]: n === 2,
            [ext('tags')]: n === 1 ? ['red', 'blue'] : ['green'],
          };
        }),
      },
    });
    const graph = graphFor(sim);
    const upns = async (filter: string, advanced = false) => {
      let request = graph.api('/users').filter(filter).select('userPrincipalName');
      if (advanced) request = request.header('ConsistencyLevel', 'eventual').count(true);
      const page = (await request.get()) as { value: { userPrincipalName: string }[] };
      return page.value.map((u) => u.userPrincipalName).sort();
    };
    expect(await upns(`${ext('office')} eq 'lisbon'`)).toEqual(['user1@contoso.example']);
    expect(await upns(`${ext('cleared')} eq true`)).toEqual(['user2@contoso.example']);
    expect(await upns(`${ext('tags')}/any(t:t eq 'blue')`)).toEqual(['user1@contoso.example']);
    expect(await upns(`${ext('office')} eq null`, true)).toEqual(['user3@contoso.example']);
    const integer = await graphFailure(
      graph
        .api('/users')
        .filter(`${ext('badge')} eq 'x'`)
        .get(),
    );
    expect(integer.statusCode).toBe(400);
    await sim.close();
  });
});
