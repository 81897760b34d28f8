/**
 * Graph v1.0 `/groups`: list (`$select`, `$top`, `$filter`, `$count`), get by id or
 * `(uniqueName='…')`, create, update (including `members@odata.bind`, at most 20 per request),
 * upsert (`PATCH /groups(uniqueName='…')` with `Prefer: create-if-missing`), delete (Microsoft
 * 365 groups to the recycle bin, security groups permanently, as Entra does), and members and
 * owners: list, add by `$ref`, remove by `/{id}/$ref` (never a group's last user owner).
 *
 * Adding an existing member answers Graph's 400 for both `$ref` and `@odata.bind`, and a bind
 * that fails adds nothing. Role-assignable groups (`isAssignableToRole`) need
 * RoleManagement.ReadWrite.Directory to create or to change membership. Groups nest as Graph
 * allows: security groups in security groups; never in or into a Microsoft 365 group, nor into a
 * role-assignable group (400).
 */
import { randomUUID } from 'node:crypto';
import { GraphError, graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import { header, jsonObjectBody } from '../http.js';
import type { DirectoryDocument, StoredObject, UserDocument } from '../store.js';
import { audit, modifiedProperties } from './audit.js';
import type { GraphContext } from './context.js';
import {
  assertNotRestricted,
  findGroup,
  hasAnyRole,
  odataType,
  parseSelect,
  resolveReference,
} from './context.js';
import { GROUPS } from './collections.js';
import { countCollection, listCollection } from './list.js';
import {
  canonicalGroupProperty,
  checkGroupShape,
  DEFAULT_GROUP_SELECT,
  derivedGroupProperties,
  GROUP_TYPE,
  renderGroup,
  validateGroupWrite,
} from './group-schema.js';
import type { PathSegment } from './odata.js';
import { parseSystemQuery } from './odata.js';
import {
  canonicalUserProperty,
  DEFAULT_USER_SELECT,
  nowDateTimeOffset,
  renderUser,
} from './user-schema.js';

const ROLE_ASSIGNABLE_ROLE = 'RoleManagement.ReadWrite.Directory';
const GROUP_WRITE_ROLES = ['Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const MEMBER_WRITE_ROLES = ['GroupMember.ReadWrite.All', ...GROUP_WRITE_ROLES];
const UPSERT_ROLES = ['Group.Create', ...GROUP_WRITE_ROLES];
/** Graph: "up to 20 members can be added in a single request" (owners and members together). */
const MAX_BINDS = 20;

export function listGroups(ctx: GraphContext): SimResponse {
  return listCollection(ctx, GROUPS);
}

/** `GET /groups/$count`: plain text, and only with `ConsistencyLevel: eventual`. */
export function countGroups(ctx: GraphContext): SimResponse {
  return countCollection(ctx, GROUPS);
}

export function getGroup(ctx: GraphContext, segment: PathSegment): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$select']);
  const select = parseSelect(
    query.$select,
    canonicalGroupProperty,
    GROUP_TYPE,
    DEFAULT_GROUP_SELECT,
  );
  const found = findGroup(ctx, segment);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#groups${select.contextSuffix}/$entity`,
      ...renderGroup(found.doc, select.output),
    },
  };
}

export function createGroup(ctx: GraphContext): SimResponse {
  const body = jsonObjectBody(ctx.request);
  return insertGroup(ctx, body);
}

/**
 * `PATCH /groups/{id}`: properties and/or `members@odata.bind`. `PATCH /groups(uniqueName=…)`
 * is an update too, or with `Prefer: create-if-missing` an upsert (201 on create, 204 on
 * update; without the header a missing group is 404).
 */
export function updateGroup(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const uniqueName = segment.keys?.['uniqueName'];
  if (uniqueName !== undefined) {
    // Upsert takes the permissions of create group (Group.Create or higher), update or not.
    if (!hasAnyRole(ctx, UPSERT_ROLES)) throw graphErrors.insufficientPrivileges();
    const existing = ctx.store.getGroupByUniqueName(uniqueName);
    if (existing === undefined || existing.state !== 'active') {
      if (!prefersCreate(ctx)) throw graphErrors.resourceNotFound(uniqueName);
      if (existing !== undefined) {
        // A deleted group still holds its uniqueName until it is purged.
        throw graphErrors.objectConflict('uniqueName');
      }
      if (body['uniqueName'] !== undefined && body['uniqueName'] !== uniqueName) {
        throw graphErrors.invalidValue('uniqueName', 'Group');
      }
      return insertGroup(ctx, { ...body, uniqueName });
    }
  }
  const group = findGroup(ctx, segment);
  const { binds, properties } = splitBinds(body);
  const onlyMembers = Object.keys(properties).length === 0 && binds.owners.length === 0;
  if (
    uniqueName === undefined &&
    !hasAnyRole(ctx, onlyMembers ? MEMBER_WRITE_ROLES : GROUP_WRITE_ROLES)
  ) {
    throw graphErrors.insufficientPrivileges();
  }
  // Create-only properties may be repeated with their current value (an upsert replays the
  // same body every run); only a different value is refused.
  const current = (name: string): unknown =>
    group.doc[name] ?? (name === 'isAssignableToRole' ? false : null);
  for (const name of ['uniqueName', 'isAssignableToRole']) {
    if (name in properties && (properties[name] ?? false) === current(name))
      delete properties[name];
  }
  const changes = validateGroupWrite(properties, 'update');
  assertNotRestricted(ctx, group.doc);
  if (binds.members.length > 0 || binds.owners.length > 0) assertMembershipWrite(ctx, group);
  if (binds.members.length > 0) assertNotDynamic(group.doc);
  const next = compact({ ...group.doc, ...changes }) as DirectoryDocument;
  checkGroupShape(next);
  const members = binds.members.map((ref) => resolveReference(ctx, ref).doc.id);
  const owners = binds.owners.map((ref) => resolveReference(ctx, ref).doc.id);
  ctx.store.transaction(() => {
    if (Object.keys(changes).length > 0) {
      const result = ctx.store.updateObject('group', next, Object.keys(changes));
      if (!result.ok) throw graphErrors.objectConflict(result.conflict);
      const modified = modifiedProperties(group.doc, next, Object.keys(changes));
      audit(ctx, 'Update group', [{ kind: 'group', doc: next }], modified);
    }
    addReferences(ctx, group.doc.id, members, owners);
  });
  return { status: 204 };
}

