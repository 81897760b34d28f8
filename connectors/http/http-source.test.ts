import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { SecretRef } from '../../engine/secret.js';
import type { SourceSnapshot } from '../../engine/model/source.js';
import { Redactor } from '../../engine/secret.js';
import { computePlan } from '../../engine/pipeline/plan.js';
import { aPerson, aSpec, accountOfRow } from '../../test/helpers/builders.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { MAX_ISSUES_PER_CODE, createHttpSource } from './http-source.js';
import type { HttpSourceOptions } from '../../config/sources/http-options.js';
import { startFixtureServer } from './test-helpers/fixture-server.js';
import type { FixtureServer, Handler, Reply } from './test-helpers/fixture-server.js';

const servers: FixtureServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Handler): Promise<FixtureServer> {
  const server = await startFixtureServer(handler);
  servers.push(server);
  return server;
}

function ref(name: string, path = `sources.api.${name}`): SecretRef {
  return { kind: 'secretRef', scheme: 'env', name, text: `\${env:${name}}`, path };
}

type Options = Partial<Omit<HttpSourceOptions, 'kind'>> & { url: string };

/** Fast retries unless a test says otherwise. */
const FAST_RETRY = { attempts: 2, initialDelayMs: 1, maxDelayMs: 5 };

function source(options: Options, env: Record<string, string> = {}, redactor = new Redactor()) {
  return createHttpSource(
    'api',
    { kind: 'http', key: 'id', retry: FAST_RETRY, ...options },
    aConnectorContext(tmpdir(), env, redactor),
  );
}

