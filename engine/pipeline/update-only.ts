/**
 * Update-only mode (`users.create: false`, issue 20; Okta's "Profile sync" and "License only"):
 * the people the match found no account for are taken out before the diff, so nothing creates
 * or restores one for them, and none of their memberships, licenses or managers is planned.
 * They are listed instead (`Plan.notProvisioned`), so a person nobody provisions is seen, not
 * silently skipped. Accounts that exist and match are managed as always.
 */
import type { NotProvisioned } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import type { MatchedPair } from './match.js';

export function withoutCreates(
  spec: SyncSpec,
  pairs: readonly MatchedPair[],
): { readonly pairs: readonly MatchedPair[]; readonly notProvisioned: readonly NotProvisioned[] } {
  if (spec.users.create !== false) return { pairs, notProvisioned: [] };
  const kept: MatchedPair[] = [];
  const notProvisioned: NotProvisioned[] = [];
  for (const pair of pairs) {
    if (pair.account) kept.push(pair);
    else {
      notProvisioned.push({
        personKey: pair.desired.personKey,
        userPrincipalName: String(pair.desired.attributes.userPrincipalName),
      });
    }
  }
  notProvisioned.sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName));
  return { pairs: kept, notProvisioned };
}
