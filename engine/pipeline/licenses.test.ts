/**
 * licenses.ts on its own: SKU resolution, group-based licenses, direct assignments and removals,
 * and the seat check with its split of a short assignment. Literal data, no pipeline.
 */
import { describe, expect, it } from 'vitest';
import type { DesiredUser } from '../model/desired.js';
import type { Change, PlanIssue, UserLicensesChange } from '../model/plan.js';
import type { TenantSku, TenantState, TenantUser } from '../model/tenant.js';
import { aGroup, aSpec, anAccount } from '../../test/helpers/builders.js';
import type { AccountRef, DesiredGroup, GroupAt } from './access-model.js';
import { accessContext, newFindings, refOf } from './access-model.js';
import {
  directLicenseChanges,
  groupLicenseChanges,
  resolveSkus,
  seatCheck,
  seatLedger,
  unresolvedLicenseRules,
} from './licenses.js';

const E3: TenantSku = {
  skuId: 'sku-e3',
  skuPartNumber: 'SPE_E3',
  seats: 10,
  consumed: 9,
  servicePlans: [
    { id: 'plan-yammer', name: 'YAMMER_ENTERPRISE' },
    { id: 'plan-sway', name: 'SWAY' },
  ],
};
const EMS: TenantSku = {
  skuId: 'sku-ems',
  skuPartNumber: 'EMS',
  seats: 100,
  consumed: 0,
  servicePlans: [],
};

function person(n: number, o: Partial<DesiredUser> = {}): DesiredUser {
  return {
    personKey: `hr:${n}`,
    anchor: String(n),
    attributes: {
      userPrincipalName: `p${n}@contoso.com`,
      accountEnabled: true,
      usageLocation: 'NL',
    },
    provenance: [],
    ...o,
  };
}

describe('licenses: resolving SKUs', () => {
  it('part numbers and plan names resolve case-insensitively to ids, plans sorted by name', () => {
    const spec = aSpec({
      licenses: [{ sku: 'spe_e3', disabledPlans: ['sway', 'YAMMER_ENTERPRISE'] }],
    });
    const issues: PlanIssue[] = [];
    const skus = resolveSkus(spec, { users: [], skus: [E3] }, issues);
    expect(skus.rules.get(0)).toEqual({
      skuPartNumber: 'SPE_E3',
      skuId: 'sku-e3',
      disabledPlans: ['YAMMER_ENTERPRISE', 'sway'],
      disabledPlanIds: ['plan-yammer', 'plan-sway'],
    });
    expect(skus.ruleOf('sku-e3')).toBe('licenses[0]');
    expect(issues).toEqual([]);
  });

  it('an unknown SKU or plan is one plan error per rule, and the rule leaves its SKU and group alone', () => {
    const spec = aSpec({
      licenses: [{ sku: 'NOPE' }, { sku: 'SPE_E3', disabledPlans: ['MISSING'], assignBy: 'group' }],
    });
    const issues: PlanIssue[] = [];
    const tenant: TenantState = { users: [], skus: [E3] };
    const skus = resolveSkus(spec, tenant, issues);
    skus.license(spec.licenses[0] ?? { sku: '', disabledPlans: [] }, 'licenses[0]');
    expect(skus.rules.size).toBe(0);
    expect(issues.map((i) => i.message)).toEqual([
      'licenses[0]: the tenant has no SKU NOPE (it has SPE_E3); the rule assigns and removes nothing until it is fixed',
      'licenses[1]: SPE_E3 has no service plan MISSING (it has YAMMER_ENTERPRISE, SWAY); the rule assigns and removes nothing until it is fixed',
    ]);
    const unresolved = unresolvedLicenseRules(spec, tenant, skus);
    expect([...unresolved.skuIds]).toEqual(['sku-e3']);
    expect([...unresolved.groups]).toEqual(['entrasync-license-spe-e3']);
  });
});

