/**
 * Delta queries: `GET /users/delta` and `GET /groups/delta` (delta-query overview, user: delta,
 * group: delta in the Graph v1.0 reference).
 *
 * A round starts without a token and pages (by `@odata.nextLink` with `$skiptoken`) through
 * every active object, then hands out an `@odata.deltaLink` with a `$deltatoken`. A deltaLink
 * returns the objects changed since its token was issued, paged the same way, and a new
 * deltaLink. The tokens are opaque to clients and carry the `$select` of the first request, so
 * later links need not repeat it. `$deltatoken=latest` returns no objects and a deltaLink from
 * now ("sync from now").
 *
 * How changes are found: every write stamps the object with a tenant-wide change sequence, and
 * per property (so with `$select`, only objects where a selected property changed appear, as
 * Graph documents). A token remembers the sequence number it was issued at. Deleted objects
 * appear as `{"id", "@removed": {"reason": "changed"}}` while in the recycle bin (restorable)
 * and `"deleted"` once purged. Groups carry `members@delta` (all members on the first round,
 * added and removed members later); users with `$select=manager` carry `manager@delta`.
 *
 * Expiry: a token older than the configured lifetime (Graph: seven days for directory objects)
 * answers 410 Gone, code syncStateNotFound, with a Location header naming a fresh initial
 * query: the client must resynchronise fully, never read it as "everything changed".
 */
