/**
 * The checks of `entrasync doctor` (issue 22), as pure functions over what doctor read: the
 * config's spec, the app's granted access, the tenant state and a dry plan. Each returns one or
 * more findings `ok`, `warn` or `fail`; a `fail` carries a hint of what to do.
 */
import type { EntraAction, GrantedAccess } from '../../connectors/entra/index.js';
import { checkAccess } from '../../connectors/entra/index.js';
import { actionsOfRead } from '../../connectors/entra/permissions.js';
import { formatSpan } from '../../engine/pipeline/clock.js';
import { ownershipOf } from '../../engine/pipeline/ownership.js';
import type { Plan } from '../../engine/index.js';
import type { SyncSpec } from '../../engine/model/spec.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS } from '../../engine/model/spec.js';
import type { TenantReadRequest, TenantState } from '../../engine/model/tenant.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorFinding {
  /** `permissions`, `domains`, `clock`, `markers`, `skus`, `sources`. */
  readonly check: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly hint?: string;
}

/** Every Graph action the config can cause, whatever today's plan holds. */
export function actionsOfConfig(spec: SyncSpec, read: TenantReadRequest): Set<EntraAction> {
  const actions = new Set<EntraAction>([...actionsOfRead(read), 'create users', 'update users']);
  const deprovision = spec.users.deprovision;
  if (deprovision.action === 'disable') actions.add('enable and disable users');
  if (
    deprovision.action === 'delete' ||
    deprovision.deleteAfterDays !== undefined ||
    typeof deprovision.whenDisabled?.deleteAfterDays === 'number'
  ) {
    actions.add('delete and restore users');
  }
  if (deprovision.action !== 'none' && deprovision.revokeSessions) actions.add('revoke sessions');
  if (spec.users.manager) actions.add('set managers');
  const groupLicensing =
    spec.licenses.some((l) => l.assignBy === 'group') ||
    spec.groups.some((g) => g.licenses.length > 0);
  if (spec.groups.length > 0 || groupLicensing) {
    actions.add('create groups');
    actions.add('manage group members');
  }
  if (spec.groups.some((g) => g.owners.length > 0)) actions.add('manage group owners');
  if (spec.licenses.some((l) => l.assignBy === 'direct')) actions.add('assign licenses');
  // `licenses[].group`: an existing group licensed, nothing created or made a member.
  if (groupLicensing || spec.licenses.some((l) => l.assignBy === 'existing-group')) {
    actions.add('assign group licenses');
  }
  const onboarding = spec.users.create === false ? undefined : spec.users.onboarding;
  if (onboarding) {
    actions.add(
      onboarding.credential === 'tap' ? 'issue temporary access passes' : 'reset passwords',
    );
    if (onboarding.delivery.channel === 'email') actions.add('send mail');
  }
  return actions;
}

/**
 * Each missing permission a fail; excess privilege and directory roles warnings, or fails when
 * `target.excessPrivilege: refuse` makes apply refuse them (`refuseExcess`).
 */
export function permissionFindings(
  granted: GrantedAccess,
  actions: ReadonlySet<EntraAction>,
  refuseExcess = false,
): DoctorFinding[] {
  const findings: DoctorFinding[] = [];
  for (const f of checkAccess(granted, actions)) {
    if (f.code === 'permission.missing') {
      // Without a domain permission the plan skips the domain check: a warning.
      findings.push({
        check: 'permissions',
        status: f.action === 'read verified domains' ? 'warn' : 'fail',
        message: f.message,
        hint: 'grant the application permission and admin consent (README "Microsoft Graph permissions")',
      });
      continue;
    }
    findings.push({
      check: 'permissions',
      status: refuseExcess ? 'fail' : 'warn',
      message: f.message,
      ...(refuseExcess
        ? { hint: 'apply refuses to run (target.excessPrivilege: refuse): remove the permission' }
        : {}),
    });
  }
  if (!findings.some((f) => f.status === 'fail')) {
    findings.unshift({
      check: 'permissions',
      status: 'ok',
      message: `the app holds what the config needs for ${[...actions].join(', ')}`,
    });
  }
  return findings;
}

/** Domains of the `@domain` literals in the userPrincipalName and mail mappings. */
export function namedDomains(spec: SyncSpec): Map<string, string> {
  const domains = new Map<string, string>();
  for (const attribute of ['userPrincipalName', 'mail']) {
    const expression = spec.users.attributes[attribute];
    if (expression === undefined) continue;
    for (const match of expression.text.matchAll(/@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g)) {
      const domain = match[1]?.toLowerCase();
      if (domain !== undefined && !domains.has(domain)) domains.set(domain, expression.configPath);
    }
  }
  return domains;
}

export function domainFindings(spec: SyncSpec, tenant: TenantState): DoctorFinding[] {
  const named = namedDomains(spec);
  const read = tenant.domains;
  if (read === undefined || read.status === 'unreadable') {
    return [
      {
        check: 'domains',
        status: 'warn',
        message: `verified domains could not be read${read?.status === 'unreadable' ? ` (${read.reason})` : ''}`,
        hint: 'grant Domain.Read.All so plans check userPrincipalName and mail domains',
      },
    ];
  }
  if (named.size === 0) {
    return [
      {
        check: 'domains',
        status: 'ok',
        message: `the config names no domain in userPrincipalName or mail (each value is checked at plan); verified: ${read.verified.join(', ')}`,
      },
    ];
  }
  const verified = new Set(read.verified.map((d) => d.toLowerCase()));
  return [...named].map(([domain, configPath]): DoctorFinding => {
    if (verified.has(domain)) {
      return { check: 'domains', status: 'ok', message: `${domain} (${configPath}) is verified` };
    }
    return {
      check: 'domains',
      status: 'fail',
      message: `${domain} (${configPath}) is not a verified domain of the tenant (verified: ${read.verified.join(', ') || 'none'})`,
      hint: 'verify the domain in the tenant, or change the mapping to a verified one',
    };
  });
}

