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
import { groupKey, userKey } from '../../engine/apply/apply.js';
import { isGroupChange } from '../../engine/model/plan.js';
import type {
  Change,
  CreateUserChange,
  GroupRef,
  LicenseRef,
  UpdateUserChange,
  UserRef,
} from '../../engine/model/plan.js';
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

/** How an operation names objects this run created: their ids, from the engine's apply. */
export interface IdResolver {
  user(ref: UserRef): string | undefined;
  group(ref: GroupRef): string | undefined;
}

/** Ids as the plan has them: enough when nothing in the change is created by the same run. */
export const PLAN_IDS: IdResolver = { user: (u) => u.id, group: (g) => g.id };

export function resolverFor(createdIds: ReadonlyMap<string, string>): IdResolver {
  return {
    user: (u) => u.id ?? createdIds.get(userKey(u)),
    group: (g) => g.id ?? createdIds.get(groupKey(g)),
  };
}

/** Operations of one change, or why it cannot be sent (an object it names has no id). */
export type ChangeOperations =
  | {
      readonly ok: true;
      readonly operations: readonly GraphOperation[];
      readonly missing: readonly string[];
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface OperationOptions {
  readonly password: () => string;
  readonly identity?: UserIdentity;
  readonly ids?: IdResolver;
  /** Base of `@odata.id` references: `https://graph.microsoft.com/v1.0`. */
  readonly referenceBase?: string;
  /** The apply's time (ISO 8601), written to the deprovisioning state attribute on a disable. */
  readonly now?: () => string;
}

/**
 * The Graph requests of a change: one for most; one per member for `removeMembers` (Graph
 * removes members one `$ref` at a time). Members of an `addMembers` change whose create did
 * not apply have no id: they are left out and listed in `missing`, so one failed create never
 * holds back the others of the chunk.
 */
export function operationsFor(change: Change, options: OperationOptions): ChangeOperations {
  const ids = options.ids ?? PLAN_IDS;
  const base = (options.referenceBase ?? 'https://graph.microsoft.com/v1.0').replace(/\/+$/, '');
  const one = (operation: GraphOperation): ChangeOperations => ({
    ok: true,
    operations: [operation],
    missing: [],
  });
  const noId = (what: string): ChangeOperations => ({
    ok: false,
    code: 'not-created',
    message: `${what} has no id: the change that creates it did not apply`,
  });
  if (change.kind === 'createUser') {
    return one(operationFor(change, options.password, options.identity));
  }
  if (change.kind === 'onboardUser') {
    // Several dependent requests with a credential in between: onboard.ts, never a batch.
    return { ok: false, code: 'internal', message: 'onboardUser is carried out by onboard.ts' };
  }
  if (isGroupChange(change)) {
    if (change.kind === 'createGroup') {
      const p = change.properties;
      return one(
        upsertGroupOperation(change.id, change.group.uniqueName, {
          displayName: p.displayName,
          ...(p.description === null ? {} : { description: p.description }),
          mailNickname: p.mailNickname,
          mailEnabled: p.mailEnabled,
          securityEnabled: p.securityEnabled,
          groupTypes: [...p.groupTypes],
          ...(p.membershipRule === undefined
            ? {}
            : {
                membershipRule: p.membershipRule,
                membershipRuleProcessingState: p.membershipRuleProcessingState ?? 'On',
              }),
          ...(change.owners.length > 0
            ? { 'owners@odata.bind': change.owners.map((o) => `${base}/users/${o.id}`) }
            : {}),
        }),
      );
    }
    const groupId = ids.group(change.group);
    if (groupId === undefined) return noId(`group ${change.group.displayName}`);
    switch (change.kind) {
      case 'updateGroup':
        return one({
          changeId: change.id,
          request: {
            method: 'PATCH',
            url: `/groups/${encodeURIComponent(groupId)}`,
            body: Object.fromEntries(change.set.map((c) => [c.attribute, c.after])),
          },
          semantics: { kind: 'update', objectId: groupId },
        });
      case 'assignGroupLicenses':
      case 'removeGroupLicenses':
        return one(
          assignLicenseOperation(
            change.id,
            groupId,
            change.kind === 'assignGroupLicenses' ? licensesToAdd(change.licenses) : [],
            change.kind === 'removeGroupLicenses' ? change.licenses.map((l) => l.skuId) : [],
            'groups',
          ),
        );
      case 'addOwners':
      case 'removeOwners':
        return ownerOperations(change.id, change.kind, groupId, change.owners, base);
      case 'addMembers':
      case 'removeMembers': {
        // Users and nested groups alike are directoryObjects to Graph: one `members@odata.bind`
        // PATCH adds either, one `$ref` DELETE removes either.
        const found: string[] = [];
        const missing: string[] = [];
        for (const m of change.members) {
          const id = ids.user(m);
          if (id === undefined) missing.push(m.userPrincipalName);
          else found.push(id);
        }
        for (const g of change.memberGroups ?? []) {
          const id = ids.group(g);
          if (id === undefined) missing.push(`group ${g.displayName}`);
          else found.push(id);
        }
        if (found.length === 0) {
          return {
            ok: false,
            code: 'not-created',
            message: `none of the members has an id: their creates did not apply (${missing.join(', ')})`,
          };
        }
        if (change.kind === 'addMembers') {
          const [operation] = addMembersOperations(
            change.id,
            groupId,
            found,
            base.replace(/\/v1\.0$/, ''),
          );
          return { ok: true, operations: operation ? [operation] : [], missing };
        }
        return {
          ok: true,
          operations: found.map((memberId, i) => ({
            changeId: i === 0 ? change.id : `${change.id}#${i}`,
            request: {
              method: 'DELETE',
              url: `/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(memberId)}/$ref`,
            },
            semantics: { kind: 'remove-member', groupId, memberId },
          })),
          missing,
        };
      }
    }
  }
  const userId = ids.user(change.user);
  if (userId === undefined) return noId(change.user.userPrincipalName);
  const ref = { ...change.user, id: userId };
  switch (change.kind) {
    case 'updateUser':
    case 'adoptUser':
      return one(operationFor({ ...change, user: ref }, options.password, options.identity));
    case 'enableUser':
    case 'disableUser': {
      const state =
        change.stateAttribute === undefined
          ? {}
          : {
              [change.stateAttribute]:
                change.kind === 'disableUser'
                  ? (options.now ?? (() => new Date().toISOString()))()
                  : null,
            };
      const patch: GraphOperation = {
        changeId: change.id,
        request: {
          method: 'PATCH',
          url: `/users/${encodeURIComponent(userId)}`,
          body: { accountEnabled: change.kind === 'enableUser', ...unflatten(state) },
        },
        semantics: { kind: 'update', objectId: userId },
      };
      if (!change.revokeSessions) return one(patch);
      return {
        ok: true,
        missing: [],
        operations: [
          patch,
          {
            changeId: `${change.id}#revoke`,
            request: {
              method: 'POST',
              url: `/users/${encodeURIComponent(userId)}/revokeSignInSessions`,
              body: {},
            },
            semantics: { kind: 'update', objectId: userId },
          },
        ],
      };
    }
    case 'revokeSessions':
      // The same request a disable sends with it (A9: sent again until Graph shows it).
      return one({
        changeId: change.id,
        request: {
          method: 'POST',
          url: `/users/${encodeURIComponent(userId)}/revokeSignInSessions`,
          body: {},
        },
        semantics: { kind: 'update', objectId: userId },
      });
    case 'deleteUser':
      return one({
        changeId: change.id,
        request: { method: 'DELETE', url: `/users/${encodeURIComponent(userId)}` },
        semantics: { kind: 'delete-user', objectId: userId },
      });
    case 'restoreUser':
      return one({
        changeId: change.id,
        request: {
          method: 'POST',
          url: `/directory/deletedItems/${encodeURIComponent(userId)}/restore`,
          // Both documented on the restore action (Graph reference, "Restore deleted item").
          body: {
            ...(change.newUserPrincipalName === undefined
              ? {}
              : { newUserPrincipalName: change.newUserPrincipalName }),
            ...(change.autoReconcileProxyConflict ? { autoReconcileProxyConflict: true } : {}),
          },
        },
        semantics: { kind: 'update', objectId: userId },
      });
    case 'setManager': {
      const managerId = ids.user(change.manager);
      if (managerId === undefined) return noId(`manager ${change.manager.userPrincipalName}`);
      return one({
        changeId: change.id,
        request: {
          method: 'PUT',
          url: `/users/${encodeURIComponent(userId)}/manager/$ref`,
          body: { '@odata.id': `${base}/users/${managerId}` },
        },
        semantics: { kind: 'update', objectId: userId },
      });
    }
    case 'assignLicenses':
    case 'removeLicenses':
      return one(
        assignLicenseOperation(
          change.id,
          userId,
          change.kind === 'assignLicenses' ? licensesToAdd(change.licenses) : [],
          change.kind === 'removeLicenses' ? change.licenses.map((l) => l.skuId) : [],
        ),
      );
  }
}

function licensesToAdd(licenses: readonly LicenseRef[]): LicenseAssignment[] {
  return licenses.map((l) => ({ skuId: l.skuId, disabledPlans: l.disabledPlanIds }));
}

/** The request of a user create, update or enable/disable whose ids are all known. */
export function operationFor(
  change: CreateUserChange | UpdateUserChange,
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

/** Assigns and removes licenses of one user (or, for group-based licensing, one group) in one request. */
export function assignLicenseOperation(
  changeId: string,
  objectId: string,
  add: readonly LicenseAssignment[],
  remove: readonly string[] = [],
  collection: 'users' | 'groups' = 'users',
): GraphOperation {
  return {
    changeId,
    request: {
      method: 'POST',
      url: `/${collection}/${encodeURIComponent(objectId)}/assignLicense`,
      body: {
        addLicenses: add.map((l) => ({
          skuId: l.skuId,
          disabledPlans: [...(l.disabledPlans ?? [])],
        })),
        removeLicenses: [...remove],
      },
    },
    semantics: { kind: 'assign-license', objectId },
  };
}

/**
 * One `$ref` request per owner: `POST /groups/{id}/owners/$ref` to add ("already exist" is
 * success), `DELETE /groups/{id}/owners/{ownerId}/$ref` to remove (404 is success). The plan
 * puts a group's additions before its removals, and the applier runs them in that order.
 */
function ownerOperations(
  changeId: string,
  kind: 'addOwners' | 'removeOwners',
  groupId: string,
  owners: readonly Required<UserRef>[],
  base: string,
): ChangeOperations {
  const group = encodeURIComponent(groupId);
  return {
    ok: true,
    missing: [],
    operations: owners.map((owner, i) => ({
      changeId: i === 0 ? changeId : `${changeId}#${i}`,
      request:
        kind === 'addOwners'
          ? {
              method: 'POST',
              url: `/groups/${group}/owners/$ref`,
              body: { '@odata.id': `${base}/users/${owner.id}` },
            }
          : {
              method: 'DELETE',
              url: `/groups/${group}/owners/${encodeURIComponent(owner.id)}/$ref`,
            },
      semantics: {
        kind: kind === 'addOwners' ? 'add-owner' : 'remove-owner',
        groupId,
        ownerId: owner.id,
      },
    })),
  };
}
