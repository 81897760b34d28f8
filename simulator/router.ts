/**
 * Dispatches every HTTPS request: the identity endpoints under `/{tenant}/…`, and Graph under
 * `/v1.0/…`. A Graph request (top-level, or each item of a `$batch`) runs one pipeline:
 *
 *   authenticate (top level) -> resolve the OData route -> fault plan decision
 *   -> throttling buckets -> route permission -> handler -> lost-response / repeated page
 *   -> latency (fault plan and latency model, latency.ts)
 *
 * All Graph failures leave as Graph's error body with `request-id` and `client-request-id`.
 * Every request and every batch item gets one request-log entry carrying no secret (no body,
 * no Authorization, query values other than OData options redacted) and updates the counters
 * benchmarks read.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenService, Principal } from './access-token.js';
import { ADMIN_PREFIX, adminRequest } from './admin.js';
import type { Clock } from './clock.js';
import { graphErrors } from './errors.js';
import type { LatencyModel } from './latency.js';
import { latencyDelayMs, objectsReturned } from './latency.js';
import type { Random } from './random.js';
import type { FaultDecision, FaultEngine, FaultRequest } from './fault-plan.js';
import { runBatch } from './graph/batch.js';
import type { DirectoryRules, GraphContext } from './graph/context.js';
import { pageNumberOf } from './graph/context.js';
import { parseODataPath } from './graph/odata.js';
import type { Method } from './graph/routes.js';
import { resolveRoute } from './graph/routes.js';
import type { SimRequest, SimResponse } from './http.js';
import { header, readBody, writeResponse } from './http.js';
import type { TenantStore } from './store.js';
import type { Throttle } from './throttle.js';
import { resourceUnitCost } from './throttle.js';
import type { IdentityEndpointContext } from './token-endpoint.js';
import type { ManagedIdentityEndpointContext } from './managed-identity.js';
import type { RequestLogEntry, SimulatorCounters } from './request-log.js';
import {
  errorResponse,
  firstHeader,
  graphPath,
  identityRoute,
  injectedClientError,
  isRecord,
  loggablePath,
  toGraphError,
} from './router-parts.js';

export type { RequestLogEntry, SimulatorCounters } from './request-log.js';
export { createCounters } from './request-log.js';

export interface RouterContext {
  readonly origin: string;
  readonly store: TenantStore;
  readonly identity: IdentityEndpointContext;
  /** App Service's managed identity endpoint (`/msi/token`); undefined: not served. */
  readonly managedIdentity?: ManagedIdentityEndpointContext;
  readonly tokens: AccessTokenService;
  readonly clock: Clock;
  readonly faults: FaultEngine;
  /** Undefined when throttling is off. */
  readonly throttle: Throttle | undefined;
  readonly counters: SimulatorCounters;
  readonly deltaTokenLifetimeMs: number;
  readonly recycleBinRetentionMs: number;
  readonly log: (entry: RequestLogEntry) => void;
  /** Delays every Graph answer (latency.ts); undefined: answers leave at once. */
  readonly latency?: { readonly model: LatencyModel; readonly random: Random };
}

interface GraphOutcome {
  readonly response: SimResponse;
  readonly lost?: 'gateway-timeout' | 'reset';
  readonly latencyMs: number;
  readonly latencyPerObjectMs?: number;
  readonly faults: readonly string[];
}

function latencyOf(decision: FaultDecision): { latencyMs: number; latencyPerObjectMs?: number } {
  return {
    latencyMs: decision.latencyMs ?? 0,
    ...(decision.latencyPerObjectMs === undefined
      ? {}
      : { latencyPerObjectMs: decision.latencyPerObjectMs }),
  };
}

/**
 * How long a Graph answer waits before it leaves: the fault plan's latency rules and the
 * simulator's latency model (latency.ts), both per object returned where they say so.
 */
function responseDelayMs(ctx: RouterContext, outcome: GraphOutcome | undefined): number {
  if (outcome === undefined) return 0;
  const perObject = outcome.latencyPerObjectMs ?? 0;
  const needObjects = perObject > 0 || (ctx.latency?.model.perObjectMs ?? 0) > 0;
  const objects = needObjects ? objectsReturned(outcome.response.body) : 0;
  let ms = outcome.latencyMs + perObject * objects;
  if (ctx.latency !== undefined) {
    ms += latencyDelayMs(ctx.latency.model, objects, ctx.latency.random);
  }
  return Math.round(ms);
}

const GRAPH_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const HOUSEKEEPING_INTERVAL_MS = 60_000;
const TENANT_SIZE_REFRESH_MS = 10_000;

