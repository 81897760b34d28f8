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

/**
 * What stands in the way of restoring `deleted`: its UPN held by an active account, or one of
 * its mail addresses held by one (the restore then asks Entra to drop those from it).
 */
export function restoreConflicts(
  deleted: TenantUser,
  users: readonly TenantUser[],
): { upnTaken: boolean; proxy: boolean } {
  const upn = identifierKey(deleted.userPrincipalName);
  const own = new Set(addressesOf(deleted).map((a) => identifierKey(a.address)));
  let upnTaken = false;
  let proxy = false;
  for (const u of users) {
    if (u.id === deleted.id) continue;
    if (identifierKey(u.userPrincipalName) === upn) upnTaken = true;
    if (own.size > 0 && addressesOf(u).some((a) => own.has(identifierKey(a.address)))) {
      proxy = true;
    }
  }
  return { upnTaken, proxy };
}
