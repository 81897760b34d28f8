/**
 * The LDAP source against a real Active Directory domain controller (Samba, test/servers/samba.ts):
 * binary objectGUID and objectSid, userAccountControl, accountExpires and whenChanged, paged
 * results, `member;range=` retrieval on a group of 1,600, nested groups through
 * LDAP_MATCHING_RULE_IN_CHAIN, AD's references to its own partitions, and AD refusing a simple
 * bind without TLS. One DC for this file, seeded offline with ldbadd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretRef } from '../../config/secrets.js';
import { applyRun, planRun } from '../../engine/index.js';
import type { SourceSnapshot } from '../../engine/model/source.js';
import type { SyncSpec } from '../../engine/model/spec.js';
import { connection, credentialFor, simulator } from '../../simulator/test-helpers/simulator.js';
import { createEntraTarget } from '../entra/index.js';
import { aSpec } from '../../test/helpers/builders.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { adUsers } from '../../test/servers/directory-data.js';
import { toLdif } from '../../test/servers/ldif.js';
import type { LdifEntry } from '../../test/servers/ldif.js';
import { replaceAttributes, sambaAdmin } from '../../test/servers/ldap-admin.js';
import { run } from '../../test/servers/process.js';
import { sambaNames, startSambaDc } from '../../test/servers/samba.js';
import type { SambaServer } from '../../test/servers/samba.js';
import { guidToBytes } from './decode.js';
import { createLdapSource } from './ldap-source.js';
import type { LdapSourceOptions } from '../../config/sources/ldap-options.js';

const { baseDn: BASE } = sambaNames();
const STAFF = `OU=Staff,${BASE}`;
const BULK = `OU=Bulk,${BASE}`;
const GROUPS = `OU=Groups,${BASE}`;
const BULK_COUNT = 1600;
/** A group name that needs escaping both in a DN (`,` `\`) and in a filter (`(` `*` `)` `\`). */
const SPECIAL_GROUP = 'R&D (Team*) \\, Ops';
const SPECIAL_GROUP_DN = `CN=R&D (Team*) \\5C\\, Ops,${GROUPS}`;
/** 2030-01-01T00:00:00Z as a FILETIME. */
const EXPIRES_2030 = '135379296000000000';

function seed(): string {
  const staff = [...adUsers(STAFF, 30, { disabled: (i) => i % 10 === 0 })];
  staff[4] = { ...staff[4], accountExpires: EXPIRES_2030 } as LdifEntry;
  const entries: LdifEntry[] = [
    { dn: STAFF, objectClass: 'organizationalUnit' },
    { dn: BULK, objectClass: 'organizationalUnit' },
    { dn: GROUPS, objectClass: 'organizationalUnit' },
    ...staff,
    ...adUsers(BULK, BULK_COUNT, { prefix: 'bulk', disabled: () => true }),
    {
      dn: `CN=BigGroup,${GROUPS}`,
      objectClass: 'group',
      sAMAccountName: 'BigGroup',
      member: Array.from(
        { length: BULK_COUNT },
        (_, i) => `CN=bulk${String(i + 1).padStart(6, '0')},${BULK}`,
      ),
    },
    // Nesting: All Staff > R&D... > Platform > user000001..3; user000004 directly in All Staff.
    {
      dn: `CN=Platform,${GROUPS}`,
      objectClass: 'group',
      sAMAccountName: 'Platform',
      member: [1, 2, 3].map((i) => `CN=user00000${i},${STAFF}`),
    },
    {
      dn: SPECIAL_GROUP_DN,
      objectClass: 'group',
      sAMAccountName: 'RnD-Ops',
      member: [`CN=Platform,${GROUPS}`],
    },
    {
      dn: `CN=All Staff,${GROUPS}`,
      objectClass: 'group',
      sAMAccountName: 'AllStaff',
      member: [SPECIAL_GROUP_DN, `CN=user000004,${STAFF}`],
    },
  ];
  return toLdif(entries);
}