export function clockFinding(spec: SyncSpec, tenant: TenantState): DoctorFinding {
  const clock = tenant.clock;
  if (clock?.status !== 'read') {
    return { check: 'clock', status: 'warn', message: "Microsoft Graph's clock was not read" };
  }
  const skew = clock.localTime - clock.serverTime;
  const max = spec.safety.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  // The Date header has a resolution of 1 s: under that, the clocks agree.
  const shown = Math.abs(skew) < 1000 ? 'under 1s' : formatSpan(Math.abs(skew));
  const direction = skew > 0 ? 'ahead of' : 'behind';
  if (Math.abs(skew) <= max) {
    return {
      check: 'clock',
      status: 'ok',
      message: `the local clock is ${Math.abs(skew) < 1000 ? 'within 1s of' : `${shown} ${direction}`} Microsoft Graph's (safety.maxClockSkew ${formatSpan(max)})`,
    };
  }
  return {
    check: 'clock',
    status: 'fail',
    message: `the local clock is ${shown} ${direction} Microsoft Graph's (Date header ${new Date(clock.serverTime).toUTCString()}), past safety.maxClockSkew ${formatSpan(max)}: time-based deprovisioning stages would be refused`,
    hint: 'set the clock right (NTP)',
  };
}

/**
 * Accounts carrying another config's marker: a fail when a person of this config would claim
 * one (the plan holds them: `match.other-config`), otherwise an ok naming the other configs.
 */
export function markerFindings(spec: SyncSpec, tenant: TenantState, plan: Plan): DoctorFinding {
  const others = new Map<string, number>();
  for (const user of tenant.users) {
    const ownership = ownershipOf(user, spec.marker);
    if (ownership !== 'other-config' && ownership !== 'legacy-marker') continue;
    const value = String(user.attributes[spec.marker.attribute]);
    others.set(value, (others.get(value) ?? 0) + 1);
  }
  const listed = [...others].map(([value, n]) => `${value} (${n})`).join(', ');
  const collisions = plan.issues.filter((i) => i.code === 'match.other-config');
  if (collisions.length > 0) {
    const first = collisions[0]?.message ?? '';
    return {
      check: 'markers',
      status: 'fail',
      message: `${collisions.length} person(s) of this config collide with accounts of another config (${listed}): ${first}${collisions.length > 1 ? ` (and ${collisions.length - 1} more)` : ''}`,
      hint: `check target.marker.id (this config's marker is ${spec.marker.value}) and that two configs do not manage the same people`,
    };
  }
  return {
    check: 'markers',
    status: 'ok',
    message:
      others.size === 0
        ? `no account carries another config's marker (this config's: ${spec.marker.value})`
        : `accounts of other configs: ${listed}; none collides with a person of this config`,
  };
}

/** The SKUs the license rules name (part numbers), with the config path of their first use. */
export function namedSkus(spec: SyncSpec): Map<string, string> {
  const skus = new Map<string, string>();
  for (const rule of spec.licenses) {
    if (!skus.has(rule.sku)) skus.set(rule.sku, rule.configPath);
  }
  spec.groups.forEach((group, i) => {
    for (const grant of group.licenses) {
      if (!skus.has(grant.sku)) skus.set(grant.sku, `groups[${i}].licenses`);
    }
  });
  return skus;
}

export function skuFindings(spec: SyncSpec, tenant: TenantState): DoctorFinding[] {
  const named = namedSkus(spec);
  if (named.size === 0) {
    return [{ check: 'skus', status: 'ok', message: 'the config assigns no license' }];
  }
  if (tenant.skus === undefined) {
    return [{ check: 'skus', status: 'warn', message: 'the subscribed SKUs were not read' }];
  }
  const held = new Map(tenant.skus.map((s) => [s.skuPartNumber.toLowerCase(), s]));
  const subscribed = tenant.skus.map((s) => s.skuPartNumber).join(', ') || 'none';
  return [...named].map(([sku, configPath]): DoctorFinding => {
    const found = held.get(sku.toLowerCase());
    if (found !== undefined) {
      return {
        check: 'skus',
        status: 'ok',
        message: `${sku} (${configPath}) is subscribed: ${found.consumed} of ${found.seats} seats used`,
      };
    }
    return {
      check: 'skus',
      status: 'fail',
      message: `${sku} (${configPath}) is not subscribed in the tenant (subscribed: ${subscribed})`,
      hint: 'buy or activate the SKU, or fix the part number in the license rule',
    };
  });
}

export function sourceFindings(plan: Plan): DoctorFinding[] {
  return plan.sources.map((source): DoctorFinding => {
    if (source.status === 'failed') {
      const first = plan.issues.find((i) => i.source === source.name && i.severity === 'error');
      return {
        check: 'sources',
        status: 'fail',
        message: `source "${source.name}" could not be read${first ? `: ${first.message}` : ''}`,
        hint: 'run `entrasync plan` to see every problem of the source',
      };
    }
    return {
      check: 'sources',
      status: source.status === 'complete' ? 'ok' : 'warn',
      message: `source "${source.name}": ${source.records} record(s), ${source.status}`,
    };
  });
}
