import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../engine/errors.js';
import { loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-wb-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function configWith(writeback: string[]): string {
  const file = join(dir, `c${++n}.yaml`);
  writeFileSync(
    file,
    [
      'version: 1',
      'target: { auth: { method: simulator } }',
      'sources:',
      '  hr: { kind: csv, path: hr.csv, key: id }',
      '  ad:',
      '    kind: ldap',
      '    url: ldaps://dc1.corp.example',
      '    baseDn: OU=Staff,DC=corp,DC=example',
      '    key: objectGUID',
      '    attributes: [objectGUID, mail, msDS-cloudExtensionAttribute1]',
      'join: { primary: hr, link: { ad: { key: mail, equals: "$hr.mail" } } }',
      'users:',
      '  anchor: id',
      '  attributes: { userPrincipalName: mail, displayName: name }',
      ...writeback,
      '',
    ].join('\n'),
  );
  return file;
}

async function messages(file: string): Promise<string[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.map((d) => `${d.code} ${d.message}`);
    throw err;
  }
  return [];
}

describe('writeback config (issue 26)', () => {
  it('WB13: a valid section becomes the engine spec; secrets stay references until apply', async () => {
    const loaded = await loadConfig(
      configWith([
        'writeback:',
        '  ad:',
        '    attributes: { msDS-cloudExtensionAttribute1: id, mail: userPrincipalName }',
        '    bindDn: CN=svc-write,OU=Service Accounts,DC=corp,DC=example',
        '    password: ${env:WB_UNSET_WRITE_PASSWORD}',
      ]),
    );
    expect(loaded.spec.writeback).toEqual([
      {
        source: 'ad',
        attributes: [
          { field: 'msDS-cloudExtensionAttribute1', from: 'id' },
          { field: 'mail', from: 'userPrincipalName' },
        ],
      },
    ]);
    expect(loaded.spec.safety.thresholds.writebacks).toEqual({ count: 100, percent: 50 });
  });

  it('WB14: an unknown source, a CSV source, an LDAP field the read does not fetch, options of the other kind and a half write bind are config errors', async () => {
    expect(
      await messages(
        configWith([
          'writeback:',
          '  hrr: { attributes: { x: id } }',
          '  hr: { attributes: { entra_id: id } }',
          '  ad:',
          '    attributes: { employeeNumber: id }',
          '    url: https://x.example/{id}',
          '    bindDn: CN=svc-write,DC=corp,DC=example',
        ]),
      ),
    ).toEqual([
      'config.unknown-source `writeback` names `hrr`, which is not a source (sources: `hr`, `ad`)',
      'config.not-applicable `writeback.hr`: source `hr` is a csv source; write-back goes to ldap and http sources only',
      'config.missing-key `writeback.ad`: `bindDn` and `password` go together (the write bind)',
      'config.not-applicable `writeback.ad.attributes.employeeNumber`: `sources.ad.attributes` does not read `employeeNumber`, so the plan could not see that the entry holds the value already; add it there',
      'config.not-applicable `writeback.ad.url` does not apply to an ldap source',
    ]);
  });
});
