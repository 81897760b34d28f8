/**
 * Full tenant read. Users: every attribute the config manages plus the marker, `$top=999`,
 * following `@odata.nextLink` to the end. Privileged accounts (for P3): active role assignments,
 * PIM eligibility schedules, and members of role-assignable groups (roles assigned to a group
 * reach its members). Optionally the groups entrasync manages with their members, and
 * `subscribedSkus` (seat inventory), for features that plug in later.
 *
 * Any failed page, or a nextLink seen before, fails the whole read (G8): a plan made from part
 * of a tenant would create duplicates of everyone on the missing pages. Pages are read through
 * the transport's retry policy (429 honoured in full, 503/504 and resets retried), and a pass
 * that still breaks off is read again from its first page (readAll), so only a collection that
 * keeps failing fails the read. The exceptions are a 403 on the role reads (the app
 * lacks RoleManagement.Read.Directory): `privileged` is then left out, which the engine reads
 * as "unknown", never as "nobody"; and a 403 on `/domains` (no Domain.Read.All): `domains` is
 * then `unreadable` and the plan skips the verified-domain check with a warning.
 */
import { readOnboarding } from './read-onboarding.js';
import { TenantReadError } from '../../engine/errors.js';
import type {
  PrivilegedAccount,
  TenantGroup,
  TenantDomains,
  TenantReadRequest,
  TenantSku,
  TenantClock,
  TenantUser,
  TenantState,
} from '../../engine/model/tenant.js';
import type { TargetReader } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import { compareText } from '../../engine/pipeline/compare.js';
import { readExtensionProperties } from './extension-properties.js';
import { readAllBatched } from './read-batched.js';
import { ForbiddenRead, PAGE_SIZE, READ_RESTARTS, readAll } from './read-paged.js';
import type { UsersReadOptions } from './read-users.js';
import { readUsers } from './read-users.js';
import type { GraphTransport } from './transport.js';
import { graphErrorOf } from './transport.js';

export { PAGE_SIZE, READ_RESTARTS, readAll } from './read-paged.js';

/** The entra reader's state: the engine's TenantState plus what only this connector reads. */
export interface EntraTenantState extends TenantState {
  /** Objects the tenant itself protects from this app: restricted-management AU members (P4). */
  readonly protectedByTenant?: readonly string[];
}

export interface EntraReaderOptions {
  /** Read privileged accounts (roles, PIM, role-assignable groups). Default true. */
  readonly privileged?: boolean;
  /**
   * One collection after another, each group's members in its own requests, `/users` in one
   * pass: the read as it was before issue 24, kept for the benchmarks' comparison.
   */
  readonly sequential?: boolean;
  /** How `/users` is sharded (read-users.ts) and a note of how each read went. */
  readonly users?: UsersReadOptions;
  /** Called with each completed read (the writer learns the protected objects from it). */
  readonly onRead?: (state: EntraTenantState) => void;
}

export interface EntraReader extends TargetReader {
  read(request: TenantReadRequest): Promise<EntraTenantState>;
}

