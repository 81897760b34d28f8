/**
 * Safety: plan-level checks over plain data (style practice 4). Changes that fail a check move
 * to `blocked` with a reason and are held (applied nowhere), with every change that depends on
 * them (holds.ts). Checks never unblock: each only moves more changes to `blocked`, so degrading any input
 * can only block more (safety monotonicity).
 *
 * 0. Protection lifted (P2): every change to an account whose protection this very config change
 *    lifts (protect-lift.ts) is blocked, before anything else and whatever is approved or
 *    overridden: protection must be lifted by a separate, earlier apply.
 * 1. Source health (invariant 2): a failed, incomplete or shrunken source cannot say who left,
 *    so every deprovisioning change is blocked (S1, S7, S8). The shrink check covers linked
 *    sources too, against the people the join expected them to feed (S17).
 * 2. Unidentified people: someone in the sources whose account cannot be told apart from a
 *    leaver's blocks every deprovisioning change.
 * 3. Approvals (P6): adopting an existing account found by UPN or mail (or any adoption while
 *    admin detection is unavailable), and every action the config lists under
 *    `requireApproval`, needs an entry in `approvals.yaml`: the plan's fingerprint or the action on
 *    that account.
 * 4. Thresholds per action (M2, A5): too many changes of one kind at once is a symptom (a mapping
 *    typo, a half-written export) until a reviewer says otherwise for this very plan: an override
 *    bound to its fingerprint, or the plan approved in `approvals.yaml`.
 * 5. Anchors (P8, P9): a change that rewrites an account's anchor (`reanchor`) needs an approval
 *    of the plan or of the change (`reanchors`), whatever the count; evidence that the source's
 *    key format changed (anchors.ts) blocks every deprovisioning change and the creates it
 *    taints, naming the pattern, until the plan is approved.
 * 6. Mass clear (M8): one attribute cleared for more than the `updates` threshold's share of the
 *    managed accounts is braked the same way, with a before/after sample, whatever the count.
 */
import type {
  BlockedChange,
  Change,
  PlanWarning,
  SourceSummary,
  ThresholdOverrides,
} from '../model/plan.js';
import {
  DEPROVISIONING_KINDS,
  THRESHOLD_ACTION_OF,
  subjectOf,
  thresholdWeight,
} from '../model/plan.js';
import type { Approvals, SafetySpec, ThresholdAction } from '../model/spec.js';
import { THRESHOLD_FLAG } from '../model/spec.js';
import type { AttributeValue } from '../model/tenant.js';
import type { LiftedAccounts } from './protect-lift.js';
import { protectionLiftedVerdict } from './protect-lift.js';
import type { KeyFormatFinding } from './anchors.js';
import { anchorMove, describeAnchorMove } from './anchors.js';
import { HELD_PART_SUFFIX, holdDependents } from './holds.js';
import { holdCreatesWithoutOnboarding } from './onboarding.js';

