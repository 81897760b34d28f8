/**
 * The LDAP source with a scripted client: what it asks the server for (never `sizeLimit`, the
 * configured page size) and how it reads every way a search can fall short. The same behaviour
 * against real servers is in ldap-source.slapd.test.ts and ldap-source.samba.test.ts.
 */
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import {
  AdminLimitExceededError,
  InvalidCredentialsError,
  PagedResultsControl,
  SearchResponse,
  SizeLimitExceededError,
  TimeLimitExceededError,
} from 'ldapts';
import type { ClientOptions, Entry, SearchOptions, SearchResult } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { createSecretRef } from '../../config/secrets.js';
import { Redactor } from '../../engine/secret.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import type { LdapClient } from './connection.js';
import { createLdapSource } from './ldap-source.js';
import { DEFAULT_PAGE_SIZE } from '../../config/sources/ldap-options.js';
import type { LdapSourceOptions } from '../../config/sources/ldap-options.js';
import { watchSearchResponses } from './page-watch.js';

const CANARY = 'Canary-Unit-Pa55word-0b1d';

type Step = SearchResult | Error;

interface Script {
  /** Pages of each paged search, in call order; an Error is thrown in place of that page. */
  readonly searches?: readonly (readonly Step[])[];
  /** Answer to a non-paged `search` (root DSE, range reads, the empty-result probe). */
  readonly search?: (base: string, options: SearchOptions) => SearchResult | Error;
  readonly bindError?: Error;
  /** Called before each page is handed over, to drop the connection or emit messages. */
  readonly beforePage?: (client: FakeClient, search: number, page: number) => void;
}

class FakeClient implements LdapClient {
  readonly calls: { method: string; base?: string; options?: SearchOptions }[] = [];
  readonly messageParser = new EventEmitter();
  isConnected = true;
  isBound = false;
  #search = 0;
  constructor(
    readonly clientOptions: ClientOptions,
    private readonly script: Script,
  ) {}

  async startTLS(): Promise<void> {
    this.calls.push({ method: 'startTLS' });
  }

  async bind(): Promise<void> {
    this.calls.push({ method: 'bind' });
    if (this.script.bindError) throw this.script.bindError;
    this.isBound = true;
  }

