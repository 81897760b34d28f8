/**
 * Directory-wide routes: the recycle bin (`/directory/deletedItems`: list by type cast, get,
 * restore, permanent delete), `/directoryObjects/{id}`, administrative units (read-only; a
 * restricted-management unit makes writes to its members 403, see context.ts), role
 * assignments and PIM eligibility schedules (`/roleManagement/directory/...`, read-only, so
 * entrasync can find admins), and `/subscribedSkus`.
 */
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import type {
  DirectoryDocument,
  DocKind,
  ObjectKind,
  StoredObject,
  UserDocument,
} from '../store.js';
import { audit } from './audit.js';
import type { GraphContext } from './context.js';
import { findObject, GUID, hasAnyRole, odataType, parseSelect } from './context.js';
import type { FilterSchema } from './filter.js';
import { checkFilter } from './filter.js';
import { evaluateFilter } from './filter-backends.js';
import { DEFAULT_GROUP_SELECT, renderGroup } from './group-schema.js';
import { renderDirectoryObject } from './groups.js';
import { deletedShape } from './collections.js';
import { listCollection } from './list.js';
import { parseSystemQuery } from './odata.js';
import { DEFAULT_USER_SELECT, renderUser, USER_PROPERTIES, USER_RESOURCE } from './user-schema.js';
import { assertVerifiedUpnDomain } from './domains.js';
import { jsonObjectBody } from '../http.js';

const CASTS: Readonly<Record<string, ObjectKind>> = {
  'microsoft.graph.user': 'user',
  'microsoft.graph.group': 'group',
};

// ---------------------------------------------------------------------------- deletedItems

/** `GET /directory/deletedItems/microsoft.graph.user` (or `.group`): the type cast is required. */
export function listDeletedItems(ctx: GraphContext, cast: string | undefined): SimResponse {
  const kind = cast === undefined ? undefined : CASTS[cast.toLowerCase()];
  if (kind === undefined) {
    throw cast === undefined
      ? graphErrors.notImplemented(
          '/directory/deletedItems without a type cast (Graph requires one)',
        )
      : graphErrors.segmentNotFound(cast);
  }
  if (!canReadKind(ctx, kind)) throw graphErrors.insufficientPrivileges();
  return listCollection(ctx, deletedShape(kind));
}

export function getDeletedItem(ctx: GraphContext, id: string): SimResponse {
  const object = findDeleted(ctx, id);
  if (!canReadKind(ctx, object.kind)) throw graphErrors.insufficientPrivileges();
  return { status: 200, body: deletedEntity(ctx, object) };
}

/**
 * `POST /directory/deletedItems/{id}/restore`: 200 with the restored object. A user's restore
 * takes the optional parameters Graph documents: `newUserPrincipalName` (the old one is another
 * user's now) and `autoReconcileProxyConflict` (drop the addresses another object holds now).
 * Without them a taken UPN or address fails with 400 ObjectConflict, as Graph does.
 */
export function restoreDeletedItem(ctx: GraphContext, id: string): SimResponse {
  const object = findDeleted(ctx, id);
  if (!canWriteKind(ctx, object.kind)) throw graphErrors.insufficientPrivileges();
  const params = restoreParameters(ctx, object.kind);
  const { deletedDateTime: _deleted, ...doc } = object.doc;
  const restored = (
    params.newUserPrincipalName === undefined
      ? doc
      : { ...doc, userPrincipalName: params.newUserPrincipalName }
  ) as DirectoryDocument;
  const fresh = ctx.store.transaction(() => {
    const result = ctx.store.restore(object.doc.id, restored, ctx.clock.now(), {
      reconcileAddresses: params.autoReconcileProxyConflict,
    });
    if (!result.ok) throw graphErrors.objectConflict(result.conflict);
    const after = ctx.store.getObject(object.doc.id);
    audit(ctx, object.kind === 'user' ? 'Restore user' : 'Restore group', [after ?? object]);
    return after;
  });
  return { status: 200, body: deletedEntity(ctx, fresh ?? object) };
}