export interface SafetyContext {
  readonly sources: readonly SourceSummary[];
  /** Name of the source whose records define who exists. */
  readonly primarySource: string;
  /** People the sources know of but whose account could not be identified this run. */
  readonly heldWithoutAnchor: readonly string[];
  /** Accounts this config manages (the marker), the baseline for shrink and percentages. */
  readonly managedUsers: number;
  /**
   * Managed accounts that are enabled: the people the primary source should still hold, the
   * baseline for "the source shrank" (disabled leavers waiting for their delete are not).
   * Default: `managedUsers`.
   */
  readonly activeManagedUsers?: number;
  readonly spec: SafetySpec;
  /** This plan's fingerprint: approvals and overrides bound to it release what it holds. */
  readonly fingerprint: string;
  /**
   * The fingerprint of what this plan holds before any approval (fingerprint.ts,
   * heldFingerprint): approvals and overrides bound to it release the held part in this plan
   * and in the plans after the rest was applied, so the messages offer it. Absent: nothing held.
   */
  readonly releaseFingerprint?: string;
  readonly overrides?: ThresholdOverrides;
  readonly approvals: Approvals;
  /** False when the tenant read could not tell who holds directory roles. */
  readonly adminDetection: boolean;
  /**
   * Creates of new hires whose first credential could reach nobody (onboarding.ts), by change
   * id, with the reason: held like any other check's, and their dependents with them.
   */
  readonly onboardingHeld?: ReadonlyMap<string, Verdict>;
  /** Display names of tenant accounts by id, to recognise one person replaced by another account. */
  readonly displayNames: ReadonlyMap<string, string>;
  /**
   * License assignments the tenant has no seats for (the plan's seat check, G9), by change id:
   * blocked before apply rather than failing one by one with "no available licenses".
   */
  readonly seatShortfall?: ReadonlyMap<string, string>;
  /**
   * Accounts whose protection this config change lifts (the protect-lift check, P2); absent
   * when the check did not run (no baseline).
   */
  readonly protectLifted?: LiftedAccounts;
  /** Evidence that the source's key format changed (anchors.ts); absent: none (P9). */
  readonly keyFormat?: KeyFormatFinding;
  /** The attribute holding the anchor, to name a reanchor's move; default `employeeId`. */
  readonly anchorAttribute?: string;
  /**
   * Each linked source's coverage from the join (S17): of the people with a link key for it
   * (`expected`), how many it had a record for (`found`); `shrunk` below `minSourceRatio`.
   */
  readonly linkCoverage?: readonly {
    readonly source: string;
    readonly expected: number;
    readonly found: number;
    readonly shrunk: boolean;
  }[];
}

export interface SafetyResult {
  readonly changes: readonly Change[];
  readonly blocked: readonly BlockedChange[];
  readonly warnings: readonly PlanWarning[];
  /** The overrides that were bound to this plan and used. */
  readonly overridesUsed: Readonly<Partial<Record<ThresholdAction, number>>>;
}

type Verdict = Omit<BlockedChange, 'change'>;

