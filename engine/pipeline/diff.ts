/**
 * Diff: matched pairs + ownership -> changes. Only accounts that ownership classified as
 * `managed` or `adoptable` are ever written, and only `managed` ones are deprovisioned.
 */
import { isCaseInsensitiveAttribute } from '../expr/normalize.js';
import type { DesiredState, DesiredUser } from '../model/desired.js';
import type { Provenance } from '../model/person.js';
import type { AttributeChange, Change, ChangeReason, PlanWarning } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import type { AttributeValue, TenantUser } from '../model/tenant.js';
import { compareText } from './compare.js';
import type { MatchedPair } from './match.js';
import type { ClassifiedTenant, Ownership } from './ownership.js';

export interface DiffResult {
  readonly changes: readonly Change[];
  readonly warnings: readonly PlanWarning[];
  /** Ids of accounts the plan looked at on purpose (matched or deprovisioned). */
  readonly touched: ReadonlySet<string>;
}

export function diffUsers(
  pairs: readonly MatchedPair[],
  desired: DesiredState,
  tenant: ClassifiedTenant,
  spec: SyncSpec,
): DiffResult {
  const changes: Change[] = [];
  const warnings: PlanWarning[] = [];
  const touched = new Set<string>();

  for (const pair of pairs) {
    const d = pair.desired;
    const upn = String(d.attributes.userPrincipalName);
    if (!pair.account) {
      changes.push({
        id: `createUser:${upn.toLowerCase()}`,
        kind: 'createUser',
        reason: 'new-person',
        message: `create ${upn} for ${d.personKey}`,
        user: { userPrincipalName: upn },
        provenance: d.provenance,
        attributes: { ...d.attributes, [spec.marker.attribute]: spec.marker.value },
      });
      continue;
    }
    const account = pair.account;
    touched.add(account.id);
    const ownership = tenant.ownership.get(account.id);
    if (ownership !== 'managed' && ownership !== 'adoptable') {
      warnings.push({
        code: `match.${ownership ?? 'unknown'}`,
        message: `${d.personKey} matches ${account.userPrincipalName} by ${pair.matchedBy}, which is ${READ_ONLY_REASON[ownership ?? 'guest'] ?? 'not writable'}; left unchanged`,
        subject: account.userPrincipalName,
      });
      continue;
    }
    const ref = { id: account.id, userPrincipalName: account.userPrincipalName };
    const set = attributeChanges(account, d, spec.users.createOnly);
    if (ownership === 'adoptable') {
      set.push({
        attribute: spec.marker.attribute,
        before: account.attributes[spec.marker.attribute] ?? null,
        after: spec.marker.value,
      });
      changes.push({
        id: `adoptUser:${account.id}`,
        kind: 'adoptUser',
        reason: 'adopt',
        message: `adopt existing account ${account.userPrincipalName} for ${d.personKey} (matched by ${pair.matchedBy})`,
        user: ref,
        provenance: d.provenance,
        set,
        ...(pair.matchedBy ? { matchedBy: pair.matchedBy } : {}),
      });
    } else if (set.length > 0) {
      changes.push({
        id: `updateUser:${account.id}`,
        kind: 'updateUser',
        reason: 'attribute-drift',
        message: `update ${set.map((c) => c.attribute).join(', ')} of ${account.userPrincipalName}`,
        user: ref,
        provenance: d.provenance,
        set,
      });
    }
    const enabled = account.attributes.accountEnabled === true;
    if (d.attributes.accountEnabled !== enabled) {
      const kind = d.attributes.accountEnabled ? 'enableUser' : 'disableUser';
      changes.push({
        id: `${kind}:${account.id}`,
        kind,
        reason: 'source-status',
        message: `${kind === 'enableUser' ? 'enable' : 'disable'} ${account.userPrincipalName}: the mapping of ${d.personKey} says accountEnabled=${String(d.attributes.accountEnabled)}`,
        user: ref,
        provenance: d.provenance,
      });
    }
  }

  if (spec.users.deprovision.action !== 'none') {
    const held = new Set(desired.heldAnchors);
    const outOfScope = new Map(desired.outOfScope.map((p) => [p.anchor, p]));
    for (const account of tenant.users) {
      if (touched.has(account.id) || tenant.ownership.get(account.id) !== 'managed') continue;
      const anchorValue = account.attributes[spec.users.anchorAttribute];
      const anchor = typeof anchorValue === 'string' ? anchorValue.trim() : undefined;
      if (anchor !== undefined && held.has(anchor)) {
        warnings.push({
          code: 'deprovision.held',
          message: `${account.userPrincipalName} belongs to a person whose records have errors this run; not deprovisioned`,
          subject: account.userPrincipalName,
        });
        continue;
      }
      touched.add(account.id);
      if (account.attributes.accountEnabled !== true) continue;
      const gone = anchor !== undefined ? outOfScope.get(anchor) : undefined;
      const reason: ChangeReason = gone ? 'left-scope' : 'left-source';
      const provenance: readonly Provenance[] = gone?.provenance ?? [];
      changes.push({
        id: `disableUser:${account.id}`,
        kind: 'disableUser',
        reason,
        message: gone
          ? `disable ${account.userPrincipalName}: ${gone.personKey} no longer matches users.scope`
          : `disable ${account.userPrincipalName}: no person in the sources has anchor "${anchor ?? ''}"`,
        user: { id: account.id, userPrincipalName: account.userPrincipalName },
        provenance,
      });
    }
  }

  return { changes: orderChanges(changes), warnings, touched };
}

