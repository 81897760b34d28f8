/**
 * Mail addresses are unique across the directory: Entra copies a user's `mail` into its
 * `proxyAddresses` as an `SMTP:` address, and proxy addresses are unique across users, groups
 * and contacts, so a write of a mail another object holds (as its mail or as any `smtp:` proxy
 * address, in any case) is refused with 400 `ObjectConflict` on `proxyAddresses`. That 400 would
 * come at apply, after the plan was reviewed, and again on every run. So each mail this plan
 * would write (on a create, or on an update, adoption or restore that changes it) is checked
 * here (P14):
 *
 * - two people whose mapping gives the same mail are both held (`mail.duplicate`): which of
 *   them should have it is not ours to guess;
 * - a mail another active account holds is a plan error for that person (`mail.conflict`),
 *   naming the holder; the person is held (nothing is created, changed or deprovisioned for
 *   them this run), as for the other per-person errors. The others go on.
 *
 * Values the plan does not write (an account that keeps its mail, `createOnly`, an account the
 * plan leaves alone) are not checked. Accounts in the recycle bin hold no address: Entra lets an
 * active object take it (restoring the deleted one then reconciles, see diff's restore).
 */
import type { PlanIssue } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import { addressesOf } from './addresses.js';
import type { HeldAs } from './addresses.js';
import { identifierKey } from '../expr/normalize.js';
import { restorableByAnchor } from './diff.js';
import { existingAccount, plannedWrite, recordLocation } from './planned-writes.js';
import type { MatchedPair } from './match.js';
import type { Ownership } from './ownership.js';

export interface MailCheckInput {
  readonly spec: SyncSpec;
  readonly pairs: readonly MatchedPair[];
  readonly tenant: TenantState;
  readonly ownership: ReadonlyMap<string, Ownership>;
}

export interface MailCheckResult {
  /** The pairs whose writes may be planned (every pair when nothing is wrong). */
  readonly pairs: readonly MatchedPair[];
  /** Anchors of the people held. */
  readonly heldAnchors: readonly string[];
  readonly issues: readonly PlanIssue[];
}

interface Holder {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly as: HeldAs;
}

export function checkMailConflicts(input: MailCheckInput): MailCheckResult {
  const { spec, pairs, tenant } = input;
  if (!('mail' in spec.users.attributes)) return { pairs, heldAnchors: [], issues: [] };
  const context = {
    spec,
    ownership: input.ownership,
    restorable: restorableByAnchor(tenant.deletedUsers, spec),
  };

  // The mail each pair would write, and the account (if any) it would be written to.
  const writes = new Map<MatchedPair, { mail: string; ownId?: string }>();
  const writers = new Map<string, MatchedPair[]>();
  for (const pair of pairs) {
    const mail = plannedWrite(pair, 'mail', context);
    if (mail === undefined) continue;
    const existing = existingAccount(pair, context);
    writes.set(pair, { mail, ...(existing ? { ownId: existing.id } : {}) });
    const key = identifierKey(mail);
    const same = writers.get(key);
    if (same) same.push(pair);
    else writers.set(key, [pair]);
  }
  if (writes.size === 0) return { pairs, heldAnchors: [], issues: [] };

  const holders = new Map<string, Holder[]>();
  for (const u of tenant.users) {
    for (const { address, as } of addressesOf(u)) {
      const key = identifierKey(address);
      const holder = { id: u.id, userPrincipalName: u.userPrincipalName, as };
      const held = holders.get(key);
      if (held) held.push(holder);
      else holders.set(key, [holder]);
    }
  }

  const kept: MatchedPair[] = [];
  const heldAnchors: string[] = [];
  const issues: PlanIssue[] = [];
  for (const pair of pairs) {
    const write = writes.get(pair);
    if (!write) {
      kept.push(pair);
      continue;
    }
    const d = pair.desired;
    const key = identifierKey(write.mail);
    const others = (writers.get(key) ?? []).filter((p) => p !== pair);
    const holder = (holders.get(key) ?? []).find((h) => h.id !== write.ownId);
    if (others.length === 0 && !holder) {
      kept.push(pair);
      continue;
    }
    heldAnchors.push(d.anchor);
    const outcome = pair.account
      ? `${pair.account.userPrincipalName} is not changed`
      : write.ownId
        ? 'the account is not restored'
        : 'no account is created';
    const why =
      others.length > 0
        ? `is also what the mapping gives ${others.map((p) => p.desired.personKey).join(', ')}; two people cannot share one mail, so neither is given it`
        : `is held by ${holder?.userPrincipalName ?? ''} as its ${holder?.as ?? 'mail'} (Graph refuses it: ObjectConflict on proxyAddresses)`;
    const location = recordLocation(d, spec);
    issues.push({
      severity: 'error',
      code: others.length > 0 ? 'mail.duplicate' : 'mail.conflict',
      message: `${d.personKey}: mail "${write.mail}" (users.attributes.mail) ${why}; ${outcome}`,
      source: spec.primarySource,
      key: d.personKey,
      ...(location ? { location } : {}),
    });
  }
  return { pairs: kept, heldAnchors, issues };
}
