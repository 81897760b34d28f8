/**
 * Temporary Access Pass methods and the authentication methods policy, through the real Graph
 * SDK (catalogue O1–O7, test/catalogue-additions.md): create (201, the pass once), list and get
 * (pass null), delete (204), a second create replacing the first, lifetimes bounded by the
 * policy, a start in the past refused, a disabled or non-targeting policy refused, permissions.
 */
import { describe, expect, test } from 'vitest';
import { createVirtualClock, DEFAULT_CLIENT_ROLES } from './index.js';
import {
  graphFailure,
  graphFor,
  newUser,
  raw,
  bearer,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

const TAPS = (user: string): string => `/users/${user}/authentication/temporaryAccessPassMethods`;

const NO_TAP_ROLES = {
  clientId: 'a1a1a1a1-0000-4000-8000-000000000001',
  clientSecret: 'no-tap-roles-secret-1',
  roles: ['User.ReadWrite.All'],
};
const TAP_READER = {
  clientId: 'a1a1a1a1-0000-4000-8000-000000000002',
  clientSecret: 'tap-reader-secret-12',
  roles: ['UserAuthenticationMethod.Read.All'],
};

const ANN = {
  accountEnabled: true,
  displayName: 'Ann',
  mailNickname: 'ann',
  userPrincipalName: 'ann@contoso.example',
};

async function simWithAnn(extraSeed: Record<string, unknown> = {}) {
  const clock = createVirtualClock(Date.parse('2026-03-01T08:00:00Z'));
  const sim = await simulator({
    clock,
    // The test moves the clock past a pass's lifetime; the app's token must outlive that.
    tokenLifetimeSeconds: 24 * 3600,
    throttling: false,
    seed: { users: [ANN], ...extraSeed },
    clients: [
      {
        clientId: 'a1a1a1a1-0000-4000-8000-00000000000a',
        clientSecret: 'default-secret-1234',
        roles: [...DEFAULT_CLIENT_ROLES],
      },
      NO_TAP_ROLES,
      TAP_READER,
    ],
  });
  return { sim, clock, graph: graphFor(sim) };
}

describe('Temporary Access Pass methods', () => {
  test('O1: create returns 201 with the pass once; list and get hide it; delete answers 204', async () => {
    const { sim, graph } = await simWithAnn();
    const created = (await graph.api(TAPS('ann@contoso.example')).post({
      startDateTime: '2026-03-02T09:00:00.000Z',
      lifetimeInMinutes: 120,
      isUsableOnce: true,
    })) as Record<string, unknown>;
    const pass = created['temporaryAccessPass'];
    expect(typeof pass).toBe('string');
    expect(String(pass)).toHaveLength(8);
    expect(created).toEqual({
      '@odata.context': `${sim.origin}/v1.0/$metadata#users('ann%40contoso.example')/authentication/temporaryAccessPassMethods/$entity`,
      '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      temporaryAccessPass: pass,
      createdDateTime: '2026-03-01T08:00:00Z',
      startDateTime: '2026-03-02T09:00:00Z',
      lifetimeInMinutes: 120,
      isUsableOnce: true,
      isUsable: false,
      methodUsabilityReason: 'NotYetValid',
    });
    const id = String(created['id']);
    const annId = sim.store.getUserByUpn('ann@contoso.example')?.user.id ?? '';

    const list = (await graph.api(TAPS(annId)).get()) as { value: Record<string, unknown>[] };
    expect(list.value).toHaveLength(1);
    expect(list.value[0]).toMatchObject({ id, temporaryAccessPass: null, lifetimeInMinutes: 120 });
    const one = (await graph.api(`${TAPS(annId)}/${id}`).get()) as Record<string, unknown>;
    expect(one['temporaryAccessPass']).toBeNull();
    // The pass is stored nowhere: not in the record, not in the state.
    expect(JSON.stringify(sim.store.getTemporaryAccessPass(annId))).not.toContain(String(pass));

    const deleted = await raw(sim, `/v1.0${TAPS(annId)}/${id}`, {
      method: 'DELETE',
      headers: { Authorization: await bearer(sim) },
    });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(((await graph.api(TAPS(annId)).get()) as { value: unknown[] }).value).toEqual([]);
    const again = await graphFailure(graph.api(`${TAPS(annId)}/${id}`).delete());
    expect([again.statusCode, again.code]).toEqual([404, 'itemNotFound']);
  });

  test('O2: defaults come from the policy; the pass is usable at once; a second create replaces the first', async () => {
    const { graph, clock } = await simWithAnn();
    const first = (await graph.api(TAPS('ann@contoso.example')).post({})) as Record<
      string,
      unknown
    >;
    expect(first).toMatchObject({
      startDateTime: '2026-03-01T08:00:00Z',
      lifetimeInMinutes: 60,
      isUsableOnce: false,
      isUsable: true,
      methodUsabilityReason: 'EnabledByPolicy',
    });
    const second = (await graph.api(TAPS('ann@contoso.example')).post({})) as Record<
      string,
      unknown
    >;
    expect(second['id']).not.toBe(first['id']);
    expect(second['temporaryAccessPass']).not.toBe(first['temporaryAccessPass']);
    const list = (await graph.api(TAPS('ann@contoso.example')).get()) as {
      value: Record<string, unknown>[];
    };
    expect(list.value.map((m) => m['id'])).toEqual([second['id']]);
    clock.advance(61 * 60_000);
    const later = (await graph.api(TAPS('ann@contoso.example')).get()) as {
      value: Record<string, unknown>[];
    };
    expect(later.value[0]).toMatchObject({ isUsable: false, methodUsabilityReason: 'Expired' });
  });

  test('O3: a start in the past and a lifetime outside the policy are 400 badRequest; a missing user is 404', async () => {
    const { graph } = await simWithAnn();
    const past = await graphFailure(
      graph.api(TAPS('ann@contoso.example')).post({ startDateTime: '2026-03-01T07:59:00Z' }),
    );
    expect([past.statusCode, past.code]).toEqual([400, 'badRequest']);
    const long = await graphFailure(
      graph.api(TAPS('ann@contoso.example')).post({ lifetimeInMinutes: 481 }),
    );
    expect([long.statusCode, long.code, long.message]).toEqual([
      400,
      'badRequest',
      'Invalid LifetimeInMinutes specified. The valid range between 60 and 480.',
    ]);
    const nobody = await graphFailure(graph.api(TAPS('nobody@contoso.example')).post({}));
    expect([nobody.statusCode, nobody.code]).toEqual([404, 'Request_ResourceNotFound']);
  });

  test('O4: a disabled policy, a user outside its targets, or an excluded one: 400 with the UserCredentialPolicy text', async () => {
    const refused =
      'Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass].';
    const disabled = await simWithAnn({
      authenticationMethodsPolicy: {
        authenticationMethodConfigurations: [{ id: 'TemporaryAccessPass', state: 'disabled' }],
      },
    });
    const off = await graphFailure(disabled.graph.api(TAPS('ann@contoso.example')).post({}));
    expect([off.statusCode, off.code, off.message]).toEqual([400, 'badRequest', refused]);
    const config = (await disabled.graph
      .api(
        '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass',
      )
      .get()) as Record<string, unknown>;
    expect(config['state']).toBe('disabled');

    const targeted = await simWithAnn({
      groups: [
        securityGroup('hires', { uniqueName: 'new-hires', members: ['bob@contoso.example'] }),
      ],
      users: [
        ANN,
        {
          ...ANN,
          displayName: 'Bob',
          mailNickname: 'bob',
          userPrincipalName: 'bob@contoso.example',
        },
      ],
      authenticationMethodsPolicy: {
        authenticationMethodConfigurations: [
          { id: 'TemporaryAccessPass', includeTargets: [{ targetType: 'group', id: 'new-hires' }] },
        ],
      },
    });
    const outside = await graphFailure(targeted.graph.api(TAPS('ann@contoso.example')).post({}));
    expect([outside.statusCode, outside.message]).toEqual([400, refused]);
    expect(await targeted.graph.api(TAPS('bob@contoso.example')).post({})).toMatchObject({
      isUsable: true,
    });
    targeted.sim.store.setTemporaryAccessPassPolicy({
      ...targeted.sim.store.temporaryAccessPassPolicy(),
      excludeTargets: targeted.sim.store.temporaryAccessPassPolicy().includeTargets,
    });
    const excluded = await graphFailure(targeted.graph.api(TAPS('bob@contoso.example')).post({}));
    expect(excluded.message).toBe(refused);
    // Bob's existing pass is now reported as disabled by policy.
    const list = (await targeted.graph.api(TAPS('bob@contoso.example')).get()) as {
      value: Record<string, unknown>[];
    };
    expect(list.value[0]).toMatchObject({
      isUsable: false,
      methodUsabilityReason: 'DisabledByPolicy',
    });
  });

  test('O5: without UserAuthenticationMethod permissions: 403 Authorization_RequestDenied; a reader may list but not create', async () => {
    const { sim } = await simWithAnn();
    const noRoles = graphFor(sim, sim.clients[1]);
    // Sent one at a time: a rejection must be awaited as it happens.
    for (const request of [
      () => noRoles.api(TAPS('ann@contoso.example')).post({}),
      () => noRoles.api(TAPS('ann@contoso.example')).get(),
      () => noRoles.api('/policies/authenticationMethodsPolicy').get(),
    ]) {
      const denied = await graphFailure(request());
      expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
    }
    const reader = graphFor(sim, sim.clients[2]);
    expect(await reader.api(TAPS('ann@contoso.example')).get()).toMatchObject({ value: [] });
    const write = await graphFailure(reader.api(TAPS('ann@contoso.example')).post({}));
    expect(write.statusCode).toBe(403);
  });
});

describe('authentication methods policy', () => {
  test('O6: by default TAP is enabled for all users with Entra’s lifetimes; the policy lists the configuration', async () => {
    const { sim, graph } = await simWithAnn();
    const policy = (await graph.api('/policies/authenticationMethodsPolicy').get()) as Record<
      string,
      unknown
    >;
    expect(policy['@odata.context']).toBe(
      `${sim.origin}/v1.0/$metadata#authenticationMethodsPolicy`,
    );
    expect(policy['id']).toBe('authenticationMethodsPolicy');
    const tap = {
      '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration',
      id: 'TemporaryAccessPass',
      state: 'enabled',
      defaultLifetimeInMinutes: 60,
      defaultLength: 8,
      minimumLifetimeInMinutes: 60,
      maximumLifetimeInMinutes: 480,
      isUsableOnce: false,
      includeTargets: [{ targetType: 'group', id: 'all_users', isRegistrationRequired: false }],
      excludeTargets: [],
    };
    expect(policy['authenticationMethodConfigurations']).toEqual([tap]);
    const one = (await graph
      .api(
        '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass',
      )
      .get()) as Record<string, unknown>;
    expect(one).toEqual({
      '@odata.context': `${sim.origin}/v1.0/$metadata#authenticationMethodConfigurations/$entity`,
      ...tap,
    });
    const fido = await graphFailure(
      graph
        .api('/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2')
        .get(),
    );
    expect(fido.statusCode).toBe(501);
  });

  test('O7: a seed policy is checked: one-time only refuses multi-use passes; bad seeds name the entry', async () => {
    const { graph } = await simWithAnn({
      authenticationMethodsPolicy: {
        authenticationMethodConfigurations: [
          {
            id: 'TemporaryAccessPass',
            isUsableOnce: true,
            defaultLength: 12,
            maximumLifetimeInMinutes: 43200,
          },
        ],
      },
    });
    const created = (await graph
      .api(TAPS('ann@contoso.example'))
      .post({ lifetimeInMinutes: 43200 })) as Record<string, unknown>;
    expect(created).toMatchObject({ isUsableOnce: true, lifetimeInMinutes: 43200 });
    expect(String(created['temporaryAccessPass'])).toHaveLength(12);
    const multi = await graphFailure(
      graph.api(TAPS('ann@contoso.example')).post({ isUsableOnce: false }),
    );
    expect([multi.statusCode, multi.code]).toEqual([400, 'badRequest']);

    await expect(
      simulator({
        seed: {
          users: [ANN],
          authenticationMethodsPolicy: {
            authenticationMethodConfigurations: [
              { id: 'TemporaryAccessPass', includeTargets: [{ id: 'nope' }] },
            ],
          },
        },
      }),
    ).rejects.toThrow(
      'authenticationMethodsPolicy.authenticationMethodConfigurations[0]: "nope" names no group in the seed.',
    );
    await expect(
      simulator({
        seed: {
          users: [ANN],
          authenticationMethodsPolicy: {
            authenticationMethodConfigurations: [
              { id: 'TemporaryAccessPass', minimumLifetimeInMinutes: 5 },
            ],
          },
        },
      }),
    ).rejects.toThrow('"minimumLifetimeInMinutes" must be an integer from 10 to 43200.');
  });
});

test('O8: the request log never holds the pass', async () => {
  const { sim, graph } = await simWithAnn();
  const created = (await graph.api(TAPS('ann@contoso.example')).post({})) as Record<
    string,
    unknown
  >;
  const pass = String(created['temporaryAccessPass']);
  await graph.api(TAPS('ann@contoso.example')).get();
  await graph.api('/users').post(newUser(7));
  const log = JSON.stringify(sim.requestLog);
  expect(log).toContain('temporaryAccessPassMethods');
  expect(log).not.toContain(pass);
});

describe('TAP through $batch and policy updates', () => {
  test('O2: a create inside $batch answers 201 with the pass in its item; the log holds neither', async () => {
    const { sim, graph } = await simWithAnn();
    const outer = (await graph.api('/$batch').post({
      requests: [
        {
          id: '1',
          method: 'POST',
          url: TAPS('ann@contoso.example'),
          body: { lifetimeInMinutes: 90 },
          headers: { 'Content-Type': 'application/json' },
        },
      ],
    })) as { responses: { id: string; status: number; body: Record<string, unknown> }[] };
    const item = outer.responses[0];
    expect(item?.status).toBe(201);
    const pass = String(item?.body['temporaryAccessPass']);
    expect(pass).toHaveLength(8);
    expect(item?.body['lifetimeInMinutes']).toBe(90);
    const log = JSON.stringify(sim.requestLog);
    expect(log).toContain('"batch":true');
    expect(log).not.toContain(pass);
  });

  test('O6: PATCH the TAP configuration (Policy.ReadWrite.AuthenticationMethod): 204, then creates follow it', async () => {
    const { sim } = await simWithAnn();
    const admin = {
      clientId: 'a1a1a1a1-0000-4000-8000-000000000003',
      clientSecret: 'policy-admin-secret-1',
      roles: ['Policy.ReadWrite.AuthenticationMethod', 'UserAuthenticationMethod.ReadWrite.All'],
    };
    const adminSim = await simulator({
      throttling: false,
      seed: { users: [ANN] },
      clients: [admin],
    });
    const graph = graphFor(adminSim);
    const path =
      '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass';
    const patched = await raw(adminSim, `/v1.0${path}`, {
      method: 'PATCH',
      headers: { Authorization: await bearer(adminSim), 'Content-Type': 'application/json' },
      body: JSON.stringify({
        '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration',
        state: 'disabled',
      }),
    });
    expect(patched.status).toBe(204);
    expect(adminSim.store.temporaryAccessPassPolicy().state).toBe('disabled');
    const refused = await graphFailure(graph.api(TAPS('ann@contoso.example')).post({}));
    expect(refused.statusCode).toBe(400);
    const untyped = await graphFailure(graph.api(path).patch({ state: 'enabled' }));
    expect([untyped.statusCode, untyped.code]).toEqual([400, 'badRequest']);
    const badGroup = await graphFailure(
      graph.api(path).patch({
        '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration',
        includeTargets: [{ targetType: 'group', id: 'e5e5e5e5-0000-4000-8000-000000000000' }],
      }),
    );
    expect(badGroup.statusCode).toBe(400);
    // The default app reads the policy but may not change it.
    const denied = await graphFailure(
      graphFor(sim).api(path).patch({
        '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration',
        state: 'disabled',
      }),
    );
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
  });
});