function restoreParameters(
  ctx: GraphContext,
  kind: ObjectKind,
): { newUserPrincipalName?: string; autoReconcileProxyConflict: boolean } {
  const body = ctx.request.body.length === 0 ? {} : jsonObjectBody(ctx.request);
  let newUserPrincipalName: string | undefined;
  let autoReconcileProxyConflict = false;
  for (const [name, value] of Object.entries(body)) {
    if (name === 'newUserPrincipalName' && kind === 'user') {
      const upn = USER_PROPERTIES.userPrincipalName;
      if (
        typeof value !== 'string' ||
        value.length > (upn?.maxLength ?? 113) ||
        !upn?.valid?.(value)
      ) {
        throw graphErrors.invalidValue('userPrincipalName', USER_RESOURCE);
      }
      assertVerifiedUpnDomain(ctx, value);
      newUserPrincipalName = value;
    } else if (name === 'autoReconcileProxyConflict' && kind === 'user') {
      if (typeof value !== 'boolean') throw graphErrors.invalidValue(name, USER_RESOURCE);
      autoReconcileProxyConflict = value;
    } else {
      throw graphErrors.invalidProperty(name);
    }
  }
  return {
    ...(newUserPrincipalName === undefined ? {} : { newUserPrincipalName }),
    autoReconcileProxyConflict,
  };
}

/** `DELETE /directory/deletedItems/{id}`: permanent deletion, 204. */
export function purgeDeletedItem(ctx: GraphContext, id: string): SimResponse {
  const object = findDeleted(ctx, id);
  if (!canWriteKind(ctx, object.kind)) throw graphErrors.insufficientPrivileges();
  ctx.store.transaction(() => {
    ctx.store.purge(object.doc.id, ctx.clock.now());
    audit(ctx, object.kind === 'user' ? 'Hard delete user' : 'Hard delete group', [object]);
  });
  return { status: 204 };
}

function findDeleted(ctx: GraphContext, id: string): StoredObject {
  const object = GUID.test(id) ? ctx.store.getObject(id) : undefined;
  if (object === undefined || object.state !== 'deleted') throw graphErrors.resourceNotFound(id);
  return object;
}

function deletedEntity(ctx: GraphContext, object: StoredObject): Record<string, unknown> {
  const select =
    object.kind === 'user' ? [...DEFAULT_USER_SELECT, 'deletedDateTime'] : DEFAULT_GROUP_SELECT;
  return {
    '@odata.context': `${ctx.origin}/v1.0/$metadata#directoryObjects/$entity`,
    '@odata.type': odataType(object.kind),
    ...(object.kind === 'user'
      ? renderUser(object.doc as UserDocument, select)
      : renderGroup(object.doc, select)),
  };
}

const USER_READ = [
  'User.Read.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const GROUP_READ = [
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];

function canReadKind(ctx: GraphContext, kind: ObjectKind): boolean {
  return hasAnyRole(ctx, kind === 'user' ? USER_READ : GROUP_READ);
}

function canWriteKind(ctx: GraphContext, kind: ObjectKind): boolean {
  return hasAnyRole(
    ctx,
    kind === 'user'
      ? ['User.DeleteRestore.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All']
      : ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  );
}

/** `GET /directoryObjects/{id}`: a user or group with its `@odata.type`. */
export function getDirectoryObject(ctx: GraphContext, id: string): SimResponse {
  const object = findObject(ctx, id);
  if (!canReadKind(ctx, object.kind)) throw graphErrors.insufficientPrivileges();
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#directoryObjects/$entity`,
      ...renderDirectoryObject(object, undefined),
    },
  };
}

// ---------------------------------------------------------------------------- admin units

const AU_PROPERTIES = [
  'id',
  'deletedDateTime',
  'displayName',
  'description',
  'isMemberManagementRestricted',
  'membershipRule',
  'membershipRuleProcessingState',
  'membershipType',
  'visibility',
];

function renderDoc(doc: DirectoryDocument, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [n, doc[n] ?? null]));
}

export function listAdministrativeUnits(ctx: GraphContext): SimResponse {
  parseSystemQuery(ctx.request.url.searchParams, []);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#directory/administrativeUnits`,
      value: ctx.store.listDocs('administrativeUnit').map((d) => renderDoc(d, AU_PROPERTIES)),
    },
  };
}

export function getAdministrativeUnit(ctx: GraphContext, id: string): SimResponse {
  parseSystemQuery(ctx.request.url.searchParams, []);
  const unit = ctx.store.getDoc('administrativeUnit', id.toLowerCase());
  if (unit === undefined) throw graphErrors.resourceNotFound(id);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#directory/administrativeUnits/$entity`,
      ...renderDoc(unit, AU_PROPERTIES),
    },
  };
}