let dc: SambaServer;

beforeAll(async () => {
  dc = await startSambaDc({ ldif: seed() });
}, 180_000);

afterAll(async () => {
  await dc?.stop();
});

const password = createSecretRef('env', 'AD_PASSWORD', 'sources.ad.password');

function options(overrides: Partial<LdapSourceOptions> = {}): LdapSourceOptions {
  return {
    kind: 'ldap',
    url: dc.ldapsUrl,
    caFile: dc.caFile,
    tlsServerName: dc.tlsServerName,
    bindDn: dc.adminBind,
    password,
    baseDn: STAFF,
    key: 'objectGUID',
    attributes: [
      'sAMAccountName',
      'userPrincipalName',
      'displayName',
      'mail',
      'employeeID',
      'objectGUID',
      'objectSid',
      'userAccountControl',
      'accountExpires',
      'whenChanged',
      'memberOf',
    ],
    ...overrides,
  };
}

function read(overrides: Partial<LdapSourceOptions> = {}, pw?: string): Promise<SourceSnapshot> {
  const env = { AD_PASSWORD: pw ?? dc.adminPassword };
  return createLdapSource('ad', options(overrides), aConnectorContext('/', env)).read();
}

function bySam(snap: SourceSnapshot, sam: string) {
  return snap.records.find((r) => r.fields['sAMAccountName'] === sam);
}

/** objectGUID and objectSid as Samba's own tools print them (ldb formats both as text). */
async function ldbIdentity(sam: string): Promise<{ guid: string; sid: string }> {
  const out = await run('ldbsearch', [
    '-H',
    `${dc.dir}/private/sam.ldb`,
    `(sAMAccountName=${sam})`,
    'objectGUID',
    'objectSid',
  ]);
  const guid = /^objectGUID: (\S+)$/m.exec(out)?.[1];
  const sid = /^objectSid: (\S+)$/m.exec(out)?.[1];
  if (!guid || !sid) throw new Error(`ldbsearch gave no identity for ${sam}:\n${out}`);
  return { guid, sid };
}

