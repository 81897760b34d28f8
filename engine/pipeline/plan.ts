/**
 * The pure planning pipeline: source snapshots + tenant state -> Plan. Every stage is a function
 * over plain data; this module only wires them in the order design.md draws.
 */
import { ConfigError } from '../errors.js';
import type {
  Change,
  Plan,
  PlanIssue,
  PlanWarning,
  SourceSummary,
  ThresholdOverrides,
} from '../model/plan.js';
import type { Expression } from '../expr/jsonata.js';
import { PLAN_FORMAT_VERSION } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import type { SyncSpec } from '../model/spec.js';
import { NO_APPROVALS } from '../model/spec.js';
import type { TenantReadRequest, TenantState, TenantUser } from '../model/tenant.js';
import { accessChanges } from './access.js';
import { keyFormatCheck } from './anchors.js';
import { checkDomains, writesDomainAttributes } from './domains.js';
import { diffUsers, orderChanges, restorableByAnchor } from './diff.js';
import { heldFingerprint, planFingerprint, tenantDigest } from './fingerprint.js';
import { joinSources } from './join.js';
import type { JoinResult } from './join.js';
import { lintFieldReferences } from './lint.js';
import { mapPeople } from './map.js';
import { attributeTypesOf, extensionAppsOf } from './attribute-types.js';
import type { MapResult, MappingTenantView } from './map.js';
import { createUniquenessContext } from '../expr/functions.js';
import { identifierKey } from '../expr/normalize.js';
import { addressesOf } from './addresses.js';
import { checkMailConflicts } from './mail-conflicts.js';
import { matchUsers } from './match.js';
import { holdForeignClaims } from './foreign.js';
import type { MatchResult } from './match.js';
import { classifyTenant, ignoredUsers } from './ownership.js';
import type { ClassifiedTenant } from './ownership.js';
import { checkSafety } from './safety.js';
import type { SafetyContext, SafetyResult } from './safety.js';
import { checkProtectLift } from './protect-lift.js';
import { clockFindings, stageClock } from './clock.js';
import { foldRepeatedRecords } from './repeats.js';
import { withoutCreates } from './update-only.js';
import { markPendingCreates, onboardingChanges } from './onboarding.js';
import {
  brakeWritebacks,
  candidateWritebacks,
  withWritebacks,
  writebackAttributes,
} from './writeback.js';
import { isGroupChange } from '../model/plan.js';
import type { ProtectBaseline } from './protect-lift.js';

/** Attributes every tenant read selects, whatever the config maps. */
const BASE_USER_ATTRIBUTES = [
  'userPrincipalName',
  'displayName',
  'accountEnabled',
  'mail',
  'userType',
  'onPremisesSyncEnabled',
];

export function tenantReadRequest(spec: SyncSpec): TenantReadRequest {
  const deprovision = spec.users.deprovision;
  const attributes = new Set([
    ...BASE_USER_ATTRIBUTES,
    ...Object.keys(spec.users.attributes),
    'mailNickname',
    'usageLocation',
    spec.users.anchorAttribute,
    spec.marker.attribute,
    // Read with every action: an account the mapping disables is staged by it (lifecycle.ts).
    deprovision.stateAttribute,
    ...(readsProxyAddresses(spec) ? ['proxyAddresses'] : []),
    ...(spec.users.onboarding ? [spec.users.onboarding.stateAttribute] : []),
    ...writebackAttributes(spec.writeback),
  ]);
  const groupLicensing = spec.licenses.some((l) => l.assignBy === 'group');
  const extensionApps = extensionAppsOf(Object.keys(spec.users.attributes));
  // Existing groups named by id are read on their own (`licensedGroups`), not by the prefix.
  const licensed = spec.licenses.length > 0 || spec.groups.some((g) => g.licenses.length > 0);
  return {
    userAttributes: [...attributes],
    ...(licensed ? { licenses: true } : {}),
    ...(spec.users.manager ? { manager: true } : {}),
    ...(writesDomainAttributes(spec) ? { domains: true } : {}),
    ...(spec.groups.length > 0 || groupLicensing ? { groupPrefix: spec.marker.groupPrefix } : {}),
    ...(spec.groups.some((g) => g.owners.length > 0) ? { groupOwners: true } : {}),
    ...(spec.licenses.some((l) => l.group !== undefined)
      ? {
          licensedGroups: [
            ...new Set(spec.licenses.flatMap((l) => (l.group === undefined ? [] : [l.group]))),
          ].sort(),
        }
      : {}),
    ...(deprovision.action === 'delete' ||
    deprovision.deleteAfterDays !== undefined ||
    usesSelectUnique(spec) ||
    typeof deprovision.whenDisabled?.deleteAfterDays === 'number'
      ? { deletedUsers: true }
      : {}),
    ...(deprovision.revokeSessions ? { signInSessions: true } : {}),
    ...(extensionApps.length > 0 ? { extensionApps } : {}),
    ...(spec.users.onboarding && spec.users.create !== false
      ? {
          onboarding: {
            credential: spec.users.onboarding.credential,
            ...(spec.users.onboarding.delivery.mailbox
              ? { mailbox: spec.users.onboarding.delivery.mailbox }
              : {}),
          },
        }
      : {}),
  };
}

