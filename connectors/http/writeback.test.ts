/**
 * Write-back to a plain (non-SCIM) HTTP API (issue 26): one PATCH per record with a JSON object
 * of the fields, at `writeback.<source>.url` with `{id}` replaced, the source's query
 * parameters and headers kept; a refusal names the record key and the status, and the token
 * never appears in it.
 */
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpSourceOptions } from '../../config/sources/http-options.js';
import type { WritebackChange } from '../../engine/model/writeback.js';
import type { SecretRef } from '../../engine/secret.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { startFixtureServer } from './test-helpers/fixture-server.js';
import type { FixtureServer } from './test-helpers/fixture-server.js';
import { createHttpWriteback } from './writeback.js';

const TOKEN = 'hr-write-token-77a1';
const TOKEN_REF: SecretRef = {
  kind: 'secretRef',
  scheme: 'env',
  name: 'HR_WRITE_TOKEN',
  text: '${env:HR_WRITE_TOKEN}',
  path: 'writeback.hr.token',
};

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const change = (key: string, id: string): WritebackChange => ({
  id: `writeback:hr:${key}`,
  source: 'hr',
  record: { key, id },
  user: { id: 'obj-1', userPrincipalName: 'ada@contoso.com' },
  set: [
    { field: 'workEmail', from: 'userPrincipalName', before: null, after: 'ada@contoso.com' },
    { field: 'entraId', from: 'id', before: 'old', after: 'obj-1' },
  ],
  message: '',
});

describe('HTTP write-back (issue 26)', () => {
  it('WB16: PATCHes a JSON object of the fields to the url template with the write token; a 422 names the key and status, never the token', async () => {
    server = await startFixtureServer((request) =>
      request.url.includes('w-2')
        ? { status: 422, body: { error: 'workEmail is read-only' } }
        : { status: 204 },
    );
    const source: HttpSourceOptions = {
      kind: 'http',
      url: server.url('/api/workers?tenant=acme'),
      key: 'employeeId',
      query: { tenant: 'acme' },
      retry: { attempts: 0 },
    };
    const writer = createHttpWriteback(
      'hr',
      source,
      { attributes: {}, url: server.url('/api/workers/{id}/profile'), token: TOKEN_REF },
      aConnectorContext(tmpdir(), { HR_WRITE_TOKEN: TOKEN }),
    );
    const ok = await writer.write(change('1001', 'w-1'));
    const refused = await writer.write(change('1002', 'w-2'));
    await writer.close();
    expect(ok).toEqual({
      changeId: 'writeback:hr:1001',
      source: 'hr',
      key: '1001',
      outcome: 'applied',
    });
    const first = server.requests[0];
    expect(first?.method).toBe('PATCH');
    expect(first?.url).toBe('/api/workers/w-1/profile?tenant=acme');
    expect(first?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(first?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(first?.body ?? '')).toEqual({
      workEmail: 'ada@contoso.com',
      entraId: 'obj-1',
    });
    expect(refused.outcome).toBe('failed');
    expect(refused.error?.code).toBe('writeback.http-status');
    expect(refused.error?.message).toMatch(
      /^hr:1002: PATCH http:\/\/127\.0\.0\.1:\d+\/api\/workers\/w-2\/profile\?tenant=acme answered HTTP 422/,
    );
    expect(refused.error?.message).not.toContain(TOKEN);
  });

  it('WB17: an unset write token fails each record with the variable named, before any request', async () => {
    server = await startFixtureServer(() => ({ status: 204 }));
    const writer = createHttpWriteback(
      'hr',
      { kind: 'http', url: server.url('/api/workers'), key: 'employeeId' },
      { attributes: {}, token: TOKEN_REF },
      aConnectorContext(tmpdir(), {}),
    );
    const result = await writer.write(change('1001', 'w-1'));
    expect(result.error?.code).toBe('writeback.credentials');
    expect(result.error?.message).toContain('HR_WRITE_TOKEN');
    expect(server.requests).toEqual([]);
    expect((await writer.check(['workEmail'])).status).toBe('warn');
  });
});