function read(options: Options, env: Record<string, string> = {}): Promise<SourceSnapshot> {
  return source(options, env).read();
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function people(from: number, to: number): { id: string; name: string }[] {
  const out = [];
  for (let i = from; i <= to; i++) out.push({ id: `p${i}`, name: `Person ${i}` });
  return out;
}

const ok = (body: unknown, headers: Record<string, string> = {}): Reply => ({ body, headers });

describe('createHttpSource', () => {
  it('declares itself as an http source', () => {
    expect(source({ url: 'http://127.0.0.1:1/x' })).toMatchObject({
      apiVersion: 1,
      kind: 'http',
      name: 'api',
    });
  });
});

describe('reading one page', () => {
  it('returns every record with its JSON values as they are, the page URL and the fields seen', async () => {
    const server = await serve(() =>
      ok([
        { id: 'e1', age: 41, active: true, manager: { id: 'e2' }, tags: ['a', 'b'], left: null },
        { id: 7, name: 'Seven' },
      ]),
    );
    const snap = await read({ url: server.url('/workers') });
    expect(snap).toMatchObject({ name: 'api', kind: 'http', status: 'complete', issues: [] });
    expect(snap.records).toEqual([
      {
        source: 'api',
        key: 'e1',
        fields: {
          id: 'e1',
          age: 41,
          active: true,
          manager: { id: 'e2' },
          tags: ['a', 'b'],
          left: null,
        },
        location: { url: server.url('/workers') },
      },
      // A numeric key becomes its decimal text; the field keeps the number.
      {
        source: 'api',
        key: '7',
        fields: { id: 7, name: 'Seven' },
        location: { url: server.url('/workers') },
      },
    ]);
    expect(snap.fields).toEqual(['id', 'age', 'active', 'manager', 'tags', 'left', 'name']);
    expect(only(server.requests).headers).toMatchObject({
      accept: 'application/json',
      'user-agent': 'entrasync',
    });
  });

  it('finds records and key by dotted path', async () => {
    const server = await serve(() =>
      ok({ data: { items: [{ person: { number: 'A1' } }, { person: { number: 'A2' } }] } }),
    );
    const snap = await read({ url: server.url('/w'), records: 'data.items', key: 'person.number' });
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => r.key)).toEqual(['A1', 'A2']);
  });

  it('accepts JSONata for records and key, and one record from a JSONata selection', async () => {
    const server = await serve(() =>
      ok({
        data: [
          { id: 1, kind: 'employee', first: 'Ann', last: 'Lee' },
          { id: 2, kind: 'room', first: 'Room', last: '12' },
        ],
      }),
    );
    // JSONata unwraps a one-element result into the element; it still counts as one record.
    const snap = await read({
      url: server.url('/w'),
      records: "data[kind = 'employee']",
      key: "first & '.' & last",
    });
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => r.key)).toEqual(['Ann.Lee']);
  });

  it('fails with source.options, before any request, when a JSONata selector does not compile', async () => {
    const server = await serve(() => ok([]));
    const snap = await read({ url: server.url('/w'), records: 'data[' });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({ code: 'source.options' });
    expect(only(snap.issues).message).toContain('sources.api.records');
    expect(server.requests).toHaveLength(0);
  });

  it('leaves out a record without a key and marks the source incomplete, naming page and record', async () => {
    const server = await serve(() =>
      ok([{ id: 'a' }, { name: 'no id' }, { id: '  ' }, { id: {} }]),
    );
    const snap = await read({ url: server.url('/w') });
    expect(snap.status).toBe('incomplete');
    expect(snap.records.map((r) => r.key)).toEqual(['a']);
    expect(snap.issues.map((i) => [i.code, i.severity])).toEqual([
      ['source.missing-key', 'error'],
      ['source.missing-key', 'error'],
      ['source.missing-key', 'error'],
    ]);
    expect(snap.issues[0]?.message).toMatch(
      new RegExp(
        `^GET ${server.url('/w')} \\(page 1\\), record 2: no key at \`id\` \\(found nothing\\)`,
      ),
    );
    expect(snap.issues[0]?.location).toEqual({ url: server.url('/w') });
    expect(snap.issues[2]?.message).toContain('record 4: no key at `id` (found an object)');
  });

  it('caps per-record issues and sums up the rest', async () => {
    const rows = Array.from({ length: MAX_ISSUES_PER_CODE + 3 }, () => ({ name: 'x' }));
    const server = await serve(() => ok(rows));
    const snap = await read({ url: server.url('/w') });
    expect(snap.status).toBe('incomplete');
    expect(snap.issues).toHaveLength(MAX_ISSUES_PER_CODE + 1);
    expect(snap.issues.at(-1)?.message).toBe(
      `3 more source.missing-key issue(s) not listed (${MAX_ISSUES_PER_CODE + 3} in all)`,
    );
  });

  it('S12: leaves out records that lack a required field, and the source is incomplete', async () => {
    const server = await serve(() =>
      ok([
        { id: '1', status: 'active', org: { unit: 'x' } },
        { id: '2', status: null, org: { unit: 'x' } },
        { id: '3', status: 'active' },
      ]),
    );
    const snap = await read({ url: server.url('/w'), requiredFields: ['status', 'org.unit'] });
    expect(snap.status).toBe('incomplete');
    expect(snap.records.map((r) => r.key)).toEqual(['1']);
    expect(snap.issues.map((i) => i.code)).toEqual([
      'source.missing-field',
      'source.missing-field',
    ]);
    expect(snap.issues[0]?.message).toContain(
      'record 2: required field `status` is missing or null',
    );
    expect(snap.issues[1]?.message).toContain('record 3: required field `org.unit`');
  });

  it('keeps a field named __proto__ as a field', async () => {
    const server = await serve(() =>
      ok('[{"id":"1","__proto__":"x"}]', { 'content-type': 'application/json' }),
    );
    const snap = await read({ url: server.url('/w') });
    expect(Object.getOwnPropertyDescriptor(snap.records[0]?.fields, '__proto__')?.value).toBe('x');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('sends POST with a JSON body when configured', async () => {
    const server = await serve(() => ok([{ id: '1' }]));
    const snap = await read({
      url: server.url('/search'),
      method: 'POST',
      body: { status: 'any' },
    });
    expect(snap.status).toBe('complete');
    expect(only(server.requests)).toMatchObject({
      method: 'POST',
      body: '{"status":"any"}',
      headers: { 'content-type': 'application/json' },
    });
  });
});

