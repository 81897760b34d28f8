/**
 * Offboarding is one lifecycle, whatever starts it (issue 17, class 4). A managed account is
 * offboarded when its person left the sources or the scope (a leaver), or when the mapping
 * disables it (`accountEnabled` false) while the person is still in the sources. Both go through
 * the same stages, counted from the disable date the apply records on the account
 * (`deprovision.stateAttribute`), so a stateless CI run knows where each account is:
 *
 *   1. disable, revoke sign-in sessions and record the date, at once;
 *   2. after `removeAccessAfterDays`, memberships of managed groups and rule-given licenses go
 *      (access.ts, through the fate 'retain' | 'remove' this module gives each account);
 *   3. after `deleteAfterDays`, the account is deleted (to the recycle bin).
 *
 * Where an account is (deprovisionStage, diff.ts) is decided by one function for both triggers;
 * a mapping-disabled account is staged by `deprovision.whenDisabled` (each stage defaulting to
 * the leaver policy's). This module turns a stage into changes.
 *
 * Choices, for a cautious admin:
 * - A mapping-disabled account's clock starts only at a disable entrasync made (the apply
 *   records the date). An account the mapping wants disabled that is disabled already without a
 *   date (created disabled for a pre-hire, or disabled before this version) gets no date, so it
 *   is never deleted; it keeps the access it has unless `removeAccessAfterDays` is 0 (day 0).
 * - A person the mapping disables whose account is gone (deleted by stage 3) is neither
 *   restored nor created again while a delete stage is configured for them.
 * - A revoke that did not take effect (A9): a disabled account whose
 *   `signInSessionsValidFromDateTime` is older than its recorded disable date gets a
 *   `revokeSessions` change, plan after plan, until Graph shows the revoke.
 * Every change here is guarded by safety.ts like any other: disables, deletes and access
 * removals are deprovisioning kinds, blocked while a source is unhealthy; held people never
 * reach this module (diff.ts leaves their accounts alone).
 */
import type { DesiredUser } from '../model/desired.js';
import type { Provenance } from '../model/person.js';
import type { Change, ChangeReason, RevokeSessionsChange } from '../model/plan.js';
import type { DeprovisionSpec, SyncSpec } from '../model/spec.js';
import type { TenantUser } from '../model/tenant.js';

/** What access.ts does with a deprovisioned account's memberships and licenses. */
export type AccessFate = 'retain' | 'remove';

/** Where an account is in staged offboarding, as deprovisionStage (diff.ts) tells it. */
export interface LifecycleStage {
  /** Disable now (or record the date on an account disabled without one). */
  readonly disable: boolean;
  /** A later stage is configured: the disable records its date. */
  readonly stamp: boolean;
  readonly removeAccess: boolean;
  readonly delete: boolean;
  /** When deprovisioning started, as recorded on the account. */
  readonly since?: string;
  /** A recorded date later than Graph's now: unknown, recorded again (clock.ts, A8). */
  readonly future?: string;
}

export interface LifecycleResult {
  readonly changes: readonly Change[];
  /** Absent: the account is not being offboarded (access.ts treats it as any other). */
  readonly fate?: AccessFate;
}

/**
 * The spec deprovisionStage stages a mapping-disabled account with: the leaver policy, with
 * `whenDisabled` over it, always staged as `disable` (the mapping asked for a disable, never for
 * an immediate delete, whatever `deprovision.action` does to leavers).
 */
export function mappingDisabledSpec(spec: SyncSpec): SyncSpec {
  const policy = spec.users.deprovision;
  const when = policy.whenDisabled;
  const deleteAfterDays =
    when?.deleteAfterDays === undefined
      ? policy.deleteAfterDays
      : (when.deleteAfterDays ?? undefined);
  const deprovision: DeprovisionSpec = {
    action: 'disable',
    revokeSessions: policy.revokeSessions,
    removeAccessAfterDays: when?.removeAccessAfterDays ?? policy.removeAccessAfterDays,
    ...(deleteAfterDays === undefined ? {} : { deleteAfterDays }),
    stateAttribute: policy.stateAttribute,
  };
  return { ...spec, users: { ...spec.users, deprovision } };
}

