/**
 * Writing to a test directory as its administrator would, over LDAPS with ldapts: what tests
 * and benchmarks do to make a real directory change between two reads. One bind per call.
 */
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import type { SambaServer } from './samba.js';
import type { SlapdServer } from './slapd.js';

export interface LdapAdmin {
  readonly url: string;
  readonly caFile: string;
  /** Name in the server certificate when it is not the URL's host (Samba's DC). */
  readonly tlsServerName?: string;
  readonly bindDn: string;
  readonly password: string;
}

/** slapd's root DN over ldaps:// (the server must run with TLS). */
export function slapdAdmin(server: SlapdServer): LdapAdmin {
  if (server.ldapsUrl === undefined || server.caFile === undefined) {
    throw new Error('slapdAdmin: the server runs without TLS');
  }
  return {
    url: server.ldapsUrl,
    caFile: server.caFile,
    bindDn: server.rootDn,
    password: server.rootPassword,
  };
}

/** The Samba DC's Administrator over ldaps://. */
export function sambaAdmin(dc: SambaServer): LdapAdmin {
  return {
    url: dc.ldapsUrl,
    caFile: dc.caFile,
    tlsServerName: dc.tlsServerName,
    bindDn: dc.adminBind,
    password: dc.adminPassword,
  };
}

/** Runs `work` on a client bound as the administrator, and unbinds. */
export async function asLdapAdmin<T>(
  admin: LdapAdmin,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({
    url: admin.url,
    tlsOptions: {
      ca: readFileSync(admin.caFile),
      ...(admin.tlsServerName === undefined ? {} : { servername: admin.tlsServerName }),
    },
  });
  try {
    await client.bind(admin.bindDn, admin.password);
    return await work(client);
  } finally {
    await client.unbind();
  }
}

/** Replaces attributes of one entry (`{ description: 'moved desks' }`). */
export function replaceAttributes(
  admin: LdapAdmin,
  dn: string,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  return asLdapAdmin(admin, (client) =>
    client.modify(
      dn,
      Object.entries(values).map(
        ([type, value]) =>
          new Change({
            operation: 'replace',
            modification: new Attribute({ type, values: [value] }),
          }),
      ),
    ),
  );
}
