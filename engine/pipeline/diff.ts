/**
 * Diff: matched pairs + ownership -> changes. Only accounts that ownership classified as
 * `managed` or `adoptable` are ever written, and only `managed` ones are deprovisioned.
 */
import { createUserId, subjectOf } from '../model/plan.js';
import { identifierKey as identifierKeyOf } from '../expr/normalize.js';
import { indexAddresses, restoreConflicts } from './addresses.js';
import type { AddressIndex } from './addresses.js';
import type { DesiredState, DesiredUser } from '../model/desired.js';
import type { Provenance } from '../model/person.js';
import type { AttributeChange, Change, ChangeReason, PlanWarning, UserRef } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS } from '../model/spec.js';
import type { AttributeValue, TenantUser } from '../model/tenant.js';
import { describeAnchorMove, movedAnchor } from './anchors.js';
import { compareText } from './compare.js';
import { sameValue } from './same-value.js';

export { sameValue } from './same-value.js';
import type { MatchedPair } from './match.js';
import {
  leaverChanges,
  mappedAccountChanges,
  mappingDisabledSpec,
  noAccountWanted,
} from './lifecycle.js';
import type { ClassifiedTenant, Ownership } from './ownership.js';
import { markerState } from './ownership.js';

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
  /**
   * UPNs of leavers whose time-based stage (access removal, delete) was not evaluated because
   * the clock is not trusted (`DiffOptions.clockTrusted` false); empty otherwise.
   */
  readonly clockHeld: readonly string[];
}

const DAY_MS = 86_400_000;

export interface DiffOptions {
  /**
   * The time the plan is made (ms since the epoch), for grace periods: Microsoft Graph's time
   * (computePlan corrects the local clock by the skew the tenant read measured, clock.ts).
   */
  readonly now: number;
  /**
   * false: `now` cannot be trusted (the local clock is skewed past safety.maxClockSkew, or
   * Graph's time is unknown): the time-based stages are refused. Default true.
   */
  readonly clockTrusted?: boolean;
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
  const clockHeld: string[] = [];
  const deletedByAnchor = restorableByAnchor(options.deletedUsers, spec);
  const whenDisabled = mappingDisabledSpec(spec);
  // Who holds which UPN and address, built at the first restore (most plans have none).
  let addressIndex: AddressIndex | undefined;

  for (const pair of pairs) {
    const d = pair.desired;
    const upn = String(d.attributes.userPrincipalName);
    if (!pair.account && noAccountWanted(d, whenDisabled)) continue;
    const deleted = pair.account ? undefined : deletedByAnchor.get(d.anchor);
    if (deleted) {
      // Back within the recycle bin's retention: the same account, restored, then brought up
      // to date like any other; access (licenses, manager) only once the account is back.
      addressIndex ??= indexAddresses(tenant.users);
      const restored = restoreChanges(deleted, d, upn, spec, addressIndex);
      warnings.push(...restored.warnings);
      if (restored.changes.length === 0) continue;
      changes.push(...restored.changes);
      accounts.set(d, {
        id: deleted.id,
        userPrincipalName: upn,
        createdBy: `restoreUser:${deleted.id}`,
      });
      continue;
    }
    if (!pair.account) {
      changes.push({
        id: createUserId(upn),
        kind: 'createUser',
        reason: 'new-person',
        message: `create ${upn} for ${d.personKey}`,
        user: { userPrincipalName: upn },
        provenance: d.provenance,
        attributes: { ...d.attributes, [spec.marker.attribute]: spec.marker.value },
      });
      accounts.set(d, { userPrincipalName: upn, createdBy: createUserId(upn) });
      continue;
    }
    const account = pair.account;
    touched.add(account.id);
    const ownership = tenant.ownership.get(account.id);
    // A legacy-marked account reaches here only when its own anchor matched (foreign.ts).
    const claimed = ownership === 'legacy-marker' || remarks(account, ownership, spec);
    if (ownership !== 'managed' && ownership !== 'adoptable' && ownership !== 'legacy-marker') {
      warnings.push({
        code: `match.${ownership ?? 'unknown'}`,
        message: `${d.personKey} matches ${account.userPrincipalName} by ${pair.matchedBy}, which is ${READ_ONLY_REASON[ownership ?? 'guest'] ?? 'not writable'}; left unchanged`,
        subject: account.userPrincipalName,
      });
      continue;
    }
    const written = accountUpdate(pair, account, ownership, claimed, spec);
    accounts.set(d, written.ref);
    if (written.change) changes.push(written.change);
    const reanchored = written.reanchored;
    // Enable, disable or a later offboarding stage, as the mapping says (lifecycle.ts).
    const stage = deprovisionStage(
      account,
      whenDisabled,
      options.now,
      options.clockTrusted ?? true,
    );
    if (stage.clockHeld && d.attributes.accountEnabled !== true) {
      clockHeld.push(account.userPrincipalName);
    }
    const lifecycle = mappedAccountChanges({
      account,
      desired: d,
      // A legacy-marked account claimed by its own anchor is this config's from now on (P16).
      ownership: ownership === 'legacy-marker' ? 'managed' : ownership,
      spec: whenDisabled,
      stage,
      now: options.now,
    });
    // What the plan does to a re-anchored account waits for the reanchor's approval (P8).
    changes.push(
      ...lifecycle.changes.map((c) =>
        reanchored ? { ...c, requires: [...(c.requires ?? []), reanchored] } : c,
      ),
    );
    if (lifecycle.fate) leavers.set(account.id, lifecycle.fate);
  }

