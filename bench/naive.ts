/**
 * Benchmark (issue 11, figure 6): the apply benchmark's work done by the script a user would
 * otherwise write with the Graph SDK, as the baseline for entrasync's figures. Prints figures;
 * asserts nothing.
 *
 * Workload: the same as bench/apply.ts, N new people, each created, licensed (direct
 * assignment) and added to 3 security groups, against the in-process simulator with Graph's
 * throttling on and the virtual clock. The naive script, one request at a time:
 *
 *   GET /users/{upn}                       404 -> POST /users, else PATCH /users/{id}
 *   POST /users/{id}/assignLicense
 *   POST /groups/{id}/members/$ref         once for each of the 3 groups
 *
 * after resolving the 3 groups by displayName (3 GETs, counted). Each error is caught and the
 * script moves on, as such scripts do. Then the same script runs a second time over the same
 * people with 1% of them changed (it cannot tell which, so it PATCHes everyone, re-assigns
 * every license and re-adds every membership, which Graph answers 400 "already exist").
 *
 * The client is the real `@microsoft/microsoft-graph-client` with the SDK's default middleware
 * chain (MiddlewareFactory.getDefaultMiddlewareChain: auth, RetryHandler with default options,
 * redirect, telemetry, fetch), the credential and TLS trust from connectors/entra/graph-client.ts.
 * `createGraphClient` there deliberately drops the RetryHandler, so it cannot be used as is: the
 * point here is the SDK's defaults, i.e. up to 3 retries of 429/503/504, waiting Retry-After
 * capped at 180 s. Two changes, both so that simulated time works and neither changes what is
 * sent: the RetryHandler's sleep waits on the virtual clock instead of setTimeout (so throttling
 * waits cost no wall time), and a counting middleware sits just above the fetch handler to see
 * every attempt, retries included. msal caches tokens by wall time while the simulator expires
 * them in virtual time, so the credential is rebuilt when its token is near expiry in virtual
 * time, as msal would on a real clock.
 *
 * With one request in flight at a time the virtual clock only moves during Retry-After waits,
 * so simulated time here is the time spent waiting on Graph's write bucket.
 *
 * Then entrasync does the same work on the same seed, people and second-day renames through its
 * real path (bench/workload.ts: a config with 3 group rules and an SPE_E3 license rule, the
 * tenant read, computePlan, applyPlan with the entra writer), once with `assignBy: direct`
 * (the naive script's licensing) and once with `assignBy: group`, and the figures are printed
 * side by side: Graph HTTP requests (entrasync: tenant read + apply, a `$batch` envelope
 * counting one), writes, 429s, simulated seconds, and how many times fewer.
 *
 *   npm run bench -- naive
 *   node node_modules/.cache/entrasync-bench/bench/naive.js [people]   (default 2000, or
 *                                                                     ENTRASYNC_BENCH_USERS)
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import {
  AuthenticationHandler,
  Client,
  GraphError,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import type { FetchOptions } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { Agent } from 'undici';
import type { GraphConnection } from '../connectors/entra/graph-client.js';
import { createClientSecretCredential, graphScope } from '../connectors/entra/graph-client.js';
import type { Clock } from '../simulator/index.js';
import { createVirtualClock, startSimulator } from '../simulator/index.js';
import type { PipelineFigures } from './workload.js';
import { CEILING, DOMAIN, E3, TEAMS, onboarding, onboardingSeed } from './workload.js';

const PEOPLE = parsePeople(process.argv[2] ?? process.env['ENTRASYNC_BENCH_USERS'] ?? '2000');
const SKU = E3;
const GROUPS = TEAMS;
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

function parsePeople(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`people must be a positive integer, got "${text}"`);
  }
  return n;
}

/** Every attempt the SDK sends (retries included), as seen just above the fetch handler. */
interface Attempts {
  requests: number;
  throttled: number;
  writes: number;
  writesAccepted: number;
  byStatus: Map<number, number>;
}

function newAttempts(): Attempts {
  return { requests: 0, throttled: 0, writes: 0, writesAccepted: 0, byStatus: new Map() };
}

