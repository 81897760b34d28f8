/**
 * The mail addresses an account holds: its `mail` and the addresses of its `smtp:` proxy
 * addresses (the prefix in any case: `SMTP:` marks the primary one). Other proxy types (`x500:`,
 * `sip:`) are not mail addresses.
 */
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
