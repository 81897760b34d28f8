/**
 * Fault plans and throttling end to end, over HTTPS: lost responses after commit (504 and
 * socket reset), a 401 at the Nth request with token revocation, nextLink failing or repeating
 * on page N, inner-batch failures, 429 storms, latency and replication lag in virtual time,
 * and reproducibility of a whole run from its seed.
 */
import { BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';
import { describe, expect, test } from 'vitest';
import type { FaultPlan, RunningSimulator } from './index.js';
import { createVirtualClock } from './index.js';
import {
  bearer,
  graphFailure,
  graphFor,
  newUser,
  raw,
  readAll,
  simulator,
} from './test-helpers/simulator.js';

async function post(sim: RunningSimulator, authorization: string, path: string, body: unknown) {
  return raw(sim, `/v1.0${path}`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function seedUsers(count: number) {
  return {
    users: Array.from({ length: count }, (_, i) => ({
      accountEnabled: true,
      displayName: `P ${i}`,
      mailNickname: `p${i}`,
      userPrincipalName: `p${i}@contoso.example`,
    })),
  };
}

describe('lost responses after commit (G4)', () => {
  test('504: the user exists although the client saw a gateway timeout', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 1,
        faults: [{ kind: 'lost-response', match: { path: '^/users$' }, when: { nth: [1] } }],
      },
    });
    const authorization = await bearer(sim);
    const first = await post(sim, authorization, '/users', newUser(1));
    expect(first.status).toBe(504);
    expect(first.body).toMatchObject({ error: { code: 'GatewayTimeout' } });
    expect(sim.store.getUserByUpn('user1@contoso.example')).toBeDefined();
    // A replayed create meets Graph's "already exists".
    const replay = await post(sim, authorization, '/users', newUser(1));
    expect([replay.status, (replay.body as { error: { message: string } }).error.message]).toEqual([
      400,
      'Another object with the same value for property userPrincipalName already exists.',
    ]);
    expect(sim.requestLog.find((e) => e.status === 504)).toMatchObject({
      faults: ['lost-response'],
    });
  });

  test('reset: the connection drops after the group was created', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 1,
        faults: [{ kind: 'lost-response', mode: 'reset', match: { path: '^/groups$' } }],
      },
    });
    const authorization = await bearer(sim);
    await expect(
      post(sim, authorization, '/groups', {
        displayName: 'G',
        mailEnabled: false,
        mailNickname: 'g',
        securityEnabled: true,
      }),
    ).rejects.toThrow();
    expect(sim.store.countObjects('group', 'active')).toBe(1);
    expect(sim.requestLog.at(-1)).toMatchObject({
      method: 'POST',
      status: 0,
      faults: ['lost-response'],
    });
  });
});

describe('401 at the Nth request (G7)', () => {
  test('one 401, then the same token works again', async () => {
    const sim = await simulator({
      faultPlan: { seed: 1, faults: [{ kind: 'unauthorized', when: { nth: [2] } }] },
    });
    const authorization = await bearer(sim);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await raw(sim, '/v1.0/users', { headers: { authorization } })).status);
    }
    expect(statuses).toEqual([200, 401, 200]);
  });

  test('revokeTokens: old tokens stay refused; a fresh token works', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 1,
        faults: [{ kind: 'unauthorized', when: { nth: [1] }, revokeTokens: true }],
      },
    });
    const old = await bearer(sim);
    expect((await raw(sim, '/v1.0/users', { headers: { authorization: old } })).status).toBe(401);
    const again = await raw(sim, '/v1.0/users', { headers: { authorization: old } });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({
      error: { message: 'Lifetime validation failed, the token is expired.' },
    });
    const fresh = await bearer(sim);
    expect((await raw(sim, '/v1.0/users', { headers: { authorization: fresh } })).status).toBe(200);
    expect(JSON.stringify(sim.requestLog)).not.toContain(old.slice(7));
  });
});

describe('paging faults (G8)', () => {
  test('nextLink fails on page 2: the whole read fails', async () => {
    const sim = await simulator({
      seed: seedUsers(250),
      faultPlan: { seed: 1, faults: [{ kind: 'page', page: 2, mode: 'fail' }] },
    });
    const graph = graphFor(sim);
    const error = await graphFailure(readAll(graph, '/users?$top=100&$select=id'));
    expect([error.statusCode, error.code]).toEqual([500, 'UnknownError']);
  });

  test('nextLink repeats page 2', async () => {
    const sim = await simulator({
      seed: seedUsers(250),
      faultPlan: {
        seed: 1,
        faults: [{ kind: 'page', page: 2, mode: 'repeat', when: { times: 1 } }],
      },
    });
    const graph = graphFor(sim);
    const first = (await graph.api('/users?$top=100&$select=id').get()) as {
      '@odata.nextLink': string;
    };
    const second = (await graph.api(first['@odata.nextLink']).get()) as {
      '@odata.nextLink': string;
    };
    expect(second['@odata.nextLink']).toBe(first['@odata.nextLink']);
  });
});

