/**
 * Graph v1.0 `/domains` (read-only): list and get, with `$select`. Permissions as the reference
 * pages give them for applications: Domain.Read.All (least privileged), Domain.ReadWrite.All,
 * Directory.Read.All (and Directory.ReadWrite.All, which includes it). Writes (create, verify,
 * delete) are not modelled: the domains come from the seed (see ../domains.ts).
 */
import { DOMAIN_PROPERTIES, domainOf } from '../domains.js';
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import type { DirectoryDocument } from '../store.js';
import type { GraphContext } from './context.js';
import { parseSelect } from './context.js';
import { parseSystemQuery } from './odata.js';

const DOMAIN_TYPE = 'microsoft.graph.domain';

export const DOMAIN_READ = [
  'Domain.Read.All',
  'Domain.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];

function canonicalDomainProperty(name: string): string | undefined {
  return DOMAIN_PROPERTIES.find((n) => n.toLowerCase() === name.toLowerCase());
}

function render(doc: DirectoryDocument, output: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(output.map((name) => [name, doc[name] ?? null]));
}

/** `GET /domains`: every domain of the tenant, verified or not. */
export function listDomains(ctx: GraphContext): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$select']);
  const select = parseSelect(
    query.$select,
    canonicalDomainProperty,
    DOMAIN_TYPE,
    DOMAIN_PROPERTIES,
  );
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#domains${select.contextSuffix}`,
      value: ctx.store.listDocs('domain').map((d) => render(d, select.output)),
    },
  };
}

/** `GET /domains/{id}`: one domain by its name (case-insensitive), or 404. */
export function getDomain(ctx: GraphContext, id: string): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$select']);
  const select = parseSelect(
    query.$select,
    canonicalDomainProperty,
    DOMAIN_TYPE,
    DOMAIN_PROPERTIES,
  );
  const domain = ctx.store.getDoc('domain', id.toLowerCase());
  if (domain === undefined) throw graphErrors.resourceNotFound(id);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#domains${select.contextSuffix}/$entity`,
      ...render(domain, select.output),
    },
  };
}

/**
 * Refuses a userPrincipalName outside the tenant's verified domains, as Graph does on user
 * create and update (400 Request_BadRequest).
 */
export function assertVerifiedUpnDomain(ctx: GraphContext, upn: unknown): void {
  if (typeof upn !== 'string') return;
  // Domains are stored by their lowercased name (domainOf's form): one lookup per user write.
  const domain = domainOf(upn);
  const doc = domain === '' ? undefined : ctx.store.getDoc('domain', domain);
  if (doc?.['isVerified'] !== true) throw graphErrors.unverifiedUpnDomain();
}
