/**
 * Licenses: SKUs and plans resolved against `subscribedSkus`, group-based licenses (the groups of
 * `assignBy: group` rules, and a group rule's own `licenses`), direct assignments and their
 * removal, and the seat check (G9): every change that takes or frees a seat is counted per SKU,
 * and the assignments of a SKU the tenant has too few seats for are blocked. A rule that does
 * not resolve assigns and removes nothing. A disabled account gets no license (P11); leavers
 * and mapping-disabled accounts past `removeAccessAfterDays` lose the ones the rules gave them.
 */
import { groupSlug } from '../expr/normalize.js';
import type { DesiredUser } from '../model/desired.js';
import type { Change, LicenseRef, LicenseSeats, PlanIssue } from '../model/plan.js';
import type { LicenseGrant, SyncSpec } from '../model/spec.js';
import type { TenantLicense, TenantSku, TenantState, TenantUser } from '../model/tenant.js';
import type { AccessContext, AccountRef, AddToGroup, Findings, GroupAt } from './access-model.js';
import { isDisabled, memberKey, userRefOf } from './access-model.js';
import { compareText } from './compare.js';
import type { MemberChanges } from './groups.js';

export interface ResolvedSkus {
  /** License rules whose SKU and plans resolved, by rule index. */
  readonly rules: ReadonlyMap<number, LicenseRef>;
  license(grant: LicenseGrant, configPath: string): LicenseRef | undefined;
  byId(skuId: string, disabledPlanIds: readonly string[]): LicenseRef;
  ruleOf(skuId: string): string | undefined;
}

/**
 * Part numbers and plan names to ids, from `subscribedSkus`. A SKU or plan the tenant does not
 * have is a plan error naming the rule (once per rule); the rule then assigns and removes nothing.
 */
export function resolveSkus(
  spec: SyncSpec,
  tenant: TenantState,
  issues: PlanIssue[],
): ResolvedSkus {
  const all: readonly TenantSku[] = tenant.skus ?? [];
  const byPart = new Map(all.map((s) => [s.skuPartNumber.toUpperCase(), s]));
  const reported = new Set<string>();
  const problem = (configPath: string, message: string): undefined => {
    if (reported.has(`${configPath}:${message}`)) return undefined;
    reported.add(`${configPath}:${message}`);
    issues.push({
      severity: 'error',
      code: 'license.unknown',
      message: `${configPath}: ${message}; the rule assigns and removes nothing until it is fixed`,
      source: spec.primarySource,
    });
    return undefined;
  };
  const license = (grant: LicenseGrant, configPath: string): LicenseRef | undefined => {
    const sku = byPart.get(grant.sku.toUpperCase());
    if (!sku) {
      return problem(
        configPath,
        `the tenant has no SKU ${grant.sku} (it has ${all.map((s) => s.skuPartNumber).join(', ') || 'none'})`,
      );
    }
    const planId = (name: string) =>
      sku.servicePlans.find((p) => p.name.toUpperCase() === name.toUpperCase())?.id;
    const missing = grant.disabledPlans.find((name) => planId(name) === undefined);
    if (missing !== undefined) {
      return problem(
        configPath,
        `${sku.skuPartNumber} has no service plan ${missing} (it has ${sku.servicePlans.map((p) => p.name).join(', ')})`,
      );
    }
    const names = [...grant.disabledPlans].sort(compareText);
    return {
      skuPartNumber: sku.skuPartNumber,
      skuId: sku.skuId,
      disabledPlans: names,
      disabledPlanIds: names.map((n) => planId(n) ?? n),
    };
  };
  const rules = new Map<number, LicenseRef>();
  const ruleBySku = new Map<string, string>();
  spec.licenses.forEach((rule, index) => {
    const resolved = license(rule, rule.configPath);
    if (!resolved) return;
    rules.set(index, resolved);
    ruleBySku.set(resolved.skuId, rule.configPath);
  });
  return {
    rules,
    license,
    byId(skuId, disabledPlanIds) {
      const sku = all.find((s) => s.skuId === skuId);
      const names = disabledPlanIds.map(
        (id) => sku?.servicePlans.find((p) => p.id === id)?.name ?? id,
      );
      return {
        skuPartNumber: sku?.skuPartNumber ?? skuId,
        skuId,
        disabledPlans: names,
        disabledPlanIds: [...disabledPlanIds],
      };
    },
    ruleOf: (skuId) => ruleBySku.get(skuId),
  };
}