import { GraphError, graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import type { LinkRelation, ObjectKind, StoredObject, UserDocument } from '../store.js';
import type { GraphContext } from './context.js';
import {
  decodeSkipToken,
  DEFAULT_PAGE_SIZE,
  encodeSkipToken,
  MAX_PAGE_SIZE,
  odataType,
} from './context.js';
import {
  canonicalGroupProperty,
  DEFAULT_GROUP_SELECT,
  GROUP_TYPE,
  renderGroup,
} from './group-schema.js';
import { parseSystemQuery } from './odata.js';
import {
  canonicalUserProperty,
  DEFAULT_USER_SELECT,
  renderUser,
  USER_TYPE,
} from './user-schema.js';

const DELTA_TOKEN_PREFIX = 'esimd1.';

interface DeltaToken {
  readonly kind: ObjectKind;
  /** Change sequence number the token was issued at. */
  readonly since: number;
  /** Clock time of issue, for expiry. */
  readonly issued: number;
  /** Selected property names ('' = default set). */
  readonly select: string;
}

interface Spec {
  readonly kind: ObjectKind;
  readonly path: string;
  readonly typeName: string;
  readonly canonical: (name: string) => string | undefined;
  readonly defaults: readonly string[];
  /** The navigation property delta tracks for this kind. */
  readonly navigation: { readonly name: string; readonly rel: LinkRelation };
  readonly render: (object: StoredObject, select: readonly string[]) => Record<string, unknown>;
}

const SPECS: Readonly<Record<ObjectKind, Spec>> = {
  user: {
    kind: 'user',
    path: '/users/delta',
    typeName: USER_TYPE,
    canonical: canonicalUserProperty,
    defaults: DEFAULT_USER_SELECT,
    navigation: { name: 'manager', rel: 'manager' },
    render: (object, select) => renderUser(object.doc as UserDocument, select),
  },
  group: {
    kind: 'group',
    path: '/groups/delta',
    typeName: GROUP_TYPE,
    canonical: canonicalGroupProperty,
    defaults: DEFAULT_GROUP_SELECT,
    navigation: { name: 'members', rel: 'member' },
    render: (object, select) => renderGroup(object.doc, select),
  },
};

export function delta(ctx: GraphContext, kind: ObjectKind): SimResponse {
  const spec = SPECS[kind];
  const query = parseSystemQuery(ctx.request.url.searchParams, [
    '$select',
    '$skiptoken',
    '$deltatoken',
  ]);
  const pageSize = maxPageSize(ctx);

  if (query.$skiptoken !== undefined) {
    const state = decodeSkipToken(query.$skiptoken);
    const extra = state.extra ?? {};
    const select = typeof extra['sel'] === 'string' ? extra['sel'] : '';
    if (extra['ph'] === 'i') {
      return initialPage(ctx, spec, select, Number(extra['h']), state.after, state.page, pageSize);
    }
    if (extra['ph'] === 'c') {
      return changesPage(ctx, spec, select, {
        since: Number(extra['s']),
        upto: Number(extra['h']),
        after: { cseq: Number(extra['ac']), seq: state.after },
        page: state.page,
        pageSize,
      });
    }
    throw graphErrors.invalidSkipToken();
  }

  if (query.$deltatoken !== undefined) {
    if (query.$deltatoken.toLowerCase() === 'latest') {
      const select = selectionOf(spec, query.$select);
      return {
        status: 200,
        body: {
          '@odata.context': contextOf(ctx, spec, select),
          '@odata.deltaLink': deltaLink(ctx, spec, ctx.store.currentCseq(), select),
          value: [],
        },
      };
    }
    const token = decodeDeltaToken(query.$deltatoken, kind);
    const select = query.$select === undefined ? token.select : selectionOf(spec, query.$select);
    if (ctx.clock.now() - token.issued > ctx.rules.deltaTokenLifetimeMs) {
      const expired = graphErrors.deltaTokenExpired();
      throw new GraphError(expired.status, expired.code, expired.message, undefined, {
        Location: `${ctx.origin}/v1.0${spec.path}${select === '' ? '' : `?$select=${select}`}`,
      });
    }
    return changesPage(ctx, spec, select, {
      since: token.since,
      upto: ctx.store.currentCseq(),
      after: { cseq: token.since, seq: 0 },
      page: 1,
      pageSize,
    });
  }

  const select = selectionOf(spec, query.$select);
  return initialPage(ctx, spec, select, ctx.store.currentCseq(), 0, 1, pageSize);
}

function initialPage(
  ctx: GraphContext,
  spec: Spec,
  select: string,
  highWater: number,
  afterSeq: number,
  page: number,
  pageSize: number,
): SimResponse {
  const rows = ctx.store.queryObjects({
    kind: spec.kind,
    state: 'active',
    afterSeq,
    limit: pageSize + 1,
  });
  const items = rows.slice(0, pageSize);
  const { properties, navigation } = splitSelect(spec, select);
  const value = items.map((object) => {
    const out = spec.render(object, properties);
    if (navigation) {
      const targets = allLinks(ctx, spec.navigation.rel, object.doc.id);
      out[`${spec.navigation.name}@delta`] = targets.map((id) => reference(ctx, id, false));
    }
    return out;
  });
  const body: Record<string, unknown> = { '@odata.context': contextOf(ctx, spec, select) };
  const last = items.at(-1);
  if (rows.length > pageSize && last !== undefined) {
    body['@odata.nextLink'] = `${ctx.origin}/v1.0${spec.path}?$skiptoken=${encodeSkipToken({
      after: last.seq,
      page: page + 1,
      extra: { ph: 'i', h: highWater, sel: select },
    })}`;
  } else {
    body['@odata.deltaLink'] = deltaLink(ctx, spec, highWater, select);
  }
  body['value'] = value;
  return { status: 200, body };
}

function changesPage(
  ctx: GraphContext,
  spec: Spec,
  select: string,
  window: {
    since: number;
    upto: number;
    after: { cseq: number; seq: number };
    page: number;
    pageSize: number;
  },
): SimResponse {
  const { properties, navigation } = splitSelect(spec, select);
  const tracked =
    select === ''
      ? undefined
      : [
          ...properties,
          ...(navigation ? [spec.navigation.name === 'members' ? 'members' : 'manager'] : []),
        ];
  // No upper bound: an object changed while this round pages moves to a later position and is
  // returned again (a replay, which Graph allows), rather than being missed.
  const rows = ctx.store.changedObjects(
    spec.kind,
    window.since,
    Number.MAX_SAFE_INTEGER,
    window.after,
    window.pageSize + 1,
    tracked,
  );
  const items = rows.slice(0, window.pageSize);
  const changes = navigation
    ? ctx.store.linkChanges(
        spec.navigation.rel,
        items.map((o) => o.doc.id),
        window.since,
        Number.MAX_SAFE_INTEGER,
      )
    : [];
  const value = items.map((object) => {
    if (object.state !== 'active') {
      return {
        id: object.doc.id,
        '@removed': { reason: object.state === 'deleted' ? 'changed' : 'deleted' },
      };
    }
    const out = spec.render(object, properties);
    if (navigation) {
      out[`${spec.navigation.name}@delta`] = changes
        .filter((c) => c.sourceId === object.doc.id)
        .map((c) => reference(ctx, c.targetId, c.removed));
    }
    return out;
  });
  const body: Record<string, unknown> = { '@odata.context': contextOf(ctx, spec, select) };
  const last = items.at(-1);
  if (rows.length > window.pageSize && last !== undefined) {
    body['@odata.nextLink'] = `${ctx.origin}/v1.0${spec.path}?$skiptoken=${encodeSkipToken({
      after: last.seq,
      page: window.page + 1,
      extra: { ph: 'c', s: window.since, h: window.upto, ac: last.cseq, sel: select },
    })}`;
  } else {
    body['@odata.deltaLink'] = deltaLink(ctx, spec, window.upto, select);
  }
  body['value'] = value;
  return { status: 200, body };
}

/** Validates `$select` for delta: the type's properties plus its tracked navigation property. */
function selectionOf(spec: Spec, raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return '';
  const names: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    const found =
      name.toLowerCase() === spec.navigation.name.toLowerCase()
        ? spec.navigation.name
        : spec.canonical(name);
    if (found === undefined) throw graphErrors.unknownSelectProperty(name, spec.typeName);
    if (!names.includes(found)) names.push(found);
  }
  return names.join(',');
}