function countingMiddleware(attempts: () => Attempts): Middleware {
  let next: Middleware | undefined;
  return {
    setNext(middleware) {
      next = middleware;
    },
    async execute(context: Context) {
      if (!next) throw new Error('counting middleware has no next middleware');
      await next.execute(context);
      const a = attempts();
      const method = (
        typeof context.request === 'string'
          ? (context.options?.method ?? 'GET')
          : context.request.method
      ).toUpperCase();
      const status = context.response?.status ?? 0;
      a.requests += 1;
      a.byStatus.set(status, (a.byStatus.get(status) ?? 0) + 1);
      if (status === 429) a.throttled += 1;
      else if (WRITE_METHODS.has(method)) {
        a.writes += 1;
        if (status >= 200 && status < 300) a.writesAccepted += 1;
      }
    },
  };
}

/**
 * A client secret credential rebuilt (fresh msal cache) once its token is within msal's 5
 * minutes of expiry in virtual time; msal itself only sees wall time.
 */
function virtualTimeCredential(clock: Clock, build: () => TokenCredential): TokenCredential {
  let current = build();
  let expiresAt = Number.POSITIVE_INFINITY; // virtual ms
  return {
    async getToken(scopes, options): Promise<AccessToken | null> {
      if (clock.now() >= expiresAt - 300_000) {
        current = build();
        expiresAt = Number.POSITIVE_INFINITY;
      }
      const token = await current.getToken(scopes, options);
      if (token !== null && expiresAt === Number.POSITIVE_INFINITY) {
        expiresAt = clock.now() + (token.expiresOnTimestamp - Date.now());
      }
      return token;
    },
  };
}

/** The SDK's default middleware chain, with the RetryHandler sleeping on `clock`. */
function naiveGraphClient(
  conn: GraphConnection,
  credential: TokenCredential,
  clock: Clock,
  attempts: () => Attempts,
): Client {
  const authProvider = new TokenCredentialAuthenticationProvider(credential, {
    scopes: [graphScope(conn.graphUrl)],
  });
  const retry = new RetryHandler(new RetryHandlerOptions());
  // RetryHandler's sleep is private in the typings; replacing it on the instance keeps every
  // other line of the SDK's retry logic (which statuses, how many times, which delay).
  (retry as unknown as { sleep: (seconds: number) => Promise<void> }).sleep = (seconds) =>
    clock.sleep(seconds * 1000);
  const middleware: Middleware[] = [
    new AuthenticationHandler(authProvider),
    retry,
    new RedirectHandler(new RedirectHandlerOptions()),
    new TelemetryHandler(),
    countingMiddleware(attempts),
    new HTTPMessageHandler(),
  ];
  return Client.initWithMiddleware({
    middleware,
    baseUrl: conn.graphUrl,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(conn.graphUrl).hostname]),
    ...(conn.caPem === undefined
      ? {}
      : {
          fetchOptions: {
            dispatcher: new Agent({ connect: { ca: conn.caPem } }),
          } as unknown as FetchOptions,
        }),
  });
}

interface Person {
  upn: string;
  displayName: string;
  mailNickname: string;
  employeeId: string;
}

interface PassFigures {
  readonly name: string;
  readonly people: number;
  readonly attempts: Attempts;
  readonly seconds: number;
  readonly realSeconds: number;
  readonly errors: Map<number, number>;
  readonly simGraphRequests: number;
  readonly simThrottled: number;
}

