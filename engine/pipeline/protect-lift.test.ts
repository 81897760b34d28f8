import { describe, expect, it } from 'vitest';
import type { Change, Plan } from '../model/plan.js';
import { DEFAULT_SAFETY, NO_APPROVALS } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import { renderPlanMarkdown } from '../render/markdown.js';
import { renderPlanText } from '../render/text.js';
import { aGroup, aPerson, aSnapshot, aSpec, anAccount } from '../../test/helpers/builders.js';
import type { SpecOverrides } from '../../test/helpers/builders.js';
import { computePlan } from './plan.js';
import type { PlanOptions } from './plan.js';
import { PROTECTION_LIFTED, sameProtectBaseline } from './protect-lift.js';
import { checkSafety } from './safety.js';

const BG = 'breakglass@contoso.com';
const LIFTED_TEXT =
  'protection was lifted in this change; lift it in a separate, earlier apply, then plan again';

/** Ten people in HR with their managed accounts, and a managed break-glass account. */
function world() {
  const rows = Array.from({ length: 10 }, (_, i) => aPerson(String(i), `P${i}`, 'Person'));
  const accounts = rows.map((r) =>
    anAccount(`p${r.id}.person@contoso.com`, {
      employeeId: r.id,
      displayName: `P${r.id} Person`,
      department: 'Sales',
      mailNickname: `p${r.id}.person`,
    }),
  );
  const bgRow = aPerson('bg', 'Breakglass', 'Account');
  const bg = anAccount(BG, {
    employeeId: 'bg',
    displayName: 'Breakglass Account',
    department: 'Sales',
    mailNickname: 'breakglass',
  });
  return { rows, accounts, bgRow, bg, tenant: { users: [...accounts, bg] } as TenantState };
}

const ATTRIBUTES = {
  userPrincipalName:
    "id = 'bg' ? 'breakglass@contoso.com' : $lowercase(first & '.' & last) & '@contoso.com'",
  displayName: "first & ' ' & last",
  department: 'department',
  accountEnabled: "status = 'active'",
};

function specWith(protect: string[], more: SpecOverrides = {}) {
  return aSpec({ attributes: ATTRIBUTES, safety: { minSourceRatio: 0, protect }, ...more });
}

const blockedOf = (plan: Plan) =>
  plan.blocked.map((b) => [b.change.kind, b.change.id.split(':')[1] ?? '', b.code]);

