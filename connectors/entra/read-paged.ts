/**
 * One paged collection read whole, or not at all (G8, G16): the pages of `@odata.nextLink`
 * followed to the end through the transport's retry policy, a pass that breaks off read again
 * from its first page. Split from read-tenant.ts, which composes the tenant read from it.
 */
import { TenantReadError } from '../../engine/errors.js';
import type { GraphTransport } from './transport.js';
import { graphErrorOf } from './transport.js';

export const PAGE_SIZE = 999;

interface GraphPage {
  value?: Record<string, unknown>[];
  '@odata.nextLink'?: string;
}

/** A 403 on a read whose caller decides what a missing permission means. */
export class ForbiddenRead extends Error {}

/**
 * Every item of a paged collection, or TenantReadError. `forbiddenOk`: a 403 throws
 * ForbiddenRead instead (the caller decides what a missing permission means).
 *
 * A pass that breaks off part-way (a page that still fails after the transport's retries, a
 * 5xx, a page without items, or a nextLink seen before) is thrown away whole and the collection is read again
 * from its first page, at most READ_RESTARTS times: only a pass that reached the last page
 * cleanly is trusted (G8), and a single glitch on page 7 costs one re-read, not the run. A
 * refusal that a re-read cannot change (400, 403, 404) fails at once.
 */
export async function readAll(
  transport: GraphTransport,
  first: string,
  what: string,
  forbiddenOk = false,
): Promise<Record<string, unknown>[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readAllOnce(transport, first, what, forbiddenOk);
    } catch (err) {
      if (!(err instanceof PartialRead)) throw err;
      if (attempt >= READ_RESTARTS) {
        throw new TenantReadError(
          `${err.message} (read ${attempt + 1} times from the first page); no plan is made from a partial tenant`,
          err.cause === undefined ? {} : { cause: err.cause },
        );
      }
    }
  }
}

/** How often a collection whose read broke off part-way is read again from its first page. */
export const READ_RESTARTS = 2;

/** A pass over a collection that broke off part-way: another pass may succeed. */
class PartialRead extends Error {}

async function readAllOnce(
  transport: GraphTransport,
  first: string,
  what: string,
  forbiddenOk: boolean,
): Promise<Record<string, unknown>[]> {
  let url: string | undefined = first;
  const seen = new Set<string>();
  const items: Record<string, unknown>[] = [];
  let page = 0;
  while (url !== undefined) {
    page++;
    let response;
    try {
      response = await transport.get(url);
    } catch (err) {
      throw new PartialRead(
        `reading ${what} failed on page ${page} (${err instanceof Error ? err.message : String(err)})`,
        { cause: err },
      );
    }
    if (response.status === 403 && forbiddenOk) throw new ForbiddenRead(what);
    if (response.status !== 200) {
      const graph = graphErrorOf(response.body);
      const cause = `reading ${what} failed on page ${page} (${response.status} ${graph.code ?? ''}: ${graph.message ?? ''})`;
      if (response.status >= 500) throw new PartialRead(cause);
      throw new TenantReadError(`${cause}; no plan is made from a partial tenant`);
    }
    const body = response.body as GraphPage | undefined;
    if (!body || !Array.isArray(body.value)) {
      throw new PartialRead(`reading ${what}: page ${page} has no "value" array`);
    }
    items.push(...body.value);
    const next: string | undefined = body['@odata.nextLink'];
    if (next !== undefined) {
      if (seen.has(next) || next === url) {
        throw new PartialRead(`reading ${what}: @odata.nextLink repeats on page ${page}`);
      }
      seen.add(next);
    }
    url = next;
  }
  return items;
}
