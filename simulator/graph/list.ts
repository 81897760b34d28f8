/**
 * `GET /users`, `GET /groups` and the recycle bin's typed lists: one list implementation, so
 * paging, `$select`, `$filter`, `$count`, `$orderby`, `$search`, `$expand` (where the collection
 * offers it) and `@odata.nextLink` behave the same way on each, as Graph's do. Plain pages are
 * O(page): rows after the skiptoken's insertion sequence, one extra to know whether another page
 * follows. Ordered or searched pages read every match and page by offset (query.ts).
 */
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import { header } from '../http.js';
import type { DirectoryDocument, ObjectKind, SqlFilter } from '../store.js';
import type { GraphContext } from './context.js';
import {
  decodeSkipToken,
  DEFAULT_PAGE_SIZE,
  encodeSkipToken,
  isAdvancedQuery,
  nextLink,
  parseSelect,
  parseTop,
} from './context.js';
import type { Expansion } from './expand.js';
import { MAX_EXPAND_PAGE_SIZE } from './expand.js';
import type { FilterSchema } from './filter.js';
import { checkFilter } from './filter.js';
import { filterToSql } from './filter-backends.js';
import { parseSystemQuery } from './odata.js';
import type { OrderBy, OrderSupport } from './query.js';
import { parseOrderBy, parseSearch, searchNeedsConsistency, sortDocs } from './query.js';

export interface CollectionShape {
  readonly kind: ObjectKind;
  /** Collection segment: `users` or `groups`. */
  readonly collection: string;
  readonly canonicalProperty: (name: string) => string | undefined;
  readonly typeName: string;
  readonly defaultSelect: readonly string[];
  readonly filterSchema: FilterSchema;
  readonly render: (doc: DirectoryDocument, select: readonly string[]) => Record<string, unknown>;
  /** Parses `$expand`; without it the option answers 501. */
  readonly parseExpand?: (raw: string) => Expansion;
  /** Properties `$orderby` takes, and whether only with advanced queries. */
  readonly orderable: Readonly<Record<string, OrderSupport>>;
  /** Properties `$search` looks in. */
  readonly searchable: ReadonlySet<string>;
  /** Default `active`; the recycle bin lists `deleted` objects. */
  readonly state?: 'active' | 'deleted';
  /** Path for nextLinks; default `/{collection}`. */
  readonly path?: string;
}

export function listCollection(ctx: GraphContext, shape: CollectionShape): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, [
    '$select',
    '$top',
    '$skiptoken',
    '$filter',
    '$count',
    '$orderby',
    '$search',
    ...(shape.parseExpand === undefined ? [] : (['$expand'] as const)),
  ]);
  const select = parseSelect(
    query.$select,
    shape.canonicalProperty,
    shape.typeName,
    shape.defaultSelect,
  );
  const top = parseTop(query.$top);
  const expansion = parseExpansion(shape, query.$expand);
  const advanced = isAdvancedQuery(ctx, query.$count);
  if (expansion !== undefined && advanced) throw graphErrors.expandWithAdvancedQuery();
  const search = parseSearchOption(ctx, shape, query.$search);
  const order = parseOrderBy(
    query.$orderby,
    shape.orderable,
    shape.canonicalProperty,
    shape.typeName,
    {
      advanced,
      combined: query.$filter !== undefined || search !== undefined,
    },
  );
  const where =
    query.$filter === undefined
      ? undefined
      : filterToSql(checkFilter(query.$filter, shape.filterSchema, advanced));
  const state = query.$skiptoken === undefined ? undefined : decodeSkipToken(query.$skiptoken);
  const pageSize =
    expansion === undefined
      ? (top ?? DEFAULT_PAGE_SIZE)
      : Math.min(top ?? DEFAULT_PAGE_SIZE, MAX_EXPAND_PAGE_SIZE);
  const objectState = shape.state ?? 'active';
  const found =
    order === undefined && search === undefined
      ? keysetPage(ctx, shape.kind, objectState, where, state?.after ?? 0, pageSize)
      : offsetPage(
          ctx,
          shape.kind,
          objectState,
          where,
          { order, search },
          state?.after ?? 0,
          pageSize,
        );
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.origin}/v1.0/$metadata#${shape.collection}${contextSuffix(select, expansion)}`,
  };
  // `$count=true` without ConsistencyLevel is silently ignored by Graph (advanced-queries page).
  if (advanced) {
    body['@odata.count'] = found.total ?? ctx.store.countObjects(shape.kind, objectState, where);
  }
  if (found.next !== undefined) {
    body['@odata.nextLink'] = nextLink(ctx, shape.path ?? `/${shape.collection}`, [
      ['$select', select.explicit ? select.names.join(',') : undefined],
      ['$expand', expansion === undefined ? undefined : query.$expand],
      ['$filter', query.$filter],
      ['$search', query.$search],
      ['$orderby', query.$orderby],
      ['$count', query.$count],
      ['$top', top === undefined ? undefined : String(top)],
      ['$skiptoken', encodeSkipToken({ after: found.next, page: (state?.page ?? 1) + 1 })],
    ]);
  }
  body['value'] = found.docs.map((doc) => {
    const out = shape.render(doc, select.output);
    expansion?.apply(ctx, doc, out);
    return out;
  });
  return { status: 200, body };
}

