import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { listSchemaEntries } from '../schema-entries.js';
import { LdapSourceOptions } from './ldap-options.js';

/** Compiled as config/load.ts compiles the whole config schema. */
function validator() {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  ajv.addVocabulary(['patternErrorMessage']);
  addFormats.default(ajv, ['uri']);
  return ajv.compile(LdapSourceOptions);
}

const typical = {
  kind: 'ldap',
  url: 'ldaps://dc1.corp.example:636',
  caFile: 'certs/ca.pem',
  bindDn: 'CN=svc-entrasync,OU=Service,DC=corp,DC=example',
  password: '${env:LDAP_PASSWORD}',
  baseDn: ['OU=Staff,DC=corp,DC=example', 'OU=Contractors,DC=corp,DC=example'],
  filter: '(&(objectCategory=person)(objectClass=user))',
  key: 'objectGUID',
  attributes: ['givenName', 'sn', 'mail', 'objectGUID', 'userAccountControl'],
  pageSize: 500,
  referrals: 'incomplete',
  groups: { baseDn: 'OU=Groups,DC=corp,DC=example', nested: true, expand: 'auto' },
};

describe('LdapSourceOptions', () => {
  it('compiles under ajv strict mode and accepts a typical AD source', () => {
    const validate = validator();
    expect(validate(typical), JSON.stringify(validate.errors)).toBe(true);
    expect(
      validate({
        kind: 'ldap',
        url: 'ldap://ldap.example',
        baseDn: 'dc=example',
        key: 'entryUUID',
      }),
    ).toBe(true);
  });

  it('rejects a password written into the file, a non-LDAP URL, a URL with a path, unknown keys', () => {
    const validate = validator();
    for (const bad of [
      { ...typical, password: 'hunter2' },
      { ...typical, url: 'https://dc1.corp.example' },
      { ...typical, url: 'ldaps://dc1.corp.example/DC=corp,DC=example' },
      { ...typical, sizeLimit: 100 },
      { ...typical, pageSize: 0 },
      { ...typical, referrals: 'follow' },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('describes every option, and marks password as a secret reference', () => {
    const entries = listSchemaEntries(LdapSourceOptions);
    expect(entries.length).toBeGreaterThan(15);
    for (const e of entries) expect(e.description, e.path).not.toBe('');
    expect(entries.find((e) => e.path === 'password')?.slot).toBe('secret');
  });
});