  if (spec.users.deprovision.action !== 'none') {
    deprovisionLeavers({
      tenant,
      desired,
      spec,
      now: options.now,
      clockTrusted: options.clockTrusted ?? true,
      touched,
      changes,
      warnings,
      leavers,
      clockHeld,
    });
  }
  // Held people keep their access whatever their account looks like.
  for (const account of tenant.users) {
    if (tenant.ownership.get(account.id) !== 'managed' || touched.has(account.id)) continue;
    leavers.set(account.id, 'retain');
  }

  return { changes: orderChanges(changes), warnings, touched, accounts, leavers, clockHeld };
}

/**
 * The write that brings a matched account's attributes to the mapping: an adoption (P6), a claim
 * of a legacy-marked account (P16), or an update; any of them may be a reanchor (P8), which what
 * the plan does to the account afterwards waits for.
 */
function accountUpdate(
  pair: MatchedPair,
  account: TenantUser,
  ownership: 'managed' | 'adoptable' | 'legacy-marker',
  claimed: boolean,
  spec: SyncSpec,
): { ref: UserRef & { readonly createdBy?: string }; change?: Change; reanchored?: string } {
  const d = pair.desired;
  let change: Change | undefined;
  const ref = { id: account.id, userPrincipalName: account.userPrincipalName };
  const set = attributeChanges(account, d, spec.users.createOnly);
  // A reanchor is in doubt until approved: what the plan does to the account follows it.
  const reanchored = movedAnchor(set, spec.users.anchorAttribute)
    ? `${ownership === 'adoptable' ? 'adoptUser' : 'updateUser'}:${account.id}`
    : undefined;
  if (ownership === 'adoptable') {
    set.push({
      attribute: spec.marker.attribute,
      before: account.attributes[spec.marker.attribute] ?? null,
      after: spec.marker.value,
    });
    change = {
      id: `adoptUser:${account.id}`,
      kind: 'adoptUser',
      reason: 'adopt',
      message: `adopt existing account ${account.userPrincipalName} for ${d.personKey} (matched by ${pair.matchedBy})`,
      user: ref,
      provenance: d.provenance,
      set,
      ...(pair.matchedBy ? { matchedBy: pair.matchedBy } : {}),
      ...reanchorOf(
        set,
        spec,
        account.userPrincipalName,
        `adopt existing account ${account.userPrincipalName} for ${d.personKey} (matched by ${pair.matchedBy}) and re-anchor it`,
      ),
    };
  } else if (claimed) {
    // P16 migration: the legacy marker becomes this config's, visibly, with any drift.
    const before = account.attributes[spec.marker.attribute] ?? null;
    set.push({ attribute: spec.marker.attribute, before, after: spec.marker.value });
    change = {
      id: `updateUser:${account.id}`,
      kind: 'updateUser',
      reason: 'claim-legacy',
      message: `claim ${account.userPrincipalName} for ${d.personKey} (matched by anchor): re-mark legacy marker "${String(before)}" as "${spec.marker.value}"`,
      user: ref,
      provenance: d.provenance,
      set,
    };
  } else if (set.length > 0) {
    change = {
      id: `updateUser:${account.id}`,
      kind: 'updateUser',
      reason: 'attribute-drift',
      message: `update ${set.map((c) => c.attribute).join(', ')} of ${account.userPrincipalName}`,
      user: ref,
      provenance: d.provenance,
      set,
      ...reanchorOf(set, spec, account.userPrincipalName),
    };
  }
  const written = reanchored ? { ...ref, createdBy: reanchored } : ref;
  return {
    ref: written,
    ...(change ? { change } : {}),
    ...(reanchored ? { reanchored } : {}),
  };
}

