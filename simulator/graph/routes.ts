/**
 * The Graph v1.0 surface the simulator answers: OData path -> handler per method, with the
 * application permissions that grant it (Graph permissions reference; handlers refine where
 * Graph does, e.g. password resets and role-assignable groups) and the base resource-unit cost
 * Graph's identity throttling charges (throttling-limits page: GET users 2, GET
 * groups/{id}/members 3, GET subscribedSkus 3, anything else 1).
 *
 * Paths Graph has and the simulator does not answer 501 NotImplemented (a status Graph would
 * not send for them), so a missing feature is never mistaken for data.
 */
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import type { GraphContext } from './context.js';
import { GUID } from './context.js';
import {
  APPLICATIONS_READ,
  APPLICATIONS_WRITE,
  createExtensionProperty,
  listExtensionProperties,
} from './applications.js';
import { AUDIT_LOG_READ, listDirectoryAudits } from './audit.js';
import { authenticationRoute, policiesRoute } from './authentication.js';
import { delta } from './delta.js';
import { DOMAIN_READ, getDomain, listDomains } from './domains.js';
import {
  getAdministrativeUnit,
  getDeletedItem,
  getDirectoryObject,
  getRoleDoc,
  getSubscribedSku,
  listAdministrativeUnitMembers,
  listAdministrativeUnits,
  listDeletedItems,
  listRoleDefinitions,
  listRoleDocs,
  listSubscribedSkus,
  purgeDeletedItem,
  restoreDeletedItem,
} from './directory.js';
import {
  addMember,
  createGroup,
  countGroups,
  deleteGroup,
  getGroup,
  listGroups,
  removeMember,
  updateGroup,
} from './groups.js';
import {
  COLLECTION_MEMBERS,
  GRAPH_ROOTS,
  GROUP_MEMBERS,
  USER_MEMBERS,
  withoutNamespace,
} from './known-paths.js';
import { countMembers, listMembers, memberCast } from './member-lists.js';
import { addOwner, removeOwner } from './owners.js';
import { assignGroupLicense, assignUserLicense } from './licenses.js';
import { MAIL_SEND, sendMail } from './mail.js';
import type { PathSegment } from './odata.js';
import {
  countUsers,
  createUser,
  deleteUser,
  getManager,
  getUser,
  listUsers,
  removeManager,
  revokeSignInSessions,
  setManager,
  updateUser,
} from './users.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteHandler {
  /** Application permissions any one of which grants the route (handlers may refine). */
  readonly permission: readonly string[];
  readonly run: (ctx: GraphContext) => SimResponse;
  /** Graph's base resource-unit cost for throttling; default 1. */
  readonly cost?: number;
}

export type Route = Partial<Record<Method, RouteHandler>>;

const DIR_READ = ['Directory.Read.All', 'Directory.ReadWrite.All'];
const DIR_WRITE = ['Directory.ReadWrite.All'];
export const PERMISSIONS = {
  usersRead: ['User.Read.All', 'User.ReadWrite.All', ...DIR_READ],
  usersCreate: ['User.ReadWrite.All', ...DIR_WRITE],
  usersUpdate: [
    'User.ReadWrite.All',
    'User.ReadUpdate.All',
    'User.EnableDisableAccount.All',
    'User-PasswordProfile.ReadWrite.All',
    ...DIR_WRITE,
  ],
  usersDelete: ['User.DeleteRestore.All', 'User.ReadWrite.All', ...DIR_WRITE],
  usersManager: ['User.ReadWrite.All', ...DIR_WRITE],
  licenses: ['LicenseAssignment.ReadWrite.All', 'User.ReadWrite.All', ...DIR_WRITE],
  /** group: assignLicense (least privileged LicenseAssignment.ReadWrite.All). */
  groupLicenses: ['LicenseAssignment.ReadWrite.All', ...DIR_WRITE],
  /** user: revokeSignInSessions (least privileged User.RevokeSessions.All). */
  usersRevokeSessions: ['User.RevokeSessions.All', 'User.ReadWrite.All', ...DIR_WRITE],
  groupsRead: [
    'GroupMember.Read.All',
    'Group.Read.All',
    'GroupMember.ReadWrite.All',
    'Group.ReadWrite.All',
    ...DIR_READ,
  ],
  groupsCreate: ['Group.Create', 'Group.ReadWrite.All', ...DIR_WRITE],
  groupsUpdate: ['GroupMember.ReadWrite.All', 'Group.Create', 'Group.ReadWrite.All', ...DIR_WRITE],
  groupsDelete: ['Group.ReadWrite.All', ...DIR_WRITE],
  membersWrite: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', ...DIR_WRITE],
  /** group-post-owners, group-delete-owners: Group.ReadWrite.All least privileged. */
  ownersWrite: ['Group.ReadWrite.All', ...DIR_WRITE],
  /** domain list/get: Domain.Read.All least privileged; Domain.ReadWrite.All, Directory.Read.All. */
  domainsRead: DOMAIN_READ,
  /** directoryAudit list: AuditLog.Read.All (the reference page's least privileged). */
  auditLogRead: AUDIT_LOG_READ,
  /** Checked inside the handler per object type. */
  any: [] as readonly string[],
} as const;