describe('licenses: group-based', () => {
  const spec = aSpec({ licenses: [{ sku: 'SPE_E3' }] });
  const skus = resolveSkus(spec, { users: [], skus: [E3, EMS] }, []);
  function group(
    licenses: DesiredGroup['licenses'],
    existing?: ReturnType<typeof aGroup>,
  ): GroupAt {
    const desired: DesiredGroup = {
      uniqueName: 'entrasync-staff',
      displayName: 'Staff',
      description: null,
      type: 'security',
      owners: [],
      licenses,
      configPath: 'groups[0]',
      members: new Map(),
      provenance: [],
    };
    const requires = existing ? [] : ['createGroup:entrasync-staff'];
    return { lower: 'entrasync-staff', desired, existing, ref: refOf(desired, existing), requires };
  }

  it('a license the group lacks is granted; one no rule gives any more is revoked', () => {
    const out = newFindings();
    const existing = aGroup('entrasync-staff', {
      licenses: [{ skuId: 'sku-ems', disabledPlans: [] }],
    });
    const result = groupLicenseChanges(
      out,
      group([{ sku: 'SPE_E3', disabledPlans: [] }], existing),
      skus,
    );
    expect(
      out.changes.map(
        (c) => `${c.id} ${'licenses' in c ? c.licenses.map((l) => l.skuPartNumber).join(',') : ''}`,
      ),
    ).toEqual([
      'assignGroupLicenses:entrasync-staff SPE_E3',
      'removeGroupLicenses:entrasync-staff EMS',
    ]);
    expect(result.toGrant.map((l) => l.skuId)).toEqual(['sku-e3']);
  });

  it('a grant that does not resolve revokes nothing', () => {
    const out = newFindings();
    const existing = aGroup('entrasync-staff', {
      licenses: [{ skuId: 'sku-ems', disabledPlans: [] }],
    });
    groupLicenseChanges(out, group([{ sku: 'UNKNOWN', disabledPlans: [] }], existing), skus);
    expect(out.changes).toEqual([]);
  });
});

describe('licenses: direct', () => {
  const spec = aSpec({ licenses: [{ sku: 'SPE_E3' }] });

  function run(
    users: DesiredUser[],
    accounts: Map<DesiredUser, AccountRef>,
    tenant: TenantState,
    leavers = new Map<string, 'retain' | 'remove'>(),
  ) {
    const context = accessContext({
      spec,
      users,
      accounts,
      leavers,
      ownership: new Map(tenant.users.map((u) => [u.id, 'managed' as const])),
      tenant,
    });
    const issues: PlanIssue[] = [];
    const skus = resolveSkus(spec, tenant, issues);
    const ledger = seatLedger(context.accountById);
    const out = newFindings();
    directLicenseChanges(out, context, skus, new Set(), ledger);
    return { out, ledger };
  }

  it('assigns the rule’s SKU to a new account (after its create), counting a seat; not to one without usageLocation', () => {
    const ada = person(1, { licenseRules: [0] });
    const bob = person(2, {
      licenseRules: [0],
      attributes: { userPrincipalName: 'p2@contoso.com', accountEnabled: true },
    });
    const accounts = new Map<DesiredUser, AccountRef>([
      [ada, { userPrincipalName: 'p1@contoso.com', createdBy: 'createUser:hr:1' }],
      [bob, { userPrincipalName: 'p2@contoso.com' }],
    ]);
    const { out, ledger } = run([ada, bob], accounts, { users: [], skus: [E3] });
    expect(out.changes).toMatchObject([
      {
        id: 'assignLicenses:p1@contoso.com',
        kind: 'assignLicenses',
        requires: ['createUser:hr:1'],
        rule: 'licenses[0]',
      },
    ]);
    expect(out.issues.map((i) => i.code)).toEqual(['license.no-usage-location']);
    expect([...(ledger.delta.get('sku-e3')?.adding ?? [])]).toEqual(['new:p1@contoso.com']);
  });

  it('a direct license no rule holds any more is removed; so is a removed leaver’s, freeing seats', () => {
    const held = (id: string): TenantUser => ({
      ...anAccount(`${id}@contoso.com`, {}, { id }),
      licenses: [{ skuId: 'sku-e3', disabledPlans: [] }],
    });
    const ada = person(1);
    const tenant: TenantState = { users: [held('ada'), held('gone')], skus: [E3] };
    const accounts = new Map<DesiredUser, AccountRef>([
      [ada, { id: 'ada', userPrincipalName: 'ada@contoso.com' }],
    ]);
    const { out, ledger } = run([ada], accounts, tenant, new Map([['gone', 'remove']]));
    expect(out.changes.map((c) => `${c.id} ${c.reason}`)).toEqual([
      'removeLicenses:ada license-rule',
      'removeLicenses:gone left-source',
    ]);
    expect([...(ledger.delta.get('sku-e3')?.removing ?? [])]).toEqual(['id:ada', 'id:gone']);
  });
});

