/**
 * One HTTP exchange with bounded retries: undici for the request, cockatiel for the retry policy.
 *
 * Contract of `send`:
 * - It never throws. It returns the final response (any status, body read as text) or a
 *   transport failure (network error, timeout, body too large) after the retries it allows.
 * - Retries happen only where repeating the request cannot do harm: GET on 408, 429, 500, 502,
 *   503, 504, a timeout or a network error; POST only on 429, which says the server did not
 *   process it. Everything else is returned at once.
 * - `Retry-After` (seconds or an HTTP date) is a floor on the wait: the backoff is the larger of
 *   it and cockatiel's exponential backoff. A `Retry-After` above `maxRetryAfterSeconds` is not
 *   retried at all, and the outcome says so: retrying early would ignore the server, and
 *   waiting without a cap could hold a run for hours.
 * - Redirects are not followed (undici's `request` does not, and no interceptor is added): a
 *   redirect would carry the Authorization header to wherever it points.
 * - A request never runs longer than `timeoutMs`, headers and body together, and a body larger
 *   than `maxBodyBytes` is cut off and reported.
 */
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from 'cockatiel';
import { Agent, request } from 'undici';

/** Response headers as undici gives them: lower-case names. */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly text: string;
}

export type SendOutcome =
  | {
      readonly ok: true;
      readonly response: HttpResponse;
      readonly attempts: number;
      /** Set when a retryable answer was not retried because its Retry-After exceeds the cap. */
      readonly retryAfterRefusedSeconds?: number;
    }
  | { readonly ok: false; readonly reason: string; readonly attempts: number };

export interface RetrySettings {
  /** Retries after the first try. */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetryAfterSeconds: number;
}

export interface HttpClientSettings {
  readonly timeoutMs: number;
  readonly retry: RetrySettings;
  readonly maxBodyBytes: number;
}

export interface HttpClient {
  send(req: HttpRequest): Promise<SendOutcome>;
  /** Closes the connection pool; the client is unusable afterwards. */
  close(): Promise<void>;
}

export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Thrown inside an attempt when the body exceeds the limit; never retried. */
class BodyTooLargeError extends Error {}

export function createHttpClient(settings: HttpClientSettings): HttpClient {
  const agent = new Agent({
    connect: { timeout: settings.timeoutMs },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  });
  const maxRetryAfterMs = settings.retry.maxRetryAfterSeconds * 1000;

  async function attempt(req: HttpRequest): Promise<HttpResponse> {
    const signal = AbortSignal.timeout(settings.timeoutMs);
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      signal,
      dispatcher: agent,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > settings.maxBodyBytes) {
        res.body.destroy();
        throw new BodyTooLargeError(
          `the response body exceeds ${Math.round(settings.maxBodyBytes / 1024 / 1024)} MiB`,
        );
      }
      chunks.push(chunk);
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      text: Buffer.concat(chunks, size).toString('utf8'),
    };
  }

  return {
    async send(req) {
      const idempotent = req.method === 'GET';
      let attempts = 0;
      let refused: number | undefined;
      const shouldRetry = (value: unknown): boolean => {
        const res = value as HttpResponse;
        if (!TRANSIENT_STATUSES.has(res.status)) return false;
        if (!idempotent && res.status !== 429) return false;
        const wait = retryAfterMs(res.headers);
        if (wait !== undefined && wait > maxRetryAfterMs) {
          refused = Math.ceil(wait / 1000);
          return false;
        }
        return true;
      };
      const policy = retry(
        handleWhen((err) => idempotent && !(err instanceof BodyTooLargeError)).orWhenResult(
          shouldRetry,
        ),
        {
          maxAttempts: settings.retry.attempts,
          backoff: honourRetryAfter(
            new ExponentialBackoff({
              initialDelay: settings.retry.initialDelayMs,
              maxDelay: settings.retry.maxDelayMs,
            }),
          ),
        },
      );
      try {
        const response = await policy.execute(() => {
          attempts++;
          refused = undefined;
          return attempt(req);
        });
        return {
          ok: true,
          response,
          attempts,
          ...(refused === undefined ? {} : { retryAfterRefusedSeconds: refused }),
        };
      } catch (err) {
        return { ok: false, reason: describeTransportError(err, settings.timeoutMs), attempts };
      }
    },
    close: () => agent.close(),
  };
}

/**
 * Wraps a backoff so each delay is at least what the last response's `Retry-After` asked for.
 * The cap is enforced before this point (such a response is not retried), so the wait here is
 * never longer than `maxRetryAfterSeconds`.
 */
function honourRetryAfter(
  inner: IBackoffFactory<unknown>,
): IBackoffFactory<IRetryBackoffContext<unknown>> {
  return {
    next(context): IBackoff<IRetryBackoffContext<unknown>> {
      const step = inner.next(context);
      const asked =
        'value' in context.result
          ? retryAfterMs((context.result.value as HttpResponse).headers)
          : 0;
      return {
        duration: Math.max(step.duration, asked ?? 0),
        next: (c) => honourRetryAfter(step).next(c),
      };
    },
  };
}

/** `Retry-After` in milliseconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(
  headers: ResponseHeaders,
  now: number = Date.now(),
): number | undefined {
  const raw = headers['retry-after'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function describeTransportError(err: unknown, timeoutMs: number): string {
  if (err instanceof BodyTooLargeError) return err.message;
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || /Timeout/.test(e.code ?? '')) {
    return `no complete answer within ${timeoutMs / 1000} s`;
  }
  const cause = e.cause as { code?: string; message?: string } | undefined;
  const code = cause?.code ?? e.code;
  const message = cause?.message ?? e.message ?? String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
