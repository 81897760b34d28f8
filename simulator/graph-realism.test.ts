/**
 * Fault-plan kinds for what real tenants do (issue 25, catalogue GR1-GR4), seen from raw HTTPS:
 * delta pages smaller than asked, 202 Accepted with no body on a read, a decimal Retry-After,
 * and replication lag that answers writes naming a new object 400 instead of 404.
 */
import { describe, expect, test } from 'vitest';
import { bearer, newUser, raw, securityGroup, simulator } from './test-helpers/simulator.js';

describe('GR fault kinds', () => {
  test('GR1: delta-page caps every delta page, whatever odata.maxpagesize asks', async () => {
    const sim = await simulator({
      faultPlan: { seed: 1, faults: [{ kind: 'delta-page', size: 2 }] },
    });
    const auth = await bearer(sim);
    for (let i = 0; i < 5; i += 1) {
      await raw(sim, '/v1.0/users', {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(newUser(i)),
      });
    }
    const sizes: number[] = [];
    let path: string | undefined = '/v1.0/users/delta?$select=displayName';
    while (path !== undefined) {
      const page = await raw(sim, path, {
        headers: { Authorization: auth, Prefer: 'odata.maxpagesize=999' },
      });
      const body = page.body as { value: unknown[]; '@odata.nextLink'?: string };
      sizes.push(body.value.length);
      const next = body['@odata.nextLink'];
      path = next === undefined ? undefined : next.slice(sim.origin.length);
    }
    expect(sizes).toEqual([2, 2, 1]);
    const list = await raw(sim, '/v1.0/users?$top=999', { headers: { Authorization: auth } });
    expect((list.body as { value: unknown[] }).value).toHaveLength(5);
  });

  test('GR2: status 202 answers Accepted with no body and the Retry-After asked for', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 2,
        faults: [
          {
            kind: 'status',
            status: 202,
            retryAfterSeconds: 2,
            match: { method: 'GET', path: '^/users/[^/]+$' },
            when: { nth: [1] },
          },
        ],
      },
    });
    const auth = await bearer(sim);
    const created = await raw(sim, '/v1.0/users', {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(newUser('a')),
    });
    const id = (created.body as { id: string }).id;
    const first = await raw(sim, `/v1.0/users/${id}`, { headers: { Authorization: auth } });
    expect([first.status, first.text, first.headers.get('retry-after')]).toEqual([202, '', '2']);
    const second = await raw(sim, `/v1.0/users/${id}`, { headers: { Authorization: auth } });
    expect(second.status).toBe(200);
  });

  test('GR3: a throttle rule sends a decimal Retry-After as written', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 3,
        faults: [{ kind: 'throttle', retryAfterSeconds: 1.5, when: { nth: [1] } }],
      },
    });
    const auth = await bearer(sim);
    const answer = await raw(sim, '/v1.0/users', { headers: { Authorization: auth } });
    expect([answer.status, answer.headers.get('retry-after')]).toEqual([429, '1.5']);
  });

  test('GR4: replication-lag with status 400: a member add naming the new group is 400, reads stay 404', async () => {
    const sim = await simulator({
      faultPlan: {
        seed: 4,
        faults: [
          {
            kind: 'replication-lag',
            ms: 60_000,
            status: 400,
            match: { method: 'POST', path: '^/groups$' },
          },
        ],
      },
    });
    const auth = await bearer(sim);
    const json = { Authorization: auth, 'Content-Type': 'application/json' };
    const user = await raw(sim, '/v1.0/users', {
      method: 'POST',
      headers: json,
      body: JSON.stringify(newUser('m')),
    });
    const group = await raw(sim, '/v1.0/groups', {
      method: 'POST',
      headers: json,
      body: JSON.stringify(securityGroup('lag')),
    });
    const groupId = (group.body as { id: string }).id;
    const userId = (user.body as { id: string }).id;
    const add = await raw(sim, `/v1.0/groups/${groupId}/members/$ref`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${userId}`,
      }),
    });
    expect(add.status).toBe(400);
    expect(add.body).toMatchObject({
      error: { code: 'Request_BadRequest', message: `Invalid object identifier '${groupId}'.` },
    });
    const read = await raw(sim, `/v1.0/groups/${groupId}`, { headers: { Authorization: auth } });
    expect(read.status).toBe(404);
  });
});