export function resolveRoute(segments: readonly PathSegment[]): Route {
  const [root, ...rest] = segments;
  if (root === undefined) throw graphErrors.notImplemented('the service document');
  switch (root.name) {
    case 'users':
      return usersRoute(root, rest);
    case 'groups':
      return groupsRoute(root, rest);
    case 'directory':
      return directoryRoute(rest);
    case 'directoryObjects': {
      const [id, extra] = rest;
      if (id === undefined || extra !== undefined) throw notImplemented(segments);
      if (!GUID.test(id.name) && COLLECTION_MEMBERS.has(withoutNamespace(id.name))) {
        throw notImplemented(segments);
      }
      return {
        GET: { permission: PERMISSIONS.any, run: (ctx) => getDirectoryObject(ctx, id.name) },
      };
    }
    case 'roleManagement':
      return roleManagementRoute(rest, segments);
    case 'subscribedSkus': {
      if (root.keys !== undefined) {
        return single(rest, segments, {
          GET: { permission: PERMISSIONS.any, run: (ctx) => getSubscribedSku(ctx, keyOf(root)) },
        });
      }
      const [id, extra] = rest;
      if (extra !== undefined) throw notImplemented(segments);
      if (id !== undefined) {
        return {
          GET: { permission: PERMISSIONS.any, run: (ctx) => getSubscribedSku(ctx, id.name) },
        };
      }
      return { GET: { permission: PERMISSIONS.any, run: listSubscribedSkus, cost: 3 } };
    }
    case 'domains':
      return domainsRoute(root, rest, segments);
    // Onboarding: authentication methods policy (graph/authentication.ts).
    case 'policies':
      return policiesRoute(rest);
    case 'auditLogs': {
      const [log, extra] = rest;
      if (log?.name.toLowerCase() !== 'directoryaudits' || log.keys !== undefined || extra) {
        throw notImplemented(segments);
      }
      return { GET: { permission: PERMISSIONS.auditLogRead, run: listDirectoryAudits } };
    }
    case 'applications':
      return applicationsRoute(root, rest, segments);
    case 'devices':
    case 'directoryRoles':
    case 'me':
    case 'organization':
    case 'servicePrincipals':
    case 'administrativeUnits':
      throw graphErrors.notImplemented(`/${root.name}`);
    default:
      if (GRAPH_ROOTS.has(root.name)) throw graphErrors.notImplemented(`/${root.name}`);
      throw graphErrors.segmentNotFound(root.raw);
  }
}

/**
 * `/applications/{id}/extensionProperties` and `/applications(appId='{appId}')/extensionProperties`
 * (applications.ts); the rest of /applications is not modelled.
 */
function applicationsRoute(
  root: PathSegment,
  rest: readonly PathSegment[],
  segments: readonly PathSegment[],
): Route {
  const appId = root.keys?.['appId'];
  const [first, ...tail] = appId === undefined ? rest : [undefined, ...rest];
  const key = appId ?? first?.name;
  const [nav, extra] = tail;
  if (key === undefined || nav?.name !== 'extensionProperties' || nav.keys || extra) {
    throw notImplemented(segments);
  }
  const byAppId = appId !== undefined;
  return {
    GET: {
      permission: APPLICATIONS_READ,
      run: (ctx) => listExtensionProperties(ctx, key, byAppId),
    },
    POST: {
      permission: APPLICATIONS_WRITE,
      run: (ctx) => createExtensionProperty(ctx, key, byAppId),
    },
  };
}