export function createEntraReader(
  transport: GraphTransport,
  options: EntraReaderOptions = {},
): EntraReader {
  return {
    apiVersion: PORT_API_VERSION,
    async read(request: TenantReadRequest): Promise<EntraTenantState> {
      // Sorted (code-unit order): attributes then come in the canonical key order digests use.
      const paths = [...new Set(request.userAttributes)].sort(compareText);
      // Every collection is read side by side (issue 24); each read keeps its own G8 checks,
      // and the first failure in this order is the read's failure, whichever came first.
      const reads = [
        () =>
          readUsers(transport, paths, request, '/users', {
            ...options.users,
            ...(options.sequential ? { shardFrom: Infinity } : {}),
          }),
        () => (options.privileged === false ? undefined : readPrivileged(transport)),
        () => readRestrictedUnitMembers(transport),
        () =>
          request.groupPrefix === undefined
            ? undefined
            : readManagedGroups(
                transport,
                request.groupPrefix,
                request.groupOwners === true,
                options.sequential === true,
              ),
        () => (request.licenses ? readSubscribedSkus(transport) : undefined),
        () => (request.domains ? readDomains(transport) : undefined),
        () =>
          request.deletedUsers
            ? readUsers(
                transport,
                paths,
                { ...request, manager: false, signInSessions: false },
                '/directory/deletedItems/microsoft.graph.user',
              )
            : undefined,
      ] as const;
      const [users, privileged, protectedByTenant, groups, skus, domains, deletedUsers] =
        options.sequential
          ? await oneByOne(reads)
          : await allInOrder(reads.map((read) => read()) as unknown as ReadResults);
      // Small reads a few configs need (a handful of requests each), after the big ones.
      const licensedGroups =
        request.licensedGroups === undefined
          ? undefined
          : await readLicensedGroups(transport, request.licensedGroups);
      const extensionProperties = request.extensionApps
        ? await readExtensionProperties(transport, request.extensionApps)
        : undefined;
      const onboarding = request.onboarding
        ? await readOnboarding(transport, request.onboarding)
        : undefined;
      const state: EntraTenantState = {
        users,
        ...(privileged === undefined ? {} : { privileged }),
        ...(protectedByTenant === undefined ? {} : { protectedByTenant }),
        ...(groups === undefined ? {} : { groups }),
        ...(licensedGroups === undefined ? {} : { licensedGroups }),
        ...(extensionProperties === undefined ? {} : { extensionProperties }),
        ...(onboarding === undefined ? {} : { onboarding }),
        ...(skus === undefined ? {} : { skus }),
        ...(domains === undefined ? {} : { domains }),
        ...(deletedUsers === undefined ? {} : { deletedUsers }),
        clock: readClock(transport),
      };
      options.onRead?.(state);
      return state;
    },
  };
}

type ReadResults = [
  Promise<TenantUser[]>,
  Promise<PrivilegedAccount[] | undefined> | undefined,
  Promise<string[] | undefined>,
  Promise<TenantGroup[]> | undefined,
  Promise<TenantSku[]> | undefined,
  Promise<TenantDomains> | undefined,
  Promise<TenantUser[]> | undefined,
];

/** The reads one after another, in order (EntraReaderOptions.sequential). */
async function oneByOne(
  reads: readonly (() => unknown)[],
): Promise<{ -readonly [K in keyof ReadResults]: Awaited<ReadResults[K]> }> {
  const out: unknown[] = [];
  for (const read of reads) out.push(await read());
  return out as { -readonly [K in keyof ReadResults]: Awaited<ReadResults[K]> };
}

/**
 * Waits for every read and returns their values in order; if any failed, throws the failure of
 * the first failed one in the list (not the first to fail in time), so errors do not depend on
 * which answer came back first.
 */
