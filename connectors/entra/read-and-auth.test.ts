/**
 * Reads (G8, privileged accounts for P3, delta for the daemon) and credentials and permissions
 * (G7 with workload identity federation, X4, X5) through the real SDK and @azure/identity
 * against the simulator.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it, onTestFinished } from 'vitest';
import { applyPlan } from '../../engine/apply/apply.js';
import { TenantReadError } from '../../engine/errors.js';
import type { Change } from '../../engine/model/plan.js';
import type { GraphConnection } from './index.js';
import {
  actionsOfChange,
  checkAccess,
  createClientAssertionCredential,
  createEntraTarget,
  githubActionsAssertion,
  readGrantedAccess,
} from './index.js';
import { createChange, harness, MARKER, planOf } from './test-helpers.js';

const GITHUB = 'https://token.actions.githubusercontent.com';
const PROD = 'repo:contoso/entrasync-config:environment:production';
const PULL_REQUEST = 'repo:contoso/entrasync-config:pull_request';

/** Another admin makes the user a pilot (`jobTitle`), through the writer. */
function pilot(id: string, userPrincipalName: string): Change {
  return {
    id: 'u',
    kind: 'updateUser',
    reason: 'attribute-drift',
    message: '',
    user: { id, userPrincipalName },
    provenance: [],
    set: [{ attribute: 'jobTitle', before: null, after: 'Pilot' }],
  };
}

function seedUsers(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    userPrincipalName: `user${i}@contoso.com`,
    displayName: `User ${i}`,
    mailNickname: `user${i}`,
    accountEnabled: true,
    employeeId: String(i),
  }));
}