/** What license rules that did not resolve leave alone. */
export interface Unresolved {
  /** Their groups (lower-case uniqueName): not emptied as orphans. */
  readonly groups: ReadonlySet<string>;
  /** Their SKUs: not taken from anyone directly. */
  readonly skuIds: ReadonlySet<string>;
}

export function unresolvedLicenseRules(
  spec: SyncSpec,
  tenant: TenantState,
  skus: ResolvedSkus,
): Unresolved {
  const groups = new Set<string>();
  const skuIds = new Set<string>();
  spec.licenses.forEach((rule, index) => {
    if (skus.rules.has(index)) return;
    for (const s of tenant.skus ?? []) {
      if (s.skuPartNumber.toUpperCase() === rule.sku.toUpperCase()) skuIds.add(s.skuId);
    }
    if (rule.assignBy === 'group') {
      groups.add(licenseGroupName(spec, rule.sku).toLowerCase());
    }
  });
  return { groups, skuIds };
}

function licenseGroupName(spec: SyncSpec, sku: string): string {
  return `${spec.marker.groupPrefix}license-${groupSlug(sku)}`;
}

/** The group of each resolved `assignBy: group` rule, holding the SKU, with its people. */
export function licenseGroups(
  spec: SyncSpec,
  skus: ResolvedSkus,
  ordered: readonly DesiredUser[],
  addToGroup: AddToGroup,
): void {
  spec.licenses.forEach((rule, index) => {
    if (rule.assignBy !== 'group' || !skus.rules.has(index)) return;
    const key = `license-${groupSlug(rule.sku)}`;
    const make = () => ({
      uniqueName: licenseGroupName(spec, rule.sku),
      displayName: `License - ${rule.sku}`,
      description: `Members get ${rule.sku} (group-based licensing, managed by entrasync ${rule.configPath})`,
      type: 'security' as const,
      owners: [],
      licenses: [{ sku: rule.sku, disabledPlans: rule.disabledPlans }],
      configPath: rule.configPath,
    });
    addToGroup(key, make);
    for (const user of ordered) if (user.licenseRules?.includes(index)) addToGroup(key, make, user);
  });
}

/** A group's licenses as the rule gives them (resolved), and the change that adds the new ones. */
export interface GroupLicenses {
  readonly grants: readonly LicenseRef[];
  readonly toGrant: readonly LicenseRef[];
  readonly grantId: string;
}

/** The licenses a managed group gains and loses (group-based licensing). */
export function groupLicenseChanges(
  out: Findings,
  group: GroupAt,
  skus: ResolvedSkus,
): GroupLicenses {
  const { lower, desired, existing, ref } = group;
  const base = { reason: 'license-rule' as const, rule: desired.configPath };
  const grants = desired.licenses.flatMap((g) => {
    const license = skus.license(g, desired.configPath);
    return license ? [license] : [];
  });
  const current = existing?.licenses ?? [];
  const toGrant = grants.filter(
    (l) =>
      !current.some((c) => c.skuId === l.skuId && samePlans(c.disabledPlans, l.disabledPlanIds)),
  );
  const grantId = `assignGroupLicenses:${lower}`;
  if (toGrant.length > 0) {
    out.changes.push({
      ...base,
      id: grantId,
      kind: 'assignGroupLicenses',
      message: `license group ${desired.displayName}: ${toGrant.map((l) => l.skuPartNumber).join(', ')}`,
      group: ref,
      provenance: desired.provenance,
      licenses: toGrant,
      requires: group.requires,
    });
  }
  // A grant that did not resolve (license.unknown) revokes nothing.
  const toRevoke =
    grants.length < desired.licenses.length
      ? []
      : current.filter((c) => !grants.some((g) => g.skuId === c.skuId));
  if (toRevoke.length > 0 && existing) {
    out.changes.push({
      ...base,
      id: `removeGroupLicenses:${lower}`,
      kind: 'removeGroupLicenses',
      message: `remove ${toRevoke.length} license(s) from group ${desired.displayName}`,
      group: ref,
      provenance: desired.provenance,
      licenses: toRevoke.map((c) => skus.byId(c.skuId, c.disabledPlans)),
    });
  }
  return { grants, toGrant, grantId };
}

function samePlans(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].map((p) => p.toLowerCase()).sort();
  const y = [...b].map((p) => p.toLowerCase()).sort();
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