async function allInOrder<T extends readonly unknown[]>(
  reads: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(reads);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/**
 * Graph's clock as the read saw it (the latest `Date` header and the local clock then), for the
 * time-based deprovisioning stages (engine/pipeline/clock.ts); `unknown` if no answer had one.
 */
export function readClock(transport: GraphTransport): TenantClock {
  const reading = transport.serverClock();
  return reading === undefined
    ? { status: 'unknown', reason: "no Date header in Microsoft Graph's answers" }
    : { status: 'read', serverTime: reading.serverTime, localTime: reading.localTime };
}

/**
 * Accounts with an active or PIM-eligible directory role, directly or through a role-assignable
 * group, and members and owners of every role-assignable group (an owner can add members, itself
 * included). Undefined when the app may not read roles.
 */
/** A role-assignable group as the privileged read needs it. */
export interface RoleAssignableGroup {
  readonly id: string;
  name: string;
  /** Direct members' ids (any object type). */
  readonly memberIds: Set<string>;
  /** User owners' ids: an owner can add members, so can give itself the group's roles. */
  readonly ownerIds: readonly string[];
}

/**
 * What the daemon's delta cycles keep of the privileged read between full reads:
 *
 * - role names, which only label why an account is privileged (an assignment of a role defined
 *   since is labelled by the role's id);
 * - the role-assignable groups with their members and owners, which the delta reader keeps
 *   current from `/groups/delta` (`members@delta`); owners are not tracked by delta and are
 *   read again with every full read.
 *
 * Role assignments and eligibilities, which decide who is privileged, are read every time.
 */
export interface PrivilegedCache {
  names?: Map<string, string>;
  groups?: Map<string, RoleAssignableGroup>;
}

export async function readPrivileged(
  transport: GraphTransport,
  cache?: PrivilegedCache,
): Promise<PrivilegedAccount[] | undefined> {
  try {
    const roleName =
      cache?.names ??
      new Map(
        (
          await readAll(
            transport,
            '/roleManagement/directory/roleDefinitions',
            'role definitions',
            true,
          )
        ).map((d) => [String(d['id']), String(d['displayName'] ?? d['id'])]),
      );
    if (cache) cache.names = roleName;
    const assignments = [
      ...(
        await readAll(
          transport,
          '/roleManagement/directory/roleAssignments?$expand=principal',
          'role assignments',
          true,
        )
      ).map((a) => ({ a, how: 'active' })),
      ...(
        await readAll(
          transport,
          '/roleManagement/directory/roleEligibilitySchedules?$expand=principal',
          'role eligibility schedules',
          true,
        )
      ).map((a) => ({ a, how: 'eligible' })),
    ];
    const groups = cache?.groups ?? (await readRoleAssignableGroups(transport));
    if (cache) cache.groups = groups;
    const out = new Map<string, string[]>();
    const add = (userId: string, reason: string): void => {
      const list = out.get(userId) ?? [];
      if (!list.includes(reason)) list.push(reason);
      out.set(userId, list);
    };
    const groupRoles = new Map<string, string[]>();
    for (const { a, how } of assignments) {
      const principalId = String(a['principalId'] ?? '');
      const principal = a['principal'] as Record<string, unknown> | undefined;
      const type = String(principal?.['@odata.type'] ?? '');
      const role = roleName.get(String(a['roleDefinitionId'])) ?? String(a['roleDefinitionId']);
      const reason = `${how} role ${role}`;
      if (type.endsWith('.group')) {
        groupRoles.set(principalId, [...(groupRoles.get(principalId) ?? []), reason]);
      } else if (type === '' || type.endsWith('.user')) {
        add(principalId, reason);
      }
    }
    for (const group of groups.values()) {
      const reasons = groupRoles.get(group.id) ?? [];
      for (const memberId of group.memberIds) {
        add(memberId, `member of role-assignable group ${group.name}`);
        for (const reason of reasons) add(memberId, `${reason} (through group ${group.name})`);
      }
      for (const ownerId of group.ownerIds) {
        add(ownerId, `owner of role-assignable group ${group.name}`);
      }
    }
    return [...out.entries()].map(([userId, reasons]) => ({ userId, reason: reasons.join('; ') }));
  } catch (err) {
    if (err instanceof ForbiddenRead) return undefined;
    throw err;
  }
}

/**
 * Members of restricted-management administrative units: Graph refuses this app's writes to
 * them (403), which is the tenant protecting them, not an outage (P4). Undefined when the app
 * may not read administrative units.
 */
export async function readRestrictedUnitMembers(
  transport: GraphTransport,
): Promise<string[] | undefined> {
  try {
    const units = await readAll(
      transport,
      '/directory/administrativeUnits',
      'administrative units',
      true,
    );
    const ids = new Set<string>();
    for (const unit of units) {
      if (unit['isMemberManagementRestricted'] !== true) continue;
      const members = await readAll(
        transport,
        `/directory/administrativeUnits/${encodeURIComponent(String(unit['id']))}/members`,
        `members of administrative unit ${String(unit['displayName'] ?? unit['id'])}`,
        true,
      );
      for (const m of members) ids.add(String(m['id']));
    }
    return [...ids];
  } catch (err) {
    if (err instanceof ForbiddenRead) return undefined;
    throw err;
  }
}

/** The role-assignable groups with their members and user owners. */
async function readRoleAssignableGroups(
  transport: GraphTransport,
): Promise<Map<string, RoleAssignableGroup>> {
  const groups = await readAll(
    transport,
    '/groups?$filter=isAssignableToRole eq true&$select=id,displayName',
    'role-assignable groups',
    true,
  );
  const out = new Map<string, RoleAssignableGroup>();
  for (const group of groups) {
    const id = String(group['id']);
    const name = String(group['displayName'] ?? id);
    const members = await readAll(
      transport,
      `/groups/${encodeURIComponent(id)}/members?$select=id`,
      `members of role-assignable group ${name}`,
    );
    const owners = await readAll(
      transport,
      `/groups/${encodeURIComponent(id)}/owners?$select=id`,
      `owners of role-assignable group ${name}`,
    );
    out.set(id, {
      id,
      name,
      memberIds: new Set(members.map((m) => String(m['id']))),
      ownerIds: owners.flatMap((o) => {
        const type = String(o['@odata.type'] ?? '');
        return type !== '' && !type.endsWith('.user') ? [] : [String(o['id'])];
      }),
    });
  }
  return out;
}

/**
 * Groups whose uniqueName starts with `prefix`, each with its members' ids and licenses, and
 * with `owners` its user owners' ids (one more paged read per group).
 */
export async function readManagedGroups(
  transport: GraphTransport,
  prefix: string,
  owners = false,
  sequential = false,
): Promise<TenantGroup[]> {
  const literal = prefix.replace(/'/g, "''");
  const groups = await readAll(
    transport,
    `/groups?$filter=startsWith(uniqueName,'${encodeURIComponent(literal)}')&$select=${MANAGED_GROUP_SELECT}&$top=${PAGE_SIZE}`,
    'groups',
  );
  // The filter asked for the prefix; a group without it is not ours whatever Graph answered.
  const ours = groups.flatMap((g) => {
    const uniqueName = g['uniqueName'];
    return typeof uniqueName === 'string' && uniqueName.startsWith(prefix)
      ? [{ g, uniqueName, id: String(g['id']) }]
      : [];
  });
  const reads = ours.map(({ g, id }) => membersRead(id, g));
  // Members 20 groups to a $batch, several batches in flight (read-batched.ts, issue 24).
  const members = sequential
    ? await readEach(transport, reads)
    : await readAllBatched(transport, reads, { restarts: READ_RESTARTS });
  const built = ours.map(({ g, uniqueName, id }) => {
    const read = members.get(id);
    if (read === undefined) {
      throw new TenantReadError(`members of group ${uniqueName} were not read; no plan is made`);
    }
    return toTenantGroup(
      g,
      uniqueName,
      read.map((m) => String(m['id'])),
    );
  });
  if (!owners) return built;
  // Owners only when rules name them; one read per managed group.
  const withOwners: TenantGroup[] = [];
  for (const group of built) {
    withOwners.push({ ...group, ownerIds: await readUserOwners(transport, group) });
  }
  return withOwners;
}

/**
 * Existing groups by object id (license rules name them), with members and licenses; a group
 * Graph does not find (404) is left out, which the plan reports.
 */
export async function readLicensedGroups(
  transport: GraphTransport,
  ids: readonly string[],
): Promise<TenantGroup[]> {
  const found: Record<string, unknown>[] = [];
  for (const id of ids) {
    const answer = await transport.get(
      `/groups/${encodeURIComponent(id)}?$select=${MANAGED_GROUP_SELECT}`,
    );
    if (answer.status === 404) continue;
    if (answer.status !== 200) {
      const graph = graphErrorOf(answer.body);
      throw new TenantReadError(
        `reading group ${id} failed (${answer.status} ${graph.code ?? ''}: ${graph.message ?? ''}); no plan is made from a partial tenant`,
      );
    }
    found.push(answer.body as Record<string, unknown>);
  }
  // Members as the managed groups' are read: 20 groups to a $batch, whole or failed.
  const members = await readAllBatched(
    transport,
    found.map((g) => membersRead(String(g['id']), g)),
    { restarts: READ_RESTARTS },
  );
  return found.map((g) => {
    const read = members.get(String(g['id']));
    if (read === undefined) {
      throw new TenantReadError(
        `members of group ${String(g['id'])} were not read; no plan is made`,
      );
    }
    const uniqueName = typeof g['uniqueName'] === 'string' ? g['uniqueName'] : '';
    return toTenantGroup(
      g,
      uniqueName,
      read.map((m) => String(m['id'])),
    );
  });
}

/** The paged read of a group's member ids, as readAll and readAllBatched take it. */
function membersRead(
  id: string,
  group: Record<string, unknown>,
): { key: string; first: string; what: string } {
  return {
    key: id,
    first: `/groups/${encodeURIComponent(id)}/members?$select=id&$top=${PAGE_SIZE}`,
    what: `members of group ${String(group['displayName'] ?? id)}`,
  };
}

/** Each read through readAll, one after another (the sequential read). */
async function readEach(
  transport: GraphTransport,
  reads: readonly { key: string; first: string; what: string }[],
): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const read of reads) out.set(read.key, await readAll(transport, read.first, read.what));
  return out;
}

