/**
 * The pure license-path computation: one state per path, seats taken once per SKU, dates kept
 * for unchanged paths, documents from before group-based licensing read as direct licenses.
 */
import { describe, expect, test } from 'vitest';
import { assignmentStatesOf, computeLicenses, directLicensesOf } from './licensing.js';

const SKU = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const OTHER = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
const PLAN_A = '7547a3fe-08ee-4ccb-b430-5077c5041653';
const PLAN_B = '57ff2da0-773e-42df-b2af-ffb7a2317929';
const GROUP = '00000000-0000-4000-8000-0000000000aa';

describe('computeLicenses', () => {
  test('takes one seat per SKU however many paths grant it; refused paths are CountViolation', () => {
    const taken: string[] = [];
    const result = computeLicenses({
      directs: [{ skuId: SKU, disabledPlans: [PLAN_A] }],
      grants: [
        {
          groupId: GROUP,
          licenses: [
            { skuId: SKU, disabledPlans: [PLAN_A, PLAN_B] },
            { skuId: OTHER, disabledPlans: [] },
          ],
        },
      ],
      previous: [],
      previouslyHeld: new Set(),
      takeSeat: (skuId, required) => {
        taken.push(`${skuId}:${String(required)}`);
        return required;
      },
      now: '2026-01-01T00:00:00Z',
    });
    expect(taken).toEqual([`${SKU}:true`, `${OTHER}:false`]);
    expect(result.assignedLicenses).toEqual([{ skuId: SKU, disabledPlans: [PLAN_A] }]);
    expect(result.states.map((s) => [s.assignedByGroup, s.skuId, s.state, s.error])).toEqual([
      [null, SKU, 'Active', 'None'],
      [GROUP, SKU, 'Active', 'None'],
      [GROUP, OTHER, 'Error', 'CountViolation'],
    ]);
    expect([...result.held]).toEqual([SKU]);
  });

  test('an unchanged path keeps its lastUpdatedDateTime; a changed one is re-dated', () => {
    const first = computeLicenses({
      directs: [],
      grants: [{ groupId: GROUP, licenses: [{ skuId: SKU, disabledPlans: [] }] }],
      previous: [],
      previouslyHeld: new Set(),
      takeSeat: () => true,
      now: '2026-01-01T00:00:00Z',
    });
    const again = computeLicenses({
      directs: [],
      grants: [{ groupId: GROUP, licenses: [{ skuId: SKU, disabledPlans: [] }] }],
      previous: first.states,
      previouslyHeld: first.held,
      takeSeat: () => {
        throw new Error('a held SKU needs no seat');
      },
      now: '2026-02-01T00:00:00Z',
    });
    expect(again.states[0]?.lastUpdatedDateTime).toBe('2026-01-01T00:00:00Z');
    const changed = computeLicenses({
      directs: [],
      grants: [{ groupId: GROUP, licenses: [{ skuId: SKU, disabledPlans: [PLAN_A] }] }],
      previous: first.states,
      previouslyHeld: first.held,
      takeSeat: () => true,
      now: '2026-03-01T00:00:00Z',
    });
    expect(changed.states[0]?.lastUpdatedDateTime).toBe('2026-03-01T00:00:00Z');
  });
});

describe('assignmentStatesOf', () => {
  test('a document without states reads its assignedLicenses as direct, active paths', () => {
    const user = {
      id: 'u',
      createdDateTime: '2025-05-05T05:05:05Z',
      assignedLicenses: [{ skuId: SKU.toUpperCase(), disabledPlans: [PLAN_A] }],
    };
    expect(assignmentStatesOf(user)).toEqual([
      {
        assignedByGroup: null,
        disabledPlans: [PLAN_A],
        error: 'None',
        lastUpdatedDateTime: '2025-05-05T05:05:05Z',
        skuId: SKU,
        state: 'Active',
      },
    ]);
    expect(directLicensesOf(user)).toEqual([{ skuId: SKU, disabledPlans: [PLAN_A] }]);
  });
});
