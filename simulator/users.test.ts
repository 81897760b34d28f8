import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { graphScope } from '../connectors/entra/graph-client.js';
import type { SimulatorClient } from './index.js';
import {
  credentialFor,
  graphFailure,
  graphFor,
  newUser,
  PASSWORD,
  raw,
  simulator,
  tempDir,
} from './test-helpers/simulator.js';
import {
  createVirtualClock,
  DEFAULT_CLIENT_ROLES,
  openTenantStore,
  startSimulator,
} from './index.js';

// Graph v1.0's default user property set (user-list / user-get, "Properties" section).
const DEFAULT_SET = [
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
];
async function writeSeed(dir: string, count: number, name = 'seed.json'): Promise<string> {
  const path = join(dir, name);
  const users = Array.from({ length: count }, (_, i) => ({
    accountEnabled: true,
    displayName: `Seeded ${i}`,
    mailNickname: `seeded${i}`,
    userPrincipalName: `seeded${i}@contoso.example`,
  }));
  await writeFile(path, JSON.stringify({ users }));
  return path;
}

function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('token endpoint', () => {
  test('issues an app-only Graph token to the real ClientSecretCredential', async () => {
    const sim = await simulator({ tokenLifetimeSeconds: 1800 });
    const token = await credentialFor(sim).getToken(graphScope(sim.origin));
    expect(token?.token).toBeTypeOf('string');
    const claims = jwtPayload(token?.token ?? '');
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${sim.tenantId}/`,
      tid: sim.tenantId,
      appid: sim.clients[0]?.clientId,
      roles: [...DEFAULT_CLIENT_ROLES],
      idtyp: 'app',
    });
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(1800);
    // msal fetched the authority's metadata, then the token, and nothing else.
    expect(sim.requestLog.map((e) => `${e.method} ${e.path.split('?')[0]}`)).toEqual([
      `GET /${sim.tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${sim.tenantId}/oauth2/v2.0/token`,
    ]);
  });

  test('a wrong secret fails with invalid_client (AADSTS7000215), and no secret is logged', async () => {
    const sim = await simulator();
    const client = sim.clients[0];
    if (client === undefined) throw new Error('no client');
    const wrong = { ...client, clientSecret: 'not-the-secret-value' };
    await expect(credentialFor(sim, wrong).getToken(graphScope(sim.origin))).rejects.toThrow(
      /invalid_client[\s\S]*AADSTS7000215/,
    );
    const last = sim.requestLog.at(-1);
    expect(last).toMatchObject({ method: 'POST', status: 401, clientId: client.clientId });
    const log = JSON.stringify(sim.requestLog);
    expect(log).not.toContain(client.clientSecret);
    expect(log).not.toContain('not-the-secret-value');
  });

  test('token errors use the identity platform body', async () => {
    const sim = await simulator();
    const response = await raw(sim, `/${sim.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: sim.clients[0]?.clientId ?? '',
        client_secret: sim.clients[0]?.clientSecret ?? '',
        scope: 'https://graph.microsoft.com/User.Read.All',
      }).toString(),
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: 'invalid_scope',
      error_codes: [1002012],
      error_description: expect.stringMatching(/^AADSTS1002012: /),
      trace_id: expect.any(String),
      correlation_id: expect.any(String),
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/),
    });
  });
});

