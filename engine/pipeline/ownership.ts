/**
 * Ownership: decides, before any diff, which tenant accounts this config may touch.
 *
 * "Hands off" is a transform before the diff, not a filter after it (style practice 3): the diff
 * only ever sees accounts classified here as `managed` (proven by the marker) or `adoptable`
 * (unmarked, may be adopted when a person matches them). Accounts owned by Entra Connect
 * (`onPremisesSyncEnabled`), guests and accounts on the `protect` list are read-only and never reach the diff as writable. That
 * gives invariant 1 one code path: nothing unmarked is ever deprovisioned.
 *
 * Several configs may share a tenant (P16). Each marks its accounts `entrasync:<id>`; an account
 * carrying another config's value is `other-config`: never matched, adopted, updated or
 * deprovisioned, only listed as left alone. The bare legacy value `entrasync` (every config's
 * marker before per-config ids) is `legacy-marker`: claimed (and re-marked) by a person matching
 * it by anchor, never deprovisioned unless the config says it is the only one (`claimLegacy`).
 */
import type { IgnoredUser } from '../model/plan.js';
import { LEGACY_MARKER_VALUE, MARKER_VALUE_PREFIX } from '../model/spec.js';
import type { MarkerSpec } from '../model/spec.js';
import type { TenantState, TenantUser } from '../model/tenant.js';
import { compareText } from './compare.js';

export type Ownership =
  | 'managed'
  | 'adoptable'
  | 'protected'
  | 'privileged'
  | 'synced-from-on-premises'
  | 'guest'
  | 'other-config'
  | 'legacy-marker';

export interface ClassifiedTenant {
  readonly users: readonly TenantUser[];
  readonly ownership: ReadonlyMap<string, Ownership>;
  /** The marker value of each `other-config` and `legacy-marker` account, by id. */
  readonly markers?: ReadonlyMap<string, string>;
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
  const markers = new Map<string, string>();
  for (const user of tenant.users) {
    const o: Ownership = isProtected(user)
      ? 'protected'
      : privileged.has(user.id) && !isAllowedPrivileged(user)
        ? 'privileged'
        : ownershipOf(user, marker);
    ownership.set(user.id, o);
    if (o === 'other-config' || o === 'legacy-marker') {
      markers.set(user.id, String(user.attributes[marker.attribute]));
    }
  }
  return { users: tenant.users, ownership, markers };
}

export function ownershipOf(user: TenantUser, marker: MarkerSpec): Ownership {
  if (user.attributes.onPremisesSyncEnabled === true) return 'synced-from-on-premises';
  if (user.attributes.userType === 'Guest') return 'guest';
  const state = markerState(user, marker);
  return state === 'own'
    ? 'managed'
    : state === 'other'
      ? 'other-config'
      : state === 'legacy'
        ? 'legacy-marker'
        : 'adoptable';
}

/**
 * Whose marker an account carries: this config's (`own`, the legacy value too with
 * `claimLegacy`), another entrasync config's (`other`), the unclaimed legacy value, or none (any
 * other value is not entrasync's and the account stays adoptable, as before).
 */
export function markerState(
  user: TenantUser,
  marker: MarkerSpec,
): 'own' | 'other' | 'legacy' | 'none' {
  const value = user.attributes[marker.attribute];
  if (value === marker.value) return 'own';
  if (value === LEGACY_MARKER_VALUE) return marker.claimLegacy === true ? 'own' : 'legacy';
  if (typeof value === 'string' && value.startsWith(MARKER_VALUE_PREFIX)) return 'other';
  return 'none';
}

export function isMarked(user: TenantUser, marker: MarkerSpec): boolean {
  return markerState(user, marker) === 'own';
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
            o === 'privileged' ||
            o === 'other-config' ||
            o === 'legacy-marker'
          ? o
          : undefined;
    if (!reason) continue;
    const ref = { id: user.id, userPrincipalName: user.userPrincipalName };
    const marker = classified.markers?.get(user.id);
    ignored.push(
      (reason === 'other-config' || reason === 'legacy-marker') && marker !== undefined
        ? { user: ref, reason, marker }
        : { user: ref, reason },
    );
  }
  return ignored.sort((a, b) => compareText(a.user.userPrincipalName, b.user.userPrincipalName));
}
