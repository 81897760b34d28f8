/**
 * The LDAP source against a real OpenLDAP server (test/servers/slapd.ts): TLS and StartTLS with a
 * throwaway CA, limits and ACLs per bind account, a referral object, groups with nesting and a
 * cycle. A second slapd without TLS answers StartTLS with an error. Both start once for this file.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretRef } from '../../config/secrets.js';
import type { SourceSnapshot } from '../../engine/model/source.js';
import { Redactor } from '../../engine/secret.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import {
  bindAccount,
  openLdapPeople,
  organization,
  organizationalUnit,
} from '../../test/servers/directory-data.js';
import type { LdifEntry } from '../../test/servers/ldif.js';
import { replaceAttributes, slapdAdmin } from '../../test/servers/ldap-admin.js';
import { freePort } from '../../test/servers/process.js';
import { startSlapd } from '../../test/servers/slapd.js';
import type { SlapdServer } from '../../test/servers/slapd.js';
import { startTcpProxy } from '../../test/servers/tcp-proxy.js';
import { createCa } from '../../test/servers/tls.js';
import { normalizeDn } from './escape.js';
import { createLdapSource } from './ldap-source.js';
import type { LdapSourceOptions } from '../../config/sources/ldap-options.js';

const SUFFIX = 'dc=example,dc=test';
const PEOPLE = `ou=people,${SUFFIX}`;
const SYSTEM = `ou=system,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const BRANCH = `ou=branch,${SUFFIX}`;
const PEOPLE_COUNT = 2500;
/** The password of every bind account here, and the X1 canary: it must never be printed. */
const CANARY = 'Canary-LDAP-Pa55word-7f3e9';
const REFERRAL_URI = 'ldap://ldap.branch.example.test/ou=remote,ou=branch,dc=example,dc=test';
const SPECIAL_CN = 'Doe, Jane (contract*) \\ #1';

function dnOf(cn: string, parent: string): string {
  // RFC 4514 escaping, written out by hand for the test data.
  return `cn=${cn.replace(/([,\\#+<>;"=])/g, '\\$1')},${parent}`;
}

function directory(): LdifEntry[] {
  const people = [...openLdapPeople(PEOPLE, PEOPLE_COUNT)];
  // Two mail values: a single-valued field takes the first, with a warning.
  people[0] = { ...people[0], mail: ['first@example.test', 'second@example.test'] } as LdifEntry;
  const special = dnOf(SPECIAL_CN, PEOPLE);
  return [
    organization(SUFFIX),
    organizationalUnit('people', SUFFIX),
    organizationalUnit('system', SUFFIX),
    organizationalUnit('groups', SUFFIX),
    organizationalUnit('branch', SUFFIX),
    bindAccount('reader', SYSTEM, CANARY),
    bindAccount('limited', SYSTEM, CANARY),
    bindAccount('smallpages', SYSTEM, CANARY),
    bindAccount('noread', SYSTEM, CANARY),
    ...people,
    {
      dn: special,
      objectClass: 'inetOrgPerson',
      cn: SPECIAL_CN,
      sn: 'Doe',
      uid: 'jdoe',
      mail: 'jane.doe@example.test',
    },
    // Nested groups with a cycle: staff > eng > platform > staff.
    {
      dn: `cn=staff,${GROUPS}`,
      objectClass: 'groupOfNames',
      cn: 'staff',
      member: [`uid=u000001,${PEOPLE}`, `uid=u000002,${PEOPLE}`, `cn=eng,${GROUPS}`],
    },
    {
      dn: `cn=eng,${GROUPS}`,
      objectClass: 'groupOfNames',
      cn: 'eng',
      // Written in another case and spacing than the entry's own DN: DNs compare normalised.
      member: [`UID=u000003, OU=People,DC=example,DC=test`, `cn=platform,${GROUPS}`],
    },
    {
      dn: `cn=platform,${GROUPS}`,
      objectClass: 'groupOfNames',
      cn: 'platform',
      member: [special, `cn=staff,${GROUPS}`],
    },
    {
      dn: `cn=unique,${GROUPS}`,
      objectClass: 'groupOfUniqueNames',
      cn: 'unique',
      uniqueMember: [`uid=u000004,${PEOPLE}#'0101'B`],
    },
    ...openLdapPeople(BRANCH, 3, 900_001),
    {
      dn: `ou=remote,${BRANCH}`,
      objectClass: ['referral', 'extensibleObject'],
      ou: 'remote',
      ref: REFERRAL_URI,
    },
  ];
}

