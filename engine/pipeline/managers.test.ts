/**
 * managers.ts on its own: `setManager` from the source's manager key, and the warnings for an
 * unknown manager and a person named as their own. Literal data, no pipeline.
 */
import { describe, expect, it } from 'vitest';
import type { DesiredUser } from '../model/desired.js';
import type { TenantState } from '../model/tenant.js';
import { aSpec, anAccount } from '../../test/helpers/builders.js';
import type { AccountRef } from './access-model.js';
import { accessContext, newFindings } from './access-model.js';
import { managerChanges } from './managers.js';

function person(n: number, managerKey?: string): DesiredUser {
  return {
    personKey: `hr:${n}`,
    anchor: String(n),
    attributes: { userPrincipalName: `p${n}@contoso.com`, accountEnabled: true },
    provenance: [],
    ...(managerKey === undefined ? {} : { managerKey }),
  };
}

function run(
  users: DesiredUser[],
  accounts: Map<DesiredUser, AccountRef>,
  tenant: TenantState,
  manager = 'manager_id',
) {
  const spec = aSpec({ manager });
  const out = newFindings();
  managerChanges(
    out,
    accessContext({ spec, users, accounts, leavers: new Map(), ownership: new Map(), tenant }),
  );
  return out;
}

describe('managers', () => {
  const boss = person(1);
  const ada = person(2, '1');
  const bob = person(3, '1');
  const self = person(4, '4');
  const lost = person(5, '99');
  const accounts = new Map<DesiredUser, AccountRef>([
    [boss, { id: 'boss', userPrincipalName: 'boss@contoso.com' }],
    [ada, { id: 'ada', userPrincipalName: 'ada@contoso.com' }],
    [bob, { userPrincipalName: 'bob@contoso.com', createdBy: 'createUser:hr:3' }],
    [self, { id: 'self', userPrincipalName: 'self@contoso.com' }],
    [lost, { id: 'lost', userPrincipalName: 'lost@contoso.com' }],
  ]);
  const tenant: TenantState = {
    users: [
      anAccount('boss@contoso.com', {}, { id: 'boss' }),
      { ...anAccount('ada@contoso.com', {}, { id: 'ada' }), managerId: 'boss' },
      anAccount('self@contoso.com', {}, { id: 'self' }),
      anAccount('lost@contoso.com', {}, { id: 'lost' }),
    ],
  };

  it('sets the manager where it differs (a new account after its create); warns for unknown and self managers', () => {
    const out = run([lost, self, bob, ada, boss], accounts, tenant);
    expect(out.changes).toEqual([
      {
        id: 'setManager:bob@contoso.com',
        kind: 'setManager',
        reason: 'manager',
        rule: 'users.manager',
        message: 'set the manager of bob@contoso.com to boss@contoso.com',
        user: { userPrincipalName: 'bob@contoso.com' },
        manager: { id: 'boss', userPrincipalName: 'boss@contoso.com' },
        provenance: [],
        requires: ['createUser:hr:3'],
      },
    ]);
    // person-key order: hr:4 before hr:5
    expect(out.warnings.map((w) => `${w.code} ${w.subject ?? ''}`)).toEqual([
      'manager.self self@contoso.com',
      'manager.unknown lost@contoso.com',
    ]);
  });

  it('without users.manager nothing is done', () => {
    const spec = aSpec();
    const out = newFindings();
    managerChanges(
      out,
      accessContext({
        spec,
        users: [bob],
        accounts,
        leavers: new Map(),
        ownership: new Map(),
        tenant,
      }),
    );
    expect(out.changes).toEqual([]);
    expect(out.warnings).toEqual([]);
  });
});
