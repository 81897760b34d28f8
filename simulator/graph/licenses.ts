/**
 * License assignment: `POST /users/{id}/assignLicense` (direct) and
 * `POST /groups/{id}/assignLicense` (group-based licensing). Both take `addLicenses`
 * ([{skuId, disabledPlans}]) and `removeLicenses` ([skuId]), both required (empty arrays
 * allowed). What a user ends up holding, and the seat accounting, is licensing.ts's and the
 * store's job; this module validates requests and shapes Graph's answers.
 */
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import { jsonObjectBody } from '../http.js';
import type { AssignedLicense } from '../store.js';
import { audit, modifiedProperties } from './audit.js';
import type { GraphContext } from './context.js';
import { assertNotRestricted, findGroup, findUser, GUID } from './context.js';
import { DEFAULT_GROUP_SELECT, renderGroup } from './group-schema.js';
import type { PathSegment } from './odata.js';
import { DEFAULT_USER_SELECT, isPlainObject, renderUser } from './user-schema.js';

/**
 * `POST /users/{id}/assignLicense`: answers 200 with the user. Seats are checked per SKU the
 * user does not already hold (directly or through a group) against prepaid enabled + warning
 * units. Removing a SKU the user holds only through a group is Graph's 400; removing one it
 * holds directly leaves any inherited assignment of it in place.
 */
export function assignUserLicense(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const user = findUser(ctx, segment);
  assertNotRestricted(ctx, user.doc);
  const { add, remove } = parseAssignLicense(body);
  if (add.length > 0 && typeof user.doc['usageLocation'] !== 'string') {
    throw graphErrors.invalidUsageLocation();
  }
  const result = ctx.store.transaction(() => {
    const assigned = ctx.store.assignLicenses(user.doc.id, add, remove, ctx.clock.now());
    if (!assigned.ok) {
      throw assigned.reason === 'noSeats'
        ? graphErrors.noAvailableLicenses(assigned.skuId)
        : assigned.reason === 'inherited'
          ? graphErrors.licenseInheritedFromGroup()
          : graphErrors.invalidLicense(assigned.skuId);
    }
    const modified = modifiedProperties(user.doc, assigned.user, ['assignedLicenses']);
    audit(ctx, 'Change user license', [{ kind: 'user', doc: assigned.user }], modified);
    return assigned;
  });
  const { id, ...rest } = renderUser(result.user, DEFAULT_USER_SELECT);
  return {
    status: 200,
    body: { '@odata.context': `${ctx.origin}/v1.0/$metadata#users/$entity`, id, ...rest },
  };
}

/**
 * `POST /groups/{id}/assignLicense`: answers 202 Accepted with the group (default property
 * set) and a `location` header naming the directory object, as the reference page's example
 * does. Every direct user member inherits the group's licenses at once (Entra processes them
 * in the background; the simulator has nothing to wait for). Members without a free seat get
 * a `CountViolation` assignment state instead of failing the request; usage location is not
 * checked (Entra falls back to the tenant's country for group-based licensing).
 * Group-based licensing needs a security-enabled group.
 */
export function assignGroupLicense(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const group = findGroup(ctx, segment);
  assertNotRestricted(ctx, group.doc);
  const { add, remove } = parseAssignLicense(body);
  if (group.doc['securityEnabled'] !== true) throw graphErrors.licensedGroupNotSecurityEnabled();
  const result = ctx.store.transaction(() => {
    const assigned = ctx.store.assignGroupLicenses(group.doc.id, add, remove, ctx.clock.now());
    if (!assigned.ok) throw graphErrors.invalidLicense(assigned.skuId);
    const modified = modifiedProperties(group.doc, assigned.group, ['assignedLicenses']);
    audit(ctx, 'Set group license', [{ kind: 'group', doc: assigned.group }], modified);
    return assigned;
  });
  return {
    status: 202,
    headers: {
      Location: `${ctx.origin}/v2/${ctx.store.tenantId}/directoryObjects/${group.doc.id}/Microsoft.DirectoryServices.Group`,
    },
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#groups/$entity`,
      ...renderGroup(result.group, DEFAULT_GROUP_SELECT),
    },
  };
}

/** The two required parameters of assignLicense; any other property is Graph's 400. */
function parseAssignLicense(body: Readonly<Record<string, unknown>>): {
  add: AssignedLicense[];
  remove: string[];
} {
  for (const name of Object.keys(body)) {
    if (name !== 'addLicenses' && name !== 'removeLicenses') {
      throw graphErrors.invalidProperty(name);
    }
  }
  return {
    add: parseAddLicenses(body['addLicenses']),
    remove: parseRemoveLicenses(body['removeLicenses']),
  };
}

function parseAddLicenses(value: unknown): AssignedLicense[] {
  if (value === undefined || value === null) {
    throw graphErrors.propertyRequired('addLicenses', 'assignLicense');
  }
  if (!Array.isArray(value)) {
    throw graphErrors.cannotConvert('Collection(microsoft.graph.assignedLicense)', String(value));
  }
  return value.map((entry: unknown) => {
    if (!isPlainObject(entry)) {
      throw graphErrors.cannotConvert('microsoft.graph.assignedLicense', JSON.stringify(entry));
    }
    const skuId = entry['skuId'];
    const disabled = entry['disabledPlans'] ?? [];
    if (typeof skuId !== 'string' || !GUID.test(skuId)) {
      throw graphErrors.cannotConvert('Edm.Guid', String(skuId));
    }
    if (!Array.isArray(disabled)) {
      throw graphErrors.cannotConvert('Collection(Edm.Guid)', JSON.stringify(disabled));
    }
    for (const plan of disabled) {
      if (typeof plan !== 'string' || !GUID.test(plan)) {
        throw graphErrors.cannotConvert('Edm.Guid', String(plan));
      }
    }
    return { skuId, disabledPlans: disabled as string[] };
  });
}

function parseRemoveLicenses(value: unknown): string[] {
  if (value === undefined || value === null) {
    throw graphErrors.propertyRequired('removeLicenses', 'assignLicense');
  }
  if (!Array.isArray(value)) {
    throw graphErrors.cannotConvert('Collection(Edm.Guid)', String(value));
  }
  for (const skuId of value) {
    if (typeof skuId !== 'string' || !GUID.test(skuId)) {
      throw graphErrors.cannotConvert('Edm.Guid', String(skuId));
    }
  }
  return value as string[];
}