/** A group's owners that are users (service principal owners are never entrasync's). */
async function readUserOwners(transport: GraphTransport, group: TenantGroup): Promise<string[]> {
  const owners = await readAll(
    transport,
    `/groups/${encodeURIComponent(group.id)}/owners?$select=id&$top=${PAGE_SIZE}`,
    `owners of group ${group.displayName}`,
  );
  return owners
    .filter((o) => o['@odata.type'] === undefined || o['@odata.type'] === '#microsoft.graph.user')
    .map((o) => String(o['id']));
}

/** The `$select` of a managed group's own properties (full reads and groups delta alike). */
export const MANAGED_GROUP_SELECT =
  'id,displayName,uniqueName,description,mailEnabled,securityEnabled,groupTypes,isAssignableToRole,assignedLicenses,membershipRule,membershipRuleProcessingState';

/** A group as Graph returns it with MANAGED_GROUP_SELECT, and its members' ids. */
export function toTenantGroup(
  g: Record<string, unknown>,
  uniqueName: string,
  memberIds: readonly string[],
): TenantGroup {
  const licenses = Array.isArray(g['assignedLicenses'])
    ? (g['assignedLicenses'] as Record<string, unknown>[])
    : [];
  return {
    id: String(g['id']),
    uniqueName,
    displayName: String(g['displayName'] ?? ''),
    description: typeof g['description'] === 'string' ? g['description'] : null,
    mailEnabled: g['mailEnabled'] === true,
    securityEnabled: g['securityEnabled'] === true,
    groupTypes: Array.isArray(g['groupTypes']) ? (g['groupTypes'] as string[]).map(String) : [],
    isAssignableToRole: g['isAssignableToRole'] === true,
    ...(typeof g['membershipRule'] === 'string' ? { membershipRule: g['membershipRule'] } : {}),
    ...(typeof g['membershipRuleProcessingState'] === 'string'
      ? { membershipRuleProcessingState: g['membershipRuleProcessingState'] }
      : {}),
    memberIds,
    licenses: licenses.flatMap((l) =>
      typeof l['skuId'] === 'string'
        ? [
            {
              skuId: l['skuId'],
              disabledPlans: Array.isArray(l['disabledPlans'])
                ? (l['disabledPlans'] as unknown[]).map(String)
                : [],
            },
          ]
        : [],
    ),
  };
}