describe('full read', () => {
  it('G8: a page that fails (page 2 of 3) fails the whole read: no plan from a partial tenant', async () => {
    const h = await harness({
      seed: { users: seedUsers(2100) },
      faultPlan: {
        seed: 8,
        faults: [{ kind: 'page', page: 2, mode: 'fail', match: { path: '^/users$' } }],
      },
      throttling: false,
    });
    await expect(h.target.reader.read({ userAttributes: ['employeeId'] })).rejects.toThrow(
      TenantReadError,
    );
    await expect(h.target.reader.read({ userAttributes: ['employeeId'] })).rejects.toThrow(
      /page 2 .*no plan is made from a partial tenant/,
    );
  });

  it('G8: a nextLink that repeats the page fails the read', async () => {
    const h = await harness({
      seed: { users: seedUsers(2100) },
      faultPlan: {
        seed: 8,
        faults: [{ kind: 'page', page: 2, mode: 'repeat', match: { path: '^/users$' } }],
      },
      throttling: false,
    });
    await expect(h.target.reader.read({ userAttributes: ['employeeId'] })).rejects.toThrow(
      /nextLink repeats/,
    );
  });

  it('G16: a page that fails or repeats once is read again from the first page, and the read is whole', async () => {
    for (const mode of ['fail', 'repeat'] as const) {
      const h = await harness({
        seed: { users: seedUsers(2100) },
        faultPlan: {
          seed: 8,
          faults: [
            { kind: 'page', page: 2, mode, match: { path: '^/users$' }, when: { nth: [1] } },
          ],
        },
        throttling: false,
      });
      const state = await h.target.reader.read({ userAttributes: ['employeeId'] });
      const ids = state.users.map((u) => u.id);
      expect(ids).toHaveLength(2100);
      expect(new Set(ids).size).toBe(2100);
    }
  });

  it('reads privileged accounts: active and PIM-eligible roles, role-assignable group members (P3), and restricted-unit members', async () => {
    const users = ['admin', 'eligible', 'tier0', 'exec', 'plain'].map((n) => ({
      userPrincipalName: `${n}@contoso.com`,
      displayName: n,
      mailNickname: n,
      accountEnabled: true,
    }));
    const h = await harness({
      throttling: false,
      seed: {
        users,
        groups: [
          {
            displayName: 'Tier 0',
            mailEnabled: false,
            mailNickname: 'tier0',
            securityEnabled: true,
            isAssignableToRole: true,
            members: ['tier0@contoso.com'],
          },
        ],
        roleAssignments: [{ principal: 'admin@contoso.com', role: 'Global Administrator' }],
        roleEligibilitySchedules: [
          {
            principal: 'eligible@contoso.com',
            roleDefinitionId: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
          },
        ],
        administrativeUnits: [
          {
            displayName: 'Executives',
            isMemberManagementRestricted: true,
            members: ['exec@contoso.com'],
          },
        ],
      },
    });
    const id = (upn: string): string => h.sim.store.getUserByUpn(upn)!.user.id;
    const tenant = await h.target.reader.read({ userAttributes: ['accountEnabled'] });
    const privileged = new Map(tenant.privileged?.map((p) => [p.userId, p.reason]));
    expect(privileged.get(id('admin@contoso.com'))).toBe('active role Global Administrator');
    expect(privileged.get(id('eligible@contoso.com'))).toBe(
      'eligible role Privileged Role Administrator',
    );
    expect(privileged.get(id('tier0@contoso.com'))).toBe('member of role-assignable group Tier 0');
    expect(privileged.has(id('plain@contoso.com'))).toBe(false);
    expect(tenant.protectedByTenant).toEqual([id('exec@contoso.com')]);
  });

  it('P3: owners of a role-assignable group are privileged (an owner can add members, itself included)', async () => {
    const users = ['owner', 'member', 'plainowner', 'plain'].map((n) => ({
      userPrincipalName: `${n}@contoso.com`,
      displayName: n,
      mailNickname: n,
      accountEnabled: true,
    }));
    const group = (name: string, assignable: boolean, owner: string, member: string) => ({
      displayName: name,
      mailEnabled: false,
      mailNickname: name.replace(/\s/g, ''),
      securityEnabled: true,
      isAssignableToRole: assignable,
      owners: [owner],
      members: [member],
    });
    const h = await harness({
      throttling: false,
      seed: {
        users,
        groups: [
          group('Tier 0', true, 'owner@contoso.com', 'member@contoso.com'),
          group('Team', false, 'plainowner@contoso.com', 'plain@contoso.com'),
        ],
      },
    });
    const id = (upn: string): string => h.sim.store.getUserByUpn(upn)!.user.id;
    const tenant = await h.target.reader.read({ userAttributes: ['accountEnabled'] });
    const privileged = new Map(tenant.privileged?.map((p) => [p.userId, p.reason]));
    expect(privileged.get(id('owner@contoso.com'))).toBe('owner of role-assignable group Tier 0');
    expect(privileged.get(id('member@contoso.com'))).toBe('member of role-assignable group Tier 0');
    expect(privileged.has(id('plainowner@contoso.com'))).toBe(false);
    expect(privileged.has(id('plain@contoso.com'))).toBe(false);
    // Owners of the role-assignable group only: one request, served by the simulator.
    const ownerReads = h.sim.requestLog.filter((e) =>
      /^\/v1\.0\/groups\/[^/]+\/owners/.test(e.path),
    );
    expect(ownerReads.map((e) => e.status)).toEqual([200]);
  });

  it('leaves privileged out ("unknown", never "nobody") when the app may not read roles', async () => {
    const h = await harness({
      throttling: false,
      clients: [
        {
          clientId: 'c0c0c0c0-0000-4000-8000-000000000001',
          clientSecret: 'reader-secret-123',
          roles: ['User.Read.All'],
        },
      ],
    });
    const tenant = await h.target.reader.read({ userAttributes: [] });
    expect(tenant.privileged).toBeUndefined();
  });
});

