/**
 * Graph v1.0 `/users`: list (`$select`, `$top`, `$filter`, `$count` with advanced queries,
 * `$skiptoken` paging), `/users/$count`, get by id or userPrincipalName, create, update, delete
 * to the recycle bin, the `manager` reference (and `$expand=manager`), and
 * `revokeSignInSessions`. License assignment is in licenses.ts.
 *
 * Paging: `@odata.nextLink` carries an opaque `$skiptoken` holding the insertion sequence of
 * the last user on the page, so the next page is the keyset range after it: every user is
 * returned exactly once, in a stable order, even while users are being created.
 */
import { randomUUID } from 'node:crypto';
import { graphErrors } from '../errors.js';
import { proxiesWithMail } from '../addresses.js';
import type { ObjectIdentity } from './identities.js';
import { identitiesFor } from './identities.js';
import type { SimResponse } from '../http.js';
import { jsonObjectBody } from '../http.js';
import type { DirectoryDocument, StoredObject, UserDocument } from '../store.js';
import { audit, modifiedProperties } from './audit.js';
import type { GraphContext } from './context.js';
import {
  assertNotRestricted,
  findUser,
  hasAnyRole,
  odataType,
  parseSelect,
  resolveReference,
} from './context.js';
import { assertVerifiedUpnDomain } from './domains.js';
import { parseUserExpand } from './expand.js';
import { USERS } from './collections.js';
import { contextSuffix, countCollection, listCollection, parseExpansion } from './list.js';
import { extensionDefinitions, extensionLookup } from './applications.js';
import { withExtensionFilters } from './user-extensions.js';
import type { PathSegment } from './odata.js';
import { parseSystemQuery } from './odata.js';
import {
  canonicalUserProperty,
  compactUser,
  DEFAULT_USER_SELECT,
  isPlainObject,
  nowDateTimeOffset,
  onPremisesMasteredIn,
  renderUser,
  USER_TYPE,
  validateUserWrite,
} from './user-schema.js';

/** Properties a password reset needs beyond User.ReadWrite.All (app-only). */
const PASSWORD_WRITE_ROLE = 'User-PasswordProfile.ReadWrite.All';
const FULL_WRITE_ROLES = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
/** Properties app-only User permissions cannot change on a user holding a directory role. */
const SENSITIVE_ON_ADMINS = new Set([
  'accountEnabled',
  'passwordProfile',
  'userPrincipalName',
  'mobilePhone',
  'businessPhones',
  'otherMails',
]);

export function listUsers(ctx: GraphContext): SimResponse {
  return listCollection(ctx, usersWithExtensions(ctx));
}

/** `GET /users/$count`: plain text, and only with `ConsistencyLevel: eventual`. */
export function countUsers(ctx: GraphContext): SimResponse {
  return countCollection(ctx, usersWithExtensions(ctx));
}

export function getUser(ctx: GraphContext, segment: PathSegment): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$select', '$expand']);
  const select = parseSelect(query.$select, canonicalUserProperty, USER_TYPE, DEFAULT_USER_SELECT);
  const expansion = parseExpansion({ parseExpand: parseUserExpand }, query.$expand);
  const found = findUser(ctx, segment);
  const out = renderUser(found.doc as UserDocument, select.output);
  expansion?.apply(ctx, found.doc, out);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#users${contextSuffix(select, expansion)}/$entity`,
      ...out,
    },
  };
}

export function createUser(ctx: GraphContext): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const changes = validateUserWrite(body, 'create', extensionLookup(ctx.store));
  assertVerifiedUpnDomain(ctx, changes['userPrincipalName']);
  const created = nowDateTimeOffset(ctx.clock.now());
  const user = compactUser({
    ...changes,
    proxyAddresses: proxiesWithMail(undefined, changes['mail']),
    identities: identitiesFor(
      undefined,
      changes['identities'] as ObjectIdentity[] | undefined,
      String(changes['userPrincipalName']),
      ctx.store.defaultDomain,
    ),
    id: randomUUID(),
    userType: changes['userType'] ?? 'Member',
    createdDateTime: created,
    // A new user's sessions are valid from its creation until a revoke moves the time.
    signInSessionsValidFromDateTime: created,
  }) as UserDocument;
  ctx.store.transaction(() => {
    const result = ctx.store.insertUser(user);
    if (!result.ok) throw graphErrors.objectConflict(result.conflict);
    const names = Object.keys(changes).filter((name) => name in user);
    audit(
      ctx,
      'Add user',
      [{ kind: 'user', doc: user }],
      modifiedProperties(undefined, user, names),
    );
  });
  ctx.rules.created(user.id);
  // Graph answers with the new id first, then the default property set.
  const { id, ...rest } = renderUser(user, DEFAULT_USER_SELECT);
  return {
    status: 201,
    body: { '@odata.context': `${ctx.origin}/v1.0/$metadata#users/$entity`, id, ...rest },
  };
}