describe('paging', () => {
  it('follows next links in the body, relative or absolute, and sends the limit on the first request', async () => {
    const server = await serve((req, url) => {
      const page = Number(url.searchParams.get('page') ?? '1');
      const next =
        page === 1 ? '/w?page=2' : page === 2 ? `http://${req.headers.host}/w?page=3` : null;
      return ok({ items: people(page * 10, page * 10 + 1), links: { next } });
    });
    const snap = await read({
      url: server.url('/w'),
      records: 'items',
      paging: { style: 'next-link', path: 'links.next', limitParam: 'size' },
      pageSize: 2,
    });
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => r.key)).toEqual(['p10', 'p11', 'p20', 'p21', 'p30', 'p31']);
    expect(server.requests.map((r) => r.url)).toEqual(['/w?size=2', '/w?page=2', '/w?page=3']);
    expect(snap.records[2]?.location.url).toBe(server.url('/w?page=2'));
  });

  it('reads a Graph-style `@odata.nextLink` as one property', async () => {
    const server = await serve((_, url) =>
      url.searchParams.has('skip')
        ? ok({ value: people(2, 2) })
        : ok({ value: people(1, 1), '@odata.nextLink': '/w?skip=1' }),
    );
    const snap = await read({
      url: server.url('/w'),
      records: 'value',
      paging: { style: 'next-link', path: '@odata.nextLink' },
    });
    expect(snap.records.map((r) => r.key)).toEqual(['p1', 'p2']);
  });

  it('follows RFC 8288 Link headers with rel="next"', async () => {
    const server = await serve((_, url) => {
      const page = Number(url.searchParams.get('page') ?? '1');
      const links = [`</w?page=1>; rel="first"`];
      if (page < 3)
        links.push(`<${server.url(`/w?page=${page + 1}`)}>; title="a, b"; rel="next last"`);
      return ok(people(page, page), { link: links.join(', ') });
    });
    const snap = await read({ url: server.url('/w'), paging: { style: 'link-header' } });
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => r.key)).toEqual(['p1', 'p2', 'p3']);
  });

  it('sends a cursor from the body as a query parameter until there is none', async () => {
    const server = await serve((_, url) => {
      const cursor = url.searchParams.get('after');
      if (cursor === null) return ok({ data: people(1, 2), meta: { next: 'c2' } });
      if (cursor === 'c2') return ok({ data: people(3, 4), meta: { next: 'c3' } });
      return ok({ data: people(5, 5), meta: { next: null } });
    });
    const snap = await read({
      url: server.url('/w?fields=all'),
      records: 'data',
      paging: { style: 'cursor', path: 'meta.next', param: 'after', limitParam: 'limit' },
      pageSize: 2,
    });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(5);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/w?fields=all&limit=2',
      '/w?fields=all&limit=2&after=c2',
      '/w?fields=all&limit=2&after=c3',
    ]);
  });

  it('reads offset pages to an empty one, even when the server sends fewer than asked', async () => {
    const all = people(1, 23);
    const server = await serve((_, url) => {
      const offset = Number(url.searchParams.get('offset'));
      // The server caps pages at 5 although 10 were asked for: a short page is not the end.
      return ok(all.slice(offset, offset + Math.min(5, Number(url.searchParams.get('limit')))));
    });
    const snap = await read({ url: server.url('/w'), paging: { style: 'offset' }, pageSize: 10 });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(23);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/w?offset=0&limit=10',
      '/w?offset=5&limit=10',
      '/w?offset=10&limit=10',
      '/w?offset=15&limit=10',
      '/w?offset=20&limit=10',
      '/w?offset=23&limit=10',
    ]);
  });

  it('reads numbered pages to an empty one', async () => {
    const all = people(1, 7);
    const server = await serve((_, url) => {
      const page = Number(url.searchParams.get('page'));
      return ok({ results: all.slice((page - 1) * 3, page * 3) });
    });
    const snap = await read({
      url: server.url('/w'),
      records: 'results',
      paging: { style: 'page' },
      pageSize: 3,
    });
    expect(snap.records).toHaveLength(7);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/w?page=1&per_page=3',
      '/w?page=2&per_page=3',
      '/w?page=3&per_page=3',
      '/w?page=4&per_page=3',
    ]);
  });

  it('stops at the declared total without asking for an empty page', async () => {
    const all = people(1, 6);
    const server = await serve((_, url) => {
      const offset = Number(url.searchParams.get('offset'));
      return ok({ total: 6, items: all.slice(offset, offset + 3) });
    });
    const snap = await read({
      url: server.url('/w'),
      records: 'items',
      totalPath: 'total',
      paging: { style: 'offset' },
      pageSize: 3,
    });
    expect(snap.status).toBe('complete');
    expect(server.requests).toHaveLength(2);
  });

  it('S8: a key on two pages read by position makes the source incomplete (the list moved)', async () => {
    // Someone was inserted before offset 2 between the two requests, so "b" moved to page 2;
    // a deletion would have skipped someone the same way, unseen.
    const server = await serve((_, url) =>
      url.searchParams.get('page') === '1'
        ? ok([{ id: 'a' }, { id: 'b' }])
        : url.searchParams.get('page') === '2'
          ? ok([{ id: 'b' }, { id: 'c' }])
          : ok([]),
    );
    const snap = await read({ url: server.url('/w'), paging: { style: 'page' } });
    expect(snap.status).toBe('incomplete');
    expect(snap.records.map((r) => r.key)).toEqual(['a', 'b', 'b', 'c']);
    expect(only(snap.issues)).toMatchObject({
      severity: 'error',
      code: 'source.overlap',
      key: 'b',
    });
    expect(only(snap.issues).message).toContain('record 1: key "b" was already read on page 1');
  });

  it('only warns about a duplicate key on one page or behind a cursor (the join reports it)', async () => {
    const server = await serve((_, url) =>
      url.searchParams.get('cursor') === null
        ? ok({ data: [{ id: 'a' }, { id: 'a' }], next: 'x' })
        : ok({ data: [{ id: 'a' }], next: null }),
    );
    const snap = await read({
      url: server.url('/w'),
      records: 'data',
      paging: { style: 'cursor', path: 'next' },
    });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(3);
    expect(snap.issues.map((i) => [i.severity, i.code])).toEqual([
      ['warning', 'source.duplicate-key'],
      ['warning', 'source.duplicate-key'],
    ]);
  });

  it('S16: a cursor page that repeats an earlier page makes the source incomplete in the plan', async () => {
    const first = [
      { id: '1', first: 'Ada', last: 'Lovelace', department: 'Sales', status: 'active' },
      { id: '2', first: 'Alan', last: 'Turing', department: 'Sales', status: 'active' },
    ];
    // The second cursor hands back the first page again; Grace (id 3) is never read.
    const server = await serve((_, url) =>
      url.searchParams.get('cursor') === null
        ? ok({ data: first, next: 'c2' })
        : ok({ data: first, next: null }),
    );
    const snap = await createHttpSource(
      'hr',
      {
        kind: 'http',
        key: 'id',
        retry: FAST_RETRY,
        url: server.url('/w'),
        records: 'data',
        paging: { style: 'cursor', path: 'next' },
      },
      aConnectorContext(tmpdir()),
    ).read();
    const grace = aPerson('3', 'Grace', 'Hopper');
    const plan = await computePlan(aSpec(), [snap], {
      users: [first[0]!, first[1]!, grace].map((row) => accountOfRow(row)),
    });
    expect(plan.sources[0]).toMatchObject({ status: 'incomplete', records: 2 });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => `${b.change.kind} ${b.code}`)).toEqual([
      'disableUser source-unhealthy',
    ]);
    expect(plan.issues.filter((i) => i.code === 'source.repeated-record')).toHaveLength(2);
    // The connector's own warnings stay; the join no longer holds them as two people (S11).
    const duplicates = plan.issues.filter((i) => i.code === 'source.duplicate-key');
    expect(duplicates.map((i) => i.severity)).toEqual(['warning', 'warning']);
  });

  it('marks the source incomplete when maxPages is reached with more pages announced', async () => {
    const server = await serve((_, url) => {
      const n = Number(url.searchParams.get('n') ?? '0');
      return ok({ items: people(n, n), next: `/w?n=${n + 1}` });
    });
    const snap = await read({
      url: server.url('/w'),
      records: 'items',
      paging: { style: 'next-link', path: 'next' },
      maxPages: 4,
    });
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(4);
    expect(server.requests).toHaveLength(4);
    expect(only(snap.issues)).toMatchObject({ code: 'source.max-pages' });
  });
});

