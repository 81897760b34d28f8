/**
 * Write-back to a real OpenLDAP server (test/servers/slapd.ts) through `entrasync plan` and
 * `entrasync apply` against the embedded simulator (issue 26): the object id and the UPN of each
 * account go back to the person's entry (`employeeType`, `mail`) with a write bind that only the
 * apply is given; a bind that may read but not write gets insufficientAccessRights, named with
 * the entry's DN; after the write-back, a re-plan is empty.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { bindAccount, organization, organizationalUnit } from '../servers/directory-data.js';
import { asLdapAdmin, replaceAttributes, slapdAdmin } from '../servers/ldap-admin.js';
import type { LdifEntry } from '../servers/ldif.js';
import { startSlapd } from '../servers/slapd.js';
import type { SlapdServer } from '../servers/slapd.js';
import { readTenant } from '../examples/helpers.js';

const SUFFIX = 'dc=example,dc=test';
const PEOPLE = `ou=people,${SUFFIX}`;
const SYSTEM = `ou=system,${SUFFIX}`;
const READ_PASSWORD = 'Reader-Pa55-wb-1';
const WRITE_PASSWORD = 'Writer-Pa55-wb-2';
const ENV_READ = 'WB_LDAP_READ_PASSWORD';
const ENV_WRITE = 'WB_LDAP_WRITE_PASSWORD';

const PEOPLE_ENTRIES: LdifEntry[] = ['ada', 'bob', 'cy'].map((uid) => ({
  dn: `uid=${uid},${PEOPLE}`,
  objectClass: 'inetOrgPerson',
  uid,
  cn: `${uid[0]?.toUpperCase()}${uid.slice(1)} Person`,
  sn: 'Person',
  mail: `${uid}@old.example.test`,
}));

let server: SlapdServer;
let dir: string;
let config: string;

function writeConfig(writeBind: string): void {
  writeFileSync(
    config,
    [
      'version: 1',
      'target:',
      '  auth: { method: simulator }',
      '  simulator: { state: .entrasync/tenant.db }',
      'sources:',
      '  dir:',
      '    kind: ldap',
      `    url: ${server.ldapsUrl ?? ''}`,
      `    caFile: ${server.caFile ?? ''}`,
      `    bindDn: cn=reader,${SYSTEM}`,
      `    password: \${env:${ENV_READ}}`,
      `    baseDn: ${PEOPLE}`,
      '    filter: (objectClass=inetOrgPerson)',
      '    key: uid',
      '    attributes: [uid, cn, sn, mail, employeeType]',
      'users:',
      '  anchor: uid',
      '  attributes:',
      "    userPrincipalName: uid & '@contoso.com'",
      '    displayName: cn',
      '    surname: sn',
      'writeback:',
      '  dir:',
      '    attributes:',
      '      employeeType: id',
      '      mail: userPrincipalName',
      `    bindDn: ${writeBind}`,
      `    password: \${env:${ENV_WRITE}}`,
      '',
    ].join('\n'),
  );
}

async function entry(uid: string): Promise<Record<string, unknown>> {
  return asLdapAdmin(slapdAdmin(server), async (client) => {
    const { searchEntries } = await client.search(`uid=${uid},${PEOPLE}`, {
      scope: 'base',
      attributes: ['mail', 'employeeType'],
    });
    return searchEntries[0] ?? {};
  });
}

beforeAll(async () => {
  server = await startSlapd({
    entries: [
      organization(SUFFIX),
      organizationalUnit('people', SUFFIX),
      organizationalUnit('system', SUFFIX),
      bindAccount('reader', SYSTEM, READ_PASSWORD),
      bindAccount('writer', SYSTEM, WRITE_PASSWORD),
      ...PEOPLE_ENTRIES,
    ],
    acl: [
      'access to attrs=userPassword by self write by anonymous auth by * none',
      `access to dn.subtree="${PEOPLE}" attrs=mail,employeeType by dn.exact="cn=writer,${SYSTEM}" write by * read`,
      'access to * by * read',
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'entrasync-wb-ldap-'));
  config = join(dir, 'entrasync.yaml');
  process.env[ENV_READ] = READ_PASSWORD;
}, 120_000);

afterAll(async () => {
  delete process.env[ENV_READ];
  delete process.env[ENV_WRITE];
  if (dir) rmSync(dir, { recursive: true, force: true });
  await server?.stop();
});

describe('write-back to OpenLDAP through the CLI (issue 26)', () => {
  it('WB1: plans without the write credentials, writes object id and UPN back with the write bind only at apply, then re-plans empty', async () => {
    writeConfig(`cn=writer,${SYSTEM}`);
    delete process.env[ENV_WRITE];
    // Run 1: the accounts are created; their object ids are not known yet, so nothing is
    // written back in this run (a new person converges in two runs).
    const first = await cli('plan', '--config', config);
    expect(first.stdout).not.toContain('Write-back to the sources');
    const created = await cli('apply', '--auto-approve', '--config', config);
    expect(created.stdout).toMatch(/3 applied, 0 failed/);
    expect(created.code).toBe(0);

    // Run 2: the plan (still without the write password) shows one write-back per entry.
    const second = await cli('plan', '--config', config);
    expect(second.code).toBe(2);
    expect(second.stdout).toContain('Write-back to the sources, after the changes above (3)');
    const ada = readTenant({ dir, config, remove: () => {} }).user('ada@contoso.com');
    expect(ada?.id).toBeTruthy();
    expect(second.stdout).toContain(`uid=ada,${PEOPLE}`);
    expect(second.stdout).toContain(`employeeType: (none) -> "${String(ada?.id)}"  (Entra id)`);
    expect(second.stdout).toContain(
      'mail: "ada@old.example.test" -> "ada@contoso.com"  (Entra userPrincipalName)',
    );
    expect(second.stdout).toMatch(/Plan [0-9a-f]{12}: 3 to write back\./);

    // Apply without the write password: every record fails with the reason, nothing written.
    const refused = await cli('apply', '--auto-approve', '--config', config);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('writeback.credentials');
    expect(refused.stdout).toContain(ENV_WRITE);
    expect(await entry('ada')).toMatchObject({ employeeType: [], mail: 'ada@old.example.test' });

    process.env[ENV_WRITE] = WRITE_PASSWORD;
    const applied = await cli('apply', '--auto-approve', '--config', config);
    expect(applied.stdout).toContain('Write-back: 3 applied, 0 failed.');
    expect(applied.code).toBe(0);
    expect(await entry('ada')).toMatchObject({
      employeeType: String(ada?.id),
      mail: 'ada@contoso.com',
    });

    // Idempotent: the directory holds every value now.
    const again = await cli('plan', '--config', config);
    expect(again.stdout).toContain('no changes. The tenant matches the configuration.');
    expect(again.code).toBe(0);
  });

  it('WB2: a directory admin changing a written value is written again; a bind that cannot write gets insufficientAccessRights naming the DN', async () => {
    await replaceAttributes(slapdAdmin(server), `uid=bob,${PEOPLE}`, {
      mail: 'bob@typo.example.test',
    });
    writeConfig(`cn=reader,${SYSTEM}`);
    process.env[ENV_WRITE] = READ_PASSWORD;
    const plan = await cli('plan', '--config', config);
    expect(plan.stdout).toContain('Write-back to the sources, after the changes above (1)');
    expect(plan.stdout).toContain('mail: "bob@typo.example.test" -> "bob@contoso.com"');

    const refused = await cli('apply', '--auto-approve', '--config', config);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      `writeback.access-denied: uid=bob,${PEOPLE}: modify mail refused: insufficientAccessRights (50)`,
    );
    expect(refused.stdout).toContain('Write-back: 0 applied, 1 failed.');
    expect((await entry('bob'))['mail']).toBe('bob@typo.example.test');

    writeConfig(`cn=writer,${SYSTEM}`);
    process.env[ENV_WRITE] = WRITE_PASSWORD;
    const applied = await cli('apply', '--auto-approve', '--format', 'json', '--config', config);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({
      exitCode: 0,
      writebacks: [
        { changeId: 'writeback:dir:bob', source: 'dir', key: 'bob', outcome: 'applied' },
      ],
    });
    expect((await entry('bob'))['mail']).toBe('bob@contoso.com');
    expect((await cli('plan', '--config', config)).code).toBe(0);
  });
});