describe('Active Directory (Samba DC)', () => {
  it('detects AD and reads people over LDAPS with the DC certificate', async () => {
    const snap = await read();
    expect(snap.status).toBe('complete');
    expect(snap.issues).toEqual([]);
    expect(snap.records).toHaveLength(30);
    expect(snap.fields).toEqual(expect.arrayContaining(['immutableId', 'accountDisabled']));
  });

  it('decodes binary objectGUID to the canonical GUID (the key) and the base64 immutableId', async () => {
    const snap = await read();
    const record = bySam(snap, 'user000001');
    const expected = await ldbIdentity('user000001');
    expect(record?.key).toBe(expected.guid);
    expect(record?.fields['objectGUID']).toBe(expected.guid);
    expect(record?.fields['immutableId']).toBe(guidToBytes(expected.guid).toString('base64'));
    expect(record?.fields['objectSid']).toBe(expected.sid);
    expect(record?.fields['objectSid']).toMatch(/^S-1-5-21-\d+-\d+-\d+-\d+$/);
    expect(record?.location).toEqual({ dn: `CN=user000001,${STAFF}` });
  });

  it('reads the userAccountControl disabled bit, accountExpires and whenChanged', async () => {
    const snap = await read();
    expect(bySam(snap, 'user000001')?.fields).toMatchObject({
      userAccountControl: 512,
      accountDisabled: false,
      // Never expires: 0x7FFFFFFFFFFFFFFF.
      accountExpires: null,
    });
    expect(bySam(snap, 'user000010')?.fields).toMatchObject({
      userAccountControl: 514,
      accountDisabled: true,
    });
    expect(bySam(snap, 'user000005')?.fields['accountExpires']).toBe('2030-01-01T00:00:00.000Z');
    const whenChanged = bySam(snap, 'user000001')?.fields['whenChanged'];
    expect(typeof whenChanged).toBe('string');
    expect(Math.abs(Date.parse(whenChanged as string) - Date.now())).toBeLessThan(3_600_000);
  });

  it('reads 1,600 people in pages of 500 (paged results)', async () => {
    const snap = await read({ baseDn: BULK, pageSize: 500 });
    expect(snap.issues).toEqual([]);
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(BULK_COUNT);
    expect(new Set(snap.records.map((r) => r.key)).size).toBe(BULK_COUNT);
  });

  it('reads a group of 1,600 members with member;range= retrieval (walk)', async () => {
    const snap = await read({ baseDn: BULK, groups: { baseDn: GROUPS, expand: 'walk' } });
    expect(snap.status).toBe('complete');
    const inBig = snap.records.filter((r) => (r.fields['groups'] as string[]).includes('BigGroup'));
    // More than the 1,500 values of the first range: the rest came from further range reads.
    expect(inBig).toHaveLength(BULK_COUNT);
  });

  it('expands nested groups with LDAP_MATCHING_RULE_IN_CHAIN, escaping the group DNs', async () => {
    const snap = await read({ groups: { baseDn: GROUPS } });
    expect(snap.status).toBe('complete');
    const groupsOf = (sam: string) => bySam(snap, sam)?.fields['groups'];
    expect(groupsOf('user000001')).toEqual(['All Staff', 'Platform', SPECIAL_GROUP]);
    expect(groupsOf('user000004')).toEqual(['All Staff']);
    expect(groupsOf('user000005')).toEqual([]);
    // Direct memberships only, from the DC's memberOf.
    expect(bySam(snap, 'user000001')?.fields['memberOf']).toEqual([`CN=Platform,${GROUPS}`]);
  });

  it('gives the same memberships by walking as the DC gives in chain', async () => {
    const inChain = await read({ groups: { baseDn: GROUPS, expand: 'in-chain' } });
    const walked = await read({ groups: { baseDn: GROUPS, expand: 'walk' } });
    const groups = (s: SourceSnapshot) =>
      Object.fromEntries(s.records.map((r) => [r.key, r.fields['groupDns']]));
    expect(groups(walked)).toEqual(groups(inChain));
  });

  it('reads from the domain root: AD references to its own partitions are not referrals (S6)', async () => {
    const snap = await read({ baseDn: BASE });
    expect(snap.status).toBe('complete');
    expect(snap.issues.filter((i) => i.code === 'source.referral')).toEqual([]);
    expect(bySam(snap, 'Administrator')).toBeDefined();
    // Computer accounts are users too; the AD default filter leaves them out.
    expect(bySam(snap, 'DC1$')).toBeUndefined();
    expect(snap.records.length).toBeGreaterThanOrEqual(30 + BULK_COUNT);
  });

  it("hands back the same snapshot while the DC's highestCommittedUSN stands, and reads again after a write", async () => {
    const source = createLdapSource(
      'ad',
      options(),
      aConnectorContext('/', { AD_PASSWORD: dc.adminPassword }),
    );
    const first = await source.read();
    expect(first.status).toBe('complete');
    expect(await source.read()).toBe(first);
    await replaceAttributes(sambaAdmin(dc), `CN=user000005,${STAFF}`, {
      description: 'moved desks',
    });
    const second = await source.read();
    expect(second).not.toBe(first);
    expect(second.records).toHaveLength(first.records.length);
  });

  it('reads over ldap:// with StartTLS', async () => {
    const snap = await read({ url: dc.url });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(30);
  });

  it('S2: a wrong password fails with invalidCredentials (49) and the DC text, no secret', async () => {
    const snap = await read({}, 'Not-The-Passw0rd!');
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.code).toBe('source.bind');
    expect(snap.issues[0]?.message).toContain('invalidCredentials (49)');
    expect(snap.issues[0]?.message).not.toContain('Not-The-Passw0rd!');
    expect(snap.issues[0]?.message).not.toContain(dc.adminPassword);
  });

  it('X2: AD itself refuses a simple bind without TLS (strongerAuthRequired), even with allowInsecure', async () => {
    const snap = await read({ url: dc.url, startTls: false, allowInsecure: true });
    expect(snap.status).toBe('failed');
    expect(snap.issues.map((i) => i.code)).toEqual(['source.insecure', 'source.bind']);
    expect(snap.issues[1]?.message).toContain('strongerAuthRequired (8)');
  });

  it('X2: the DC certificate does not match 127.0.0.1 without tlsServerName', async () => {
    const snap = await read({ tlsServerName: undefined });
    expect(snap.status).toBe('failed');
    expect(snap.issues[0]?.code).toBe('source.tls');
  });
});