describe('licenses: the seat check', () => {
  it('a SKU short of seats blocks the changes that take one; a mixed assignment is split so only the short SKU waits', () => {
    const ledger = seatLedger(() => undefined);
    const change: UserLicensesChange = {
      id: 'assignLicenses:a',
      kind: 'assignLicenses',
      reason: 'license-rule',
      rule: 'licenses[0], licenses[1]',
      message: 'assign SPE_E3, EMS to a@contoso.com',
      user: { userPrincipalName: 'a@contoso.com' },
      provenance: [],
      licenses: [
        { skuPartNumber: 'SPE_E3', skuId: 'sku-e3', disabledPlans: [], disabledPlanIds: [] },
        { skuPartNumber: 'EMS', skuId: 'sku-ems', disabledPlans: [], disabledPlanIds: [] },
      ],
    };
    ledger.note('sku-e3', 'assignLicenses:a', ['new:a'], []);
    ledger.note('sku-e3', 'assignLicenses:b', ['new:b'], []);
    ledger.note('sku-ems', 'assignLicenses:a', ['new:a'], []);
    const changes: Change[] = [change];
    const ruleOf = (skuId: string) => (skuId === 'sku-e3' ? 'licenses[0]' : 'licenses[1]');
    const result = seatCheck(changes, ledger, [E3, EMS], { ruleOf });

    expect(result.seats.map((s) => `${s.skuPartNumber} +${s.adding} short ${s.shortfall}`)).toEqual(
      ['SPE_E3 +2 short 1', 'EMS +1 short 0'],
    );
    expect(
      changes.map(
        (c) => `${c.id} ${'licenses' in c ? c.licenses.map((l) => l.skuPartNumber).join(',') : ''}`,
      ),
    ).toEqual(['assignLicenses:a EMS', 'assignLicenses:a#short SPE_E3']);
    expect([...result.seatShortfall.keys()].sort()).toEqual([
      'assignLicenses:a#short',
      'assignLicenses:b',
    ]);
    expect(result.seatShortfall.get('assignLicenses:b')).toContain('1 seat(s) short');
  });

  it('an account that holds the SKU already takes no seat', () => {
    const holder = {
      ...anAccount('h@contoso.com', {}, { id: 'h' }),
      licenses: [{ skuId: 'sku-e3', disabledPlans: [], viaGroup: 'g' }],
    };
    const ledger = seatLedger((id) => (id === 'h' ? holder : undefined));
    expect(ledger.holds({ id: 'h', userPrincipalName: 'h@contoso.com' }, 'sku-e3')).toBe(true);
    expect(ledger.holds({ id: 'h', userPrincipalName: 'h@contoso.com' }, 'sku-ems')).toBe(false);
    expect(ledger.holds({ userPrincipalName: 'new@contoso.com' }, 'sku-e3')).toBe(false);
  });
});
