/**
 * The `scim` preset against a SCIM service provider built on SCIMMY, a maintained SCIM library:
 * the filter parsing, matching and ListResponse paging the connector relies on are its code,
 * not ours.
 */
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { SecretRef } from '../../engine/secret.js';
import type { SourceSnapshot } from '../../engine/model/source.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { createHttpSource } from './http-source.js';
import type { HttpSourceOptions } from '../../config/sources/http-options.js';
import { SCIM_ENTERPRISE_USER, SCIM_USER_FIELDS } from './scim.js';
import { startScimServer } from './test-helpers/scim-server.js';
import type { ScimServer, ScimServerOptions, ScimUser } from './test-helpers/scim-server.js';

const TOKEN = 'scim-token-0123456789';
const TOKEN_REF: SecretRef = {
  kind: 'secretRef',
  scheme: 'env',
  name: 'SCIM_TOKEN',
  text: '${env:SCIM_TOKEN}',
  path: 'sources.hr.auth.token',
};

let server: ScimServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function aUser(i: number): ScimUser {
  return {
    schemas: [
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ],
    id: `id-${i}`,
    externalId: `ext-${i}`,
    userName: `user${i}@example.com`,
    name: { givenName: `Given${i}`, familyName: `Family${i}` },
    emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }],
    active: i % 5 !== 0,
    title: i % 2 === 0 ? 'Engineer' : 'Analyst',
    [SCIM_ENTERPRISE_USER]: {
      employeeNumber: `E${String(i).padStart(5, '0')}`,
      department: i % 2 === 0 ? 'Engineering' : 'Finance',
      manager: { value: 'id-1', displayName: 'Boss One' },
    },
  };
}

function users(n: number): ScimUser[] {
  return Array.from({ length: n }, (_, i) => aUser(i + 1));
}

async function readScim(
  serverOptions: ScimServerOptions,
  options: Partial<Omit<HttpSourceOptions, 'kind' | 'url'>> = {},
): Promise<SourceSnapshot> {
  server = await startScimServer({ token: TOKEN, ...serverOptions });
  const source = createHttpSource(
    'hr',
    {
      kind: 'http',
      url: server.usersUrl,
      api: 'scim',
      key: 'employeeNumber',
      auth: { method: 'bearer', token: TOKEN_REF },
      retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 5 },
      ...options,
    },
    aConnectorContext(tmpdir(), { SCIM_TOKEN: TOKEN }),
  );
  return source.read();
}

function startIndexes(s: ScimServer): string[] {
  return s.requests.map((r) => {
    const q = new URL(r.url, s.origin).searchParams;
    return `${q.get('startIndex')}/${q.get('count')}`;
  });
}

