/**
 * The mail addresses an account holds: its `mail` and the addresses of its `smtp:` proxy
 * addresses (the prefix in any case: `SMTP:` marks the primary one). Other proxy types (`x500:`,
 * `sip:`) are not mail addresses.
 */
import { identifierKey } from '../expr/normalize.js';
import type { TenantUser } from '../model/tenant.js';

export type HeldAs = 'mail' | 'proxy address';

export function addressesOf(u: TenantUser): { address: string; as: HeldAs }[] {
  const out: { address: string; as: HeldAs }[] = [];
  const mail = u.attributes.mail;
  if (typeof mail === 'string' && mail !== '') out.push({ address: mail, as: 'mail' });
  const proxies = u.attributes.proxyAddresses;
  if (Array.isArray(proxies)) {
    for (const p of proxies as readonly string[]) {
      if (p.length > 5 && p.slice(0, 5).toLowerCase() === 'smtp:') {
        out.push({ address: p.slice(5), as: 'proxy address' });
      }
    }
  }
  return out;
}

/** Who holds each UPN and each mail address among active accounts, by identifier key. */
export interface AddressIndex {
  readonly upns: ReadonlyMap<string, readonly string[]>;
  readonly addresses: ReadonlyMap<string, readonly string[]>;
}

/** Built once per plan, so checking each restore costs a lookup, not a pass over the tenant. */
export function indexAddresses(users: readonly TenantUser[]): AddressIndex {
  const upns = new Map<string, string[]>();
  const addresses = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, id: string): void => {
    const ids = map.get(key);
    if (ids) ids.push(id);
    else map.set(key, [id]);
  };
  for (const u of users) {
    add(upns, identifierKey(u.userPrincipalName), u.id);
    for (const a of addressesOf(u)) add(addresses, identifierKey(a.address), u.id);
  }
  return { upns, addresses };
}

/**
 * What stands in the way of restoring `deleted`: its UPN held by an active account, or one of
 * its mail addresses held by one (the restore then asks Entra to drop those from it).
 */
export function restoreConflicts(
  deleted: TenantUser,
  index: AddressIndex,
): { upnTaken: boolean; proxy: boolean } {
  const other = (ids: readonly string[] | undefined) => (ids ?? []).some((id) => id !== deleted.id);
  return {
    upnTaken: other(index.upns.get(identifierKey(deleted.userPrincipalName))),
    proxy: addressesOf(deleted).some((a) => other(index.addresses.get(identifierKey(a.address)))),
  };
}