describe('protect-lift check (P2, second half)', () => {
  it('P2: one change that lifts protection and deprovisions the account is blocked whole, with the reason', async () => {
    const { rows, tenant, bg } = world();
    const options: PlanOptions = { protectBaseline: { protect: [BG], from: 'origin/main' } };
    const plan = await computePlan(specWith([]), [aSnapshot(rows)], tenant, options);
    expect(plan.changes).toEqual([]);
    expect(blockedOf(plan)).toEqual([['disableUser', bg.id, PROTECTION_LIFTED]]);
    expect(plan.blocked[0]?.message).toBe(
      `blocked: ${BG} is on safety.protect in the baseline (origin/main) but not in this config: ${LIFTED_TEXT}`,
    );
    expect(plan.protectLift).toEqual({
      ran: true,
      baseline: { protect: [BG], from: 'origin/main' },
      lifted: [{ id: bg.id, userPrincipalName: BG }],
    });
    expect(renderPlanText(plan)).toContain(LIFTED_TEXT);
    expect(renderPlanText(plan)).toContain(
      `Protection lifted by this change (baseline origin/main): ${BG}`,
    );
  });

  it('P2: without a baseline the check does not run, the plan says so once, and the disable is planned', async () => {
    const { rows, tenant, bg } = world();
    const plan = await computePlan(specWith([]), [aSnapshot(rows)], tenant);
    expect(plan.protectLift).toEqual({ ran: false });
    expect(plan.changes.map((c) => c.id)).toEqual([`disableUser:${bg.id}`]);
    const note = 'protect-lift check not run: no baseline';
    expect(renderPlanText(plan).split(note)).toHaveLength(2);
    expect(renderPlanMarkdown(plan).split(note)).toHaveLength(2);
  });

  it('P2: still protected (not lifted): no write of any kind, nothing blocked, nothing lifted', async () => {
    const { rows, tenant } = world();
    const plan = await computePlan(specWith([BG]), [aSnapshot(rows)], tenant, {
      protectBaseline: { protect: [BG] },
    });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toEqual([]);
    expect(plan.ignored.map((i) => [i.user.userPrincipalName, i.reason])).toEqual([
      [BG, 'protected'],
    ]);
    expect(plan.protectLift).toMatchObject({ ran: true, lifted: [] });
    expect(renderPlanText(plan)).not.toContain('protect-lift');
    expect(renderPlanText(plan)).not.toContain('Protection lifted');
  });

  it('P2: protect list unchanged (the account was never protected): the disable goes ahead', async () => {
    const { rows, tenant, bg } = world();
    const plan = await computePlan(specWith([]), [aSnapshot(rows)], tenant, {
      protectBaseline: { protect: ['someone.else@contoso.com'] },
    });
    expect(plan.blocked).toEqual([]);
    expect(plan.changes.map((c) => c.id)).toEqual([`disableUser:${bg.id}`]);
  });

  it('P2: the lift was applied separately and earlier (the baseline no longer protects it): the next plan deprovisions', async () => {
    const { rows, bgRow, tenant, bg } = world();
    // The lift alone: the person is still in the source, the account matches the mapping.
    const liftOnly = await computePlan(specWith([]), [aSnapshot([...rows, bgRow])], tenant, {
      protectBaseline: { protect: [BG] },
    });
    expect(liftOnly.changes).toEqual([]);
    expect(liftOnly.blocked).toEqual([]);
    expect(liftOnly.protectLift).toMatchObject({ lifted: [{ userPrincipalName: BG }] });
    // Next commit: the source drops the person; the baseline is the lift commit.
    const next = await computePlan(specWith([]), [aSnapshot(rows)], tenant, {
      protectBaseline: { protect: [] },
    });
    expect(next.blocked).toEqual([]);
    expect(next.changes.map((c) => c.id)).toEqual([`disableUser:${bg.id}`]);
  });

  it('P2: entries match as safety.protect does: by object id, and by UPN in any case', async () => {
    const { rows, tenant, bg } = world();
    const byId = await computePlan(specWith([]), [aSnapshot(rows)], tenant, {
      protectBaseline: { protect: [bg.id.toUpperCase()] },
    });
    expect(blockedOf(byId)).toEqual([['disableUser', bg.id, PROTECTION_LIFTED]]);
    // Protected by UPN before, by object id now: still protected, nothing lifted.
    const moved = await computePlan(specWith([bg.id]), [aSnapshot(rows)], tenant, {
      protectBaseline: { protect: ['BreakGlass@Contoso.com'] },
    });
    expect(moved.changes).toEqual([]);
    expect(moved.blocked).toEqual([]);
    expect(moved.protectLift).toMatchObject({ ran: true, lifted: [] });
  });

  it('P2: every change to a lifted account is blocked (update, group membership), and other people are unaffected', async () => {
    const { rows, bgRow, accounts, bg } = world();
    const sales = aGroup('entrasync-sales', {
      displayName: 'Sales',
      memberIds: [bg.id, ...accounts.map((a) => a.id)],
    });
    const spec = specWith([], {
      groups: [
        { key: 'sales', name: 'Sales', members: "department = 'Sales'" },
        { key: 'it', name: 'IT', members: "department = 'IT'" },
      ],
    });
    // The mapping moves the break-glass account and P0 to IT.
    const moved = [
      { ...bgRow, department: 'IT' },
      { ...rows[0]!, department: 'IT' },
      ...rows.slice(1),
    ];
    const tenant: TenantState = { users: [...accounts, bg], groups: [sales] };
    const plan = await computePlan(spec, [aSnapshot(moved)], tenant, {
      protectBaseline: { protect: [BG] },
    });
    const blockedKinds = plan.blocked.map((b) => `${b.change.kind} ${b.code}`);
    expect(blockedKinds).toEqual(
      expect.arrayContaining([
        `updateUser ${PROTECTION_LIFTED}`,
        `removeMembers ${PROTECTION_LIFTED}`,
      ]),
    );
    // Membership changes that name the lifted account are blocked (the whole chunk of 20).
    for (const b of plan.blocked) expect(b.code).toBe(PROTECTION_LIFTED);
    for (const c of plan.changes) {
      expect(JSON.stringify(c)).not.toContain(bg.id);
    }
    expect(plan.changes.map((c) => c.id)).toContain(`updateUser:${accounts[0]!.id}`);
  });

  it('P2: not overridable: a bound --allow-disables override and an approved plan leave it blocked', async () => {
    const { rows, tenant } = world();
    const options: PlanOptions = { protectBaseline: { protect: [BG] } };
    const first = await computePlan(specWith([]), [aSnapshot(rows)], tenant, options);
    const overridden = await computePlan(specWith([]), [aSnapshot(rows)], tenant, {
      ...options,
      overrides: { fingerprint: first.fingerprint, allow: { disables: 100 } },
    });
    expect(overridden.changes).toEqual([]);
    expect(overridden.blocked.map((b) => b.code)).toEqual([PROTECTION_LIFTED]);
    const approved = await computePlan(
      specWith([], {
        approvals: {
          plans: [first.fingerprint.slice(0, 12)],
          changes: [{ action: 'disables', subject: BG }],
        },
      }),
      [aSnapshot(rows)],
      tenant,
      options,
    );
    expect(approved.changes.filter((c) => c.kind === 'disableUser')).toEqual([]);
    expect(approved.blocked.find((b) => b.change.kind === 'disableUser')?.code).toBe(
      PROTECTION_LIFTED,
    );
  });

  it('P2: changes that follow a blocked change to a lifted account are blocked with it (requires-blocked)', () => {
    const { bg } = world();
    const disable: Change = {
      kind: 'disableUser',
      id: `disableUser:${bg.id}`,
      reason: 'left-source',
      message: 'left',
      provenance: [],
      user: { id: bg.id, userPrincipalName: BG },
    };
    const follower: Change = {
      kind: 'updateUser',
      id: 'updateUser:other',
      reason: 'attribute-drift',
      message: 'drift',
      provenance: [],
      user: { id: 'other', userPrincipalName: 'other@contoso.com' },
      set: [{ attribute: 'department', before: 'a', after: 'b' }],
      requires: [disable.id],
    };
    const result = checkSafety([disable, follower], {
      sources: [],
      primarySource: 'hr',
      heldWithoutAnchor: [],
      managedUsers: 100,
      spec: { ...DEFAULT_SAFETY },
      fingerprint: 'f'.repeat(64),
      approvals: NO_APPROVALS,
      adminDetection: true,
      displayNames: new Map(),
      protectLifted: {
        byId: new Map([[bg.id, { id: bg.id, userPrincipalName: BG }]]),
        byUpn: new Map([[BG, { id: bg.id, userPrincipalName: BG }]]),
      },
    });
    expect(result.changes).toEqual([]);
    expect(result.blocked.map((b) => b.code)).toEqual([PROTECTION_LIFTED, 'requires-blocked']);
  });

  it('P2: the baseline is part of the fingerprint (its entries, not where they were read)', async () => {
    const { rows, bgRow, tenant } = world();
    const people = [aSnapshot([...rows, bgRow])];
    const fp = async (options: PlanOptions) =>
      (await computePlan(specWith([BG]), people, tenant, options)).fingerprint;
    const none = await fp({});
    const a = await fp({
      protectBaseline: { protect: [BG, 'x@contoso.com'], from: 'origin/main' },
    });
    const b = await fp({ protectBaseline: { protect: ['X@contoso.com', BG, BG], from: 'HEAD^' } });
    const c = await fp({ protectBaseline: { protect: [BG] } });
    const empty = await fp({ protectBaseline: { protect: [] } });
    expect(a).toBe(b);
    expect(new Set([none, a, c, empty]).size).toBe(4);
    expect(
      sameProtectBaseline({ protect: [BG, 'x@contoso.com'] }, { protect: ['X@contoso.com', BG] }),
    ).toBe(true);
    expect(sameProtectBaseline({ protect: [BG] }, { protect: [] })).toBe(false);
  });
});