describe('SCIM 2.0 preset (SCIMMY server)', () => {
  it('reads every user over startIndex pages, with the enterprise extension lifted', async () => {
    const snap = await readScim({ users: users(250) }, { pageSize: 100 });
    expect(snap).toMatchObject({ status: 'complete', issues: [] });
    expect(snap.records).toHaveLength(250);
    expect(startIndexes(server as ScimServer)).toEqual(['1/100', '101/100', '201/100']);
    const first = snap.records[0];
    expect(first?.key).toBe('E00001');
    expect(first?.fields).toMatchObject({
      id: 'id-1',
      userName: 'user1@example.com',
      name: { givenName: 'Given1', familyName: 'Family1' },
      active: true,
      employeeNumber: 'E00001',
      department: 'Finance',
      manager: { value: 'id-1', displayName: 'Boss One' },
    });
    expect(first?.fields).not.toHaveProperty([SCIM_ENTERPRISE_USER]);
    expect(first?.location.url).toBe(`${server?.usersUrl}?startIndex=1&count=100`);
    expect(new Set(snap.records.map((r) => r.key)).size).toBe(250);
    // Every known attribute is a field, so mappings may name one no record happens to have.
    expect(snap.fields).toEqual(expect.arrayContaining([...SCIM_USER_FIELDS]));
    expect((server as ScimServer).requests[0]?.headers.accept).toBe(
      'application/scim+json, application/json',
    );
  });

  it('keeps reading when the server answers with fewer than `count` per page', async () => {
    const snap = await readScim({ users: users(120), maxCount: 25 }, { pageSize: 100 });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(120);
    expect(startIndexes(server as ScimServer)).toEqual([
      '1/100',
      '26/100',
      '51/100',
      '76/100',
      '101/100',
    ]);
  });

  it('sends the filter, which the SCIM library applies, and checks totalResults against it', async () => {
    const snap = await readScim(
      { users: users(60) },
      { pageSize: 10, filter: 'active eq true and title eq "Engineer"' },
    );
    expect(snap.status).toBe('complete');
    // Even numbers that are not multiples of 5 in 1..60: 30 even, 6 of them multiples of 10.
    expect(snap.records).toHaveLength(24);
    expect(snap.records.every((r) => r.fields['active'] === true)).toBe(true);
    expect(new URL(server?.requests[0]?.url ?? '', server?.origin).searchParams.get('filter')).toBe(
      'active eq true and title eq "Engineer"',
    );
  });

  it('reads an empty user list as a complete, empty source', async () => {
    const snap = await readScim({ users: [] });
    expect(snap).toMatchObject({ status: 'complete', records: [], issues: [] });
    expect(server?.requests).toHaveLength(1);
  });

  it('S12: a SCIM error (an invalid filter) fails the source with its scimType and detail', async () => {
    const snap = await readScim({ users: users(3) }, { filter: 'userName zz "x"' });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    const issue = snap.issues[0];
    expect(snap.issues).toHaveLength(1);
    expect(issue?.code).toBe('source.http-status');
    expect(issue?.message).toMatch(/\(page 1\): HTTP 400: SCIM error: status 400, invalidFilter, /);
  });

  it("S12: a wrong token fails the source with the server's 401", async () => {
    server = await startScimServer({ users: users(3), token: 'another-token-value' });
    const snap = await createHttpSource(
      'hr',
      {
        kind: 'http',
        url: server.usersUrl,
        api: 'scim',
        key: 'id',
        auth: { method: 'bearer', token: TOKEN_REF },
      },
      aConnectorContext(tmpdir(), { SCIM_TOKEN: TOKEN }),
    ).read();
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.message).toContain('HTTP 401: SCIM error: status 401');
    expect(snap.issues[0]?.message).not.toContain(TOKEN);
  });

  it('S8: a page missing a user while totalResults still adds up makes the source incomplete', async () => {
    const snap = await readScim(
      {
        users: users(250),
        // Page 2 loses one user from its middle, as a buggy server or a proxy might: the next
        // page starts one earlier, so the count still adds up to 250, with user 200 twice.
        transform: (body, req) => {
          if (!req.url.includes('startIndex=101&')) return body;
          const resources = [...(body['Resources'] as unknown[])];
          resources.splice(50, 1);
          return { ...body, Resources: resources };
        },
      },
      { pageSize: 100 },
    );
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(250);
    expect(new Set(snap.records.map((r) => r.key)).size).toBe(249);
    const overlap = snap.issues.find((i) => i.code === 'source.overlap');
    expect(overlap?.message).toContain(
      '(page 3), record 1: SCIM id "id-200" was already read on page 2',
    );
  });

  it('S8: fewer users than totalResults declares, with no page left to read, is incomplete', async () => {
    const snap = await readScim(
      {
        users: users(30),
        // Declares one more than it has; past the end it answers with an empty page.
        transform: (body, req) =>
          req.url.includes('startIndex=31&')
            ? { ...body, totalResults: 31, Resources: [] }
            : { ...body, totalResults: 31 },
      },
      { pageSize: 10 },
    );
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(30);
    const mismatch = snap.issues.find((i) => i.code === 'source.count-mismatch');
    expect(mismatch?.message).toContain(
      'the API declared 31 records (`totalResults`), but 30 were read; the source is incomplete',
    );
  });

  it('S8: totalResults promising more than exists: SCIMMY answers past the end with the first users again, caught as an overlap', async () => {
    const snap = await readScim(
      { users: users(30), transform: (body) => ({ ...body, totalResults: 31 }) },
      { pageSize: 10 },
    );
    expect(snap.status).toBe('incomplete');
    expect(startIndexes(server as ScimServer)).toEqual(['1/10', '11/10', '21/10', '31/10']);
    expect(snap.issues.filter((i) => i.code === 'source.overlap')).toHaveLength(10);
    expect(snap.issues.map((i) => i.code)).toContain('source.count-mismatch');
  });

  it('S8: a user added between pages changes totalResults and makes the source incomplete', async () => {
    const list = users(20);
    const snap = await readScim(
      {
        users: list,
        transform: (body, req) => {
          // After the first page is served, someone is hired.
          if (req.url.includes('startIndex=1&')) list.unshift(aUser(999));
          return body;
        },
      },
      { pageSize: 10 },
    );
    expect(snap.status).toBe('incomplete');
    expect(snap.issues.map((i) => i.code)).toContain('source.total-changed');
  });

  it('S12: a server that ignores startIndex fails the source instead of looping', async () => {
    const snap = await readScim(
      { users: users(30), transform: (body) => ({ ...body, startIndex: 1 }) },
      { pageSize: 10 },
    );
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    expect(snap.issues[0]?.message).toContain(
      '(page 2): asked for startIndex=11 but the server answered startIndex=1',
    );
  });

  it('S12: a body that is not a ListResponse fails the source', async () => {
    const snap = await readScim({
      users: users(3),
      transform: (body) => ({ Resources: body['Resources'], totalResults: 3 }),
    });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]).toMatchObject({ code: 'source.schema' });
    expect(snap.issues[0]?.message).toContain('not a SCIM ListResponse');
  });

  it('leaves out a resource that is not a User, and one without the key, as incomplete', async () => {
    const snap = await readScim({
      users: users(3),
      transform: (body) => {
        const [a, b, c] = body['Resources'] as Record<string, unknown>[];
        return {
          ...body,
          Resources: [
            a,
            { ...b, schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'] },
            { ...c, [SCIM_ENTERPRISE_USER]: {}, password: 'should-never-be-here' },
          ],
        };
      },
    });
    expect(snap.status).toBe('incomplete');
    expect(snap.records.map((r) => r.key)).toEqual(['E00001']);
    expect(snap.issues.map((i) => i.code)).toEqual(['source.schema', 'source.missing-key']);
    expect(JSON.stringify(snap)).not.toContain('should-never-be-here');
  });
});
