/**
 * Benchmark: apply speed against Graph's write ceiling, on the simulator's throttled buckets and
 * virtual clock (so minutes of simulated Graph time take seconds). Onboards N new users, each
 * with a license and 3 group memberships, through the real SDK, the engine's scheduler and the
 * entra writer:
 *
 * - users: `createUser` changes from a plan (batched 20 per `$batch`);
 * - licenses: one `assignLicense` per user (direct assignment; group-based licensing would make
 *   this 0 writes per user);
 * - memberships: 3 groups, 20 members per `members@odata.bind` PATCH.
 *
 * Prints writes per second as a fraction of the ceiling (3,000 writes per 150 s per app and
 * tenant = 20/s), writes per new user and 429s received; once with the default pacing, once with
 * pacing set to twice the ceiling (the simulator's bucket then runs dry and answers 429s with
 * Retry-After). Asserts nothing.
 *
 * Random fault-plan 429s (catalogue G1) are covered by tests, not here: the virtual clock jumps
 * to the next sleeper whenever the event loop turns, also while other requests' real I/O is in
 * flight, so rates measured in virtual time under many concurrent Retry-After waits understate
 * what the same schedule achieves on a real clock.
 *
 *   npm run bench -- apply            (ENTRASYNC_BENCH_USERS=2000 by default)
 */
import { applyPlan } from '../engine/apply/apply.js';
import type { CreateUserChange, Plan } from '../engine/model/plan.js';
import type { WriteContext } from '../engine/ports.js';
import {
  addMembersOperations,
  assignLicenseOperation,
  createClientSecretCredential,
  createEntraTarget,
} from '../connectors/entra/index.js';
import { createVirtualClock, startSimulator } from '../simulator/index.js';

const USERS = Number(process.env['ENTRASYNC_BENCH_USERS'] ?? 2000);
const CEILING = 3000 / 150; // writes per second per app+tenant
const SKU = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const MARKER = 'onPremisesExtensionAttributes.extensionAttribute15';

interface Figures {
  readonly name: string;
  readonly users: number;
  readonly writes: number;
  readonly seconds: number;
  readonly throttled: number;
  readonly realSeconds: number;
  readonly failed: number;
  readonly slowDowns: number;
}

async function run(name: string, users: number, writesPerSecond?: number): Promise<Figures> {
  const clock = createVirtualClock();
  const sim = await startSimulator({
    clock,
    seed: {
      users: [],
      groups: [0, 1, 2].map((g) => ({
        displayName: `Team ${g}`,
        mailEnabled: false,
        mailNickname: `team${g}`,
        securityEnabled: true,
        uniqueName: `team-${g}`,
      })),
      subscribedSkus: [
        {
          skuId: SKU,
          skuPartNumber: 'SPE_E3',
          prepaidUnits: { enabled: users + 10, warning: 0 },
          servicePlans: [],
        },
      ],
    },
  });
  const app = sim.clients[0];
  if (!app) throw new Error('simulator has no client');
  const connection = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  const target = createEntraTarget(
    connection,
    () => createClientSecretCredential(connection, app.clientId, app.clientSecret),
    { clock, ...(writesPerSecond === undefined ? {} : { writesPerSecond }) },
  );
  const realStarted = performance.now();
  const started = clock.now();
  const changes: CreateUserChange[] = Array.from({ length: users }, (_, i) => {
    const upn = `new${i}@contoso.com`;
    return {
      id: `createUser:${upn}`,
      kind: 'createUser',
      reason: 'new-person',
      message: '',
      user: { userPrincipalName: upn },
      provenance: [],
      attributes: {
        userPrincipalName: upn,
        displayName: `New ${i}`,
        mailNickname: `new${i}`,
        accountEnabled: true,
        usageLocation: 'GB',
        employeeId: `N${i}`,
        [MARKER]: 'entrasync',
      },
    };
  });
  const plan: Plan = {
    formatVersion: 1,
    fingerprint: 'bench',
    configDigest: 'bench',
    tenantDigest: 'bench',
    sources: [],
    changes,
    blocked: [],
    warnings: [],
    issues: [],
    ignored: [],
    managedUsers: 0,
  };
  const report = await applyPlan(plan, target.writer);
  const ids = report.ops.flatMap((o) => (o.targetId ? [o.targetId] : []));
  const context: WriteContext = {
    inDoubt: new Set(),
    created: new Set(ids),
    createdIds: new Map(),
    signal: new AbortController().signal,
  };
  const groupIds = [0, 1, 2].map((g) => sim.store.getGroupByUniqueName(`team-${g}`)?.doc.id ?? '');
  const operations = [
    ...ids.map((id, i) => assignLicenseOperation(`license:${i}`, id, [{ skuId: SKU }])),
    ...groupIds.flatMap((g) => addMembersOperations(`members:${g}`, g, ids)),
  ];
  let failed = report.ops.filter((o) => o.outcome !== 'applied').length;
  // The same scheduling the engine does: 20 per batch, `concurrency` batches in flight.
  const batches: (typeof operations)[] = [];
  for (let i = 0; i < operations.length; i += 20) batches.push(operations.slice(i, i + 20));
  const queue = [...batches];
  await Promise.all(
    Array.from({ length: target.writer.concurrency }, async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        const results = await target.applyOperations(batch, context);
        failed += results.filter((r) => !r.ok).length;
      }
    }),
  );
  const seconds = (clock.now() - started) / 1000;
  const accepted = sim.requestLog.filter(
    (e) =>
      ['POST', 'PATCH', 'PUT', 'DELETE'].includes(e.method) &&
      e.path !== '/v1.0/$batch' &&
      !e.path.includes('/oauth2/') &&
      e.status >= 200 &&
      e.status < 300,
  ).length;
  const figures: Figures = {
    name,
    users,
    writes: accepted,
    seconds,
    throttled: sim.counters.throttled,
    realSeconds: (performance.now() - realStarted) / 1000,
    failed,
    slowDowns: target.pacer.snapshot().slowDowns,
  };
  await sim.close();
  return figures;
}

const results = [
  await run('default pacing (20 writes/s)', USERS),
  // Pacing set to twice the ceiling: Graph's bucket empties, its scoped 429s halve the rate and
  // hold writes for their Retry-After, and the run settles at the ceiling.
  await run('pacing misconfigured at 40 writes/s', 2.5 * USERS, 40),
];

process.stdout.write(
  `Apply benchmark: new users, each created, licensed and added to 3 groups; Graph's write ceiling ${CEILING} writes/s (3,000 per 150 s per app+tenant)\n\n`,
);
for (const r of results) {
  const rate = r.writes / r.seconds;
  process.stdout.write(
    [
      `${r.name}, ${r.users} new users:`,
      `  writes accepted          ${r.writes} (${(r.writes / r.users).toFixed(2)} per new user: 1 create + 1 license + ${(r.writes / r.users - 2).toFixed(2)} membership)`,
      `  simulated time           ${r.seconds.toFixed(1)} s  (real ${r.realSeconds.toFixed(1)} s)`,
      `  writes per second        ${rate.toFixed(1)} = ${(rate / CEILING).toFixed(2)} of the ceiling`,
      `  429s received            ${r.throttled}`,
      `  pacing slow-downs        ${r.slowDowns} (x-ms-throttle-limit-percentage >= 80%, or a 429)`,
      `  changes failed           ${r.failed}`,
      '',
    ].join('\n') + '\n',
  );
}
