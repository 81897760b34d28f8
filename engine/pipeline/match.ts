/**
 * Match: pairs each desired user with at most one tenant account, by the spec's rules in order
 * (anchor first, then userPrincipalName, then mail). Identity first, values later (style
 * practice 2): the diff compares attributes only of pairs made here.
 *
 * An ambiguous match (two accounts share the anchor, or two people claim one account, or two
 * people would get the same UPN) holds the people involved rather than guessing.
 *
 * An anchor is an identity (P7): a soft match (userPrincipalName, mail) never pairs a person with
 * an account this config manages whose anchor is set and is another key, not the person's own
 * key in another format (`anchorForm`): that account belongs to someone else, usually a leaver
 * with the same name. A person whose userPrincipalName such an account holds is held with a plan
 * error (creating or renaming into it would fail or take it over), and so is that account: it is
 * not deprovisioned while the two cannot be told apart (a namesake leaver, or the same person
 * under a key that changed). `$selectUnique` already treats other people's accounts as taken and
 * gives such a person a free name, which resolves both.
 */
import { identifierKey } from '../expr/normalize.js';
import type { DesiredUser } from '../model/desired.js';
import type { MatchRule, SyncSpec } from '../model/spec.js';
import type { TenantUser } from '../model/tenant.js';
import { anchorForm } from './anchors.js';
import { groupBy, lazy } from './group-by.js';
import { isMarked } from './ownership.js';

export interface MatchedPair {
  readonly desired: DesiredUser;
  readonly account?: TenantUser;
  readonly matchedBy?: MatchRule;
}

export interface MatchProblem {
  readonly personKey: string;
  readonly anchor: string;
  readonly message: string;
  /** Plan issue code; absent: `match.ambiguous`. */
  readonly code?: string;
  /**
   * Anchor of another account held with the person: the managed account holding the person's
   * userPrincipalName is not deprovisioned while the two cannot be told apart (a leaver with the
   * same name, or this very person under a key that changed).
   */
  readonly alsoHeld?: string;
}

export interface MatchResult {
  readonly pairs: readonly MatchedPair[];
  /** Ids of accounts some desired user matched. */
  readonly matchedIds: ReadonlySet<string>;
  readonly problems: readonly MatchProblem[];
}

export function matchUsers(
  desired: readonly DesiredUser[],
  accounts: readonly TenantUser[],
  spec: SyncSpec,
): MatchResult {
  // Built on first use: when every person matches by anchor, no other index is needed.
  const indexes: Record<MatchRule, () => Map<string, TenantUser[]>> = {
    anchor: lazy(() =>
      groupBy(accounts, (u) => stringAttr(u, spec.users.anchorAttribute)?.trim() || undefined),
    ),
    userPrincipalName: lazy(() => groupBy(accounts, (u) => identifierKey(u.userPrincipalName))),
    mail: lazy(() =>
      groupBy(accounts, (u) => {
        const mail = stringAttr(u, 'mail');
        return mail ? identifierKey(mail) : undefined;
      }),
    ),
  };

  const problems: MatchProblem[] = [];
  const upnOwners = groupBy(desired, (d) => identifierKey(String(d.attributes.userPrincipalName)));
  const ambiguous = new Set<DesiredUser>();
  for (const [upn, owners] of upnOwners) {
    if (owners.length < 2) continue;
    for (const d of owners) {
      ambiguous.add(d);
      problems.push({
        personKey: d.personKey,
        anchor: d.anchor,
        message: `${owners.length} people map to userPrincipalName ${upn} (${owners.map((o) => o.personKey).join(', ')}); held`,
      });
    }
  }

  /** A managed account, other than `own`, holding the person's UPN under another person's anchor. */
  const upnHeldByAnother = (
    d: DesiredUser,
    own: TenantUser | undefined,
  ): TenantUser | undefined => {
    const upn = d.attributes.userPrincipalName;
    if (typeof upn !== 'string') return undefined;
    const key = identifierKey(upn);
    // The person's own account already has the name: nobody else can (and no index is built).
    if (own && identifierKey(own.userPrincipalName) === key) return undefined;
    const holders = indexes.userPrincipalName().get(key) ?? [];
    return holders.find((a) => a !== own && someoneElses(a, d, spec));
  };

  const claimedBy = new Map<string, DesiredUser>();
  const pairs: MatchedPair[] = [];
  for (const d of desired) {
    if (ambiguous.has(d)) continue;
    const found = findAccount(d, indexes, spec);
    if (found.kind === 'ambiguous') {
      problems.push({ personKey: d.personKey, anchor: d.anchor, message: found.message });
      continue;
    }
    const holder = upnHeldByAnother(d, found.kind === 'one' ? found.account : undefined);
    if (holder) {
      problems.push({
        personKey: d.personKey,
        anchor: d.anchor,
        code: 'match.upn-taken',
        alsoHeld: anchorOf(holder, spec),
        message: `userPrincipalName ${String(d.attributes.userPrincipalName)} is held by a managed account of another person (${spec.users.anchorAttribute} ${JSON.stringify(anchorOf(holder, spec))}, not ${JSON.stringify(d.anchor)}); held: that account is never taken over. Give this person another userPrincipalName (e.g. with $selectUnique)`,
      });
      continue;
    }
    if (found.kind === 'none') {
      pairs.push({ desired: d });
      continue;
    }
    const other = claimedBy.get(found.account.id);
    if (other) {
      problems.push({
        personKey: d.personKey,
        anchor: d.anchor,
        message: `account ${found.account.userPrincipalName} is already matched to ${other.personKey}; held`,
      });
      continue;
    }
    claimedBy.set(found.account.id, d);
    pairs.push({ desired: d, account: found.account, matchedBy: found.rule });
  }
  return { pairs, matchedIds: new Set(claimedBy.keys()), problems };
}

type Found =
  | { kind: 'none' }
  | { kind: 'one'; account: TenantUser; rule: MatchRule }
  | { kind: 'ambiguous'; message: string };

function findAccount(
  d: DesiredUser,
  indexes: Record<MatchRule, () => Map<string, TenantUser[]>>,
  spec: SyncSpec,
): Found {
  for (const rule of spec.users.match) {
    const value = rule === 'anchor' ? d.anchor.trim() : d.attributes[rule];
    if (typeof value !== 'string' || value === '') continue;
    const key = rule === 'anchor' ? value : identifierKey(value);
    const all = indexes[rule]().get(key) ?? [];
    const candidates = rule === 'anchor' ? all : all.filter((a) => !someoneElses(a, d, spec));
    const [first] = candidates;
    if (candidates.length > 1) {
      const upns = candidates.map((c) => c.userPrincipalName).join(', ');
      return {
        kind: 'ambiguous',
        message: `${candidates.length} accounts match ${rule} "${value}" (${upns}); held`,
      };
    }
    if (first) return { kind: 'one', account: first, rule };
  }
  return { kind: 'none' };
}

/**
 * A managed account whose anchor is set and is not the person's key, in any format: someone
 * else's, whatever its name or mail says (P7).
 */
function someoneElses(account: TenantUser, d: DesiredUser, spec: SyncSpec): boolean {
  if (!isMarked(account, spec.marker)) return false;
  const anchor = anchorOf(account, spec);
  return anchor !== '' && anchorForm(anchor) !== anchorForm(d.anchor);
}

function anchorOf(account: TenantUser, spec: SyncSpec): string {
  return stringAttr(account, spec.users.anchorAttribute)?.trim() ?? '';
}

function stringAttr(user: TenantUser, attribute: string): string | undefined {
  const value = user.attributes[attribute];
  return typeof value === 'string' ? value : undefined;
}