export function listAdministrativeUnitMembers(ctx: GraphContext, id: string): SimResponse {
  parseSystemQuery(ctx.request.url.searchParams, []);
  const unit = ctx.store.getDoc('administrativeUnit', id.toLowerCase());
  if (unit === undefined) throw graphErrors.resourceNotFound(id);
  const value = ctx.store.pageLinks('auMember', unit.id, 0, 100_000).flatMap((link) => {
    const object = ctx.store.getObject(link.targetId);
    return object === undefined || object.state !== 'active'
      ? []
      : [renderDirectoryObject(object, undefined)];
  });
  return {
    status: 200,
    body: { '@odata.context': `${ctx.origin}/v1.0/$metadata#directoryObjects`, value },
  };
}

// ---------------------------------------------------------------------------- role management

const ASSIGNMENT_FILTER: FilterSchema = {
  typeName: 'microsoft.graph.unifiedRoleAssignment',
  resourceName: 'unifiedRoleAssignment',
  properties: [
    { name: 'id', type: 'string', jsonPath: '$.id', eq: 'default' },
    { name: 'principalId', type: 'string', jsonPath: '$.principalId', eq: 'default' },
    { name: 'roleDefinitionId', type: 'string', jsonPath: '$.roleDefinitionId', eq: 'default' },
    { name: 'directoryScopeId', type: 'string', jsonPath: '$.directoryScopeId', eq: 'default' },
  ],
  knownProperty: (name) =>
    ['id', 'principalId', 'roleDefinitionId', 'directoryScopeId', 'appScopeId', 'condition'].find(
      (n) => n.toLowerCase() === name.toLowerCase(),
    ),
};

const ROLE_READ = [
  'RoleManagement.Read.Directory',
  'RoleManagement.Read.All',
  'RoleManagement.ReadWrite.Directory',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const ELIGIBILITY_READ = [
  'RoleEligibilitySchedule.Read.Directory',
  'RoleEligibilitySchedule.ReadWrite.Directory',
  ...ROLE_READ.filter((r) => !r.startsWith('Directory.')),
];

/**
 * `GET /roleManagement/directory/roleAssignments` and `/roleEligibilitySchedules`, with
 * `$filter` (eq / in on principalId, roleDefinitionId, directoryScopeId) and
 * `$expand=principal` / `$expand=roleDefinition`.
 */
export function listRoleDocs(
  ctx: GraphContext,
  kind: 'roleAssignment' | 'roleEligibilitySchedule',
): SimResponse {
  if (!hasAnyRole(ctx, kind === 'roleAssignment' ? ROLE_READ : ELIGIBILITY_READ)) {
    throw graphErrors.insufficientPrivileges();
  }
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$filter', '$expand']);
  const expand = parseExpand(query.$expand);
  const filter =
    query.$filter === undefined ? undefined : checkFilter(query.$filter, ASSIGNMENT_FILTER, false);
  const docs = ctx.store
    .listDocs(kind)
    .filter((doc) => filter === undefined || evaluateFilter(filter, doc));
  const collection = kind === 'roleAssignment' ? 'roleAssignments' : 'roleEligibilitySchedules';
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#roleManagement/directory/${collection}${
        expand.length === 0 ? '' : `(${expand.map((e) => `${e}()`).join(',')})`
      }`,
      value: docs.map((doc) => expandRoleDoc(ctx, doc, expand)),
    },
  };
}

export function getRoleDoc(
  ctx: GraphContext,
  kind: 'roleAssignment' | 'roleEligibilitySchedule',
  id: string,
): SimResponse {
  if (!hasAnyRole(ctx, kind === 'roleAssignment' ? ROLE_READ : ELIGIBILITY_READ)) {
    throw graphErrors.insufficientPrivileges();
  }
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$expand']);
  const doc = ctx.store.getDoc(kind, id);
  if (doc === undefined) throw graphErrors.resourceNotFound(id);
  const collection = kind === 'roleAssignment' ? 'roleAssignments' : 'roleEligibilitySchedules';
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#roleManagement/directory/${collection}/$entity`,
      ...expandRoleDoc(ctx, doc, parseExpand(query.$expand)),
    },
  };
}

