/**
 * Delta reads for the daemon: after one full read, each cycle asks Graph only what changed
 * (`/users/delta` with the deltaLink kept from the last cycle) and applies it to the state it
 * holds. Kept apart from the full read (read-tenant.ts), which stays the only way `plan` and
 * `apply` read.
 *
 * - The first cycle is a full read. The delta token is taken *before* it
 *   (`$deltatoken=latest`), so a change made during the full read shows up in the next delta
 *   (replayed, harmless: delta answers the object's current state) rather than being missed.
 * - An expired or unknown token (410 Gone, or any answer with `syncStateNotFound`) falls back
 *   to a full read, never to "everything changed" and never to "nothing is there".
 * - Every `fullReadIntervalMs` (default a day) a full read runs anyway: delta does not report
 *   everything (license states assigned through groups, for one).
 * - Privileged accounts are read again every cycle (cheap, and P3 must not act on an admin
 *   granted a role since the last full read); role names only once per full read.
 * - Groups come by `/groups/delta` too (properties and `members@delta`): the ones entrasync
 *   manages, when the config has group rules, and the role-assignable ones, whose members are
 *   privileged (their owners, which delta does not track, are read with each full read). A
 *   no-change cycle costs four Graph requests, however many groups: users delta, groups delta,
 *   role assignments and role eligibilities.
 * - Any failed page fails the cycle (G8) and keeps the previous token, so the next cycle
 *   retries the same delta.
 */
import { TenantReadError } from '../../engine/errors.js';
import type {
  PrivilegedAccount,
  TenantGroup,
  TenantReadRequest,
  TenantUser,
} from '../../engine/model/tenant.js';
import { compareText } from '../../engine/pipeline/compare.js';
import { flatten, selectFor } from './attributes.js';
import type { Clock } from './clock.js';
import type { EntraReader, EntraTenantState } from './read-tenant.js';
import type { PrivilegedCache, RoleAssignableGroup } from './read-tenant.js';
import {
  MANAGED_GROUP_SELECT,
  readClock,
  readLicensedGroups,
  readPrivileged,
  toTenantGroup,
} from './read-tenant.js';
import type { GraphTransport } from './transport.js';
import { graphErrorOf } from './transport.js';

export interface DeltaReadResult {
  readonly tenant: EntraTenantState;
  /** `full`: read everything; `delta`: applied the changes since the last cycle. */
  readonly mode: 'full' | 'delta';
  /** Why a full read ran: `first`, `expired`, `interval`, `attributes`. */
  readonly reason?: string;
  readonly changed: number;
  readonly removed: number;
}

/** What the daemon may persist between restarts (no secrets: a Graph URL and a time). */
export interface DeltaCheckpoint {
  readonly usersDeltaLink: string;
  /** The groups delta: managed and role-assignable groups and their members. */
  readonly groupsDeltaLink: string;
  readonly lastFullReadAt: number;
  /** The `$select` the link was made with; a different request needs a full read. */
  readonly select: string;
}

/** The delta token is gone (expired, or never issued by this tenant): read in full. */
export class DeltaTokenExpiredError extends TenantReadError {
  constructor() {
    super('the users delta token expired (syncStateNotFound); read the whole tenant');
  }
}

export interface DeltaTenantReader {
  /**
   * A full read when one is due (first cycle, expired token, `fullReadIntervalMs` passed,
   * other attributes asked), otherwise the delta since the last cycle.
   */
  read(request: TenantReadRequest): Promise<DeltaReadResult>;
  /** Full read that also (re)establishes the delta baseline. */
  readFull(request: TenantReadRequest): Promise<EntraTenantState>;
  /**
   * The whole tenant state (the last baseline with every change since applied), never only
   * the changes. Throws DeltaTokenExpiredError when the token expired and TenantReadError when
   * there is no baseline yet or a page fails: the caller then reads in full.
   */
  readDelta(request: TenantReadRequest): Promise<EntraTenantState>;
  /** The token and time of the last full read, once there has been one. */
  checkpoint(): DeltaCheckpoint | undefined;
}