/**
 * The seats each SKU's changes take and free, by member key (an account counts once per SKU),
 * and which changes take one.
 */
export interface SeatLedger {
  note(
    skuId: string,
    changeId: string,
    adding: readonly string[],
    removing: readonly string[],
  ): void;
  /** Whether an existing account already holds the SKU, directly or through a group. */
  holds(account: AccountRef, skuId: string): boolean;
  readonly delta: ReadonlyMap<
    string,
    { readonly adding: ReadonlySet<string>; readonly removing: ReadonlySet<string> }
  >;
  /** SKU -> the changes that take a seat of it. */
  readonly takers: ReadonlyMap<string, ReadonlySet<string>>;
}

export function seatLedger(accountById: (id: string) => TenantUser | undefined): SeatLedger {
  const delta = new Map<string, { adding: Set<string>; removing: Set<string> }>();
  const takers = new Map<string, Set<string>>();
  return {
    delta,
    takers,
    note(skuId, changeId, adding, removing) {
      let d = delta.get(skuId);
      if (!d) delta.set(skuId, (d = { adding: new Set(), removing: new Set() }));
      for (const a of adding) d.adding.add(a);
      for (const r of removing) d.removing.add(r);
      if (adding.length === 0) return;
      let ids = takers.get(skuId);
      if (!ids) takers.set(skuId, (ids = new Set()));
      ids.add(changeId);
    },
    holds: (account, skuId) =>
      account.id !== undefined &&
      (accountById(account.id)?.licenses ?? []).some((l) => l.skuId === skuId),
  };
}

/**
 * The seats a group's changes take and free: a license newly put on an existing group reaches
 * the members who stay in it at once; members added and removed take and free the group's.
 */
export function noteGroupSeats(
  ledger: SeatLedger,
  group: GroupAt,
  licenses: GroupLicenses,
  members: MemberChanges,
  usersById: ReadonlyMap<string, TenantUser>,
): void {
  const { existing } = group;
  if (existing && licenses.toGrant.length > 0) {
    const leaving = new Set(members.removes.map((m) => m.id));
    const staying = existing.memberIds.flatMap((id): AccountRef[] => {
      const user = usersById.get(id);
      return user && !leaving.has(id) ? [{ id, userPrincipalName: user.userPrincipalName }] : [];
    });
    for (const license of licenses.toGrant) {
      const keys = staying.filter((m) => !ledger.holds(m, license.skuId)).map(memberKey);
      ledger.note(license.skuId, licenses.grantId, keys, []);
    }
  }
  for (const grant of licenses.grants) {
    for (const chunk of members.added) {
      const keys = chunk.members.filter((m) => !ledger.holds(m, grant.skuId)).map(memberKey);
      ledger.note(grant.skuId, chunk.id, keys, []);
    }
    for (const chunk of members.removed) {
      ledger.note(grant.skuId, chunk.id, [], chunk.members.map(memberKey));
    }
  }
}

/** The resolved direct rules' SKUs: the only direct licenses this config ever removes. */
interface DirectRules {
  readonly rules: readonly { readonly index: number; readonly license: LicenseRef }[];
  readonly managedSkuIds: ReadonlySet<string>;
}

/**
 * Direct licenses: each enabled person's assignments and removals as the direct rules hold
 * for them, then the leavers' and mapping-disabled accounts' past `removeAccessAfterDays`.
 */
export function directLicenseChanges(
  out: Findings,
  context: AccessContext,
  skus: ResolvedSkus,
  unresolvedSkuIds: ReadonlySet<string>,
  ledger: SeatLedger,
): void {
  const rules = context.spec.licenses.flatMap((rule, index) => {
    const license = skus.rules.get(index);
    return rule.assignBy === 'direct' && license ? [{ index, license }] : [];
  });
  if (rules.length === 0) return;
  const direct: DirectRules = { rules, managedSkuIds: new Set(rules.map((r) => r.license.skuId)) };
  for (const user of context.ordered) {
    const account = context.accounts.get(user);
    // A disabled account gets no license (P11) and loses them as a leaver does, below.
    if (!account || isDisabled(user)) continue;
    userLicenseChanges(out, context, { user, account }, direct, skus, unresolvedSkuIds, ledger);
  }
  leaverLicenseChanges(out, context, direct.managedSkuIds, skus, ledger);
}

