/**
 * Ownership: decides, before any diff, which tenant accounts this config may touch.
 *
 * "Hands off" is a transform before the diff, not a filter after it (style practice 3): the diff
 * only ever sees accounts classified here as `managed` (proven by the marker) or `adoptable`
 * (unmarked, may be adopted when a person matches them). Accounts owned by Entra Connect
 * (`onPremisesSyncEnabled`), guests and accounts on the `protect` list are read-only and never reach the diff as writable. That
 * gives invariant 1 one code path: nothing unmarked is ever deprovisioned.
 */
import type { IgnoredUser } from '../model/plan.js';
import type { MarkerSpec } from '../model/spec.js';
import type { TenantState, TenantUser } from '../model/tenant.js';
import { compareText } from './compare.js';

export type Ownership =
  'managed' | 'adoptable' | 'protected' | 'privileged' | 'synced-from-on-premises' | 'guest';

export interface ClassifiedTenant {
  readonly users: readonly TenantUser[];
  readonly ownership: ReadonlyMap<string, Ownership>;
}

export interface OwnershipRules {
  /** UPNs (lower case) and object ids never written. */
  readonly protect: readonly string[];
  /** Privileged accounts this config may manage anyway. */
  readonly allowPrivileged: readonly string[];
}

/** Whether an account is on a list of UPNs and object ids (`protect`, `allowPrivileged`). */
export function listedIn(list: readonly string[]): (user: TenantUser) => boolean {
  const set = new Set(list.map((p) => p.toLowerCase()));
  return (u) => set.has(u.id.toLowerCase()) || set.has(u.userPrincipalName.toLowerCase());
}

export function classifyTenant(
  tenant: TenantState,
  marker: MarkerSpec,
  rules: OwnershipRules = { protect: [], allowPrivileged: [] },
): ClassifiedTenant {
  const isProtected = listedIn(rules.protect);
  const isAllowedPrivileged = listedIn(rules.allowPrivileged);
  const privileged = new Set((tenant.privileged ?? []).map((p) => p.userId));
  const ownership = new Map<string, Ownership>();
  for (const user of tenant.users) {
    const o: Ownership = isProtected(user)
      ? 'protected'
      : privileged.has(user.id) && !isAllowedPrivileged(user)
        ? 'privileged'
        : ownershipOf(user, marker);
    ownership.set(user.id, o);
  }
  return { users: tenant.users, ownership };
}

export function ownershipOf(user: TenantUser, marker: MarkerSpec): Ownership {
  if (user.attributes.onPremisesSyncEnabled === true) return 'synced-from-on-premises';
  if (user.attributes.userType === 'Guest') return 'guest';
  return isMarked(user, marker) ? 'managed' : 'adoptable';
}

export function isMarked(user: TenantUser, marker: MarkerSpec): boolean {
  return user.attributes[marker.attribute] === marker.value;
}

/** Tenant accounts the plan leaves alone because they are not this config's (P1, P5). */
export function ignoredUsers(
  classified: ClassifiedTenant,
  touched: ReadonlySet<string>,
): IgnoredUser[] {
  const ignored: IgnoredUser[] = [];
  for (const user of classified.users) {
    if (touched.has(user.id)) continue;
    const o = classified.ownership.get(user.id);
    const reason =
      o === 'adoptable'
        ? 'unmanaged'
        : o === 'synced-from-on-premises' ||
            o === 'guest' ||
            o === 'protected' ||
            o === 'privileged'
          ? o
          : undefined;
    if (reason)
      ignored.push({ user: { id: user.id, userPrincipalName: user.userPrincipalName }, reason });
  }
  return ignored.sort((a, b) => compareText(a.user.userPrincipalName, b.user.userPrincipalName));
}
