/**
 * Plain request/response data between node:https and the simulator's handlers, so handlers are
 * functions of data and the one place that touches sockets is the router.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { graphErrors } from './errors.js';

export interface SimRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The simulator's id for this request (Graph's `request-id`). */
  readonly requestId: string;
  /** The caller's `client-request-id`, or `requestId` when it sent none (as Graph does). */
  readonly clientRequestId: string;
}

export interface SimResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialised as JSON; absent for bodiless responses (204). */
  readonly body?: unknown;
  /** A plain-text body instead of JSON (`/users/$count`). */
  readonly text?: string;
}

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Reads the whole body; undefined when it exceeds `MAX_BODY_BYTES`. */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

export function header(req: SimRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The body as a JSON object. Graph answers a missing or non-JSON content type and an
 * unparsable or non-object payload with the same 400.
 */
export function jsonObjectBody(req: SimRequest): Record<string, unknown> {
  const contentType = header(req, 'content-type') ?? '';
  if (!/^application\/json\b/i.test(contentType)) throw graphErrors.unreadableJson();
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw graphErrors.unreadableJson();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw graphErrors.unreadableJson();
  }
  return parsed as Record<string, unknown>;
}

export function writeResponse(
  res: ServerResponse,
  response: SimResponse,
  extraHeaders: Readonly<Record<string, string>>,
): void {
  const headers: Record<string, string> = { ...extraHeaders, ...response.headers };
  if (response.text !== undefined) {
    const payload = Buffer.from(response.text, 'utf8');
    headers['Content-Type'] = 'text/plain';
    headers['Content-Length'] = String(payload.length);
    res.writeHead(response.status, headers);
    res.end(payload);
    return;
  }
  if (response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(response.body), 'utf8');
  headers['Content-Type'] ??= 'application/json; charset=utf-8';
  headers['Content-Length'] = String(payload.length);
  res.writeHead(response.status, headers);
  res.end(payload);
}