describe('inner-batch failures and 429 storms (G1, G2, G3)', () => {
  test('batch items fail on their own inside a 200', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 5,
        faults: [
          {
            kind: 'batch-item',
            status: 429,
            retryAfterSeconds: 30,
            match: { method: 'GET' },
            when: { nth: [1, 3] },
          },
          { kind: 'batch-item', status: 503, match: { method: 'GET' }, when: { nth: [4] } },
        ],
      },
    });
    const graph = graphFor(sim);
    const batch = new BatchRequestContent(
      Array.from({ length: 4 }, (_, i) => ({
        id: String(i + 1),
        request: new Request('https://graph.microsoft.com/users?$select=id'),
      })),
    );
    const response = new BatchResponseContent(
      await graph.api('/$batch').post(await batch.getContent()),
    );
    expect([...response.getResponses().values()].map((r) => r.status)).toEqual([
      429, 200, 429, 503,
    ]);
    expect(response.getResponseById('1')?.headers.get('Retry-After')).toBe('30');
  });

  test('a 429 storm with Retry-After: 300 (above the SDK’s 180 s cap)', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 1,
        faults: [{ kind: 'throttle', retryAfterSeconds: 300, when: { from: 2, times: 3 } }],
      },
    });
    const authorization = await bearer(sim);
    const answers = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await raw(sim, '/v1.0/users', { headers: { authorization } });
      answers.push([response.status, response.headers.get('retry-after')]);
    }
    expect(answers).toEqual([
      [200, null],
      [429, '300'],
      [429, '300'],
      [429, '300'],
      [200, null],
    ]);
    expect(sim.counters.throttled).toBe(3);
  });

  test('throttling buckets with the virtual clock: 429 + Retry-After, then success after the wait', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({ clock, throttling: { resourceUnitsPer10Seconds: 10 } });
    const authorization = await bearer(sim);
    const get = () => raw(sim, '/v1.0/users', { headers: { authorization } });
    const ok = [];
    for (let i = 0; i < 5; i += 1) ok.push((await get()).headers.get('x-ms-resource-unit'));
    expect(ok).toEqual(['2', '2', '2', '2', '2']);
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.headers.get('x-ms-throttle-scope')).toBe(
      `Tenant_Application/ReadWrite/${sim.clients[0]?.clientId}/${sim.tenantId}`,
    );
    expect(refused.body).toMatchObject({ error: { code: 'TooManyRequests' } });
    await clock.sleep(2_000);
    const after = await get();
    expect(after.status).toBe(200);
    expect(after.headers.get('x-ms-throttle-limit-percentage')).toBe('1.0');
  });
});

describe('consent revoked mid-run (G10)', () => {
  test('status 403 on a share of writes answers Graph’s Authorization_RequestDenied', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 10,
        faults: [{ kind: 'status', status: 403, match: { method: 'POST' }, when: { from: 3 } }],
      },
    });
    const authorization = await bearer(sim);
    const statuses = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push((await post(sim, authorization, '/users', newUser(i))).status);
    expect(statuses).toEqual([201, 201, 403, 403]);
    expect(sim.store.countUsers()).toBe(2);
    const denied = await post(sim, authorization, '/users', newUser(9));
    expect(denied.body).toMatchObject({
      error: {
        code: 'Authorization_RequestDenied',
        message: 'Insufficient privileges to complete the operation.',
      },
    });
  });
});

describe('latency and replication lag in virtual time (G6)', () => {
  test('latency advances the virtual clock instead of sleeping', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({
      clock,
      faultPlan: { seed: 1, faults: [{ kind: 'latency', ms: 60_000 }] },
    });
    const authorization = await bearer(sim);
    const before = clock.now();
    const started = Date.now();
    await raw(sim, '/v1.0/users', { headers: { authorization } });
    expect(clock.now() - before).toBe(60_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a new user 404s on read and reference until the lag has passed', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({
      clock,
      faultPlan: {
        seed: 1,
        faults: [{ kind: 'replication-lag', ms: 5_000, match: { path: '^/users$' } }],
      },
    });
    const graph = graphFor(sim);
    const { id } = (await graph.api('/users').post(newUser(1))) as { id: string };
    const group = (await graph.api('/groups').post({
      displayName: 'G',
      mailEnabled: false,
      mailNickname: 'g',
      securityEnabled: true,
    })) as { id: string };
    expect((await graphFailure(graph.api(`/users/${id}`).get())).statusCode).toBe(404);
    expect(
      (await graphFailure(graph.api(`/users/${id}`).patch({ jobTitle: 'x' }))).statusCode,
    ).toBe(404);
    const member = await graphFailure(
      graph
        .api(`/groups/${group.id}/members/$ref`)
        .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` }),
    );
    expect([member.statusCode, member.code]).toEqual([404, 'Request_ResourceNotFound']);
    clock.advance(5_000);
    await expect(graph.api(`/users/${id}`).get()).resolves.toMatchObject({ id });
  });
});

describe('reproducibility', () => {
  test('a whole run is reproducible from the plan’s seed', async () => {
    const plan: FaultPlan = {
      seed: 2026,
      faults: [
        { kind: 'status', status: 503, when: { probability: 0.25 } },
        { kind: 'throttle', retryAfterSeconds: 7, when: { probability: 0.1 } },
        { kind: 'lost-response', when: { probability: 0.3 } },
      ],
    };
    const run = async (): Promise<string[]> => {
      const sim = await simulator({ faultPlan: plan, clock: createVirtualClock() });
      const authorization = await bearer(sim);
      const outcome: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const response =
          i % 2 === 0
            ? await raw(sim, '/v1.0/users', { headers: { authorization } })
            : await post(sim, authorization, '/users', newUser(i));
        outcome.push(`${i}:${response.status}`);
      }
      return outcome;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.some((o) => o.endsWith(':503'))).toBe(true);
    expect(first.some((o) => o.endsWith(':504'))).toBe(true);
  });
});