export function checkSafety(changes: readonly Change[], context: SafetyContext): SafetyResult {
  const warnings: PlanWarning[] = [];
  const blocked: BlockedChange[] = [];
  let allowed: Change[] = [];

  const sourceVerdict = unhealthySourceVerdict(context);
  const unidentified = unidentifiedPeopleVerdict(context);
  for (const change of changes) {
    const shortfall = context.seatShortfall?.get(change.id);
    const lifted = context.protectLifted
      ? protectionLiftedVerdict(change, context.protectLifted)
      : undefined;
    const verdict =
      lifted ??
      context.onboardingHeld?.get(change.id) ??
      (DEPROVISIONING_KINDS.has(change.kind)
        ? (sourceVerdict ?? unidentified)
        : shortfall !== undefined
          ? { code: 'license-shortfall', message: shortfall }
          : undefined);
    if (verdict) blocked.push({ change, ...verdict });
    else allowed.push(change);
  }

  const planApproved = context.approvals.plans.some((p) => bindsTo(context, p.toLowerCase()));
  if (!planApproved) {
    const stillAllowed: Change[] = [];
    for (const change of allowed) {
      const verdict = approvalVerdict(change, context);
      if (verdict) blocked.push({ change, ...verdict });
      else stillAllowed.push(change);
    }
    allowed = stillAllowed;
  }

  if (!planApproved && context.keyFormat) {
    const { finding, creates } = context.keyFormat;
    const message = `blocked: the key format of the source changed (${finding}); people would look new and their accounts like leavers', so nothing is deprovisioned and no account is created for a reformatted key. Fix the export (keep keys as text), or approve this plan in approvals.yaml (plans: [${offered(context).slice(0, 12)}]) if the change is intended`;
    const stillAllowed: Change[] = [];
    for (const change of allowed) {
      if (DEPROVISIONING_KINDS.has(change.kind) || creates.has(change.id))
        blocked.push({ change, code: 'key-format', message });
      else stillAllowed.push(change);
    }
    allowed = stillAllowed;
  }

  if (!planApproved) {
    const churned = churn(allowed, context);
    if (churned) {
      for (const change of churned.changes)
        blocked.push({ change, code: 'churn', message: churned.message });
      allowed = allowed.filter((c) => !churned.changes.has(c));
    }
  }

  const overrides = boundOverrides(context, warnings);
  const overridesUsed: Partial<Record<ThresholdAction, number>> = {};
  const byAction = new Map<ThresholdAction, Change[]>();
  for (const change of allowed) {
    const action = THRESHOLD_ACTION_OF[change.kind];
    if (action === undefined) continue;
    const list = byAction.get(action);
    if (list) list.push(change);
    else byAction.set(action, [change]);
  }
  const overThreshold = new Set<ThresholdAction>();
  for (const [action, list] of byAction) {
    const threshold = context.spec.thresholds[action];
    const limitByPercent = (threshold.percent / 100) * context.managedUsers;
    const units = list.reduce((n, c) => n + thresholdWeight(c), 0);
    if (units <= threshold.count || units <= limitByPercent) continue;
    if (planApproved) continue;
    const allowance = overrides[action];
    if (allowance !== undefined && units <= allowance) {
      overridesUsed[action] = allowance;
      continue;
    }
    overThreshold.add(action);
    const message =
      `blocked: ${units} ${actionWords(action)} exceed the threshold (more than ${threshold.count} and more than ` +
      `${threshold.percent}% of ${context.managedUsers} managed account(s))` +
      sample(list) +
      `; if this is intended, review the plan and run apply with ${THRESHOLD_FLAG[action]} ${units} --plan ${offered(context).slice(0, 12)}`;
    for (const change of list) blocked.push({ change, code: 'threshold', message });
  }
  if (overThreshold.size > 0)
    allowed = allowed.filter((c) => {
      const action = THRESHOLD_ACTION_OF[c.kind];
      return action === undefined || !overThreshold.has(action);
    });

  if (!planApproved) {
    const cleared = massClear(allowed, context, overrides, overridesUsed);
    for (const [change, message] of cleared) blocked.push({ change, code: 'mass-clear', message });
    if (cleared.size > 0) allowed = allowed.filter((c) => !cleared.has(c));
  }

  // A change that only makes sense after a blocked one (a license for a user whose create is
  // blocked, a session revoke after a blocked disable, the held members of a membership) is
  // held with it (holds.ts).
  const held = holdCreatesWithoutOnboarding(holdDependents(allowed, blocked), holdDependents);
  return {
    changes: held.changes,
    blocked: orderLike(changes, [...held.blocked]),
    warnings,
    overridesUsed,
  };
}

function actionWords(action: ThresholdAction): string {
  return action.replace(/[A-Z]/g, (c) => ' ' + c.toLowerCase());
}

function unhealthySourceVerdict(context: SafetyContext): Verdict | undefined {
  const reasons: string[] = [];
  for (const s of context.sources) {
    if (s.status !== 'complete') reasons.push(`source "${s.name}" is ${s.status}`);
  }
  const primary = context.sources.find((s) => s.name === context.primarySource);
  const baseline = context.activeManagedUsers ?? context.managedUsers;
  if (primary && primary.status === 'complete' && baseline > 0) {
    const ratio = primary.records / baseline;
    if (ratio < context.spec.minSourceRatio) {
      const shrank = Math.round((1 - ratio) * 100);
      reasons.push(
        `source "${primary.name}" has ${primary.records} record(s) against ${baseline} enabled managed account(s): ` +
          `shrank ${shrank}% (ratio ${ratio.toFixed(2)} < minSourceRatio ${context.spec.minSourceRatio})` +
          (primary.records === 0
            ? '; if the source is a directory, the bind account may lack read access'
            : ''),
      );
    }
  }
  for (const c of context.linkCoverage ?? []) {
    if (!c.shrunk) continue;
    const ratio = c.found / c.expected;
    reasons.push(
      `linked source "${c.source}" has records for ${c.found} of the ${c.expected} people it links to: ` +
        `shrank ${Math.round((1 - ratio) * 100)}% (ratio ${ratio.toFixed(2)} < minSourceRatio ${context.spec.minSourceRatio}); ` +
        'the people it has no record for are held',
    );
  }
  if (reasons.length === 0) return undefined;
  return {
    code: 'source-unhealthy',
    message: `blocked: ${reasons.join('; ')}; nothing is deprovisioned until every source reads completely`,
  };
}