/**
 * Restore a person's account from the recycle bin, then update and enable it as the mapping
 * says. Its old UPN given to another account meanwhile: Graph refuses a plain restore, so it
 * comes back under the UPN the mapping chose (P15); conflicting proxy addresses of the old
 * account are dropped by Entra (the other account keeps them). No other UPN to give: a warning,
 * and the account stays in the recycle bin.
 */
function restoreChanges(
  deleted: TenantUser,
  d: DesiredUser,
  upn: string,
  spec: SyncSpec,
  addresses: AddressIndex,
): { changes: Change[]; warnings: PlanWarning[] } {
  const stateAttribute = spec.users.deprovision.stateAttribute;
  const ref = { id: deleted.id, userPrincipalName: upn };
  const conflicts = restoreConflicts(deleted, addresses);
  if (conflicts.upnTaken && identifierKeyOf(upn) === identifierKeyOf(deleted.userPrincipalName)) {
    return {
      changes: [],
      warnings: [
        {
          code: 'restore.upn-taken',
          message: `${d.personKey} is back but cannot be restored: the old UPN ${upn} is held by another account and the mapping gives no other (use $selectUnique); left in the recycle bin`,
          subject: deleted.userPrincipalName,
        },
      ],
    };
  }
  const changes: Change[] = [
    {
      id: `restoreUser:${deleted.id}`,
      kind: 'restoreUser',
      reason: 'rehire',
      message: conflicts.upnTaken
        ? `restore ${deleted.userPrincipalName} from the recycle bin as ${upn} for ${d.personKey} (deleted when the person left; the old UPN is another account's now)`
        : `restore ${upn} from the recycle bin for ${d.personKey} (deleted when the person left)`,
      user: ref,
      provenance: d.provenance,
      ...(conflicts.upnTaken ? { newUserPrincipalName: upn } : {}),
      ...(conflicts.proxy ? { autoReconcileProxyConflict: true as const } : {}),
    },
  ];
  const set = attributeChanges(deleted, d, spec.users.createOnly).filter(
    (c) => !(conflicts.upnTaken && c.attribute === 'userPrincipalName'),
  );
  const marker = deleted.attributes[spec.marker.attribute] ?? null;
  // A legacy-marked account restored by its own anchor is claimed like a live one (P16).
  if (marker !== spec.marker.value) {
    set.push({ attribute: spec.marker.attribute, before: marker, after: spec.marker.value });
  }
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
      ...reanchorOf(set, spec, upn),
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
  return { changes, warnings: [] };
}

interface LeaverPass {
  readonly tenant: ClassifiedTenant;
  readonly desired: DesiredState;
  readonly spec: SyncSpec;
  readonly now: number;
  /** False: time-based stages are not evaluated (clock.ts); the leavers they hold are listed. */
  readonly clockTrusted: boolean;
  /** Accounts already decided; each leaver is added. */
  readonly touched: Set<string>;
  readonly changes: Change[];
  readonly warnings: PlanWarning[];
  readonly leavers: Map<string, 'retain' | 'remove'>;
  readonly clockHeld: string[];
}

/**
 * Managed accounts no person in the sources claims: each leaver is staged by lifecycle.ts; the
 * account of a person held this run is left alone with a warning.
 */
