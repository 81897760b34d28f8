/**
 * Write-back to a real Active Directory domain controller (Samba, test/servers/samba.ts) loaded
 * with examples/ad-to-entra's lab directory, through `entrasync plan` and `entrasync apply`
 * against the embedded simulator (issue 26): the copy of the example gets the `writeback`
 * section its README shows (the Entra object id into `msDS-cloudExtensionAttribute1`, with a
 * write bind only the apply is given; `doctor` says whether it is there and may write). New accounts converge in two runs: the first apply
 * creates them, the second writes their ids back, the third plan is empty.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { asLdapAdmin, sambaAdmin } from '../servers/ldap-admin.js';
import { startSambaDc } from '../servers/samba.js';
import type { SambaServer } from '../servers/samba.js';
import type { ExampleCopy } from '../examples/helpers.js';
import { cli, copyExample, examplesDir, readTenant } from '../examples/helpers.js';

const STAFF = 'OU=Staff,DC=corp,DC=example';
const ENV_READ = 'AD_PASSWORD';
const ENV_WRITE = 'AD_WRITE_PASSWORD';

let dc: SambaServer;
let example: ExampleCopy;
const saved = { read: process.env[ENV_READ], write: process.env[ENV_WRITE] };

beforeAll(async () => {
  dc = await startSambaDc({
    realm: 'CORP.EXAMPLE',
    domain: 'CORP',
    ldif: readFileSync(join(examplesDir, 'ad-to-entra', 'lab', 'corp.ldif'), 'utf8'),
  });
  example = copyExample('ad-to-entra');
  const doc = parseDocument(readFileSync(example.config, 'utf8'));
  doc.setIn(['sources', 'ad', 'url'], dc.ldapsUrl);
  doc.setIn(['sources', 'ad', 'caFile'], dc.caFile);
  doc.setIn(['sources', 'ad', 'tlsServerName'], dc.tlsServerName);
  doc.setIn(['sources', 'ad', 'bindDn'], dc.adminBind);
  const attributes = doc.getIn(['sources', 'ad', 'attributes']) as { add(v: unknown): void };
  attributes.add('msDS-cloudExtensionAttribute1');
  // As examples/ad-to-entra/README.md shows it (the lab's write bind is its Administrator).
  doc.set(
    'writeback',
    doc.createNode({
      ad: {
        attributes: { 'msDS-cloudExtensionAttribute1': 'id' },
        bindDn: dc.adminBind,
        password: `\${env:${ENV_WRITE}}`,
      },
    }),
  );
  writeFileSync(example.config, doc.toString());
  process.env[ENV_READ] = dc.adminPassword;
  delete process.env[ENV_WRITE];
}, 300_000);

afterAll(async () => {
  for (const [name, value] of [
    [ENV_READ, saved.read],
    [ENV_WRITE, saved.write],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  example?.remove();
  await dc?.stop();
});

async function cloudAttribute(cn: string): Promise<unknown> {
  return asLdapAdmin(sambaAdmin(dc), async (client) => {
    const { searchEntries } = await client.search(`CN=${cn},${STAFF}`, {
      scope: 'base',
      attributes: ['msDS-cloudExtensionAttribute1'],
    });
    return searchEntries[0]?.['msDS-cloudExtensionAttribute1'];
  });
}

describe('write-back to Active Directory through the CLI (issue 26)', () => {
  it('WB12: the object id of each new account goes back to its AD user in the second run, with the write bind given only at apply; the third plan is empty', async () => {
    const validate = await cli('validate', '--config', example.config);
    expect(validate.stderr).toBe('');
    const created = await cli('apply', '--auto-approve', '--config', example.config);
    expect(created.stdout).not.toContain('Writing back');
    expect(created.code).toBe(0);

    // Planned without the write password.
    const plan = await cli('plan', '--config', example.config);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('Write-back to the sources, after the changes above (6)');
    expect(plan.stdout).toContain(`ad:CN=Alice Smith,${STAFF}  [from alice.smith@contoso.com]`);

    // doctor says the write bind is missing here (a warning: plans never need it).
    const missing = await cli('doctor', '--config', example.config);
    expect(missing.stdout).toMatch(
      new RegExp(
        `warn\\s+writeback\\s+writeback\\.ad: the write bind's password is not available: .*${ENV_WRITE}`,
      ),
    );

    const refused = await cli('apply', '--auto-approve', '--config', example.config);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`CN=Alice Smith,${STAFF}: not written:`);
    expect(refused.stdout).toContain(ENV_WRITE);

    process.env[ENV_WRITE] = dc.adminPassword;
    // With it, doctor asks AD what the bind may write on a record the plan writes.
    const doctor = await cli('doctor', '--config', example.config);
    expect(doctor.stdout).toContain(
      `ok    writeback   writeback.ad: "${dc.adminBind}" may write msDS-cloudExtensionAttribute1 on CN=`,
    );
    expect(doctor.stdout).toContain('doctor: 7 ok, 0 warn, 0 fail');
    const applied = await cli('apply', '--auto-approve', '--config', example.config);
    expect(applied.stdout).toContain('Write-back: 6 applied, 0 failed.');
    expect(applied.code).toBe(0);
    const alice = readTenant(example).user('alice.smith@contoso.com');
    expect(await cloudAttribute('Alice Smith')).toBe(alice?.id);

    const again = await cli('plan', '--config', example.config);
    expect(again.stdout).toContain('no changes. The tenant matches the configuration.');
    expect(again.code).toBe(0);
  });
});
