/**
 * Plan changes as Graph operations: plain data (method, URL, body, and what the write means),
 * so the executor can batch, retry and reconcile them without knowing the change kinds.
 *
 * Users come from the plan today. Groups and licenses (issue 8) plug in through the builders
 * below, each chosen so that replaying it is harmless:
 * - groups are upserted by `uniqueName` (`PATCH /groups(uniqueName='…')` with
 *   `Prefer: create-if-missing`): a replayed create updates instead of making a second group
 *   (displayName is not unique);
 * - members are added 20 per `members@odata.bind` PATCH; a chunk that meets "already exist"
 *   is redone one `$ref` at a time where "already a member" is success;
 * - licenses through `assignLicense`, which is idempotent for the same SKUs.
 */
import type { Change } from '../../engine/model/plan.js';
import type { AttributeValue, Attributes } from '../../engine/model/tenant.js';
import { unflatten } from './attributes.js';
import type { GraphOperation } from './batch-executor.js';

/** Attributes that identify an account as the one a create made: the anchor and the marker. */
export interface UserIdentity {
  /** Flattened path of the anchor attribute, e.g. `employeeId`. */
  readonly anchorAttribute: string;
  /** Flattened path of the managed marker, e.g. `onPremisesExtensionAttributes.extensionAttribute15`. */
  readonly markerAttribute: string;
}

export const DEFAULT_USER_IDENTITY: UserIdentity = {
  anchorAttribute: 'employeeId',
  markerAttribute: 'onPremisesExtensionAttributes.extensionAttribute15',
};

/** Most references one `members@odata.bind` PATCH may carry (Graph's documented limit). */
export const MEMBERS_PER_PATCH = 20;

export function operationFor(
  change: Change,
  password: () => string,
  identity: UserIdentity = DEFAULT_USER_IDENTITY,
): GraphOperation {
  switch (change.kind) {
    case 'createUser':
      return {
        changeId: change.id,
        request: {
          method: 'POST',
          url: '/users',
          body: {
            ...unflatten(change.attributes),
            passwordProfile: { password: password(), forceChangePasswordNextSignIn: true },
          },
        },
        semantics: {
          kind: 'create-user',
          userPrincipalName: change.user.userPrincipalName,
          proof: proofOf(change.attributes, identity),
        },
      };
    case 'updateUser':
    case 'adoptUser':
      return {
        changeId: change.id,
        request: {
          method: 'PATCH',
          url: `/users/${encodeURIComponent(change.user.id)}`,
          body: unflatten(Object.fromEntries(change.set.map((c) => [c.attribute, c.after]))),
        },
        semantics: { kind: 'update', objectId: change.user.id },
      };
    case 'enableUser':
    case 'disableUser':
      return {
        changeId: change.id,
        request: {
          method: 'PATCH',
          url: `/users/${encodeURIComponent(change.user.id)}`,
          body: { accountEnabled: change.kind === 'enableUser' },
        },
        semantics: { kind: 'update', objectId: change.user.id },
      };
  }
}

/**
 * The anchor and marker a create sets. Without an anchor (the marker alone could be on any
 * managed account), every attribute it sets.
 */
function proofOf(attributes: Attributes, identity: UserIdentity): Record<string, AttributeValue> {
  const anchor = attributes[identity.anchorAttribute];
  if (anchor === undefined || anchor === null) {
    return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
  }
  const proof: Record<string, AttributeValue> = { [identity.anchorAttribute]: anchor };
  const marker = attributes[identity.markerAttribute];
  if (marker !== undefined && marker !== null) proof[identity.markerAttribute] = marker;
  return proof;
}

/** Creates or updates a group by its `uniqueName`: safe to replay after a lost answer. */
export function upsertGroupOperation(
  changeId: string,
  uniqueName: string,
  properties: Readonly<Record<string, unknown>>,
): GraphOperation {
  return {
    changeId,
    request: {
      method: 'PATCH',
      url: `/groups(uniqueName='${encodeURIComponent(uniqueName.replace(/'/g, "''"))}')`,
      body: properties,
      headers: { Prefer: 'create-if-missing' },
    },
    semantics: { kind: 'upsert-group', uniqueName },
  };
}

/** Adds members, 20 per PATCH: one operation per chunk. */
export function addMembersOperations(
  changeId: string,
  groupId: string,
  memberIds: readonly string[],
  graphUrl = 'https://graph.microsoft.com',
): GraphOperation[] {
  const base = `${graphUrl.replace(/\/+$/, '')}/v1.0`;
  const out: GraphOperation[] = [];
  for (let start = 0; start < memberIds.length; start += MEMBERS_PER_PATCH) {
    const chunk = memberIds.slice(start, start + MEMBERS_PER_PATCH);
    out.push({
      changeId: out.length === 0 ? changeId : `${changeId}#${out.length}`,
      request: {
        method: 'PATCH',
        url: `/groups/${encodeURIComponent(groupId)}`,
        body: { 'members@odata.bind': chunk.map((id) => `${base}/directoryObjects/${id}`) },
      },
      semantics: { kind: 'add-members', groupId, memberIds: chunk },
    });
  }
  return out;
}

export interface LicenseAssignment {
  readonly skuId: string;
  readonly disabledPlans?: readonly string[];
}

/** Assigns and removes licenses of one user in one request. */
export function assignLicenseOperation(
  changeId: string,
  userId: string,
  add: readonly LicenseAssignment[],
  remove: readonly string[] = [],
): GraphOperation {
  return {
    changeId,
    request: {
      method: 'POST',
      url: `/users/${encodeURIComponent(userId)}/assignLicense`,
      body: {
        addLicenses: add.map((l) => ({
          skuId: l.skuId,
          disabledPlans: [...(l.disabledPlans ?? [])],
        })),
        removeLicenses: [...remove],
      },
    },
    semantics: { kind: 'assign-license', objectId: userId },
  };
}
