/**
 * The router's small parts: Graph error answers, loggable paths, the identity platform's routes.
 * Split from router.ts, which keeps the request pipeline itself.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from './clock.js';
import { GraphError, graphErrorBody, graphErrors } from './errors.js';
import type { SimRequest, SimResponse } from './http.js';
import type { IdentityEndpointContext, TokenOutcome } from './token-endpoint.js';
import { jsonWebKeySet, openIdConfiguration, tokenRequest } from './token-endpoint.js';
import type { ManagedIdentityEndpointContext } from './managed-identity.js';
import { MANAGED_IDENTITY_PATH, managedIdentityTokenRequest } from './managed-identity.js';

const SAFE_QUERY_PARAMETERS = new Set(['client-request-id', 'api-version']);

/** A 4xx a fault plan asks for, with the body Graph sends for that status. */
export function injectedClientError(status: number, req: SimRequest): GraphError {
  switch (status) {
    case 401:
      return graphErrors.invalidToken('Lifetime validation failed, the token is expired.');
    case 403:
      // e.g. consent revoked mid-run (catalogue G10)
      return graphErrors.insufficientPrivileges();
    case 404:
      return graphErrors.resourceNotFound(graphPath(req.url));
    default:
      return new GraphError(
        status,
        'BadRequest',
        'Injected by the entrasync simulator fault plan.',
      );
  }
}

/** The path after `/v1.0`, percent-decoding left to the OData parser. */
export function graphPath(url: URL): string {
  const index = url.pathname.indexOf('/v1.0');
  const path = index === -1 ? url.pathname : url.pathname.slice(index + '/v1.0'.length);
  return path === '' ? '/' : path.replace(/\/+$/, '') || '/';
}

/** The identity platform's endpoints (token, OpenID configuration, keys, managed identity). */
export async function identityRoute(
  ctx: {
    readonly identity: IdentityEndpointContext;
    readonly managedIdentity?: ManagedIdentityEndpointContext;
  },
  req: SimRequest,
  parts: readonly string[],
): Promise<TokenOutcome | undefined> {
  const [tenant, a, b, c, extra] = parts;
  if (ctx.managedIdentity !== undefined && req.url.pathname === MANAGED_IDENTITY_PATH) {
    return managedIdentityTokenRequest(req, ctx.managedIdentity);
  }
  if (tenant === undefined || extra !== undefined) return undefined;
  if (a === 'v2.0' && b === '.well-known' && c === 'openid-configuration') {
    return { response: openIdConfiguration(tenant, req, ctx.identity) };
  }
  if (a === 'oauth2' && b === 'v2.0' && c === 'token') {
    return tokenRequest(tenant, req, ctx.identity);
  }
  if (a === 'discovery' && b === 'v2.0' && c === 'keys') {
    return { response: jsonWebKeySet(tenant, req, ctx.identity) };
  }
  return undefined;
}

export function toGraphError(error: unknown): GraphError {
  if (error instanceof GraphError) return error;
  // A simulator bug: report it as Graph reports its own internal failures, and say where.
  console.error('entrasync simulator: unexpected error', error);
  return new GraphError(
    500,
    'UnknownError',
    'The entrasync simulator failed to handle the request.',
  );
}

export function errorResponse(
  error: GraphError,
  requestId: string,
  clientRequestId: string,
  clock: Clock,
): SimResponse {
  return {
    status: error.status,
    headers: { ...error.headers, 'Content-Type': 'application/json' },
    body: graphErrorBody(error, requestId, clientRequestId, new Date(clock.now())),
  };
}

export function loggablePath(url: URL): string {
  const params = [...url.searchParams].map(([name, value]) =>
    name.startsWith('$') || SAFE_QUERY_PARAMETERS.has(name)
      ? `${name}=${value}`
      : `${name}=redacted`,
  );
  return params.length === 0 ? url.pathname : `${url.pathname}?${params.join('&')}`;
}

export function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