export function createRequestHandler(
  ctx: RouterContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  const state = createState(ctx);
  return (req, res) => {
    handle(ctx, state, req, res).catch((error: unknown) => {
      // Only reached if writing the response itself failed (e.g. the client went away).
      res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

interface RouterState {
  /** Object id -> clock time it becomes visible (replication lag), and what writes naming it get. */
  readonly lag: Map<string, { until: number; status: 400 | 404 }>;
  lastHousekeeping: number;
  tenantUsers: { value: number; at: number } | undefined;
}

function createState(ctx: RouterContext): RouterState {
  return { lag: new Map(), lastHousekeeping: ctx.clock.now(), tenantUsers: undefined };
}

async function handle(
  ctx: RouterContext,
  state: RouterState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  ctx.counters.requests += 1;
  const requestId = randomUUID();
  const sentClientRequestId = firstHeader(req, 'client-request-id');
  const clientRequestId =
    sentClientRequestId !== undefined && /^[\w.:-]{1,128}$/.test(sentClientRequestId)
      ? sentClientRequestId
      : requestId;
  const url = new URL(req.url ?? '/', ctx.origin);
  const method = (req.method ?? 'GET').toUpperCase();
  const body = await readBody(req);

  let outcome: {
    response: SimResponse;
    clientId?: string;
    graph: boolean;
    graphOutcome?: GraphOutcome;
  };
  if (body === undefined) {
    outcome = {
      response: errorResponse(graphErrors.payloadTooLarge(), requestId, clientRequestId, ctx.clock),
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
    outcome = await dispatch(ctx, state, request);
  }

  const latency = responseDelayMs(ctx, outcome.graphOutcome);
  if (latency > 0) await ctx.clock.sleep(latency);

  const lost = outcome.graphOutcome?.lost;
  const faults = outcome.graphOutcome?.faults ?? [];
  let status = outcome.response.status;
  if (lost === 'reset') {
    // The write committed; the client sees the connection drop instead of an answer.
    status = 0;
    req.socket.destroy();
  } else {
    const baseHeaders: Record<string, string> = {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'Strict-Transport-Security': 'max-age=31536000',
      // Graph's time (RFC 9110 IMF-fixdate, 1 s resolution) from the simulator's clock, not
      // Node's automatic wall-clock header: entrasync checks its own clock against it (A7).
      Date: new Date(ctx.clock.now()).toUTCString(),
    };
    if (outcome.graph) {
      baseHeaders['Cache-Control'] = 'no-cache';
      if (outcome.response.status < 400 && outcome.response.body !== undefined) {
        baseHeaders['Content-Type'] = GRAPH_JSON;
        baseHeaders['OData-Version'] = '4.0';
      }
    }
    writeResponse(res, outcome.response, baseHeaders);
  }
  ctx.log({
    time: new Date(ctx.clock.now()).toISOString(),
    method,
    path: loggablePath(url),
    status,
    ...(outcome.clientId === undefined ? {} : { clientId: outcome.clientId }),
    requestId,
    ...(faults.length === 0 ? {} : { faults }),
  });
}

async function dispatch(
  ctx: RouterContext,
  state: RouterState,
  req: SimRequest,
): Promise<{
  response: SimResponse;
  clientId?: string;
  graph: boolean;
  graphOutcome?: GraphOutcome;
}> {
  const parts = req.url.pathname.split('/').filter((p) => p !== '');
  // The simulator's own endpoints (admin.ts): outside Graph, same bearer token.
  if (req.url.pathname.startsWith(ADMIN_PREFIX)) {
    return { ...(await adminRequest(ctx, req)), graph: false };
  }
  const identity = await identityRoute(ctx, req, parts);
  if (identity !== undefined) {
    if (identity.response.status === 200) ctx.counters.tokensIssued += 1;
    return { ...identity, graph: false };
  }

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
  } catch (error) {
    return {
      response: errorResponse(toGraphError(error), req.requestId, req.clientRequestId, ctx.clock),
      graph: true,
    };
  }
  housekeeping(ctx, state);
  const authenticated = principal;
  const path = graphPath(req.url);
  if (path === '/$batch') {
    // The envelope meets the fault plan (lost response, 5xx, latency) but is not throttled
    // or counted: its items are, one by one.
    const decision = ctx.faults.decide(faultRequest(req, path, authenticated, false));
    const pre = preHandlerFault(ctx, decision, req);
    if (pre !== undefined) {
      return {
        response: pre,
        clientId: authenticated.appId,
        graph: true,
        graphOutcome: { response: pre, ...latencyOf(decision), faults: decision.fired },
      };
    }
    let response: SimResponse;
    if (req.method !== 'POST') {
      response = errorResponse(
        graphErrors.methodNotAllowed(),
        req.requestId,
        req.clientRequestId,
        ctx.clock,
      );
    } else {
      try {
        response = await runBatch(req, async (inner) => {
          const innerRequest = { ...inner, requestId: randomUUID() };
          const result = await executeGraph(ctx, state, authenticated, innerRequest, true);
          ctx.log({
            time: new Date(ctx.clock.now()).toISOString(),
            method: innerRequest.method,
            path: loggablePath(innerRequest.url),
            status: result.response.status,
            clientId: authenticated.appId,
            requestId: innerRequest.requestId,
            batch: true,
            ...(result.faults.length === 0 ? {} : { faults: result.faults }),
          });
          // Inside a batch a lost response is a 504 item: the write still committed.
          const itemResponse =
            result.lost === undefined
              ? result.response
              : errorResponse(
                  graphErrors.serviceFault(504),
                  innerRequest.requestId,
                  req.clientRequestId,
                  ctx.clock,
                );
          // Items carry the headers Graph puts on each (json-batching example response).
          const itemHeaders: Record<string, string> = { 'Cache-Control': 'no-cache' };
          if (itemResponse.status < 400 && itemResponse.body !== undefined) {
            itemHeaders['OData-Version'] = '4.0';
            itemHeaders['Content-Type'] = GRAPH_JSON;
          }
          return {
            response: { ...itemResponse, headers: { ...itemHeaders, ...itemResponse.headers } },
            requestId: innerRequest.requestId,
          };
        });
      } catch (error) {
        response = errorResponse(
          toGraphError(error),
          req.requestId,
          req.clientRequestId,
          ctx.clock,
        );
      }
    }
    const lost = response.status < 400 ? decision.lost : undefined;
    const finalResponse =
      lost === 'gateway-timeout'
        ? errorResponse(
            graphErrors.serviceFault(504),
            req.requestId,
            req.clientRequestId,
            ctx.clock,
          )
        : response;
    return {
      response: finalResponse,
      clientId: authenticated.appId,
      graph: true,
      graphOutcome: {
        response: finalResponse,
        ...(lost === undefined ? {} : { lost }),
        ...latencyOf(decision),
        faults: decision.fired,
      },
    };
  }
  const result = await executeGraph(ctx, state, authenticated, req, false);
  const response =
    result.lost === 'gateway-timeout'
      ? errorResponse(graphErrors.serviceFault(504), req.requestId, req.clientRequestId, ctx.clock)
      : result.response;
  return {
    response,
    clientId: authenticated.appId,
    graph: true,
    graphOutcome: { ...result, response },
  };
}

/** One Graph request (top level or batch item), already authenticated. */
async function executeGraph(
  ctx: RouterContext,
  state: RouterState,
  principal: Principal,
  req: SimRequest,
  inner: boolean,
): Promise<GraphOutcome> {
  const path = graphPath(req.url);
  let decision: FaultDecision = { fired: [] };
  try {
    const handler = resolveRoute(parseODataPath(path))[req.method as Method];
    if (handler === undefined) throw graphErrors.methodNotAllowed();
    const info = faultRequest(req, path, principal, inner);
    decision = ctx.faults.decide(info);
    const pre = preHandlerFault(ctx, decision, req);
    if (pre !== undefined)
      return finish(ctx, { response: pre, ...latencyOf(decision), faults: decision.fired }, req);

    const write = WRITES.has(req.method);
    let throttleHeaders: Readonly<Record<string, string>> = {};
    if (ctx.throttle !== undefined) {
      const taken = ctx.throttle.take({
        appId: principal.appId,
        tenantId: principal.tenantId,
        resourceUnits: resourceUnitCost(handler.cost ?? 1, req.url),
        writes: write ? 1 : 0,
        tenantUsers: tenantUsers(ctx, state),
      });
      if (!taken.ok) throw graphErrors.throttled(taken.retryAfterSeconds, taken.headers);
      throttleHeaders = taken.headers;
    }
    if (
      handler.permission.length > 0 &&
      !handler.permission.some((r) => principal.roles.includes(r))
    ) {
      throw graphErrors.insufficientPrivileges();
    }
    const rules: DirectoryRules = {
      created: (id) => {
        const lag = ctx.faults.lagFor(info);
        if (lag.ms > 0) {
          state.lag.set(id.toLowerCase(), { until: ctx.clock.now() + lag.ms, status: lag.status });
        }
      },
      visible: (id) => {
        const lag = state.lag.get(id.toLowerCase());
        if (lag === undefined) return true;
        if (ctx.clock.now() >= lag.until) {
          state.lag.delete(id.toLowerCase());
          return true;
        }
        return false;
      },
      lagStatus: (id) => state.lag.get(id.toLowerCase())?.status ?? 404,
      ...(decision.deltaPageSize === undefined ? {} : { deltaPageSize: decision.deltaPageSize }),
      deltaTokenLifetimeMs: ctx.deltaTokenLifetimeMs,
      recycleBinRetentionMs: ctx.recycleBinRetentionMs,
    };
    const graphContext: GraphContext = {
      store: ctx.store,
      origin: ctx.origin,
      principal,
      request: req,
      clock: ctx.clock,
      rules,
    };
    let response = handler.run(graphContext);
    response = { ...response, headers: { ...throttleHeaders, ...response.headers } };
    if (
      decision.repeatPage === true &&
      isRecord(response.body) &&
      response.body['@odata.nextLink'] !== undefined
    ) {
      response = {
        ...response,
        body: {
          ...response.body,
          '@odata.nextLink': `${ctx.origin}${req.url.pathname}${req.url.search}`,
        },
      };
    }
    const lost = response.status < 400 ? decision.lost : undefined;
    return finish(
      ctx,
      {
        response,
        ...(lost === undefined ? {} : { lost }),
        ...latencyOf(decision),
        faults: decision.fired,
      },
      req,
    );
  } catch (error) {
    return finish(
      ctx,
      {
        response: errorResponse(toGraphError(error), req.requestId, req.clientRequestId, ctx.clock),
        ...latencyOf(decision),
        faults: decision.fired,
      },
      req,
    );
  }
}

function finish(ctx: RouterContext, outcome: GraphOutcome, req: SimRequest): GraphOutcome {
  ctx.counters.graphRequests += 1;
  if (WRITES.has(req.method)) ctx.counters.writes += 1;
  else ctx.counters.reads += 1;
  if (outcome.response.status === 429) ctx.counters.throttled += 1;
  if (outcome.faults.length > 0) ctx.counters.faulted += 1;
  return outcome;
}

/** The response a fault plan gives instead of running the handler, if any. */
function preHandlerFault(
  ctx: RouterContext,
  decision: FaultDecision,
  req: SimRequest,
): SimResponse | undefined {
  if (decision.unauthorized !== undefined) {
    if (decision.unauthorized.revokeTokens) ctx.tokens.revokeAll();
    return errorResponse(
      graphErrors.invalidToken('Lifetime validation failed, the token is expired.'),
      req.requestId,
      req.clientRequestId,
      ctx.clock,
    );
  }
  const respond = decision.respond;
  if (respond === undefined) return undefined;
  if (respond.status === 202) {
    // Accepted, no body: what Graph answers a read it cannot serve yet under load.
    const retryAfter = respond.retryAfterSeconds;
    return {
      status: 202,
      ...(retryAfter === undefined ? {} : { headers: { 'Retry-After': String(retryAfter) } }),
    };
  }
  const error = respond.throttle
    ? graphErrors.throttled(respond.retryAfterSeconds ?? 1)
    : respond.status >= 500
      ? graphErrors.serviceFault(respond.status, respond.retryAfterSeconds)
      : injectedClientError(respond.status, req);
  return errorResponse(error, req.requestId, req.clientRequestId, ctx.clock);
}

function faultRequest(
  req: SimRequest,
  path: string,
  principal: Principal,
  inner: boolean,
): FaultRequest {
  return {
    method: req.method,
    path,
    clientId: principal.appId,
    inner,
    page: pageNumberOf(req.url),
  };
}

function tenantUsers(ctx: RouterContext, state: RouterState): number {
  const now = ctx.clock.now();
  if (state.tenantUsers === undefined || now - state.tenantUsers.at >= TENANT_SIZE_REFRESH_MS) {
    state.tenantUsers = { value: ctx.store.countUsers(), at: now };
  }
  return state.tenantUsers.value;
}

/** Empties the recycle bin of objects past retention and drops old delta tombstones. */
function housekeeping(ctx: RouterContext, state: RouterState): void {
  const now = ctx.clock.now();
  if (now - state.lastHousekeeping < HOUSEKEEPING_INTERVAL_MS) return;
  state.lastHousekeeping = now;
  ctx.store.expire(now - ctx.recycleBinRetentionMs, now - ctx.deltaTokenLifetimeMs);
}