export function updateUser(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const found = findUser(ctx, segment);
  const changes = validateUserWrite(body, 'update', extensionLookup(ctx.store));
  const names = Object.keys(changes);
  // Narrower write permissions (Graph's permissions reference, Dec 2024): enabling and
  // disabling alone needs User.EnableDisableAccount.All; other profile properties
  // User.ReadUpdate.All; a password reset User-PasswordProfile.ReadWrite.All.
  if (!hasAnyRole(ctx, FULL_WRITE_ROLES)) {
    const allowed = names.every((name) =>
      name === 'accountEnabled'
        ? hasAnyRole(ctx, ['User.EnableDisableAccount.All'])
        : name === 'passwordProfile' || hasAnyRole(ctx, ['User.ReadUpdate.All']),
    );
    if (!allowed) throw graphErrors.insufficientPrivileges();
  }
  if ('passwordProfile' in changes && !hasAnyRole(ctx, [PASSWORD_WRITE_ROLE])) {
    throw graphErrors.insufficientPrivileges();
  }
  assertWritable(ctx, found, names);
  if (found.doc['onPremisesSyncEnabled'] === true && onPremisesMasteredIn(changes).length > 0) {
    throw graphErrors.onPremisesMastered();
  }
  assertVerifiedUpnDomain(ctx, changes['userPrincipalName']);
  const next = applyChanges(found.doc as UserDocument, {
    ...changes,
    // A new mail becomes the primary SMTP: proxy address; the old one stays as an alias.
    ...('mail' in changes
      ? { proxyAddresses: proxiesWithMail(found.doc['proxyAddresses'], changes['mail']) }
      : {}),
    // The userPrincipalName identity follows the UPN.
    ...('identities' in changes || 'userPrincipalName' in changes
      ? {
          identities: identitiesFor(
            found.doc['identities'],
            changes['identities'] as ObjectIdentity[] | undefined,
            String(changes['userPrincipalName'] ?? found.doc['userPrincipalName']),
            ctx.store.defaultDomain,
          ),
        }
      : {}),
  });
  ctx.store.transaction(() => {
    const changed = [
      ...names,
      ...('mail' in changes ? ['proxyAddresses'] : []),
      ...('userPrincipalName' in changes && !('identities' in changes) ? ['identities'] : []),
    ];
    const result = ctx.store.updateObject('user', next, changed);
    if (!result.ok) throw graphErrors.objectConflict(result.conflict);
    auditUserUpdate(ctx, found.doc, next, changed);
  });
  return { status: 204 };
}

export function deleteUser(ctx: GraphContext, segment: PathSegment): SimResponse {
  const found = findUser(ctx, segment);
  assertWritable(ctx, found, ['@delete']);
  ctx.store.transaction(() => {
    ctx.store.softDelete(found.doc.id, ctx.clock.now());
    audit(ctx, 'Delete user', [{ kind: 'user', doc: found.doc }]);
  });
  return { status: 204 };
}

/**
 * "Update user" with what changed (never a password); a change of `accountEnabled` is also
 * "Disable account" or "Enable account", as Entra logs it.
 */
function auditUserUpdate(
  ctx: GraphContext,
  before: DirectoryDocument,
  after: DirectoryDocument,
  changed: readonly string[],
): void {
  const shown = changed.filter((name) => name !== 'passwordProfile');
  const target = [{ kind: 'user' as const, doc: after }];
  audit(ctx, 'Update user', target, modifiedProperties(before, after, shown));
  const enabled = after['accountEnabled'];
  if (changed.includes('accountEnabled') && before['accountEnabled'] !== enabled) {
    const modified = modifiedProperties(before, after, ['accountEnabled']);
    audit(ctx, enabled === false ? 'Disable account' : 'Enable account', target, modified);
  }
}

/**
 * Refuses writes Entra refuses: targets in a restricted-management administrative unit, and
 * sensitive changes or deletion of users holding an active directory role (app-only User
 * permissions cannot touch privileged accounts).
 */
function assertWritable(ctx: GraphContext, user: StoredObject, changes: readonly string[]): void {
  assertNotRestricted(ctx, user.doc);
  const sensitive = changes.some((name) => name === '@delete' || SENSITIVE_ON_ADMINS.has(name));
  if (sensitive && holdsDirectoryRole(ctx, user.doc.id)) {
    throw graphErrors.insufficientPrivileges();
  }
}