describe('S12: broken answers fail the source, never a shorter list', () => {
  it('S12: a 200 HTML maintenance page fails the source, naming URL, page and content type', async () => {
    const server = await serve((_, url) =>
      url.searchParams.get('page') === '2'
        ? ok('<!DOCTYPE html><html><title>Down for maintenance</title></html>', {
            'content-type': 'text/html; charset=utf-8',
          })
        : ok({ items: people(1, 2), next: '/w?page=2' }),
    );
    const snap = await read({
      url: server.url('/w'),
      records: 'items',
      paging: { style: 'next-link', path: 'next' },
    });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    const issue = only(snap.issues);
    expect(issue).toMatchObject({
      severity: 'error',
      code: 'source.not-json',
      location: { url: server.url('/w?page=2') },
    });
    expect(issue.message).toMatch(
      new RegExp(
        `^GET ${server.url('/w\\?page=2')} \\(page 2\\): expected JSON but got text/html \\("<!DOCTYPE html>`,
      ),
    );
  });

  it('S12: a body that is not JSON fails the source', async () => {
    const server = await serve(() =>
      ok('Service temporarily unavailable', { 'content-type': 'text/plain' }),
    );
    const snap = await read({ url: server.url('/w') });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).code).toBe('source.not-json');
    expect(only(snap.issues).message).toContain('the body is not valid JSON (text/plain');
  });

  it('S12: an empty 200 fails the source', async () => {
    const server = await serve(() => ({ status: 200 }));
    const snap = await read({ url: server.url('/w') });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).message).toContain('empty body');
  });

  it('S12: a JSON error object with status 200 fails the source with what it says', async () => {
    const server = await serve(() =>
      ok({ error: { code: 'BackendDown', message: 'payroll database offline' } }),
    );
    const snap = await read({ url: server.url('/w'), records: 'data' });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    expect(only(snap.issues)).toMatchObject({ code: 'source.error-body' });
    expect(only(snap.issues).message).toContain(
      'the API answered with an error: error BackendDown: payroll database offline',
    );
  });

  it('S12: an object where the records should be fails the source (schema mismatch)', async () => {
    const server = await serve(() => ok({ data: { id: '1' } }));
    const snap = await read({ url: server.url('/w'), records: 'data' });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({ code: 'source.records' });
    expect(only(snap.issues).message).toContain(
      'expected a list of records at `data` but found an object',
    );
  });

  it('S12: records that are not objects fail the source (schema mismatch)', async () => {
    const server = await serve(() => ok({ data: [{ id: '1' }, 'p2', 3] }));
    const snap = await read({ url: server.url('/w'), records: 'data' });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    expect(only(snap.issues)).toMatchObject({ code: 'source.schema' });
    expect(only(snap.issues).message).toContain('record 2 is a string, not an object');
  });

  it('S12: an error reported alongside records makes the source incomplete', async () => {
    const server = await serve(() =>
      ok({ data: people(1, 2), errors: [{ message: 'department service timed out' }] }),
    );
    const snap = await read({ url: server.url('/w'), records: 'data' });
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(2);
    expect(only(snap.issues).code).toBe('source.partial');
    expect(only(snap.issues).message).toContain('department service timed out');
  });

  it('S12: a next cursor that repeats fails the source as a loop, after a bounded number of requests', async () => {
    const server = await serve((_, url) => {
      const cursor = url.searchParams.get('cursor');
      // (none) -> c1 -> c2 -> c1 -> ...
      const n = cursor === null ? 1 : cursor === 'c1' ? 2 : 3;
      return ok({ data: people(n, n), next: cursor === 'c1' ? 'c2' : 'c1' });
    });
    const snap = await read({
      url: server.url('/w'),
      records: 'data',
      paging: { style: 'cursor', path: 'next' },
    });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    expect(server.requests.map((r) => r.url)).toEqual(['/w', '/w?cursor=c1', '/w?cursor=c2']);
    const issue = only(snap.issues);
    expect(issue.code).toBe('source.paging-loop');
    expect(issue.message).toContain(
      '(page 4): page 3 leads back to the URL of page 2; the cursor repeats',
    );
  });

  it('S12: a next link that points at the page itself fails the source as a loop', async () => {
    const server = await serve(() => ok({ data: people(1, 1), next: '/w' }));
    const snap = await read({
      url: server.url('/w'),
      records: 'data',
      paging: { style: 'next-link', path: 'next' },
    });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).code).toBe('source.paging-loop');
    expect(server.requests).toHaveLength(1);
  });

  it('S12: a server that ignores the offset (the same page again) fails the source as a loop', async () => {
    const server = await serve(() => ok(people(1, 3)));
    const snap = await read({ url: server.url('/w'), paging: { style: 'offset' }, pageSize: 3 });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    expect(only(snap.issues).message).toContain('(page 2): the page is identical to page 1');
    expect(server.requests).toHaveLength(2);
  });

  it('S12: a 500 on page 7 fails the source after bounded retries, naming the URL and page', async () => {
    const server = await serve((_, url) => {
      const page = Number(url.searchParams.get('page'));
      if (page === 7) return { status: 500, body: { message: 'Internal error', status: 500 } };
      return ok(page <= 12 ? people(page, page) : []);
    });
    const snap = await read({
      url: server.url('/w'),
      paging: { style: 'page' },
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
    });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    // Pages 1-6 once; page 7 the first try and 3 retries; nothing after it.
    expect(
      server.requests.map((r) => new URL(r.url, server.origin).searchParams.get('page')),
    ).toEqual(['1', '2', '3', '4', '5', '6', '7', '7', '7', '7']);
    const issue = only(snap.issues);
    expect(issue).toMatchObject({
      code: 'source.http-status',
      location: { url: server.url('/w?page=7&per_page=100') },
    });
    expect(issue.message).toBe(
      `GET ${server.url('/w?page=7&per_page=100')} (page 7): HTTP 500 after 4 attempts: status 500: Internal error`,
    );
  });

  it('retries a transient 503 and a connection reset, then reads on', async () => {
    let calls = 0;
    const server = await serve(() => {
      calls++;
      if (calls === 1) return { status: 503 };
      if (calls === 2) return 'reset';
      return ok(people(1, 2));
    });
    const snap = await read({
      url: server.url('/w'),
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
    });
    expect(snap.status).toBe('complete');
    expect(server.requests).toHaveLength(3);
  });

  it('waits at least Retry-After before retrying a 429', async () => {
    const times: number[] = [];
    const server = await serve(() => {
      times.push(Date.now());
      return times.length === 1
        ? { status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow down' } }
        : ok(people(1, 1));
    });
    const snap = await read({ url: server.url('/w') });
    expect(snap.status).toBe('complete');
    expect(times).toHaveLength(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('never retries early: a Retry-After above the cap fails the source at once', async () => {
    const server = await serve(() => ({ status: 503, headers: { 'retry-after': '300' } }));
    const snap = await read({
      url: server.url('/w'),
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5, maxRetryAfterSeconds: 60 },
    });
    expect(snap.status).toBe('failed');
    expect(server.requests).toHaveLength(1);
    expect(only(snap.issues).message).toContain(
      'HTTP 503; the server asked to wait 300 s (Retry-After), more than `retry.maxRetryAfterSeconds` allows',
    );
  });

  it('accepts Retry-After as an HTTP date', async () => {
    let calls = 0;
    const server = await serve(() =>
      ++calls === 1
        ? {
            status: 503,
            headers: { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() },
          }
        : ok([]),
    );
    const snap = await read({
      url: server.url('/w'),
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5, maxRetryAfterSeconds: 600 },
    });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).message).toMatch(/asked to wait 3[56]\d\d s/);
  });

  it('does not retry a POST on a 500, but does on a 429', async () => {
    let calls = 0;
    const server = await serve((req) =>
      req.url === '/fail' ? { status: 500 } : ++calls === 1 ? { status: 429 } : ok([]),
    );
    const failed = await read({ url: server.url('/fail'), method: 'POST', body: {} });
    expect(failed.status).toBe('failed');
    expect(server.hits('/fail')).toHaveLength(1);
    const retried = await read({ url: server.url('/ok'), method: 'POST', body: {} });
    expect(retried.status).toBe('complete');
    expect(server.hits('/ok')).toHaveLength(2);
  });

  it('does not retry a 404 and fails the source', async () => {
    const server = await serve(() => ({
      status: 404,
      body: { message: 'no such endpoint', status: 404 },
    }));
    const snap = await read({ url: server.url('/w') });
    expect(snap.status).toBe('failed');
    expect(server.requests).toHaveLength(1);
    expect(only(snap.issues).message).toMatch(/: HTTP 404: status 404: no such endpoint$/);
  });

  it('fails a request that does not answer in time, after its retries', async () => {
    const server = await serve(() => 'hang');
    const started = Date.now();
    const snap = await read({
      url: server.url('/w'),
      timeoutSeconds: 0.2,
      retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 5 },
    });
    expect(snap.status).toBe('failed');
    expect(server.requests).toHaveLength(2);
    expect(only(snap.issues)).toMatchObject({ code: 'source.unreachable' });
    expect(only(snap.issues).message).toContain(
      'no answer after 2 attempts: no complete answer within 0.2 s',
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails when nothing listens, naming the error', async () => {
    const server = await serve(() => ok([]));
    const url = server.url('/w');
    await servers.pop()?.close();
    const snap = await read({ url, retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 5 } });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).message).toContain('ECONNREFUSED');
  });

  it('does not follow a redirect (the credentials would follow it)', async () => {
    const server = await serve((req) =>
      req.url === '/old' ? { status: 302, headers: { location: '/new?token=abc123' } } : ok([]),
    );
    const snap = await read({ url: server.url('/old') });
    expect(snap.status).toBe('failed');
    expect(server.hits('/new')).toHaveLength(0);
    expect(only(snap.issues).message).toContain(
      `HTTP 302 redirect to ${server.url('/new?token=[redacted]')}; redirects are not followed`,
    );
  });

  it('does not follow a next link to another origin', async () => {
    const server = await serve(() => ok({ data: people(1, 1), next: 'http://127.0.0.2:9/steal' }));
    const snap = await read({
      url: server.url('/w'),
      records: 'data',
      paging: { style: 'next-link', path: 'next' },
    });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({ code: 'source.paging' });
    expect(only(snap.issues).message).toContain('leads to another origin (http://127.0.0.2:9');
  });
});