function domainsRoute(
  root: PathSegment,
  rest: readonly PathSegment[],
  segments: readonly PathSegment[],
): Route {
  const read = (id: string): Route => ({
    GET: { permission: PERMISSIONS.domainsRead, run: (ctx) => getDomain(ctx, id) },
  });
  if (root.keys !== undefined) return single(rest, segments, read(keyOf(root)));
  const [id, extra] = rest;
  if (id === undefined) return { GET: { permission: PERMISSIONS.domainsRead, run: listDomains } };
  if (extra !== undefined) throw notImplemented(segments);
  return read(id.name);
}

function usersRoute(root: PathSegment, rest: readonly PathSegment[]): Route {
  if (root.keys !== undefined) return userEntityRoute(root, rest);
  const [second, ...tail] = rest;
  if (second === undefined) {
    return {
      GET: { permission: PERMISSIONS.usersRead, run: listUsers, cost: 2 },
      POST: { permission: PERMISSIONS.usersCreate, run: createUser },
    };
  }
  if (second.name === '$count' && tail.length === 0) {
    return { GET: { permission: PERMISSIONS.usersRead, run: countUsers } };
  }
  if (isDelta(second) && tail.length === 0) {
    return { GET: { permission: PERMISSIONS.usersRead, run: (ctx) => delta(ctx, 'user') } };
  }
  if (second.name.startsWith('$') || second.name.startsWith('microsoft.graph.')) {
    throw graphErrors.notImplemented(`/users/${second.raw}`);
  }
  return userEntityRoute(second, tail);
}

function userEntityRoute(key: PathSegment, rest: readonly PathSegment[]): Route {
  const [nav, ref, extra] = rest;
  if (nav === undefined) {
    return {
      GET: { permission: PERMISSIONS.usersRead, run: (ctx) => getUser(ctx, key) },
      PATCH: { permission: PERMISSIONS.usersUpdate, run: (ctx) => updateUser(ctx, key) },
      DELETE: { permission: PERMISSIONS.usersDelete, run: (ctx) => deleteUser(ctx, key) },
    };
  }
  // Onboarding: Temporary Access Pass methods and sendMail (graph/authentication.ts, graph/mail.ts).
  if (nav.name === 'authentication') return authenticationRoute(key, rest.slice(1));
  if (nav.name === 'sendMail' || nav.name === 'microsoft.graph.sendMail') {
    if (ref !== undefined) throw graphErrors.segmentNotFound(ref.raw);
    return { POST: { permission: MAIL_SEND, run: (ctx) => sendMail(ctx, key) } };
  }
  if (extra !== undefined) throw unknownNavigation(nav, 'user');
  switch (nav.name) {
    case 'manager':
      if (ref === undefined) {
        return { GET: { permission: PERMISSIONS.usersRead, run: (ctx) => getManager(ctx, key) } };
      }
      if (ref.name === '$ref') {
        return {
          PUT: { permission: PERMISSIONS.usersManager, run: (ctx) => setManager(ctx, key) },
          DELETE: { permission: PERMISSIONS.usersManager, run: (ctx) => removeManager(ctx, key) },
        };
      }
      throw graphErrors.segmentNotFound(ref.raw);
    case 'assignLicense':
    case 'microsoft.graph.assignLicense':
      if (ref !== undefined) throw graphErrors.segmentNotFound(ref.raw);
      return {
        POST: { permission: PERMISSIONS.licenses, run: (ctx) => assignUserLicense(ctx, key) },
      };
    case 'revokeSignInSessions':
    case 'microsoft.graph.revokeSignInSessions':
      if (ref !== undefined) throw graphErrors.segmentNotFound(ref.raw);
      return {
        POST: {
          permission: PERMISSIONS.usersRevokeSessions,
          run: (ctx) => revokeSignInSessions(ctx, key),
        },
      };
    default:
      throw unknownNavigation(nav, 'user');
  }
}

