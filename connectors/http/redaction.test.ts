/**
 * X1: canary credentials (bearer token, Basic password, OAuth client secret, the access token the
 * server issues, API keys in the query, tokens a server puts into its next links or echoes in
 * its errors) never appear in an issue, a record's location, the snapshot, or `util.inspect` of
 * the connector.
 */
import { tmpdir } from 'node:os';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceSnapshot } from '../../engine/model/source.js';
import type { SecretRef } from '../../engine/secret.js';
import { Redactor } from '../../engine/secret.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { createHttpSource } from './http-source.js';
import type { HttpSourceOptions } from '../../config/sources/http-options.js';
import { redactUrl, scrubServerText } from './redact.js';
import { startFixtureServer } from './test-helpers/fixture-server.js';
import type { FixtureServer, Handler } from './test-helpers/fixture-server.js';

const CANARIES = {
  HR_TOKEN: 'canary-bearer-7f3a9c41',
  HR_PASSWORD: 'canary-pw/+&= 9d2e',
  HR_CLIENT_SECRET: 'canary-client-secret-e81b',
  HR_API_KEY: 'canary-query-key-5531',
  HR_SIG: 'canary-signature-77aa',
};
const ISSUED_TOKEN = 'canary-access-token-0c9f';
const SERVER_TOKEN = 'canary-next-link-token-4e4e';
const ALL = [...Object.values(CANARIES), ISSUED_TOKEN, SERVER_TOKEN];

const servers: FixtureServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Handler): Promise<FixtureServer> {
  const server = await startFixtureServer(handler);
  servers.push(server);
  return server;
}

function ref(name: string): SecretRef {
  return { kind: 'secretRef', scheme: 'env', name, text: `\${env:${name}}`, path: `x.${name}` };
}

type Options = Partial<Omit<HttpSourceOptions, 'kind'>> & { url: string };

async function readWithCanaries(options: Options): Promise<{ snap: SourceSnapshot; text: string }> {
  const source = createHttpSource(
    'api',
    {
      kind: 'http',
      key: 'id',
      retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 2 },
      ...options,
    },
    aConnectorContext(tmpdir(), CANARIES, new Redactor()),
  );
  const snap = await source.read();
  const text = [
    JSON.stringify(snap),
    inspect(snap, { depth: 20 }),
    inspect(source, { depth: 20, showHidden: true }),
    ...snap.issues.map((i) => i.message),
    ...snap.records.map((r) => r.location.url ?? ''),
  ].join('\n');
  return { snap, text };
}

function expectNoCanary(text: string): void {
  for (const canary of ALL) {
    expect(text).not.toContain(canary);
    expect(text).not.toContain(encodeURIComponent(canary));
    expect(text).not.toContain(Buffer.from(canary).toString('base64'));
  }
}

/** Everything a request carried, as a hostile server would echo it back. */
function echo(req: { url: string; headers: Record<string, unknown> }): string {
  return `${req.url} ${JSON.stringify(req.headers)}`;
}

