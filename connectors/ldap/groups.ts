/**
 * Group membership of the people read, nested groups included, two ways:
 *
 * - `in-chain` (Active Directory): one paged search per group for people matching
 *   `(memberOf:1.2.840.113556.1.4.1941:=<group DN>)`, LDAP_MATCHING_RULE_IN_CHAIN, so the DC
 *   walks nesting itself. Cost: one search per group, no member lists on the wire.
 * - `walk` (any directory): every group is read with its `member` / `uniqueMember` values
 *   (slices of `member;range=` completed, explicit windows on AD), and nesting is followed here,
 *   cycles included.
 *
 * Neither sees membership that is not stored as a member value: AD's primary group (`Domain
 * Users` via `primaryGroupID`) and dynamic groups.
 *
 * Errors propagate: the caller marks the source incomplete, because a person whose groups are
 * unknown would otherwise look like someone who left a group.
 */
import type { Client, Entry } from 'ldapts';
import { escapeFilterValue, normalizeDn } from './escape.js';
import type { RawValue } from './decode.js';
import { completeRange, entryValues } from './entries.js';

export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';

export interface GroupSettings {
  readonly bases: readonly string[];
  readonly filter: string;
  readonly nested: boolean;
  readonly expand: 'in-chain' | 'walk';
  /** Ask for `member;range=0-N` windows (Active Directory); otherwise plain `member`. */
  readonly rangedMembers: boolean;
  readonly rangeSize: number;
}

export interface PersonSearch {
  readonly bases: readonly string[];
  readonly scope: 'sub' | 'one' | 'base';
  readonly filter: string;
}

export interface GroupInfo {
  readonly dn: string;
  readonly name: string;
}

/** Normalised person DN -> the groups they are in. */
export type Membership = Map<string, GroupInfo[]>;

/** Runs one paged search to the end; `onEntry` sees each entry. References are returned. */
export type PagedSearch = (
  base: string,
  options: { scope: 'sub' | 'one' | 'base'; filter: string; attributes: string[] },
  onEntry: (entry: Entry) => void,
) => Promise<void>;

const MEMBER_ATTRIBUTES = ['member', 'uniqueMember'];

export async function readMembership(
  client: Pick<Client, 'search'>,
  search: PagedSearch,
  settings: GroupSettings,
  people: PersonSearch,
): Promise<Membership> {
  return settings.expand === 'in-chain'
    ? inChain(search, settings, people)
    : walk(client, search, settings);
}

async function listGroups(
  search: PagedSearch,
  settings: GroupSettings,
  attributes: string[],
  onGroup: (entry: Entry) => void,
): Promise<void> {
  const seen = new Set<string>();
  for (const base of settings.bases) {
    await search(base, { scope: 'sub', filter: settings.filter, attributes }, (entry) => {
      const key = normalizeDn(entry.dn);
      if (seen.has(key)) return;
      seen.add(key);
      onGroup(entry);
    });
  }
}

function groupName(entry: Entry): string {
  const cn = entryValues(entry).values.get('cn')?.[0];
  if (typeof cn === 'string' && cn !== '') return cn;
  return entry.dn;
}

async function inChain(
  search: PagedSearch,
  settings: GroupSettings,
  people: PersonSearch,
): Promise<Membership> {
  const groups: GroupInfo[] = [];
  await listGroups(search, settings, ['cn'], (entry) =>
    groups.push({ dn: entry.dn, name: groupName(entry) }),
  );
  const membership: Membership = new Map();
  for (const group of groups) {
    const rule = settings.nested ? `:${IN_CHAIN_RULE}:` : '';
    const filter = `(&${people.filter}(memberOf${rule}=${escapeFilterValue(group.dn)}))`;
    for (const base of people.bases) {
      // `1.1`: no attributes, only the DN of each member.
      await search(base, { scope: people.scope, filter, attributes: ['1.1'] }, (entry) => {
        add(membership, normalizeDn(entry.dn), group);
      });
    }
  }
  return membership;
}

interface WalkGroup extends GroupInfo {
  readonly members: readonly string[];
}

async function walk(
  client: Pick<Client, 'search'>,
  search: PagedSearch,
  settings: GroupSettings,
): Promise<Membership> {
  const requested = settings.rangedMembers
    ? ['cn', `member;range=0-${settings.rangeSize - 1}`]
    : ['cn', ...MEMBER_ATTRIBUTES];
  const entries: Entry[] = [];
  await listGroups(search, settings, requested, (entry) => entries.push(entry));

  const groups = new Map<string, WalkGroup>();
  for (const entry of entries) {
    const values = entryValues(entry);
    const members: RawValue[] = [];
    for (const a of MEMBER_ATTRIBUTES) members.push(...(values.values.get(a.toLowerCase()) ?? []));
    for (const slice of values.ranged) {
      if (!MEMBER_ATTRIBUTES.some((a) => a.toLowerCase() === slice.attribute.toLowerCase()))
        continue;
      members.push(...(await completeRange(client, entry.dn, slice, settings.rangeSize, [])));
    }
    groups.set(normalizeDn(entry.dn), {
      dn: entry.dn,
      name: groupName(entry),
      // uniqueMember may carry a `#'0101'B` unique identifier after the DN.
      members: members.map((m) => normalizeDn(String(m).replace(/#'[01]*'B$/, ''))),
    });
  }

  // Parents of each group (groups that list it as a member), to climb from a person's groups.
  const parents = new Map<string, string[]>();
  for (const [dn, group] of groups) {
    for (const m of group.members) {
      if (groups.has(m)) parents.set(m, [...(parents.get(m) ?? []), dn]);
    }
  }
  const ancestors = new Map<string, readonly string[]>();
  const ancestorsOf = (dn: string): readonly string[] => {
    const known = ancestors.get(dn);
    if (known) return known;
    // Breadth-first with a visited set: nesting may loop (A in B, B in A).
    const seen = new Set<string>([dn]);
    const queue = [dn];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      for (const p of parents.get(current) ?? []) {
        if (!seen.has(p)) {
          seen.add(p);
          queue.push(p);
        }
      }
    }
    const list = [...seen];
    ancestors.set(dn, list);
    return list;
  };

  const membership: Membership = new Map();
  for (const [dn, group] of groups) {
    const reach = settings.nested ? ancestorsOf(dn) : [dn];
    for (const m of group.members) {
      if (groups.has(m)) continue;
      for (const g of reach) {
        const info = groups.get(g);
        if (info) add(membership, m, info);
      }
    }
  }
  return membership;
}

function add(membership: Membership, personDn: string, group: GroupInfo): void {
  const list = membership.get(personDn);
  if (!list) membership.set(personDn, [group]);
  else if (!list.some((g) => g.dn === group.dn)) list.push(group);
}
