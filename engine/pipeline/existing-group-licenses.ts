/**
 * Licenses on existing groups this config does not manage (`licenses[].group`, by object id;
 * issue 26): Okta's way of licensing Microsoft 365, through a group the directory already has.
 * The group gets the rule's SKU with its disabled plans (`assignGroupLicenses`); its members
 * are never touched, nor are its other licenses, and a rule taken out removes nothing (entrasync
 * cannot tell the license it gave from one given in the portal). The seat check counts the
 * group's direct user members who do not hold the SKU yet (group-based licensing reaches direct
 * members only), so a group too large for the seats left is held (`license-shortfall`).
 */
import type { LicenseRef } from '../model/plan.js';
import type { TenantGroup } from '../model/tenant.js';
import type { AccessContext, AccountRef, Findings } from './access-model.js';
import { memberKey } from './access-model.js';
import type { ResolvedSkus, SeatLedger } from './licenses.js';

export function existingGroupLicenseChanges(
  out: Findings,
  context: AccessContext,
  skus: ResolvedSkus,
  ledger: SeatLedger,
): void {
  const byGroup = new Map<string, { rules: string[]; licenses: LicenseRef[] }>();
  context.spec.licenses.forEach((rule, index) => {
    const license = skus.rules.get(index);
    if (rule.assignBy !== 'existing-group' || rule.group === undefined || !license) return;
    const entry = byGroup.get(rule.group) ?? { rules: [], licenses: [] };
    entry.rules.push(rule.configPath);
    entry.licenses.push(license);
    byGroup.set(rule.group, entry);
  });
  const found = new Map(
    (context.tenant.licensedGroups ?? []).map((g) => [g.id.toLowerCase(), g] as const),
  );
  for (const [id, { rules, licenses }] of [...byGroup].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const group = found.get(id);
    if (!group) {
      out.issues.push({
        severity: 'error',
        code: 'license.unknown-group',
        message: `${rules.join(', ')}: the tenant has no group ${id}; the license is assigned to nothing until the id is fixed`,
        source: context.spec.primarySource,
      });
      continue;
    }
    groupChange(out, context, { group, rules, licenses }, ledger);
  }
}

function groupChange(
  out: Findings,
  context: AccessContext,
  target: {
    readonly group: TenantGroup;
    readonly rules: readonly string[];
    readonly licenses: readonly LicenseRef[];
  },
  ledger: SeatLedger,
): void {
  const { group, rules, licenses } = target;
  const toGrant = licenses.filter(
    (l) =>
      !group.licenses.some(
        (c) => c.skuId === l.skuId && samePlans(c.disabledPlans, l.disabledPlanIds),
      ),
  );
  if (toGrant.length === 0) return;
  const id = `assignGroupLicenses:id:${group.id.toLowerCase()}`;
  out.changes.push({
    id,
    kind: 'assignGroupLicenses',
    reason: 'license-rule',
    rule: rules.join(', '),
    message: `license existing group ${group.displayName}: ${toGrant.map((l) => l.skuPartNumber).join(', ')}`,
    group: {
      id: group.id,
      uniqueName: group.uniqueName === '' ? group.id : group.uniqueName,
      displayName: group.displayName,
    },
    provenance: [],
    licenses: toGrant,
  });
  const usersById = context.usersById();
  const members = group.memberIds.flatMap((memberId): AccountRef[] => {
    const user = usersById.get(memberId);
    return user ? [{ id: memberId, userPrincipalName: user.userPrincipalName }] : [];
  });
  for (const license of toGrant) {
    const keys = members.filter((m) => !ledger.holds(m, license.skuId)).map(memberKey);
    ledger.note(license.skuId, id, keys, []);
  }
}

function samePlans(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].map((p) => p.toLowerCase()).sort();
  const y = [...b].map((p) => p.toLowerCase()).sort();
  return x.length === y.length && x.every((p, i) => p === y[i]);
}