export interface DeltaReaderOptions {
  readonly transport: GraphTransport;
  /** The full reader (the same one `plan` uses). */
  readonly full: EntraReader;
  readonly clock: Clock;
  /** Default 24 h. */
  readonly fullReadIntervalMs?: number;
  /** Delta page size (`Prefer: odata.maxpagesize`). Default 999. */
  readonly pageSize?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function createDeltaTenantReader(options: DeltaReaderOptions): DeltaTenantReader {
  const { transport, full, clock } = options;
  const interval = options.fullReadIntervalMs ?? DAY_MS;
  const prefer = { Prefer: `odata.maxpagesize=${options.pageSize ?? 999}` };
  let checkpoint: DeltaCheckpoint | undefined;
  let cache:
    | {
        users: Map<string, TenantUser>;
        groups: Map<string, TenantGroup> | undefined;
        base: EntraTenantState;
      }
    | undefined;

  /** Emptied by every full read. */
  let privilegedCache: PrivilegedCache = {};

  async function fullRead(request: TenantReadRequest, reason: string): Promise<DeltaReadResult> {
    privilegedCache = {};
    const select = selectOf(request);
    const latest = await follow(`/users/delta?$select=${select}&$deltatoken=latest`, 'users');
    if (latest.kind === 'expired') throw new TenantReadError('users delta refused a fresh token');
    // Groups by delta too: the managed ones (when the config has group rules) and the
    // role-assignable ones, whose members are privileged (P3).
    const groups = await follow(
      `/groups/delta?$select=${GROUP_DELTA_SELECT}&$deltatoken=latest`,
      'groups',
    );
    if (groups.kind === 'expired') throw new TenantReadError('groups delta refused a fresh token');
    const groupsDeltaLink = groups.deltaLink;
    const tenant = await full.read(request);
    // A full read's signInSessionsValidFromDateTime (A9) is not kept for the delta cycles:
    // delta need not report the revoke that moved it, and a stale value would revoke again
    // every cycle. Delta cycles read it as unknown; the next full read retries a lost revoke.
    // (Without the value, the very same object: an unchanged delta round hands it back.)
    // Group owners are not tracked by `/groups/delta` either: the delta cycles read them as
    // unknown (no owner change), the next full read keeps them in sync.
    const sessionless: EntraTenantState = tenant.users.some(
      (u) => u.signInSessionsValidFromDateTime !== undefined,
    )
      ? { ...tenant, users: tenant.users.map(withoutSessions) }
      : tenant;
    const base: EntraTenantState = sessionless.groups?.some((g) => g.ownerIds !== undefined)
      ? { ...sessionless, groups: sessionless.groups.map(({ ownerIds: _o, ...g }) => g) }
      : sessionless;
    cache = {
      users: new Map(base.users.map((u) => [u.id, u])),
      groups: base.groups === undefined ? undefined : new Map(base.groups.map((g) => [g.id, g])),
      base,
    };
    checkpoint = {
      usersDeltaLink: latest.deltaLink,
      groupsDeltaLink,
      lastFullReadAt: clock.now(),
      select: selectKey(request),
    };
    return { tenant, mode: 'full', reason, changed: tenant.users.length, removed: 0 };
  }

  /** Follows a delta round to its deltaLink; `expired` when Graph no longer knows the token. */
  async function follow(
    first: string,
    what: 'users' | 'groups',
  ): Promise<
    { kind: 'ok'; items: Record<string, unknown>[]; deltaLink: string } | { kind: 'expired' }
  > {
    const items: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    let url = first;
    let page = 0;
    for (;;) {
      page++;
      const response = await transport.get(url, prefer).catch((err: unknown) => {
        throw new TenantReadError(
          `${what} delta failed on page ${page}: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
      const graph = graphErrorOf(response.body);
      if (response.status === 410 || graph.code === 'syncStateNotFound') return { kind: 'expired' };
      if (response.status !== 200) {
        throw new TenantReadError(
          `${what} delta failed on page ${page} (${response.status} ${graph.code ?? ''}: ${graph.message ?? ''})`,
        );
      }
      const body = response.body as {
        value?: Record<string, unknown>[];
        '@odata.nextLink'?: string;
        '@odata.deltaLink'?: string;
      };
      if (!Array.isArray(body.value)) {
        throw new TenantReadError(`${what} delta: page ${page} has no "value" array`);
      }
      items.push(...body.value);
      const next = body['@odata.nextLink'];
      if (next !== undefined) {
        if (seen.has(next) || next === url) {
          throw new TenantReadError(`${what} delta: @odata.nextLink repeats on page ${page}`);
        }
        seen.add(next);
        url = next;
        continue;
      }
      const deltaLink = body['@odata.deltaLink'];
      if (deltaLink === undefined) {
        throw new TenantReadError(`${what} delta: page ${page} has neither nextLink nor deltaLink`);
      }
      return { kind: 'ok', items, deltaLink };
    }
  }

  async function deltaRead(request: TenantReadRequest): Promise<DeltaReadResult> {
    if (checkpoint === undefined || cache === undefined) {
      throw new TenantReadError('no delta baseline yet: read the whole tenant first');
    }
    if (checkpoint.select !== selectKey(request)) {
      throw new TenantReadError('the attributes asked changed since the baseline: read in full');
    }
    const round = await follow(checkpoint.usersDeltaLink, 'users');
    if (round.kind === 'expired') throw new DeltaTokenExpiredError();
    const groupRound = await follow(checkpoint.groupsDeltaLink, 'groups');
    if (groupRound.kind === 'expired') throw new DeltaTokenExpiredError();
    const paths = [...new Set(request.userAttributes)].sort(compareText);
    let changed = 0;
    let removed = 0;
    for (const item of round.items) {
      const id = item['id'];
      if (typeof id !== 'string') continue;
      if (item['@removed'] !== undefined) {
        if (cache.users.delete(id)) removed++;
        continue;
      }
      const before = cache.users.get(id);
      const upn = item['userPrincipalName'];
      const fresh = flatten(item, paths);
      // Delta returns at least the changed properties: keep what it left out.
      const attributes = before
        ? Object.fromEntries(
            paths.map((p) => [
              p,
              (p.split('.')[0] ?? p) in item ? (fresh[p] ?? null) : (before.attributes[p] ?? null),
            ]),
          )
        : fresh;
      const userPrincipalName = typeof upn === 'string' ? upn : before?.userPrincipalName;
      if (userPrincipalName === undefined) continue;
      cache.users.set(id, { id, userPrincipalName, attributes });
      changed++;
    }
    const groupsChanged =
      cache.groups === undefined || request.groupPrefix === undefined
        ? 0
        : applyGroupDelta(cache.groups, groupRound.items, request.groupPrefix);
    if (privilegedCache.groups !== undefined) {
      applyRoleAssignableDelta(privilegedCache.groups, groupRound.items);
    }
    const privileged = await readPrivileged(transport, privilegedCache);
    checkpoint = {
      ...checkpoint,
      usersDeltaLink: round.deltaLink,
      groupsDeltaLink: groupRound.deltaLink,
    };
    changed += groupsChanged;
    // Licensed existing groups are outside the managed prefix: read again every cycle (a GET
    // and a member page each), so their licenses and members are never stale.
    const licensedGroups =
      request.licensedGroups === undefined
        ? undefined
        : await readLicensedGroups(transport, request.licensedGroups);
    if (
      licensedGroups !== undefined &&
      JSON.stringify(licensedGroups) !== JSON.stringify(cache.base.licensedGroups)
    ) {
      changed += 1;
    }
    if (changed === 0 && removed === 0 && samePrivileged(privileged, cache.base.privileged)) {
      // Nothing moved: hand back the very same object, which is what lets the daemon reuse
      // its last plan instead of computing an identical one (engine/pipeline/reuse.ts).
      return { tenant: cache.base, mode: 'delta', changed, removed };
    }
    const { privileged: _stale, ...rest } = cache.base;
    const tenant: EntraTenantState = {
      ...rest,
      users: [...cache.users.values()],
      ...(cache.groups === undefined ? {} : { groups: [...cache.groups.values()] }),
      ...(privileged === undefined ? {} : { privileged }),
      ...(licensedGroups === undefined ? {} : { licensedGroups }),
      clock: readClock(transport),
    };
    cache.base = tenant;
    return { tenant, mode: 'delta', changed, removed };
  }

  return {
    checkpoint: () => checkpoint,
    readFull: async (request) => (await fullRead(request, 'asked')).tenant,
    readDelta: async (request) => (await deltaRead(request)).tenant,
    async read(request) {
      if (checkpoint === undefined || cache === undefined) return fullRead(request, 'first');
      if (checkpoint.select !== selectKey(request)) return fullRead(request, 'attributes');
      if (clock.now() - checkpoint.lastFullReadAt >= interval) return fullRead(request, 'interval');
      try {
        return await deltaRead(request);
      } catch (err) {
        if (err instanceof DeltaTokenExpiredError) return fullRead(request, 'expired');
        throw err;
      }
    },
  };
}

function withoutSessions(user: TenantUser): TenantUser {
  if (user.signInSessionsValidFromDateTime === undefined) return user;
  const { signInSessionsValidFromDateTime: _read, ...rest } = user;
  return rest;
}

function samePrivileged(
  a: readonly PrivilegedAccount[] | undefined,
  b: readonly PrivilegedAccount[] | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  const key = (list: readonly PrivilegedAccount[]) =>
    JSON.stringify(list.map((p) => `${p.userId} ${p.reason}`).sort());
  return key(a) === key(b);
}

/** A managed group's properties and its members, tracked by `/groups/delta`. */
const GROUP_DELTA_SELECT = `${MANAGED_GROUP_SELECT},members`;

/**
 * Applies a groups delta round to the managed groups held: property changes, `members@delta`
 * additions and removals, deleted groups. A group not held is taken in only when it carries
 * the managed prefix (created since the baseline); Graph's delta names every changed group in
 * the tenant, and the others are none of entrasync's business. Returns how many held groups
 * changed.
 */
function applyGroupDelta(
  groups: Map<string, TenantGroup>,
  items: readonly Record<string, unknown>[],
  prefix: string,
): number {
  let changed = 0;
  for (const item of items) {
    const id = item['id'];
    if (typeof id !== 'string') continue;
    const before = groups.get(id);
    if (item['@removed'] !== undefined) {
      if (groups.delete(id)) changed++;
      continue;
    }
    const uniqueName =
      typeof item['uniqueName'] === 'string' ? item['uniqueName'] : before?.uniqueName;
    if (uniqueName === undefined || !uniqueName.startsWith(prefix)) continue;
    const members = new Set(before?.memberIds ?? []);
    applyMembersDelta(members, item);
    // Delta returns at least the changed properties: keep what it left out.
    const merged: Record<string, unknown> = before
      ? {
          id,
          displayName: before.displayName,
          description: before.description,
          mailEnabled: before.mailEnabled,
          securityEnabled: before.securityEnabled,
          groupTypes: before.groupTypes,
          isAssignableToRole: before.isAssignableToRole,
          assignedLicenses: before.licenses,
          ...withoutAnnotations(item),
        }
      : item;
    groups.set(id, toTenantGroup(merged, uniqueName, [...members]));
    changed++;
  }
  return changed;
}

/**
 * Keeps the role-assignable groups held for the privileged read current: members added and
 * removed, groups deleted, groups created since (their owners are read with the next full
 * read: delta does not track owners).
 */
function applyRoleAssignableDelta(
  groups: Map<string, RoleAssignableGroup>,
  items: readonly Record<string, unknown>[],
): void {
  for (const item of items) {
    const id = item['id'];
    if (typeof id !== 'string') continue;
    if (item['@removed'] !== undefined) {
      groups.delete(id);
      continue;
    }
    const held = groups.get(id);
    if (held === undefined && item['isAssignableToRole'] !== true) continue;
    const group = held ?? { id, name: id, memberIds: new Set<string>(), ownerIds: [] };
    if (typeof item['displayName'] === 'string') group.name = item['displayName'];
    applyMembersDelta(group.memberIds, item);
    groups.set(id, group);
  }
}

/** A group item's `members@delta`: members added, and `@removed` ones taken out. */
function applyMembersDelta(members: Set<string>, item: Record<string, unknown>): void {
  const delta = item['members@delta'];
  if (!Array.isArray(delta)) return;
  for (const m of delta as Record<string, unknown>[]) {
    const memberId = m['id'];
    if (typeof memberId !== 'string') continue;
    if (m['@removed'] !== undefined) members.delete(memberId);
    else members.add(memberId);
  }
}

function withoutAnnotations(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).filter(([key]) => !key.includes('@')));
}

/** What a baseline was read for: the users' `$select`, and whether groups were. */
function selectKey(request: TenantReadRequest): string {
  return `${selectOf(request)}${request.groupPrefix === undefined ? '' : ` groups:${request.groupPrefix}`}`;
}

function selectOf(request: TenantReadRequest): string {
  return selectFor([...new Set(request.userAttributes)]).join(',');
}
