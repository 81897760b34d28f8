/**
 * The users read: every account with the attributes the config manages, license assignments
 * and manager in the same pages.
 *
 * A big tenant's `/users` is read in shards side by side (issue 24): one paged read per first
 * character of `userPrincipalName` (`startsWith(userPrincipalName,'a')`, a filter Graph
 * supports by default, with `$expand`), SHARDS_IN_FLIGHT at a time. The union must prove itself
 * whole: `/users/$count` (ConsistencyLevel: eventual) is taken before and after, and only when
 * both agree and equal the number of distinct ids read, with no id read twice, is the union
 * the tenant's users. Anything else (a UPN starting with a character outside the shards, a
 * tenant that moved during the read, a count not yet caught up) falls back to the one-pass read
 * (G8 as before: every shard and the fallback are readAll, whole or failed). A shard that fails
 * fails the read. Tenants under SHARD_MIN_USERS are read in one pass.
 */
import { TenantReadError } from '../../engine/errors.js';
import type { TenantLicense, TenantReadRequest, TenantUser } from '../../engine/model/tenant.js';
import { flatten, selectFor } from './attributes.js';
import { PAGE_SIZE, readAll } from './read-paged.js';
import type { GraphTransport } from './transport.js';

/** Below this many users a tenant is read in one pass (sharding would save little). */
export const SHARD_MIN_USERS = 5 * PAGE_SIZE;
/** Shard reads in flight at once. */
export const SHARDS_IN_FLIGHT = 16;
/** First characters of userPrincipalName, one shard each (Graph's startsWith ignores case). */
export const SHARD_PREFIXES: readonly string[] = [...'abcdefghijklmnopqrstuvwxyz0123456789'];

/** How the last users read went, for benchmarks: sharded, or why not. */
export interface UsersReadNote {
  readonly mode: 'one-pass' | 'sharded' | 'fallback';
  readonly shards?: number;
  readonly reason?: string;
}

export interface UsersReadOptions {
  /** Shard from this many users on. Default SHARD_MIN_USERS. */
  readonly shardFrom?: number;
  /** Told how the `/users` read went. */
  readonly onUsersRead?: (note: UsersReadNote) => void;
}

async function readUsersSharded(
  transport: GraphTransport,
  query: string,
  options: UsersReadOptions,
): Promise<Record<string, unknown>[]> {
  const note = (value: UsersReadNote): void => options.onUsersRead?.(value);
  const onePass = (): Promise<Record<string, unknown>[]> =>
    readAll(transport, `/users?${query}`, 'users');
  if (options.shardFrom === Infinity) {
    note({ mode: 'one-pass', reason: 'sharding off' });
    return onePass();
  }
  const before = await countUsers(transport);
  if (before === undefined || before < (options.shardFrom ?? SHARD_MIN_USERS)) {
    note({ mode: 'one-pass', reason: before === undefined ? 'no $count' : 'small tenant' });
    return onePass();
  }
  const shards = await inPool(
    SHARD_PREFIXES.map(
      (prefix) => () =>
        readAll(
          transport,
          `/users?$filter=${encodeURIComponent(`startsWith(userPrincipalName,'${prefix}')`)}&${query}`,
          `users (userPrincipalName starting with "${prefix}")`,
        ),
    ),
    SHARDS_IN_FLIGHT,
  );
  const byId = new Map<string, Record<string, unknown>>();
  let repeated = 0;
  for (const shard of shards) {
    for (const raw of shard) {
      const id = String(raw['id']);
      if (byId.has(id)) repeated += 1;
      else byId.set(id, raw);
    }
  }
  const after = await countUsers(transport);
  if (repeated === 0 && after === before && byId.size === before) {
    note({ mode: 'sharded', shards: shards.length });
    return [...byId.values()];
  }
  note({
    mode: 'fallback',
    reason: `$count ${before} before, ${after ?? 'unknown'} after, ${byId.size} read in shards, ${repeated} read twice`,
  });
  return onePass();
}

/** `/users/$count`, or undefined when Graph would not count (the one-pass read then). */
async function countUsers(transport: GraphTransport): Promise<number | undefined> {
  const response = await transport.get('/users/$count', { ConsistencyLevel: 'eventual' });
  if (response.status !== 200) return undefined;
  const value = Number(typeof response.body === 'string' ? response.body.trim() : response.body);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Runs `tasks` at most `limit` at a time; results in task order; the first failure rejects. */
async function inPool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index];
      if (task !== undefined) results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/**
 * Users of a collection (`/users` or the recycle bin) with the selected attributes, and on
 * request their license assignments (one `licenseAssignmentStates` entry per SKU and path, so
 * direct and group-inherited assignments are told apart) and manager id, in the same pages.
 */
export async function readUsers(
  transport: GraphTransport,
  paths: readonly string[],
  request: TenantReadRequest,
  collection: string,
  options: UsersReadOptions = {},
): Promise<TenantUser[]> {
  const select = [
    ...selectFor(paths),
    ...(request.licenses ? ['assignedLicenses', 'licenseAssignmentStates'] : []),
    ...(request.signInSessions ? ['signInSessionsValidFromDateTime'] : []),
  ].join(',');
  const expand = request.manager ? '&$expand=manager($select=id)' : '';
  const query = `$select=${select}${expand}&$top=${PAGE_SIZE}`;
  const raws =
    collection === '/users'
      ? await readUsersSharded(transport, query, options)
      : await readAll(transport, `${collection}?${query}`, 'deleted users');
  const users: TenantUser[] = [];
  for (const raw of raws) {
    const id = raw['id'];
    const upn = raw['userPrincipalName'];
    if (typeof id !== 'string' || typeof upn !== 'string') {
      throw new TenantReadError(`reading ${collection}: a user without id or userPrincipalName`);
    }
    const manager = raw['manager'] as { id?: unknown } | null | undefined;
    const sessions = raw['signInSessionsValidFromDateTime'];
    users.push({
      id,
      userPrincipalName: upn,
      attributes: flatten(raw, paths),
      ...(request.licenses ? { licenses: licensesOf(raw) } : {}),
      ...(typeof manager?.id === 'string' ? { managerId: manager.id } : {}),
      ...(request.signInSessions && typeof sessions === 'string'
        ? { signInSessionsValidFromDateTime: sessions }
        : {}),
    });
  }
  return users;
}

function licensesOf(raw: Record<string, unknown>): TenantLicense[] {
  const states = raw['licenseAssignmentStates'];
  const entries = Array.isArray(states)
    ? (states as Record<string, unknown>[])
    : Array.isArray(raw['assignedLicenses'])
      ? (raw['assignedLicenses'] as Record<string, unknown>[])
      : [];
  return entries.flatMap((e) => {
    const skuId = e['skuId'];
    // A group assignment Entra could not carry out (no seats: state `Error`) is not held.
    if (typeof skuId !== 'string' || e['state'] === 'Error') return [];
    const disabled = Array.isArray(e['disabledPlans']) ? (e['disabledPlans'] as unknown[]) : [];
    const via = e['assignedByGroup'];
    return [
      {
        skuId,
        disabledPlans: disabled.filter((p): p is string => typeof p === 'string'),
        ...(typeof via === 'string' && via !== '' ? { viaGroup: via } : {}),
      },
    ];
  });
}