/** The naive script: one person after another, one request at a time. */
async function naiveSync(
  graph: Client,
  people: readonly Person[],
  groupIds: readonly string[],
  errors: Map<number, number>,
): Promise<void> {
  const attempt = async (call: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await call();
    } catch (error) {
      const status = error instanceof GraphError ? error.statusCode : -1;
      errors.set(status, (errors.get(status) ?? 0) + 1);
      return undefined;
    }
  };
  for (const p of people) {
    let id: string | undefined;
    try {
      const existing = (await graph.api(`/users/${p.upn}`).get()) as { id: string };
      id = existing.id;
    } catch (error) {
      if (!(error instanceof GraphError) || error.statusCode !== 404) {
        errors.set(-1, (errors.get(-1) ?? 0) + 1);
        continue;
      }
    }
    const attributes = {
      displayName: p.displayName,
      mailNickname: p.mailNickname,
      accountEnabled: true,
      usageLocation: 'GB',
      employeeId: p.employeeId,
    };
    if (id === undefined) {
      const created = (await attempt(() =>
        graph.api('/users').post({
          userPrincipalName: p.upn,
          ...attributes,
          passwordProfile: { forceChangePasswordNextSignIn: true, password: 'Bench-Passw0rd!' },
        }),
      )) as { id: string } | undefined;
      if (created === undefined) continue;
      id = created.id;
    } else {
      const userId = id;
      await attempt(() => graph.api(`/users/${userId}`).patch(attributes));
    }
    const userId = id;
    await attempt(() =>
      graph
        .api(`/users/${userId}/assignLicense`)
        .post({ addLicenses: [{ skuId: SKU, disabledPlans: [] }], removeLicenses: [] }),
    );
    for (const groupId of groupIds) {
      await attempt(() =>
        graph.api(`/groups/${groupId}/members/$ref`).post({
          '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${userId}`,
        }),
      );
    }
  }
}

async function main(): Promise<PassFigures[]> {
  const clock = createVirtualClock();
  const sim = await startSimulator({ clock, seed: onboardingSeed(PEOPLE + 10) });
  try {
    const app = sim.clients[0];
    if (!app) throw new Error('simulator has no client');
    const connection: GraphConnection = {
      graphUrl: sim.origin,
      authorityHost: sim.authorityHost,
      tenantId: sim.tenantId,
      caPem: sim.caPem,
    };
    let attempts = newAttempts();
    const graph = naiveGraphClient(
      connection,
      virtualTimeCredential(clock, () =>
        createClientSecretCredential(connection, app.clientId, app.clientSecret),
      ),
      clock,
      () => attempts,
    );
    const people: Person[] = Array.from({ length: PEOPLE }, (_, i) => ({
      upn: `new${i}@${DOMAIN}`,
      displayName: `New ${i}`,
      mailNickname: `new${i}`,
      employeeId: `N${i}`,
    }));

    const pass = async (
      name: string,
      work: (errors: Map<number, number>) => Promise<void>,
    ): Promise<PassFigures> => {
      attempts = newAttempts();
      const errors = new Map<number, number>();
      const simRequests = sim.counters.graphRequests;
      const simThrottled = sim.counters.throttled;
      const realStarted = performance.now();
      const started = clock.now();
      await work(errors);
      return {
        name,
        people: PEOPLE,
        attempts,
        seconds: (clock.now() - started) / 1000,
        realSeconds: (performance.now() - realStarted) / 1000,
        errors,
        simGraphRequests: sim.counters.graphRequests - simRequests,
        simThrottled: sim.counters.throttled - simThrottled,
      };
    };

    const first = await pass('first run, all new', async (errors) => {
      const groupIds: string[] = [];
      for (const displayName of GROUPS) {
        const found = (await graph
          .api('/groups')
          .filter(`displayName eq '${displayName}'`)
          .get()) as { value: { id: string }[] };
        const group = found.value[0];
        if (!group) throw new Error(`group ${displayName} not found`);
        groupIds.push(group.id);
      }
      await naiveSync(graph, people, groupIds, errors);
    });
    // The next day (Graph's buckets full again), 1% of the people changed (a new display
    // name); the script cannot tell which.
    clock.advance(24 * 60 * 60 * 1000);
    const changed = people.map((p, i) =>
      i % 100 === 0 ? { ...p, displayName: `${p.displayName} (renamed)` } : p,
    );
    const second = await pass('second run, 1% changed', async (errors) => {
      const groupIds: string[] = [];
      for (const displayName of GROUPS) {
        const found = (await graph
          .api('/groups')
          .filter(`displayName eq '${displayName}'`)
          .get()) as { value: { id: string }[] };
        groupIds.push(found.value[0]?.id ?? '');
      }
      await naiveSync(graph, changed, groupIds, errors);
    });
    return [first, second];
  } finally {
    await sim.close();
  }
}

const results = await main();