describe('S8: a declared total that disagrees with what was read', () => {
  it('S8: fewer records than the declared total makes the source incomplete', async () => {
    const server = await serve((_, url) => {
      const cursor = url.searchParams.get('cursor');
      // Declares 250, but the second page is short and ends the read.
      return cursor === null
        ? ok({ meta: { total: 250, next: 'b' }, data: people(1, 200) })
        : ok({ meta: { total: 250, next: null }, data: people(201, 240) });
    });
    const snap = await read({
      url: server.url('/w'),
      records: 'data',
      totalPath: 'meta.total',
      paging: { style: 'cursor', path: 'meta.next' },
    });
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(240);
    const issue = only(snap.issues);
    expect(issue).toMatchObject({
      code: 'source.count-mismatch',
      location: { url: server.url('/w') },
    });
    expect(issue.message).toBe(
      `GET ${server.url('/w')}: the API declared 250 records (\`meta.total\`), but 240 were read; the source is incomplete, so nothing it would cause is deprovisioned`,
    );
  });

  it('S8: more records than declared is a disagreement too', async () => {
    const server = await serve(() => ok({ count: '2', data: people(1, 3) }));
    const snap = await read({ url: server.url('/w'), records: 'data', totalPath: 'count' });
    expect(snap.status).toBe('incomplete');
    expect(only(snap.issues).code).toBe('source.count-mismatch');
  });

  it('S8: a total that changes between pages makes the source incomplete', async () => {
    const server = await serve((_, url) =>
      url.searchParams.get('page') === '1'
        ? ok({ total: 4, data: people(1, 2) })
        : url.searchParams.get('page') === '2'
          ? ok({ total: 3, data: people(3, 4) })
          : ok({ total: 3, data: [] }),
    );
    const snap = await read({
      url: server.url('/w'),
      records: 'data',
      totalPath: 'total',
      paging: { style: 'page' },
    });
    expect(snap.status).toBe('incomplete');
    expect(snap.issues.map((i) => i.code)).toContain('source.total-changed');
  });

  it('S8: a configured total that the first page lacks fails the source', async () => {
    const server = await serve(() => ok({ data: people(1, 2) }));
    const snap = await read({ url: server.url('/w'), records: 'data', totalPath: 'meta.total' });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({ code: 'source.total' });
  });
});