function deprovisionLeavers(pass: LeaverPass): void {
  const { tenant, desired, spec, now, touched, changes, warnings, leavers, clockHeld } = pass;
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
    const stage = deprovisionStage(account, spec, now, pass.clockTrusted);
    if (stage.clockHeld) clockHeld.push(account.userPrincipalName);
    const leaver = leaverChanges({
      account,
      spec,
      stage,
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
  /** A recorded date later than `now`, read as no date (re-recorded with this plan). */
  readonly future?: string;
  /** A time-based stage was not evaluated: the clock is not trusted. */
  readonly clockHeld: boolean;
}

/**
 * This config's accounts in the recycle bin, by anchor: a person back within its retention is
 * restored, not created again (diff), and checked like any write (domains). A legacy-marked one
 * (P16) is this person's too: found by its own anchor, restored and re-marked.
 */
export function restorableByAnchor(
  deletedUsers: readonly TenantUser[] | undefined,
  spec: SyncSpec,
): Map<string, TenantUser> {
  const out = new Map<string, TenantUser>();
  for (const u of deletedUsers ?? []) {
    const anchor = u.attributes[spec.users.anchorAttribute];
    const state = markerState(u, spec.marker);
    if (
      typeof anchor === 'string' &&
      anchor.trim() !== '' &&
      (state === 'own' || state === 'legacy')
    ) {
      out.set(anchor.trim(), u);
    }
  }
  return out;
}

/**
 * Where a leaver's managed account is in staged offboarding. The clock starts at the date
 * entrasync recorded with the disable (Graph's time, written by the apply); an account without
 * a readable date is treated as starting now (the date is recorded with this plan), so a lost
 * date delays a stage, never hastens one. A date later than `now` (Graph's time) by more than
 * safety.maxClockSkew was written by a wrong clock: it is unknown too, never "long past" (A8).
 * Days are 86,400,000 ms of UTC (no time zone, no daylight-saving shift). `clockTrusted` false
 * (A7): the stages that wait for a number of days are not taken (`clockHeld`); disabling and
 * immediate removals still are.
 */
export function deprovisionStage(
  account: TenantUser,
  spec: SyncSpec,
  now: number,
  clockTrusted: boolean,
): DeprovisionStage {
  const policy = spec.users.deprovision;
  if (policy.action === 'delete') {
    return { disable: false, stamp: false, removeAccess: true, delete: true, clockHeld: false };
  }
  const enabled = account.attributes.accountEnabled === true;
  const recorded = account.attributes[policy.stateAttribute];
  const parsed = typeof recorded === 'string' ? Date.parse(recorded) : NaN;
  // Within maxClockSkew of now, a later date is clock jitter (the Date header has a 1 s
  // resolution): not due, and not re-recorded on every plan.
  const tolerance = spec.safety.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const future = !Number.isNaN(parsed) && parsed > now + tolerance && !enabled;
  const since = future ? NaN : parsed;
  const staged = policy.removeAccessAfterDays > 0 || policy.deleteAfterDays !== undefined;
  const known = !Number.isNaN(since) && !enabled;
  const elapsedDays = known ? (now - since) / DAY_MS : 0;
  const deleteNow =
    known && policy.deleteAfterDays !== undefined && elapsedDays >= policy.deleteAfterDays;
  // removeAccessAfterDays 0 removes with the disable: no waiting, so no clock is needed.
  const removeAccess =
    policy.removeAccessAfterDays <= 0 ||
    (clockTrusted && elapsedDays >= policy.removeAccessAfterDays);
  return {
    disable: enabled || (staged && !known),
    stamp: staged,
    removeAccess,
    delete: clockTrusted && deleteNow,
    clockHeld: !clockTrusted && known && staged,
    ...(known ? { since: String(recorded) } : {}),
    ...(future ? { future: String(recorded) } : {}),
  };
}

/**
 * Marks an update or adoption that rewrites the account's anchor (a `reanchor`, P8) and says so
 * first in its message; nothing for any other change. The message replaces the ordinary one.
 */
function reanchorOf(
  set: readonly AttributeChange[],
  spec: SyncSpec,
  upn: string,
  /** For an adoption: its message, the anchor move is added to it. */
  adopt?: string,
): { reanchor?: true; message?: string } {
  const move = movedAnchor(set, spec.users.anchorAttribute);
  if (!move) return {};
  const moved = `${spec.users.anchorAttribute} ${describeAnchorMove(move.before, move.after)}`;
  const others = set.filter(
    (c) => c.attribute !== spec.users.anchorAttribute && c.attribute !== spec.marker.attribute,
  );
  const rest = others.length > 0 ? `; update ${others.map((c) => c.attribute).join(', ')}` : '';
  return {
    reanchor: true,
    message: adopt ? `${adopt}: ${moved}` : `re-anchor ${upn}: ${moved}${rest}`,
  };
}

/** A managed account still carrying the legacy marker (`claimLegacy`) is re-marked when matched. */
function remarks(account: TenantUser, ownership: Ownership | undefined, spec: SyncSpec): boolean {
  return ownership === 'managed' && account.attributes[spec.marker.attribute] !== spec.marker.value;
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

const READ_ONLY_REASON: Partial<Record<Ownership, string>> = {
  guest: 'a guest account',
  'synced-from-on-premises': 'owned by Entra Connect (onPremisesSyncEnabled)',
  protected: 'on the protect list',
  privileged: 'a privileged account (directory role or role-assignable group)',
  'other-config': 'managed by another entrasync config',
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
  addOwners: 12,
  removeOwners: 13,
  removeLicenses: 14,
  removeGroupLicenses: 15,
  disableUser: 16,
  deleteUser: 17,
  revokeSessions: 18,
  onboardUser: 19, // once the account exists and has its manager (same-object order = apply order)
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