export function deleteGroup(ctx: GraphContext, segment: PathSegment): SimResponse {
  const group = findGroup(ctx, segment);
  assertNotRestricted(ctx, group.doc);
  ctx.store.transaction(() => {
    if (isUnified(group.doc)) ctx.store.softDelete(group.doc.id, ctx.clock.now());
    else ctx.store.purge(group.doc.id, ctx.clock.now());
    audit(ctx, 'Delete group', [group]);
  });
  return { status: 204 };
}

// ---------------------------------------------------------------------------- members

/** `POST /groups/{id}/members/$ref` with `{"@odata.id": ".../directoryObjects/{id}"}`: 204. */
export function addMember(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const group = findGroup(ctx, segment);
  assertNotRestricted(ctx, group.doc);
  assertMembershipWrite(ctx, group);
  assertNotDynamic(group.doc);
  const member = resolveReference(ctx, body['@odata.id']);
  ctx.store.transaction(() => addReferences(ctx, group.doc.id, [member.doc.id], []));
  return { status: 204 };
}

/** `DELETE /groups/{id}/members/{memberId}/$ref`: 204, or 404 when not a member. */
export function removeMember(
  ctx: GraphContext,
  segment: PathSegment,
  memberId: string,
): SimResponse {
  const group = findGroup(ctx, segment);
  assertNotRestricted(ctx, group.doc);
  assertMembershipWrite(ctx, group);
  assertNotDynamic(group.doc);
  ctx.store.transaction(() => {
    if (!ctx.store.removeLink('member', group.doc.id, memberId, ctx.clock.now())) {
      throw graphErrors.resourceNotFound(memberId);
    }
    const member = ctx.store.getObject(memberId);
    audit(ctx, 'Remove member from group', member === undefined ? [group] : [member, group]);
  });
  return { status: 204 };
}

/** A user or group as a directoryObject: `@odata.type` first, then its properties. */
export function renderDirectoryObject(
  object: StoredObject,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  if (object.kind === 'user') {
    const names = (select ?? DEFAULT_USER_SELECT).filter((n) => canonicalUserProperty(n) === n);
    return { '@odata.type': odataType('user'), ...renderUser(object.doc as UserDocument, names) };
  }
  const names = (select ?? DEFAULT_GROUP_SELECT).filter((n) => canonicalGroupProperty(n) === n);
  return { '@odata.type': odataType('group'), ...renderGroup(object.doc, names) };
}

// ---------------------------------------------------------------------------- internals

function insertGroup(ctx: GraphContext, body: Readonly<Record<string, unknown>>): SimResponse {
  const { binds, properties } = splitBinds(body);
  const changes = validateGroupWrite(properties, 'create');
  checkGroupShape(changes);
  if (changes['isAssignableToRole'] === true && !hasAnyRole(ctx, [ROLE_ASSIGNABLE_ROLE])) {
    throw graphErrors.insufficientPrivileges();
  }
  if (binds.members.length + binds.owners.length > MAX_BINDS) {
    throw graphErrors.tooManyReferences();
  }
  if (binds.members.length > 0) assertNotDynamic(changes);
  const members = binds.members.map((ref) => resolveReference(ctx, ref).doc.id);
  const owners = binds.owners.map((ref) => resolveReference(ctx, ref).doc.id);
  const id = randomUUID();
  const created = nowDateTimeOffset(ctx.clock.now());
  const group = compact({
    ...changes,
    id,
    groupTypes: changes['groupTypes'] ?? [],
    ...derivedGroupProperties({ ...changes, id }, ctx.store.defaultDomain, created),
  }) as DirectoryDocument;
  ctx.store.transaction(() => {
    const result = ctx.store.insertObject('group', group);
    if (!result.ok) throw graphErrors.objectConflict(result.conflict);
    const names = Object.keys(changes).filter((name) => name in group);
    audit(
      ctx,
      'Add group',
      [{ kind: 'group', doc: group }],
      modifiedProperties(undefined, group, names),
    );
    addReferences(ctx, id, members, owners);
  });
  ctx.rules.created(id);
  return {
    status: 201,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#groups/$entity`,
      ...renderGroup(group, DEFAULT_GROUP_SELECT),
    },
  };
}

