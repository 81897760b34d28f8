/**
 * onboarding.ts through the whole planner (catalogue N7-N12): each create gets an `onboardUser`
 * step after its create and manager, a new hire whose credential could reach nobody is held
 * with the reason, the tenant's policy and mailbox are checked once, and an account still
 * awaiting its credential is onboarded again. Literal data, no network.
 */
import { describe, expect, it } from 'vitest';
import type { OnboardingSpec, SyncSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import { ONBOARDING_PENDING } from '../model/plan.js';
import { aSpec, anAccount, expr, ofKind, planRows } from '../../test/helpers/builders.js';
import type { Row } from '../../test/helpers/builders.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const STATE = 'onPremisesExtensionAttributes.extensionAttribute13';

function spec(onboarding: Partial<OnboardingSpec> = {}, startAt?: string): SyncSpec {
  const base = aSpec({ manager: 'manager_id' });
  return {
    ...base,
    users: {
      ...base.users,
      onboarding: {
        credential: 'tap',
        stateAttribute: STATE,
        tap: {
          lifetimeInMinutes: 480,
          isUsableOnce: true,
          ...(startAt ? { startAt: expr(startAt, 'users.onboarding.startAt') } : {}),
        },
        delivery: { channel: 'email', to: 'manager', mailbox: 'it@contoso.com' },
        ...onboarding,
      },
    },
  };
}

const row = (id: string, first: string, manager = '', extra: Row = {}): Row => ({
  id,
  first,
  last: 'Doe',
  status: 'active',
  department: 'Ops',
  manager_id: manager,
  ...extra,
});

/** The boss has an account already (managed, with mail); the others are new. */
function tenant(extra: Partial<TenantState> = {}): TenantState {
  return {
    users: [
      anAccount('boss.doe@contoso.com', {
        employeeId: '1',
        displayName: 'Boss Doe',
        department: 'Ops',
        mail: 'boss@contoso.com',
      }),
    ],
    ...extra,
  };
}

describe('onboarding (plan)', () => {
  it('N7: a new hire with a manager gets one onboarding step after the create and the manager, with the recipient and never a credential', async () => {
    const plan = await planRows(spec(), [row('1', 'Boss'), row('2', 'Ann', '1')], tenant(), NOW);
    const [step] = ofKind(plan, 'onboardUser');
    expect(step).toMatchObject({
      id: 'onboardUser:ann.doe@contoso.com',
      credential: 'tap',
      delivery: { channel: 'email', to: 'manager', recipient: 'boss@contoso.com' },
      tap: { lifetimeInMinutes: 480, isUsableOnce: true },
      requires: ['createUser:ann.doe@contoso.com', 'setManager:ann.doe@contoso.com'],
      placeholders: { name: 'Ann Doe', upn: 'ann.doe@contoso.com', manager: 'Boss Doe' },
      stateAttribute: STATE,
    });
    // Applied after the create and the manager (plan order is apply order per account).
    const ids = plan.changes.map((c) => c.id);
    expect(ids.indexOf(step!.id)).toBeGreaterThan(ids.indexOf('setManager:ann.doe@contoso.com'));
    const [create] = ofKind(plan, 'createUser');
    expect(create?.attributes[STATE]).toBe(ONBOARDING_PENDING);
    expect(JSON.stringify(plan)).not.toMatch(/temporaryAccessPass"|password"/i);
  });

  it('N8: a new hire without a manager is a plan error and held, with what follows the create', async () => {
    const plan = await planRows(spec(), [row('1', 'Boss'), row('3', 'Olga')], tenant(), NOW);
    expect(ofKind(plan, 'createUser')).toHaveLength(0);
    expect(plan.blocked.map((b) => [b.change.id, b.code])).toEqual([
      ['createUser:olga.doe@contoso.com', 'onboarding'],
    ]);
    expect(plan.blocked[0]?.message).toContain('no manager to deliver the credential to');
    expect(plan.issues).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'onboarding.no-recipient', key: 'hr:3' }),
    );
  });

  it('N6: a new hire whose manager is a held new hire is held too (create, manager, onboarding), never an account nobody can use', async () => {
    const plan = await planRows(
      spec(),
      [row('1', 'Boss'), row('3', 'Olga'), row('4', 'Pia', '3')],
      tenant(),
      NOW,
    );
    expect(ofKind(plan, 'createUser')).toEqual([]);
    expect(plan.blocked.map((b) => b.change.id).sort()).toEqual([
      'createUser:olga.doe@contoso.com',
      'createUser:pia.doe@contoso.com',
      'onboardUser:pia.doe@contoso.com',
      'setManager:pia.doe@contoso.com',
    ]);
    expect(
      plan.blocked.find((b) => b.change.id === 'createUser:pia.doe@contoso.com')?.message,
    ).toContain('its onboarding (onboardUser:pia.doe@contoso.com) is held');
  });

  it('N9: startAt in the future is the pass start; in the past it is "at once" and the plan says so; not a date holds', async () => {
    const future = await planRows(
      spec({}, 'hire'),
      [row('1', 'Boss'), row('2', 'Ann', '1', { hire: '2026-04-01' })],
      tenant(),
      NOW,
    );
    expect(ofKind(future, 'onboardUser')[0]?.tap?.startDateTime).toBe('2026-04-01T00:00:00Z');
    const past = await planRows(
      spec({}, 'hire'),
      [row('1', 'Boss'), row('2', 'Ann', '1', { hire: '2026-01-01' })],
      tenant(),
      NOW,
    );
    const step = ofKind(past, 'onboardUser')[0];
    expect(step?.tap?.startDateTime).toBeUndefined();
    expect(step?.tap?.startPassed).toBe('2026-01-01');
    expect(step?.message).toContain('valid at once: start 2026-01-01 is not in the future');
    const bad = await planRows(
      spec({}, 'hire'),
      [row('1', 'Boss'), row('2', 'Ann', '1', { hire: 'next monday' })],
      tenant(),
      NOW,
    );
    expect(bad.blocked[0]?.message).toContain('"next monday", not an ISO 8601 date');
  });

  it('N10: a pass policy that is disabled, too short for the lifetime or unreadable, or a missing mailbox, holds every new hire', async () => {
    const rows = [row('1', 'Boss'), row('2', 'Ann', '1')];
    const cases: [TenantState['onboarding'], string][] = [
      [
        { tapPolicy: { status: 'read', enabled: false, allUsers: true } },
        'Temporary Access Pass is not enabled',
      ],
      [
        {
          tapPolicy: {
            status: 'read',
            enabled: true,
            allUsers: true,
            maximumLifetimeInMinutes: 60,
          },
        },
        "outside the tenant's Temporary Access Pass policy (10 to 60 minutes)",
      ],
      [{ tapPolicy: { status: 'unreadable', reason: 'no Policy.Read.All' } }, 'no Policy.Read.All'],
      [
        { mailbox: { status: 'missing', reason: 'no account it@contoso.com in the tenant' } },
        'the sending mailbox it@contoso.com cannot be used',
      ],
    ];
    for (const [onboarding, reason] of cases) {
      const plan = await planRows(spec(), rows, tenant(onboarding ? { onboarding } : {}), NOW);
      expect(ofKind(plan, 'createUser')).toHaveLength(0);
      expect(plan.blocked.find((b) => b.code === 'onboarding')?.message).toContain(reason);
      expect(plan.issues.find((i) => i.code === 'onboarding.tenant')?.message).toContain(reason);
    }
    const fine = await planRows(
      spec(),
      rows,
      tenant({
        onboarding: {
          tapPolicy: {
            status: 'read',
            enabled: true,
            allUsers: true,
            maximumLifetimeInMinutes: 480,
          },
          mailbox: { status: 'found' },
        },
      }),
      NOW,
    );
    expect(fine.blocked).toEqual([]);
  });

  it('N11: an account still awaiting its credential is onboarded again with a new one; once cleared, not', async () => {
    const ann = anAccount('ann.doe@contoso.com', {
      employeeId: '2',
      displayName: 'Ann Doe',
      department: 'Ops',
      [STATE]: ONBOARDING_PENDING,
    });
    const rows = [row('1', 'Boss'), row('2', 'Ann', '1')];
    const base = tenant();
    const boss = base.users[0]!;
    const awaiting = { users: [boss, { ...ann, managerId: boss.id }] };
    const plan = await planRows(spec(), rows, { ...awaiting }, NOW);
    expect(ofKind(plan, 'createUser')).toEqual([]);
    expect(ofKind(plan, 'onboardUser')).toHaveLength(1);
    expect(ofKind(plan, 'onboardUser')[0]?.user).toEqual({
      id: ann.id,
      userPrincipalName: 'ann.doe@contoso.com',
    });
    const done = {
      users: [
        boss,
        { ...ann, managerId: boss.id, attributes: { ...ann.attributes, [STATE]: null } },
      ],
    };
    expect(ofKind(await planRows(spec(), rows, done, NOW), 'onboardUser')).toEqual([]);
  });

  it('N12: to a personal address: the expression gives it; empty or not an address holds the hire', async () => {
    const personal = spec({
      delivery: {
        channel: 'webhook',
        to: 'personal',
        address: expr('private', 'users.onboarding.delivery.address'),
      },
    });
    const ok = await planRows(
      personal,
      [row('1', 'Boss'), row('2', 'Ann', '1', { private: 'ann@example.org' })],
      tenant(),
      NOW,
    );
    expect(ofKind(ok, 'onboardUser')[0]?.delivery).toEqual({
      channel: 'webhook',
      to: 'personal',
      recipient: 'ann@example.org',
    });
    for (const value of ['', 'not-an-address']) {
      const held = await planRows(
        personal,
        [row('1', 'Boss'), row('2', 'Ann', '1', { private: value })],
        tenant(),
        NOW,
      );
      expect(held.blocked[0]?.code).toBe('onboarding');
      expect(held.blocked[0]?.message).toContain('users.onboarding.delivery.address');
    }
  });
});