/** Whether an attribute's mapping calls `$selectUnique` (which must see the recycle bin). */
function usesSelectUnique(spec: SyncSpec): boolean {
  return Object.values(spec.users.attributes).some((e) => /\$selectUnique\s*\(/.test(e.text));
}

/**
 * proxyAddresses are read when mapping hands out identifiers (`$selectUnique`) or writes `mail`:
 * an address another object holds is taken, and writing it would be refused (P12, P14).
 */
function readsProxyAddresses(spec: SyncSpec): boolean {
  return usesSelectUnique(spec) || 'mail' in spec.users.attributes;
}

/**
 * The tenant as mapping sees it: every identifier an account holds, for `$selectUnique`, and
 * each person's own account by anchor (active, or this config's in the recycle bin), which never
 * blocks its own name and whose current values `$selectUnique` keeps.
 */
export function mappingView(tenant: TenantState, spec: SyncSpec): MappingTenantView {
  const byAnchor = new Map<string, string | null>();
  for (const u of tenant.users) {
    const value = u.attributes[spec.users.anchorAttribute];
    const anchor = typeof value === 'string' ? value.trim() : '';
    // null: two accounts claim the anchor, so neither is the person's own.
    if (anchor !== '') byAnchor.set(anchor, byAnchor.has(anchor) ? null : u.id);
  }
  // A returning leaver's account in the recycle bin is theirs unless an active one is.
  for (const [anchor, u] of restorableByAnchor(tenant.deletedUsers, spec)) {
    if (!byAnchor.has(anchor)) byAnchor.set(anchor, u.id);
  }
  let byId: Map<string, TenantUser> | undefined;
  return {
    accountIdByAnchor: (anchor) => byAnchor.get(anchor) ?? undefined,
    uniqueness: createUniquenessContext(
      () => identifierHolders(tenant),
      () => new Map(tenant.users.map((u) => [identifierKey(u.userPrincipalName), u.id])),
    ),
    currentValue(accountId, attribute) {
      byId ??= new Map([...(tenant.deletedUsers ?? []), ...tenant.users].map((u) => [u.id, u]));
      const account = byId.get(accountId);
      if (!account) return undefined;
      const value =
        attribute === 'userPrincipalName'
          ? account.userPrincipalName
          : account.attributes[attribute];
      return typeof value === 'string' && value !== '' ? value : undefined;
    },
  };
}

/**
 * Every identifier an account holds, by key, with its holders: userPrincipalName, mail and
 * `smtp:` proxy addresses (any case) of active accounts and of those in the recycle bin (a
 * restore takes its names back, so they are not free to hand out; P12).
 */
function identifierHolders(tenant: TenantState): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  const add = (identifier: string, id: string): void => {
    const key = identifierKey(identifier);
    const ids = holders.get(key);
    if (ids === undefined) holders.set(key, [id]);
    else if (!ids.includes(id)) ids.push(id);
  };
  for (const u of [...tenant.users, ...(tenant.deletedUsers ?? [])]) {
    add(u.userPrincipalName, u.id);
    for (const { address } of addressesOf(u)) add(address, u.id);
  }
  return holders;
}

