/**
 * The managed identity endpoint of Azure App Service and Azure Functions, as `@azure/identity`
 * 4.x (msal-node's `AppService` source) calls it when the process has `IDENTITY_ENDPOINT` and
 * `IDENTITY_HEADER` in its environment:
 *
 *   GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>[&client_id=<id>]
 *   X-IDENTITY-HEADER: {IDENTITY_HEADER}
 *
 * answered with `{ access_token, expires_on, resource, token_type, client_id }` (`expires_on` in
 * epoch seconds, as a string, as App Service sends it). The simulator serves it at
 * `${origin}/msi/token` over its HTTPS loopback listener, so no root-only networking is needed
 * (IMDS would need 169.254.169.254; Azure Arc a file under /var/opt/azcmagent). The tokens are
 * the simulator's ordinary Graph tokens, with the managed identity's client id as `appid` and
 * its roles. Without `client_id` the system-assigned identity answers; with an unknown one,
 * 400 as App Service does. The header value is a shared secret: never logged or echoed.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AccessTokenService } from './access-token.js';
import type { SimRequest } from './http.js';
import { header } from './http.js';
import type { TokenOutcome } from './token-endpoint.js';
import { isGraphResource } from './token-endpoint.js';

/** A managed identity of the simulated host, with its application permissions. */
export interface SimulatorManagedIdentity {
  /** Client id of the identity (a user-assigned identity's, or the system-assigned one's). */
  readonly clientId: string;
  readonly roles: readonly string[];
  /** The host's system-assigned identity (asked for without `client_id`); at most one. */
  readonly systemAssigned?: boolean;
}

export interface ManagedIdentityEndpointContext {
  readonly origin: string;
  readonly tenantId: string;
  readonly identities: readonly SimulatorManagedIdentity[];
  /** The `IDENTITY_HEADER` value callers must send. */
  readonly identityHeader: string;
  readonly tokens: AccessTokenService;
}

export const MANAGED_IDENTITY_PATH = '/msi/token';
const APP_SERVICE_API_VERSION = '2019-08-01';

export async function managedIdentityTokenRequest(
  req: SimRequest,
  ctx: ManagedIdentityEndpointContext,
): Promise<TokenOutcome> {
  const fail = (status: number, error: string, description: string): TokenOutcome => ({
    response: {
      status,
      headers: { 'Cache-Control': 'no-store' },
      body: { statusCode: status, error, error_description: description, message: description },
    },
  });
  if (req.method !== 'GET') return fail(405, 'invalid_request', 'Only GET is supported.');
  const sent = header(req, 'x-identity-header') ?? '';
  if (!sameSecret(sent, ctx.identityHeader)) {
    return fail(401, 'unauthorized', 'The X-IDENTITY-HEADER header is missing or wrong.');
  }
  const params = req.url.searchParams;
  if (params.get('api-version') !== APP_SERVICE_API_VERSION) {
    return fail(400, 'invalid_request', `api-version must be ${APP_SERVICE_API_VERSION}.`);
  }
  const resource = (params.get('resource') ?? '').replace(/\/\.default$/, '').replace(/\/+$/, '');
  if (!isGraphResource(resource, ctx.origin)) {
    return fail(400, 'invalid_resource', `The resource ${resource || '(none)'} is not known.`);
  }
  if (params.has('mi_res_id') || params.has('object_id') || params.has('principal_id')) {
    return fail(400, 'invalid_request', 'The simulator selects identities by client_id only.');
  }
  const requested = params.get('client_id');
  const identity =
    requested === null
      ? ctx.identities.find((i) => i.systemAssigned === true)
      : ctx.identities.find((i) => i.clientId.toLowerCase() === requested.toLowerCase());
  if (identity === undefined) {
    return fail(
      400,
      'invalid_request',
      requested === null
        ? 'No system-assigned managed identity is enabled for this host.'
        : `No user-assigned managed identity with client id ${requested} is assigned to this host.`,
    );
  }
  const issued = await ctx.tokens.issue({
    appId: identity.clientId,
    tenantId: ctx.tenantId,
    roles: identity.roles,
  });
  return {
    clientId: identity.clientId,
    response: {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      body: {
        access_token: issued.accessToken,
        // msal compares it with wall-clock time, whatever clock the simulator runs on.
        expires_on: String(Math.floor(Date.now() / 1000) + issued.expiresIn),
        resource,
        token_type: 'Bearer',
        client_id: identity.clientId,
      },
    },
  };
}

function sameSecret(sent: string, expected: string): boolean {
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