describe('verified domains', () => {
  it('reads the verified domains when asked (unverified ones do not count), nothing when not', async () => {
    const h = await harness({
      throttling: false,
      seed: {
        users: seedUsers(2),
        domains: [
          { id: 'contoso.com', isDefault: true },
          { id: 'pending.example', isVerified: false },
        ],
      },
    });
    const tenant = await h.target.reader.read({ userAttributes: [], domains: true });
    expect(tenant.domains).toEqual({
      status: 'read',
      verified: ['contoso.onmicrosoft.com', 'contoso.com'],
    });
    expect((await h.target.reader.read({ userAttributes: [] })).domains).toBeUndefined();
  });

  it('a 403 on /domains (no Domain.Read.All) does not fail the read: domains are "unreadable"', async () => {
    const h = await harness({
      throttling: false,
      seed: { users: seedUsers(3) },
      clients: [
        {
          clientId: 'c0c0c0c0-0000-4000-8000-000000000002',
          clientSecret: 'no-domains-secret-1',
          roles: ['User.Read.All', 'RoleManagement.Read.Directory'],
        },
      ],
    });
    const tenant = await h.target.reader.read({ userAttributes: [], domains: true });
    expect(tenant.users).toHaveLength(3);
    expect(tenant.domains).toMatchObject({ status: 'unreadable' });
  });

  it('the least-privilege table: Domain.Read.All (or a directory read) reads domains', () => {
    const check = (roles: string[]) =>
      checkAccess({ roles, directoryRoles: [] }, ['read verified domains']).map((f) => f.message);
    expect(check(['Domain.Read.All'])).toEqual([]);
    expect(check(['Directory.Read.All'])).toEqual([]);
    expect(check(['User.Read.All'])).toEqual([
      'missing permission Domain.Read.All for action "read verified domains" (the app holds: User.Read.All)',
    ]);
  });

  it('the least-privilege table: group-based licensing needs LicenseAssignment.ReadWrite.All (User.ReadWrite.All does not do), a revoking disable needs revoke sessions too', () => {
    const group = { kind: 'assignGroupLicenses' } as Change;
    expect(actionsOfChange(group)).toEqual(['assign group licenses']);
    const check = (roles: string[]) =>
      checkAccess({ roles, directoryRoles: [] }, actionsOfChange(group)).map((f) => f.message);
    expect(check(['LicenseAssignment.ReadWrite.All'])).toEqual([]);
    expect(check(['User.ReadWrite.All'])).toEqual([
      'missing permission LicenseAssignment.ReadWrite.All for action "assign group licenses" (the app holds: User.ReadWrite.All)',
    ]);
    expect(actionsOfChange({ kind: 'disableUser', revokeSessions: true } as Change)).toEqual([
      'enable and disable users',
      'revoke sessions',
    ]);
  });

  it('G8: any other failure of /domains fails the read', async () => {
    const h = await harness({
      throttling: false,
      seed: { users: seedUsers(3) },
      faultPlan: {
        seed: 8,
        faults: [
          { kind: 'page', page: 1, mode: 'fail', status: 500, match: { path: '^/domains$' } },
        ],
      },
    });
    await expect(h.target.reader.read({ userAttributes: [], domains: true })).rejects.toThrow(
      /reading domains failed on page 1 .*no plan is made from a partial tenant/,
    );
  });
});

