/**
 * JSON batching: `POST /$batch` with up to 20 requests (json-batching concept page).
 *
 * - A malformed batch (not JSON, no `requests` array, more than 20 requests, a request without
 *   id/method/url, duplicate ids, a `dependsOn` naming an unknown id) is a 400 for the whole
 *   batch; a parseable one answers 200 whatever its items did.
 * - Each item runs through the same pipeline as a top-level request (fault plan, throttling,
 *   permissions, handler), so each is throttled on its own and an inner 429 carries its own
 *   `Retry-After` header in the item. Graph SDKs do not retry inner items; clients must.
 * - Items run in array order, except that an item waits for the items it `dependsOn`; when a
 *   dependency failed (status >= 400), the item is not run and answers 424.
 * - Item URLs are relative to the version: `/users` or `users?$select=id`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { graphErrorBody, graphErrors } from '../errors.js';
import type { SimRequest, SimResponse } from '../http.js';
import { jsonObjectBody } from '../http.js';

export const MAX_BATCH_REQUESTS = 20;

interface BatchItem {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly dependsOn: readonly string[];
}

export interface InnerResponse {
  readonly response: SimResponse;
  readonly requestId: string;
}

/** Runs one inner request through the router's pipeline. */
export type InnerExecutor = (request: SimRequest) => Promise<InnerResponse>;

export async function runBatch(outer: SimRequest, execute: InnerExecutor): Promise<SimResponse> {
  const items = parseBatch(outer);
  const byId = new Map(items.map((item) => [item.id.toLowerCase(), item]));
  const statuses = new Map<string, number>();
  const responses: Record<string, unknown>[] = [];

  const run = async (item: BatchItem, stack: readonly string[]): Promise<void> => {
    const key = item.id.toLowerCase();
    if (statuses.has(key)) return;
    for (const dependency of item.dependsOn) {
      const dep = byId.get(dependency.toLowerCase());
      if (dep === undefined || stack.includes(dependency.toLowerCase())) continue;
      await run(dep, [...stack, key]);
    }
    const failedDependency = item.dependsOn.some(
      (d) => (statuses.get(d.toLowerCase()) ?? 0) >= 400,
    );
    if (failedDependency) {
      const error = graphErrors.failedDependency();
      statuses.set(key, 424);
      responses.push({
        id: item.id,
        status: 424,
        headers: { 'Content-Type': 'application/json' },
        body: graphErrorBody(error, outer.requestId, outer.clientRequestId),
      });
      return;
    }
    const inner = await execute(innerRequest(outer, item));
    statuses.set(key, inner.response.status);
    responses.push({
      id: item.id,
      status: inner.response.status,
      headers: { ...inner.response.headers },
      ...(inner.response.body === undefined ? {} : { body: inner.response.body }),
    });
  };

  for (const item of items) await run(item, []);
  return { status: 200, body: { responses } };
}

function parseBatch(outer: SimRequest): BatchItem[] {
  const body = jsonObjectBody(outer);
  const requests = body['requests'];
  if (!Array.isArray(requests)) {
    throw graphErrors.invalidBatch('Invalid batch payload format.');
  }
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw graphErrors.invalidBatch(
      `Invalid batch payload format. The number of requests exceeds the limit of ${MAX_BATCH_REQUESTS}.`,
    );
  }
  const seen = new Set<string>();
  const items = requests.map((raw: unknown, index): BatchItem => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw graphErrors.invalidBatch(`Invalid batch payload format: requests[${index}].`);
    }
    const entry = raw as Record<string, unknown>;
    const { id, method, url } = entry;
    if (
      typeof id !== 'string' ||
      id === '' ||
      typeof method !== 'string' ||
      typeof url !== 'string'
    ) {
      throw graphErrors.invalidBatch(
        `Invalid batch payload format: requests[${index}] needs id, method and url.`,
      );
    }
    if (seen.has(id.toLowerCase())) {
      throw graphErrors.invalidBatch(`Batch request ids must be unique; '${id}' is repeated.`);
    }
    seen.add(id.toLowerCase());
    const headers = entry['headers'];
    const dependsOn = entry['dependsOn'];
    if (
      headers !== undefined &&
      (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    ) {
      throw graphErrors.invalidBatch(`Invalid batch payload format: requests[${index}].headers.`);
    }
    if (
      dependsOn !== undefined &&
      (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))
    ) {
      throw graphErrors.invalidBatch(`Invalid batch payload format: requests[${index}].dependsOn.`);
    }
    const stringHeaders = Object.fromEntries(
      Object.entries((headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
    if (
      entry['body'] !== undefined &&
      !Object.keys(stringHeaders).some((k) => k.toLowerCase() === 'content-type')
    ) {
      throw graphErrors.invalidBatch(
        `Invalid batch payload format: requests[${index}] has a body but no Content-Type header.`,
      );
    }
    return {
      id,
      method: method.toUpperCase(),
      url,
      headers: stringHeaders,
      body: entry['body'],
      dependsOn: (dependsOn ?? []) as string[],
    };
  });
  for (const item of items) {
    for (const dependency of item.dependsOn) {
      if (!seen.has(dependency.toLowerCase())) {
        throw graphErrors.invalidBatch(
          `Invalid batch payload format: '${item.id}' depends on unknown request '${dependency}'.`,
        );
      }
    }
  }
  return items;
}

function innerRequest(outer: SimRequest, item: BatchItem): SimRequest {
  const relative = item.url.startsWith('/') ? item.url : `/${item.url}`;
  const url = new URL(`/v1.0${relative}`, outer.url.origin);
  const headers: IncomingHttpHeaders = {
    authorization: outer.headers['authorization'],
    'client-request-id': outer.clientRequestId,
  };
  for (const [name, value] of Object.entries(item.headers)) headers[name.toLowerCase()] = value;
  let body: Buffer;
  if (item.body === undefined) body = Buffer.alloc(0);
  else if (typeof item.body === 'string' && !/json/i.test(String(headers['content-type'] ?? ''))) {
    body = Buffer.from(item.body, 'base64');
  } else body = Buffer.from(JSON.stringify(item.body), 'utf8');
  return {
    method: item.method,
    url,
    headers,
    body,
    requestId: outer.requestId,
    clientRequestId: outer.clientRequestId,
  };
}
