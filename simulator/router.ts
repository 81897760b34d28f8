/**
 * Dispatches every HTTPS request: the identity endpoints under `/{tenant}/…`, and Graph under
 * `/v1.0/…` (authenticate, resolve the OData path to a route, check the route's permission,
 * run the handler). All Graph failures leave here as Graph's error body with `request-id` and
 * `client-request-id`; every request, whatever its outcome, gets one request-log entry that
 * carries no secret (no body, no Authorization, query values other than OData options
 * redacted).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenService, Principal } from './access-token.js';
import { GraphError, graphErrorBody, graphErrors } from './errors.js';
import type { PathSegment } from './graph/odata.js';
import { parseODataPath } from './graph/odata.js';
import type { GraphContext } from './graph/users.js';
import { createUser, getUser, listUsers, updateUser } from './graph/users.js';
import type { SimRequest, SimResponse } from './http.js';
import { header, readBody, writeResponse } from './http.js';
import type { TenantStore } from './store.js';
import type { IdentityEndpointContext, TokenOutcome } from './token-endpoint.js';
import { jsonWebKeySet, openIdConfiguration, tokenRequest } from './token-endpoint.js';

export interface RequestLogEntry {
  /** ISO 8601 time the response was sent. */
  readonly time: string;
  readonly method: string;
  /** Path and query; query values other than OData system options are `redacted`. */
  readonly path: string;
  readonly status: number;
  /** The app that made the request, when its token or client_id identified it. */
  readonly clientId?: string;
  readonly requestId: string;
}

