/**
 * Onboarding (issue 23): each account this plan creates gets an `onboardUser` step, its first
 * credential (a Temporary Access Pass or a new password) and who receives it, made at apply
 * after the account exists and has its manager. The plan names the recipient's address, never
 * a credential: there is none until apply, and it lives only in memory until it is delivered.
 *
 * A new hire whose credential could reach nobody (no manager, an empty sponsor or personal
 * address, a start date that is not a date) is a plan error for that person, and their create
 * is held (with everything that follows it): an account nobody can sign in to is not made. What
 * the tenant must allow (the pass policy, its lifetime limits, the sending mailbox) is checked
 * once; when it fails, every new hire is held with the reason. Pure.
 */
import type { DesiredUser } from '../model/desired.js';
import { ONBOARDING_PENDING } from '../model/plan.js';
import type {
  BlockedChange,
  Change,
  OnboardUserChange,
  PlanIssue,
  PlanWarning,
} from '../model/plan.js';
import type { OnboardingSpec, SyncSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import type { AccountRef } from './access-model.js';

export const ONBOARDING_HOLD = 'onboarding';

export interface OnboardingInput {
  readonly spec: SyncSpec;
  readonly users: readonly DesiredUser[];
  readonly accounts: ReadonlyMap<DesiredUser, AccountRef>;
  /** The plan's other changes (the setManager each step follows). */
  readonly changes: readonly Change[];
  readonly tenant: TenantState;
  /** Graph's time now (ms): a start before it means "at once". */
  readonly now: number;
}

export interface OnboardingResult {
  readonly changes: readonly OnboardUserChange[];
  /** Creates held because their person's credential could reach nobody, with the reason. */
  readonly held: ReadonlyMap<string, Omit<BlockedChange, 'change'>>;
  readonly issues: readonly PlanIssue[];
  readonly warnings: readonly PlanWarning[];
  /** Creates that get a step: their account is marked as awaiting its credential. */
  readonly marked: ReadonlySet<string>;
}

const NOTHING: OnboardingResult = {
  changes: [],
  held: new Map(),
  issues: [],
  warnings: [],
  marked: new Set(),
};

export function onboardingChanges(input: OnboardingInput): OnboardingResult {
  const { spec } = input;
  const onboarding = spec.users.onboarding;
  if (!onboarding) return NOTHING;
  const pending = pendingAccounts(input, onboarding.stateAttribute);
  const candidates = input.users.flatMap(
    (user): { user: DesiredUser; account: AccountRef; createId?: string }[] => {
      const account = input.accounts.get(user);
      if (!account) return [];
      if (account.createdBy?.startsWith('createUser:'))
        return [{ user, account, createId: account.createdBy }];
      return account.id !== undefined && pending.has(account.id) ? [{ user, account }] : [];
    },
  );
  if (candidates.length === 0) return NOTHING;

  const tenantCheck = tenantProblems(onboarding, input.tenant);
  const byPersonKey = new Map(input.users.map((u) => [u.personKey, u]));
  const out = {
    changes: [] as OnboardUserChange[],
    held: new Map<string, Omit<BlockedChange, 'change'>>(),
    issues: [] as PlanIssue[],
    warnings: [...tenantCheck.warnings],
    marked: new Set<string>(),
  };
  if (tenantCheck.problem !== undefined) {
    out.issues.push({
      severity: 'error',
      code: 'onboarding.tenant',
      message: `${tenantCheck.problem}: ${candidates.length} new hire(s) held`,
      source: spec.primarySource,
    });
  }
  for (const { user, account, createId } of candidates) {
    const upn = account.userPrincipalName;
    const recipient = recipientOf(onboarding, user, byPersonKey, input);
    const start = startOf(onboarding, user, input.now);
    const problem = tenantCheck.problem ?? recipient.problem ?? start.problem;
    if (problem !== undefined) {
      if (createId !== undefined) {
        out.held.set(createId, {
          code: ONBOARDING_HOLD,
          message: `held: ${problem}; an account nobody can sign in to is not created`,
        });
      }
      if (tenantCheck.problem === undefined) {
        out.issues.push({
          severity: 'error',
          code: 'onboarding.no-recipient',
          message: `${user.personKey}: ${problem}${createId === undefined ? `; ${upn} still awaits its credential` : ''}`,
          source: spec.primarySource,
          key: user.personKey,
        });
      }
      continue;
    }
    const setManager = input.changes.find(
      (c) =>
        c.kind === 'setManager' &&
        c.user.id === account.id &&
        c.user.userPrincipalName.toLowerCase() === upn.toLowerCase(),
    );
    const address = recipient.address ?? '';
    const kind = onboarding.credential === 'tap' ? 'Temporary Access Pass' : 'password';
    if (createId !== undefined) out.marked.add(createId);
    out.changes.push({
      id: `onboardUser:${account.id ?? upn.toLowerCase()}`,
      kind: 'onboardUser',
      reason: 'onboarding',
      rule: 'users.onboarding',
      message: `onboard ${upn}: ${kind} by ${onboarding.delivery.channel} to ${address}${createId === undefined ? ' (it still awaits its credential: a new one is made)' : ''}${start.note ?? ''}`,
      user:
        account.id === undefined
          ? { userPrincipalName: upn }
          : { id: account.id, userPrincipalName: upn },
      provenance: user.provenance,
      ...(createId !== undefined || setManager
        ? { requires: [...(createId ? [createId] : []), ...(setManager ? [setManager.id] : [])] }
        : {}),
      credential: onboarding.credential,
      delivery: {
        channel: onboarding.delivery.channel,
        to: onboarding.delivery.to,
        recipient: address,
      },
      ...(onboarding.tap
        ? {
            tap: {
              ...(start.at ? { startDateTime: start.at } : {}),
              ...(start.passed ? { startPassed: start.passed } : {}),
              lifetimeInMinutes: onboarding.tap.lifetimeInMinutes,
              isUsableOnce: onboarding.tap.isUsableOnce,
            },
          }
        : {}),
      placeholders: {
        name: String(user.attributes.displayName ?? upn),
        upn,
        recipient: address,
        ...(recipient.manager ? { manager: recipient.manager } : {}),
        ...(start.at ? { startAt: start.at } : {}),
      },
      stateAttribute: onboarding.stateAttribute,
    });
  }
  return out;
}

/** Ids of managed accounts whose state attribute says they still await their credential. */
function pendingAccounts(input: OnboardingInput, attribute: string): ReadonlySet<string> {
  return new Set(
    input.tenant.users
      .filter((u) => u.attributes[attribute] === ONBOARDING_PENDING)
      .map((u) => u.id),
  );
}

/**
 * The plan's creates with the onboarding state set on each account that gets a step (so a
 * credential that is never delivered is made again by the next plan).
 */
export function markPendingCreates(
  changes: readonly Change[],
  marked: ReadonlySet<string>,
  attribute: string | undefined,
): Change[] {
  if (marked.size === 0 || attribute === undefined) return [...changes];
  return changes.map((c) =>
    c.kind === 'createUser' && marked.has(c.id)
      ? { ...c, attributes: { ...c.attributes, [attribute]: ONBOARDING_PENDING } }
      : c,
  );
}

/** The address the credential goes to, or why there is none. */
function recipientOf(
  onboarding: OnboardingSpec,
  user: DesiredUser,
  byPersonKey: ReadonlyMap<string, DesiredUser>,
  input: OnboardingInput,
): { address?: string; manager?: string; problem?: string } {
  const { to } = onboarding.delivery;
  if (to !== 'manager') {
    const address = user.onboarding?.address;
    const path = onboarding.delivery.address?.configPath ?? `users.onboarding.delivery`;
    if (address === undefined)
      return { problem: `no ${to} address to deliver the credential to (${path} gave nothing)` };
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      return {
        problem: `the ${to} address ${JSON.stringify(address)} (${path}) is not a mail address`,
      };
    }
    return { address };
  }
  if (user.managerKey === undefined) {
    return { problem: 'no manager to deliver the credential to (users.manager gave nothing)' };
  }
  const manager = byPersonKey.get(`${input.spec.primarySource}:${user.managerKey}`);
  const account = manager ? input.accounts.get(manager) : undefined;
  if (!manager || !account || manager === user) {
    return {
      problem: `no manager to deliver the credential to (manager ${user.managerKey} is not a person with an account of this config)`,
    };
  }
  const tenantMail =
    account.id === undefined
      ? undefined
      : input.tenant.users.find((u) => u.id === account.id)?.attributes.mail;
  const mail = [manager.attributes.mail, tenantMail].find(
    (m): m is string => typeof m === 'string' && m.includes('@'),
  );
  return {
    address: mail ?? account.userPrincipalName,
    manager: String(manager.attributes.displayName ?? account.userPrincipalName),
  };
}

