/**
 * Generated directory content shared by tests and benchmarks: people under an OU, in the shape
 * of an OpenLDAP (inetOrgPerson) or an Active Directory (user) directory.
 */
import type { LdifEntry } from './ldif.js';

export function pad(n: number, width = 6): string {
  return String(n).padStart(width, '0');
}

export function organization(suffix: string): LdifEntry {
  const dc = /^dc=([^,]+)/i.exec(suffix)?.[1] ?? 'example';
  return { dn: suffix, objectClass: ['dcObject', 'organization'], dc, o: 'Example' };
}

export function organizationalUnit(ou: string, parent: string): LdifEntry {
  return { dn: `ou=${ou},${parent}`, objectClass: 'organizationalUnit', ou };
}

/** inetOrgPerson entries `uid=u000001,<parent>` ... with names, mail and an employee number. */
export function* openLdapPeople(parent: string, count: number, first = 1): Generator<LdifEntry> {
  for (let i = first; i < first + count; i++) {
    const id = pad(i);
    yield {
      dn: `uid=u${id},${parent}`,
      objectClass: 'inetOrgPerson',
      uid: `u${id}`,
      cn: `Person ${id}`,
      givenName: 'Person',
      sn: id,
      mail: `person${id}@example.test`,
      employeeNumber: `E${id}`,
      title: i % 7 === 0 ? 'Engineer' : 'Analyst',
      departmentNumber: String(i % 20),
    };
  }
}

/** A bind account with a password, for `limits` and ACL rules that name it. */
export function bindAccount(cn: string, parent: string, password: string): LdifEntry {
  return {
    dn: `cn=${cn},${parent}`,
    objectClass: ['organizationalRole', 'simpleSecurityObject'],
    cn,
    userPassword: password,
  };
}

/** AD user entries for ldbadd: `CN=<prefix>000001,<parent>`, enabled unless `disabled(i)`. */
export function* adUsers(
  parent: string,
  count: number,
  options: { prefix?: string; realm?: string; disabled?: (i: number) => boolean } = {},
): Generator<LdifEntry> {
  const prefix = options.prefix ?? 'user';
  const realm = (options.realm ?? 'SAMDOM.EXAMPLE.TEST').toLowerCase();
  for (let i = 1; i <= count; i++) {
    const name = `${prefix}${pad(i)}`;
    yield {
      dn: `CN=${name},${parent}`,
      objectClass: 'user',
      sAMAccountName: name,
      userPrincipalName: `${name}@${realm}`,
      givenName: 'User',
      sn: pad(i),
      displayName: `User ${pad(i)}`,
      mail: `${name}@${realm}`,
      employeeID: `E${pad(i)}`,
      // 512 NORMAL_ACCOUNT, 514 = NORMAL_ACCOUNT | ACCOUNTDISABLE.
      userAccountControl: options.disabled?.(i) ? 514 : 512,
    };
  }
}
