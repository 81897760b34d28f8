/**
 * The tenant's domains (Graph's `domain` resource): what `GET /domains` lists, and what user
 * writes are checked against. Graph refuses a user whose userPrincipalName is not in a verified
 * domain of the tenant (400 `Request_BadRequest`, observed text below).
 *
 * Defaults, for a state whose seed names no `domains` (every seed and state from before domains
 * were modelled): the initial domain `contoso.onmicrosoft.com` (initial and default, as in a new
 * tenant), `contoso.com` and `contoso.example` (the domains entrasync's examples, tests and
 * generated tenants use), and every domain a seeded (or already stored) user's
 * userPrincipalName or mail is in: Entra holds no user in a domain it has not verified, so a
 * seed's users imply their domains. A seed with `domains` gets exactly those (plus the initial
 * domain when none is marked initial), and its users must be in verified ones.
 */
import type { DirectoryDocument } from './store/model.js';

export const INITIAL_DOMAIN = 'contoso.onmicrosoft.com';

/** Verified besides the initial domain when a seed names no domains. */
export const DEFAULT_EXTRA_DOMAINS: readonly string[] = ['contoso.com', 'contoso.example'];

/** Graph's property order for a domain (v1.0 resource page). */
export const DOMAIN_PROPERTIES: readonly string[] = [
  'authenticationType',
  'availabilityStatus',
  'id',
  'isAdminManaged',
  'isDefault',
  'isInitial',
  'isRoot',
  'isVerified',
  'supportedServices',
  'passwordValidityPeriodInDays',
  'passwordNotificationWindowInDays',
  'state',
];

/** A domain document with Graph's defaults for what `properties` leaves out. */
export function domainDocument(
  properties: Readonly<Record<string, unknown>> & { readonly id: string },
): DirectoryDocument {
  const verified = properties['isVerified'] !== false;
  return {
    authenticationType: 'Managed',
    availabilityStatus: null,
    isAdminManaged: true,
    isDefault: false,
    isInitial: false,
    isRoot: verified,
    isVerified: verified,
    supportedServices: [],
    passwordValidityPeriodInDays: null,
    passwordNotificationWindowInDays: null,
    state: null,
    ...properties,
  };
}

/** The domain part of an address (after the last `@`), lowercased; '' when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** Domains a user document's userPrincipalName and mail are in. */
export function userDomains(user: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const name of ['userPrincipalName', 'mail']) {
    const value = user[name];
    if (typeof value !== 'string') continue;
    const domain = domainOf(value);
    if (domain !== '' && !out.includes(domain)) out.push(domain);
  }
  return out;
}

/**
 * The domains of a state whose seed names none: the initial domain, the default extras, and
 * those the users are in, each once, in that order.
 */
export function defaultDomains(
  initialDomain: string,
  users: Iterable<Readonly<Record<string, unknown>>>,
): DirectoryDocument[] {
  const names = new Map<string, string>();
  const add = (name: string): void => {
    if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  };
  add(initialDomain);
  for (const name of DEFAULT_EXTRA_DOMAINS) add(name);
  for (const user of users) for (const domain of userDomains(user)) add(domain);
  return [...names.values()].map((id) =>
    domainDocument({
      id,
      ...(id.toLowerCase() === initialDomain.toLowerCase()
        ? {
            isInitial: true,
            isDefault: true,
            supportedServices: ['Email', 'OfficeCommunicationsOnline'],
          }
        : {}),
    }),
  );
}

/** Whether `domain` is one of `domains` with `isVerified` true (case-insensitive). */
export function isVerifiedDomain(domains: readonly DirectoryDocument[], domain: string): boolean {
  const lower = domain.toLowerCase();
  return domains.some((d) => d['isVerified'] === true && d.id.toLowerCase() === lower);
}