/** 501 for what Graph's user or group has and the simulator leaves out, else Graph's 400. */
function unknownNavigation(segment: PathSegment, kind: 'user' | 'group'): Error {
  const known = kind === 'user' ? USER_MEMBERS : GROUP_MEMBERS;
  return known.has(withoutNamespace(segment.name))
    ? graphErrors.notImplemented(`/${kind}s/{id}/${segment.name}`)
    : graphErrors.segmentNotFound(segment.raw);
}

function groupsRoute(root: PathSegment, rest: readonly PathSegment[]): Route {
  if (root.keys !== undefined) return groupEntityRoute(root, rest);
  const [second, ...tail] = rest;
  if (second === undefined) {
    return {
      GET: { permission: PERMISSIONS.groupsRead, run: listGroups },
      POST: { permission: PERMISSIONS.groupsCreate, run: createGroup },
    };
  }
  if (isDelta(second) && tail.length === 0) {
    return { GET: { permission: PERMISSIONS.groupsRead, run: (ctx) => delta(ctx, 'group') } };
  }
  if (second.name === '$count' && tail.length === 0) {
    return { GET: { permission: PERMISSIONS.groupsRead, run: countGroups } };
  }
  if (second.name.startsWith('$') || second.name.startsWith('microsoft.graph.')) {
    throw graphErrors.notImplemented(`/groups/${second.raw}`);
  }
  return groupEntityRoute(second, tail);
}

function groupEntityRoute(key: PathSegment, rest: readonly PathSegment[]): Route {
  const [nav, third, fourth, extra] = rest;
  if (nav === undefined) {
    return {
      GET: { permission: PERMISSIONS.groupsRead, run: (ctx) => getGroup(ctx, key) },
      PATCH: { permission: PERMISSIONS.groupsUpdate, run: (ctx) => updateGroup(ctx, key) },
      DELETE: { permission: PERMISSIONS.groupsDelete, run: (ctx) => deleteGroup(ctx, key) },
    };
  }
  if (nav.name === 'assignLicense' || nav.name === 'microsoft.graph.assignLicense') {
    if (third !== undefined) throw graphErrors.segmentNotFound(third.raw);
    return {
      POST: { permission: PERMISSIONS.groupLicenses, run: (ctx) => assignGroupLicense(ctx, key) },
    };
  }
  if (nav.name === 'members' || nav.name === 'owners') {
    return linksRoute(key, nav.name === 'members' ? 'member' : 'owner', [third, fourth, extra]);
  }
  throw unknownNavigation(nav, 'group');
}

/**
 * `/groups/{id}/members|owners[/$ref | /$count | /{id}/$ref | /microsoft.graph.user[/$count]]`.
 */
function linksRoute(
  key: PathSegment,
  rel: 'member' | 'owner',
  [third, fourth, extra]: readonly (PathSegment | undefined)[],
): Route {
  const read = PERMISSIONS.groupsRead;
  const write = rel === 'member' ? PERMISSIONS.membersWrite : PERMISSIONS.ownersWrite;
  if (extra !== undefined) throw graphErrors.segmentNotFound(extra.raw);
  if (third === undefined) {
    return { GET: { permission: read, run: (ctx) => listMembers(ctx, key, rel), cost: 3 } };
  }
  if (third.name === '$count' && fourth === undefined) {
    return { GET: { permission: read, run: (ctx) => countMembers(ctx, key, rel) } };
  }
  if (third.name === '$ref' && fourth === undefined) {
    const add = rel === 'member' ? addMember : addOwner;
    return { POST: { permission: write, run: (ctx) => add(ctx, key) } };
  }
  if (fourth?.name === '$ref' && GUID.test(third.name)) {
    const remove = rel === 'member' ? removeMember : removeOwner;
    return {
      DELETE: { permission: write, run: (ctx) => remove(ctx, key, third.name) },
    };
  }
  if (third.name.toLowerCase().startsWith('microsoft.graph.')) {
    const cast = memberCast(third);
    if (fourth === undefined) {
      return { GET: { permission: read, run: (ctx) => listMembers(ctx, key, rel, cast), cost: 3 } };
    }
    if (fourth.name === '$count') {
      return { GET: { permission: read, run: (ctx) => countMembers(ctx, key, rel, cast) } };
    }
    throw graphErrors.segmentNotFound(fourth.raw);
  }
  if (GUID.test(third.name) && fourth === undefined) {
    throw graphErrors.notImplemented(`/groups/{id}/${rel}s/{id}`);
  }
  throw graphErrors.segmentNotFound(third.raw);
}