/** When the pass becomes valid: absent for "at once" (with a note when the start is past). */
function startOf(
  onboarding: OnboardingSpec,
  user: DesiredUser,
  now: number,
): { at?: string; passed?: string; note?: string; problem?: string } {
  const text = user.onboarding?.startAt;
  if (!onboarding.tap?.startAt || text === undefined) return {};
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) {
    return {
      problem: `${onboarding.tap.startAt.configPath} gave ${JSON.stringify(text)}, not an ISO 8601 date or date-time`,
    };
  }
  if (at <= now) {
    return { passed: text, note: ` (valid at once: start ${text} is not in the future)` };
  }
  return { at: new Date(at).toISOString().replace('.000Z', 'Z') };
}

/** What the tenant must allow, checked once for every new hire. */
function tenantProblems(
  onboarding: OnboardingSpec,
  tenant: TenantState,
): { problem?: string; warnings: PlanWarning[] } {
  const warnings: PlanWarning[] = [];
  const state = tenant.onboarding;
  const mailbox = state?.mailbox;
  const from = onboarding.delivery.mailbox;
  if (mailbox && mailbox.status !== 'found') {
    return {
      problem: `the sending mailbox ${from ?? ''} cannot be used: ${mailbox.reason}`,
      warnings,
    };
  }
  const policy = state?.tapPolicy;
  const tap = onboarding.tap;
  if (!tap || !policy) return { warnings };
  if (policy.status === 'unreadable') return { problem: policy.reason, warnings };
  if (!policy.enabled) {
    return {
      problem:
        "Temporary Access Pass is not enabled in the tenant's authentication methods policy (/policies/authenticationMethodsPolicy); enable it for the new hires, or use `credential: password`",
      warnings,
    };
  }
  const { minimumLifetimeInMinutes: min, maximumLifetimeInMinutes: max } = policy;
  if (
    (min !== undefined && tap.lifetimeInMinutes < min) ||
    (max !== undefined && tap.lifetimeInMinutes > max)
  ) {
    return {
      problem: `users.onboarding.lifetime (${tap.lifetimeInMinutes} minutes) is outside the tenant's Temporary Access Pass policy (${min ?? 10} to ${max ?? 43200} minutes)`,
      warnings,
    };
  }
  if (policy.isUsableOnce === true && !tap.isUsableOnce) {
    return {
      problem:
        "the tenant's Temporary Access Pass policy makes every pass one-time: set `users.onboarding.usableOnce: true`",
      warnings,
    };
  }
  if (!policy.allUsers) {
    warnings.push({
      code: 'onboarding.policy-targets',
      message:
        'the Temporary Access Pass policy is enabled for some groups only, not all users: a new hire outside them gets no pass (the apply reports it per person)',
      subject: 'users.onboarding',
    });
  }
  return { warnings };
}