  async search(base: string, options: SearchOptions = {}): Promise<SearchResult> {
    this.calls.push({ method: 'search', base, options });
    const rootDse = {
      dn: '',
      supportedControl: ['1.2.840.113556.1.4.319'],
      namingContexts: 'dc=x',
    };
    const answer =
      this.script.search?.(base, options) ??
      (base === ''
        ? { searchEntries: [rootDse], searchReferences: [] }
        : { searchEntries: [], searchReferences: [] });
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async *searchPaginated(base: string, options: SearchOptions = {}): AsyncGenerator<SearchResult> {
    this.calls.push({ method: 'searchPaginated', base, options });
    const n = this.#search++;
    const steps = this.script.searches?.[n] ?? [];
    for (const [i, step] of steps.entries()) {
      this.script.beforePage?.(this, n, i);
      if (step instanceof Error) throw step;
      yield step;
    }
  }

  async unbind(): Promise<void> {
    this.calls.push({ method: 'unbind' });
    this.isConnected = false;
  }
}

function page(from: number, count: number, refs: string[] = []): SearchResult {
  const searchEntries: Entry[] = [];
  for (let i = from; i < from + count; i++) {
    searchEntries.push({ dn: `uid=u${i},ou=people,dc=x`, uid: `u${i}`, cn: `Person ${i}` });
  }
  return { searchEntries, searchReferences: refs };
}

function setup(script: Script, overrides: Partial<LdapSourceOptions> = {}, env = { PW: CANARY }) {
  const clients: FakeClient[] = [];
  const redactor = new Redactor();
  const source = createLdapSource(
    'dir',
    {
      kind: 'ldap',
      url: 'ldaps://ldap.example.test',
      bindDn: 'cn=reader,dc=x',
      password: createSecretRef('env', 'PW', 'sources.dir.password'),
      baseDn: 'ou=people,dc=x',
      key: 'uid',
      attributes: ['uid', 'cn'],
      ...overrides,
    },
    aConnectorContext('/', env, redactor),
    {
      createClient: (options) => {
        const client = new FakeClient(options, script);
        clients.push(client);
        return client;
      },
    },
  );
  return { source, clients };
}

function pagedCalls(client: FakeClient | undefined) {
  return (client?.calls ?? []).filter((c) => c.method === 'searchPaginated');
}

describe('what the source asks for', () => {
  it('S3: never sets sizeLimit; pages with searchPaginated at 1,000 entries by default', async () => {
    const { source, clients } = setup({ searches: [[page(1, 10)]] });
    const snap = await source.read();
    expect(snap.status).toBe('complete');
    const [call] = pagedCalls(clients[0]);
    expect(call?.options?.sizeLimit).toBeUndefined();
    expect(call?.options?.paged).toEqual({ pageSize: DEFAULT_PAGE_SIZE });
    expect(DEFAULT_PAGE_SIZE).toBe(1000);
    expect(call?.options).toMatchObject({ scope: 'sub', filter: '(objectClass=person)' });
    // No other search carries a size limit either (root DSE, probes).
    for (const c of clients[0]?.calls ?? []) expect(c.options?.sizeLimit).toBeUndefined();
  });

  it('S3: uses the configured page size and filter', async () => {
    const { source, clients } = setup(
      { searches: [[page(1, 1)]] },
      {
        pageSize: 250,
        filter: '(&(objectClass=inetOrgPerson)(!(employeeType=guest)))',
        scope: 'one',
      },
    );
    await source.read();
    expect(pagedCalls(clients[0])[0]?.options).toMatchObject({
      paged: { pageSize: 250 },
      scope: 'one',
      filter: '(&(objectClass=inetOrgPerson)(!(employeeType=guest)))',
    });
  });

  it('passes TLS options for ldaps:// only to the client, and StartTLS for ldap://', async () => {
    const ldaps = setup({ searches: [[page(1, 1)]] });
    await ldaps.source.read();
    expect(ldaps.clients[0]?.clientOptions.tlsOptions).toMatchObject({ rejectUnauthorized: true });
    expect(ldaps.clients[0]?.calls.map((c) => c.method)).not.toContain('startTLS');

    const starttls = setup({ searches: [[page(1, 1)]] }, { url: 'ldap://ldap.example.test:389' });
    await starttls.source.read();
    // tlsOptions on the client would mean TLS from the first byte on port 389.
    expect(starttls.clients[0]?.clientOptions.tlsOptions).toBeUndefined();
    expect(starttls.clients[0]?.calls.map((c) => c.method).slice(0, 2)).toEqual([
      'startTLS',
      'bind',
    ]);
  });
});

describe('S3: a limit after some pages makes the source incomplete, however many came back', () => {
  const limits: [string, Error, string][] = [
    ['timeLimitExceeded', new TimeLimitExceededError(), 'timeLimitExceeded (3)'],
    ['sizeLimitExceeded', new SizeLimitExceededError(), 'sizeLimitExceeded (4)'],
    ['adminLimitExceeded', new AdminLimitExceededError(), 'adminLimitExceeded (11)'],
  ];
  for (const [name, error, text] of limits) {
    it(`S3: ${name} after 3 of 12 pages`, async () => {
      const pages: Step[] = [page(1, 100), page(101, 100), page(201, 100), error];
      const { source } = setup({ searches: [pages] });
      const snap = await source.read();
      expect(snap.status).toBe('incomplete');
      expect(snap.records).toHaveLength(300);
      const issue = snap.issues.find((i) => i.code === 'source.limit');
      expect(issue?.message).toContain(text);
      expect(issue?.message).toContain('after 3 page(s) and 300 entries');
    });
  }

  it('S3: a limit on the very first page is incomplete too, not a clean empty read', async () => {
    const { source } = setup({ searches: [[new SizeLimitExceededError()]] });
    const snap = await source.read();
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toEqual([]);
    expect(snap.issues.map((i) => i.code)).toEqual(['source.limit']);
  });
});

describe('other ways a read falls short', () => {
  it('an empty page that still carries a paging cookie is not the end (ldapts stops there)', async () => {
    const cookiePage = (entries: number, cookie: string) => {
      const r = new SearchResponse({ messageId: 7, status: 0 });
      for (let i = 0; i < entries; i++) r.searchEntries.push({} as never);
      r.controls = [new PagedResultsControl({ value: { size: 0, cookie: Buffer.from(cookie) } })];
      return r;
    };
    const { source } = setup({
      searches: [[page(1, 2), page(3, 0)]],
      beforePage: (client, search, n) => {
        // The parser sees the server's final response of each page before ldapts yields it.
        if (search === 0)
          client.messageParser.emit('message', cookiePage(n === 0 ? 2 : 0, `more${n}`));
      },
    });
    const snap = await source.read();
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(2);
    expect(snap.issues.map((i) => i.code)).toEqual(['source.paging']);
  });

  it('the watcher attaches to the pinned ldapts client (or this check silently stops working)', async () => {
    const { Client } = await import('ldapts');
    expect(watchSearchResponses(new Client({ url: 'ldap://127.0.0.1:1' }), () => {})).toBe(true);
  });

  it('S6: a continuation reference makes the source incomplete and names the URI', async () => {
    const { source } = setup({
      searches: [[page(1, 5, ['ldap://other.example.test/ou=far,dc=x??sub'])]],
    });
    const snap = await source.read();
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(5);
    expect(snap.issues[0]?.message).toContain('ldap://other.example.test/ou=far,dc=x??sub');
  });

  it('reads every base DN in turn', async () => {
    const { source } = setup(
      { searches: [[page(1, 3)], [page(10, 3)]] },
      { baseDn: ['ou=a,dc=x', 'ou=b,dc=x'] },
    );
    const snap = await source.read();
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(6);
  });

  it('a connection lost in the first of two base DNs stops the read: incomplete', async () => {
    const dropped = setup(
      {
        searches: [
          [page(1, 3), new Error('Connection closed before message response was received.')],
        ],
      },
      { baseDn: ['ou=a,dc=x', 'ou=b,dc=x'] },
    );
    const lost = await dropped.source.read();
    expect(lost.status).toBe('incomplete');
    expect(lost.records).toHaveLength(3);
    expect(lost.issues.map((i) => i.code)).toEqual(['source.connection-lost']);
    // The second base is not searched on a dead connection.
    expect(pagedCalls(dropped.clients[0])).toHaveLength(1);
  });

  it('completes a ranged attribute (member;range=0-1) with further range reads', async () => {
    const ranged: Entry = {
      dn: 'uid=g,ou=people,dc=x',
      uid: 'g',
      'member;range=0-1': ['cn=m0', 'cn=m1'],
      member: [],
    };
    const { source, clients } = setup(
      {
        searches: [[{ searchEntries: [ranged], searchReferences: [] }]],
        search: (base, options) => {
          const wanted = options.attributes?.[0] ?? '';
          if (wanted === 'member;range=2-1501') {
            return {
              searchEntries: [{ dn: base, 'member;range=2-3': ['cn=m2', 'cn=m3'] }],
              searchReferences: [],
            };
          }
          if (wanted === 'member;range=4-1503') {
            return {
              searchEntries: [{ dn: base, 'member;range=4-*': ['cn=m4'] }],
              searchReferences: [],
            };
          }
          return { searchEntries: [], searchReferences: [] };
        },
      },
      { attributes: ['uid', 'member'] },
    );
    const snap = await source.read();
    expect(snap.status).toBe('complete');
    expect(snap.records[0]?.fields['member']).toEqual([
      'cn=m0',
      'cn=m1',
      'cn=m2',
      'cn=m3',
      'cn=m4',
    ]);
    expect(clients[0]?.calls.filter((c) => c.base === 'uid=g,ou=people,dc=x')).toHaveLength(2);
  });

  it('leaves out an entry whose ranged attribute cannot be completed: incomplete', async () => {
    const ranged: Entry = { dn: 'uid=g,ou=people,dc=x', uid: 'g', 'member;range=0-1': ['a', 'b'] };
    const { source } = setup(
      {
        searches: [
          [{ searchEntries: [ranged, ...page(1, 1).searchEntries], searchReferences: [] }],
        ],
      },
      { attributes: ['uid', 'member'] },
    );
    const snap = await source.read();
    expect(snap.status).toBe('incomplete');
    expect(snap.records.map((r) => r.key)).toEqual(['u1']);
    expect(snap.issues[0]).toMatchObject({
      code: 'source.range',
      location: { dn: 'uid=g,ou=people,dc=x' },
    });
  });

  it('a value that does not decode is an issue for that entry, never a wrong anchor', async () => {
    const bad: Entry = { dn: 'uid=a,dc=x', uid: 'a', objectGUID: Buffer.alloc(15) };
    const { source } = setup(
      { searches: [[{ searchEntries: [bad], searchReferences: [] }]] },
      { attributes: ['uid', 'objectGUID'], key: 'objectGUID' },
    );
    const snap = await source.read();
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toEqual([]);
    expect(snap.issues.map((i) => i.code)).toEqual(['source.decode', 'source.missing-key']);
  });
});

describe('refused before connecting', () => {
  it('X2: ldap:// without StartTLS needs allowInsecure; no client is created', async () => {
    const { source, clients } = setup({}, { url: 'ldap://ldap.example.test', startTls: false });
    const snap = await source.read();
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.code).toBe('source.insecure');
    expect(clients).toHaveLength(0);
  });

  it('rejects a filter that does not parse, a bad base DN, and a bind DN without password', async () => {
    for (const [overrides, text] of [
      [{ filter: '(uid=a' }, 'is not an LDAP filter'],
      [{ baseDn: 'ou=people,,dc=x' }, 'is not a DN'],
      [{ password: undefined }, 'password is not'],
      [{ key: 'memberOf', multiValued: ['memberOf'] }, 'cannot be multi-valued'],
    ] as const) {
      const { source, clients } = setup({}, overrides as Partial<LdapSourceOptions>);
      const snap = await source.read();
      expect(snap.status).toBe('failed');
      expect(snap.issues[0]?.message).toContain(text);
      expect(clients).toHaveLength(0);
    }
  });
});

describe('X1: the bind password never shows', () => {
  it('X1: redacts a server message that echoes the password; inspect shows no secret', async () => {
    const { source } = setup({ bindError: new InvalidCredentialsError(`bad password ${CANARY}`) });
    const snap = await source.read();
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.message).toContain('invalidCredentials (49)');
    expect(snap.issues[0]?.message).toContain('[redacted]');
    for (const text of [JSON.stringify(snap), inspect(source, { depth: 10 })]) {
      expect(text).not.toContain(CANARY);
    }
  });
});
