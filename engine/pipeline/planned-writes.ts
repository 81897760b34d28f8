/**
 * What the plan would write to a person's account, for the checks that hold a person before the
 * diff (domains.ts, mail-conflicts.ts): a value is written on a create, or on an update, adoption,
 * legacy claim or restore that changes it; never to an account the plan leaves alone, and never
 * an attribute in `users.createOnly` of an existing account. One definition, so the checks and
 * the diff agree on which values reach Graph.
 */
import type { DesiredUser } from '../model/desired.js';
import type { SyncSpec } from '../model/spec.js';
import type { TenantUser } from '../model/tenant.js';
import { sameValue } from './diff.js';
import type { MatchedPair } from './match.js';
import type { Ownership } from './ownership.js';

export interface PlannedWriteContext {
  readonly spec: SyncSpec;
  readonly ownership: ReadonlyMap<string, Ownership>;
  /** This config's accounts in the recycle bin, by anchor (diff's restorableByAnchor). */
  readonly restorable: ReadonlyMap<string, TenantUser>;
}

/** Whether the plan may write the pair's account at all (a create or restore always may). */
export function writable(pair: MatchedPair, ownership: PlannedWriteContext['ownership']): boolean {
  if (!pair.account) return true;
  const o = ownership.get(pair.account.id);
  return o === 'managed' || o === 'adoptable' || o === 'legacy-marker';
}

/** The account the pair's writes go to: the matched one, or the one a restore brings back. */
export function existingAccount(
  pair: MatchedPair,
  context: PlannedWriteContext,
): TenantUser | undefined {
  return pair.account ?? context.restorable.get(pair.desired.anchor);
}

/** The non-empty text the plan would write to `attribute`, or undefined when it writes none. */
export function plannedWrite(
  pair: MatchedPair,
  attribute: string,
  context: PlannedWriteContext,
): string | undefined {
  if (!writable(pair, context.ownership)) return undefined;
  const value = pair.desired.attributes[attribute];
  if (typeof value !== 'string' || value === '') return undefined;
  const existing = existingAccount(pair, context);
  if (!existing) return value;
  if (context.spec.users.createOnly.includes(attribute)) return undefined;
  const current =
    attribute === 'userPrincipalName' ? existing.userPrincipalName : existing.attributes[attribute];
  return sameValue(attribute, current, value) ? undefined : value;
}

/** Where a person's record is, for a per-person plan error: the primary source's, if any. */
export function recordLocation(d: DesiredUser, spec: SyncSpec) {
  return (d.provenance.find((p) => p.source === spec.primarySource) ?? d.provenance[0])?.location;
}
