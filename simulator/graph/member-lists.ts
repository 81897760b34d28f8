/**
 * A group's members and owners as Graph lists them (group-list-members, group-list-owners):
 *
 * - `GET /groups/{id}/members` (or `owners`): directoryObjects with `@odata.type`, in link order,
 *   paged by keyset;
 * - OData casts `/members/microsoft.graph.user` and `/microsoft.graph.group`: only that type,
 *   with the type's `@odata.context` (`$metadata#users`) and `$select`;
 * - `/members/$count` and `/members/microsoft.graph.user/$count`: plain text, with
 *   `ConsistencyLevel: eventual` only;
 * - `$count=true`, `$filter`, `$search` and `$orderby` with advanced queries (`$search` needs the
 *   header only), over the whole membership, paged by offset.
 *
 * Soft-deleted members keep their links (restore brings them back) but are never listed.
 */
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import { header } from '../http.js';
import type { DirectoryDocument, LinkRelation, StoredObject } from '../store.js';
import { GROUPS, USERS } from './collections.js';
import type { GraphContext } from './context.js';
import {
  decodeSkipToken,
  DEFAULT_PAGE_SIZE,
  encodeSkipToken,
  findGroup,
  isAdvancedQuery,
  nextLink,
  parseSelect,
  parseTop,
} from './context.js';
import type { CheckedFilter } from './filter.js';
import { checkFilter } from './filter.js';
import { evaluateFilter } from './filter-backends.js';
import { renderDirectoryObject } from './groups.js';
import type { CollectionShape } from './list.js';
import { pageOf, parseSearchOption } from './list.js';
import type { PathSegment } from './odata.js';
import { parseSystemQuery } from './odata.js';
import { parseOrderBy, sortDocs } from './query.js';

export type MemberCast = 'user' | 'group' | undefined;

/** `microsoft.graph.user` -> `user`; other casts Graph has (devices, contacts...) answer 501. */
export function memberCast(segment: PathSegment): MemberCast {
  const name = segment.name.toLowerCase();
  if (name === 'microsoft.graph.user') return 'user';
  if (name === 'microsoft.graph.group') return 'group';
  throw graphErrors.notImplemented(`/groups/{id}/members/${segment.name}`);
}

const EVERY_LINK = Number.MAX_SAFE_INTEGER;

export function listMembers(
  ctx: GraphContext,
  segment: PathSegment,
  rel: LinkRelation = 'member',
  cast: MemberCast = undefined,
): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, [
    '$select',
    '$top',
    '$skiptoken',
    '$count',
    '$filter',
    '$search',
    '$orderby',
  ]);
  const shape = shapeOf(cast);
  const select = parseSelect(query.$select, shape.canonicalProperty, shape.typeName, []);
  const top = parseTop(query.$top);
  const state = query.$skiptoken === undefined ? undefined : decodeSkipToken(query.$skiptoken);
  const advanced = isAdvancedQuery(ctx, query.$count);
  const group = findGroup(ctx, segment);
  const pageSize = top ?? DEFAULT_PAGE_SIZE;
  const narrowed =
    query.$filter !== undefined || query.$search !== undefined || query.$orderby !== undefined;
  if (query.$filter !== undefined && !advanced) {
    // Graph documents member filters with advanced queries only; what it does without is not.
    throw graphErrors.notImplemented('$filter on members without advanced query parameters');
  }
  const render = (object: StoredObject): Record<string, unknown> => {
    const out = renderDirectoryObject(object, select.explicit ? select.output : undefined);
    if (cast !== undefined) delete out['@odata.type'];
    return out;
  };
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.origin}/v1.0/$metadata#${cast === undefined ? 'directoryObjects' : shape.collection}${select.contextSuffix}`,
  };
  let value: Record<string, unknown>[];
  let next: number | undefined;
  if (!narrowed && cast === undefined && !advanced) {
    const links = ctx.store.pageLinks(rel, group.doc.id, state?.after ?? 0, pageSize + 1);
    const page = links.slice(0, pageSize);
    value = page.flatMap((link) => {
      const member = ctx.store.getObject(link.targetId);
      return member === undefined || member.state !== 'active' ? [] : [render(member)];
    });
    const last = page.at(-1);
    if (links.length > pageSize && last !== undefined) next = last.seq;
  } else {
    const all = matchingMembers(ctx, group.doc.id, rel, cast, {
      filter: query.$filter,
      search: query.$search,
      orderby: query.$orderby,
      advanced,
    });
    const page = pageOf(all, state?.after ?? 0, pageSize);
    if (advanced) body['@odata.count'] = all.length;
    value = page.docs.flatMap((doc) => {
      const object = ctx.store.getObject(doc.id);
      return object === undefined ? [] : [render(object)];
    });
    next = page.next;
  }
  if (next !== undefined) {
    const castPath = cast === undefined ? '' : `/microsoft.graph.${cast}`;
    body['@odata.nextLink'] = nextLink(ctx, `/groups/${group.doc.id}/${rel}s${castPath}`, [
      ['$select', select.explicit ? select.names.join(',') : undefined],
      ['$filter', query.$filter],
      ['$search', query.$search],
      ['$orderby', query.$orderby],
      ['$count', query.$count],
      ['$top', top === undefined ? undefined : String(top)],
      ['$skiptoken', encodeSkipToken({ after: next, page: (state?.page ?? 1) + 1 })],
    ]);
  }
  body['value'] = value;
  return { status: 200, body };
}

