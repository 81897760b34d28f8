/**
 * Delta queries for users and groups: initial round with nextLink/deltaLink, changes since a
 * token, @removed (changed while in the recycle bin, deleted once purged), $select narrowing
 * what counts as a change, members@delta, $deltatoken=latest, and expiry (410, full resync).
 */
import { describe, expect, test } from 'vitest';
import { createVirtualClock } from './index.js';
import {
  graphFor,
  newUser,
  raw,
  bearer,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

interface DeltaPage {
  '@odata.context': string;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: Record<string, unknown>[];
}

async function round(
  graph: ReturnType<typeof graphFor>,
  first: string,
  pageSize?: number,
): Promise<{ items: Record<string, unknown>[]; deltaLink: string; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let url: string = first;
  let pages = 0;
  for (;;) {
    let request = graph.api(url);
    if (pageSize !== undefined) request = request.header('Prefer', `odata.maxpagesize=${pageSize}`);
    const page = (await request.get()) as DeltaPage;
    pages += 1;
    items.push(...page.value);
    if (page['@odata.nextLink'] !== undefined) url = page['@odata.nextLink'];
    else if (page['@odata.deltaLink'] !== undefined)
      return { items, deltaLink: page['@odata.deltaLink'], pages };
    else throw new Error('neither nextLink nor deltaLink');
  }
}

describe('GET /users/delta', () => {
  test('initial round, then only what changed, with @removed for deletions', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push(((await graph.api('/users').post(newUser(i))) as { id: string }).id);
    const initial = await round(graph, '/users/delta?$select=displayName,jobTitle', 2);
    expect(initial.pages).toBe(3);
    expect(initial.items.map((u) => u['id'])).toEqual(ids);
    expect(initial.items[0]).toEqual({ displayName: 'User 0', jobTitle: null, id: ids[0] });
    expect(initial.deltaLink).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=/);

    await graph.api(`/users/${ids[1]}`).patch({ jobTitle: 'Pilot' });
    await graph.api(`/users/${ids[2]}`).patch({ mobilePhone: '+1 555 0100' }); // not selected
    await graph.api(`/users/${ids[3]}`).delete();
    const added = (await graph.api('/users').post(newUser(9))) as { id: string };
    const changes = await round(graph, initial.deltaLink);
    expect(changes.items).toEqual([
      { displayName: 'User 1', jobTitle: 'Pilot', id: ids[1] },
      { id: ids[3], '@removed': { reason: 'changed' } },
      { displayName: 'User 9', jobTitle: null, id: added.id },
    ]);

    await graph.api(`/directory/deletedItems/${ids[3]}`).delete();
    const purged = await round(graph, changes.deltaLink);
    expect(purged.items).toEqual([{ id: ids[3], '@removed': { reason: 'deleted' } }]);
    const quiet = await round(graph, purged.deltaLink);
    expect(quiet.items).toEqual([]);
  });

  test('$deltatoken=latest starts from now; manager@delta on request', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const boss = (await graph.api('/users').post(newUser('boss'))) as { id: string };
    const worker = (await graph.api('/users').post(newUser('worker'))) as { id: string };
    const latest = (await graph
      .api('/users/delta?$deltatoken=latest&$select=displayName,manager')
      .get()) as DeltaPage;
    expect(latest.value).toEqual([]);
    await graph.api(`/users/${worker.id}/manager/$ref`).put({ '@odata.id': ref(boss.id) });
    const changes = await round(graph, latest['@odata.deltaLink'] ?? '');
    expect(changes.items).toEqual([
      {
        displayName: 'User worker',
        id: worker.id,
        'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: boss.id }],
      },
    ]);
  });

  test('an expired delta token is 410 Gone, syncStateNotFound, pointing at a full resync', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({ clock, throttling: false, deltaTokenLifetimeSeconds: 3600 });
    const graph = graphFor(sim);
    await graph.api('/users').post(newUser(1));
    const initial = await round(graph, '/users/delta?$select=displayName');
    clock.advance(3601_000);
    const expired = await raw(sim, initial.deltaLink.slice(sim.origin.length), {
      headers: { authorization: await bearer(sim) },
    });
    expect(expired.status).toBe(410);
    expect(expired.headers.get('location')).toBe(
      `${sim.origin}/v1.0/users/delta?$select=displayName`,
    );
    expect(expired.body).toMatchObject({ error: { code: 'syncStateNotFound' } });
  });
});

describe('GET /groups/delta', () => {
  test('members@delta lists members first, then additions and removals', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const a = (await graph.api('/users').post(newUser('a'))) as { id: string };
    const b = (await graph.api('/users').post(newUser('b'))) as { id: string };
    const group = (await graph
      .api('/groups')
      .post(securityGroup(1, { 'members@odata.bind': [ref(a.id)] }))) as { id: string };
    const initial = await round(graph, '/groups/delta?$select=displayName,members');
    expect(initial.items).toEqual([
      {
        displayName: 'Group 1',
        id: group.id,
        'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: a.id }],
      },
    ]);
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(b.id) });
    await graph.api(`/groups/${group.id}/members/${a.id}/$ref`).delete();
    const changes = await round(graph, initial.deltaLink);
    expect(changes.items).toEqual([
      {
        displayName: 'Group 1',
        id: group.id,
        'members@delta': [
          { '@odata.type': '#microsoft.graph.user', id: b.id },
          { '@odata.type': '#microsoft.graph.user', id: a.id, '@removed': { reason: 'deleted' } },
        ],
      },
    ]);
  });
});
