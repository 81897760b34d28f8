/**
 * Verified domains: Graph refuses a userPrincipalName outside the tenant's verified domains
 * (400 at apply, after the plan was reviewed), and a mail address there is no address the tenant
 * owns. So each value this plan would write — on a create, or on an update, adoption or
 * restore that changes it — must be in a verified domain (case-insensitive); otherwise it is a
 * per-person plan error (`domain.unverified`) naming the record, the attribute, the value and
 * the verified domains, and that person is held: nothing is created, changed or deprovisioned
 * for them this run, as for the other per-person errors (match.ambiguous). The others go on.
 *
 * Values the plan does not write are not checked: an existing account that stays in an old
 * domain, an attribute in `users.createOnly` of an existing account, an account the plan leaves
 * alone (unmanaged, guest, synced, protected, privileged).
 *
 * Domains the reader did not read (`tenant.domains` absent) are not checked; domains it could
 * not read (403: no Domain.Read.All) skip the check with a warning, never "nothing verified".
 */
import type { PlanIssue, PlanWarning } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import { identifierKey } from '../expr/normalize.js';
import { compareText } from './compare.js';
import { restorableByAnchor } from './diff.js';
import { existingAccount, plannedWrite, recordLocation } from './planned-writes.js';
import type { MatchedPair } from './match.js';
import type { Ownership } from './ownership.js';

/** Attributes whose domain must be verified; `mail` only when the config maps it. */
export const DOMAIN_ATTRIBUTES = ['userPrincipalName', 'mail'] as const;

/** Verified domains named in one message at most; the rest are counted. */
const LISTED_DOMAINS = 10;

export interface DomainCheckInput {
  readonly spec: SyncSpec;
  readonly pairs: readonly MatchedPair[];
  readonly tenant: TenantState;
  readonly ownership: ReadonlyMap<string, Ownership>;
}

export interface DomainCheckResult {
  /** The pairs whose writes may be planned (every pair when nothing is wrong). */
  readonly pairs: readonly MatchedPair[];
  /** Anchors of the people held: their accounts are neither written nor deprovisioned. */
  readonly heldAnchors: readonly string[];
  readonly issues: readonly PlanIssue[];
  readonly warnings: readonly PlanWarning[];
}

/** Whether the config writes an attribute that must be in a verified domain. */
export function writesDomainAttributes(spec: SyncSpec): boolean {
  return DOMAIN_ATTRIBUTES.some((a) => a in spec.users.attributes);
}

/** The domain part of an address (after the last `@`), lowercased; '' when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : identifierKey(address.slice(at + 1));
}

export function checkDomains(input: DomainCheckInput): DomainCheckResult {
  const { spec, pairs, tenant } = input;
  const domains = tenant.domains;
  if (domains === undefined) return { pairs, heldAnchors: [], issues: [], warnings: [] };
  if (domains.status === 'unreadable') {
    return {
      pairs,
      heldAnchors: [],
      issues: [],
      warnings: [
        {
          code: 'domains.unreadable',
          message: `verified-domain check skipped: grant Domain.Read.All (${domains.reason}); a userPrincipalName outside the tenant's verified domains fails only at apply`,
          subject: 'domains',
        },
      ],
    };
  }

  const verified = new Set(domains.verified.map(identifierKey));
  const names = [...verified].sort(compareText);
  const listed =
    names.length === 0
      ? 'none'
      : names.slice(0, LISTED_DOMAINS).join(', ') +
        (names.length > LISTED_DOMAINS ? `, and ${names.length - LISTED_DOMAINS} more` : '');
  const attributes = DOMAIN_ATTRIBUTES.filter(
    (a) => a === 'userPrincipalName' || a in spec.users.attributes,
  );
  const context = {
    spec,
    ownership: input.ownership,
    restorable: restorableByAnchor(tenant.deletedUsers, spec),
  };

  const kept: MatchedPair[] = [];
  const heldAnchors: string[] = [];
  const issues: PlanIssue[] = [];
  for (const pair of pairs) {
    const d = pair.desired;
    const wrong = attributes.flatMap((attribute) => {
      const value = plannedWrite(pair, attribute, context);
      if (value === undefined) return [];
      const domain = domainOf(value);
      return verified.has(domain) ? [] : [{ attribute, value, domain }];
    });
    if (wrong.length === 0) {
      kept.push(pair);
      continue;
    }
    heldAnchors.push(d.anchor);
    const existing = existingAccount(pair, context);
    const outcome = existing
      ? `${existing.userPrincipalName} is not changed`
      : 'no account is created';
    const location = recordLocation(d, spec);
    for (const w of wrong) {
      issues.push({
        severity: 'error',
        code: 'domain.unverified',
        message: `${d.personKey}: ${w.attribute} "${w.value}" (users.attributes.${w.attribute}) is ${w.domain === '' ? 'not an address in any domain' : `in ${w.domain}, not a verified domain of the tenant`} (verified: ${listed}); ${outcome} (Graph refuses it)`,
        source: spec.primarySource,
        key: d.personKey,
        ...(location ? { location } : {}),
      });
    }
  }
  return { pairs: kept, heldAnchors, issues, warnings: [] };
}
