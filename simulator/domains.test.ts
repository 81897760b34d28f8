/**
 * Domains: `GET /domains` and `/domains/{id}` (shape, `$select`, permissions), the defaults of a
 * seed without `domains`, a seed's own `domains`, and user create/update refused in a domain
 * that is not verified, through the real Graph SDK.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_EXTRA_DOMAINS, INITIAL_DOMAIN, openTenantStore, parseSeed } from './index.js';
import {
  graphFailure,
  graphFor,
  newUser,
  raw,
  bearer,
  simulator,
  tempDir,
} from './test-helpers/simulator.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const READER = {
  clientId: 'd0d0d0d0-0000-4000-8000-000000000001',
  clientSecret: 'domain-reader-secret-1',
  roles: ['Domain.Read.All'],
};
const USERS_ONLY = {
  clientId: 'd0d0d0d0-0000-4000-8000-000000000002',
  clientSecret: 'users-only-secret-12',
  roles: ['User.ReadWrite.All'],
};

const UNVERIFIED =
  'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.';

describe('GET /domains', () => {
  test('a seed without domains: the initial domain, the default extras and the seeded users’ domains', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        users: [
          {
            accountEnabled: true,
            displayName: 'Cy',
            mailNickname: 'cy',
            userPrincipalName: 'cy@Fabrikam.example',
            mail: 'cy@mail.fabrikam.example',
          },
        ],
      },
    });
    const page = (await graphFor(sim).api('/domains').get()) as {
      '@odata.context': string;
      value: Record<string, unknown>[];
    };
    expect(page['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#domains`);
    expect(page.value.map((d) => d['id'])).toEqual([
      INITIAL_DOMAIN,
      ...DEFAULT_EXTRA_DOMAINS,
      'fabrikam.example',
      'mail.fabrikam.example',
    ]);
    expect(page.value[0]).toEqual({
      authenticationType: 'Managed',
      availabilityStatus: null,
      id: 'contoso.onmicrosoft.com',
      isAdminManaged: true,
      isDefault: true,
      isInitial: true,
      isRoot: true,
      isVerified: true,
      supportedServices: ['Email', 'OfficeCommunicationsOnline'],
      passwordValidityPeriodInDays: null,
      passwordNotificationWindowInDays: null,
      state: null,
    });
    expect(page.value.slice(1).every((d) => d['isVerified'] === true && !d['isDefault'])).toBe(
      true,
    );
  });

  test('a seed with domains gets exactly those (plus the initial domain); $select; get by name', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        users: [],
        domains: [
          { id: 'contoso.com', isDefault: true, supportedServices: ['Email'] },
          { id: 'pending.example', isVerified: false },
          { id: 'corp.contoso.com', authenticationType: 'Federated' },
        ],
      },
    });
    const graph = graphFor(sim);
    const page = (await graph
      .api('/domains')
      .select('id,isVerified,isDefault,isInitial')
      .get()) as { '@odata.context': string; value: Record<string, unknown>[] };
    expect(page['@odata.context']).toBe(
      `${sim.origin}/v1.0/$metadata#domains(id,isVerified,isDefault,isInitial)`,
    );
    expect(page.value).toEqual([
      { id: INITIAL_DOMAIN, isVerified: true, isDefault: false, isInitial: true },
      { id: 'contoso.com', isVerified: true, isDefault: true, isInitial: false },
      { id: 'pending.example', isVerified: false, isDefault: false, isInitial: false },
      { id: 'corp.contoso.com', isVerified: true, isDefault: false, isInitial: false },
    ]);
    const one = (await graph.api('/domains/Corp.Contoso.com').get()) as Record<string, unknown>;
    expect(one).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#domains/$entity`,
      id: 'corp.contoso.com',
      authenticationType: 'Federated',
      isRoot: true,
    });
    const missing = await graphFailure(graph.api('/domains/nowhere.example').get());
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('Request_ResourceNotFound');
    const badSelect = await graphFailure(graph.api('/domains').select('nope').get());
    expect(badSelect.statusCode).toBe(400);
  });

  test('Domain.Read.All suffices; without a domain or directory read permission: 403', async () => {
    const sim = await simulator({ throttling: false, clients: [READER, USERS_ONLY] });
    const listed = await raw(sim, '/v1.0/domains', {
      headers: { Authorization: await bearer(sim, sim.clients[0]) },
    });
    expect(listed.status).toBe(200);
    const refused = await raw(sim, '/v1.0/domains', {
      headers: { Authorization: await bearer(sim, sim.clients[1]) },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'Authorization_RequestDenied' } });
  });
});

describe('user writes in a domain that is not verified', () => {
  test('create: 400 Request_BadRequest with Graph’s text; a verified domain (any case) is fine', async () => {
    const sim = await simulator({
      throttling: false,
      seed: { users: [], domains: [{ id: 'pending.example', isVerified: false }] },
    });
    const graph = graphFor(sim);
    for (const upn of ['ann@fabrikam.example', 'bob@pending.example']) {
      const error = await graphFailure(
        graph.api('/users').post(newUser(upn.split('@')[0] ?? '', { userPrincipalName: upn })),
      );
      expect(error.statusCode).toBe(400);
      expect(error.code).toBe('Request_BadRequest');
      expect(error.message).toBe(UNVERIFIED);
    }
    expect(sim.store.listUsers()).toHaveLength(0);
    await graph
      .api('/users')
      .post(newUser('cy', { userPrincipalName: 'cy@CONTOSO.onmicrosoft.com' }));
    expect(sim.store.listUsers().map((u) => u.userPrincipalName)).toEqual([
      'cy@CONTOSO.onmicrosoft.com',
    ]);
  });

  test('update: a UPN moved into an unverified domain is refused and nothing changes', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const created = (await graph.api('/users').post(newUser(1))) as { id: string };
    const error = await graphFailure(
      graph
        .api(`/users/${created.id}`)
        .patch({ userPrincipalName: 'user1@fabrikam.example', jobTitle: 'Engineer' }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe(UNVERIFIED);
    expect(sim.store.getUserById(created.id)?.user).toMatchObject({
      userPrincipalName: 'user1@contoso.example',
    });
    expect(sim.store.getUserById(created.id)?.user['jobTitle']).toBeUndefined();
    await graph.api(`/users/${created.id}`).patch({ userPrincipalName: 'user1@contoso.com' });
    expect(sim.store.getUserById(created.id)?.user.userPrincipalName).toBe('user1@contoso.com');
  });

  test('inside $batch the item fails on its own', async () => {
    const sim = await simulator({ throttling: false });
    const response = (await graphFor(sim)
      .api('/$batch')
      .post({
        requests: [
          {
            id: '1',
            method: 'POST',
            url: '/users',
            headers: { 'Content-Type': 'application/json' },
            body: newUser(1),
          },
          {
            id: '2',
            method: 'POST',
            url: '/users',
            headers: { 'Content-Type': 'application/json' },
            body: newUser(2, { userPrincipalName: 'user2@fabrikam.example' }),
          },
        ],
      })) as { responses: { id: string; status: number; body: { error?: { message: string } } }[] };
    const byId = new Map(response.responses.map((r) => [r.id, r]));
    expect(byId.get('1')?.status).toBe(201);
    expect(byId.get('2')?.status).toBe(400);
    expect(byId.get('2')?.body.error?.message).toBe(UNVERIFIED);
  });
});

describe('seeds and states', () => {
  test('a seed with domains refuses users outside its verified domains, and bad entries', () => {
    const seed =
      (domains: unknown, upn = 'ann@contoso.com') =>
      () =>
        parseSeed(
          {
            users: [
              {
                accountEnabled: true,
                displayName: 'Ann',
                mailNickname: 'ann',
                userPrincipalName: upn,
              },
            ],
            domains,
          },
          'tenant.json',
        );
    expect(seed([{ id: 'contoso.com' }])).not.toThrow();
    expect(seed([{ id: 'contoso.com' }], 'ann@fabrikam.example')).toThrow(
      `Seed file tenant.json: users[0]: ${UNVERIFIED}`,
    );
    expect(seed([{ id: 'contoso.com', isVerified: false }])).toThrow(UNVERIFIED);
    expect(seed([{ id: 'contoso.com' }, { id: 'CONTOSO.com' }])).toThrow(/already listed/);
    expect(seed([{ id: 'not a domain' }])).toThrow(/"id" must be a domain name/);
    expect(seed([{ id: 'contoso.com', colour: 'red' }])).toThrow(
      /unknown domain property "colour"/,
    );
    expect(
      seed([
        { id: 'contoso.com', isDefault: true },
        { id: 'a.example', isDefault: true },
      ]),
    ).toThrow(/more than one domain has "isDefault"/);
    expect(seed([{ id: 'contoso.com', authenticationType: 'Magic' }])).toThrow(
      /authenticationType/,
    );
  });

  test('a state made before domains were modelled gets the defaults plus its users’ domains, once', async () => {
    const dir = await tempDir();
    const path = join(dir, 'tenant.db');
    const store = openTenantStore(path);
    store.seedIfNew([
      { id: 'a0a0a0a0-0000-4000-8000-000000000001', userPrincipalName: 'old@legacy.example' },
    ]);
    store.close();
    // Forget the domains, as a state from before them would have none.
    const db = new Database(path);
    db.exec("DELETE FROM docs WHERE kind = 'domain'; DELETE FROM meta WHERE key = 'domains';");
    db.close();
    const reopened = openTenantStore(path);
    expect(reopened.listDocs('domain').map((d) => d.id)).toEqual([
      INITIAL_DOMAIN,
      ...DEFAULT_EXTRA_DOMAINS,
      'legacy.example',
    ]);
    reopened.close();
  });
});