/** Adds members and owners inside the caller's transaction; any existing one adds nothing. */
export function addReferences(
  ctx: GraphContext,
  groupId: string,
  members: readonly string[],
  owners: readonly string[],
): void {
  if (members.length + owners.length > MAX_BINDS) throw graphErrors.tooManyReferences();
  if (members.includes(groupId.toLowerCase())) {
    throw graphErrors.invalidReference(groupId);
  }
  assertNestable(ctx, groupId, members);
  const addedMembers = ctx.store.addLinks('member', groupId, members, ctx.clock.now());
  if (!addedMembers.ok) throw graphErrors.referenceExists('members');
  const addedOwners = ctx.store.addLinks('owner', groupId, owners, ctx.clock.now());
  if (!addedOwners.ok) throw graphErrors.referenceExists('owners');
  const group = ctx.store.getObject(groupId);
  if (group === undefined) return;
  const added = (activity: 'Add member to group' | 'Add owner to group', id: string): void => {
    const object = ctx.store.getObject(id);
    if (object !== undefined) audit(ctx, activity, [object, group]);
  };
  for (const id of members) added('Add member to group', id);
  for (const id of owners) added('Add owner to group', id);
}

/**
 * Groups as members, as Graph allows them: a security group may contain security groups; a
 * Microsoft 365 group contains no group and is in none; a role-assignable group contains no
 * group. Graph answers 400 Request_BadRequest (its wording for Unified in Unified, observed;
 * the other cases in the same form).
 */
function assertNestable(ctx: GraphContext, groupId: string, members: readonly string[]): void {
  const nested = members
    .map((id) => ctx.store.getObject(id))
    .filter((o): o is StoredObject => o !== undefined && o.kind === 'group');
  if (nested.length === 0) return;
  const parent = ctx.store.getObject(groupId);
  if (parent === undefined) return;
  const refuse = (message: string) =>
    new GraphError(
      400,
      'Request_BadRequest',
      `${message} paramName: Members, paramValue: , objectType: Microsoft.Online.DirectoryServices.Group`,
    );
  const unifiedMember = nested.some((g) => isUnified(g.doc));
  if (isUnified(parent.doc)) {
    throw refuse(
      unifiedMember
        ? 'Unified Groups cannot be added to Unified Groups.'
        : 'Groups cannot be added to Unified Groups.',
    );
  }
  if (unifiedMember) throw refuse('Unified Groups cannot be added to Security Groups.');
  if (parent.doc['isAssignableToRole'] === true) {
    throw refuse('Groups cannot be added to role-assignable groups.');
  }
}

function splitBinds(body: Readonly<Record<string, unknown>>): {
  binds: { members: unknown[]; owners: unknown[] };
  properties: Record<string, unknown>;
} {
  const properties: Record<string, unknown> = {};
  const binds = { members: [] as unknown[], owners: [] as unknown[] };
  for (const [name, value] of Object.entries(body)) {
    if (name === 'members@odata.bind' || name === 'owners@odata.bind') {
      if (!Array.isArray(value)) {
        throw graphErrors.cannotConvert('Collection(Edm.String)', JSON.stringify(value));
      }
      binds[name === 'members@odata.bind' ? 'members' : 'owners'].push(...value);
    } else {
      properties[name] = value;
    }
  }
  if (binds.members.length + binds.owners.length > MAX_BINDS) {
    throw graphErrors.tooManyReferences();
  }
  return { binds, properties };
}

/** Members of a dynamic group come from its rule: Graph refuses to write them. */
function assertNotDynamic(group: Readonly<Record<string, unknown>>): void {
  const types = group['groupTypes'];
  if (Array.isArray(types) && types.includes('DynamicMembership')) {
    throw graphErrors.dynamicGroupMembers();
  }
}

export function assertMembershipWrite(ctx: GraphContext, group: StoredObject): void {
  if (!hasAnyRole(ctx, MEMBER_WRITE_ROLES)) throw graphErrors.insufficientPrivileges();
  if (group.doc['isAssignableToRole'] === true && !hasAnyRole(ctx, [ROLE_ASSIGNABLE_ROLE])) {
    throw graphErrors.insufficientPrivileges();
  }
}

function prefersCreate(ctx: GraphContext): boolean {
  return (header(ctx.request, 'prefer') ?? '')
    .split(',')
    .some((p) => p.trim().toLowerCase() === 'create-if-missing');
}

function isUnified(group: DirectoryDocument): boolean {
  return Array.isArray(group['groupTypes']) && group['groupTypes'].includes('Unified');
}

function compact(doc: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== null && v !== undefined));
}
