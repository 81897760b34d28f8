/**
 * Many paged reads through JSON batching (issue 24): each read (a managed group's members, say)
 * is a paged collection read with the same guarantees as readAll (read-tenant.ts), but its pages
 * travel 20 to a `$batch` and several batches are in flight, so 2,000 groups cost about 100
 * round trips instead of 2,000 one after another.
 *
 * - Pages of one read are taken in order: a read's next page (its `@odata.nextLink`, made
 *   relative to the version as batch items must be) joins a later batch; big groups are followed
 *   to their last page.
 * - G8/G16 as readAll: a page that fails (5xx other than 503/504, no `value` array, a nextLink
 *   seen before) throws that read's pages away and reads it again from its first page, at most
 *   READ_RESTARTS times, then the whole read fails; a 400/403/404 fails it at once. Only a read
 *   that reached its last page cleanly is returned.
 * - Throttling: Graph does not retry inside a batch (json-batching page). An item answering 429,
 *   503 or 504 is sent again in a later batch after the larger of its `Retry-After` and an
 *   exponential backoff (the transport's attempt caps: 12 sends for 429s, 5 retries for the
 *   others); a whole batch refused (429, 503, 504, no answer) sends all its items again. A 429
 *   halves the batches in flight; `x-ms-throttle-limit-percentage` at 0.8 or more takes one away.
 * - A 401 on an item refreshes the credential (once per generation) and sends it again.
 */
import { TenantReadError } from '../../engine/errors.js';
import { parseRetryAfter } from './clock.js';
import type { GraphHttpResponse, GraphTransport } from './transport.js';
import { DEFAULT_MAX_THROTTLED_ATTEMPTS, TransportError, graphErrorOf } from './transport.js';

/** Graph's limit of requests in one `$batch`. */
export const BATCH_SIZE = 20;
/** Batches in flight at once, before any throttling signal. */
export const DEFAULT_BATCHES_IN_FLIGHT = 10;
/** Retries of an item after 503/504/401/no answer (as the transport's `readRetries`). */
const OTHER_RETRIES = 5;

export interface BatchedRead {
  /** The key the result is returned under (a group id). */
  readonly key: string;
  /** The first page, relative to the version: `/groups/{id}/members?$select=id`. */
  readonly first: string;
  /** Names the read in errors: `members of group Sales`. */
  readonly what: string;
}

export interface BatchedReadOptions {
  readonly batchesInFlight?: number;
  /** How often a read that broke off is read again from its first page. */
  readonly restarts: number;
}

interface ReadState {
  readonly read: BatchedRead;
  url: string;
  page: number;
  seen: Set<string>;
  items: Record<string, unknown>[];
  restarts: number;
  throttled: number;
  other: number;
  notBefore: number;
  backoffMs: number;
}

interface Pool {
  readonly transport: GraphTransport;
  readonly options: BatchedReadOptions;
  readonly ready: ReadState[];
  readonly results: Map<string, Record<string, unknown>[]>;
  readonly max: number;
  limit: number;
  /** Batches answered without a throttling signal since the limit last changed. */
  clean: number;
}

/** Every read's items, keyed by `key`, or TenantReadError (see the module comment). */
export async function readAllBatched(
  transport: GraphTransport,
  reads: readonly BatchedRead[],
  options: BatchedReadOptions,
): Promise<Map<string, Record<string, unknown>[]>> {
  const pool: Pool = {
    transport,
    options,
    ready: reads.map((read) => ({
      read,
      url: read.first,
      page: 1,
      seen: new Set(),
      items: [],
      restarts: 0,
      throttled: 0,
      other: 0,
      notBefore: 0,
      backoffMs: 500,
    })),
    results: new Map(),
    max: Math.max(1, options.batchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT),
    limit: Math.max(1, options.batchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT),
    clean: 0,
  };
  let active = 0;
  let failed = false;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (failed) return;
      if (pool.ready.length === 0 && active === 0) {
        resolve();
        return;
      }
      while (active < pool.limit && pool.ready.length > 0) {
        // Due items first, so a waiting retry does not hold back pages that may go now.
        pool.ready.sort((a, b) => a.notBefore - b.notBefore);
        const chunk = pool.ready.splice(0, BATCH_SIZE);
        active += 1;
        sendChunk(pool, chunk).then(
          () => {
            active -= 1;
            pump();
          },
          (error: unknown) => {
            failed = true;
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }
    };
    pump();
  });
  return pool.results;
}

async function sendChunk(pool: Pool, chunk: ReadState[]): Promise<void> {
  const { transport } = pool;
  const clock = transport.clock;
  const wait = Math.max(...chunk.map((s) => s.notBefore)) - clock.now();
  if (wait > 0) await clock.sleep(wait);
  const generation = transport.credentialGeneration;
  let response: GraphHttpResponse;
  try {
    response = await transport.send({
      method: 'POST',
      url: '/$batch',
      headers: { 'Content-Type': 'application/json' },
      body: {
        requests: chunk.map((s, index) => ({ id: String(index), method: 'GET', url: s.url })),
      },
    });
  } catch (error) {
    if (error instanceof TransportError && error.kind === 'network') {
      for (const s of chunk) again(pool, s, 'other', undefined, error.message);
      return;
    }
    throw error;
  }
  observe(pool, response.headers);
  if (response.status !== 200) {
    const graph = graphErrorOf(response.body);
    const cause = `${response.status} ${graph.code ?? ''}: ${graph.message ?? ''}`;
    if (response.status === 429 || response.status === 503 || response.status === 504) {
      for (const s of chunk) {
        again(pool, s, response.status === 429 ? 'throttled' : 'other', response, cause);
      }
      return;
    }
    throw new TenantReadError(
      `reading ${chunk[0]?.read.what ?? 'a batch'} failed: the $batch was refused (${cause}); no plan is made from a partial tenant`,
    );
  }
  const answers = new Map<string, Record<string, unknown>>();
  const body = response.body as { responses?: unknown } | undefined;
  for (const item of Array.isArray(body?.responses) ? (body.responses as unknown[]) : []) {
    const record = item as Record<string, unknown>;
    answers.set(String(record['id']), record);
  }
  const limitBefore = pool.limit;
  chunk.forEach((s, index) => {
    itemAnswer(pool, s, answers.get(String(index)), generation);
  });
  // Gradual recovery after a throttling signal: one batch more per five clean ones.
  if (pool.limit < limitBefore) pool.clean = 0;
  else if (pool.limit < pool.max && ++pool.clean >= 5) {
    pool.limit += 1;
    pool.clean = 0;
  }
}

