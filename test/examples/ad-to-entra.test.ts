/**
 * examples/ad-to-entra end to end, against a real Active Directory domain controller (Samba,
 * test/servers/samba.ts) loaded with the example's own lab/corp.ldif, and the embedded simulator:
 * validate -> plan -> apply -> re-plan is empty, through the `entrasync` command. Then the AD
 * admin disables an account (over LDAPS, as Active Directory Users and Computers would) and the
 * next run disables it in Entra; enabling it again re-enables it; a rename and a department
 * move in AD rename the same account and move its group.
 *
 * The copy of the example only differs in where the DC is: the test DC listens on 127.0.0.1 with
 * its own CA, and binds as its Administrator (lab users have no password).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../config/load.js';
import { resolveSecret } from '../../config/secrets.js';
import { createSource } from '../../connectors/index.js';
import { Redactor } from '../../engine/secret.js';
import { replaceAttributes, sambaAdmin } from '../servers/ldap-admin.js';
import { startSambaDc } from '../servers/samba.js';
import type { SambaServer } from '../servers/samba.js';
import type { ExampleCopy } from './helpers.js';
import {
  changesFor,
  cli,
  copyExample,
  examplesDir,
  planAt,
  readTenant,
  validatePlanApplyReplan,
} from './helpers.js';

const STAFF = 'OU=Staff,DC=corp,DC=example';
const ENV = 'AD_PASSWORD';

let dc: SambaServer;
let example: ExampleCopy;
const savedPassword = process.env[ENV];

beforeAll(async () => {
  dc = await startSambaDc({
    realm: 'CORP.EXAMPLE',
    domain: 'CORP',
    ldif: readFileSync(join(examplesDir, 'ad-to-entra', 'lab', 'corp.ldif'), 'utf8'),
  });
  example = copyExample('ad-to-entra');
  // Point the copy at the test DC: same base DN and certificate name, another address and CA.
  const doc = parseDocument(readFileSync(example.config, 'utf8'));
  doc.setIn(['sources', 'ad', 'url'], dc.ldapsUrl);
  doc.setIn(['sources', 'ad', 'caFile'], dc.caFile);
  doc.setIn(['sources', 'ad', 'tlsServerName'], dc.tlsServerName);
  doc.setIn(['sources', 'ad', 'bindDn'], dc.adminBind);
  writeFileSync(example.config, doc.toString());
  process.env[ENV] = dc.adminPassword;
}, 300_000);

afterAll(async () => {
  if (savedPassword === undefined) delete process.env[ENV];
  else process.env[ENV] = savedPassword;
  example?.remove();
  await dc?.stop();
});

/**
 * The AD records as the example's source reads them, by sAMAccountName. Only the source is
 * built (no runtime), so the simulated tenant is not created from the seed yet.
 */
async function readAd(): Promise<Map<string, Readonly<Record<string, unknown>>>> {
  const loaded = await loadConfig(example.config);
  const redactor = new Redactor();
  const secrets = { env: process.env, baseDir: loaded.baseDir, redactor };
  const options = loaded.config.sources['ad'];
  if (!options) throw new Error('the example has no source `ad`');
  const snapshot = await createSource('ad', options, {
    baseDir: loaded.baseDir,
    redactor,
    resolveSecret: (ref) => resolveSecret(ref, secrets),
  }).read();
  expect(snapshot.status).toBe('complete');
  return new Map(snapshot.records.map((r) => [String(r.fields['sAMAccountName']), r.fields]));
}

/** Replaces attributes of a user in OU=Staff over LDAPS, as an AD admin would. */
function modifyUser(cn: string, values: Record<string, string>): Promise<void> {
  return replaceAttributes(sambaAdmin(dc), `CN=${cn},${STAFF}`, values);
}

/** Sets userAccountControl, as an AD admin disabling (514) or enabling (512) an account would. */
function setAccountControl(cn: string, value: number): Promise<void> {
  return modifyUser(cn, { userAccountControl: String(value) });
}