describe('authentication', () => {
  it('sends a bearer token resolved from the environment', async () => {
    const server = await serve(() => ok([]));
    const snap = await read(
      { url: server.url('/w'), auth: { method: 'bearer', token: ref('HR_TOKEN') } },
      { HR_TOKEN: 'tok-123456' },
    );
    expect(snap.status).toBe('complete');
    expect(only(server.requests).headers.authorization).toBe('Bearer tok-123456');
  });

  it('sends HTTP Basic credentials', async () => {
    const server = await serve(() => ok([]));
    await read(
      {
        url: server.url('/w'),
        auth: { method: 'basic', username: 'svc', password: ref('HR_PASSWORD') },
      },
      { HR_PASSWORD: 'pa:ss wörd' },
    );
    expect(only(server.requests).headers.authorization).toBe(
      `Basic ${Buffer.from('svc:pa:ss wörd').toString('base64')}`,
    );
  });

  it('M6: an unset variable fails the source naming it, before any request', async () => {
    const server = await serve(() => ok([]));
    const snap = await read({
      url: server.url('/w'),
      auth: { method: 'bearer', token: ref('HR_TOKEN') },
    });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({ code: 'source.secret' });
    expect(only(snap.issues).message).toContain('environment variable `HR_TOKEN` is not set');
    expect(server.requests).toHaveLength(0);
  });

  it('a 401 with a static token fails the source without retrying', async () => {
    const server = await serve(() => ({ status: 401, body: { error: 'invalid_token' } }));
    const snap = await read(
      { url: server.url('/w'), auth: { method: 'bearer', token: ref('HR_TOKEN') } },
      { HR_TOKEN: 'tok-123456' },
    );
    expect(snap.status).toBe('failed');
    expect(server.requests).toHaveLength(1);
    expect(only(snap.issues).message).toMatch(/HTTP 401: error invalid_token$/);
  });

  describe('OAuth 2.0 client credentials', () => {
    function oauthServer(options: { expiresIn?: number; revokeFirstToken?: boolean } = {}) {
      let issued = 0;
      const revoked = new Set<string>();
      return serve((req, url) => {
        if (url.pathname === '/oauth/token') {
          issued++;
          const token = `access-${issued}-xyz`;
          if (options.revokeFirstToken && issued === 1) revoked.add(token);
          return ok({
            access_token: token,
            token_type: 'Bearer',
            expires_in: options.expiresIn ?? 3600,
          });
        }
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer access-') || revoked.has(auth.slice(7))) {
          return { status: 401, body: { error: 'invalid_token' } };
        }
        const page = Number(url.searchParams.get('page'));
        return ok(page <= 3 ? people(page, page) : []);
      });
    }
    const oauth = (server: FixtureServer, clientAuth?: 'basic' | 'body'): Options => ({
      url: server.url('/w'),
      paging: { style: 'page' },
      auth: {
        method: 'oauth2',
        tokenUrl: server.url('/oauth/token'),
        clientId: 'entrasync-client',
        clientSecret: ref('HR_CLIENT_SECRET'),
        scope: 'hr.read',
        ...(clientAuth ? { clientAuth } : {}),
      },
    });
    const env = { HR_CLIENT_SECRET: 's3cr3t&+=' };

    it('fetches one token with HTTP Basic client authentication and reuses it for every page', async () => {
      const server = await oauthServer();
      const snap = await read(oauth(server), env);
      expect(snap.status).toBe('complete');
      expect(snap.records).toHaveLength(3);
      const token = only(server.hits('/oauth/token'));
      expect(token.method).toBe('POST');
      expect(token.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(token.headers.authorization).toBe(
        `Basic ${Buffer.from('entrasync-client:s3cr3t%26%2B%3D').toString('base64')}`,
      );
      expect(Object.fromEntries(new URLSearchParams(token.body))).toEqual({
        grant_type: 'client_credentials',
        scope: 'hr.read',
      });
      expect(server.hits('/w').map((r) => r.headers.authorization)).toEqual([
        'Bearer access-1-xyz',
        'Bearer access-1-xyz',
        'Bearer access-1-xyz',
        'Bearer access-1-xyz',
      ]);
    });

    it('sends client id and secret in the body when configured', async () => {
      const server = await oauthServer();
      await read(oauth(server, 'body'), env);
      const token = only(server.hits('/oauth/token'));
      expect(token.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(new URLSearchParams(token.body))).toMatchObject({
        client_id: 'entrasync-client',
        client_secret: 's3cr3t&+=',
      });
    });

    it('fetches a new token when the cached one is about to expire', async () => {
      // expires_in 0.002 s: cached for half of it, so every page needs a fresh token.
      const server = await oauthServer({ expiresIn: 0.002 });
      const snap = await read(oauth(server), env);
      expect(snap.status).toBe('complete');
      expect(server.hits('/oauth/token').length).toBeGreaterThanOrEqual(2);
    });

    it('fetches a fresh token once after a 401, and goes on', async () => {
      const server = await oauthServer({ revokeFirstToken: true });
      const snap = await read(oauth(server), env);
      expect(snap.status).toBe('complete');
      expect(server.hits('/oauth/token')).toHaveLength(2);
      expect(server.hits('/w').map((r) => r.headers.authorization)).toEqual([
        'Bearer access-1-xyz',
        'Bearer access-2-xyz',
        'Bearer access-2-xyz',
        'Bearer access-2-xyz',
        'Bearer access-2-xyz',
      ]);
    });

    it('fails the source when the token endpoint refuses, with the OAuth error code', async () => {
      const server = await serve(() => ({
        status: 401,
        body: { error: 'invalid_client', error_description: 'Client authentication failed' },
      }));
      const snap = await read(oauth(server), env);
      expect(snap.status).toBe('failed');
      expect(only(snap.issues)).toMatchObject({ code: 'source.auth' });
      expect(only(snap.issues).message).toContain(
        `token request POST ${server.url('/oauth/token')} failed: HTTP 401: invalid_client (Client authentication failed)`,
      );
      expect(server.hits('/w')).toHaveLength(0);
    });
  });
});

