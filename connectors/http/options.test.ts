import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatConfigPath } from '../../config/diagnostics.js';
import { normalizeValue } from '../../config/normalize.js';
import { slotOf } from '../../config/schema-slots.js';
import { createSecretRef, isSecretRef, parseSecretReference } from '../../config/secrets.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { createHttpSource } from './http-source.js';
import { HttpSourceOptions } from '../../config/sources/http-options.js';
import { startFixtureServer } from './test-helpers/fixture-server.js';

/** The loader's ajv settings (config/load.ts). */
function compile() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addVocabulary(['patternErrorMessage']);
  addFormats.default(ajv, ['uri']);
  return ajv.compile(HttpSourceOptions);
}

type Node = Record<string, unknown>;

/** Every property of every object in the schema, with its path. */
function properties(node: Node, path: string, out: [string, Node][] = []): [string, Node][] {
  for (const branch of (node['anyOf'] as Node[] | undefined) ?? []) properties(branch, path, out);
  const props = node['properties'] as Record<string, Node> | undefined;
  for (const [key, child] of Object.entries(props ?? {})) {
    out.push([`${path}.${key}`, child]);
    properties(child, `${path}.${key}`, out);
  }
  for (const child of Object.values((node['patternProperties'] as Record<string, Node>) ?? {})) {
    properties(child, `${path}.<name>`, out);
  }
  return out;
}

describe('HttpSourceOptions', () => {
  it("compiles under the loader's strict ajv settings", () => {
    expect(() => compile()).not.toThrow();
  });

  it('describes every property (the reference is generated from the schema)', () => {
    const undescribed = properties(HttpSourceOptions as unknown as Node, 'http')
      .filter(([path, node]) => path !== 'http.kind' && typeof node['description'] !== 'string')
      .map(([path]) => path);
    expect(undescribed).toEqual([]);
  });

  it('accepts the options of each paging style and auth method', () => {
    const validate = compile();
    const valid = [
      { kind: 'http', url: 'https://hr.example/api/workers', key: 'id' },
      {
        kind: 'http',
        url: 'https://hr.example/api/workers',
        key: 'id',
        records: 'data',
        totalPath: 'meta.total',
        paging: { style: 'cursor', path: 'meta.next', param: 'after', limitParam: 'limit' },
        auth: { method: 'bearer', token: '${env:HR_TOKEN}' },
        headers: { 'X-Api-Key': '${env:HR_KEY}', 'X-Tenant': 'acme' },
        query: { api_key: '${file:secrets/key}' },
        retry: { attempts: 5, maxRetryAfterSeconds: 300 },
      },
      {
        kind: 'http',
        url: 'https://hr.example/scim/v2/Users',
        api: 'scim',
        key: 'employeeNumber',
        filter: 'active eq true',
        auth: {
          method: 'oauth2',
          tokenUrl: 'https://login.hr.example/oauth/token',
          clientId: 'entrasync',
          clientSecret: '${env:HR_CLIENT_SECRET}',
          scope: 'scim.read',
        },
      },
      { kind: 'http', url: 'https://x.example', key: 'id', paging: { style: 'offset', start: 1 } },
      { kind: 'http', url: 'https://x.example', key: 'id', paging: { style: 'page', first: 0 } },
      { kind: 'http', url: 'https://x.example', key: 'id', paging: { style: 'link-header' } },
      {
        kind: 'http',
        url: 'https://x.example',
        key: 'id',
        method: 'POST',
        body: { query: { active: true } },
        auth: { method: 'basic', username: 'svc', password: '${env:P}' },
        paging: { style: 'next-link', path: '@odata.nextLink' },
      },
    ];
    for (const options of valid) {
      expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('refuses a literal token where a secret reference is required, and unknown keys', () => {
    const validate = compile();
    expect(
      validate({
        kind: 'http',
        url: 'https://x.example',
        key: 'id',
        auth: { method: 'bearer', token: 'literal-token' },
      }),
    ).toBe(false);
    expect(validate({ kind: 'http', url: 'https://x.example', key: 'id', pagging: {} })).toBe(
      false,
    );
    expect(validate({ kind: 'http', url: 'ftp://x.example', key: 'id' })).toBe(false);
  });

  it('tags credential fields as secret slots, so the loader turns ${env:...} into a reference', () => {
    const props = Object.fromEntries(properties(HttpSourceOptions as unknown as Node, 'http'));
    expect(slotOf(props['http.auth.token'])).toBe('secret');
    expect(slotOf(props['http.auth.password'])).toBe('secret');
    expect(slotOf(props['http.auth.clientSecret'])).toBe('secret');
    expect(slotOf(props['http.auth.clientId'])).toBe('secret-or-text');
  });
});

describe('options as the config loader produces them', () => {
  /** What config/load.ts does to a source's options: defaults, and references as SecretRef. */
  function load(data: unknown): HttpSourceOptions {
    return normalizeValue(
      HttpSourceOptions,
      data,
      {
        slot(kind, value, segments) {
          const parsed = parseSecretReference(value);
          if (kind !== 'expression' && parsed?.ok) {
            return createSecretRef(parsed.scheme, parsed.name, formatConfigPath(segments));
          }
          return value;
        },
        plain() {},
      },
      ['sources', 'hr'],
    ) as HttpSourceOptions;
  }

  it('fills defaults and turns references into SecretRefs that the connector resolves late', async () => {
    const server = await startFixtureServer((req, url) => ({
      body:
        url.searchParams.get('page') === '1'
          ? [{ id: '1', auth: req.headers.authorization, key: req.headers['x-api-key'] }]
          : [],
    }));
    try {
      const options = load({
        kind: 'http',
        url: server.url('/w'),
        key: 'id',
        paging: { style: 'page' },
        auth: { method: 'bearer', token: '${env:HR_TOKEN}' },
        headers: { 'X-Api-Key': '${env:HR_KEY}' },
      });
      expect(options).toMatchObject({
        api: 'rest',
        method: 'GET',
        pageSize: 100,
        paging: { style: 'page', pageParam: 'page', limitParam: 'per_page', first: 1 },
      });
      const token = (options.auth as { token: unknown }).token;
      expect(isSecretRef(token)).toBe(true);
      expect(token).toMatchObject({ name: 'HR_TOKEN', path: 'sources.hr.auth.token' });
      const snap = await createHttpSource(
        'hr',
        options,
        aConnectorContext(tmpdir(), { HR_TOKEN: 'token-value-1', HR_KEY: 'key-value-2' }),
      ).read();
      expect(snap.status).toBe('complete');
      expect(snap.records[0]?.fields).toMatchObject({
        auth: 'Bearer token-value-1',
        key: 'key-value-2',
      });
    } finally {
      await server.close();
    }
  });
});