function userLicenseChanges(
  out: Findings,
  context: AccessContext,
  { user, account }: { readonly user: DesiredUser; readonly account: AccountRef },
  rules: DirectRules,
  skus: ResolvedSkus,
  unresolvedSkuIds: ReadonlySet<string>,
  ledger: SeatLedger,
): void {
  const tenantUser = account.id !== undefined ? context.accountById(account.id) : undefined;
  const direct = (tenantUser?.licenses ?? []).filter((l) => l.viaGroup === undefined);
  const wanted = rules.rules
    .filter(({ index }) => user.licenseRules?.includes(index))
    .map(({ license }) => license);
  const add = wanted.filter(
    (l) =>
      !direct.some((d) => d.skuId === l.skuId && samePlans(d.disabledPlans, l.disabledPlanIds)),
  );
  const remove = direct.filter(
    (d) =>
      rules.managedSkuIds.has(d.skuId) &&
      !unresolvedSkuIds.has(d.skuId) &&
      !wanted.some((w) => w.skuId === d.skuId),
  );
  const key = account.id ?? account.userPrincipalName.toLowerCase();
  const base = {
    reason: 'license-rule' as const,
    user: userRefOf(account),
    provenance: user.provenance,
    ...(account.createdBy ? { requires: [account.createdBy] } : {}),
  };
  if (add.length > 0) {
    const usageLocation = user.attributes.usageLocation ?? tenantUser?.attributes.usageLocation;
    if (typeof usageLocation !== 'string' || usageLocation === '') {
      out.issues.push({
        severity: 'error',
        code: 'license.no-usage-location',
        message: `${user.personKey}: ${add.map((l) => l.skuPartNumber).join(', ')} cannot be assigned to ${account.userPrincipalName} without a usageLocation; map users.attributes.usageLocation (Graph refuses the assignment)`,
        source: context.spec.primarySource,
        key: user.personKey,
      });
    } else {
      const id = `assignLicenses:${key}`;
      out.changes.push({
        ...base,
        id,
        kind: 'assignLicenses',
        rule: add.map((l) => skus.ruleOf(l.skuId) ?? 'licenses').join(', '),
        message: `assign ${add.map((l) => l.skuPartNumber).join(', ')} to ${account.userPrincipalName}`,
        licenses: add,
      });
      for (const l of add) {
        ledger.note(l.skuId, id, ledger.holds(account, l.skuId) ? [] : [memberKey(account)], []);
      }
    }
  }
  if (remove.length > 0) {
    const id = `removeLicenses:${key}`;
    out.changes.push({
      ...base,
      id,
      kind: 'removeLicenses',
      rule: 'licenses',
      message: `remove ${partNumbers(remove, skus)} from ${account.userPrincipalName}: no license rule holds any more`,
      licenses: remove.map((l) => skus.byId(l.skuId, l.disabledPlans)),
    });
    for (const l of remove) ledger.note(l.skuId, id, [], [memberKey(account)]);
  }
}

function partNumbers(licenses: readonly TenantLicense[], skus: ResolvedSkus): string {
  return licenses.map((l) => skus.byId(l.skuId, l.disabledPlans).skuPartNumber).join(', ');
}

/**
 * Leavers and mapping-disabled accounts past removeAccessAfterDays (lifecycle.ts: fate
 * `remove`) lose the direct licenses the rules gave them.
 */
function leaverLicenseChanges(
  out: Findings,
  context: AccessContext,
  managedSkuIds: ReadonlySet<string>,
  skus: ResolvedSkus,
  ledger: SeatLedger,
): void {
  const disabledByMapping = new Set(
    context.users.flatMap((u) => {
      const id = isDisabled(u) ? context.accounts.get(u)?.id : undefined;
      return id === undefined ? [] : [id];
    }),
  );
  for (const [accountId, fate] of context.leavers) {
    if (fate !== 'remove' || context.ownership.get(accountId) !== 'managed') continue;
    const account = context.usersById().get(accountId);
    const remove = (account?.licenses ?? []).filter(
      (l) => l.viaGroup === undefined && managedSkuIds.has(l.skuId),
    );
    if (!account || remove.length === 0) continue;
    const id = `removeLicenses:${account.id}`;
    out.changes.push({
      id,
      kind: 'removeLicenses',
      reason: disabledByMapping.has(account.id) ? 'source-status' : 'left-source',
      rule: 'users.deprovision',
      message: `remove ${partNumbers(remove, skus)} from ${account.userPrincipalName}: deprovisioned`,
      user: { id: account.id, userPrincipalName: account.userPrincipalName },
      provenance: [],
      licenses: remove.map((l) => skus.byId(l.skuId, l.disabledPlans)),
    });
    for (const l of remove) ledger.note(l.skuId, id, [], [memberKey(account)]);
  }
}

