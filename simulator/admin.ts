/**
 * The simulator's own endpoints, outside Graph's path (`/_simulator/…`), for tests and people
 * watching a running simulator. Today one: `GET /_simulator/outbox`, every mail `sendMail`
 * accepted (oldest first, bodies included) as `{ "value": [OutboxMail, …] }`.
 *
 * It takes the same bearer token as Graph (any app registered on this simulator, no particular
 * permission): the outbox holds what was delivered, Temporary Access Passes included, and a
 * loopback port is reachable by every local user, so it is not served to anonymous callers.
 * Without a valid token: Graph's 401 `InvalidAuthenticationToken`. The request log records the
 * path and status only, as for every request.
 */
import type { AccessTokenService } from './access-token.js';
import type { Clock } from './clock.js';
import { GraphError, graphErrorBody, graphErrors } from './errors.js';
import type { SimRequest, SimResponse } from './http.js';
import { header } from './http.js';
import type { TenantStore } from './store.js';

export const ADMIN_PREFIX = '/_simulator/';
export const OUTBOX_PATH = '/_simulator/outbox';

export interface AdminContext {
  readonly store: TenantStore;
  readonly tokens: AccessTokenService;
  readonly clock: Clock;
}

export async function adminRequest(
  ctx: AdminContext,
  req: SimRequest,
): Promise<{ response: SimResponse; clientId?: string }> {
  let appId: string | undefined;
  try {
    appId = (await ctx.tokens.verify(header(req, 'authorization'))).appId;
    if (req.url.pathname.replace(/\/+$/, '') !== OUTBOX_PATH) {
      throw new GraphError(404, 'NotFound', `The entrasync simulator has no ${req.url.pathname}.`);
    }
    if (req.method !== 'GET') throw graphErrors.methodNotAllowed();
    return { response: { status: 200, body: { value: ctx.store.outbox() } }, clientId: appId };
  } catch (error) {
    const failure =
      error instanceof GraphError ? error : graphErrors.invalidToken('Access token is empty.');
    return {
      response: {
        status: failure.status,
        headers: { ...failure.headers, 'Content-Type': 'application/json' },
        body: graphErrorBody(
          failure,
          req.requestId,
          req.clientRequestId,
          new Date(ctx.clock.now()),
        ),
      },
      ...(appId === undefined ? {} : { clientId: appId }),
    };
  }
}
