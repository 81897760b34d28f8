/**
 * Servers that end a paged search early while answering Success, read with the real ldapts
 * client. slapd and Samba cannot be made to ignore the paged-results control or hand a cookie
 * back twice, so these run against the small fake in test-helpers/paging-server.ts; every other
 * LDAP behaviour is tested against real servers (ldap-source.slapd.test.ts, .samba.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { createLdapSource } from './ldap-source.js';
import { PAGING_BASE, startPagingServer, uidOf } from './test-helpers/paging-server.js';
import type { PagingBehaviour, PagingServer } from './test-helpers/paging-server.js';

const servers: PagingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function readFrom(behaviour: PagingBehaviour, pageSize = 100) {
  const server = await startPagingServer(behaviour);
  servers.push(server);
  const source = createLdapSource(
    'dir',
    {
      kind: 'ldap',
      url: server.url,
      startTls: false,
      allowInsecure: true,
      baseDn: PAGING_BASE,
      key: 'uid',
      attributes: ['uid', 'cn', 'mail'],
      pageSize,
      directory: 'ldap',
      timeoutSeconds: 10,
    },
    aConnectorContext('/'),
  );
  const snapshot = await source.read();
  return { snapshot, server };
}

const errorCodes = (issues: readonly { severity: string; code: string }[]) =>
  issues.filter((i) => i.severity === 'error').map((i) => i.code);

describe('the fake paging server', () => {
  it('pages honestly unless told otherwise: 250 people in 3 pages, complete', async () => {
    const { snapshot, server } = await readFrom({ people: 250, mode: { kind: 'honest' } });
    expect(snapshot.status).toBe('complete');
    expect(snapshot.records.map((r) => r.key)).toEqual(
      Array.from({ length: 250 }, (_, i) => uidOf(i)),
    );
    expect(server.searches()).toBe(3);
  });
});

describe('S14: a server that ignores the paged-results control', () => {
  it('S14: a round 1,000 entries with Success and no control in the final response is incomplete, not the whole directory', async () => {
    const { snapshot } = await readFrom({
      people: 1500,
      mode: { kind: 'ignore-control', limit: 1000 },
    });
    expect(snapshot.status).toBe('incomplete');
    expect(snapshot.records).toHaveLength(1000);
    expect(errorCodes(snapshot.issues)).toEqual(['source.paging-ignored']);
    expect(snapshot.issues.find((i) => i.code === 'source.paging-ignored')?.message).toContain(
      'without a paged-results control in the server',
    );
  });

  it('S14: the rule does not depend on the count: all 7 people without a control is incomplete too', async () => {
    const { snapshot } = await readFrom({
      people: 7,
      mode: { kind: 'ignore-control', limit: 1000 },
    });
    expect(snapshot.status).toBe('incomplete');
    expect(errorCodes(snapshot.issues)).toEqual(['source.paging-ignored']);
  });
});

describe('S15: a server that hands back the same paging cookie again', () => {
  it('S15: once: the read stops at the repeat, incomplete, without a duplicated entry', async () => {
    const { snapshot, server } = await readFrom({
      people: 350,
      mode: { kind: 'repeat-cookie', at: 2, times: 1 },
    });
    expect(snapshot.status).toBe('incomplete');
    const keys = snapshot.records.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    // Page 2 came with the cookie that asked for it; its entries are new, so they count. The
    // next request re-reads page 2: that page is not used, and nothing is asked after it.
    expect(keys).toEqual(Array.from({ length: 200 }, (_, i) => uidOf(i)));
    expect(errorCodes(snapshot.issues)).toEqual(['source.paging-cookie']);
    expect(snapshot.issues.find((i) => i.code === 'source.paging-cookie')?.message).toContain(
      'already read (page 3, after 200 entries)',
    );
    expect(server.searches()).toBe(3);
  });

  it('S15: 200 times: the same, with no further request and no crash', async () => {
    const { snapshot, server } = await readFrom({
      people: 350,
      mode: { kind: 'repeat-cookie', at: 2, times: 200 },
    });
    expect(snapshot.status).toBe('incomplete');
    expect(snapshot.records).toHaveLength(200);
    expect(errorCodes(snapshot.issues)).toEqual(['source.paging-cookie']);
    expect(server.searches()).toBe(3);
  });

  it('S15: a repeat on the very first page leaves that page in, and reads nothing twice', async () => {
    const { snapshot, server } = await readFrom({
      people: 350,
      mode: { kind: 'repeat-cookie', at: 1, times: 200 },
    });
    expect(snapshot.status).toBe('incomplete');
    expect(snapshot.records.map((r) => r.key)).toEqual(
      Array.from({ length: 100 }, (_, i) => uidOf(i)),
    );
    expect(server.searches()).toBe(2);
  });
});
