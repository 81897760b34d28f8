/**
 * Digests that bind a saved plan to what it was made from (style practice 5).
 *
 * The tenant digest covers only what the plan's decisions rest on, so unrelated activity in a
 * busy tenant does not make every reviewed plan stale: every managed account (the population
 * deprovisioning is judged against), every account a change targets, and for each create whether
 * an account with that UPN exists. Apply recomputes it from a fresh read and the saved plan alone.
 */
import { createHash } from 'node:crypto';
import { identifierKey } from '../expr/normalize.js';
import type { Change } from '../model/plan.js';
import { isGroupChange } from '../model/plan.js';
import type { MarkerSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import { compareText } from './compare.js';
import { isMarked } from './ownership.js';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level: equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareText)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function tenantDigest(
  tenant: TenantState,
  marker: MarkerSpec,
  changes: readonly Change[],
): string {
  const targeted = new Set<string>();
  const createdUpns = new Set<string>();
  for (const change of changes) {
    if (isGroupChange(change)) continue;
    if (change.user.id) targeted.add(change.user.id);
    else createdUpns.add(identifierKey(change.user.userPrincipalName));
  }
  const relevantUsers = tenant.users
    .filter(
      (u) =>
        isMarked(u, marker) ||
        targeted.has(u.id) ||
        createdUpns.has(identifierKey(u.userPrincipalName)),
    )
    .map((u) => ({
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      attributes: u.attributes,
      ...(u.licenses === undefined ? {} : { licenses: u.licenses }),
      ...(u.managerId === undefined ? {} : { managerId: u.managerId }),
    }))
    .sort((a, b) => compareText(a.id, b.id));
  // Without groups (none read) the digest is the users' alone, as before groups existed.
  const groups = [...(tenant.groups ?? [])]
    .map((g) => ({ ...g, memberIds: [...g.memberIds].sort(compareText) }))
    .sort((a, b) => compareText(a.id, b.id));
  const relevant = groups.length === 0 ? relevantUsers : { users: relevantUsers, groups };
  return sha256(canonicalJson(relevant));
}

export function planFingerprint(
  configDigest: string,
  tenantDigestValue: string,
  changes: readonly Change[],
): string {
  return sha256(canonicalJson({ configDigest, tenantDigest: tenantDigestValue, changes }));
}