/** `GET /groups/{id}/members/$count` (optionally after a cast): plain text. */
export function countMembers(
  ctx: GraphContext,
  segment: PathSegment,
  rel: LinkRelation = 'member',
  cast: MemberCast = undefined,
): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$filter', '$search']);
  if ((header(ctx.request, 'consistencylevel') ?? '').toLowerCase() !== 'eventual') {
    throw graphErrors.countNotSupported();
  }
  const group = findGroup(ctx, segment);
  const all = matchingMembers(ctx, group.doc.id, rel, cast, {
    filter: query.$filter,
    search: query.$search,
    orderby: undefined,
    advanced: true,
  });
  return { status: 200, text: String(all.length) };
}

function shapeOf(cast: MemberCast): CollectionShape {
  if (cast === 'user') return USERS;
  if (cast === 'group') return GROUPS;
  // directoryObject: users' and groups' properties both select.
  return {
    ...USERS,
    canonicalProperty: (name) => USERS.canonicalProperty(name) ?? GROUPS.canonicalProperty(name),
    typeName: 'microsoft.graph.directoryObject',
    orderable: { displayName: 'default' },
    searchable: new Set(['displayName', 'mail', 'mailNickname']),
  };
}

function matchingMembers(
  ctx: GraphContext,
  groupId: string,
  rel: LinkRelation,
  cast: MemberCast,
  options: {
    readonly filter: string | undefined;
    readonly search: string | undefined;
    readonly orderby: string | undefined;
    readonly advanced: boolean;
  },
): DirectoryDocument[] {
  const shape = shapeOf(cast);
  const search = parseSearchOption(ctx, shape, options.search);
  const order = parseOrderBy(
    options.orderby,
    shape.orderable,
    shape.canonicalProperty,
    shape.typeName,
    {
      advanced: options.advanced,
      combined: options.filter !== undefined || search !== undefined,
    },
  );
  const filters = memberFilters(options.filter, cast, options.advanced);
  const docs = ctx.store.pageLinks(rel, groupId, 0, EVERY_LINK).flatMap((link) => {
    const object = ctx.store.getObject(link.targetId);
    if (object === undefined || object.state !== 'active') return [];
    if (cast !== undefined && object.kind !== cast) return [];
    const filter = filters?.[object.kind];
    if (filters !== undefined && (filter === undefined || !evaluateFilter(filter, object.doc))) {
      return [];
    }
    return search === undefined || search(object.doc) ? [object.doc] : [];
  });
  return order === undefined ? docs : sortDocs(docs, order, (d) => d);
}

/** The filter checked against each member type it can apply to (directoryObject lists: both). */
function memberFilters(
  text: string | undefined,
  cast: MemberCast,
  advanced: boolean,
): Partial<Record<'user' | 'group', CheckedFilter>> | undefined {
  if (text === undefined) return undefined;
  if (cast !== undefined) {
    return { [cast]: checkFilter(text, shapeOf(cast).filterSchema, advanced) };
  }
  const out: Partial<Record<'user' | 'group', CheckedFilter>> = {};
  let firstError: unknown;
  for (const kind of ['user', 'group'] as const) {
    try {
      out[kind] = checkFilter(text, shapeOf(kind).filterSchema, advanced);
    } catch (error) {
      firstError ??= error;
    }
  }
  if (out.user === undefined && out.group === undefined) throw firstError;
  return out;
}