/**
 * `GET /users/$count`, `/groups/$count`: the number as plain text, only with `ConsistencyLevel:
 * eventual` (else 400 "$count is not currently supported."); `$filter` and `$search` narrow it.
 */
export function countCollection(ctx: GraphContext, shape: CollectionShape): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$filter', '$search']);
  if ((header(ctx.request, 'consistencylevel') ?? '').toLowerCase() !== 'eventual') {
    throw graphErrors.countNotSupported();
  }
  const search = parseSearchOption(ctx, shape, query.$search);
  const where =
    query.$filter === undefined
      ? undefined
      : filterToSql(checkFilter(query.$filter, shape.filterSchema, true));
  const count =
    search === undefined
      ? ctx.store.countObjects(shape.kind, shape.state ?? 'active', where)
      : (offsetPage(
          ctx,
          shape.kind,
          shape.state ?? 'active',
          where,
          { order: undefined, search },
          0,
          0,
        ).total ?? 0);
  return { status: 200, text: String(count) };
}

/** `$search` needs `ConsistencyLevel: eventual` (not `$count`), as the list pages document. */
export function parseSearchOption(
  ctx: GraphContext,
  shape: Pick<CollectionShape, 'searchable' | 'canonicalProperty' | 'typeName'>,
  raw: string | undefined,
): ((doc: DirectoryDocument) => boolean) | undefined {
  if (raw === undefined) return undefined;
  if ((header(ctx.request, 'consistencylevel') ?? '').toLowerCase() !== 'eventual') {
    throw searchNeedsConsistency();
  }
  return parseSearch(raw, shape.searchable, shape.canonicalProperty, shape.typeName);
}

interface FoundPage {
  readonly docs: readonly DirectoryDocument[];
  /** The skiptoken position of the next page, if there is one. */
  readonly next?: number;
  /** Every match, when the page was cut from them. */
  readonly total?: number;
}

function keysetPage(
  ctx: GraphContext,
  kind: ObjectKind,
  state: 'active' | 'deleted',
  where: SqlFilter | undefined,
  after: number,
  pageSize: number,
): FoundPage {
  const rows = ctx.store.queryObjects({
    kind,
    state,
    afterSeq: after,
    limit: pageSize + 1,
    ...(where === undefined ? {} : { where }),
  });
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  return {
    docs: page.map((row) => row.doc),
    ...(rows.length > pageSize && last !== undefined ? { next: last.seq } : {}),
  };
}

/** Every match, searched and sorted, then the page at `offset`. */
export function offsetPage(
  ctx: GraphContext,
  kind: ObjectKind,
  state: 'active' | 'deleted',
  where: SqlFilter | undefined,
  how: {
    readonly order: OrderBy | undefined;
    readonly search: ((doc: DirectoryDocument) => boolean) | undefined;
  },
  offset: number,
  pageSize: number,
): FoundPage {
  const all = ctx.store
    .queryObjects({
      kind,
      state,
      afterSeq: 0,
      limit: Number.MAX_SAFE_INTEGER,
      ...(where === undefined ? {} : { where }),
    })
    .map((row) => row.doc)
    .filter((doc) => how.search?.(doc) ?? true);
  return pageOf(
    how.order === undefined ? all : sortDocs(all, how.order, (d) => d),
    offset,
    pageSize,
  );
}

export function pageOf(
  all: readonly DirectoryDocument[],
  offset: number,
  pageSize: number,
): FoundPage {
  const end = offset + pageSize;
  return {
    docs: all.slice(offset, end),
    total: all.length,
    ...(end < all.length ? { next: end } : {}),
  };
}

/** A blank `$expand` is ignored, as a blank `$select` is. */
export function parseExpansion(
  shape: Pick<CollectionShape, 'parseExpand'>,
  raw: string | undefined,
): Expansion | undefined {
  if (raw === undefined || raw.trim() === '' || shape.parseExpand === undefined) return undefined;
  return shape.parseExpand(raw);
}

/** `(a,b,manager(id))` for `@odata.context`: selected properties, then the expansion. */
export function contextSuffix(
  select: { readonly names: readonly string[]; readonly explicit: boolean },
  expansion: Expansion | undefined,
): string {
  const items = [...(select.explicit ? select.names : [])];
  if (expansion !== undefined) items.push(expansion.contextItem);
  return items.length === 0 ? '' : `(${items.join(',')})`;
}