/**
 * A person the mapping disables, with no account (or only one in the recycle bin), gets none
 * when a delete stage is configured for them: the account would only wait to be deleted, and
 * restoring one the delete stage removed would undo it every other run.
 */
export function noAccountWanted(desired: DesiredUser, whenDisabled: SyncSpec): boolean {
  return (
    desired.attributes.accountEnabled !== true &&
    whenDisabled.users.deprovision.deleteAfterDays !== undefined
  );
}

/** Record the disable date: a later stage needs it, and so does the revoke retry (A9). */
function stamps(policy: DeprovisionSpec, stage: LifecycleStage): boolean {
  return stage.stamp || policy.revokeSessions;
}

export interface MappedAccountInput {
  readonly account: TenantUser;
  readonly desired: DesiredUser;
  readonly ownership: 'managed' | 'adoptable';
  /** `mappingDisabledSpec(spec)`. */
  readonly spec: SyncSpec;
  /** `deprovisionStage(account, spec, now)` with the spec above. */
  readonly stage: LifecycleStage;
  readonly now: number;
}

/**
 * Enable, disable or stage an account whose person is in the sources, as the mapping's
 * `accountEnabled` says. An account enabled again is re-enabled and its date cleared (as a
 * rehire is); one the mapping disables goes through the stages above.
 */
export function mappedAccountChanges(input: MappedAccountInput): LifecycleResult {
  const { account, desired: d, spec, stage } = input;
  const policy = spec.users.deprovision;
  const stateAttribute = policy.stateAttribute;
  const upn = account.userPrincipalName;
  const user = { id: account.id, userPrincipalName: upn };
  const base = { user, provenance: d.provenance };
  const enabled = account.attributes.accountEnabled === true;
  const recorded = account.attributes[stateAttribute];
  const returned = input.ownership === 'managed' && typeof recorded === 'string' && recorded !== '';

  if (d.attributes.accountEnabled === true) {
    if (enabled && !returned) return { changes: [] };
    return {
      changes: [
        {
          ...base,
          id: `enableUser:${account.id}`,
          kind: 'enableUser',
          reason: returned ? 'rehire' : 'source-status',
          message: returned
            ? `enable ${upn}: ${d.personKey} is back (deprovisioned since ${String(recorded)})`
            : `enable ${upn}: the mapping of ${d.personKey} says accountEnabled=true`,
          ...(returned ? { stateAttribute } : {}),
        },
      ],
    };
  }

  const fate: AccessFate = stage.removeAccess ? 'remove' : 'retain';
  if (enabled) {
    return {
      fate,
      changes: [
        {
          ...base,
          id: `disableUser:${account.id}`,
          kind: 'disableUser',
          reason: 'source-status',
          message: `disable ${upn}: the mapping of ${d.personKey} says accountEnabled=${String(d.attributes.accountEnabled)}`,
          ...(stamps(policy, stage) ? { stateAttribute } : {}),
          ...(policy.revokeSessions ? { revokeSessions: true as const } : {}),
        },
      ],
    };
  }
  // Disabled already. Only a managed account with a recorded date moves on to later stages.
  if (input.ownership !== 'managed') return { changes: [], fate };
  if (stage.delete && stage.since !== undefined) {
    return {
      fate: 'remove',
      changes: [
        {
          ...base,
          id: `deleteUser:${account.id}`,
          kind: 'deleteUser',
          reason: 'grace-elapsed',
          message: `delete ${upn}: disabled by the mapping of ${d.personKey} since ${stage.since}, past deleteAfterDays ${String(policy.deleteAfterDays)}`,
        },
      ],
    };
  }
  const revoke = lostRevoke(account, policy, input.now, 'source-status', d.provenance);
  return { fate, changes: revoke ? [revoke] : [] };
}