/** Below this many people, identical values are ordinary (a small team, one office). */
const SAME_FOR_EVERYONE_MIN_PEOPLE = 10;

/**
 * A mapping that reads source fields but gives every person the same value usually reads the
 * wrong thing: `status = 'Active'` against `active`, a renamed column lint could not see (M1).
 * Constant mappings (`companyName: "'Contoso'"`) read no field and are not reported.
 */
export function sameForEveryone(spec: SyncSpec, mapped: MapResult): PlanWarning[] {
  const users = mapped.desired.users;
  const warnings: PlanWarning[] = [];
  const everyone = users.length + mapped.desired.outOfScope.length;
  if (
    spec.users.scope &&
    spec.users.scope.fieldReferences.length > 0 &&
    users.length === 0 &&
    everyone >= SAME_FOR_EVERYONE_MIN_PEOPLE
  ) {
    warnings.push({
      code: 'map.same-for-everyone',
      message: `users.scope is false for all ${everyone} people: check the fields it reads (${fieldsOf(spec.users.scope)})`,
      subject: 'users.scope',
    });
  }
  if (users.length < SAME_FOR_EVERYONE_MIN_PEOPLE) return warnings;
  for (const [attribute, expression] of Object.entries(spec.users.attributes)) {
    if (expression.fieldReferences.length === 0) continue;
    const first = JSON.stringify(users[0]?.attributes[attribute] ?? null);
    if (users.every((u) => JSON.stringify(u.attributes[attribute] ?? null) === first)) {
      warnings.push({
        code: 'map.same-for-everyone',
        message: `${expression.configPath} gives ${first} for all ${users.length} people: check the fields it reads (${fieldsOf(expression)})`,
        subject: expression.configPath,
      });
    }
  }
  return warnings;
}

function fieldsOf(expression: Expression): string {
  return [
    ...new Set(
      expression.fieldReferences.map((r) => (r.variable ? `$${r.variable}.${r.field}` : r.field)),
    ),
  ].join(', ');
}

export interface PlanOptions {
  /** Threshold overrides; they apply only if their fingerprint is this plan's (A5). */
  readonly overrides?: ThresholdOverrides;
  /**
   * The local clock when the plan is made (ms since the epoch). Default: now. Grace periods
   * count in Graph's time: this corrected by the skew the tenant read measured (clock.ts).
   */
  readonly now?: number;
  /**
   * The protect entries in effect before this config change (P2): every change to an account
   * this config stops protecting is blocked. Absent: the check does not run (`protectLift`).
   */
  readonly protectBaseline?: ProtectBaseline;
}

export async function computePlan(
  spec: SyncSpec,
  snapshots: readonly SourceSnapshot[],
  tenant: TenantState,
  options: PlanOptions = {},
): Promise<Plan> {
  return (await computePlanWithStages(spec, snapshots, tenant, options)).plan;
}

/** What each stage produced, for `explain`: the plan is built from exactly these. */
export interface PlanStages {
  readonly joined: JoinResult;
  readonly mapped: MapResult;
  readonly matched: MatchResult;
  readonly classified: ClassifiedTenant;
}