/**
 * The tenant's verified domain names (`GET /domains`; domains added but not verified do not
 * count), or `unreadable` when the app may not read them (403). Any other failure fails the
 * read like every other page (G8).
 */
export async function readDomains(transport: GraphTransport): Promise<TenantDomains> {
  try {
    const domains = await readAll(transport, '/domains?$select=id,isVerified', 'domains', true);
    return {
      status: 'read',
      verified: domains.flatMap((d) =>
        d['isVerified'] === true && typeof d['id'] === 'string' ? [d['id']] : [],
      ),
    };
  } catch (err) {
    if (err instanceof ForbiddenRead) {
      return {
        status: 'unreadable',
        reason: "the app may not read the tenant's domains (403 on GET /domains)",
      };
    }
    throw err;
  }
}

/** Seat inventory: every subscribed SKU with its seats, consumed units and service plans. */
export async function readSubscribedSkus(transport: GraphTransport): Promise<TenantSku[]> {
  const skus = await readAll(transport, '/subscribedSkus', 'subscribed SKUs');
  return skus.map((s) => {
    const prepaid = (s['prepaidUnits'] ?? {}) as { enabled?: number; warning?: number };
    const plans = Array.isArray(s['servicePlans'])
      ? (s['servicePlans'] as Record<string, unknown>[])
      : [];
    return {
      skuId: String(s['skuId']),
      skuPartNumber: String(s['skuPartNumber'] ?? ''),
      seats: (prepaid.enabled ?? 0) + (prepaid.warning ?? 0),
      consumed: Number(s['consumedUnits'] ?? 0),
      servicePlans: plans.map((p) => ({
        id: String(p['servicePlanId']),
        name: String(p['servicePlanName'] ?? ''),
      })),
    };
  });
}
