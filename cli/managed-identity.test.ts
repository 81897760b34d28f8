/**
 * `target.auth: { method: managed-identity }` end to end: the config loader, the CLI's plan and
 * apply, @azure/identity's real ManagedIdentityCredential (msal-node's App Service source, found
 * through IDENTITY_ENDPOINT and IDENTITY_HEADER) and the simulator's `/msi/token`, whose tokens
 * carry the managed identity's roles. msal-node picks the endpoint and keeps its token cache
 * once per process, so this file starts a single simulator and sets the variables first.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as run } from '../test/helpers/cli.js';
import { createEntraTarget, createManagedIdentityCredential } from '../connectors/entra/index.js';
import type { GraphConnection } from '../connectors/entra/index.js';
import { createChange, planOf } from '../connectors/entra/test-helpers.js';
import { applyPlan } from '../engine/apply/apply.js';
import type { Plan } from '../engine/index.js';
import { DEFAULT_CLIENT_ROLES, startSimulator } from '../simulator/index.js';
import type { RunningSimulator } from '../simulator/index.js';

const WRITER = '7a7a7a7a-0000-4000-8000-00000000000a'; // user-assigned, for plan and apply
const REFRESHED = '7b7b7b7b-0000-4000-8000-00000000000b'; // user-assigned, meets a 401 (G7)
const SYSTEM = '7c7c7c7c-0000-4000-8000-00000000000c'; // the host's system-assigned one

let dir: string;
let sim: RunningSimulator;
const saved = {
  endpoint: process.env['IDENTITY_ENDPOINT'],
  header: process.env['IDENTITY_HEADER'],
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'entrasync-msi-'));
  sim = await startSimulator({
    throttling: false,
    managedIdentities: [
      { clientId: WRITER, roles: [...DEFAULT_CLIENT_ROLES] },
      { clientId: REFRESHED, roles: ['User.ReadWrite.All'] },
      { clientId: SYSTEM, roles: ['User.Read.All'], systemAssigned: true },
    ],
    // The third write of REFRESHED's run answers 401 and invalidates every token so far.
    faultPlan: {
      seed: 1,
      faults: [
        {
          kind: 'unauthorized',
          revokeTokens: true,
          match: { clientId: REFRESHED },
          when: { nth: [3] },
        },
      ],
    },
    seed: {
      users: [
        {
          userPrincipalName: 'stays@contoso.com',
          displayName: 'stays',
          mailNickname: 'stays',
          accountEnabled: true,
          employeeId: '1',
          department: 'Ops',
          onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync:hr' },
        },
      ],
    },
  });
  process.env['IDENTITY_ENDPOINT'] = sim.managedIdentity!.endpoint;
  process.env['IDENTITY_HEADER'] = sim.managedIdentity!.header;
  writeFileSync(join(dir, 'people.csv'), 'id,name,dept\n1,stays,Sales\n2,newone,Ops\n');
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  for (const [name, value] of [
    ['IDENTITY_ENDPOINT', saved.endpoint],
    ['IDENTITY_HEADER', saved.header],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('managed identity (App Service endpoint of the simulator)', () => {
  it("plan and apply through target.auth managed-identity: tokens from /msi/token with the identity's roles, no secret anywhere", async () => {
    const config = join(dir, 'entrasync.yaml');
    writeFileSync(
      config,
      `version: 1
target:
  auth: { method: managed-identity, clientId: ${WRITER} }
  graphUrl: ${sim.origin}
  caFile: ${sim.caFile}
sources:
  hr: { kind: csv, path: people.csv, key: id }
users:
  anchor: id
  attributes:
    userPrincipalName: "name & '@contoso.com'"
    displayName: name
    mailNickname: name
    department: dept
safety:
  minSourceRatio: 0
`,
    );
    const planned = await run('plan', '-c', config, '-f', 'json');
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(2);
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(plan.changes.map((c) => c.kind).sort()).toEqual(['createUser', 'updateUser']);
    // The identity holds the least-privileged write set: no permission warning.
    expect(plan.warnings.filter((w) => w.code.startsWith('permission.'))).toEqual([]);

    const applied = await run(
      'apply',
      '--auto-approve',
      '-c',
      config,
      '--no-journal',
      '--no-progress',
    );
    expect(applied.code).toBe(0);
    expect(sim.store.getUserByUpn('newone@contoso.com')).toBeDefined();
    expect(sim.store.getUserByUpn('stays@contoso.com')?.user['department']).toBe('Sales');
    expect((await run('plan', '-c', config)).code).toBe(0);

    const tokenRequests = sim.requestLog.filter((e) => e.path.startsWith('/msi/token'));
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.every((e) => e.status === 200 && e.clientId === WRITER)).toBe(true);
    expect(sim.requestLog.some((e) => e.path.includes('/oauth2/v2.0/token'))).toBe(false);
    const writes = sim.requestLog.filter((e) => e.method !== 'GET');
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((e) => e.clientId === WRITER)).toBe(true);
    // The identity header is a secret: never in the log.
    expect(JSON.stringify(sim.requestLog)).not.toContain(sim.managedIdentity!.header);
  });

  it('the system-assigned identity without a clientId; the endpoint refuses a wrong IDENTITY_HEADER', async () => {
    const system = createManagedIdentityCredential(undefined, { caPem: sim.caPem });
    const token = await system.getToken('https://graph.microsoft.com/.default');
    const claims = JSON.parse(
      Buffer.from(token!.token.split('.')[1]!, 'base64url').toString('utf8'),
    ) as { appid: string; roles: string[] };
    expect(claims).toMatchObject({ appid: SYSTEM, roles: ['User.Read.All'] });

    const url = new URL(sim.managedIdentity!.endpoint);
    url.searchParams.set('api-version', '2019-08-01');
    url.searchParams.set('resource', 'https://graph.microsoft.com');
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(url, { ca: sim.caPem, headers: { 'X-IDENTITY-HEADER': 'wrong' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(401);
  });

  // Known limitation, pinned so it is noticed when it changes: G7 does not hold for managed
  // identity. A refresh builds a new ManagedIdentityCredential (as for every method), but
  // @azure/identity 4.13.1 passes neither claims nor forceRefresh to msal-node, whose managed
  // identity token cache is process-wide (a static of ManagedIdentityApplication): the new
  // credential gets the same revoked token, so the retried ops fail again with 401 (bounded: one
  // retry each, class `auth`, counted by the circuit breaker). Real App Service caches tokens
  // server-side too, so only a new process after the token's expiry is sure to get a new one.
  it("G7 with managed identity (known limitation): after a 401 the refreshed credential still gets msal's cached token; ops fail as auth errors, retried once, no token storm", async () => {
    const connection: GraphConnection = {
      graphUrl: sim.origin,
      tenantId: 'organizations',
      caPem: sim.caPem,
    };
    const target = createEntraTarget(
      connection,
      () => createManagedIdentityCredential(REFRESHED, connection),
      { batchSize: 4, concurrency: 1 },
    );
    const report = await applyPlan(
      planOf(Array.from({ length: 12 }, (_, i) => createChange(i, 'contoso.com'))),
      target.writer,
    );
    const failed = report.ops.filter((o) => o.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((o) => o.error?.status === 401 && o.error.class === 'auth')).toBe(true);
    expect(report.stats?.tokenRefreshes).toBeGreaterThanOrEqual(1);
    // One token for the whole run: each refresh was answered from msal's process-wide cache.
    const tokens = sim.requestLog.filter(
      (e) => e.path.startsWith('/msi/token') && e.clientId === REFRESHED,
    );
    expect(tokens).toHaveLength(1);
  });
});