/** Fewer accounts than this losing one attribute at once is ordinary (M8). */
const MASS_CLEAR_MIN_ACCOUNTS = 3;

function isEmptyValue(value: AttributeValue): boolean {
  return value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/**
 * Mass clear (M8): one attribute going from a value to nothing for more than the `updates`
 * threshold's share (percent) of the managed accounts, whatever the count, is braked like a mass
 * update: a source or column that stopped feeding it (a linked directory reading 0 entries, an
 * emptied CSV column) looks exactly like this. Lifted by the same means: the plan approved, or
 * `--allow-updates <n>` bound to its fingerprint. Returns the braked changes with their message.
 */
function massClear(
  allowed: readonly Change[],
  context: SafetyContext,
  overrides: Partial<Record<ThresholdAction, number>>,
  overridesUsed: Partial<Record<ThresholdAction, number>>,
): Map<Change, string> {
  const braked = new Map<Change, string>();
  const byAttribute = new Map<string, Change[]>();
  let updates = 0;
  for (const change of allowed) {
    if (change.kind !== 'updateUser') continue;
    updates++;
    for (const a of change.set) {
      if (isEmptyValue(a.before) || !isEmptyValue(a.after)) continue;
      const list = byAttribute.get(a.attribute);
      if (list) list.push(change);
      else byAttribute.set(a.attribute, [change]);
    }
  }
  const percent = context.spec.thresholds.updates.percent;
  const share = (percent / 100) * context.managedUsers;
  for (const [attribute, list] of byAttribute) {
    if (list.length <= share || list.length < MASS_CLEAR_MIN_ACCOUNTS) continue;
    const allowance = overrides.updates;
    if (allowance !== undefined && list.length <= allowance) {
      overridesUsed.updates = allowance;
      continue;
    }
    const examples = list.slice(0, 3).map((c) => {
      const a = c.kind === 'updateUser' ? c.set.find((x) => x.attribute === attribute) : undefined;
      return `${subjectOf(c).userPrincipalName} ${attribute}: ${show(a?.before ?? null)} -> ${show(a?.after ?? null)}`;
    });
    const message =
      `blocked: ${attribute} would be cleared for ${list.length} account(s), more than ${percent}% of ` +
      `${context.managedUsers} managed account(s) (a source or field that stopped feeding it looks like this), e.g. ${examples.join('; ')}` +
      `; if this is intended, review the plan and run apply with ${THRESHOLD_FLAG.updates} ${Math.max(updates, list.length)} --plan ${offered(context).slice(0, 12)}, or approve the plan`;
    for (const change of list) if (!braked.has(change)) braked.set(change, message);
  }
  return braked;
}

/** Pairs below this never count as churn: a rehire or a namesake is ordinary. */
const CHURN_MIN_PAIRS = 5;

/**
 * A changed key or anchor format makes every person look new: the plan creates N accounts and
 * disables N others with the same names. Each change looks fine alone; together they replace
 * people. Blocks the paired creates and disables until the plan is approved.
 */
function churn(
  changes: readonly Change[],
  context: SafetyContext,
): { changes: Set<Change>; message: string } | undefined {
  const disabledByName = new Map<string, Change[]>();
  for (const c of changes) {
    if (c.kind !== 'disableUser' || c.reason === 'source-status' || !c.user.id) continue;
    const name = context.displayNames.get(c.user.id);
    if (!name) continue;
    const key = nameKey(name);
    const list = disabledByName.get(key);
    if (list) list.push(c);
    else disabledByName.set(key, [c]);
  }
  const paired = new Set<Change>();
  const examples: string[] = [];
  for (const c of changes) {
    if (c.kind !== 'createUser') continue;
    const name = c.attributes.displayName;
    const twins = typeof name === 'string' ? disabledByName.get(nameKey(name)) : undefined;
    const twin = twins?.shift();
    if (!twin) continue;
    paired.add(c).add(twin);
    if (examples.length < 3)
      examples.push(
        `${String(name)}: ${subjectOf(twin).userPrincipalName} disabled, ${c.user.userPrincipalName} created`,
      );
  }
  const pairs = paired.size / 2;
  const creates = changes.filter((c) => c.kind === 'createUser').length;
  if (pairs < CHURN_MIN_PAIRS || pairs < creates / 2) return undefined;
  return {
    changes: paired,
    message: `blocked: ${pairs} people would be replaced by new accounts with the same names (e.g. ${examples.join('; ')}); the key or anchor format probably changed (users.anchor, join keys). Fix the mapping, or approve this plan in approvals.yaml (plans: [${offered(context).slice(0, 12)}]) if the replacement is intended`,
  };
}

function nameKey(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ');
}

/**
 * A reanchor moves an identity (P8): approved only by the plan's fingerprint (checked before)
 * or by `{ action: reanchors, subject }`, whatever else approves the change.
 */
function reanchorVerdict(change: Change, context: SafetyContext): Verdict | undefined {
  if ((change.kind !== 'updateUser' && change.kind !== 'adoptUser') || !change.reanchor)
    return undefined;
  if (
    context.approvals.changes.some(
      (a) => a.action === 'reanchors' && subjectMatches(a.subject, change),
    )
  )
    return undefined;
  const attribute = context.anchorAttribute ?? 'employeeId';
  const move = anchorMove(change, attribute);
  const upn = change.user.userPrincipalName;
  return {
    code: 'needs-approval',
    message:
      `needs approval: re-anchoring ${upn} (${attribute} ${move ? describeAnchorMove(move.before, move.after) : 'rewritten'}) moves an identity: the account would belong to another key from now on` +
      (context.keyFormat
        ? `; the key format of the source changed (${context.keyFormat.finding})`
        : '') +
      `; fix the source, or approve this plan (\`plans: [${offered(context).slice(0, 12)}]\`) or this change (\`- { action: reanchors, subject: ${upn} }\`) in approvals.yaml`,
  };
}

function approvalVerdict(change: Change, context: SafetyContext): Verdict | undefined {
  const reanchor = reanchorVerdict(change, context);
  if (reanchor) return reanchor;
  const action = THRESHOLD_ACTION_OF[change.kind];
  if (action === undefined) return undefined;
  const approved = context.approvals.changes.some(
    (a) => a.action === action && subjectMatches(a.subject, change),
  );
  if (approved) return undefined;
  if (change.kind === 'adoptUser' && change.matchedBy !== 'anchor') {
    return {
      code: 'needs-approval',
      message: `needs approval: adopting the existing account ${change.user.userPrincipalName}, found by ${change.matchedBy ?? 'a soft match'}, could hand someone else's account to this person (P6); approve it in approvals.yaml with \`- { action: adoptions, subject: ${change.user.userPrincipalName} }\``,
    };
  }
  if (change.kind === 'adoptUser' && !context.adminDetection) {
    return {
      code: 'needs-approval',
      message: `needs approval: the tenant read could not tell whether ${change.user.userPrincipalName} holds a directory role; approve adopting it in approvals.yaml`,
    };
  }
  if (context.spec.requireApproval.includes(action)) {
    return {
      code: 'needs-approval',
      message: `needs approval: the config requires approval for ${action}; approve this plan (\`plans: [${offered(context).slice(0, 12)}]\`) or this change (\`- { action: ${action}, subject: ${subjectOf(change).userPrincipalName} }\`) in approvals.yaml`,
    };
  }
  return undefined;
}

function subjectMatches(subject: string, change: Change): boolean {
  const s = subject.toLowerCase();
  const ref = subjectOf(change);
  return (
    s === ref.userPrincipalName.toLowerCase() ||
    (ref.id !== undefined && s === ref.id.toLowerCase()) ||
    change.provenance.some((p) => s === `${p.source}:${p.key}`.toLowerCase())
  );
}

function unidentifiedPeopleVerdict(context: SafetyContext): Verdict | undefined {
  const n = context.heldWithoutAnchor.length;
  if (n === 0) return undefined;
  return {
    code: 'unidentified-people',
    message: `blocked: ${n} ${n === 1 ? 'person' : 'people'} in the sources could not be identified (${context.heldWithoutAnchor.slice(0, 3).join(', ')}${n > 3 ? ', ...' : ''}); fix their records first`,
  };
}

function boundOverrides(
  context: SafetyContext,
  warnings: PlanWarning[],
): Partial<Record<ThresholdAction, number>> {
  const o = context.overrides;
  if (!o) return {};
  // A prefix of at least 12 characters (as plans print it) binds as well as the whole hash.
  if (!bindsTo(context, o.fingerprint)) {
    warnings.push({
      code: 'override.not-bound',
      message: `the threshold override was given for plan ${o.fingerprint}, but this plan is ${offered(context).slice(0, 12)}; it is ignored`,
    });
    return {};
  }
  return { ...o.allow };
}

/**
 * Whether an approval or override given for `prefix` (at least 12 characters, as plans print
 * it) binds to this plan: its fingerprint, or the fingerprint of what it holds.
 */
function bindsTo(context: SafetyContext, prefix: string): boolean {
  if (prefix.length < 12) return false;
  return (
    context.fingerprint.startsWith(prefix) ||
    (context.releaseFingerprint?.startsWith(prefix) ?? false)
  );
}

/** The fingerprint the messages offer to approve or override with. */
function offered(context: SafetyContext): string {
  return context.releaseFingerprint ?? context.fingerprint;
}

/** A few before/after values, so a reviewer sees what a mass update would do (M2). */
function sample(list: readonly Change[]): string {
  const examples: string[] = [];
  for (const change of list.slice(0, 3)) {
    if (change.kind === 'updateUser' || change.kind === 'adoptUser') {
      const first = change.set[0];
      if (first)
        examples.push(
          `${change.user.userPrincipalName} ${first.attribute}: ${show(first.before)} -> ${show(first.after)}`,
        );
    } else if (change.kind === 'removeMembers') {
      examples.push(
        `${change.members
          .slice(0, 3)
          .map((m) => m.userPrincipalName)
          .join(', ')} from ${change.group.displayName}`,
      );
    } else {
      examples.push(subjectOf(change).userPrincipalName);
    }
  }
  return examples.length > 0 ? `, e.g. ${examples.join('; ')}` : '';
}

function show(value: AttributeValue): string {
  return value === null ? '(none)' : JSON.stringify(value);
}

function orderLike(order: readonly Change[], blocked: BlockedChange[]): BlockedChange[] {
  const index = new Map(order.map((c, i) => [c.id, i]));
  // A held part of a split change sorts with the change it came from.
  const at = (b: BlockedChange) =>
    index.get(b.change.id) ?? index.get(b.change.id.replace(HELD_PART_SUFFIX, '')) ?? 0;
  return blocked.sort((a, b) => at(a) - at(b));
}