function attributeChanges(
  account: TenantUser,
  desired: DesiredUser,
  createOnly: readonly string[],
): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const [attribute, after] of Object.entries(desired.attributes)) {
    if (attribute === 'accountEnabled' || createOnly.includes(attribute)) continue;
    const before = account.attributes[attribute] ?? null;
    if (!sameValue(attribute, before, after)) changes.push({ attribute, before, after });
  }
  return changes;
}

/** Graph reads an unset string as null and an unset list as []: both equal "no value". */
export function sameValue(
  attribute: string,
  a: AttributeValue | undefined,
  b: AttributeValue | undefined,
): boolean {
  const x = normaliseValue(a);
  const y = normaliseValue(b);
  if (Array.isArray(x) || Array.isArray(y)) {
    const xs = Array.isArray(x) ? x : x === null ? [] : [String(x)];
    const ys = Array.isArray(y) ? y : y === null ? [] : [String(y)];
    return xs.length === ys.length && xs.every((v, i) => v === ys[i]);
  }
  if (typeof x === 'string' && typeof y === 'string' && isCaseInsensitiveAttribute(attribute)) {
    return x.toLowerCase() === y.toLowerCase();
  }
  return x === y;
}

function normaliseValue(v: AttributeValue | undefined): AttributeValue {
  if (v === undefined || v === '') return null;
  if (Array.isArray(v) && v.length === 0) return null;
  return v;
}

const READ_ONLY_REASON: Partial<Record<Ownership, string>> = {
  guest: 'a guest account',
  'synced-from-on-premises': 'owned by Entra Connect (onPremisesSyncEnabled)',
  protected: 'on the protect list',
  privileged: 'a privileged account (directory role or role-assignable group)',
};

const KIND_ORDER: Record<Change['kind'], number> = {
  createUser: 0,
  adoptUser: 1,
  updateUser: 2,
  enableUser: 3,
  disableUser: 4,
};

/** A deterministic order: by kind, then by UPN, so the same inputs give the same plan text. */
export function orderChanges(changes: readonly Change[]): Change[] {
  return [...changes].sort(
    (a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      compareText(a.user.userPrincipalName.toLowerCase(), b.user.userPrincipalName.toLowerCase()) ||
      compareText(a.id, b.id),
  );
}