describe('examples/ad-to-entra: Active Directory -> Entra as Entra Connect does it', () => {
  it('a synced account from before the cut-over is found by its immutable id, not created again', async () => {
    // Entra Connect synced Bob before: his account carries base64(objectGUID) as
    // onPremisesImmutableId, but not entrasync's marker. Add him to the copy's seed.
    const bob = (await readAd()).get('bjones');
    expect(bob?.['immutableId']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    const seedFile = join(example.dir, 'tenant.json');
    const seed = JSON.parse(readFileSync(seedFile, 'utf8')) as { users: unknown[] };
    seed.users.push({
      userPrincipalName: 'bob.jones@contoso.com',
      displayName: 'Bob Jones',
      mailNickname: 'bjones',
      accountEnabled: true,
      department: 'R&D',
      usageLocation: 'GB',
      onPremisesImmutableId: bob?.['immutableId'],
    });
    writeFileSync(seedFile, JSON.stringify(seed, null, 2));

    const plan = await validatePlanApplyReplan(example);
    expect(plan.stdout).toContain('ad (ldap): complete, 7 records');
    expect(plan.stdout).toMatch(/adopt\s+bob\.jones@contoso\.com/);
    expect(plan.stdout).not.toMatch(/create\s+bob\.jones@contoso\.com/);
    expect(plan.stdout).toMatch(/Left alone \(3\):.*svc-scanner@contoso\.com/);
  });

  it('creates every enabled account in the OU, anchored on $immutableId(objectGUID) as Entra Connect computes it', async () => {
    const ad = await readAd();
    const tenant = readTenant(example);
    const managed = tenant.users
      .filter(
        (u) =>
          (u['onPremisesExtensionAttributes'] as Record<string, unknown> | undefined)?.[
            'extensionAttribute15'
          ] === 'entrasync:ad',
      )
      .map((u) => String(u.userPrincipalName))
      .sort();
    // Frank is disabled in AD and svc-backup is outside OU=Staff: neither gets an account.
    expect(managed).toEqual([
      'alice.smith@contoso.com',
      'bob.jones@contoso.com',
      'carol.white@contoso.com',
      'dan.brown@contoso.com',
      'erin.davis@contoso.com',
      'grace.lee@contoso.com',
    ]);
    // The connector's `immutableId` is base64 of objectGUID's raw bytes as they came over the
    // wire; `$immutableId(objectGUID)` rebuilds it from the GUID text. Both must agree.
    for (const [sam, upn] of [
      ['asmith', 'alice.smith@contoso.com'],
      ['bjones', 'bob.jones@contoso.com'],
      ['edavis', 'erin.davis@contoso.com'],
    ] as const) {
      const record = ad.get(sam);
      const user = tenant.user(upn);
      expect(user?.['onPremisesImmutableId']).toBe(record?.['immutableId']);
      expect(user?.['accountEnabled']).toBe(true);
    }
    // Erin's AD UPN has the internal suffix corp.example: her mail address is used instead.
    expect(tenant.user('erin.davis@contoso.com')).toMatchObject({
      mailNickname: 'edavis',
      department: 'Finance',
      jobTitle: 'Controller',
      usageLocation: 'GB',
      employeeId: '10005',
    });
    expect(tenant.user('bob.jones@contoso.com')?.['department']).toBe('Engineering');
    expect(tenant.members('entrasync-dept-engineering')).toEqual([
      'alice.smith@contoso.com',
      'bob.jones@contoso.com',
      'grace.lee@contoso.com',
    ]);
    expect(tenant.members('entrasync-dept-sales')).toEqual([
      'carol.white@contoso.com',
      'dan.brown@contoso.com',
    ]);
    expect(tenant.members('entrasync-dept-finance')).toEqual(['erin.davis@contoso.com']);
    expect(tenant.members('entrasync-all-staff')).toHaveLength(6);
    // Not managed, never written.
    expect(tenant.user('svc-scanner@contoso.com')?.['accountEnabled']).toBe(true);
    expect(tenant.user('frank.miller@contoso.com')).toBeUndefined();
  });

  it("why the UPN falls back to mail: AD's internal suffix is not a verified domain, so Erin would be held", async () => {
    // The same config with AD's userPrincipalName taken verbatim, on a fresh simulated tenant.
    const verbatim = copyExample('ad-to-entra');
    try {
      const doc = parseDocument(readFileSync(example.config, 'utf8'));
      doc.setIn(['users', 'attributes', 'userPrincipalName'], '$lowercase(userPrincipalName)');
      writeFileSync(verbatim.config, doc.toString());
      const plan = await planAt(verbatim.config, Date.now());
      const issue = plan.issues.find((i) => i.code === 'domain.unverified');
      expect(issue?.message).toContain(
        'userPrincipalName "edavis@corp.example" (users.attributes.userPrincipalName) is in corp.example, not a verified domain of the tenant',
      );
      expect(changesFor(plan, 'edavis@corp.example')).toEqual([]);
      expect(plan.changes.filter((c) => c.kind === 'createUser')).toHaveLength(5);
    } finally {
      verbatim.remove();
    }
  });

  it('an account disabled in AD is disabled in Entra (sessions revoked, groups left); enabled again, it comes back', async () => {
    await setAccountControl('Carol White', 514);
    const disabled = await planAt(example.config, Date.now());
    expect(changesFor(disabled, 'carol.white@contoso.com')).toEqual([
      'disableUser carol.white@contoso.com',
      'removeMembers All AD Staff',
      'removeMembers Dept - Sales',
    ]);
    expect(disabled.changes.find((c) => c.kind === 'disableUser')).toMatchObject({
      reason: 'left-scope',
      revokeSessions: true,
    });
    const apply = await cli('apply', '--auto-approve', '--config', example.config);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/applied\s+disable\s+carol\.white@contoso\.com/);
    expect((await cli('plan', '--config', example.config)).code).toBe(0);
    let tenant = readTenant(example);
    expect(tenant.user('carol.white@contoso.com')?.['accountEnabled']).toBe(false);
    expect(tenant.members('entrasync-dept-sales')).toEqual(['dan.brown@contoso.com']);

    await setAccountControl('Carol White', 512);
    const back = await cli('apply', '--auto-approve', '--config', example.config);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/applied\s+enable\s+carol\.white@contoso\.com/);
    expect((await cli('plan', '--config', example.config)).code).toBe(0);
    tenant = readTenant(example);
    expect(tenant.user('carol.white@contoso.com')?.['accountEnabled']).toBe(true);
    expect(tenant.members('entrasync-dept-sales')).toEqual([
      'carol.white@contoso.com',
      'dan.brown@contoso.com',
    ]);
  });

  it('a rename and a move in AD rename the same account and move its group (found by immutable id)', async () => {
    const before = readTenant(example).user('grace.lee@contoso.com');
    expect(before).toBeDefined();
    await modifyUser('Grace Lee', {
      userPrincipalName: 'grace.park@contoso.com',
      mail: 'grace.park@contoso.com',
      sn: 'Park',
      displayName: 'Grace Park',
      department: 'Sales',
    });
    const plan = await planAt(example.config, Date.now());
    // The plan names the account by its current UPN; the update renames it.
    expect(changesFor(plan, 'grace.lee@contoso.com')).toEqual([
      'addMembers Dept - Sales',
      'removeMembers Dept - Engineering',
      'updateUser grace.lee@contoso.com',
    ]);
    expect(plan.changes.find((c) => c.kind === 'updateUser')?.message).toBe(
      'update userPrincipalName, mail, displayName, surname, department of grace.lee@contoso.com',
    );
    expect(plan.changes.map((c) => c.kind)).not.toContain('createUser');
    expect(plan.changes.map((c) => c.kind)).not.toContain('disableUser');
    const apply = await cli('apply', '--auto-approve', '--config', example.config);
    expect(apply.code).toBe(0);
    expect((await cli('plan', '--config', example.config)).code).toBe(0);
    const tenant = readTenant(example);
    expect(tenant.user('grace.lee@contoso.com')).toBeUndefined();
    expect(tenant.user('grace.park@contoso.com')).toMatchObject({
      id: before?.id,
      displayName: 'Grace Park',
      surname: 'Park',
      mail: 'grace.park@contoso.com',
      department: 'Sales',
      onPremisesImmutableId: before?.['onPremisesImmutableId'],
    });
    expect(tenant.members('entrasync-dept-engineering')).toEqual([
      'alice.smith@contoso.com',
      'bob.jones@contoso.com',
    ]);
  });
});