export interface SeatCheck {
  readonly seats: readonly LicenseSeats[];
  /** Assignments the tenant has no seats for, by change id, with the reason (G9). */
  readonly seatShortfall: ReadonlyMap<string, string>;
}

/**
 * Seats per SKU the plan touches, and the changes that take a seat of a SKU short of them.
 * A user's assignment of several SKUs is split so the short ones alone are blocked.
 */
export function seatCheck(
  changes: Change[],
  ledger: SeatLedger,
  tenantSkus: readonly TenantSku[],
  skus: Pick<ResolvedSkus, 'ruleOf'>,
): SeatCheck {
  const seats: LicenseSeats[] = [];
  const seatShortfall = new Map<string, string>();
  /** SKUs the tenant has too few seats for, with the message their assignments are blocked by. */
  const shortSkus = new Map<string, string>();
  for (const [skuId, delta] of [...ledger.delta].sort(([a], [b]) => compareText(a, b))) {
    const sku = tenantSkus.find((s) => s.skuId === skuId);
    if (!sku) continue;
    const shortfall = Math.max(
      0,
      sku.consumed + delta.adding.size - delta.removing.size - sku.seats,
    );
    seats.push({
      skuPartNumber: sku.skuPartNumber,
      skuId,
      seats: sku.seats,
      consumed: sku.consumed,
      adding: delta.adding.size,
      removing: delta.removing.size,
      shortfall,
    });
    if (shortfall === 0) continue;
    const message = `blocked: ${sku.skuPartNumber} has ${Math.max(0, sku.seats - sku.consumed)} free seat(s) (${sku.seats} seats, ${sku.consumed} consumed) and the plan assigns it to ${delta.adding.size} more user(s) (removing ${delta.removing.size}): ${shortfall} seat(s) short; buy seats or narrow the rule`;
    for (const id of ledger.takers.get(skuId) ?? []) seatShortfall.set(id, message);
    shortSkus.set(skuId, message);
  }
  splitShortAssignments(changes, shortSkus, ledger.takers, seatShortfall, skus);
  return { seats, seatShortfall };
}

/**
 * A user's assignment of several SKUs, some of them short of seats: the short ones move to a
 * change of their own (`<id>#short`, blocked), so a shortfall on one SKU never holds back the
 * user's other licenses. One assignLicense call each; only plans with a shortfall pay it.
 */
function splitShortAssignments(
  changes: Change[],
  shortSkus: ReadonlyMap<string, string>,
  seatChanges: ReadonlyMap<string, ReadonlySet<string>>,
  seatShortfall: Map<string, string>,
  skus: Pick<ResolvedSkus, 'ruleOf'>,
): void {
  if (shortSkus.size === 0) return;
  const out: Change[] = [];
  for (const change of changes) {
    if (change.kind !== 'assignLicenses') {
      out.push(change);
      continue;
    }
    // Short only where this change takes a seat: a SKU the user holds already (through a
    // group) needs none, whatever the shortfall.
    const takesShortSeat = (skuId: string): boolean =>
      shortSkus.has(skuId) && (seatChanges.get(skuId)?.has(change.id) ?? false);
    const short = change.licenses.filter((l) => takesShortSeat(l.skuId));
    const rest = change.licenses.filter((l) => !takesShortSeat(l.skuId));
    if (short.length === 0 || rest.length === 0) {
      out.push(change);
      continue;
    }
    const part = (licenses: typeof rest, id: string): Change => ({
      ...change,
      id,
      rule: licenses.map((l) => skus.ruleOf(l.skuId) ?? 'licenses').join(', '),
      message: `assign ${licenses.map((l) => l.skuPartNumber).join(', ')} to ${change.user.userPrincipalName}`,
      licenses,
    });
    const shortId = `${change.id}#short`;
    out.push(part(rest, change.id), part(short, shortId));
    seatShortfall.delete(change.id);
    seatShortfall.set(shortId, shortSkus.get(short[0]?.skuId ?? '') ?? '');
  }
  // Rebuilt in one pass (a splice per split change is quadratic in the plan's size).
  changes.length = 0;
  for (const change of out) changes.push(change);
}