function directoryRoute(rest: readonly PathSegment[]): Route {
  const [area, second, third, extra] = rest;
  if (area === undefined) throw graphErrors.notImplemented('/directory');
  if (area.name === 'deletedItems') {
    if (second === undefined) {
      return {
        GET: { permission: PERMISSIONS.any, run: (ctx) => listDeletedItems(ctx, undefined) },
      };
    }
    if (extra !== undefined) throw graphErrors.segmentNotFound(extra.raw);
    if (GUID.test(second.name)) {
      if (third === undefined) {
        return {
          GET: { permission: PERMISSIONS.any, run: (ctx) => getDeletedItem(ctx, second.name) },
          DELETE: { permission: PERMISSIONS.any, run: (ctx) => purgeDeletedItem(ctx, second.name) },
        };
      }
      if (third.name === 'restore' || third.name === 'microsoft.graph.restore') {
        return {
          POST: { permission: PERMISSIONS.any, run: (ctx) => restoreDeletedItem(ctx, second.name) },
        };
      }
      throw graphErrors.segmentNotFound(third.raw);
    }
    if (third !== undefined) throw graphErrors.segmentNotFound(third.raw);
    return {
      GET: { permission: PERMISSIONS.any, run: (ctx) => listDeletedItems(ctx, second.name) },
    };
  }
  if (area.name === 'administrativeUnits') {
    const read = ['AdministrativeUnit.Read.All', 'AdministrativeUnit.ReadWrite.All', ...DIR_READ];
    if (second === undefined) return { GET: { permission: read, run: listAdministrativeUnits } };
    if (third === undefined) {
      return { GET: { permission: read, run: (ctx) => getAdministrativeUnit(ctx, second.name) } };
    }
    if (third.name === 'members' && extra === undefined) {
      return {
        GET: { permission: read, run: (ctx) => listAdministrativeUnitMembers(ctx, second.name) },
      };
    }
    throw graphErrors.notImplemented(`/directory/administrativeUnits/{id}/${third.raw}`);
  }
  throw graphErrors.notImplemented(`/directory/${area.raw}`);
}

function roleManagementRoute(
  rest: readonly PathSegment[],
  segments: readonly PathSegment[],
): Route {
  const [provider, collection, id, extra] = rest;
  if (provider?.name !== 'directory' || collection === undefined || extra !== undefined) {
    throw notImplemented(segments);
  }
  const kind =
    collection.name === 'roleAssignments'
      ? 'roleAssignment'
      : collection.name === 'roleEligibilitySchedules'
        ? 'roleEligibilitySchedule'
        : undefined;
  if (kind !== undefined) {
    if (id === undefined) {
      return { GET: { permission: PERMISSIONS.any, run: (ctx) => listRoleDocs(ctx, kind) } };
    }
    return { GET: { permission: PERMISSIONS.any, run: (ctx) => getRoleDoc(ctx, kind, id.name) } };
  }
  if (collection.name === 'roleDefinitions' && id === undefined) {
    return { GET: { permission: PERMISSIONS.any, run: listRoleDefinitions } };
  }
  throw notImplemented(segments);
}

function isDelta(segment: PathSegment): boolean {
  return segment.name === 'delta' || segment.name === 'microsoft.graph.delta';
}

function keyOf(segment: PathSegment): string {
  return segment.keys?.[''] ?? segment.name;
}

function single(
  rest: readonly PathSegment[],
  segments: readonly PathSegment[],
  route: Route,
): Route {
  if (rest.length > 0) throw notImplemented(segments);
  return route;
}

function notImplemented(segments: readonly PathSegment[]): Error {
  return graphErrors.notImplemented(`/${segments.map((s) => s.raw).join('/')}`);
}