/**
 * A create whose onboarding step is held (its manager's create is held, say) is held too, and
 * what follows it: the account would exist with nobody able to sign in to it. Run after the
 * other holds; `hold` is holds.ts's holdDependents.
 */
export function holdCreatesWithoutOnboarding(
  result: { readonly changes: readonly Change[]; readonly blocked: readonly BlockedChange[] },
  hold: (
    changes: readonly Change[],
    blocked: readonly BlockedChange[],
  ) => { readonly changes: readonly Change[]; readonly blocked: readonly BlockedChange[] },
): { readonly changes: readonly Change[]; readonly blocked: readonly BlockedChange[] } {
  let current = result;
  for (;;) {
    const waiting = new Map<string, string>();
    for (const b of current.blocked) {
      if (b.change.kind !== 'onboardUser') continue;
      const create = b.change.requires?.find((id) => id.startsWith('createUser:'));
      if (create !== undefined) waiting.set(create, b.change.id);
    }
    const creates = current.changes.filter((c) => waiting.has(c.id));
    if (creates.length === 0) return current;
    const blocked = [
      ...current.blocked,
      ...creates.map((change) => ({
        change,
        code: 'requires-blocked',
        waitsFor: [waiting.get(change.id) ?? ''],
        message: `held: its onboarding (${waiting.get(change.id) ?? ''}) is held, and an account nobody can sign in to is not created; it applies once that is released`,
      })),
    ];
    current = hold(
      current.changes.filter((c) => !waiting.has(c.id)),
      blocked,
    );
  }
}