describe('delta reads for the daemon', () => {
  it('first a full read, then only changes; an expired token falls back to a full read, never "everything changed"', async () => {
    const h = await harness({ seed: { users: seedUsers(5) }, throttling: false });
    const request = { userAttributes: ['employeeId', 'jobTitle', MARKER] };
    const first = await h.target.delta.read(request);
    expect(first).toMatchObject({ mode: 'full', reason: 'first' });
    expect(first.tenant.users).toHaveLength(5);

    const user1 = h.sim.store.getUserByUpn('user1@contoso.com')!.user.id;
    await applyPlan(planOf([pilot(user1, 'user1@contoso.com'), createChange(9)]), h.target.writer);
    const second = await h.target.delta.read(request);
    expect(second).toMatchObject({ mode: 'delta', changed: 2, removed: 0 });
    expect(second.tenant.users).toHaveLength(6);
    expect(second.tenant.users.find((u) => u.id === user1)?.attributes).toMatchObject({
      employeeId: '1',
      jobTitle: 'Pilot',
    });

    h.clock.advance(8 * 24 * 3600 * 1000); // past the 7-day delta token lifetime
    const third = await h.target.delta.read(request);
    expect(third).toMatchObject({ mode: 'full', reason: 'interval' });
    expect(third.tenant.users).toHaveLength(6);
  });

  it('a delta round with no changes hands back the very same tenant object (what lets the daemon reuse its plan)', async () => {
    const h = await harness({ seed: { users: seedUsers(4) }, throttling: false });
    const request = { userAttributes: ['employeeId', 'jobTitle', MARKER] };
    const first = await h.target.delta.read(request);
    const before = h.sim.requestLog.length;
    const second = await h.target.delta.read(request);
    expect(second).toMatchObject({ mode: 'delta', changed: 0, removed: 0 });
    expect(second.tenant).toBe(first.tenant);
    const paths = h.sim.requestLog.slice(before).map((e) => e.path);
    expect(paths.filter((p) => p.includes('/users/delta'))).toHaveLength(1);

    const user2 = h.sim.store.getUserByUpn('user2@contoso.com')!.user.id;
    await applyPlan(planOf([pilot(user2, 'user2@contoso.com')]), h.target.writer);
    const third = await h.target.delta.read(request);
    expect(third).toMatchObject({ mode: 'delta', changed: 1 });
    expect(third.tenant).not.toBe(first.tenant);
    const fourth = await h.target.delta.read(request);
    expect(fourth.tenant).toBe(third.tenant);
  });

  it('A9: a full read carries signInSessionsValidFromDateTime when asked (outside the attributes); delta rounds leave it out, and a revoke moves it', async () => {
    const h = await harness({ seed: { users: seedUsers(2) }, throttling: false });
    const plain = await h.target.reader.read({ userAttributes: ['employeeId'] });
    expect(plain.users[0]).not.toHaveProperty('signInSessionsValidFromDateTime');
    const request = { userAttributes: ['employeeId'], signInSessions: true };
    const full = await h.target.reader.read(request);
    const created = h.sim.store.getUserByUpn('user1@contoso.com')!.user['createdDateTime'];
    const user1 = full.users.find((u) => u.userPrincipalName === 'user1@contoso.com')!;
    expect(user1.signInSessionsValidFromDateTime).toBe(created);
    expect(user1.attributes).not.toHaveProperty('signInSessionsValidFromDateTime');

    const first = await h.target.delta.read(request);
    expect(first.mode).toBe('full');
    expect(first.tenant.users.every((u) => u.signInSessionsValidFromDateTime !== undefined)).toBe(
      true,
    );
    const round = await h.target.delta.read(request);
    expect(round.mode).toBe('delta');
    expect(round.tenant.users.some((u) => u.signInSessionsValidFromDateTime !== undefined)).toBe(
      false,
    );

    const revoke: Change = {
      id: `revokeSessions:${user1.id}`,
      kind: 'revokeSessions',
      reason: 'left-source',
      message: '',
      user: { id: user1.id, userPrincipalName: user1.userPrincipalName },
      provenance: [],
    };
    const report = await applyPlan(planOf([revoke]), h.target.writer);
    expect(report.ops.map((op) => op.outcome)).toEqual(['applied']);
    const after = (await h.target.reader.read(request)).users.find((u) => u.id === user1.id)!;
    expect(after.signInSessionsValidFromDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(
      h.sim.requestLog.some((e) => e.path.endsWith(`/users/${user1.id}/revokeSignInSessions`)),
    ).toBe(true);
  });

  it('managed groups come by /groups/delta too: members added and removed, other groups left out', async () => {
    const group = (uniqueName: string) => ({
      displayName: uniqueName,
      mailEnabled: false,
      mailNickname: uniqueName,
      securityEnabled: true,
      uniqueName,
    });
    const h = await harness({
      seed: { users: seedUsers(3), groups: [group('entrasync-team'), group('other-team')] },
      throttling: false,
    });
    const request = { userAttributes: ['employeeId', MARKER], groupPrefix: 'entrasync-' };
    const first = await h.target.delta.read(request);
    expect(first.mode).toBe('full');
    expect(first.tenant.groups?.map((g) => g.uniqueName)).toEqual(['entrasync-team']);
    const ours = first.tenant.groups?.[0];
    const other = h.sim.store.getGroupByUniqueName('other-team')?.doc;
    const user = (i: number) => {
      const found = h.sim.store.getUserByUpn(`user${i}@contoso.com`);
      if (!found) throw new Error(`no user${i}`);
      return { id: found.user.id, userPrincipalName: `user${i}@contoso.com` };
    };
    const members = (kind: 'addMembers' | 'removeMembers', groupId: string, who: number[]) => ({
      id: `${kind}:${groupId}:${who.join(',')}`,
      kind,
      reason: 'group-rule' as const,
      message: '',
      provenance: [],
      group: { id: groupId, uniqueName: '', displayName: '' },
      members: who.map(user),
    });
    const report = await applyPlan(
      planOf([
        members('addMembers', ours!.id, [0, 1]),
        members('addMembers', String(other!['id']), [2]),
      ]),
      h.target.writer,
    );
    expect(report.ops.map((r) => r.outcome)).toEqual(['applied', 'applied']);

    const second = await h.target.delta.read(request);
    expect(second.mode).toBe('delta');
    expect(second.tenant.groups?.map((g) => g.uniqueName)).toEqual(['entrasync-team']);
    expect([...(second.tenant.groups?.[0]?.memberIds ?? [])].sort()).toEqual(
      [user(0).id, user(1).id].sort(),
    );
    const third = await h.target.delta.read(request);
    expect(third.tenant).toBe(second.tenant);

    await applyPlan(planOf([members('removeMembers', ours!.id, [0])]), h.target.writer);
    const fourth = await h.target.delta.read(request);
    expect(fourth.tenant.groups?.[0]?.memberIds).toEqual([user(1).id]);
    expect(fourth.tenant.groups?.[0]).toMatchObject({
      displayName: 'entrasync-team',
      securityEnabled: true,
    });
  });

  it('P3 between full reads: a member added to a role-assignable group is privileged at the next delta cycle, at four Graph requests however many such groups', async () => {
    const users = ['tier0', 'newadmin', 'plain'].map((n) => ({
      userPrincipalName: `${n}@contoso.com`,
      displayName: n,
      mailNickname: n,
      accountEnabled: true,
    }));
    const tier = (n: number) => ({
      displayName: `Tier ${n}`,
      mailEnabled: false,
      mailNickname: `tier${n}`,
      securityEnabled: true,
      isAssignableToRole: true,
      members: n === 0 ? ['tier0@contoso.com'] : [],
    });
    const h = await harness({
      throttling: false,
      seed: { users, groups: [tier(0), tier(1), tier(2)] },
    });
    const id = (upn: string): string => h.sim.store.getUserByUpn(upn)!.user.id;
    const request = { userAttributes: ['employeeId'] };
    const first = await h.target.delta.read(request);
    expect(first.mode).toBe('full');
    await h.target.delta.read(request); // fills the role names and groups kept between full reads
    const privilegedOf = (t: { privileged?: readonly { userId: string; reason: string }[] }) =>
      new Map(t.privileged?.map((p) => [p.userId, p.reason]));
    expect(privilegedOf(first.tenant).has(id('newadmin@contoso.com'))).toBe(false);

    const tier1 = h.sim.store
      .queryObjects({ kind: 'group', state: 'active', afterSeq: 0, limit: 10 })
      .find((g) => g.doc['displayName'] === 'Tier 1');
    // Another admin adds newadmin to Tier 1 (a role-assignable group: entrasync never would).
    h.sim.store.addLinks(
      'member',
      String(tier1?.doc.id),
      [id('newadmin@contoso.com')],
      h.clock.now(),
    );

    const before = h.sim.requestLog.length;
    const next = await h.target.delta.read(request);
    expect(next.mode).toBe('delta');
    expect(privilegedOf(next.tenant).get(id('newadmin@contoso.com'))).toBe(
      'member of role-assignable group Tier 1',
    );
    expect(privilegedOf(next.tenant).get(id('tier0@contoso.com'))).toBe(
      'member of role-assignable group Tier 0',
    );
    const paths = h.sim.requestLog.slice(before).map((e) => e.path.split('?')[0]);
    expect(paths).toEqual([
      '/v1.0/users/delta',
      '/v1.0/groups/delta',
      '/v1.0/roleManagement/directory/roleAssignments',
      '/v1.0/roleManagement/directory/roleEligibilitySchedules',
    ]);
  });

  it('readDelta throws on an expired token so the caller reads in full', async () => {
    const h = await harness({
      seed: { users: seedUsers(3) },
      throttling: false,
      target: { fullReadIntervalMs: 30 * 24 * 3600 * 1000 },
    });
    const request = { userAttributes: ['employeeId'] };
    const reader = h.target.delta;
    await reader.readFull(request);
    h.clock.advance(8 * 24 * 3600 * 1000);
    await expect(reader.readDelta(request)).rejects.toThrow(/expired/);
    const again = await reader.read(request);
    expect(again).toMatchObject({ mode: 'full', reason: 'expired' });
    expect(again.tenant.users).toHaveLength(3);
  });
});

/** A stand-in for GitHub's OIDC token endpoint: signs a 5-minute token per request. */
async function githubOidc(subject: string): Promise<{
  env: NodeJS.ProcessEnv;
  publicKeyPem: string;
  calls: () => number;
}> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.headers.authorization !== 'bearer canary-request-token-4711') {
      res.writeHead(401).end();
      return;
    }
    void new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(GITHUB)
      .setSubject(subject)
      .setAudience(url.searchParams.get('audience') ?? '')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey)
      .then((value) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value })),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'canary-request-token-4711',
    },
    publicKeyPem: await exportSPKI(publicKey),
    calls: () => calls,
  };
}

