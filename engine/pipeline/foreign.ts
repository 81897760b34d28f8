/**
 * Accounts of another config (P16): a person of this config whose anchor or userPrincipalName
 * is held by an account another entrasync config manages (marker `entrasync:<other id>`) is a
 * plan error for that person, held: never an adoption, never a second account with the same
 * anchor, never a create that Graph would refuse for its UPN. The same holds for an account with
 * the unclaimed legacy marker, except the one a person matches by its own anchor: that account
 * is claimed (diff re-marks it, `claim-legacy`).
 *
 * Runs between match and diff, on the pairs match made, so match itself stays about identity.
 */
import { identifierKey } from '../expr/normalize.js';
import { MARKER_VALUE_PREFIX } from '../model/spec.js';
import type { SyncSpec } from '../model/spec.js';
import type { TenantUser } from '../model/tenant.js';
import type { MatchedPair, MatchProblem } from './match.js';
import type { ClassifiedTenant } from './ownership.js';

export interface ForeignResult {
  /** The pairs left to diff: every person not held here. */
  readonly pairs: readonly MatchedPair[];
  readonly problems: readonly MatchProblem[];
}

export function holdForeignClaims(
  pairs: readonly MatchedPair[],
  classified: ClassifiedTenant,
  spec: SyncSpec,
): ForeignResult {
  const foreign = classified.users.filter((u) => isForeign(classified, u));
  if (foreign.length === 0) return { pairs, problems: [] };
  const byAnchor = new Map<string, TenantUser>();
  const byUpn = new Map<string, TenantUser>();
  for (const u of foreign) {
    const anchor = anchorOf(u, spec);
    if (anchor !== undefined) byAnchor.set(anchor, u);
    byUpn.set(identifierKey(u.userPrincipalName), u);
  }
  const kept: MatchedPair[] = [];
  const problems: MatchProblem[] = [];
  for (const pair of pairs) {
    const d = pair.desired;
    const anchor = d.anchor.trim();
    const account = pair.account;
    const claimsLegacy =
      account !== undefined &&
      classified.ownership.get(account.id) === 'legacy-marker' &&
      anchorOf(account, spec) === anchor;
    const hit =
      account !== undefined && !claimsLegacy && isForeign(classified, account)
        ? { account, by: `matches it by ${pair.matchedBy ?? 'anchor'}` }
        : (otherHolder(byAnchor.get(anchor), 'anchor', account) ??
          otherHolder(
            byUpn.get(identifierKey(String(d.attributes.userPrincipalName))),
            'userPrincipalName',
            account,
          ));
    if (!hit) {
      kept.push(pair);
      continue;
    }
    problems.push({
      personKey: d.personKey,
      anchor: d.anchor,
      message: `${hit.account.userPrincipalName} ${whose(classified, hit.account, spec)}, and ${d.personKey} ${hit.by}; held (never adopted, changed or duplicated)`,
    });
  }
  return { pairs: kept, problems };
}

function isForeign(classified: ClassifiedTenant, u: TenantUser): boolean {
  const o = classified.ownership.get(u.id);
  return o === 'other-config' || o === 'legacy-marker';
}

function otherHolder(
  holder: TenantUser | undefined,
  rule: 'anchor' | 'userPrincipalName',
  matched: TenantUser | undefined,
): { account: TenantUser; by: string } | undefined {
  if (!holder || holder.id === matched?.id) return undefined;
  return { account: holder, by: `has the same ${rule}` };
}

/** Who the account belongs to, and what the config can do about it. */
function whose(classified: ClassifiedTenant, u: TenantUser, spec: SyncSpec): string {
  const value = String(u.attributes[spec.marker.attribute]);
  if (classified.ownership.get(u.id) === 'legacy-marker') {
    return `carries the legacy marker "${value}" with another anchor (set \`target.marker.claimLegacy: true\` only if this config is the only one on the tenant)`;
  }
  const id = value.slice(MARKER_VALUE_PREFIX.length);
  return `is managed by another entrasync config (marker "${value}"; if that is this config under an earlier id, set \`target.marker.id: ${id}\`)`;
}

function anchorOf(u: TenantUser, spec: SyncSpec): string | undefined {
  const value = u.attributes[spec.users.anchorAttribute];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