export interface LeaverInput {
  readonly account: TenantUser;
  readonly spec: SyncSpec;
  /** `deprovisionStage(account, spec, now)`. */
  readonly stage: LifecycleStage;
  readonly now: number;
  readonly reason: ChangeReason;
  /** Why the person counts as gone, for messages. */
  readonly why: string;
  readonly provenance: readonly Provenance[];
}

/** The changes of a managed account whose person left the sources or the scope. */
export function leaverChanges(input: LeaverInput): Required<LifecycleResult> {
  const { account, spec, stage, reason, why, provenance } = input;
  const policy = spec.users.deprovision;
  const user = { id: account.id, userPrincipalName: account.userPrincipalName };
  const fate: AccessFate = stage.removeAccess ? 'remove' : 'retain';
  if (stage.delete) {
    return {
      fate,
      changes: [
        {
          id: `deleteUser:${account.id}`,
          kind: 'deleteUser',
          reason: stage.since === undefined ? reason : 'grace-elapsed',
          message:
            stage.since === undefined
              ? `delete ${account.userPrincipalName}: ${why}`
              : `delete ${account.userPrincipalName}: deprovisioned since ${stage.since}, past deleteAfterDays ${String(policy.deleteAfterDays)}`,
          user,
          provenance,
        },
      ],
    };
  }
  if (stage.disable) {
    const enabled = account.attributes.accountEnabled === true;
    return {
      fate,
      changes: [
        {
          id: `disableUser:${account.id}`,
          kind: 'disableUser',
          reason,
          message: enabled
            ? `disable ${account.userPrincipalName}: ${why}`
            : stage.future !== undefined
              ? `record again when deprovisioning of ${account.userPrincipalName} started: the recorded ${stage.future} is later than Microsoft Graph's time now (beyond safety.maxClockSkew), so it is unknown and the grace period starts again: ${why}`
              : `record when deprovisioning of ${account.userPrincipalName} started (disabled already, no date): ${why}`,
          user,
          provenance,
          ...(stamps(policy, stage) ? { stateAttribute: policy.stateAttribute } : {}),
          ...(policy.revokeSessions && enabled ? { revokeSessions: true as const } : {}),
        },
      ],
    };
  }
  const revoke =
    policy.action === 'disable'
      ? lostRevoke(account, policy, input.now, reason, provenance)
      : undefined;
  return { fate, changes: revoke ? [revoke] : [] };
}

/**
 * A revoke that did not take effect (A9): the account is disabled, its recorded disable date is
 * known (and not in the future, which is not trusted), and Graph says its sessions are valid
 * since before that date. Graph keeps `signInSessionsValidFromDateTime` to the second, so both
 * are compared in whole seconds: a revoke in the same second as the disable counts as done.
 */
export function lostRevoke(
  account: TenantUser,
  policy: DeprovisionSpec,
  now: number,
  reason: ChangeReason,
  provenance: readonly Provenance[],
): RevokeSessionsChange | undefined {
  if (!policy.revokeSessions || account.attributes.accountEnabled === true) return undefined;
  const recorded = account.attributes[policy.stateAttribute];
  const disabledAt = typeof recorded === 'string' ? Date.parse(recorded) : NaN;
  const validFromText = account.signInSessionsValidFromDateTime;
  const validFrom = validFromText === undefined ? NaN : Date.parse(validFromText);
  if (Number.isNaN(disabledAt) || Number.isNaN(validFrom) || disabledAt > now) return undefined;
  if (Math.floor(validFrom / 1000) >= Math.floor(disabledAt / 1000)) return undefined;
  return {
    id: `revokeSessions:${account.id}`,
    kind: 'revokeSessions',
    reason,
    message: `revoke sign-in sessions of ${account.userPrincipalName}: sessions are valid since ${String(validFromText)}, before its disable at ${String(recorded)} (the revoke did not take effect)`,
    user: { id: account.id, userPrincipalName: account.userPrincipalName },
    provenance,
  };
}