export async function computePlanWithStages(
  spec: SyncSpec,
  read: readonly SourceSnapshot[],
  tenant: TenantState,
  options: PlanOptions = {},
): Promise<{ plan: Plan; stages: PlanStages }> {
  // A record read twice makes its source incomplete, whatever the kind (S16, repeats.ts).
  const snapshots = read.map(foldRepeatedRecords);
  const lint = lintFieldReferences(spec, snapshots);
  if (lint.some((d) => d.severity === 'error')) throw new ConfigError(lint);

  const joined = await joinSources(
    snapshots,
    spec.primarySource,
    spec.links,
    spec.safety.minSourceRatio,
  );
  const view = { ...mappingView(tenant, spec), attributeTypes: attributeTypesOf(spec, tenant) };
  const mapped = await mapPeople(joined.people, joined.held, spec, view);
  const classified = classifyTenant(tenant, spec.marker, spec.safety);
  const matched = matchUsers(mapped.desired.users, tenant.users, spec);
  const people = holdUnsafePeople(spec, tenant, classified, mapped, matched);
  const desired = people.desired;
  const clock = stageClock(tenant.clock, options.now ?? Date.now(), spec.safety.maxClockSkewMs);
  const provisioned = withoutCreates(spec, people.pairs);
  const diff = diffUsers(provisioned.pairs, desired, classified, spec, {
    now: clock.now,
    clockTrusted: clock.trusted,
    ...(tenant.deletedUsers ? { deletedUsers: tenant.deletedUsers } : {}),
  });
  const access = accessChanges({
    spec,
    users: desired.users,
    accounts: diff.accounts,
    leavers: diff.leavers,
    ownership: classified.ownership,
    tenant,
    heldPeople: desired.heldAnchors.length + desired.heldWithoutAnchor.length,
  });
  const onboarding = onboardingChanges({
    spec,
    users: desired.users,
    accounts: diff.accounts,
    changes: access.changes,
    tenant,
    now: clock.now,
  });
  const allChanges = orderChanges([
    ...markPendingCreates(diff.changes, onboarding.marked, spec.users.onboarding?.stateAttribute),
    ...access.changes,
    ...onboarding.changes,
  ]);

  const issues: PlanIssue[] = [];
  for (const snapshot of snapshots) {
    for (const issue of snapshot.issues) issues.push({ ...issue, source: snapshot.name });
  }
  for (const issue of [...joined.issues, ...mapped.issues])
    issues.push({ ...issue, source: spec.primarySource });
  issues.push(...access.issues, ...people.issues, ...onboarding.issues);
  const clockFound = clockFindings(clock, spec, diff.clockHeld);
  issues.push(...clockFound.issues, ...people.matchIssues);

  const sources = snapshots.map(summaryOf);

  // The fingerprint covers every change the diff found, blocked or not, so an override bound
  // to it (and an approval, later) names exactly this set of changes against this tenant.
  const tenantDigestValue = tenantDigest(tenant, spec.marker, allChanges);
  const lift = checkProtectLift(tenant, classified, options.protectBaseline);
  const writebackCandidates = spec.writeback
    ? candidateWritebacks({
        specs: spec.writeback,
        snapshots,
        pairs: provisioned.pairs,
        managed: new Set(
          [...classified.ownership].flatMap(([id, o]) => (o === 'managed' ? [id] : [])),
        ),
        heldAnchors: new Set(desired.heldAnchors),
        changes: allChanges.flatMap((c) => (isGroupChange(c) ? [] : [c])),
      })
    : [];
  const fingerprint = withWritebacks(
    lift.bind(planFingerprint(spec.configDigest, tenantDigestValue, allChanges)),
    writebackCandidates,
  );
  const managedUsers = [...classified.ownership.values()].filter((o) => o === 'managed').length;
  const keyFormat = keyFormatEvidence(spec, tenant, classified, mapped, snapshots, allChanges);
  const safetyContext: SafetyContext = {
    sources,
    primarySource: spec.primarySource,
    heldWithoutAnchor: desired.heldWithoutAnchor,
    managedUsers,
    activeManagedUsers: tenant.users.filter(
      (u) => classified.ownership.get(u.id) === 'managed' && u.attributes.accountEnabled === true,
    ).length,
    spec: spec.safety,
    fingerprint,
    ...(options.overrides ? { overrides: options.overrides } : {}),
    approvals: spec.approvals,
    adminDetection: tenant.privileged !== undefined,
    seatShortfall: access.seatShortfall,
    ...(lift.lifted ? { protectLifted: lift.lifted } : {}),
    ...(onboarding.held.size > 0 ? { onboardingHeld: onboarding.held } : {}),
    ...(keyFormat ? { keyFormat } : {}),
    anchorAttribute: spec.users.anchorAttribute,
    ...(joined.linkCoverage ? { linkCoverage: joined.linkCoverage } : {}),
    displayNames: new Map(
      tenant.users.flatMap((u) =>
        typeof u.attributes.displayName === 'string'
          ? [[u.id, u.attributes.displayName] as const]
          : [],
      ),
    ),
  };
  const safe = checkSafetyWithRelease(spec, allChanges, tenant, safetyContext);
  const release = safe.releaseFingerprint;
  const writebacks = spec.writeback
    ? brakeWritebacks(writebackCandidates, {
        sources,
        threshold: spec.safety.thresholds.writebacks,
        managedUsers,
        fingerprint,
        ...(options.overrides ? { overrides: options.overrides } : {}),
        approvals: spec.approvals,
      })
    : undefined;
  const overridesUsed = {
    ...safe.overridesUsed,
    ...(writebacks?.overrideUsed === undefined ? {} : { writebacks: writebacks.overrideUsed }),
  };

  const plan: Plan = {
    formatVersion: PLAN_FORMAT_VERSION,
    fingerprint,
    configDigest: spec.configDigest,
    tenantDigest: tenantDigestValue,
    sources,
    changes: safe.changes,
    blocked: safe.blocked,
    ...(release ? { releaseFingerprint: release } : {}),
    ...(spec.safety.onBlocked === 'hold-plan' ? { onBlocked: 'hold-plan' as const } : {}),
    ...(provisioned.notProvisioned.length > 0
      ? { notProvisioned: provisioned.notProvisioned }
      : {}),
    warnings: [
      ...diff.warnings,
      ...access.warnings,
      ...people.warnings,
      ...sameForEveryone(spec, mapped),
      ...legacyWarnings(classified, diff.touched),
      ...safe.warnings,
      ...clockFound.warnings,
      ...onboarding.warnings,
    ],
    issues,
    ignored: ignoredUsers(classified, diff.touched),
    managedUsers,
    ...(access.seats.length > 0 ? { licenses: access.seats } : {}),
    ...(Object.keys(overridesUsed).length > 0 ? { overrides: overridesUsed } : {}),
    protectLift: lift.check,
    ...(writebacks ? { writebacks: writebacks.section } : {}),
  };
  return { plan, stages: { joined, mapped, matched, classified } };
}

