/**
 * `GET /users` and `GET /groups`: one list implementation for both collections, so paging,
 * `$select`, `$filter`, `$count`, `$expand` (where the collection offers it) and
 * `@odata.nextLink` behave the same way on each, as Graph's do. Pages are O(page): rows after
 * the skiptoken's insertion sequence, one extra to know whether another page follows.
 */
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import type { DirectoryDocument, ObjectKind } from '../store.js';
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
import { checkFilter, filterToSql } from './filter.js';
import { parseSystemQuery } from './odata.js';

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
}

export function listCollection(ctx: GraphContext, shape: CollectionShape): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, [
    '$select',
    '$top',
    '$skiptoken',
    '$filter',
    '$count',
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
  const where =
    query.$filter === undefined
      ? undefined
      : filterToSql(checkFilter(query.$filter, shape.filterSchema, advanced));
  const state = query.$skiptoken === undefined ? undefined : decodeSkipToken(query.$skiptoken);
  const pageSize =
    expansion === undefined
      ? (top ?? DEFAULT_PAGE_SIZE)
      : Math.min(top ?? DEFAULT_PAGE_SIZE, MAX_EXPAND_PAGE_SIZE);

  const rows = ctx.store.queryObjects({
    kind: shape.kind,
    state: 'active',
    afterSeq: state?.after ?? 0,
    limit: pageSize + 1,
    ...(where === undefined ? {} : { where }),
  });
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.origin}/v1.0/$metadata#${shape.collection}${contextSuffix(select, expansion)}`,
  };
  // `$count=true` without ConsistencyLevel is silently ignored by Graph (advanced-queries page).
  if (advanced) body['@odata.count'] = ctx.store.countObjects(shape.kind, 'active', where);
  if (rows.length > pageSize && last !== undefined) {
    body['@odata.nextLink'] = nextLink(ctx, `/${shape.collection}`, [
      ['$select', select.explicit ? select.names.join(',') : undefined],
      ['$expand', expansion === undefined ? undefined : query.$expand],
      ['$filter', query.$filter],
      ['$count', query.$count],
      ['$top', top === undefined ? undefined : String(top)],
      ['$skiptoken', encodeSkipToken({ after: last.seq, page: (state?.page ?? 1) + 1 })],
    ]);
  }
  body['value'] = page.map((row) => {
    const out = shape.render(row.doc, select.output);
    expansion?.apply(ctx, row.doc, out);
    return out;
  });
  return { status: 200, body };
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
