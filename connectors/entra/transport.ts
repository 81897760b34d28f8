/**
 * One Graph exchange through the real SDK, seen as plain data: status, lower-cased headers and
 * the parsed body, whatever the status (the SDK's RAW response type). The SDK's own retry
 * handler is not in the chain (graph-client.ts); this module and batch-executor.ts decide
 * every retry, and every wait goes through the injected clock.
 *
 * Contract:
 * - `send` sends once, except after a 401: the credential is refreshed (once for all requests
 *   that met the same token) and the request is sent once more (G7). It throws
 *   `TransportError` when no answer came (network error, reset, no token could be had).
 * - `get` is for idempotent reads: cockatiel's retry policy retries 503, 504 and network
 *   errors (5 retries) and 429 (11 retries, as writes: write-policy.ts), each wait the larger of
 *   the answer's `Retry-After`, honoured in full however long, and an exponential backoff with
 *   jitter. 500 and 502 are not retried (as the
 *   SDK's handler does not): a page that fails fails the read (G8).
 * - Tokens, secrets and bodies never reach an error message.
 * - Every answer's `Date` header (Graph's clock) is kept with the local clock's reading when
 *   the answer's headers arrived: `serverClock()` is the latest pair, from which the reader
 *   measures the local clock's skew (A7) and the writer dates the disables it records (A10).
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import type { IBackoff } from 'cockatiel';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { Clock } from './clock.js';
import { parseRetryAfter } from './clock.js';
import type { RefreshableCredential } from './graph-client.js';

export type GraphMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface GraphHttpRequest {
  readonly method: GraphMethod;
  /** Path under the version (`/users`) or an absolute `@odata.nextLink`. */
  readonly url: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface GraphHttpResponse {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** No answer came back: the request may or may not have reached Graph. */
export class TransportError extends Error {
  constructor(
    readonly kind: 'network' | 'auth',
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export interface TransportCounters {
  requests: number;
  throttled: number;
  retries: number;
  tokenRefreshes: number;
  longestRetryAfterMs: number;
}

export interface GraphTransport {
  readonly clock: Clock;
  readonly counters: TransportCounters;
  send(request: GraphHttpRequest): Promise<GraphHttpResponse>;
  get(url: string, headers?: Readonly<Record<string, string>>): Promise<GraphHttpResponse>;
  /** The credential generation now in use (see RefreshableCredential). */
  readonly credentialGeneration: number;
  /** Refreshes the credential unless a refresh happened since `generation`. */
  refreshCredential(generation: number): void;
  /** Graph's clock at the latest answer that carried a `Date` header; undefined before one. */
  serverClock(): ServerClockReading | undefined;
}

/** Graph's `Date` header (ms, 1 s resolution) and the local clock when it arrived. */
export interface ServerClockReading {
  readonly serverTime: number;
  readonly localTime: number;
}

/**
 * Graph's time now by the latest reading: the local clock corrected by the measured offset.
 * Without a reading, the local clock (the apply reads the tenant, so it has one before writing).
 */
export function graphNow(transport: GraphTransport): number {
  const local = transport.clock.now();
  const reading = transport.serverClock();
  return reading === undefined ? local : local - (reading.localTime - reading.serverTime);
}

export interface TransportOptions {
  readonly clock: Clock;
  /** Sent on every request, e.g. `x-ms-throttle-priority: low` for the daemon. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Retries of an idempotent read. Default 5. */
  readonly readRetries?: number;
}

/** Sends of one request (read or write) before a run of 429s is final. */
export const DEFAULT_MAX_THROTTLED_ATTEMPTS = 12;

/** 202 Accepted on a read: Graph under load has not served it yet (GR2); ask again. */
export const RETRYABLE_READ_STATUSES: ReadonlySet<number> = new Set([202, 429, 503, 504]);

export function createGraphTransport(
  client: Client,
  credential: RefreshableCredential | undefined,
  options: TransportOptions,
): GraphTransport {
  const clock = options.clock;
  const counters: TransportCounters = {
    requests: 0,
    throttled: 0,
    retries: 0,
    tokenRefreshes: 0,
    longestRetryAfterMs: 0,
  };
  const common = options.headers ?? {};
  let lastServerClock: ServerClockReading | undefined;

  const refreshCredential = (generation: number): void => {
    if (credential === undefined || credential.generation !== generation) return;
    credential.refresh(generation);
    counters.tokenRefreshes += 1;
  };

  async function sendOnce(request: GraphHttpRequest): Promise<GraphHttpResponse> {
    counters.requests += 1;
    let builder = client.api(request.url).responseType(ResponseType.RAW);
    for (const [name, value] of Object.entries({ ...common, ...request.headers })) {
      builder = builder.header(name, value);
    }
    let raw: unknown;
    try {
      switch (request.method) {
        case 'GET':
          raw = await builder.get();
          break;
        case 'POST':
          raw = await builder.post(request.body ?? {});
          break;
        case 'PATCH':
          raw = await builder.patch(request.body ?? {});
          break;
        case 'PUT':
          raw = await builder.put(request.body ?? {});
          break;
        case 'DELETE':
          raw = await builder.delete();
          break;
      }
    } catch (err) {
      throw toTransportError(err);
    }
    const response = raw as Response;
    // The local time is taken when the headers arrive, before the body is read.
    const serverTime = Date.parse(response.headers.get('date') ?? '');
    if (!Number.isNaN(serverTime)) lastServerClock = { serverTime, localTime: clock.now() };
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw toTransportError(err);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    if (response.status === 429) {
      counters.throttled += 1;
      noteRetryAfter(headers['retry-after']);
    }
    return { status: response.status, headers, body };
  }

  function noteRetryAfter(value: string | undefined): void {
    const ms = parseRetryAfter(value, clock.now());
    if (ms !== undefined && ms > counters.longestRetryAfterMs) counters.longestRetryAfterMs = ms;
  }

  async function send(request: GraphHttpRequest): Promise<GraphHttpResponse> {
    const generation = credential?.generation ?? 0;
    const first = await sendOnce(request);
    if (first.status !== 401 || credential === undefined) return first;
    refreshCredential(generation);
    counters.retries += 1;
    return sendOnce(request);
  }

  async function get(
    url: string,
    headers?: Readonly<Record<string, string>>,
  ): Promise<GraphHttpResponse> {
    // cockatiel decides whether to retry; the wait itself runs on the injected clock at the
    // start of the next attempt, because cockatiel's own delay is a real setTimeout (a
    // simulated 300 s Retry-After must take no real time in tests and benchmarks).
    let pendingWaitMs = 0;
    let backoff: IBackoff<unknown> | undefined;
    const exponential = new ExponentialBackoff({ initialDelay: 500, maxDelay: 30_000 });
    // 429s and other failures are counted apart: a throttling storm gets the attempts writes
    // get, other failures `readRetries`.
    const maxOther = options.readRetries ?? 5;
    let throttled = 0;
    let other = 0;
    const policy = retry(
      handleWhen(
        (err) => err instanceof TransportError && err.kind === 'network' && ++other <= maxOther,
      ).orWhenResult((value) => {
        const status = (value as GraphHttpResponse).status;
        if (!RETRYABLE_READ_STATUSES.has(status)) return false;
        return status === 429 ? ++throttled < DEFAULT_MAX_THROTTLED_ATTEMPTS : ++other <= maxOther;
      }),
      { maxAttempts: maxOther + DEFAULT_MAX_THROTTLED_ATTEMPTS },
    );
    policy.onRetry((event) => {
      counters.retries += 1;
      backoff = backoff ? backoff.next(undefined) : exponential.next();
      const asked =
        'value' in event
          ? parseRetryAfter((event.value as GraphHttpResponse).headers['retry-after'], clock.now())
          : undefined;
      pendingWaitMs = Math.max(backoff.duration, asked ?? 0);
    });
    return policy.execute(async () => {
      if (pendingWaitMs > 0) {
        const wait = pendingWaitMs;
        pendingWaitMs = 0;
        await clock.sleep(wait);
      }
      return send({ method: 'GET', url, ...(headers ? { headers } : {}) });
    });
  }

  return {
    clock,
    counters,
    send,
    get,
    get credentialGeneration() {
      return credential?.generation ?? 0;
    },
    refreshCredential,
    serverClock: () => lastServerClock,
  };
}

/** What the SDK threw when no HTTP answer came: a network failure or a credential failure. */
function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const name = err instanceof GraphError ? (err.code ?? '') : ((err as Error | null)?.name ?? '');
  const message = err instanceof Error ? err.message : String(err);
  if (/Authentication|Credential|AuthenticationRequired/i.test(name)) {
    // The cause is kept for the CLI's one-line report of an AuthenticationFailure.
    return new TransportError('auth', name, `no token for Microsoft Graph: ${firstLine(message)}`, {
      cause: err,
    });
  }
  return new TransportError(
    'network',
    'network',
    `no answer from Microsoft Graph: ${firstLine(message)}`,
  );
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).slice(0, 300);
}

/** Graph's `error.code` and `error.message` from an error body, if it has them. */
export function graphErrorOf(body: unknown): {
  code?: string;
  message?: string;
  detailCodes: string[];
} {
  const error =
    typeof body === 'object' && body !== null
      ? ((body as { error?: unknown }).error as
          { code?: unknown; message?: unknown; details?: unknown } | undefined)
      : undefined;
  const details = Array.isArray(error?.details)
    ? (error.details as { code?: unknown }[])
        .map((d) => d.code)
        .filter((c): c is string => typeof c === 'string')
    : [];
  return {
    ...(typeof error?.code === 'string' ? { code: error.code } : {}),
    ...(typeof error?.message === 'string' ? { message: error.message } : {}),
    detailCodes: details,
  };
}
