/**
 * What every Graph handler receives, and the helpers they share: `$select` and `$top` parsing,
 * opaque `$skiptoken`s, lookups of users and groups by key (with replication lag applied), and
 * resolution of `@odata.id` references. Handlers are synchronous functions of this data; the
 * router has already authenticated the caller, checked the route's permission, and applied
 * throttling and fault injection.
 */
import type { Principal } from '../access-token.js';
import type { Clock } from '../clock.js';
import { GraphError, graphErrors } from '../errors.js';
import type { SimRequest } from '../http.js';
import { header } from '../http.js';
import type { DirectoryDocument, ObjectKind, StoredObject, TenantStore } from '../store.js';
import type { PathSegment } from './odata.js';
import { segmentKey } from './odata.js';

/** Per-simulator rules that are not part of the stored tenant. */
export interface DirectoryRules {
  /** Records a newly created object (replication lag starts now, when a fault plan asks). */
  created(id: string): void;
  /** False while a new object is still "replicating": reads and references 404. */
  visible(id: string): boolean;
  /** What a write naming a still-replicating object gets: 404, or 400 when a fault plan asks. */
  lagStatus(id: string): 400 | 404;
  /** Delta pages hold at most this many objects (a fault plan's `delta-page`). */
  readonly deltaPageSize?: number;
  /** How long a delta token stays valid. */
  readonly deltaTokenLifetimeMs: number;
  /** How long deleted objects stay in the recycle bin (Entra: 30 days). */
  readonly recycleBinRetentionMs: number;
}

export interface GraphContext {
  readonly store: TenantStore;
  /** `https://127.0.0.1:port`; Graph's absolute URLs (`@odata.context`, nextLink) use it. */
  readonly origin: string;
  readonly principal: Principal;
  readonly request: SimRequest;
  readonly clock: Clock;
  readonly rules: DirectoryRules;
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

export function hasAnyRole(ctx: GraphContext, roles: readonly string[]): boolean {
  return roles.some((role) => ctx.principal.roles.includes(role));
}

/** `ConsistencyLevel: eventual` together with `$count=true`: Graph's advanced queries. */
export function isAdvancedQuery(ctx: GraphContext, count: string | undefined): boolean {
  return (
    (header(ctx.request, 'consistencylevel') ?? '').toLowerCase() === 'eventual' &&
    (count ?? '').toLowerCase() === 'true'
  );
}

// ---------------------------------------------------------------------------- $select

export interface Selection {
  /** Properties to render, in output order. */
  readonly output: readonly string[];
  /** Canonical names as selected (for nextLink). */
  readonly names: readonly string[];
  readonly explicit: boolean;
  /** `(a,b)` for `@odata.context`, or '' without `$select`. */
  readonly contextSuffix: string;
}

export function parseSelect(
  raw: string | undefined,
  canonical: (name: string) => string | undefined,
  typeName: string,
  defaults: readonly string[],
): Selection {
  if (raw === undefined || raw.trim() === '') {
    return { output: defaults, names: [], explicit: false, contextSuffix: '' };
  }
  const names: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    const found = canonical(name);
    if (found === undefined) throw graphErrors.unknownSelectProperty(name, typeName);
    if (!names.includes(found)) names.push(found);
  }
  const output = names.includes('id') ? names : [...names, 'id'];
  return { output, names, explicit: true, contextSuffix: `(${names.join(',')})` };
}

export function parseTop(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw graphErrors.invalidTop(raw);
  const top = Number(raw);
  if (top < 1 || top > MAX_PAGE_SIZE) throw graphErrors.pageSizeOutOfRange(raw);
  return top;
}

// ---------------------------------------------------------------------------- $skiptoken

const SKIPTOKEN_PREFIX = 'esim2.';

/**
 * An opaque token carrying keyset paging state. `page` counts pages of one listing from 1,
 * so fault plans can fail or repeat "page N".
 */
export interface PageState {
  readonly after: number;
  readonly page: number;
  /** Extra state some listings need (delta rounds). */
  readonly extra?: Readonly<Record<string, number | string>>;
}

export function encodeSkipToken(state: PageState): string {
  return SKIPTOKEN_PREFIX + Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

export function decodeSkipToken(token: string): PageState {
  if (token.startsWith(SKIPTOKEN_PREFIX)) {
    try {
      const parsed = JSON.parse(
        Buffer.from(token.slice(SKIPTOKEN_PREFIX.length), 'base64url').toString('utf8'),
      ) as unknown;
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        Number.isSafeInteger((parsed as PageState).after) &&
        Number.isSafeInteger((parsed as PageState).page)
      ) {
        return parsed as PageState;
      }
    } catch {
      // fall through to Graph's error
    }
  }
  throw graphErrors.invalidSkipToken();
}

/** The page number (1 = first) of a list request, from its `$skiptoken` if any. */
export function pageNumberOf(url: URL): number {
  for (const [name, value] of url.searchParams) {
    if (name.toLowerCase() === '$skiptoken') {
      try {
        return decodeSkipToken(value).page;
      } catch {
        return 1;
      }
    }
  }
  return 1;
}