function holdsDirectoryRole(ctx: GraphContext, userId: string): boolean {
  return ctx.store
    .listDocs('roleAssignment')
    .some((a) => String(a['principalId']).toLowerCase() === userId.toLowerCase());
}

/**
 * PATCH semantics: properties absent from the body keep their value; null clears one. The
 * complex `onPremisesExtensionAttributes` and `employeeOrgData` merge per sub-property the same
 * way, so setting `extensionAttribute1` leaves 2-15 as they were.
 */
function applyChanges(
  user: UserDocument,
  changes: Readonly<Record<string, unknown>>,
): UserDocument {
  const next: Record<string, unknown> = { ...user };
  for (const [name, value] of Object.entries(changes)) {
    if (
      (name === 'onPremisesExtensionAttributes' || name === 'employeeOrgData') &&
      isPlainObject(value)
    ) {
      const current = isPlainObject(next[name]) ? next[name] : {};
      next[name] = { ...current, ...value };
    } else {
      next[name] = value;
    }
  }
  return compactUser(next) as UserDocument;
}

// ---------------------------------------------------------------------------- manager

/** `GET /users/{id}/manager`: the manager as a directoryObject, or 404. */
export function getManager(ctx: GraphContext, segment: PathSegment): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$select']);
  const select = parseSelect(query.$select, canonicalUserProperty, USER_TYPE, DEFAULT_USER_SELECT);
  const user = findUser(ctx, segment);
  const managerId = ctx.store.getManagerId(user.doc.id);
  const manager = managerId === undefined ? undefined : ctx.store.getObject(managerId);
  if (manager === undefined || manager.state !== 'active') {
    throw graphErrors.resourceNotFound('manager');
  }
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#directoryObjects/$entity`,
      '@odata.type': odataType(manager.kind),
      ...renderUser(manager.doc as UserDocument, select.output),
    },
  };
}

/** `PUT /users/{id}/manager/$ref` with `{"@odata.id": ".../users/{managerId}"}`: 204. */
export function setManager(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const user = findUser(ctx, segment);
  assertNotRestricted(ctx, user.doc);
  const manager = resolveReference(ctx, body['@odata.id']);
  if (manager.doc.id === user.doc.id) {
    throw graphErrors.invalidReference(String(body['@odata.id']));
  }
  ctx.store.transaction(() => {
    ctx.store.setManager(user.doc.id, manager.doc.id);
    audit(ctx, 'Set user manager', [user, manager]);
  });
  return { status: 204 };
}

/** `DELETE /users/{id}/manager/$ref`: 204, or 404 when there is no manager. */
export function removeManager(ctx: GraphContext, segment: PathSegment): SimResponse {
  const user = findUser(ctx, segment);
  assertNotRestricted(ctx, user.doc);
  if (ctx.store.getManagerId(user.doc.id) === undefined) {
    throw graphErrors.resourceNotFound('manager');
  }
  ctx.store.transaction(() => {
    ctx.store.setManager(user.doc.id, null);
    audit(ctx, 'Remove user manager', [user]);
  });
  return { status: 204 };
}

// ---------------------------------------------------------------------------- sessions

/**
 * `POST /users/{id}/revokeSignInSessions` (no body): sets `signInSessionsValidFromDateTime`
 * to now (clock time, to the second) and answers 200 with an `Edm.Boolean` `true`, as the
 * reference page's example does (Graph lists this status among its known issues: 204 would be
 * the usual answer for an action; the simulator answers what Graph answers). The simulator
 * issues no user tokens, so nothing else changes.
 */
export function revokeSignInSessions(ctx: GraphContext, segment: PathSegment): SimResponse {
  const found = findUser(ctx, segment);
  assertNotRestricted(ctx, found.doc);
  const next: DirectoryDocument = {
    ...found.doc,
    signInSessionsValidFromDateTime: nowDateTimeOffset(ctx.clock.now()),
  };
  const result = ctx.store.updateObject('user', next, ['signInSessionsValidFromDateTime']);
  if (!result.ok) throw graphErrors.objectConflict(result.conflict);
  return {
    status: 200,
    body: { '@odata.context': `${ctx.origin}/v1.0/$metadata#Edm.Boolean`, value: true },
  };
}

/** The users collection with the tenant's directory extensions filterable (`$filter`). */
function usersWithExtensions(ctx: GraphContext): typeof USERS {
  return {
    ...USERS,
    filterSchema: withExtensionFilters(USERS.filterSchema, extensionDefinitions(ctx.store)),
  };
}
