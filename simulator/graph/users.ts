/**
 * Graph v1.0 `/users`: list (with `$select`, `$top`, `$skiptoken` paging), get by id or
 * userPrincipalName, create and update. Handlers take plain data and return plain data; the
 * router has already authenticated the caller and checked the route's permission.
 *
 * Paging: `@odata.nextLink` carries an opaque `$skiptoken` that encodes the insertion sequence
 * of the last user on the page, so the next page is the keyset range after it: every user is
 * returned exactly once, in a stable order, even while users are being created.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../access-token.js';
import { graphErrors } from '../errors.js';
import type { SimRequest, SimResponse } from '../http.js';
import { jsonObjectBody } from '../http.js';
import type { StoredUser, TenantStore, UserDocument } from '../store.js';
import type { PathSegment } from './odata.js';
import { parseSystemQuery, segmentKey } from './odata.js';
import {
  DEFAULT_USER_SELECT,
  canonicalUserProperty,
  compactUser,
  nowDateTimeOffset,
  isPlainObject,
  onPremisesMasteredIn,
  renderUser,
  USER_TYPE,
  validateUserWrite,
} from './user-schema.js';

export interface GraphContext {
  readonly store: TenantStore;
  /** `https://127.0.0.1:port`; Graph's absolute URLs (`@odata.context`, nextLink) use it. */
  readonly origin: string;
  readonly principal: Principal;
  readonly request: SimRequest;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 999;
const SKIPTOKEN_PREFIX = 'esim1.';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Properties a password reset needs beyond User.ReadWrite.All (app-only). */
const PASSWORD_WRITE_ROLE = 'User-PasswordProfile.ReadWrite.All';

export function listUsers(ctx: GraphContext): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams);
  const select = parseSelect(query.$select);
  const top = parseTop(query.$top);
  const afterSeq = query.$skiptoken === undefined ? 0 : decodeSkipToken(query.$skiptoken);
  const pageSize = top ?? DEFAULT_PAGE_SIZE;

  const rows = ctx.store.pageUsers(afterSeq, pageSize + 1);
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.origin}/v1.0/$metadata#users${select.contextSuffix}`,
  };
  if (rows.length > pageSize && last !== undefined) {
    const params = [
      ...(select.explicit ? [`$select=${select.names.join(',')}`] : []),
      ...(top === undefined ? [] : [`$top=${top}`]),
      `$skiptoken=${encodeSkipToken(last.seq)}`,
    ];
    body['@odata.nextLink'] = `${ctx.origin}/v1.0/users?${params.join('&')}`;
  }
  body['value'] = page.map((row) => renderUser(row.user, select.output));
  return { status: 200, body };
}

export function getUser(ctx: GraphContext, segment: PathSegment): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams);
  const select = parseSelect(query.$select);
  const found = findUser(ctx.store, segment);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#users${select.contextSuffix}/$entity`,
      ...renderUser(found.user, select.output),
    },
  };
}

export function createUser(ctx: GraphContext): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const changes = validateUserWrite(body, 'create');
  const user = compactUser({
    ...changes,
    id: randomUUID(),
    userType: changes['userType'] ?? 'Member',
    createdDateTime: nowDateTimeOffset(),
  }) as UserDocument;
  const result = ctx.store.insertUser(user);
  if (!result.ok) throw graphErrors.objectConflict(result.conflict);
  // Graph answers with the new id first, then the default property set.
  const { id, ...rest } = renderUser(user, DEFAULT_USER_SELECT);
  return {
    status: 201,
    body: { '@odata.context': `${ctx.origin}/v1.0/$metadata#users/$entity`, id, ...rest },
  };
}

export function updateUser(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const found = findUser(ctx.store, segment);
  const changes = validateUserWrite(body, 'update');
  if ('passwordProfile' in changes && !ctx.principal.roles.includes(PASSWORD_WRITE_ROLE)) {
    throw graphErrors.insufficientPrivileges();
  }
  if (found.user['onPremisesSyncEnabled'] === true && onPremisesMasteredIn(changes).length > 0) {
    throw graphErrors.onPremisesMastered();
  }
  const result = ctx.store.replaceUser(applyChanges(found.user, changes));
  if (!result.ok) throw graphErrors.objectConflict(result.conflict);
  return { status: 204 };
}

/**
 * PATCH semantics: properties absent from the body keep their value; null clears one. The
 * complex `onPremisesExtensionAttributes` merges per sub-property the same way, so setting
 * `extensionAttribute1` leaves 2-15 as they were.
 */
function applyChanges(
  user: UserDocument,
  changes: Readonly<Record<string, unknown>>,
): UserDocument {
  const next: Record<string, unknown> = { ...user };
  for (const [name, value] of Object.entries(changes)) {
    if (name === 'onPremisesExtensionAttributes' && isPlainObject(value)) {
      const current = isPlainObject(next[name]) ? next[name] : {};
      next[name] = { ...current, ...value };
    } else {
      next[name] = value;
    }
  }
  return compactUser(next) as UserDocument;
}

/** `/users/{id}`, `/users/{userPrincipalName}` or `/users('{key}')`. */
function findUser(store: TenantStore, segment: PathSegment): StoredUser {
  const key = segmentKey(segment, 'id') ?? segment.name;
  const found = GUID.test(key) ? store.getUserById(key) : store.getUserByUpn(key);
  if (found === undefined) throw graphErrors.resourceNotFound(segment.raw);
  return found;
}

interface Selection {
  /** Properties to render, in output order. */
  readonly output: readonly string[];
  /** Canonical names as selected (for nextLink). */
  readonly names: readonly string[];
  readonly explicit: boolean;
  /** `(a,b)` for `@odata.context`, or '' without `$select`. */
  readonly contextSuffix: string;
}

function parseSelect(raw: string | undefined): Selection {
  if (raw === undefined || raw.trim() === '') {
    return { output: DEFAULT_USER_SELECT, names: [], explicit: false, contextSuffix: '' };
  }
  const names: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    const canonical = canonicalUserProperty(name);
    if (canonical === undefined) throw graphErrors.unknownSelectProperty(name, USER_TYPE);
    if (!names.includes(canonical)) names.push(canonical);
  }
  const output = names.includes('id') ? names : [...names, 'id'];
  return { output, names, explicit: true, contextSuffix: `(${names.join(',')})` };
}

function parseTop(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw graphErrors.invalidTop(raw);
  const top = Number(raw);
  if (top < 1 || top > MAX_PAGE_SIZE) throw graphErrors.pageSizeOutOfRange(raw);
  return top;
}

function encodeSkipToken(seq: number): string {
  return SKIPTOKEN_PREFIX + Buffer.from(`seq:${seq}`, 'utf8').toString('base64url');
}

function decodeSkipToken(token: string): number {
  if (token.startsWith(SKIPTOKEN_PREFIX)) {
    const decoded = Buffer.from(token.slice(SKIPTOKEN_PREFIX.length), 'base64url').toString('utf8');
    const match = /^seq:(\d{1,15})$/.exec(decoded);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  throw graphErrors.invalidSkipToken();
}