/** A nextLink: the request's own path with the given query options, in Graph's order. */
export function nextLink(
  ctx: GraphContext,
  path: string,
  options: readonly (readonly [string, string | undefined])[],
): string {
  const query = options
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeQueryValue(value)}`)
    .join('&');
  return `${ctx.origin}/v1.0${path}?${query}`;
}

function encodeQueryValue(value: string): string {
  // Keep OData syntax readable as Graph does (`$expand=manager($select=id)`), but never
  // break the URL: `&`, `#`, `+`, spaces and the like stay encoded.
  return encodeURIComponent(value)
    .replace(/%2C/gi, ',')
    .replace(/%24/g, '$')
    .replace(/%27/g, "'")
    .replace(/%3D/gi, '=');
}

// ---------------------------------------------------------------------------- lookups

export function findUser(ctx: GraphContext, segment: PathSegment): StoredObject {
  const key = segmentKey(segment, 'id') ?? segment.name;
  const found = GUID.test(key) ? ctx.store.getObject(key) : userByUpn(ctx.store, key);
  if (found === undefined || found.kind !== 'user' || found.state !== 'active') {
    throw graphErrors.resourceNotFound(segment.raw);
  }
  if (!ctx.rules.visible(found.doc.id)) throw notReplicated(ctx, found.doc.id, segment.raw);
  return found;
}

function userByUpn(store: TenantStore, upn: string): StoredObject | undefined {
  const user = store.getUserByUpn(upn);
  return user === undefined ? undefined : store.getObject(user.user.id);
}

/** `/groups/{id}` or `/groups(uniqueName='x')`. */
export function findGroup(ctx: GraphContext, segment: PathSegment): StoredObject {
  const uniqueName = segment.keys?.['uniqueName'];
  const key = uniqueName ?? segmentKey(segment, 'id') ?? segment.name;
  const found =
    uniqueName !== undefined
      ? ctx.store.getGroupByUniqueName(uniqueName)
      : GUID.test(key)
        ? ctx.store.getObject(key)
        : undefined;
  if (found === undefined || found.kind !== 'group' || found.state !== 'active') {
    throw graphErrors.resourceNotFound(uniqueName ?? key);
  }
  if (!ctx.rules.visible(found.doc.id)) throw notReplicated(ctx, found.doc.id, uniqueName ?? key);
  return found;
}

/** An active, visible directory object by id, or Graph's 404 naming `id`. */
export function findObject(ctx: GraphContext, id: string): StoredObject {
  const found = GUID.test(id) ? ctx.store.getObject(id) : undefined;
  if (found === undefined || found.state !== 'active') throw graphErrors.resourceNotFound(id);
  if (!ctx.rules.visible(found.doc.id)) throw notReplicated(ctx, found.doc.id, id);
  return found;
}

/**
 * An object created a moment ago that has not replicated yet: reads get 404; writes naming it
 * get 404, or 400 `Request_BadRequest` when the fault plan says so (the reference pages warn
 * that a member add right after a create may fail either way; the 400's wording is the one
 * Graph gives for a reference it cannot resolve).
 */
function notReplicated(ctx: GraphContext, id: string, key: string): GraphError {
  if (ctx.request.method !== 'GET' && ctx.rules.lagStatus(id) === 400) {
    return graphErrors.invalidReference(id);
  }
  return graphErrors.resourceNotFound(key);
}

const REFERENCE_PATH = /\/v1\.0\/(directoryObjects|users|groups)\/([^/?#]+)\/?$/i;

/**
 * Resolves an `@odata.id` / `@odata.bind` reference URL to an active object. Graph accepts
 * `https://graph.microsoft.com/v1.0/directoryObjects/{id}` (or `/users/{id}`, `/groups/{id}`);
 * the simulator also accepts its own origin in place of graph.microsoft.com.
 */
export function resolveReference(ctx: GraphContext, reference: unknown): StoredObject {
  if (typeof reference !== 'string') throw graphErrors.invalidReference(String(reference));
  let url: URL;
  try {
    url = new URL(reference);
  } catch {
    throw graphErrors.invalidReference(reference);
  }
  const match = REFERENCE_PATH.exec(url.pathname);
  const id = match?.[2] === undefined ? undefined : decodeURIComponent(match[2]);
  if (id === undefined || !GUID.test(id)) throw graphErrors.invalidReference(reference);
  const found = findObject(ctx, id);
  const collection = (match?.[1] ?? '').toLowerCase();
  if (
    (collection === 'users' && found.kind !== 'user') ||
    (collection === 'groups' && found.kind !== 'group')
  ) {
    throw graphErrors.resourceNotFound(id);
  }
  return found;
}

/** The `@odata.type` annotation of a directory object. */
export function odataType(kind: ObjectKind): string {
  return kind === 'user' ? '#microsoft.graph.user' : '#microsoft.graph.group';
}

/** The directory ids a write to `object` is refused for: members of restricted admin units. */
export function assertNotRestricted(ctx: GraphContext, object: DirectoryDocument): void {
  for (const unitId of ctx.store.linkSources('auMember', object.id)) {
    const unit = ctx.store.getDoc('administrativeUnit', unitId);
    if (unit?.['isMemberManagementRestricted'] === true) {
      throw graphErrors.insufficientPrivileges();
    }
  }
}

/** Graph's timestamp format: UTC to the second, `Z`. */
export function graphDateTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

export function isGraphError(error: unknown): error is GraphError {
  return error instanceof GraphError;
}