export interface RouterContext {
  readonly origin: string;
  readonly store: TenantStore;
  readonly identity: IdentityEndpointContext;
  readonly tokens: AccessTokenService;
  readonly log: (entry: RequestLogEntry) => void;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Permission = 'users.read' | 'users.write';

interface RouteHandler {
  readonly permission: Permission;
  readonly run: (ctx: GraphContext) => SimResponse;
}

type Route = Partial<Record<Method, RouteHandler>>;

// Application permissions that grant each capability (Graph permissions reference).
const GRANTING_ROLES: Readonly<Record<Permission, readonly string[]>> = {
  'users.read': [
    'User.Read.All',
    'User.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
  'users.write': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
};

// Resources Graph has and the simulator does not (yet): answered 501, not "segment not found".
const KNOWN_UNIMPLEMENTED_ROOTS = new Set([
  '$batch',
  'applications',
  'devices',
  'directoryObjects',
  'directoryRoles',
  'domains',
  'groups',
  'me',
  'organization',
  'roleManagement',
  'servicePrincipals',
  'subscribedSkus',
]);
const KNOWN_USER_NAVIGATION = new Set([
  'appRoleAssignments',
  'assignLicense',
  'checkMemberGroups',
  'directReports',
  'licenseDetails',
  'manager',
  'memberOf',
  'ownedObjects',
  'transitiveMemberOf',
]);

const GRAPH_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const SAFE_QUERY_PARAMETERS = new Set(['client-request-id', 'api-version']);

export function createRequestHandler(
  ctx: RouterContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      // Only reached if writing the response itself failed (e.g. the client went away).
      res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

async function handle(
  ctx: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  const sentClientRequestId = firstHeader(req, 'client-request-id');
  const clientRequestId =
    sentClientRequestId !== undefined && /^[\w.:-]{1,128}$/.test(sentClientRequestId)
      ? sentClientRequestId
      : requestId;
  const url = new URL(req.url ?? '/', ctx.origin);
  const method = (req.method ?? 'GET').toUpperCase();
  const body = await readBody(req);

  let outcome: { response: SimResponse; clientId?: string; graph: boolean };
  if (body === undefined) {
    outcome = {
      response: errorResponse(graphErrors.payloadTooLarge(), requestId, clientRequestId),
      graph: true,
    };
  } else {
    const request: SimRequest = {
      method,
      url,
      headers: req.headers,
      body,
      requestId,
      clientRequestId,
    };
    outcome = await dispatch(ctx, request);
  }

  const baseHeaders: Record<string, string> = {
    'request-id': requestId,
    'client-request-id': clientRequestId,
    'Strict-Transport-Security': 'max-age=31536000',
  };
  if (outcome.graph) {
    baseHeaders['Cache-Control'] = 'no-cache';
    if (outcome.response.status < 400 && outcome.response.body !== undefined) {
      baseHeaders['Content-Type'] = GRAPH_JSON;
      baseHeaders['OData-Version'] = '4.0';
    }
  }
  writeResponse(res, outcome.response, baseHeaders);
  ctx.log({
    time: new Date().toISOString(),
    method,
    path: loggablePath(url),
    status: outcome.response.status,
    ...(outcome.clientId === undefined ? {} : { clientId: outcome.clientId }),
    requestId,
  });
}

async function dispatch(
  ctx: RouterContext,
  req: SimRequest,
): Promise<{ response: SimResponse; clientId?: string; graph: boolean }> {
  const parts = req.url.pathname.split('/').filter((p) => p !== '');
  const identity = await identityRoute(ctx, req, parts);
  if (identity !== undefined) return { ...identity, graph: false };

  let principal: Principal | undefined;
  try {
    const [version] = parts;
    if (version !== 'v1.0') {
      throw version === undefined
        ? graphErrors.segmentNotFound('')
        : /^(v\d|beta$)/i.test(version)
          ? graphErrors.invalidVersion(version)
          : graphErrors.segmentNotFound(version);
    }
    principal = await ctx.tokens.verify(header(req, 'authorization'));
    const path = req.url.pathname.slice(req.url.pathname.indexOf('/v1.0') + '/v1.0'.length);
    const handler = resolveRoute(parseODataPath(path))[req.method as Method];
    if (handler === undefined) throw graphErrors.methodNotAllowed();
    if (!GRANTING_ROLES[handler.permission].some((role) => principal?.roles.includes(role))) {
      throw graphErrors.insufficientPrivileges();
    }
    const response = handler.run({ store: ctx.store, origin: ctx.origin, principal, request: req });
    return { response, clientId: principal.appId, graph: true };
  } catch (error) {
    return {
      response: errorResponse(toGraphError(error), req.requestId, req.clientRequestId),
      ...(principal === undefined ? {} : { clientId: principal.appId }),
      graph: true,
    };
  }
}

async function identityRoute(
  ctx: RouterContext,
  req: SimRequest,
  parts: readonly string[],
): Promise<TokenOutcome | undefined> {
  const [tenant, a, b, c, extra] = parts;
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

function resolveRoute(segments: readonly PathSegment[]): Route {
  const [root, second, third] = segments;
  if (root === undefined) throw graphErrors.notImplemented('the service document');
  if (root.name === 'users') {
    if (root.keys !== undefined) {
      if (second === undefined) return userEntityRoute(root);
      throw navigationError(second);
    }
    if (second === undefined) return usersCollectionRoute;
    if (second.name.startsWith('$') || second.name.startsWith('delta')) {
      throw graphErrors.notImplemented(`/users/${second.raw}`);
    }
    if (third === undefined) return userEntityRoute(second);
    throw navigationError(third);
  }
  if (KNOWN_UNIMPLEMENTED_ROOTS.has(root.name)) throw graphErrors.notImplemented(`/${root.name}`);
  throw graphErrors.segmentNotFound(root.raw);
}

const usersCollectionRoute: Route = {
  GET: { permission: 'users.read', run: listUsers },
  POST: { permission: 'users.write', run: createUser },
};

function userEntityRoute(key: PathSegment): Route {
  return {
    GET: { permission: 'users.read', run: (ctx) => getUser(ctx, key) },
    PATCH: { permission: 'users.write', run: (ctx) => updateUser(ctx, key) },
  };
}

function navigationError(segment: PathSegment): GraphError {
  return KNOWN_USER_NAVIGATION.has(segment.name)
    ? graphErrors.notImplemented(`/users/{id}/${segment.name}`)
    : graphErrors.segmentNotFound(segment.raw);
}

function toGraphError(error: unknown): GraphError {
  if (error instanceof GraphError) return error;
  // A simulator bug: report it as Graph reports its own internal failures, and say where.
  console.error('entrasync simulator: unexpected error', error);
  return new GraphError(
    500,
    'UnknownError',
    'The entrasync simulator failed to handle the request.',
  );
}

function errorResponse(error: GraphError, requestId: string, clientRequestId: string): SimResponse {
  return {
    status: error.status,
    headers: { ...error.headers, 'Content-Type': 'application/json' },
    body: graphErrorBody(error, requestId, clientRequestId),
  };
}

function loggablePath(url: URL): string {
  const params = [...url.searchParams].map(([name, value]) =>
    name.startsWith('$') || SAFE_QUERY_PARAMETERS.has(name)
      ? `${name}=${value}`
      : `${name}=redacted`,
  );
  return params.length === 0 ? url.pathname : `${url.pathname}?${params.join('&')}`;
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