process.stdout.write(
  `Naive-script baseline: the apply benchmark's work (new users, each created, licensed and added to 3 groups) done with the Graph SDK's defaults, one request at a time; Graph's write ceiling ${CEILING} writes/s (3,000 per 150 s per app+tenant)\n\n`,
);
for (const r of results) {
  const a = r.attempts;
  const rate = a.writes / r.seconds;
  const errors =
    [...r.errors]
      .sort(([x], [y]) => x - y)
      .map(([status, n]) => `${n} x ${status === -1 ? 'other' : status}`)
      .join(', ') || 'none';
  process.stdout.write(
    [
      `${r.name}, ${r.people} people:`,
      `  Graph requests           ${a.requests} (${(a.requests / r.people).toFixed(2)} per person; simulator counted ${r.simGraphRequests})`,
      `  429s received            ${a.throttled} (simulator counted ${r.simThrottled})`,
      `  writes answered          ${a.writes} (${(a.writes / r.people).toFixed(2)} per person), ${a.writesAccepted} accepted (2xx)`,
      `  simulated time           ${r.seconds.toFixed(1)} s  (real ${r.realSeconds.toFixed(1)} s)`,
      `  writes per second        ${Number.isFinite(rate) ? `${rate.toFixed(1)} = ${(rate / CEILING).toFixed(2)} of the ceiling` : 'n/a (no simulated time passed)'}`,
      `  errors the script caught ${errors}`,
      '',
    ].join('\n') + '\n',
  );
}
process.stdout.write(
  "Writes per second can exceed the ceiling: Graph's write bucket starts full, so the first 3,000 writes of a run wait for nothing.\n",
);

// ---- entrasync on the same workload: the same seed, people and groups, through the real path
// (config with 3 group rules and a license rule, readTenant, computePlan, applyPlan with the
// entra writer; bench/workload.ts), the second run the next day with the same 1% renamed.
const entrasync = {
  direct: await onboarding(PEOPLE, 'direct', { rerun: true }),
  group: await onboarding(PEOPLE, 'group', { rerun: true }),
};
const requests = (f: PipelineFigures | undefined): number =>
  f === undefined ? NaN : f.read.http + f.apply.http;
const writes = (f: PipelineFigures | undefined): number =>
  f === undefined ? NaN : f.apply.writes + f.apply.writesRefused;
const rows: string[][] = [
  [`${PEOPLE} people`, 'naive', 'entrasync direct', 'fewer', 'entrasync group', 'fewer'],
];
results.forEach((r, run) => {
  const d = entrasync.direct[run];
  const g = entrasync.group[run];
  const ratio = (naive: number, ours: number): string => `${(naive / ours).toFixed(1)}x`;
  const label = run === 0 ? 'first run' : 'second run';
  rows.push(
    [
      `${label}: Graph HTTP requests`,
      String(r.attempts.requests),
      String(requests(d)),
      ratio(r.attempts.requests, requests(d)),
      String(requests(g)),
      ratio(r.attempts.requests, requests(g)),
    ],
    [
      `${label}: writes answered`,
      String(r.attempts.writes),
      String(writes(d)),
      ratio(r.attempts.writes, writes(d)),
      String(writes(g)),
      ratio(r.attempts.writes, writes(g)),
    ],
    [
      `${label}: 429s`,
      String(r.attempts.throttled),
      String((d?.read.throttled ?? 0) + (d?.apply.throttled ?? 0)),
      '',
      String((g?.read.throttled ?? 0) + (g?.apply.throttled ?? 0)),
      '',
    ],
    [
      `${label}: simulated s`,
      r.seconds.toFixed(0),
      ((d?.readSeconds ?? 0) + (d?.applySeconds ?? 0)).toFixed(1),
      '',
      ((g?.readSeconds ?? 0) + (g?.applySeconds ?? 0)).toFixed(1),
      '',
    ],
  );
});
const widths = rows.reduce<number[]>(
  (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)),
  [],
);
process.stdout.write(
  '\nSide by side: entrasync on the same workload (same seed, people, groups and second-run renames) through its real path: the tenant read plus the apply\n',
);
for (const row of rows) {
  process.stdout.write(
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ') + '\n',
  );
}
process.stdout.write(
  'Graph HTTP requests: every request sent (retries included; for entrasync a $batch envelope is one request and the tenant read is counted); identity endpoints not counted. Simulated s for entrasync: tenant read + apply; the naive script only waits on 429s, entrasync paces at 20 writes/s.\n',
);
