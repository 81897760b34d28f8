/**
 * group-owners.ts on its own (issue 26): additions before removals, a removal that requires
 * them, nothing removed when no listed owner has an account, protected and privileged owners
 * kept, owners not read (a delta cycle) changing nothing. Literal data.
 */
import { describe, expect, it } from 'vitest';
import type { TenantGroup, TenantUser } from '../model/tenant.js';
import { aGroup, anAccount } from '../../test/helpers/builders.js';
import type { DesiredGroup } from './access-model.js';
import { newFindings } from './access-model.js';
import { ownerChanges } from './group-owners.js';
import type { Ownership } from './ownership.js';

const ann = anAccount('ann@contoso.com', {}, { id: 'u-ann' });
const bob = anAccount('bob@contoso.com', {}, { id: 'u-bob' });
const cat = anAccount('cat@contoso.com', {}, { id: 'u-cat' });
const users: TenantUser[] = [ann, bob, cat];
const byUpn = () => new Map(users.map((u) => [u.userPrincipalName, u]));
const byId = () => new Map(users.map((u) => [u.id, u]));

function desired(owners: string[]): DesiredGroup {
  return {
    uniqueName: 'entrasync-leads',
    displayName: 'Leads',
    description: null,
    type: 'security',
    owners,
    licenses: [],
    configPath: 'groups[0]',
    members: new Map(),
    provenance: [],
  };
}

function plan(owners: string[], existing: TenantGroup, ownership = new Map<string, Ownership>()) {
  const out = newFindings();
  const ref = { id: existing.id, uniqueName: existing.uniqueName, displayName: 'Leads' };
  ownerChanges(out, { desired: desired(owners), existing, ref }, byUpn, byId, ownership);
  return out;
}

describe('group owners', () => {
  it('GO6: adds the missing owners, then removes the others after them', () => {
    const out = plan(['bob@contoso.com'], aGroup('entrasync-leads', { ownerIds: ['u-ann'] }));
    expect(
      out.changes.map((c) => [
        c.id,
        c.kind === 'addOwners' || c.kind === 'removeOwners'
          ? c.owners.map((o) => o.userPrincipalName)
          : [],
        c.requires,
      ]),
    ).toEqual([
      ['addOwners:entrasync-leads', ['bob@contoso.com'], undefined],
      ['removeOwners:entrasync-leads', ['ann@contoso.com'], ['addOwners:entrasync-leads']],
    ]);
  });

  it('GO7: never a group without an owner, protected and privileged owners kept, owners not read change nothing', () => {
    const none = plan(['gone@contoso.com'], aGroup('entrasync-leads', { ownerIds: ['u-ann'] }));
    expect(none.changes).toEqual([]);
    expect(none.warnings.map((w) => w.code)).toEqual(['group.unknown-owner', 'group.no-owner']);

    const kept = plan(
      ['bob@contoso.com'],
      aGroup('entrasync-leads', { ownerIds: ['u-ann', 'u-bob', 'u-cat'] }),
      new Map<string, Ownership>([
        ['u-ann', 'protected'],
        ['u-cat', 'privileged'],
      ]),
    );
    expect(kept.changes).toEqual([]);

    const unread = plan(['bob@contoso.com'], aGroup('entrasync-leads'));
    expect(unread.changes).toEqual([]);
  });
});
