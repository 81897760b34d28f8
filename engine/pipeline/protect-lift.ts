/**
 * The protect-lift check (P2, second half): protection must be lifted by a separate, earlier
 * apply. An account that was on the protect list before this config change (the baseline) and is
 * not any more has had its protection lifted in this very change: whatever the same change says
 * about it (a mapping that disables it, a source that dropped it, a group it leaves) was written
 * while it was still protected and has never been applied against it. Every change to such an
 * account is blocked (`protection-lifted`), so a single commit can never both lift protection and
 * act on the account; once a plan with the lift alone has been applied, the lift is in the
 * baseline and the next plan may change the account.
 *
 * Stateless: the baseline is plain data given by the caller (the config at a git ref in CI, the
 * config last applied in the daemon). Accounts match baseline entries exactly as they match
 * `safety.protect` (ownership.ts: listedIn), so the two can never disagree.
 */
import type {
  BlockedChange,
  Change,
  ProtectBaseline,
  ProtectLiftCheck,
  UserRef,
} from '../model/plan.js';
import { isGroupChange } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import { identifierKey } from '../expr/normalize.js';
import { compareText } from './compare.js';
import { canonicalJson, sha256 } from './fingerprint.js';
import { listedIn } from './ownership.js';
import type { ClassifiedTenant } from './ownership.js';

export type { ProtectBaseline, ProtectLiftCheck } from '../model/plan.js';

export const PROTECTION_LIFTED = 'protection-lifted';

/** Accounts whose protection the change being planned lifts, by id and by UPN (lower case). */
export interface LiftedAccounts {
  readonly byId: ReadonlyMap<string, Required<UserRef>>;
  readonly byUpn: ReadonlyMap<string, Required<UserRef>>;
  /** Where the baseline was read, for the message. */
  readonly from?: string;
}

export interface ProtectLift {
  /** What the plan records (`plan.protectLift`). */
  readonly check: ProtectLiftCheck;
  /** For the safety check; absent when the check did not run. */
  readonly lifted?: LiftedAccounts;
  /** The plan's fingerprint with the baseline folded in (unchanged without a baseline). */
  bind(fingerprint: string): string;
}

/** The baseline as plans record and hash it: entries lower case, sorted, unique. */
export function normalizeBaseline(baseline: ProtectBaseline): ProtectBaseline {
  const protect = [...new Set(baseline.protect.map(identifierKey))]
    .filter((p) => p !== '')
    .sort(compareText);
  return { protect, ...(baseline.from === undefined ? {} : { from: baseline.from }) };
}

/** The baseline of a loaded config: its protect list (for the daemon: the config it last applied). */
export function protectBaselineOf(spec: Pick<SyncSpec, 'safety'>, from?: string): ProtectBaseline {
  return { protect: [...spec.safety.protect], ...(from === undefined ? {} : { from }) };
}

/** True when two baselines protect the same entries (where they were read does not matter). */
export function sameProtectBaseline(a: ProtectBaseline, b: ProtectBaseline): boolean {
  const x = normalizeBaseline(a).protect;
  const y = normalizeBaseline(b).protect;
  return x.length === y.length && x.every((entry, i) => entry === y[i]);
}

/**
 * Which accounts the current config stops protecting, given the baseline. `classified` is the
 * tenant as classified with the current protect list (the plan's own classification).
 */
export function checkProtectLift(
  tenant: TenantState,
  classified: ClassifiedTenant,
  baseline: ProtectBaseline | undefined,
): ProtectLift {
  if (baseline === undefined) return { check: { ran: false }, bind: (f) => f };
  const normalized = normalizeBaseline(baseline);
  // Matched as `protect` is (ownership.ts), where protection comes before everything else.
  const wasProtected = listedIn(normalized.protect);
  const lifted: Required<UserRef>[] = [];
  for (const user of tenant.users) {
    if (!wasProtected(user)) continue;
    if (classified.ownership.get(user.id) === 'protected') continue;
    lifted.push({ id: user.id, userPrincipalName: user.userPrincipalName });
  }
  lifted.sort((a, b) => compareText(a.userPrincipalName, b.userPrincipalName));
  const hashed = canonicalJson(normalized.protect);
  return {
    check: { ran: true, baseline: normalized, lifted },
    lifted: {
      byId: new Map(lifted.map((u) => [u.id.toLowerCase(), u])),
      byUpn: new Map(lifted.map((u) => [identifierKey(u.userPrincipalName), u])),
      ...(normalized.from === undefined ? {} : { from: normalized.from }),
    },
    // The entries only, not where they were read: a pull request planned against origin/main
    // and its merge applied against HEAD^ have the same baseline and the same fingerprint.
    bind: (fingerprint) => sha256(canonicalJson({ fingerprint, protectBaseline: hashed })),
  };
}

/**
 * The verdict for one change: blocked when it acts on an account whose protection this change
 * lifts (the account itself, or its membership of a group). A manager set to such an account is
 * a change to someone else and is not blocked.
 */
export function protectionLiftedVerdict(
  change: Change,
  lifted: LiftedAccounts,
): Omit<BlockedChange, 'change'> | undefined {
  // The usual case with a baseline: nothing lifted, nothing to look up for any change.
  if (lifted.byId.size === 0) return undefined;
  const hit = (ref: UserRef): Required<UserRef> | undefined =>
    (ref.id === undefined ? undefined : lifted.byId.get(ref.id.toLowerCase())) ??
    lifted.byUpn.get(identifierKey(ref.userPrincipalName));
  let accounts: Required<UserRef>[];
  if (isGroupChange(change)) {
    if (change.kind !== 'addMembers' && change.kind !== 'removeMembers') return undefined;
    accounts = change.members.flatMap((m) => hit(m) ?? []);
  } else {
    const account = hit(change.user);
    accounts = account ? [account] : [];
  }
  if (accounts.length === 0) return undefined;
  const names = [...new Set(accounts.map((a) => a.userPrincipalName))];
  const one = names.length === 1;
  const baseline = lifted.from === undefined ? 'the baseline' : `the baseline (${lifted.from})`;
  return {
    code: PROTECTION_LIFTED,
    message: `blocked: ${names.join(', ')} ${one ? 'is' : 'are'} on safety.protect in ${baseline} but not in this config: protection was lifted in this change; lift it in a separate, earlier apply, then plan again`,
  };
}
