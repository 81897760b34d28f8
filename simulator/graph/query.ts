/**
 * `$orderby` and `$search` on directory objects, as the advanced-queries page documents them:
 *
 * - `$search` works only with `ConsistencyLevel: eventual` (else Graph's 400
 *   `Request_UnsupportedQuery` "Request with $search query parameter only works through MSGraph
 *   with a special request header: 'ConsistencyLevel: eventual'"); clauses are
 *   `"property:text"`, joined by `AND` / `OR`; `displayName` and `description` are tokenized
 *   (a clause matches a word that starts with the text: `"displayName:wa"` finds "Oscar Ward"),
 *   other string properties match from their start.
 * - `$orderby` on a property ordered by default (users' `displayName`, `userPrincipalName`) works
 *   alone; combined with `$filter` or `$search`, or on a property ordered only with advanced
 *   queries, it needs `ConsistencyLevel: eventual` and `$count=true` (else 400 "Sorting not
 *   supported for current query."). A property the simulator does not order by answers 501.
 *
 * Both read the whole matching set and page it by offset: O(matches) per page, unlike the
 * keyset pages of plain lists (fine for test tenants; the README says so).
 */
import { GraphError, graphErrors } from '../errors.js';
import type { DirectoryDocument } from '../store.js';

export type OrderSupport = 'default' | 'advanced';

export interface OrderBy {
  readonly property: string;
  readonly descending: boolean;
}

export function searchNeedsConsistency(): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
  );
}

export function sortingNotSupported(): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    'Sorting not supported for current query.',
  );
}

/**
 * Parses `$orderby=prop [asc|desc]` (one property). `combined`: the request also filters or
 * searches. `advanced`: ConsistencyLevel eventual and `$count=true`.
 */
export function parseOrderBy(
  raw: string | undefined,
  orderable: Readonly<Record<string, OrderSupport>>,
  canonical: (name: string) => string | undefined,
  typeName: string,
  options: { readonly advanced: boolean; readonly combined: boolean },
): OrderBy | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const clauses = raw.split(',').map((c) => c.trim());
  if (clauses.length > 1) throw graphErrors.notImplemented('$orderby on more than one property');
  const [name = '', direction = 'asc', extra] = (clauses[0] ?? '').split(/\s+/);
  const dir = direction.toLowerCase();
  if (extra !== undefined || (dir !== 'asc' && dir !== 'desc')) {
    throw new GraphError(400, 'BadRequest', `Syntax error in $orderby: '${raw}'.`);
  }
  const property = canonical(name);
  if (property === undefined) throw graphErrors.unknownSelectProperty(name, typeName);
  const support = orderable[property];
  if (support === undefined) throw graphErrors.notImplemented(`$orderby on '${property}'`);
  if ((support === 'advanced' || options.combined) && !options.advanced) {
    throw sortingNotSupported();
  }
  return { property, descending: dir === 'desc' };
}

/** Sorts in place: values compared case-insensitively, missing values last (first when desc). */
export function sortDocs<T>(
  items: T[],
  order: OrderBy,
  docOf: (item: T) => DirectoryDocument,
): T[] {
  const key = (item: T): string | undefined => {
    const value = docOf(item)[order.property];
    return value === null || value === undefined ? undefined : String(value).toLowerCase();
  };
  const sign = order.descending ? -1 : 1;
  return items.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (x === y) return 0;
    if (x === undefined) return sign;
    if (y === undefined) return -sign;
    return x < y ? -sign : sign;
  });
}

interface SearchClause {
  readonly property: string;
  readonly text: string;
}

/** `AND` binds tighter than `OR`: an OR of AND-groups of clauses. */
type SearchTree = readonly (readonly SearchClause[])[];

const TOKENIZED = new Set(['displayName', 'description']);

/**
 * Parses `$search` into a predicate. `searchable` maps a property name (any case) to the
 * canonical names the simulator searches.
 */
export function parseSearch(
  raw: string,
  searchable: ReadonlySet<string>,
  canonical: (name: string) => string | undefined,
  typeName: string,
): (doc: DirectoryDocument) => boolean {
  const tree = parseSearchTree(raw, (property) => {
    const name = canonical(property);
    if (name === undefined) throw graphErrors.unknownSelectProperty(property, typeName);
    if (!searchable.has(name)) throw graphErrors.notImplemented(`$search on '${name}'`);
    return name;
  });
  return (doc) => tree.some((group) => group.every((clause) => matches(doc, clause)));
}

function parseSearchTree(raw: string, resolve: (property: string) => string): SearchTree {
  const tokens = raw.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  const groups: SearchClause[][] = [[]];
  let expectClause = true;
  for (const token of tokens) {
    if (!expectClause && (token === 'OR' || token === 'AND')) {
      if (token === 'OR') groups.push([]);
      expectClause = true;
      continue;
    }
    if (!expectClause || !token.startsWith('"') || !token.endsWith('"') || token.length < 2) {
      throw invalidSearch(raw);
    }
    const body = token.slice(1, -1).replace(/\\(.)/g, '$1');
    const colon = body.indexOf(':');
    if (colon <= 0) throw invalidSearch(raw);
    groups.at(-1)?.push({
      property: resolve(body.slice(0, colon).trim()),
      text: body
        .slice(colon + 1)
        .trim()
        .toLowerCase(),
    });
    expectClause = false;
  }
  if (expectClause) throw invalidSearch(raw);
  return groups;
}

function invalidSearch(raw: string): GraphError {
  // Graph documents the "property:text" form; its wording for other forms is not documented.
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    `The entrasync simulator accepts $search only as "property:text" clauses joined by AND or OR, as Graph documents for directory objects: '${raw}'.`,
  );
}

function matches(doc: DirectoryDocument, clause: SearchClause): boolean {
  const value = doc[clause.property];
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => {
    if (typeof v !== 'string') return false;
    const lower = v.toLowerCase();
    if (!TOKENIZED.has(clause.property)) return lower.startsWith(clause.text);
    return wordStarts(v).some((i) => lower.startsWith(clause.text, i));
  });
}

/** Indexes where a word starts: after a space or symbol, and at a lower-to-upper case change. */
function wordStarts(value: string): number[] {
  const starts: number[] = [];
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i] ?? '';
    const prev = i === 0 ? '' : (value[i - 1] ?? '');
    if (!/[\p{L}\p{N}]/u.test(c)) continue;
    if (i === 0 || !/[\p{L}\p{N}]/u.test(prev) || (/\p{Lu}/u.test(c) && /\p{Ll}/u.test(prev))) {
      starts.push(i);
    }
  }
  return starts;
}
