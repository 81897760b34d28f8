/**
 * A window on the search responses ldapts parses, for the one thing `searchPaginated` hides.
 *
 * ldapts asks for the next page only when the page it got held an entry or a reference. RFC 2696
 * lets a server answer a page with no entries and a cookie saying "more follows" (AD can, under
 * load or with sparse filters). ldapts then ends the search as if it were done, and a caller would
 * see a shorter list. Watching the final response of each page tells the two apart: an empty page
 * with a cookie makes the source incomplete. The same window shows one more way a server can
 * end a paged search early while saying Success (ldap-source.ts decides what it means): a final
 * response without any paged-results control (S14). A cookie handed back again (S15) is told by
 * the entries, not here: Samba and AD repeat their context cookie on every page.
 *
 * ldapts has no public hook for this, so the watcher listens to the client's message parser
 * (`messageParser`, an EventEmitter). ldapts is pinned to an exact version, and a test fails if
 * the field moves; until then, `watchSearchResponses` returns `false` and the read carries on
 * without this one check.
 */
import type { EventEmitter } from 'node:events';
import { PagedResultsControl, SearchResponse } from 'ldapts';

export interface SearchDone {
  readonly messageId: number;
  readonly status: number;
  readonly entries: number;
  readonly references: number;
  /** Bytes in the paged-results cookie of the response; 0 means the server is done. */
  readonly cookieLength: number;
  /** Whether the response carried a paged-results control at all (S14). */
  readonly pagedControl: boolean;
}

/** Calls `onDone` for every search's final response; returns whether it could attach. */
export function watchSearchResponses(client: object, onDone: (done: SearchDone) => void): boolean {
  const parser = (client as unknown as { messageParser?: EventEmitter }).messageParser;
  if (!parser || typeof parser.on !== 'function') return false;
  parser.on('message', (message: unknown) => {
    if (!(message instanceof SearchResponse)) return;
    let cookieLength = 0;
    let pagedControl = false;
    for (const control of message.controls ?? []) {
      if (!(control instanceof PagedResultsControl)) continue;
      pagedControl = true;
      cookieLength = control.value?.cookie?.length ?? 0;
    }
    onDone({
      messageId: message.messageId,
      status: message.status,
      entries: message.searchEntries.length,
      references: message.searchReferences.length,
      cookieLength,
      pagedControl,
    });
  });
  return true;
}
