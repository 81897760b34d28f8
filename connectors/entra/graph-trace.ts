/**
 * A Graph SDK middleware that reports each request sent to Microsoft Graph as plain data, for
 * the CLI's `--log-level debug` trace (issue 22).
 *
 * Contract: a trace holds the method, the path (query values of `$skiptoken` and `$deltatoken`
 * elided: they are read cursors, long and useless in a log), the status (absent when no answer
 * came), the duration in ms and Graph's `request-id` and our `client-request-id`. Never a
 * header value other than those two ids (the `Authorization` header holds the bearer token),
 * never a request or response body (bodies carry passwords of new accounts). One trace per
 * HTTP exchange: a `$batch` is one trace.
 */
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

export interface GraphRequestTrace {
  readonly method: string;
  readonly path: string;
  /** Absent: no answer (network error, no token). */
  readonly status?: number;
  readonly durationMs: number;
  /** Graph's id of the request (`request-id` response header). */
  readonly requestId?: string;
  /** The id the SDK sent (`client-request-id`), which Graph echoes. */
  readonly clientRequestId?: string;
  /** Why no answer came: the error's name and first line. */
  readonly error?: string;
}

export type GraphRequestObserver = (trace: GraphRequestTrace) => void;

const ELIDED_QUERY = new Set(['$skiptoken', '$deltatoken']);

export class GraphTraceHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly observe: GraphRequestObserver,
    private readonly now: () => number = () => performance.now(),
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    if (this.next === undefined) throw new Error('GraphTraceHandler needs a next middleware');
    const started = this.now();
    const request = context.request;
    const url = typeof request === 'string' ? request : request.url;
    const method = (
      context.options?.method ?? (typeof request === 'string' ? 'GET' : request.method)
    ).toUpperCase();
    const clientRequestId = headerOf(context.options?.headers, 'client-request-id');
    const base = {
      method,
      path: tracePath(url),
      ...(clientRequestId === undefined ? {} : { clientRequestId }),
    };
    try {
      await this.next.execute(context);
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${firstLine(err.message)}` : 'error';
      this.report({ ...base, durationMs: this.elapsed(started), error });
      throw err;
    }
    const response = context.response;
    const requestId = response?.headers.get('request-id') ?? undefined;
    this.report({
      ...base,
      ...(response === undefined ? {} : { status: response.status }),
      durationMs: this.elapsed(started),
      ...(requestId === undefined ? {} : { requestId }),
    });
  }

  private elapsed(started: number): number {
    return Math.round(this.now() - started);
  }

  private report(trace: GraphRequestTrace): void {
    try {
      this.observe(trace);
    } catch {
      // A failing log must not fail the request it describes.
    }
  }
}

/** The URL's path and query, cursor values elided; not a URL: as given. */
export function tracePath(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  for (const key of [...parsed.searchParams.keys()]) {
    if (ELIDED_QUERY.has(key.toLowerCase())) parsed.searchParams.set(key, '…');
  }
  const path = `${parsed.pathname}${parsed.search}`;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (Array.isArray(headers)) {
    const entry = (headers as [string, string][]).find(([k]) => k.toLowerCase() === name);
    return entry?.[1];
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
