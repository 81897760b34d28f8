/**
 * Functions bound into every mapping expression, the ones admins know from Okta, OneLogin and
 * Entra Connect attribute mappings. Pure: `$selectUnique` sees the tenant only through the
 * `UniquenessContext` the planner hands it.
 */
import { foldDiacritics, identifierKey, toMailNickname } from './normalize.js';

export const FUNCTION_NAMES = [
  'foldDiacritics',
  'mailNickname',
  'appendDomain',
  'immutableId',
  'selectUnique',
] as const;

/**
 * What `$selectUnique` may not hand out: identifiers held by accounts other than the person's
 * own (userPrincipalName, mail and `smtp:` proxy addresses, soft-deleted accounts included), and
 * those already given to people mapped earlier in this plan. People are mapped in a fixed order,
 * so the same inputs give the same choice on every run.
 */
export interface UniquenessContext {
  isTaken(identifier: string, ownAccountId: string | undefined): boolean;
  /**
   * Whether a person may keep an identifier their own account has: not handed to a person
   * mapped earlier in this plan, and not another active account's userPrincipalName (a
   * returning leaver's old name given to someone else meanwhile). Another account's mail or
   * proxy address does not take it away: Entra let both exist, and keeping it writes nothing.
   */
  mayKeep(identifier: string, ownAccountId: string): boolean;
  claim(identifier: string): void;
}

type Index<V> = ReadonlyMap<string, V> | (() => ReadonlyMap<string, V>);

/**
 * `holders` maps each identifier key to the accounts holding it; `activeUpns` each active
 * account's userPrincipalName key to its id. Either may be given as a function, called on first
 * use: most specs never call `$selectUnique`, and then the index of a 100,000-account tenant is
 * never built.
 */
export function createUniquenessContext(
  holders: Index<readonly string[]>,
  activeUpns: Index<string> = new Map(),
): UniquenessContext {
  const claimed = new Set<string>();
  let index = typeof holders === 'function' ? undefined : holders;
  let upns = typeof activeUpns === 'function' ? undefined : activeUpns;
  return {
    isTaken(identifier, ownAccountId) {
      const key = identifierKey(identifier);
      if (claimed.has(key)) return true;
      index ??= (holders as () => ReadonlyMap<string, readonly string[]>)();
      const ids = index.get(key);
      return ids !== undefined && ids.some((id) => id !== ownAccountId);
    },
    mayKeep(identifier, ownAccountId) {
      const key = identifierKey(identifier);
      if (claimed.has(key)) return false;
      upns ??= (activeUpns as () => ReadonlyMap<string, string>)();
      const holder = upns.get(key);
      return holder === undefined || holder === ownAccountId;
    },
    claim(identifier) {
      claimed.add(identifierKey(identifier));
    },
  };
}

/** `jane.doe`, `contoso.com` -> `jane.doe@contoso.com`; a value that has a domain keeps only its local part. */
export function appendDomain(value: unknown, domain: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || typeof domain !== 'string') return undefined;
  const at = value.lastIndexOf('@');
  const local = at >= 0 ? value.slice(0, at) : value;
  return `${local}@${domain.replace(/^@/, '')}`;
}

const GUID = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/**
 * The `onPremisesImmutableId` for a value: for a GUID (an AD objectGUID in its canonical string
 * form) the base64 of its bytes in Windows' mixed-endian layout, as Entra Connect computes it;
 * for anything else (a UPN, as in Bitium's guide) the base64 of its UTF-8 bytes.
 */
export function immutableId(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const m = GUID.exec(value.trim());
  if (!m) return Buffer.from(value, 'utf8').toString('base64');
  const [, d1 = '', d2 = '', d3 = '', d4 = '', d5 = ''] = m;
  const bytes = Buffer.concat([
    Buffer.from(d1, 'hex').reverse(),
    Buffer.from(d2, 'hex').reverse(),
    Buffer.from(d3, 'hex').reverse(),
    Buffer.from(d4 + d5, 'hex'),
  ]);
  return bytes.toString('base64');
}

/** The bound functions that hold no state, shared by every evaluation. */
const STATELESS_FUNCTIONS = {
  foldDiacritics: (s: unknown) => (typeof s === 'string' ? foldDiacritics(s) : undefined),
  mailNickname: (s: unknown) => (typeof s === 'string' ? toMailNickname(s) : undefined),
  appendDomain,
  immutableId,
};

/**
 * The bindings one person's expressions are evaluated with. `ownAccountId` is the account the
 * person already has (found by anchor), which never counts as taking their own identifiers.
 */
export function functionBindings(
  uniqueness: UniquenessContext,
  ownAccountId: string | undefined,
): Record<string, unknown> {
  return { ...STATELESS_FUNCTIONS, selectUnique: selectUnique(uniqueness, ownAccountId) };
}

/**
 * `$selectUnique(candidates, domain?)`: the first candidate nobody else holds, claimed for this
 * person. `current` is the value the person's own account has now for the attribute being
 * mapped: when it is still one of the candidates and `mayKeep` allows, it is kept (P13). So a
 * choice is sticky: an earlier candidate becoming free, or another account taking a candidate
 * as mail or proxy address, never renames an existing account; only a change of the mapping's
 * inputs (the candidates no longer include the current value) does. Never on the fast path: it
 * claims what it returns (a side effect), so JSONata always evaluates it.
 */
export function selectUnique(
  uniqueness: UniquenessContext,
  ownAccountId: string | undefined,
  current?: string,
): (candidates: unknown, domain?: unknown) => string | undefined {
  return (candidates, domain) => {
    const values = (Array.isArray(candidates) ? candidates : [candidates])
      .filter((c): c is string => typeof c === 'string' && c !== '')
      .map((c) => (typeof domain === 'string' ? (appendDomain(c, domain) ?? c) : c));
    if (current !== undefined && current !== '' && ownAccountId !== undefined) {
      const key = identifierKey(current);
      const kept = values.find((v) => identifierKey(v) === key);
      if (kept !== undefined && uniqueness.mayKeep(kept, ownAccountId)) {
        uniqueness.claim(kept);
        return kept;
      }
    }
    for (const value of values) {
      if (!uniqueness.isTaken(value, ownAccountId)) {
        uniqueness.claim(value);
        return value;
      }
    }
    return undefined;
  };
}
