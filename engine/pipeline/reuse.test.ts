/**
 * Plan reuse (the daemon's no-change cycle): a reused plan must be exactly the plan
 * `computePlan` would make at that moment, and reuse must stop the instant it would not be.
 */
import { describe, expect, it } from 'vitest';
import type { SourceSnapshot } from '../model/source.js';
import type { TenantState } from '../model/tenant.js';
import { DEFAULT_DEPROVISION } from '../model/spec.js';
import { PORT_API_VERSION } from '../ports.js';
import type { SourceConnector, TargetReader } from '../ports.js';
import { aGroup, aPerson, aSnapshot, aSpec, anAccount } from '../../test/helpers/builders.js';
import { planRunRepeated } from '../index.js';
import { computePlan } from './plan.js';
import { specExpressions } from './lint.js';
import { planValidUntil, reusablePlan } from './reuse.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');
const DAY = 86_400_000;
const STATE = DEFAULT_DEPROVISION.stateAttribute;

/** Ada in HR and in sync; Lee gone from HR, disabled `disabledDaysAgo` days ago. */
function world(disabledDaysAgo: number) {
  const ada = aPerson('1', 'Ada', 'Lovelace');
  const snapshot: SourceSnapshot = aSnapshot([ada]);
  const users = [
    anAccount('ada.lovelace@contoso.com', {
      employeeId: '1',
      displayName: 'Ada Lovelace',
      department: 'Sales',
    }),
    anAccount('lee.leaver@contoso.com', {
      employeeId: '2',
      displayName: 'Lee Leaver',
      department: 'Sales',
      accountEnabled: false,
      [STATE]: new Date(NOW - disabledDaysAgo * DAY).toISOString(),
    }),
  ];
  const tenant: TenantState = {
    users,
    groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: users.map((u) => u.id) })],
    skus: [],
    deletedUsers: [],
  };
  return { snapshot, tenant };
}

/** Everyone in the `All` group; leavers lose it after 7 days and are deleted after 30. */
const staged = aSpec({
  groups: [{ key: 'all', name: 'All' }],
  deprovision: { removeAccessAfterDays: 7, deleteAfterDays: 30 },
  safety: { minSourceRatio: 0 },
});

describe('planValidUntil', () => {
  it('is the next stage of a dated disabled account: the plan is the same up to it and differs at it', async () => {
    const { snapshot, tenant } = world(3);
    const until = planValidUntil(staged, tenant, NOW);
    expect(until).toBe(NOW + 4 * DAY);
    const at = (t: number) => computePlan(staged, [snapshot], tenant, { now: t });
    const before = await at(until - 1);
    expect(before.fingerprint).toBe((await at(NOW)).fingerprint);
    expect((await at(until)).fingerprint).not.toBe(before.fingerprint);
  });

  it('past the access stage, the delete stage bounds it', () => {
    const { tenant } = world(10);
    expect(planValidUntil(staged, tenant, NOW)).toBe(NOW + 20 * DAY);
  });

  it('has no bound when nothing waits on the clock', () => {
    const { tenant } = world(3);
    expect(planValidUntil(aSpec({ deprovision: 'delete' }), tenant, NOW)).toBe(Infinity);
    expect(planValidUntil(aSpec(), { ...tenant, users: [] }, NOW)).toBe(Infinity);
  });

  it('is now (never reuse) when an expression reads the clock', () => {
    const { tenant } = world(3);
    const clocked = aSpec({
      scope: '$toMillis(hired) <= $millis()',
      deprovision: 'delete',
    });
    expect(planValidUntil(clocked, tenant, NOW)).toBe(NOW);
    const now = aSpec({ attributes: { jobTitle: '$now ()', userPrincipalName: "id & '@x'" } });
    expect(planValidUntil(now, tenant, NOW)).toBe(NOW);
  });

  it('looks at every expression of the spec (the list lint checks)', () => {
    const spec = aSpec({
      groups: [{ name: "'G ' & $value", key: 'g', foreach: 'department', members: 'true' }],
      licenses: [{ sku: 'SPE_E3', when: "status = 'active'" }],
      manager: 'managerId',
    });
    const paths = specExpressions(spec).map((e) => e.expression.configPath);
    expect(paths).toEqual(
      expect.arrayContaining([
        'users.anchor',
        'users.manager',
        'groups[0].name',
        'groups[0].foreach',
        'groups[0].members',
        'licenses[0].when',
        'users.attributes.displayName',
      ]),
    );
  });
});