describe('options the schema cannot check', () => {
  it('refuses http:// to a host other than loopback, without a request', async () => {
    const snap = await read({ url: 'http://hr.example.invalid/api' });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({ code: 'source.options' });
    expect(only(snap.issues).message).toContain('uses http:// to hr.example.invalid');
  });

  it('refuses SCIM-only and REST-only options in the wrong preset', async () => {
    const scim = await read({
      url: 'https://hr.example.invalid/scim/v2/Users',
      api: 'scim',
      records: 'x',
      paging: { style: 'none' },
    });
    expect(only(scim.issues).message).toContain(
      '`sources.api.records` does not apply with `api: scim`',
    );
    expect(only(scim.issues).message).toContain('`sources.api.paging` does not apply');
    const rest = await read({ url: 'https://hr.example.invalid/api', filter: 'active eq true' });
    expect(only(rest.issues).message).toContain(
      '`sources.api.filter` applies only with `api: scim`',
    );
  });

  it('refuses a credential written as text into a header or query parameter', async () => {
    const snap = await read({
      url: 'https://hr.example.invalid/api',
      headers: { 'X-Api-Key': 'literal-key', 'X-Tenant': 'acme' },
      query: { api_key: 'literal-key-2', fields: 'all' },
    });
    expect(snap.status).toBe('failed');
    const message = only(snap.issues).message;
    expect(message).toContain('`sources.api.headers.X-Api-Key` carries a credential');
    expect(message).toContain('`sources.api.query.api_key` carries a credential');
    expect(message).not.toContain('literal-key');
  });

  it('refuses an Authorization header next to auth', async () => {
    const snap = await read(
      {
        url: 'https://hr.example.invalid/api',
        headers: { Authorization: ref('X') },
        auth: { method: 'bearer', token: ref('Y') },
      },
      { X: 'xxxx', Y: 'yyyy' },
    );
    expect(only(snap.issues).message).toContain('conflicts with `sources.api.auth`');
  });
});