let server: SlapdServer;
let plain: SlapdServer;

beforeAll(async () => {
  [server, plain] = await Promise.all([
    startSlapd({
      suffix: SUFFIX,
      syncprov: true,
      entries: directory(),
      databaseConfig: [
        'index objectClass eq',
        'index uid,cn,mail,member,uniqueMember eq',
        // S3: at most 1,200 entries in all over the pages of one paged search...
        `limits dn.exact="cn=limited,${SYSTEM}" size.prtotal=1200`,
        // ...and pages of at most 200 entries: a bigger page is an administrative limit.
        `limits dn.exact="cn=smallpages,${SYSTEM}" size.pr=200`,
      ],
      acl: [
        'access to attrs=userPassword by self write by anonymous auth by * none',
        // S4: this account sees the people OU itself but nothing under it.
        `access to dn.children="${PEOPLE}" by dn.exact="cn=noread,${SYSTEM}" none by * read`,
        'access to * by * read',
      ],
    }),
    startSlapd({
      suffix: SUFFIX,
      tls: false,
      entries: [
        organization(SUFFIX),
        organizationalUnit('people', SUFFIX),
        organizationalUnit('system', SUFFIX),
        bindAccount('reader', SYSTEM, CANARY),
        ...openLdapPeople(PEOPLE, 5),
      ],
    }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.stop(), plain?.stop()]);
});

const password = createSecretRef('env', 'LDAP_PASSWORD', 'sources.dir.password');

function options(overrides: Partial<LdapSourceOptions> = {}): LdapSourceOptions {
  return {
    kind: 'ldap',
    url: server.ldapsUrl ?? '',
    caFile: server.caFile ?? '',
    bindDn: `cn=reader,${SYSTEM}`,
    password,
    baseDn: PEOPLE,
    key: 'entryUUID',
    attributes: ['uid', 'cn', 'sn', 'mail', 'employeeNumber', 'modifyTimestamp'],
    ...overrides,
  };
}

const snapshots: SourceSnapshot[] = [];

async function read(
  overrides: Partial<LdapSourceOptions> = {},
  env: Record<string, string> = { LDAP_PASSWORD: CANARY },
): Promise<SourceSnapshot> {
  const redactor = new Redactor();
  const source = createLdapSource('dir', options(overrides), aConnectorContext('/', env, redactor));
  const snap = await source.read();
  snapshots.push(snap);
  return snap;
}

function codes(snap: SourceSnapshot): string[] {
  return snap.issues.map((i) => i.code);
}

describe('reading OpenLDAP', () => {
  it('reads every person over ldaps:// with paged search, entryUUID as key and the DN as location', async () => {
    const snap = await read();
    expect(snap.status).toBe('complete');
    // 2,500 people and Jane: three pages of 1,000.
    expect(snap.records).toHaveLength(PEOPLE_COUNT + 1);
    const second = snap.records.find((r) => r.fields['uid'] === 'u000002');
    expect(second).toMatchObject({
      source: 'dir',
      location: { dn: `uid=u000002,${PEOPLE}` },
      fields: {
        dn: `uid=u000002,${PEOPLE}`,
        uid: 'u000002',
        cn: 'Person 000002',
        mail: 'person000002@example.test',
        employeeNumber: 'E000002',
      },
    });
    expect(second?.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // GeneralizedTime is decoded to ISO 8601.
    expect(second?.fields['modifyTimestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(new Set(snap.records.map((r) => r.key)).size).toBe(snap.records.length);
    expect(snap.fields).toEqual(expect.arrayContaining(['dn', 'uid', 'mail', 'entryUUID']));
  });

  it('takes the first of several values of a single-valued field, with a warning', async () => {
    const snap = await read();
    const first = snap.records.find((r) => r.fields['uid'] === 'u000001');
    expect(first?.fields['mail']).toBe('first@example.test');
    const warning = snap.issues.find((i) => i.code === 'source.multiple-values');
    expect(warning).toMatchObject({
      severity: 'warning',
      location: { dn: `uid=u000001,${PEOPLE}` },
    });
  });

  it('reads over ldap:// with StartTLS (the default), verifying the certificate', async () => {
    const snap = await read({ url: server.url });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(PEOPLE_COUNT + 1);
  });

  it('reads every page with small pages too (pageSize 100)', async () => {
    const snap = await read({ pageSize: 100, baseDn: [PEOPLE, PEOPLE] });
    expect(snap.status).toBe('complete');
    // The same base twice: every entry still read once.
    expect(snap.records).toHaveLength(PEOPLE_COUNT + 1);
  });

  it('leaves out an entry without the key attribute and marks the source incomplete', async () => {
    const snap = await read({ key: 'employeeNumber' });
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(PEOPLE_COUNT);
    const issue = snap.issues.find((i) => i.code === 'source.missing-key');
    // slapd writes the DN with hex escapes (`cn=Doe\2C Jane ...`): the same DN.
    expect(normalizeDn(issue?.location?.dn ?? '')).toBe(normalizeDn(dnOf(SPECIAL_CN, PEOPLE)));
  });

  it('reads nested group memberships by walking member lists, through a cycle', async () => {
    const snap = await read({ groups: { baseDn: GROUPS } });
    expect(snap.status).toBe('complete');
    const groupsOf = (uid: string) =>
      snap.records.find((r) => r.fields['uid'] === uid)?.fields['groups'];
    // staff > eng > platform > staff: everyone in any of the three is in all three.
    expect(groupsOf('u000001')).toEqual(['eng', 'platform', 'staff']);
    expect(groupsOf('u000003')).toEqual(['eng', 'platform', 'staff']);
    expect(groupsOf('jdoe')).toEqual(['eng', 'platform', 'staff']);
    expect(groupsOf('u000004')).toEqual(['unique']);
    expect(groupsOf('u000005')).toEqual([]);
    const jane = snap.records.find((r) => r.fields['uid'] === 'jdoe');
    expect(jane?.fields['groupDns']).toEqual([
      `cn=eng,${GROUPS}`,
      `cn=platform,${GROUPS}`,
      `cn=staff,${GROUPS}`,
    ]);
  });

  it('reads direct memberships only with nested: false', async () => {
    const snap = await read({ groups: { baseDn: GROUPS, nested: false } });
    const groupsOf = (uid: string) =>
      snap.records.find((r) => r.fields['uid'] === uid)?.fields['groups'];
    expect(groupsOf('u000001')).toEqual(['staff']);
    expect(groupsOf('jdoe')).toEqual(['platform']);
  });
});

describe('reading again (the daemon cycle)', () => {
  it("hands back the same snapshot while the directory's contextCSN stands, and reads again after any write", async () => {
    const source = createLdapSource(
      'dir',
      options(),
      aConnectorContext('/', { LDAP_PASSWORD: CANARY }, new Redactor()),
    );
    const first = await source.read();
    expect(first.status).toBe('complete');
    expect(await source.read()).toBe(first);

    await replaceAttributes(slapdAdmin(server), `uid=u000010,${PEOPLE}`, {
      description: 'moved desks',
    });
    const second = await source.read();
    expect(second).not.toBe(first);
    expect(second.records).toHaveLength(first.records.length);
    expect(await source.read()).toBe(second);
  });

  it('reads in full every time when the directory offers no change token (no syncprov)', async () => {
    const source = createLdapSource(
      'dir',
      options({ url: plain.url, caFile: undefined, startTls: false, allowInsecure: true }),
      aConnectorContext('/', { LDAP_PASSWORD: CANARY }, new Redactor()),
    );
    const first = await source.read();
    expect(first.status).toBe('complete');
    expect(await source.read()).not.toBe(first);
  });
});

describe('S3: server limits after some pages make the source incomplete', () => {
  it('S3: sizeLimitExceeded (size.prtotal=1200) after 2 pages of 500: incomplete, with the result code', async () => {
    const snap = await read({ bindDn: `cn=limited,${SYSTEM}`, pageSize: 500 });
    expect(snap.status).toBe('incomplete');
    // Whatever came back is kept for creates and updates; it is never read as everyone.
    expect(snap.records).toHaveLength(1000);
    const issue = snap.issues.find((i) => i.code === 'source.limit');
    expect(issue?.severity).toBe('error');
    expect(issue?.message).toContain('sizeLimitExceeded (4)');
    expect(issue?.message).toContain('after 2 page(s) and 1000 entries');
  });

  it('S3: adminLimitExceeded (size.pr=200 with pages of 500): incomplete, with the result code', async () => {
    const snap = await read({ bindDn: `cn=smallpages,${SYSTEM}`, pageSize: 500 });
    expect(snap.status).toBe('incomplete');
    expect(snap.issues.find((i) => i.code === 'source.limit')?.message).toContain(
      'adminLimitExceeded (11)',
    );
  });

  it('S3: the same account reads everything with pages the server accepts', async () => {
    const snap = await read({ bindDn: `cn=smallpages,${SYSTEM}`, pageSize: 200 });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(PEOPLE_COUNT + 1);
  });
});

describe('S6: referrals', () => {
  it('S6: a referral under the base makes the source incomplete and names the URI', async () => {
    const snap = await read({ baseDn: BRANCH });
    expect(snap.status).toBe('incomplete');
    expect(snap.records).toHaveLength(3);
    const issue = snap.issues.find((i) => i.code === 'source.referral');
    expect(issue).toMatchObject({ severity: 'error', location: { dn: BRANCH } });
    expect(issue?.message).toContain(REFERRAL_URI);
  });

  it('S6: with referrals: ignore the source is complete and the URI is still reported', async () => {
    const snap = await read({ baseDn: BRANCH, referrals: 'ignore' });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(3);
    const issue = snap.issues.find((i) => i.code === 'source.referral');
    expect(issue?.severity).toBe('warning');
    expect(issue?.message).toContain(REFERRAL_URI);
  });
});

describe('S1/S4: zero entries with success', () => {
  it('S4: a bind account without read access gets 0 entries: a warning with the hint', async () => {
    const snap = await read({ bindDn: `cn=noread,${SYSTEM}` });
    // The engine decides whether 0 is a shrink (it knows the managed population); the source
    // says what it saw and why it may be so.
    expect(snap.status).toBe('complete');
    expect(snap.records).toEqual([]);
    const issue = snap.issues.find((i) => i.code === 'source.empty');
    expect(issue?.severity).toBe('warning');
    expect(issue?.message).toContain('bind account may lack read access');
  });

  it('S1: a filter that matches nobody gives the same warning', async () => {
    const snap = await read({ filter: '(uid=nobody-has-this)' });
    expect(snap.status).toBe('complete');
    expect(codes(snap)).toEqual(['source.empty']);
  });
});

describe('S2: a read that cannot start fails with the reason and no secret', () => {
  it('S2: an unreachable server fails the source (connection refused)', async () => {
    const port = await freePort();
    const snap = await read({ url: `ldaps://127.0.0.1:${port}`, connectTimeoutSeconds: 2 });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    expect(snap.issues[0]).toMatchObject({ severity: 'error', code: 'source.connect' });
    expect(snap.issues[0]?.message).toContain('ECONNREFUSED');
  });

  it('S2: a wrong password fails the source with invalidCredentials (49)', async () => {
    const snap = await read({}, { LDAP_PASSWORD: 'Wrong-Password-123' });
    expect(snap).toMatchObject({ status: 'failed', records: [] });
    expect(snap.issues[0]?.code).toBe('source.bind');
    expect(snap.issues[0]?.message).toContain('invalidCredentials (49)');
    expect(snap.issues[0]?.message).not.toContain('Wrong-Password-123');
  });

  it('S2: a base DN that does not exist fails the source with noSuchObject (32)', async () => {
    const snap = await read({ baseDn: `ou=nowhere,${SUFFIX}` });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.message).toContain('noSuchObject (32)');
  });

  it('S2/M6: an unset password variable fails before connecting, naming the variable', async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const snap = await read({ url: `ldap://127.0.0.1:${proxy.port}` }, {});
      expect(snap.status).toBe('failed');
      expect(snap.issues[0]?.code).toBe('source.secret');
      expect(snap.issues[0]?.message).toContain('LDAP_PASSWORD');
      expect(proxy.connections()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('S2: a connection dropped mid-read makes the source incomplete, keeping what was read', async () => {
    // Through a proxy that cuts the connection after ~150 kB from the server: several pages.
    const proxy = await startTcpProxy(server.port, { cutAfterBytes: 150_000 });
    try {
      const snap = await read({
        url: `ldap://127.0.0.1:${proxy.port}`,
        pageSize: 100,
        timeoutSeconds: 60,
      });
      expect(snap.status).toBe('incomplete');
      expect(snap.records.length).toBeGreaterThan(0);
      expect(snap.records.length).toBeLessThan(PEOPLE_COUNT);
      const issue = snap.issues.find((i) => i.code === 'source.connection-lost');
      expect(issue?.message).toMatch(/stopped after \d+ page\(s\)/);
    } finally {
      await proxy.close();
    }
  });
});

describe('X2: TLS is required and verified; nothing falls back to cleartext', () => {
  it('X2: a server certificate from an untrusted CA is refused before the bind', async () => {
    const other = await createCa(server.dir, 'untrusted');
    const snap = await read({ caFile: other.certFile });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.code).toBe('source.tls');
    expect(snap.issues[0]?.message).toMatch(/self[- ]signed|unable to verify|certificate/i);
  });

  it('X2: without caFile, the system trust store does not trust a private CA', async () => {
    const snap = await read({ caFile: undefined });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.code).toBe('source.tls');
  });

  it('X2: a certificate for another host name is refused', async () => {
    const snap = await read({ tlsServerName: 'ldap.elsewhere.example' });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.code).toBe('source.tls');
    expect(snap.issues[0]?.message).toContain('ldap.elsewhere.example');
  });

  it('X2: ldap:// with startTls: false is refused before any connection without allowInsecure', async () => {
    const proxy = await startTcpProxy(plain.port);
    try {
      const snap = await read({ url: `ldap://127.0.0.1:${proxy.port}`, startTls: false });
      expect(snap.status).toBe('failed');
      expect(snap.issues[0]?.code).toBe('source.insecure');
      expect(snap.issues[0]?.message).toContain('allowInsecure');
      expect(proxy.connections()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('X2: a server that refuses StartTLS fails the source and never gets the password', async () => {
    const proxy = await startTcpProxy(plain.port);
    try {
      const snap = await read({ url: `ldap://127.0.0.1:${proxy.port}`, baseDn: PEOPLE });
      expect(snap.status).toBe('failed');
      expect(snap.issues[0]?.code).toBe('source.tls');
      expect(snap.issues[0]?.message).toContain('refused StartTLS');
      expect(snap.issues[0]?.message).toContain('not falling back to cleartext');
      expect(proxy.connections()).toBe(1);
      expect(proxy.clientBytes().includes(Buffer.from(CANARY))).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('X2: allowInsecure: true reads over cleartext, with a warning on every read', async () => {
    for (let run = 0; run < 2; run++) {
      const snap = await read({
        url: plain.url,
        caFile: undefined,
        startTls: false,
        allowInsecure: true,
      });
      expect(snap.status).toBe('complete');
      expect(snap.records).toHaveLength(5);
      expect(snap.issues.find((i) => i.code === 'source.insecure')?.severity).toBe('warning');
    }
  });
});

describe('X1: the bind password never shows', () => {
  it("X1: no issue, error or inspection of this file's reads holds the canary password", async () => {
    const source = createLdapSource(
      'dir',
      options(),
      aConnectorContext('/', { LDAP_PASSWORD: CANARY }),
    );
    await source.read();
    const texts = [
      inspect(source, { depth: 10 }),
      inspect(options(), { depth: 10 }),
      JSON.stringify(options()),
      ...snapshots.flatMap((s) => s.issues.map((i) => `${i.code} ${i.message}`)),
      JSON.stringify(snapshots.map((s) => s.records.slice(0, 5))),
    ];
    expect(snapshots.length).toBeGreaterThan(10);
    for (const text of texts) expect(text).not.toContain(CANARY);
  });
});