/**
 * The checks that hold a person before the diff, in order: another config's account (P16), a
 * UPN or mail outside the verified domains, a mail two people or another account hold (P14),
 * and the match's own problems. Each held person's anchor joins `heldAnchors`, so nothing of
 * theirs is created, changed or deprovisioned this run.
 */
function holdUnsafePeople(
  spec: SyncSpec,
  tenant: TenantState,
  classified: ClassifiedTenant,
  mapped: MapResult,
  matched: MatchResult,
): {
  pairs: MatchResult['pairs'];
  desired: MapResult['desired'];
  /** The domain and mail checks' issues. */
  issues: PlanIssue[];
  /** The match's and the P16 check's problems, one issue per person. */
  matchIssues: PlanIssue[];
  warnings: PlanWarning[];
} {
  const foreign = holdForeignClaims(matched.pairs, classified, spec);
  const domains = checkDomains({
    spec,
    pairs: foreign.pairs,
    tenant,
    ownership: classified.ownership,
  });
  const mails = checkMailConflicts({
    spec,
    pairs: domains.pairs,
    tenant,
    ownership: classified.ownership,
  });
  const desired = {
    ...mapped.desired,
    heldAnchors: [
      ...mapped.desired.heldAnchors,
      ...matched.problems.flatMap((p) => (p.alsoHeld ? [p.anchor, p.alsoHeld] : [p.anchor])),
      ...domains.heldAnchors,
      ...mails.heldAnchors,
      ...foreign.problems.map((p) => p.anchor),
    ],
  };
  const issue = (code: string, p: { personKey: string; message: string }): PlanIssue => ({
    severity: 'error',
    code,
    message: `${p.personKey}: ${p.message}`,
    source: spec.primarySource,
    key: p.personKey,
  });
  return {
    pairs: mails.pairs,
    desired,
    issues: [...domains.issues, ...mails.issues],
    matchIssues: [
      ...matched.problems.map((p) => issue(p.code ?? 'match.ambiguous', p)),
      ...foreign.problems.map((p) => issue('match.other-config', p)),
    ],
    warnings: [...domains.warnings],
  };
}