describe('credentials and permissions', () => {
  it('G7 with workload identity federation: a 401 mid-run fetches a fresh GitHub token for the new assertion; the run completes', async () => {
    const oidc = await githubOidc(PROD);
    const writerId = 'a1a1a1a1-0000-4000-8000-000000000001';
    const h = await harness({
      clients: [
        {
          clientId: writerId,
          roles: ['User.ReadWrite.All', 'RoleManagement.Read.Directory'],
          federatedCredentials: [
            {
              issuer: GITHUB,
              subject: PROD,
              audiences: ['api://AzureADTokenExchange'],
              publicKeyPem: oidc.publicKeyPem,
            },
          ],
        },
      ],
      faultPlan: {
        seed: 7,
        faults: [{ kind: 'unauthorized', revokeTokens: true, when: { nth: [3] } }],
      },
    });
    const target = createEntraTarget(
      h.connection,
      () =>
        createClientAssertionCredential(h.connection, writerId, githubActionsAssertion(oidc.env)),
      { clock: h.clock, batchSize: 4, concurrency: 1 },
    );
    const report = await applyPlan(
      planOf(Array.from({ length: 12 }, (_, i) => createChange(i))),
      target.writer,
    );
    expect(report.ops.every((o) => o.outcome === 'applied')).toBe(true);
    expect(report.stats?.tokenRefreshes).toBe(1);
    // Two token acquisitions, each with GitHub tokens fetched for it (never one reused).
    expect(h.sim.requestLog.filter((e) => e.path.includes('/oauth2/v2.0/token'))).toHaveLength(2);
    expect(oidc.calls()).toBeGreaterThanOrEqual(2);
    expect(oidc.calls() % 2).toBe(0);
    const everything = JSON.stringify({ report, log: h.sim.requestLog });
    expect(everything).not.toContain('canary-request-token-4711');
    expect(everything).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('X4: the pull-request identity cannot write (missing permission, and Graph answers 403), and its federated subject cannot get the apply identity', async () => {
    const pr = await githubOidc(PULL_REQUEST);
    const writerId = 'a1a1a1a1-0000-4000-8000-000000000001';
    const plannerId = 'b2b2b2b2-0000-4000-8000-000000000002';
    const h = await harness({
      throttling: false,
      clients: [
        {
          clientId: writerId,
          roles: ['User.ReadWrite.All'],
          federatedCredentials: [{ issuer: GITHUB, subject: PROD, publicKeyPem: pr.publicKeyPem }],
        },
        {
          clientId: plannerId,
          roles: ['User.Read.All', 'RoleManagement.Read.Directory'],
          federatedCredentials: [
            { issuer: GITHUB, subject: PULL_REQUEST, publicKeyPem: pr.publicKeyPem },
          ],
        },
      ],
    });
    const connection: GraphConnection = h.connection;
    const planner = createEntraTarget(
      connection,
      () => createClientAssertionCredential(connection, plannerId, githubActionsAssertion(pr.env)),
      { clock: h.clock },
    );
    const access = await readGrantedAccess(planner.credential, connection.graphUrl);
    expect(checkAccess(access, ['read users', 'create users']).map((f) => f.message)).toEqual([
      'missing permission User.ReadWrite.All for action "create users" (the app holds: User.Read.All, RoleManagement.Read.Directory)',
    ]);
    const report = await applyPlan(planOf([createChange(1)]), planner.writer);
    expect(report.ops[0]?.error).toMatchObject({
      status: 403,
      code: 'Authorization_RequestDenied',
      class: 'permission',
    });

    // The pull-request token does not match the apply identity's federated subject.
    const stolen = createEntraTarget(
      connection,
      () => createClientAssertionCredential(connection, writerId, githubActionsAssertion(pr.env)),
      { clock: h.clock },
    );
    const denied = await applyPlan(planOf([createChange(2)]), stolen.writer);
    expect(denied.ops[0]?.error?.class).toBe('auth');
    expect(denied.ops[0]?.error?.message).toMatch(/AADSTS70021|AADSTS700211/);
    expect(h.sim.store.getUserByUpn('person1@contoso.com')).toBeUndefined();
    expect(h.sim.store.getUserByUpn('person2@contoso.com')).toBeUndefined();
  });

  it('X5: excess privilege (Directory.ReadWrite.All) warns; a config that disables users without User.EnableDisableAccount.All is "missing permission X for action Y"', async () => {
    const h = await harness({
      throttling: false,
      clients: [
        {
          clientId: 'd4d4d4d4-0000-4000-8000-000000000004',
          clientSecret: 'broad-secret-123',
          roles: ['Directory.ReadWrite.All'],
        },
        {
          clientId: 'e5e5e5e5-0000-4000-8000-000000000005',
          clientSecret: 'narrow-secret-123',
          roles: ['User.Read.All'],
        },
      ],
    });
    const broad = await readGrantedAccess(h.target.credential, h.connection.graphUrl);
    expect(checkAccess(broad, ['create users', 'enable and disable users'])).toEqual([
      expect.objectContaining({
        code: 'permission.excess',
        message: expect.stringContaining('Directory.ReadWrite.All'),
      }),
    ]);
    expect(
      checkAccess({ roles: ['User.Read.All'], directoryRoles: [] }, ['enable and disable users']),
    ).toEqual([
      expect.objectContaining({
        code: 'permission.missing',
        message: expect.stringMatching(
          /^missing permission User\.EnableDisableAccount\.All \+ User\.Read\.All for action "enable and disable users"/,
        ),
      }),
    ]);
    expect(
      checkAccess(
        { roles: ['User.EnableDisableAccount.All', 'User.Read.All'], directoryRoles: [] },
        ['enable and disable users'],
      ),
    ).toEqual([]);
    expect(
      checkAccess({ roles: [], directoryRoles: ['62e90394-69f5-4237-9190-012177145e10'] }, []),
    ).toEqual([expect.objectContaining({ code: 'permission.directory-role' })]);
  });
});