describe('end to end: AD users become Entra users through the simulator', () => {
  function adSpec(): SyncSpec {
    const base = aSpec({
      anchor: 'immutableId',
      attributes: {
        userPrincipalName: "$lowercase(sAMAccountName) & '@contoso.com'",
        displayName: 'displayName',
        employeeId: 'employeeID',
        accountEnabled: '$not(accountDisabled)',
      },
    });
    return {
      ...base,
      primarySource: 'ad',
      users: { ...base.users, anchorAttribute: 'onPremisesImmutableId' },
    };
  }

  it('creates one Entra user per AD user, anchored on the objectGUID immutable id, then re-plans to nothing', async () => {
    const sim = await simulator();
    const target = createEntraTarget(connection(sim), credentialFor(sim));
    const spec = adSpec();
    const source = () =>
      createLdapSource('ad', options(), aConnectorContext('/', { AD_PASSWORD: dc.adminPassword }));

    const plan = await planRun(spec, { sources: [source()], target: target.reader });
    const creates = plan.changes.filter((c) => c.kind === 'createUser');
    expect(creates).toHaveLength(30);
    const { guid } = await ldbIdentity('user000001');
    const first = creates.find((c) => c.user.userPrincipalName === 'user000001@contoso.com');
    expect(first?.kind === 'createUser' && first.attributes).toMatchObject({
      onPremisesImmutableId: guidToBytes(guid).toString('base64'),
      displayName: 'User 000001',
      employeeId: 'E000001',
      accountEnabled: true,
    });
    const disabled = creates.find((c) => c.user.userPrincipalName === 'user000010@contoso.com');
    expect(disabled?.kind === 'createUser' && disabled.attributes['accountEnabled']).toBe(false);

    const report = await applyRun(plan, spec, { target: target.reader, writer: target.writer });
    expect(report.ops.filter((op) => op.outcome !== 'applied')).toEqual([]);

    const again = await planRun(spec, { sources: [source()], target: target.reader });
    expect(again.changes).toEqual([]);
    expect(again.blocked).toEqual([]);
  });

  it('S1/S4: the same directory read as 0 entries with success blocks every disable, with the hint', async () => {
    const sim = await simulator();
    const target = createEntraTarget(connection(sim), credentialFor(sim));
    const spec = adSpec();
    const read = (filter?: string) =>
      createLdapSource(
        'ad',
        options(filter === undefined ? {} : { filter }),
        aConnectorContext('/', { AD_PASSWORD: dc.adminPassword }),
      );
    const plan = await planRun(spec, { sources: [read()], target: target.reader });
    await applyRun(plan, spec, { target: target.reader, writer: target.writer });

    // The bind account "loses read access": the search succeeds with nothing in it.
    const empty = await planRun(spec, {
      sources: [read('(&(objectClass=user)(sAMAccountName=nobody-matches-this))')],
      target: target.reader,
    });
    expect(empty.sources[0]).toMatchObject({ name: 'ad', records: 0 });
    expect(empty.changes.filter((c) => c.kind === 'disableUser')).toEqual([]);
    expect(empty.blocked.filter((b) => b.change.kind === 'disableUser')).toHaveLength(27);
    const hint = empty.issues.find((i) => i.code === 'source.empty');
    expect(hint?.message).toContain('bind account may lack read access');
  });
});
