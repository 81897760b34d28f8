/**
 * Group owners through the real Graph SDK (issue 26): add by `POST /groups/{id}/owners/$ref`,
 * remove by `DELETE /groups/{id}/owners/{id}/$ref`, Graph's refusal to remove the last user
 * owner, and the permission both need (Group.ReadWrite.All; GroupMember.ReadWrite.All is not
 * enough).
 */
import { describe, expect, test } from 'vitest';
import {
  graphFailure,
  graphFor,
  newUser,
  readAll,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

const MEMBERS_ONLY = {
  clientId: 'c3c3c3c3-0000-4000-8000-000000000003',
  clientSecret: 'members-only-secret-1',
  roles: ['User.Read.All', 'GroupMember.ReadWrite.All', 'Group.Create'],
};

describe('group owners', () => {
  test('GO1: owners are added and removed by $ref; adding twice is 400, removing a non-owner 404, the last user owner cannot be removed', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const [a, b] = await Promise.all(
      ['o1', 'o2'].map(
        async (n) => ((await graph.api('/users').post(newUser(n))) as { id: string }).id,
      ),
    );
    const group = (await graph.api('/groups').post(securityGroup(7))) as { id: string };
    await graph.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(a ?? '') });
    await graph.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(b ?? '') });
    const twice = await graphFailure(
      graph.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(a ?? '') }),
    );
    expect([twice.statusCode, twice.message]).toEqual([
      400,
      "One or more added object references already exist for the following modified properties: 'owners'.",
    ]);
    const owners = async () =>
      (await readAll(graph, `/groups/${group.id}/owners?$select=id`)).map((o) => o['id']);
    expect(await owners()).toEqual([a, b]);

    await graph.api(`/groups/${group.id}/owners/${a}/$ref`).delete();
    expect(await owners()).toEqual([b]);
    const notOwner = await graphFailure(graph.api(`/groups/${group.id}/owners/${a}/$ref`).delete());
    expect(notOwner.statusCode).toBe(404);
    const last = await graphFailure(graph.api(`/groups/${group.id}/owners/${b}/$ref`).delete());
    expect([last.statusCode, last.code, last.message]).toEqual([
      400,
      'Request_BadRequest',
      'The group must have at least one owner, hence this owner cannot be removed.',
    ]);
    expect(await owners()).toEqual([b]);
  });

  test('GO2: GroupMember.ReadWrite.All may change members but not owners (403)', async () => {
    const sim = await simulator({
      throttling: false,
      clients: [
        {
          clientId: 'a1a1a1a1-0000-4000-8000-000000000001',
          clientSecret: 'admin-secret-1234',
          roles: ['Directory.ReadWrite.All'],
        },
        MEMBERS_ONLY,
      ],
    });
    const admin = graphFor(sim, sim.clients[0]);
    const narrow = graphFor(sim, sim.clients[1]);
    const user = ((await admin.api('/users').post(newUser('o3'))) as { id: string }).id;
    const group = (await admin.api('/groups').post(securityGroup(8))) as { id: string };
    await narrow.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(user) });
    const refused = await graphFailure(
      narrow.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(user) }),
    );
    expect(refused.statusCode).toBe(403);
  });
});