describe('Graph authentication', () => {
  test('a request without a token is 401 with Graph’s error body', async () => {
    const sim = await simulator();
    const response = await raw(sim, '/v1.0/users?$top=5&code=s3cr3t-in-query', {
      headers: { 'client-request-id': 'abc-123' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const requestId = response.headers.get('request-id');
    expect(response.headers.get('client-request-id')).toBe('abc-123');
    expect(response.body).toEqual({
      error: {
        code: 'InvalidAuthenticationToken',
        message: 'Access token is empty.',
        innerError: {
          date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/),
          'request-id': requestId,
          'client-request-id': 'abc-123',
        },
      },
    });
    expect(sim.requestLog).toEqual([
      {
        time: expect.any(String),
        method: 'GET',
        path: '/v1.0/users?$top=5&code=redacted',
        status: 401,
        requestId,
      },
    ]);
  });

  test('an expired token is rejected', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({ tokenLifetimeSeconds: 1, clock });
    const token = await credentialFor(sim).getToken(graphScope(sim.origin));
    clock.advance(2_100);
    const response = await raw(sim, '/v1.0/users', {
      headers: { authorization: `Bearer ${token?.token ?? ''}` },
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      error: {
        code: 'InvalidAuthenticationToken',
        message: 'Lifetime validation failed, the token is expired.',
      },
    });
    expect(JSON.stringify(sim.requestLog)).not.toContain(token?.token ?? '<none>');
  });

  test('an app with only User.Read.All reads but is denied writes (403)', async () => {
    const reader: SimulatorClient = {
      clientId: '11111111-2222-4333-8444-555555555555',
      clientSecret: 'reader-secret-value-1',
      roles: ['User.Read.All'],
    };
    const sim = await simulator({ clients: [reader] });
    const graph = graphFor(sim, reader);
    await expect(graph.api('/users').get()).resolves.toMatchObject({ value: [] });
    for (const write of [
      graph.api('/users').post(newUser(1)),
      graph.api('/users/someone@contoso.example').patch({ jobTitle: 'x' }),
    ]) {
      const error = await graphFailure(write);
      expect(error.statusCode).toBe(403);
      expect(error.code).toBe('Authorization_RequestDenied');
      expect(error.message).toBe('Insufficient privileges to complete the operation.');
    }
  });
});

describe('GET /users', () => {
  test('pages 250 users with $select/$top and nextLink, each exactly once', async () => {
    const dir = await tempDir();
    const sim = await simulator({ seedPath: await writeSeed(dir, 250) });
    const graph = graphFor(sim);

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let page = (await graph.api('/users').select(['userPrincipalName', 'id']).top(100).get()) as {
      '@odata.context': string;
      '@odata.nextLink'?: string;
      value: Record<string, unknown>[];
    };
    expect(page['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#users(userPrincipalName,id)`);
    for (;;) {
      pageSizes.push(page.value.length);
      for (const user of page.value) {
        expect(Object.keys(user).sort()).toEqual(['id', 'userPrincipalName']);
        seen.push(String(user['userPrincipalName']));
      }
      const next = page['@odata.nextLink'];
      if (next === undefined) break;
      expect(next).toMatch(
        /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\?\$select=.*&\$top=100&\$skiptoken=/,
      );
      page = (await graph.api(next).get()) as typeof page;
    }
    expect(pageSizes).toEqual([100, 100, 50]);
    expect(new Set(seen).size).toBe(250);
    expect(seen).toHaveLength(250);
  });

  test('without $select returns Graph’s default property set, 100 per page', async () => {
    const dir = await tempDir();
    const sim = await simulator({ seedPath: await writeSeed(dir, 101) });
    const page = (await graphFor(sim).api('/users').get()) as {
      '@odata.context': string;
      '@odata.nextLink'?: string;
      value: Record<string, unknown>[];
    };
    expect(page['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#users`);
    expect(page.value).toHaveLength(100);
    expect(page['@odata.nextLink']).toMatch(/\$skiptoken=/);
    expect(Object.keys(page.value[0] ?? {})).toEqual(DEFAULT_SET);
    expect(page.value[0]).toMatchObject({ businessPhones: [], jobTitle: null, surname: null });
  });

  test('$top above 999 is Graph’s 400', async () => {
    const sim = await simulator();
    const error = await graphFailure(graphFor(sim).api('/users').top(1000).get());
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('Request_UnsupportedQuery');
    expect(error.message).toBe(
      "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );
  });

  test('unknown $select property and unimplemented options fail loudly', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const unknown = await graphFailure(graph.api('/users').select('nosuch').get());
    expect(unknown.statusCode).toBe(400);
    expect(unknown.message).toBe(
      "Could not find a property named 'nosuch' on type 'microsoft.graph.user'.",
    );
    // $orderby on a property the simulator does not order by: 501, never a silent order.
    const orderby = await graphFailure(graph.api('/users').orderby('jobTitle').get());
    expect(orderby.statusCode).toBe(501);
    const skip = await graphFailure(graph.api('/users').skip(5).get());
    expect(skip.statusCode).toBe(501);
  });
});

describe('GET /users/{id | userPrincipalName}', () => {
  test('finds a user by id and by UPN in any case, with $select', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const created = (await graph.api('/users').post({ ...newUser('Ann'), jobTitle: 'Pilot' })) as {
      id: string;
    };
    const byId = (await graph.api(`/users/${created.id}`).get()) as Record<string, unknown>;
    expect(byId['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#users/$entity`);
    expect(Object.keys(byId)).toEqual(['@odata.context', ...DEFAULT_SET]);
    expect(byId).toMatchObject({ id: created.id, jobTitle: 'Pilot', displayName: 'User Ann' });

    const byUpn = (await graph
      .api('/users/USERANN@Contoso.Example')
      .select('displayName,accountEnabled,createdDateTime,userType')
      .get()) as Record<string, unknown>;
    expect(byUpn).toEqual({
      '@odata.context': `${sim.origin}/v1.0/$metadata#users(displayName,accountEnabled,createdDateTime,userType)/$entity`,
      displayName: 'User Ann',
      accountEnabled: true,
      createdDateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      userType: 'Member',
      id: created.id,
    });
  });

  test('a missing user is 404 Request_ResourceNotFound', async () => {
    const sim = await simulator();
    const error = await graphFailure(graphFor(sim).api('/users/nobody@contoso.example').get());
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('Request_ResourceNotFound');
    expect(error.message).toMatch(
      /^Resource '.+' does not exist or one of its queried reference-property objects are not present\.$/,
    );
  });

  test('unknown segments are 400 "Resource not found for the segment"', async () => {
    const sim = await simulator();
    const error = await graphFailure(graphFor(sim).api('/userz').get());
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('BadRequest');
    expect(error.message).toBe("Resource not found for the segment 'userz'.");
  });
});

describe('POST /users', () => {
  test('creates a user: 201 with Graph’s shape; the password is never stored', async () => {
    const dir = await tempDir();
    const statePath = join(dir, 'tenant.db');
    const sim = await simulator({ statePath });
    const created = (await graphFor(sim).api('/users').post(newUser(7))) as Record<string, unknown>;
    expect(Object.keys(created)).toEqual(['@odata.context', 'id', ...DEFAULT_SET.slice(0, -1)]);
    expect(created).toMatchObject({
      '@odata.context': `${sim.origin}/v1.0/$metadata#users/$entity`,
      id: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      userPrincipalName: 'user7@contoso.example',
      displayName: 'User 7',
      businessPhones: [],
      mail: null,
    });

    const store = openTenantStore(statePath);
    onTestFinished(() => store.close());
    expect(store.listUsers()).toEqual([
      expect.objectContaining({
        id: created['id'],
        passwordProfile: { forceChangePasswordNextSignIn: true },
        userType: 'Member',
      }),
    ]);
    for (const file of [statePath, `${statePath}-wal`]) {
      if (existsSync(file)) expect((await readFile(file)).includes(PASSWORD)).toBe(false);
    }
    expect(JSON.stringify(sim.requestLog)).not.toContain(PASSWORD);
  });

  test('a duplicate UPN (any case) is Graph’s 400 ObjectConflict', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    await graph.api('/users').post(newUser(1));
    const error = await graphFailure(
      graph.api('/users').post({ ...newUser(2), userPrincipalName: 'USER1@contoso.example' }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('Request_BadRequest');
    expect(error.message).toBe(
      'Another object with the same value for property userPrincipalName already exists.',
    );
    expect(JSON.parse(String(error.body))).toMatchObject({
      details: [{ code: 'ObjectConflict', target: 'userPrincipalName' }],
      innerError: { 'request-id': error.requestId },
    });
  });

  test('missing required, unknown, read-only and mistyped properties are 400', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const { mailNickname: _omit, ...withoutNickname } = newUser(3);
    const cases: [Record<string, unknown>, string, string][] = [
      [
        withoutNickname,
        'Request_BadRequest',
        "A value is required for property 'mailNickname' of resource 'User'.",
      ],
      [
        { ...newUser(3), passwordProfile: { forceChangePasswordNextSignIn: true } },
        'Request_BadRequest',
        "A value is required for property 'passwordProfile' of resource 'User'.",
      ],
      [
        { ...newUser(3), favouriteColour: 'blue' },
        'Request_BadRequest',
        "Invalid property 'favouriteColour'.",
      ],
      [
        { ...newUser(3), id: '00000000-0000-4000-8000-000000000000' },
        'Request_BadRequest',
        "Property 'id' is read-only and cannot be set.",
      ],
      [
        { ...newUser(3), accountEnabled: 'yes' },
        'BadRequest',
        "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'.",
      ],
      [
        { ...newUser(3), passwordProfile: { password: 'weak' } },
        'Request_BadRequest',
        'The specified password does not comply with password complexity requirements. Please provide a different password.',
      ],
    ];
    for (const [body, code, message] of cases) {
      const error = await graphFailure(graph.api('/users').post(body));
      expect({ status: error.statusCode, code: error.code, message: error.message }).toEqual({
        status: 400,
        code,
        message,
      });
    }
    expect(JSON.stringify(sim.requestLog)).not.toContain('weak');
  });
});

describe('PATCH /users/{id | userPrincipalName}', () => {
  test('updates properties (204) and they read back', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const { id } = (await graph.api('/users').post(newUser(4))) as { id: string };
    const result: unknown = await graph
      .api('/users/user4@contoso.example')
      .patch({ jobTitle: 'Engineer', businessPhones: ['+1 425 555 0109'], accountEnabled: false });
    expect(result).toBeUndefined();
    expect(sim.requestLog.at(-1)).toMatchObject({ method: 'PATCH', status: 204 });
    await graph
      .api(`/users/${id}`)
      .patch({ userPrincipalName: 'renamed4@contoso.example', jobTitle: null });
    const user = (await graph
      .api(`/users/${id}`)
      .select('userPrincipalName,jobTitle,businessPhones,accountEnabled')
      .get()) as Record<string, unknown>;
    expect(user).toMatchObject({
      userPrincipalName: 'renamed4@contoso.example',
      jobTitle: null,
      businessPhones: ['+1 425 555 0109'],
      accountEnabled: false,
    });
  });

  test('onPremisesExtensionAttributes merges per sub-property', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const { id } = (await graph.api('/users').post({
      ...newUser(5),
      onPremisesExtensionAttributes: { extensionAttribute1: 'one', extensionAttribute2: 'two' },
    })) as { id: string };
    await graph.api(`/users/${id}`).patch({
      onPremisesExtensionAttributes: { extensionAttribute2: null, extensionAttribute15: 'marker' },
    });
    const user = (await graph
      .api(`/users/${id}`)
      .select('onPremisesExtensionAttributes')
      .get()) as {
      onPremisesExtensionAttributes: Record<string, unknown>;
    };
    const expected = Object.fromEntries(
      Array.from({ length: 15 }, (_, i) => [`extensionAttribute${i + 1}`, null]),
    );
    expect(user.onPremisesExtensionAttributes).toEqual({
      ...expected,
      extensionAttribute1: 'one',
      extensionAttribute15: 'marker',
    });
  });

  test('renaming onto a taken UPN, read-only properties and missing users fail as in Graph', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    await graph.api('/users').post(newUser(8));
    const { id } = (await graph.api('/users').post(newUser(9))) as { id: string };
    const taken = await graphFailure(
      graph.api(`/users/${id}`).patch({ userPrincipalName: 'User8@contoso.example' }),
    );
    expect([taken.statusCode, taken.code, taken.message]).toEqual([
      400,
      'Request_BadRequest',
      'Another object with the same value for property userPrincipalName already exists.',
    ]);
    const readOnly = await graphFailure(
      graph.api(`/users/${id}`).patch({ createdDateTime: '2020-01-01T00:00:00Z' }),
    );
    expect([readOnly.statusCode, readOnly.message]).toEqual([
      400,
      "Property 'createdDateTime' is read-only and cannot be set.",
    ]);
    const missing = await graphFailure(
      graph.api('/users/00000000-0000-4000-8000-000000000000').patch({ jobTitle: 'x' }),
    );
    expect([missing.statusCode, missing.code]).toEqual([404, 'Request_ResourceNotFound']);
  });
  test('password resets need User-PasswordProfile.ReadWrite.All; synced users refuse on-premises properties', async () => {
    const dir = await tempDir();
    const seedPath = join(dir, 'synced.json');
    await writeFile(
      seedPath,
      JSON.stringify({
        users: [
          {
            accountEnabled: true,
            displayName: 'Synced',
            mailNickname: 'synced',
            userPrincipalName: 'synced@contoso.example',
            onPremisesSyncEnabled: true,
            onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==',
          },
        ],
      }),
    );
    const sim = await simulator({ seedPath });
    const graph = graphFor(sim);
    const reset = await graphFailure(
      graph.api('/users/synced@contoso.example').patch({ passwordProfile: { password: PASSWORD } }),
    );
    expect([reset.statusCode, reset.code]).toEqual([403, 'Authorization_RequestDenied']);
    const mastered = await graphFailure(
      graph.api('/users/synced@contoso.example').patch({ displayName: 'Renamed' }),
    );
    expect([mastered.statusCode, mastered.message]).toEqual([
      400,
      'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
    ]);
    await graph.api('/users/synced@contoso.example').patch({ usageLocation: 'GB' });
    const anchorTaken = await graphFailure(
      graph
        .api('/users')
        .post({ ...newUser(12), onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==' }),
    );
    expect([anchorTaken.statusCode, anchorTaken.message]).toEqual([
      400,
      'Another object with the same value for property onPremisesImmutableId already exists.',
    ]);
  });
});

describe('state', () => {
  test('certDir receives the CA that the server certificate chains to', async () => {
    const certDir = await tempDir();
    const sim = await simulator({ certDir });
    expect(sim.caFile).toBe(join(certDir, 'ca.pem'));
    expect(await readFile(sim.caFile, 'utf8')).toBe(sim.caPem);
    expect((await raw(sim, '/v1.0/users')).status).toBe(401);
  });

  test('a second simulator on the same statePath sees the same tenant, live', async () => {
    const dir = await tempDir();
    const statePath = join(dir, 'tenant.db');
    const first = await simulator({ statePath, tenantId: '0b7e5f9a-0000-4000-8000-00000000abcd' });
    const second = await simulator({ statePath });
    expect(second.tenantId).toBe(first.tenantId);

    const { id } = (await graphFor(first).api('/users').post(newUser(10))) as { id: string };
    await expect(graphFor(second).api(`/users/${id}`).get()).resolves.toMatchObject({ id });
    await first.close();

    const third = await simulator({ statePath });
    const users = (await graphFor(third).api('/users').get()) as { value: { id: string }[] };
    expect(users.value.map((u) => u.id)).toEqual([id]);
  });

  test('a seed is applied to a new state only, once', async () => {
    const dir = await tempDir();
    const statePath = join(dir, 'tenant.db');
    const seedPath = await writeSeed(dir, 3);
    const first = await simulator({ statePath, seedPath });
    await graphFor(first).api('/users').post(newUser(11));
    await first.close();

    await simulator({ statePath, seedPath });
    const store = openTenantStore(statePath);
    onTestFinished(() => store.close());
    expect(store.listUsers().map((u) => u.userPrincipalName)).toEqual([
      'seeded0@contoso.example',
      'seeded1@contoso.example',
      'seeded2@contoso.example',
      'user11@contoso.example',
    ]);
  });

  test('an invalid seed fails naming the file and the entry', async () => {
    const dir = await tempDir();
    const seedPath = join(dir, 'bad-seed.json');
    await writeFile(
      seedPath,
      JSON.stringify({
        users: [
          {
            accountEnabled: true,
            displayName: 'A',
            mailNickname: 'a',
            userPrincipalName: 'a@contoso.example',
          },
          {
            accountEnabled: true,
            displayName: 'B',
            mailNickname: 'b',
            userPrincipalName: 'A@contoso.example',
          },
        ],
      }),
    );
    await expect(startSimulator({ seedPath })).rejects.toThrow(
      `Seed file ${seedPath}: users[1]: userPrincipalName "A@contoso.example" is already used by users[0].`,
    );
    await writeFile(
      seedPath,
      JSON.stringify({
        users: [{ accountEnabled: true, displayName: 'A', userPrincipalName: 'a@contoso.example' }],
      }),
    );
    await expect(startSimulator({ seedPath })).rejects.toThrow(
      `Seed file ${seedPath}: users[0]: A value is required for property 'mailNickname' of resource 'User'.`,
    );
  });
});