function summaryOf(s: SourceSnapshot): SourceSummary {
  return {
    name: s.name,
    kind: s.kind,
    status: s.status,
    records: s.records.length,
    errors: s.issues.filter((i) => i.severity === 'error').length,
    warnings: s.issues.filter((i) => i.severity === 'warning').length,
  };
}

/** What the key-format check (anchors.ts, P9) compares: managed anchors, people, source keys. */
function keyFormatEvidence(
  spec: SyncSpec,
  tenant: TenantState,
  classified: ClassifiedTenant,
  mapped: MapResult,
  snapshots: readonly SourceSnapshot[],
  changes: readonly Change[],
): ReturnType<typeof keyFormatCheck> {
  return keyFormatCheck({
    anchorAttribute: spec.users.anchorAttribute,
    accounts: tenant.users.flatMap((u) => {
      const anchor = u.attributes[spec.users.anchorAttribute];
      return classified.ownership.get(u.id) === 'managed' && typeof anchor === 'string'
        ? anchor.trim() === ''
          ? []
          : [{ id: u.id, anchor: anchor.trim() }]
        : [];
    }),
    personAnchors: [
      ...mapped.desired.users.map((u) => u.anchor),
      ...mapped.desired.outOfScope.map((p) => p.anchor),
      ...mapped.desired.heldAnchors,
    ],
    sourceKeys:
      snapshots.find((s) => s.name === spec.primarySource)?.records.map((r) => r.key) ?? [],
    changes,
  });
}

/**
 * Unclaimed legacy-marked accounts (P16 migration) are left alone, never deprovisioned: one
 * warning says how many and what the config must say to take them over.
 */
function legacyWarnings(classified: ClassifiedTenant, touched: ReadonlySet<string>): PlanWarning[] {
  const legacy = classified.users.filter(
    (u) => classified.ownership.get(u.id) === 'legacy-marker' && !touched.has(u.id),
  );
  if (legacy.length === 0) return [];
  return [
    {
      code: 'marker.legacy',
      message: `${legacy.length} account(s) carry the legacy marker "${classified.markers?.get(legacy[0]?.id ?? '') ?? ''}" and no person of this config matches them by anchor: left alone, never deprovisioned. If this config is the only one on the tenant, set \`target.marker.claimLegacy: true\` to manage (and deprovision) them`,
      subject: 'target.marker',
    },
  ];
}

/**
 * The safety checks, and the fingerprint of what the plan holds before any approval or
 * override (heldFingerprint): the checks run first without approvals and overrides, and the
 * changes a check held on its own are what an approval of the held part names. Approvals and
 * overrides only ever release, so when that first pass holds nothing and no override was given
 * (most plans), it is the result and the checks do not run twice.
 */
function checkSafetyWithRelease(
  spec: SyncSpec,
  changes: readonly Change[],
  tenant: TenantState,
  context: SafetyContext,
): SafetyResult & { readonly releaseFingerprint?: string } {
  const { overrides, ...rest } = context;
  const gated = checkSafety(changes, { ...rest, approvals: NO_APPROVALS });
  const roots = gated.blocked.filter((b) => b.code !== 'requires-blocked').map((b) => b.change);
  if (roots.length === 0 && overrides === undefined) return gated;
  const release =
    roots.length === 0 ? undefined : heldFingerprint(spec.configDigest, roots, tenant);
  const safe = checkSafety(changes, {
    ...context,
    ...(release ? { releaseFingerprint: release } : {}),
  });
  return release ? { ...safe, releaseFingerprint: release } : safe;
}
