/**
 * Diff: matched pairs + ownership -> changes. Only accounts that ownership classified as
 * `managed` or `adoptable` are ever written, and only `managed` ones are deprovisioned.
 */
import { subjectOf } from '../model/plan.js';
import { isCaseInsensitiveAttribute } from '../expr/normalize.js';
import type { DesiredState, DesiredUser } from '../model/desired.js';
import type { Provenance } from '../model/person.js';
import type { AttributeChange, Change, ChangeReason, PlanWarning, UserRef } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import type { AttributeValue, TenantUser } from '../model/tenant.js';
import { compareText } from './compare.js';
import type { MatchedPair } from './match.js';
import {
  leaverChanges,
  mappedAccountChanges,
  mappingDisabledSpec,
  noAccountWanted,
} from './lifecycle.js';
import type { ClassifiedTenant, Ownership } from './ownership.js';
import { isMarked } from './ownership.js';

export interface DiffResult {
  readonly changes: readonly Change[];
  readonly warnings: readonly PlanWarning[];
  /** Ids of accounts the plan looked at on purpose (matched or deprovisioned). */
  readonly touched: ReadonlySet<string>;
  /**
   * Each desired user's account as the access stage must name it: `id` for an existing (or
   * restored) account, only the UPN for one this plan creates; absent for a person whose
   * account may not be written (left alone).
   */
  readonly accounts: ReadonlyMap<DesiredUser, UserRef & { readonly createdBy?: string }>;
  /**
   * Managed accounts of people who left, and accounts the mapping disables (lifecycle.ts), by
   * id: `retain` keeps their group memberships and licenses (within `removeAccessAfterDays`, or
   * held), `remove` takes them away.
   */
  readonly leavers: ReadonlyMap<string, 'retain' | 'remove'>;
}

const DAY_MS = 86_400_000;

export interface DiffOptions {
  /** The time the plan is made (ms since the epoch), for grace periods. */
  readonly now: number;
  /** Soft-deleted users (the recycle bin), for restoring a person who returned. */
  readonly deletedUsers?: readonly TenantUser[];
}

export function diffUsers(
  pairs: readonly MatchedPair[],
  desired: DesiredState,
  tenant: ClassifiedTenant,
  spec: SyncSpec,
  options: DiffOptions = { now: 0 },
): DiffResult {
  const changes: Change[] = [];
  const warnings: PlanWarning[] = [];
  const touched = new Set<string>();
  const accounts = new Map<DesiredUser, UserRef & { readonly createdBy?: string }>();
  const leavers = new Map<string, 'retain' | 'remove'>();
  const deletedByAnchor = restorableByAnchor(options.deletedUsers, spec);
  const whenDisabled = mappingDisabledSpec(spec);

  for (const pair of pairs) {
    const d = pair.desired;
    const upn = String(d.attributes.userPrincipalName);
    if (!pair.account && noAccountWanted(d, whenDisabled)) continue;
    const deleted = pair.account ? undefined : deletedByAnchor.get(d.anchor);
    if (deleted) {
      // Back within the recycle bin's retention: the same account, restored, then brought up
      // to date like any other; access (licenses, manager) only once the account is back.
      changes.push(...restoreChanges(deleted, d, upn, spec));
      accounts.set(d, {
        id: deleted.id,
        userPrincipalName: upn,
        createdBy: `restoreUser:${deleted.id}`,
      });
      continue;
    }
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
      accounts.set(d, { userPrincipalName: upn, createdBy: `createUser:${upn.toLowerCase()}` });
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
    accounts.set(d, ref);
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
    // Enable, disable or a later offboarding stage, as the mapping says (lifecycle.ts).
    const lifecycle = mappedAccountChanges({
      account,
      desired: d,
      ownership,
      spec: whenDisabled,
      stage: deprovisionStage(account, whenDisabled, options.now),
      now: options.now,
    });
    changes.push(...lifecycle.changes);
    if (lifecycle.fate) leavers.set(account.id, lifecycle.fate);
  }

  if (spec.users.deprovision.action !== 'none') {
    deprovisionLeavers({
      tenant,
      desired,
      spec,
      now: options.now,
      touched,
      changes,
      warnings,
      leavers,
    });
  }
  // Held people keep their access whatever their account looks like.
  for (const account of tenant.users) {
    if (tenant.ownership.get(account.id) !== 'managed' || touched.has(account.id)) continue;
    leavers.set(account.id, 'retain');
  }

  return { changes: orderChanges(changes), warnings, touched, accounts, leavers };
}

/** Restore a person's account from the recycle bin, then update and enable it as the mapping says. */
function restoreChanges(
  deleted: TenantUser,
  d: DesiredUser,
  upn: string,
  spec: SyncSpec,
): Change[] {
  const stateAttribute = spec.users.deprovision.stateAttribute;
  const ref = { id: deleted.id, userPrincipalName: upn };
  const changes: Change[] = [
    {
      id: `restoreUser:${deleted.id}`,
      kind: 'restoreUser',
      reason: 'rehire',
      message: `restore ${upn} from the recycle bin for ${d.personKey} (deleted when the person left)`,
      user: ref,
      provenance: d.provenance,
    },
  ];
  const set = attributeChanges(deleted, d, spec.users.createOnly);
  if (set.length > 0) {
    changes.push({
      id: `updateUser:${deleted.id}`,
      kind: 'updateUser',
      reason: 'attribute-drift',
      message: `update ${set.map((c) => c.attribute).join(', ')} of ${upn}`,
      user: ref,
      provenance: d.provenance,
      set,
      requires: [`restoreUser:${deleted.id}`],
    });
  }
  if (d.attributes.accountEnabled !== (deleted.attributes.accountEnabled === true)) {
    const kind = d.attributes.accountEnabled ? 'enableUser' : 'disableUser';
    changes.push({
      id: `${kind}:${deleted.id}`,
      kind,
      reason: 'rehire',
      message: `${kind === 'enableUser' ? 'enable' : 'disable'} ${upn} after restoring it`,
      user: ref,
      provenance: d.provenance,
      requires: [`restoreUser:${deleted.id}`],
      ...(kind === 'enableUser' && deleted.attributes[stateAttribute] ? { stateAttribute } : {}),
    });
  }
  return changes;
}