describe('X1: credentials never appear in output', () => {
  it('X1: bearer token, query API key and tokens in server next links are redacted in URLs and errors', async () => {
    const server = await serve((req, url) => {
      if (url.searchParams.get('page') === '3') {
        return { status: 500, body: { error: { message: `backend failed for ${echo(req)}` } } };
      }
      const next =
        url.searchParams.get('page') === '2'
          ? `/w?page=3&access_token=${SERVER_TOKEN}&sig=${SERVER_TOKEN}`
          : `/w?page=2`;
      return {
        body: { data: [{ id: `p${url.searchParams.get('page') ?? 1}` }, { name: 'no key' }], next },
      };
    });
    const { snap, text } = await readWithCanaries({
      url: server.url('/w'),
      records: 'data',
      paging: { style: 'next-link', path: 'next' },
      auth: { method: 'bearer', token: ref('HR_TOKEN') },
      query: { api_key: ref('HR_API_KEY'), tenant_check: ref('HR_SIG') },
    });
    // The canaries did reach the server.
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${CANARIES.HR_TOKEN}`);
    expect(server.requests[0]?.url).toContain(CANARIES.HR_API_KEY);
    expect(snap.status).toBe('failed');
    expectNoCanary(text);
    const failure = snap.issues.find((i) => i.code === 'source.http-status');
    expect(failure?.location?.url).toBe(
      server.url(
        '/w?page=3&access_token=[redacted]&sig=[redacted]&api_key=[redacted]&tenant_check=[redacted]',
      ),
    );
    expect(failure?.message).toContain('backend failed for');
    expect(failure?.message).toContain('[redacted]');
  });

  it('X1: the query API key is redacted in every record location', async () => {
    const server = await serve(() => ({ body: [{ id: '1' }, { name: 'no key' }] }));
    const { snap, text } = await readWithCanaries({
      url: server.url('/w'),
      query: { api_key: ref('HR_API_KEY') },
    });
    expect(snap.status).toBe('incomplete');
    expect(snap.records[0]?.location.url).toBe(server.url('/w?api_key=[redacted]'));
    expect(snap.issues[0]?.message).toContain(server.url('/w?api_key=[redacted]'));
    expectNoCanary(text);
  });

  it('X1: a Basic password echoed in an HTML error page is redacted', async () => {
    const server = await serve((req) => ({
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: `<html>${String(req.headers.authorization)} ${CANARIES.HR_PASSWORD}</html>`,
    }));
    const { snap, text } = await readWithCanaries({
      url: server.url('/w'),
      auth: { method: 'basic', username: 'svc-entrasync', password: ref('HR_PASSWORD') },
    });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.message).toContain('<html>Basic [redacted] [redacted]');
    expectNoCanary(text);
  });

  it('X1: an OAuth client secret echoed by the token endpoint is redacted', async () => {
    const server = await serve((req) => ({
      status: 400,
      body: {
        error: 'invalid_client',
        error_description: `bad secret in ${req.body} ${echo(req)}`,
      },
    }));
    for (const clientAuth of ['basic', 'body'] as const) {
      const { snap, text } = await readWithCanaries({
        url: server.url('/w'),
        auth: {
          method: 'oauth2',
          tokenUrl: server.url('/token'),
          clientId: 'client-1',
          clientSecret: ref('HR_CLIENT_SECRET'),
          clientAuth,
        },
      });
      expect(snap.status).toBe('failed');
      expect(snap.issues[0]?.message).toContain('invalid_client');
      expectNoCanary(text);
    }
  });

  it('X1: the access token a server issued is redacted when the API echoes it', async () => {
    const server = await serve((req, url) =>
      url.pathname === '/token'
        ? { body: { access_token: ISSUED_TOKEN, token_type: 'bearer', expires_in: 3600 } }
        : { status: 403, body: { message: `token ${echo(req)} lacks scope`, status: 403 } },
    );
    const { snap, text } = await readWithCanaries({
      url: server.url('/w'),
      auth: {
        method: 'oauth2',
        tokenUrl: server.url('/token'),
        clientId: 'client-1',
        clientSecret: ref('HR_CLIENT_SECRET'),
      },
    });
    expect(server.hits('/w')[0]?.headers.authorization).toBe(`Bearer ${ISSUED_TOKEN}`);
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.message).toContain('HTTP 403: status 403: token');
    expectNoCanary(text);
  });

  it('X1: credentials written into the URL are refused without echoing them', async () => {
    const { snap, text } = await readWithCanaries({
      url: `https://svc:${SERVER_TOKEN}@hr.example.invalid/api?token=${CANARIES.HR_TOKEN}`,
    });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.code).toBe('source.options');
    expect(snap.issues[0]?.message).toContain(
      'holds a credential (user info (`user:password@`), the query parameter `token`)',
    );
    expectNoCanary(text);
  });
});

describe('redactUrl', () => {
  it('removes user info, the fragment and credential-like query values, keeping the rest as sent', () => {
    const redactor = new Redactor();
    expect(
      redactUrl(
        'https://u:p@hr.example/api/v1/people?q=a+b&Access_Token=t1&X-Api-Key=k&page=2&code=c#frag',
        redactor,
      ),
    ).toBe(
      'https://[redacted]@hr.example/api/v1/people?q=a+b&Access_Token=[redacted]&X-Api-Key=[redacted]&page=2&code=[redacted]',
    );
  });

  it('redacts parameters named as secret, and registered secrets anywhere', () => {
    const redactor = new Redactor();
    redactor.add('path-secret-123');
    expect(
      redactUrl('https://hr.example/t/path-secret-123/x?tenant=acme&t=1', redactor, new Set(['t'])),
    ).toBe('https://hr.example/t/[redacted]/x?tenant=acme&t=[redacted]');
  });

  it('redacts what it can of a string that is not a URL', () => {
    expect(redactUrl('::not a url?token=abc&x=1', new Redactor())).toBe(
      '::not a url?token=[redacted]&x=1',
    );
  });
});

describe('scrubServerText', () => {
  it('hides credential-like parameters and Authorization values in text a server wrote', () => {
    expect(
      scrubServerText(
        'failed for /w?page=2&access_token=abc123&x=1 with header Bearer eyJhbGciOi.x-y_z= and {"key=v"}',
      ),
    ).toBe(
      'failed for /w?page=2&access_token=[redacted]&x=1 with header Bearer [redacted] and {"key=[redacted]"}',
    );
  });
});
