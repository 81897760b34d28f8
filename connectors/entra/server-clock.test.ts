/**
 * Graph's clock as the entra connector sees it (issue 17, class 3): the tenant read records
 * the simulator's `Date` header against the local clock (A7), and the disable date an apply
 * records is Graph's time, not the local clock's (A10). The simulator runs on one virtual
 * clock, entrasync's transport on another a day ahead: a local clock one day fast.
 */
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../engine/apply/apply.js';
import type { Change } from '../../engine/model/plan.js';
import { createVirtualClock, VIRTUAL_EPOCH_MS } from '../../simulator/index.js';
import { harness, planOf } from './test-helpers.js';

const DAY = 86_400_000;
const STATE = 'onPremisesExtensionAttributes.extensionAttribute14';
const MARKER = 'onPremisesExtensionAttributes.extensionAttribute15';

const seed = {
  users: [
    {
      userPrincipalName: 'lee.leaver@contoso.com',
      displayName: 'Lee Leaver',
      mailNickname: 'lee.leaver',
      accountEnabled: true,
      employeeId: '2',
      onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync' },
    },
  ],
};

/** The simulator at 2026-01-01 plus 0.5 s; the local clock one day ahead of it. */
async function skewed() {
  const local = createVirtualClock(VIRTUAL_EPOCH_MS + DAY + 500);
  const h = await harness({ seed, target: { clock: local } });
  h.clock.advance(500);
  return { ...h, local };
}

describe('the Graph clock in reads and writes', () => {
  it("A7: the tenant read records Graph's Date header (the simulator's clock) and the local clock it arrived at", async () => {
    const { target } = await skewed();
    const tenant = await target.reader.read({ userAttributes: ['employeeId', MARKER] });
    // The Date header has a resolution of one second: 00:00:00.500 is sent as 00:00:00.
    expect(tenant.clock).toEqual({
      status: 'read',
      serverTime: VIRTUAL_EPOCH_MS,
      localTime: VIRTUAL_EPOCH_MS + DAY + 500,
    });
  });

  it('A10: the disable date apply records is Graph time, not the local clock one day ahead', async () => {
    const { sim, target } = await skewed();
    const tenant = await target.reader.read({ userAttributes: ['employeeId', MARKER] });
    const lee = tenant.users[0]!;
    const disable: Change = {
      id: `disableUser:${lee.id}`,
      kind: 'disableUser',
      reason: 'left-source',
      message: '',
      user: { id: lee.id, userPrincipalName: lee.userPrincipalName },
      provenance: [],
      stateAttribute: STATE,
    };
    const report = await applyPlan(planOf([disable]), target.writer);
    expect(report.ops.map((o) => o.outcome)).toEqual(['applied']);
    const stored = sim.store.getUserByUpn('lee.leaver@contoso.com')?.user as {
      accountEnabled?: boolean;
      onPremisesExtensionAttributes?: Record<string, unknown>;
    };
    expect(stored.accountEnabled).toBe(false);
    const recorded = Date.parse(String(stored.onPremisesExtensionAttributes?.extensionAttribute14));
    // Graph's time within the Date header's one-second resolution; the local clock is a day on.
    expect(recorded).toBeGreaterThanOrEqual(VIRTUAL_EPOCH_MS);
    expect(recorded).toBeLessThanOrEqual(sim.clock.now());
  });

  it('A10: a writer used before any read measures Graph time first, so even its first date is right', async () => {
    const { sim, target } = await skewed();
    const id = sim.store.getUserByUpn('lee.leaver@contoso.com')!.user.id as string;
    const disable: Change = {
      id: `disableUser:${id}`,
      kind: 'disableUser',
      reason: 'left-source',
      message: '',
      user: { id, userPrincipalName: 'lee.leaver@contoso.com' },
      provenance: [],
      stateAttribute: STATE,
    };
    await applyPlan(planOf([disable]), target.writer);
    const stored = sim.store.getUserByUpn('lee.leaver@contoso.com')?.user as {
      onPremisesExtensionAttributes?: Record<string, unknown>;
    };
    const recorded = Date.parse(String(stored.onPremisesExtensionAttributes?.extensionAttribute14));
    expect(recorded).toBeLessThanOrEqual(sim.clock.now());
    expect(recorded).toBeGreaterThanOrEqual(VIRTUAL_EPOCH_MS);
  });
});