function itemAnswer(
  pool: Pool,
  s: ReadState,
  answer: Record<string, unknown> | undefined,
  generation: number,
): void {
  if (answer === undefined) {
    again(pool, s, 'other', undefined, 'the $batch answer has no response for it');
    return;
  }
  const status = Number(answer['status']);
  const headers = lowerCased(answer['headers']);
  const item: GraphHttpResponse = { status, headers, body: answer['body'] };
  observe(pool, headers);
  const graph = graphErrorOf(item.body);
  const cause = `reading ${s.read.what} failed on page ${s.page} (${status} ${graph.code ?? ''}: ${graph.message ?? ''})`;
  if (status === 429 || status === 503 || status === 504) {
    again(pool, s, status === 429 ? 'throttled' : 'other', item, cause);
    return;
  }
  if (status === 401) {
    pool.transport.refreshCredential(generation);
    again(pool, s, 'other', undefined, cause);
    return;
  }
  if (status >= 500) {
    partial(pool, s, cause);
    return;
  }
  if (status !== 200) throw new TenantReadError(`${cause}; no plan is made from a partial tenant`);
  const page = item.body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
  if (!page || !Array.isArray(page.value)) {
    partial(pool, s, `reading ${s.read.what}: page ${s.page} has no "value" array`);
    return;
  }
  s.items.push(...(page.value as Record<string, unknown>[]));
  const next = page['@odata.nextLink'];
  if (typeof next !== 'string') {
    pool.results.set(s.read.key, s.items);
    return;
  }
  const relative = relativeToVersion(next);
  if (s.seen.has(relative) || relative === s.url) {
    partial(pool, s, `reading ${s.read.what}: @odata.nextLink repeats on page ${s.page}`);
    return;
  }
  s.seen.add(relative);
  s.url = relative;
  s.page += 1;
  s.throttled = 0;
  s.other = 0;
  pool.ready.push(s);
}

/** Sends `s` again after a wait, or fails the read when its attempts are spent. */
function again(
  pool: Pool,
  s: ReadState,
  kind: 'throttled' | 'other',
  response: GraphHttpResponse | undefined,
  cause: string,
): void {
  const { transport } = pool;
  const clock = transport.clock;
  transport.counters.retries += 1;
  if (kind === 'throttled') {
    transport.counters.throttled += 1;
    pool.limit = Math.max(1, Math.floor(pool.limit / 2));
    s.throttled += 1;
    if (s.throttled >= DEFAULT_MAX_THROTTLED_ATTEMPTS) {
      throw new TenantReadError(
        `${cause}: still throttled after ${s.throttled} sends; no plan is made from a partial tenant`,
      );
    }
  } else {
    s.other += 1;
    if (s.other > OTHER_RETRIES) {
      partial(pool, s, cause);
      return;
    }
  }
  const asked = parseRetryAfter(response?.headers['retry-after'], clock.now());
  const jitter = Math.random() * 0.25 * s.backoffMs;
  const waitMs = Math.max(asked ?? 0, Math.min(30_000, s.backoffMs + jitter));
  if (asked !== undefined && asked > transport.counters.longestRetryAfterMs) {
    transport.counters.longestRetryAfterMs = asked;
  }
  s.backoffMs = Math.min(30_000, s.backoffMs * 2);
  s.notBefore = clock.now() + waitMs;
  pool.ready.push(s);
}

/** The read broke off: read it again from its first page, or fail when restarts are spent. */
function partial(pool: Pool, s: ReadState, cause: string): void {
  if (s.restarts >= pool.options.restarts) {
    throw new TenantReadError(
      `${cause} (read ${s.restarts + 1} times from the first page); no plan is made from a partial tenant`,
    );
  }
  s.restarts += 1;
  s.url = s.read.first;
  s.page = 1;
  s.seen = new Set();
  s.items = [];
  s.throttled = 0;
  s.other = 0;
  pool.ready.push(s);
}

/** `x-ms-throttle-limit-percentage` at 0.8 or more (of a limit used): one batch fewer. */
function observe(pool: Pool, headers: Readonly<Record<string, string>>): void {
  const raw = headers['x-ms-throttle-limit-percentage'];
  if (raw === undefined) return;
  const value = Number(raw);
  const used = value > 2 ? value / 100 : value;
  if (Number.isFinite(used) && used >= 0.8) pool.limit = Math.max(1, pool.limit - 1);
}

/** A nextLink (absolute, `https://graph.microsoft.com/v1.0/...`) as a batch item's URL. */
export function relativeToVersion(link: string): string {
  const index = link.indexOf('/v1.0/');
  return index === -1 ? link : link.slice(index + '/v1.0'.length);
}

function lowerCased(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    out[name.toLowerCase()] = String(value);
  }
  return out;
}
