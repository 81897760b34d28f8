/**
 * SIM-R1 behaviour behind the replayed shapes: `$orderby` and `$search` order and match as
 * Graph documents (tokenized displayName, ordered pages across nextLinks), `$count` segments on
 * groups and members, OData casts on members, and owners by `$ref`, through the real SDK.
 */
import { describe, expect, test } from 'vitest';
import type { Client } from '@microsoft/microsoft-graph-client';
import {
  graphFailure,
  graphFor,
  newUser,
  readAll,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

const NAMES = [
  'Oscar Ward',
  'Edward Stone',
  'wanda Moss',
  'Adele Vance',
  'Bob Walker',
  'Zed Alpha',
];

async function people(graph: Client): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, name] of NAMES.entries()) {
    const user = (await graph.api('/users').post({ ...newUser(i), displayName: name })) as {
      id: string;
    };
    ids.push(user.id);
  }
  return ids;
}

function names(items: readonly Record<string, unknown>[]): unknown[] {
  return items.map((u) => u['displayName']);
}

describe('SIM-R1 $orderby and $search on users', () => {
  test('$orderby displayName orders every page, ascending and descending', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    await people(graph);
    const sorted = [...NAMES].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    const asc = await readAll(graph, '/users?$orderby=displayName&$top=4&$select=displayName');
    expect(names(asc)).toEqual(sorted);
    const desc = await readAll(graph, '/users?$orderby=displayName desc&$top=4');
    expect(names(desc)).toEqual([...sorted].reverse());
  });

  test('$search matches words that start with the text, with OR and $count', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    await people(graph);
    const wa = (await graph
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .query({ $search: '"displayName:wa"', $count: 'true' })
      .orderby('displayName')
      .get()) as { value: Record<string, unknown>[]; '@odata.count': number };
    // "Edward" holds "wa" inside a word: not a match, as Graph's tokenized search.
    expect(names(wa.value)).toEqual(['Bob Walker', 'Oscar Ward', 'wanda Moss']);
    expect(wa['@odata.count']).toBe(3);
    const either = (await graph
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .query({ $search: '"displayName:zed" OR "displayName:ade"' })
      .get()) as { value: Record<string, unknown>[] };
    expect(names(either.value).sort()).toEqual(['Adele Vance', 'Zed Alpha']);
  });

  test('without the advanced query parameters Graph’s 400s come back', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const search = await graphFailure(
      graph.api('/users').query({ $search: '"displayName:a"' }).get(),
    );
    expect([search.statusCode, search.code]).toEqual([400, 'Request_UnsupportedQuery']);
    const sort = await graphFailure(
      graph.api('/users').filter("startswith(displayName,'a')").orderby('displayName').get(),
    );
    expect([sort.statusCode, sort.message]).toEqual([
      400,
      'Sorting not supported for current query.',
    ]);
    const advancedOnly = await graphFailure(graph.api('/users').orderby('createdDateTime').get());
    expect(advancedOnly.statusCode).toBe(400);
  });
});

describe('SIM-R1 $count segments, member casts and owners', () => {
  test('/groups/$count and members/$count count with ConsistencyLevel only', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const ids = await people(graph);
    const group = (await graph.api('/groups').post(securityGroup('g'))) as { id: string };
    const inner = (await graph.api('/groups').post(securityGroup('inner'))) as { id: string };
    await graph.api(`/groups/${group.id}`).patch({
      'members@odata.bind': [...ids.slice(0, 3), inner.id].map(ref),
    });
    const count = async (path: string): Promise<unknown> =>
      graph.api(path).header('ConsistencyLevel', 'eventual').get();
    expect(String(await count('/groups/$count'))).toBe('2');
    expect(String(await count(`/groups/${group.id}/members/$count`))).toBe('4');
    expect(String(await count(`/groups/${group.id}/members/microsoft.graph.user/$count`))).toBe(
      '3',
    );
    expect(String(await count(`/groups/${group.id}/members/microsoft.graph.group/$count`))).toBe(
      '1',
    );
    const plain = await graphFailure(graph.api(`/groups/${group.id}/members/$count`).get());
    expect([plain.statusCode, plain.message]).toEqual([400, '$count is not currently supported.']);

    const users = (await graph
      .api(`/groups/${group.id}/members/microsoft.graph.user`)
      .select('displayName')
      .get()) as { '@odata.context': string; value: Record<string, unknown>[] };
    expect(users['@odata.context']).toBe(`${sim.origin}/v1.0/$metadata#users(displayName)`);
    expect(users.value.map((u) => Object.keys(u).sort())).toEqual([
      ['displayName', 'id'],
      ['displayName', 'id'],
      ['displayName', 'id'],
    ]);
  });

  test('owners are added and removed by $ref, with the duplicate and absent errors', async () => {
    const sim = await simulator();
    const graph = graphFor(sim);
    const [a, b] = await people(graph);
    const group = (await graph.api('/groups').post(securityGroup('owned'))) as { id: string };
    await graph.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(a ?? '') });
    await graph.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(b ?? '') });
    const again = await graphFailure(
      graph.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(a ?? '') }),
    );
    expect(again.message).toBe(
      "One or more added object references already exist for the following modified properties: 'owners'.",
    );
    await graph.api(`/groups/${group.id}/owners/${a}/$ref`).delete();
    const owners = await readAll(graph, `/groups/${group.id}/owners`);
    expect(owners.map((o) => o['id'])).toEqual([b]);
    const absent = await graphFailure(graph.api(`/groups/${group.id}/owners/${a}/$ref`).delete());
    expect(absent.statusCode).toBe(404);
    const audits = await readAll(graph, '/auditLogs/directoryAudits');
    expect(audits.map((e) => e['activityDisplayName'])).toContain('Remove owner from group');
  });
});

describe('SIM-R1 computed and unmodelled group filters', () => {
  test('hasMembersWithLicenseErrors eq true finds exactly the groups whose members hold a license in error', async () => {
    const sku = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
    const sim = await simulator({
      seed: {
        users: [],
        subscribedSkus: [
          { skuId: sku, skuPartNumber: 'SPE_E5', prepaidUnits: { enabled: 1 }, servicePlans: [] },
        ],
      },
    });
    const graph = graphFor(sim);
    const [a, b] = await people(graph);
    const short = (await graph.api('/groups').post(securityGroup('short'))) as { id: string };
    const fine = (await graph.api('/groups').post(securityGroup('fine'))) as { id: string };
    await graph
      .api(`/groups/${short.id}`)
      .patch({ 'members@odata.bind': [ref(a ?? ''), ref(b ?? '')] });
    await graph.api(`/groups/${fine.id}`).patch({ 'members@odata.bind': [ref(a ?? '')] });
    await graph
      .api(`/groups/${short.id}/assignLicense`)
      .post({ addLicenses: [{ skuId: sku, disabledPlans: [] }], removeLicenses: [] });
    const inError = (await graph
      .api('/groups')
      .header('ConsistencyLevel', 'eventual')
      .query({ $count: 'true' })
      .filter('hasMembersWithLicenseErrors eq true')
      .select('id,displayName')
      .get()) as { value: { id: string }[]; '@odata.count': number };
    expect(inError.value.map((g) => g.id)).toEqual([short.id]);
    expect(inError['@odata.count']).toBe(1);
    const none = (await graph
      .api('/groups')
      .filter("membershipRuleProcessingState eq 'On'")
      .get()) as {
      value: unknown[];
    };
    expect(none.value).toEqual([]);
  });
});