interface LeaverPass {
  readonly tenant: ClassifiedTenant;
  readonly desired: DesiredState;
  readonly spec: SyncSpec;
  readonly now: number;
  /** Accounts already decided; each leaver is added. */
  readonly touched: Set<string>;
  readonly changes: Change[];
  readonly warnings: PlanWarning[];
  readonly leavers: Map<string, 'retain' | 'remove'>;
}

/**
 * Managed accounts no person in the sources claims: each leaver is staged by lifecycle.ts; the
 * account of a person held this run is left alone with a warning.
 */
function deprovisionLeavers(pass: LeaverPass): void {
  const { tenant, desired, spec, now, touched, changes, warnings, leavers } = pass;
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
    const gone = anchor !== undefined ? outOfScope.get(anchor) : undefined;
    const reason: ChangeReason = gone ? 'left-scope' : 'left-source';
    const provenance: readonly Provenance[] = gone?.provenance ?? [];
    const why = gone
      ? `${gone.personKey} no longer matches users.scope`
      : `no person in the sources has anchor "${anchor ?? ''}"`;
    const leaver = leaverChanges({
      account,
      spec,
      stage: deprovisionStage(account, spec, now),
      now,
      reason,
      why,
      provenance,
    });
    leavers.set(account.id, leaver.fate);
    changes.push(...leaver.changes);
  }
}

interface DeprovisionStage {
  readonly disable: boolean;
  /** Write the apply time to the state attribute with the disable. */
  readonly stamp: boolean;
  readonly removeAccess: boolean;
  readonly delete: boolean;
  /** When deprovisioning started, as recorded on the account. */
  readonly since?: string;
}

/**
 * Where a leaver's managed account is in staged offboarding. The clock starts at the date
 * entrasync recorded with the disable; an account without a readable date is treated as
 * starting now (the date is recorded with this plan), so a lost date delays a stage, never
 * hastens one.
 */
/**
 * This config's accounts in the recycle bin, by anchor: a person back within its retention is
 * restored, not created again (diff), and checked like any write (domains).
 */
export function restorableByAnchor(
  deletedUsers: readonly TenantUser[] | undefined,
  spec: SyncSpec,
): Map<string, TenantUser> {
  const out = new Map<string, TenantUser>();
  for (const u of deletedUsers ?? []) {
    const anchor = u.attributes[spec.users.anchorAttribute];
    if (typeof anchor === 'string' && anchor.trim() !== '' && isMarked(u, spec.marker)) {
      out.set(anchor.trim(), u);
    }
  }
  return out;
}

export function deprovisionStage(
  account: TenantUser,
  spec: SyncSpec,
  now: number,
): DeprovisionStage {
  const policy = spec.users.deprovision;
  if (policy.action === 'delete') {
    return { disable: false, stamp: false, removeAccess: true, delete: true };
  }
  const enabled = account.attributes.accountEnabled === true;
  const recorded = account.attributes[policy.stateAttribute];
  const since = typeof recorded === 'string' ? Date.parse(recorded) : NaN;
  const staged = policy.removeAccessAfterDays > 0 || policy.deleteAfterDays !== undefined;
  const elapsedDays = Number.isNaN(since) || enabled ? 0 : (now - since) / DAY_MS;
  const known = !Number.isNaN(since) && !enabled;
  const deleteNow =
    known && policy.deleteAfterDays !== undefined && elapsedDays >= policy.deleteAfterDays;
  return {
    disable: enabled || (staged && !known),
    stamp: staged,
    removeAccess: elapsedDays >= policy.removeAccessAfterDays,
    delete: deleteNow,
    ...(known ? { since: String(recorded) } : {}),
  };
}

function attributeChanges(
  account: TenantUser,
  desired: DesiredUser,
  createOnly: readonly string[],
): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const attribute in desired.attributes) {
    if (attribute === 'accountEnabled' || createOnly.includes(attribute)) continue;
    const after = desired.attributes[attribute] as AttributeValue;
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

/**
 * Plan order, which is also apply order for changes to one object: an object is created (or
 * restored) before anything names it, access is granted after the account exists, and taken
 * away before the account is disabled or deleted.
 */
const KIND_ORDER: Record<Change['kind'], number> = {
  createUser: 0,
  restoreUser: 1,
  adoptUser: 2,
  updateUser: 3,
  enableUser: 4,
  createGroup: 5,
  updateGroup: 6,
  assignGroupLicenses: 7,
  setManager: 8,
  assignLicenses: 9,
  addMembers: 10,
  removeMembers: 11,
  removeLicenses: 12,
  removeGroupLicenses: 13,
  disableUser: 14,
  deleteUser: 15,
  revokeSessions: 16,
};

/** A deterministic order: by kind, then by UPN, so the same inputs give the same plan text. */
export function orderChanges(changes: readonly Change[]): Change[] {
  return [...changes].sort(
    (a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      compareText(
        subjectOf(a).userPrincipalName.toLowerCase(),
        subjectOf(b).userPrincipalName.toLowerCase(),
      ) ||
      compareText(a.id, b.id),
  );
}