describe('reusablePlan', () => {
  it('needs the very same spec, snapshots, tenant and options, and time left', async () => {
    const { snapshot, tenant } = world(3);
    const options = {};
    const plan = await computePlan(staged, [snapshot], tenant, { now: NOW });
    const memo = {
      spec: staged,
      snapshots: [snapshot],
      tenant,
      options,
      plan,
      validUntil: NOW + 4 * DAY,
    };
    expect(reusablePlan(memo, staged, [snapshot], tenant, options, NOW + DAY)).toBe(plan);
    expect(reusablePlan(memo, staged, [snapshot], tenant, {}, NOW + DAY)).toBe(plan);
    expect(reusablePlan(memo, staged, [{ ...snapshot }], tenant, options, NOW)).toBeUndefined();
    expect(reusablePlan(memo, staged, [snapshot], { ...tenant }, options, NOW)).toBeUndefined();
    expect(reusablePlan(memo, aSpec(), [snapshot], tenant, options, NOW)).toBeUndefined();
    expect(reusablePlan(memo, staged, [], tenant, options, NOW)).toBeUndefined();
    expect(reusablePlan(memo, staged, [snapshot], tenant, options, NOW + 4 * DAY)).toBeUndefined();
    const overrides = { overrides: { fingerprint: 'x', allow: {} } };
    expect(reusablePlan(memo, staged, [snapshot], tenant, overrides, NOW)).toBeUndefined();
    expect(reusablePlan(undefined, staged, [snapshot], tenant, options, NOW)).toBeUndefined();
  });
});

describe('planRunRepeated', () => {
  it('computes again exactly when a connector hands back a different object', async () => {
    const { snapshot, tenant } = world(3);
    let current = snapshot;
    let tenantNow = tenant;
    let reads = 0;
    const source: SourceConnector = {
      apiVersion: PORT_API_VERSION,
      kind: 'csv',
      name: 'hr',
      read: () => Promise.resolve(current),
    };
    const target: TargetReader = {
      apiVersion: PORT_API_VERSION,
      read: () => {
        reads++;
        return Promise.resolve(tenantNow);
      },
    };
    const io = { sources: [source], target };
    const options = { now: NOW };
    const first = await planRunRepeated(staged, io, options, undefined);
    expect(first.reused).toBe(false);
    const second = await planRunRepeated(staged, io, { now: NOW + DAY }, first.memo);
    expect(second.reused).toBe(true);
    expect(second.plan).toBe(first.plan);
    expect(reads).toBe(2);

    current = aSnapshot([aPerson('1', 'Ada', 'Lovelace', { department: 'Legal' })]);
    const third = await planRunRepeated(staged, io, { now: NOW + DAY }, second.memo);
    expect(third.reused).toBe(false);
    expect(third.plan.changes.map((c) => c.kind)).toContain('updateUser');

    tenantNow = { ...tenantNow };
    const fourth = await planRunRepeated(staged, io, { now: NOW + DAY }, third.memo);
    expect(fourth.reused).toBe(false);
    const fifth = await planRunRepeated(staged, io, { now: NOW + 4 * DAY }, fourth.memo);
    expect(fifth.reused).toBe(false);
    expect(fifth.plan.fingerprint).not.toBe(fourth.plan.fingerprint);
  });
});