export function listRoleDefinitions(ctx: GraphContext): SimResponse {
  if (!hasAnyRole(ctx, ROLE_READ)) throw graphErrors.insufficientPrivileges();
  parseSystemQuery(ctx.request.url.searchParams, []);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#roleManagement/directory/roleDefinitions`,
      value: ctx.store.listDocs('roleDefinition'),
    },
  };
}

function parseExpand(raw: string | undefined): ('principal' | 'roleDefinition')[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const name = part.trim().toLowerCase();
    if (name === 'principal') return 'principal';
    if (name === 'roledefinition') return 'roleDefinition';
    throw graphErrors.unknownSelectProperty(part.trim(), 'microsoft.graph.unifiedRoleAssignment');
  });
}

function expandRoleDoc(
  ctx: GraphContext,
  doc: DirectoryDocument,
  expand: readonly ('principal' | 'roleDefinition')[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  if (expand.includes('principal')) {
    const principal = ctx.store.getObject(String(doc['principalId']));
    out['principal'] =
      principal === undefined || principal.state !== 'active'
        ? null
        : renderDirectoryObject(principal, undefined);
  }
  if (expand.includes('roleDefinition')) {
    out['roleDefinition'] =
      ctx.store.getDoc('roleDefinition', String(doc['roleDefinitionId'])) ?? null;
  }
  return out;
}

// ---------------------------------------------------------------------------- subscribedSkus

const SKU_ORDER = [
  'accountName',
  'accountId',
  'appliesTo',
  'capabilityStatus',
  'consumedUnits',
  'id',
  'prepaidUnits',
  'servicePlans',
  'skuId',
  'skuPartNumber',
  'subscriptionIds',
];

const SKU_READ = [
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'LicenseAssignment.Read.All',
  'LicenseAssignment.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];

/** `GET /subscribedSkus`: prepaid and consumed units per SKU (`$select` only, as Graph). */
export function listSubscribedSkus(ctx: GraphContext): SimResponse {
  if (!hasAnyRole(ctx, SKU_READ)) throw graphErrors.insufficientPrivileges();
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$select']);
  const select = parseSelect(
    query.$select,
    (name) => SKU_ORDER.find((n) => n.toLowerCase() === name.toLowerCase()),
    'microsoft.graph.subscribedSku',
    SKU_ORDER,
  );
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#subscribedSkus${select.contextSuffix}`,
      value: ctx.store.listSkus().map((sku) => {
        const full = renderSku(ctx, sku.skuId, sku.doc, sku.consumedUnits);
        return Object.fromEntries(select.output.map((n) => [n, full[n] ?? null]));
      }),
    },
  };
}

export function getSubscribedSku(ctx: GraphContext, id: string): SimResponse {
  if (!hasAnyRole(ctx, SKU_READ)) throw graphErrors.insufficientPrivileges();
  parseSystemQuery(ctx.request.url.searchParams, ['$select']);
  const sku = ctx.store
    .listSkus()
    .find(
      (s) =>
        `${ctx.store.tenantId}_${s.skuId}` === id.toLowerCase() || s.skuId === id.toLowerCase(),
    );
  if (sku === undefined) throw graphErrors.resourceNotFound(id);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#subscribedSkus/$entity`,
      ...renderSku(ctx, sku.skuId, sku.doc, sku.consumedUnits),
    },
  };
}

function renderSku(
  ctx: GraphContext,
  skuId: string,
  doc: Readonly<Record<string, unknown>>,
  consumedUnits: number,
): Record<string, unknown> {
  const prepaid = (doc['prepaidUnits'] ?? {}) as Record<string, unknown>;
  return {
    accountName: doc['accountName'] ?? 'entrasync simulator',
    accountId: doc['accountId'] ?? ctx.store.tenantId,
    appliesTo: doc['appliesTo'] ?? 'User',
    capabilityStatus: doc['capabilityStatus'] ?? 'Enabled',
    consumedUnits,
    id: `${ctx.store.tenantId}_${skuId}`,
    prepaidUnits: {
      enabled: prepaid['enabled'] ?? 0,
      lockedOut: prepaid['lockedOut'] ?? 0,
      suspended: prepaid['suspended'] ?? 0,
      warning: prepaid['warning'] ?? 0,
    },
    servicePlans: doc['servicePlans'] ?? [],
    skuId,
    skuPartNumber: doc['skuPartNumber'] ?? null,
    subscriptionIds: doc['subscriptionIds'] ?? [],
  };
}

export type { DocKind };