function splitSelect(
  spec: Spec,
  select: string,
): { properties: readonly string[]; navigation: boolean } {
  if (select === '') {
    // Group delta returns members@delta by default; user delta tracks manager only on request.
    return { properties: spec.defaults, navigation: spec.kind === 'group' };
  }
  const names = select.split(',');
  const properties = names.filter((n) => n !== spec.navigation.name);
  return {
    properties: properties.includes('id') ? properties : [...properties, 'id'],
    navigation: names.includes(spec.navigation.name),
  };
}

function contextOf(ctx: GraphContext, spec: Spec, select: string): string {
  const collection = spec.kind === 'user' ? 'users' : 'groups';
  return `${ctx.origin}/v1.0/$metadata#${collection}${select === '' ? '' : `(${select})`}`;
}

function deltaLink(ctx: GraphContext, spec: Spec, since: number, select: string): string {
  const token: DeltaToken = { kind: spec.kind, since, issued: ctx.clock.now(), select };
  const encoded = Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
  return `${ctx.origin}/v1.0${spec.path}?$deltatoken=${DELTA_TOKEN_PREFIX}${encoded}`;
}

function decodeDeltaToken(raw: string, kind: ObjectKind): DeltaToken {
  if (raw.startsWith(DELTA_TOKEN_PREFIX)) {
    try {
      const token = JSON.parse(
        Buffer.from(raw.slice(DELTA_TOKEN_PREFIX.length), 'base64url').toString('utf8'),
      ) as DeltaToken;
      if (
        token.kind === kind &&
        Number.isSafeInteger(token.since) &&
        Number.isFinite(token.issued) &&
        typeof token.select === 'string'
      ) {
        return token;
      }
    } catch {
      // fall through
    }
  }
  throw new GraphError(
    400,
    'Request_BadRequest',
    'The $deltatoken value is not one the simulator issued for this resource.',
  );
}

function allLinks(ctx: GraphContext, rel: LinkRelation, sourceId: string): string[] {
  const out: string[] = [];
  let after = 0;
  for (;;) {
    const links = ctx.store.pageLinks(rel, sourceId, after, 1000);
    for (const link of links) out.push(link.targetId);
    const last = links.at(-1);
    if (last === undefined || links.length < 1000) return out;
    after = last.seq;
  }
}

function reference(ctx: GraphContext, id: string, removed: boolean): Record<string, unknown> {
  const object = ctx.store.getObject(id);
  return {
    '@odata.type': odataType(object?.kind ?? 'user'),
    id,
    ...(removed ? { '@removed': { reason: 'deleted' } } : {}),
  };
}

/** `Prefer: odata.maxpagesize=N` sets the page size of delta responses (default 100). */
function maxPageSize(ctx: GraphContext): number {
  const prefer = ctx.request.headers['prefer'];
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  const match = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(text);
  const size = match?.[1] === undefined ? DEFAULT_PAGE_SIZE : Number(match[1]);
  // Graph's delta pages often hold fewer objects than asked; a fault plan's delta-page says how many.
  return Math.min(Math.max(size, 1), MAX_PAGE_SIZE, ctx.rules.deltaPageSize ?? MAX_PAGE_SIZE);
}
