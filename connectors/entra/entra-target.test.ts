/**
 * The Entra target through the real Graph SDK and @azure/identity against the simulator over
 * HTTPS: full paged reads, writes, and per-object Graph errors recorded against their change.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { applyPlan } from '../../engine/apply/apply.js';
import type { Change, Plan } from '../../engine/model/plan.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { createClientSecretCredential, createEntraTarget } from './index.js';
import type { EntraTarget } from './index.js';
import { initialPassword } from './write.js';

const MARKER = 'onPremisesExtensionAttributes.extensionAttribute15';
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

async function connect(
  users: Record<string, unknown>[] = [],
): Promise<{ sim: RunningSimulator; target: EntraTarget }> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-entra-'));
  temps.push(dir);
  const seedPath = join(dir, 'seed.json');
  writeFileSync(seedPath, JSON.stringify({ users }));
  const sim = await startSimulator({ seedPath });
  onTestFinished(() => sim.close());
  const client = sim.clients[0]!;
  const connection = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  return {
    sim,
    target: createEntraTarget(
      connection,
      createClientSecretCredential(connection, client.clientId, client.clientSecret),
    ),
  };
}

function aSeedUser(i: number, extra: Record<string, unknown> = {}) {
  return {
    userPrincipalName: `user${i}@contoso.com`,
    displayName: `User ${i}`,
    mailNickname: `user${i}`,
    accountEnabled: true,
    employeeId: String(i),
    ...extra,
  };
}

function planOf(changes: Change[]): Plan {
  return {
    formatVersion: 1,
    fingerprint: 'f',
    configDigest: 'c',
    tenantDigest: 't',
    sources: [],
    changes,
    blocked: [],
    warnings: [],
    issues: [],
    ignored: [],
    managedUsers: 0,
  };
}

describe('entra target', () => {
  it('reads every user across pages of 999, flattening nested attributes', async () => {
    const users = Array.from({ length: 2100 }, (_, i) =>
      aSeedUser(
        i,
        i % 2 === 0 ? { onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync' } } : {},
      ),
    );
    const { sim, target } = await connect(users);
    const tenant = await target.reader.read({
      userAttributes: ['employeeId', 'accountEnabled', MARKER],
    });
    expect(tenant.users).toHaveLength(2100);
    expect(new Set(tenant.users.map((u) => u.userPrincipalName)).size).toBe(2100);
    expect(
      tenant.users.find((u) => u.userPrincipalName === 'user4@contoso.com')?.attributes,
    ).toEqual({
      employeeId: '4',
      accountEnabled: true,
      [MARKER]: 'entrasync',
    });
    expect(
      tenant.users.find((u) => u.userPrincipalName === 'user5@contoso.com')?.attributes[MARKER],
    ).toBeNull();
    const listCalls = sim.requestLog.filter(
      (r) =>
        r.method === 'GET' &&
        r.path.startsWith('/v1.0/users') &&
        !r.path.startsWith('/v1.0/users/$count'),
    );
    expect(listCalls).toHaveLength(3);
    // The count that decides whether to read in shards (read-users.ts): under 5,000, one pass.
    expect(sim.requestLog.filter((r) => r.path === '/v1.0/users/$count')).toHaveLength(1);
  });

  it('creates, updates and disables users; a Graph error is recorded against its object and the rest proceed (invariant 6)', async () => {
    const { target } = await connect([aSeedUser(1), aSeedUser(2)]);
    const before = await target.reader.read({ userAttributes: ['employeeId'] });
    const id1 = before.users.find((u) => u.userPrincipalName === 'user1@contoso.com')!.id;
    const id2 = before.users.find((u) => u.userPrincipalName === 'user2@contoso.com')!.id;
    const create = (upn: string): Change => ({
      id: `createUser:${upn}`,
      kind: 'createUser',
      reason: 'new-person',
      message: '',
      user: { userPrincipalName: upn },
      provenance: [],
      attributes: {
        userPrincipalName: upn,
        displayName: upn,
        mailNickname: upn.split('@')[0]!,
        accountEnabled: true,
        [MARKER]: 'entrasync',
      },
    });
    const report = await applyPlan(
      planOf([
        create('new.person@contoso.com'),
        create('USER1@contoso.com'), // UPN taken (case-insensitively): Graph answers 400
        {
          id: 'u',
          kind: 'updateUser',
          reason: 'attribute-drift',
          message: '',
          user: { id: id1, userPrincipalName: 'user1@contoso.com' },
          provenance: [],
          set: [
            { attribute: 'department', before: null, after: 'Sales' },
            { attribute: MARKER, before: null, after: 'entrasync' },
          ],
        },
        {
          id: 'd',
          kind: 'disableUser',
          reason: 'left-source',
          message: '',
          user: { id: id2, userPrincipalName: 'user2@contoso.com' },
          provenance: [],
        },
      ]),
      target.writer,
    );
    expect(
      report.ops.map((o) => [o.user.userPrincipalName, o.outcome, o.error?.status, o.error?.code]),
    ).toEqual([
      ['new.person@contoso.com', 'applied', undefined, undefined],
      ['USER1@contoso.com', 'failed', 400, 'Request_BadRequest'],
      ['user1@contoso.com', 'applied', undefined, undefined],
      ['user2@contoso.com', 'applied', undefined, undefined],
    ]);
    expect(report.ops[1]?.error?.message).toContain('userPrincipalName already exists');

    const after = await target.reader.read({
      userAttributes: ['department', 'accountEnabled', MARKER],
    });
    const byUpn = new Map(after.users.map((u) => [u.userPrincipalName, u.attributes]));
    expect(byUpn.get('new.person@contoso.com')).toMatchObject({
      accountEnabled: true,
      [MARKER]: 'entrasync',
    });
    expect(byUpn.get('user1@contoso.com')).toMatchObject({
      department: 'Sales',
      [MARKER]: 'entrasync',
    });
    expect(byUpn.get('user2@contoso.com')).toMatchObject({ accountEnabled: false });
    expect(after.users).toHaveLength(3);
  });
});

describe('initialPassword', () => {
  it('has 24 characters with upper, lower, digit and symbol, and differs every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const p = initialPassword();
      expect(p).toHaveLength(24);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(/[!#%+\-=?@]/);
      seen.add(p);
    }
    expect(seen.size).toBe(500);
  });
});
