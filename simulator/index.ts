/**
 * The entrasync simulator: a local Microsoft Entra tenant that answers the identity platform's
 * token endpoint and Microsoft Graph v1.0 over HTTPS on a loopback address. It is the embedded
 * target for trying entrasync without a tenant and the test double for every Graph test; the
 * real `@azure/identity` and `@microsoft/microsoft-graph-client` talk to it unchanged, trusting
 * its CA per client (see connectors/entra/graph-client.ts).
 *
 * ```ts
 * const clock = createVirtualClock();
 * const sim = await startSimulator({ statePath: 'tenant.db', clock, faultPlan: { seed: 7, faults: [] } });
 * const conn = { graphUrl: sim.origin, authorityHost: sim.authorityHost, tenantId: sim.tenantId, caPem: sim.caPem };
 * // ... createClientSecretCredential(conn, sim.clients[0].clientId, sim.clients[0].clientSecret)
 * await sim.close();
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessTokenService } from './access-token.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { FaultPlan } from './fault-plan.js';
import { createFaultEngine, loadFaultPlan, parseFaultPlan } from './fault-plan.js';
import type { LatencyModel } from './latency.js';
import { parseLatencyModel } from './latency.js';
import { createRandomSource } from './random.js';
import type { SimulatorManagedIdentity } from './managed-identity.js';
import { MANAGED_IDENTITY_PATH } from './managed-identity.js';
import type { RequestLogEntry, SimulatorCounters } from './router.js';
import { createCounters, createRequestHandler } from './router.js';
import { loadSeed, parseSeed } from './seed.js';
import type { SeedData, TenantStore } from './store.js';
import { openTenantStore } from './store.js';
import type { ThrottleOptions } from './throttle.js';
import { createThrottle } from './throttle.js';
import type { ClientCredential, FederatedCredential, RegisteredClient } from './token-endpoint.js';
import { certificateCredential, federatedCredential, secretCredential } from './token-endpoint.js';
import { createCertificateAuthority, issueServerCertificate } from './tls.js';

export type { Clock, VirtualClock } from './clock.js';
export {
  createVirtualClock,
  isVirtualClock,
  offsetClock,
  systemClock,
  VIRTUAL_EPOCH_MS,
} from './clock.js';
export type { FaultDecision, FaultPlan, FaultRequest, FaultRule } from './fault-plan.js';
export { FaultPlanError, FaultPlanSchema, loadFaultPlan, parseFaultPlan } from './fault-plan.js';
export type { RequestLogEntry, SimulatorCounters } from './router.js';
export type { LatencyModel } from './latency.js';
export { BENCH_LATENCY, formatLatencyModel, parseLatencyModel } from './latency.js';
export type {
  DirectoryDocument,
  MailAddress,
  OpenTenantStoreOptions,
  OutboxMail,
  TemporaryAccessPassRecord,
  SeedData,
  StoredObject,
  TenantStore,
  UserDocument,
} from './store.js';
export { DEFAULT_TENANT_ID, openTenantStore } from './store.js';
export { SeedError, loadSeed, parseSeed } from './seed.js';
export type { SeedTenantOptions, SeedTenantResult } from './seed-generator.js';
export { seedTenant, DEFAULT_SKUS } from './seed-generator.js';
export type { ThrottleOptions } from './throttle.js';
export type { FederatedCredential } from './token-endpoint.js';
export type { SimulatorManagedIdentity } from './managed-identity.js';
export { BUILT_IN_ROLES } from './roles.js';
export type { TemporaryAccessPassPolicy } from './authentication-policy.js';
export {
  DEFAULT_TAP_POLICY,
  PolicyError,
  temporaryAccessPassPolicy,
} from './authentication-policy.js';
export { OUTBOX_PATH } from './admin.js';
export { DEFAULT_EXTRA_DOMAINS, INITIAL_DOMAIN } from './domains.js';

/** An app registration in the simulated tenant, with its application permissions (roles). */
export interface SimulatorClient {
  clientId: string;
  /** The client secret; '' for an app that authenticates only with a certificate or assertion. */
  clientSecret: string;
  roles: string[];
}

/** How an app is registered: any mix of a secret, certificates and federated credentials. */
export interface SimulatorClientOptions {
  clientId: string;
  clientSecret?: string;
  roles: string[];
  /** PEM certificates whose private keys sign client assertions (ClientCertificateCredential). */
  certificates?: string[];
  /** Workload identity federation trusts (ClientAssertionCredential). */
  federatedCredentials?: FederatedCredential[];
}

export interface SimulatorOptions {
  /** SQLite file holding the tenant (WAL). Absent: an in-memory tenant, gone on close. */
  statePath?: string;
  /** JSON seed file, applied only to a state that holds no users and was never seeded. */
  seedPath?: string;
  /** A seed given as data (same format as a seed file); applied like `seedPath`. */
  seed?: unknown;
  /** Loopback only: '127.0.0.1' (default), '::1' or 'localhost'. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Tenant id of a new state (an existing state keeps its own). Default `DEFAULT_TENANT_ID`. */
  tenantId?: string;
  /**
   * App registrations. Default: one client, `DEFAULT_CLIENT_ID`, with a random secret and the
   * least-privileged write set entrasync needs (`DEFAULT_CLIENT_ROLES`).
   */
  clients?: SimulatorClientOptions[];
  /**
   * Where `ca.pem` is written (replaced on every start: each start makes a new CA whose key
   * never leaves memory). Default: a fresh temporary directory, removed on close.
   */
  certDir?: string;
  /**
   * Managed identities of the simulated host, served at `${origin}/msi/token` the way Azure App
   * Service serves them (simulator/managed-identity.ts): set `IDENTITY_ENDPOINT` and
   * `IDENTITY_HEADER` to `managedIdentity.endpoint` and `.header` and `@azure/identity`'s
   * ManagedIdentityCredential gets the simulator's tokens. Default: none (not served).
   */
  managedIdentities?: SimulatorManagedIdentity[];
  /** The `IDENTITY_HEADER` secret; default random. */
  identityHeader?: string;
  /** Lifetime of issued access tokens. Default 3600. */
  tokenLifetimeSeconds?: number;
  /**
   * The clock for tokens, throttling, Retry-After, replication lag, delta-token expiry and
   * recycle-bin retention. Default: the system clock. Pass `createVirtualClock()` to run
   * simulated time (the simulator then never sleeps; latency faults and the latency model
   * advance the clock).
   */
  clock?: Clock;
  /** A fault plan (data, or a path to a JSON/YAML file). Default: no faults. */
  faultPlan?: FaultPlan | string;
  /** Graph's identity throttling buckets; `false` turns them off. Default: on, Graph's limits. */
  throttling?: false | ThrottleOptions;
  /** Delta tokens expire after this long. Default 7 days, as Graph documents for directory objects. */
  deltaTokenLifetimeSeconds?: number;
  /** Deleted users and Microsoft 365 groups are purged after this long. Default 30 days. */
  recycleBinRetentionSeconds?: number;
  /**
   * Graph-like latency for every Graph answer: base + per object returned + jitter, on `clock`
   * (latency.ts), as data or as text (`150ms+1ms~20ms`). Default: none.
   */
  latency?: LatencyModel | string;
  /** Seed of the latency model's jitter. Default 0. */
  latencySeed?: number;
}

export interface RunningSimulator {
  /** `https://127.0.0.1:PORT`; the Graph base URL is `${origin}/v1.0`. */
  readonly origin: string;
  /** The same origin, for `@azure/identity`'s `authorityHost`. */
  readonly authorityHost: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly tenantId: string;
  readonly clients: readonly SimulatorClient[];
  /**
   * The managed identity endpoint, when `managedIdentities` were given: the values of
   * `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` for the process that uses them.
   */
  readonly managedIdentity?: { readonly endpoint: string; readonly header: string };
  /** Every request served (batch items included), oldest first; no secret, token or password. */
  readonly requestLog: readonly RequestLogEntry[];
  /** Live counters: reads, writes, 429s, faults, tokens. */
  readonly counters: Readonly<SimulatorCounters>;
  readonly clock: Clock;
  /** The tenant state this simulator serves (for tests and tooling). */
  readonly store: TenantStore;
  /** The fault plan in force, if any. */
  readonly faultPlan: FaultPlan | undefined;
  /** The latency model in force, if any. */
  readonly latency: LatencyModel | undefined;
  close(): Promise<void>;
}

export const DEFAULT_CLIENT_ID = '2f6c3a51-7d84-4b0e-a9c1-5e1d00e5a1c0';

/**
 * The default app's application permissions: the least-privileged set for what entrasync does
 * (test catalogue 4.1), not Directory.ReadWrite.All.
 */
export const DEFAULT_CLIENT_ROLES: readonly string[] = [
  'User.ReadWrite.All',
  'User.DeleteRestore.All',
  'Group.Create',
  'Group.ReadWrite.All',
  'GroupMember.ReadWrite.All',
  'LicenseAssignment.ReadWrite.All',
  'Organization.Read.All',
  'RoleManagement.Read.Directory',
  'AdministrativeUnit.Read.All',
  'Domain.Read.All',
  // Mapped directory extensions are read from the application's `extensionProperties`.
  'Application.Read.All',
  // `report --audit` reads the directory audit log.
  'AuditLog.Read.All',
  // Onboarding (issue 23): Temporary Access Passes for new hires, the policy that allows them,
  // and the mail that delivers them.
  'UserAuthenticationMethod.ReadWrite.All',
  'Policy.Read.All',
  'Mail.Send',
];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
// Bounds memory in a long-running simulator; tests read far fewer entries.
const REQUEST_LOG_LIMIT = 100_000;
const DAY_SECONDS = 24 * 60 * 60;

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`The simulator binds loopback addresses only; refusing host "${host}".`);
  }
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1) {
    throw new Error('tokenLifetimeSeconds must be a positive integer.');
  }
  const clock = options.clock ?? systemClock();
  const faultPlan =
    typeof options.faultPlan === 'string'
      ? await loadFaultPlan(options.faultPlan)
      : options.faultPlan === undefined
        ? undefined
        : parseFaultPlan(options.faultPlan);
  const latency =
    typeof options.latency === 'string' ? parseLatencyModel(options.latency) : options.latency;
  const clientOptions: SimulatorClientOptions[] = options.clients ?? [
    {
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: randomBytes(24).toString('base64url'),
      roles: [...DEFAULT_CLIENT_ROLES],
    },
  ];
  const registered = registerClients(clientOptions);
  const managedIdentities = options.managedIdentities ?? [];
  if (managedIdentities.filter((i) => i.systemAssigned === true).length > 1) {
    throw new Error('At most one simulator managed identity can be system-assigned.');
  }
  const identityHeader = options.identityHeader ?? randomBytes(24).toString('base64url');

  let seed: SeedData | undefined;
  if (options.seedPath !== undefined) seed = await loadSeed(options.seedPath);
  else if (options.seed !== undefined) seed = parseSeed(options.seed, '(inline seed)');
  const store = openTenantStore(options.statePath, {
    ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
  });
  let ownedCertDir: string | undefined;
  try {
    if (seed !== undefined) store.seedIfNew(seed, clock.now());

    const certDir =
      options.certDir ?? (ownedCertDir = await mkdtemp(join(tmpdir(), 'entrasync-sim-')));
    await mkdir(certDir, { recursive: true });
    const ca = await createCertificateAuthority();
    const caFile = join(certDir, 'ca.pem');
    await writeFile(caFile, ca.certPem);
    const leaf = await issueServerCertificate(ca);

    const requestLog: RequestLogEntry[] = [];
    const counters = createCounters();
    const tokens = createAccessTokenService({
      tenantId: store.tenantId,
      lifetimeSeconds: lifetime,
      clock,
    });
    const server = createServer({ key: leaf.keyPem, cert: leaf.certPem, minVersion: 'TLSv1.2' });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const origin = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    // Attached once the origin is known; no request can be read before this continuation runs.
    server.on(
      'request',
      createRequestHandler({
        origin,
        store,
        tokens,
        clock,
        faults: createFaultEngine(faultPlan),
        throttle:
          options.throttling === false ? undefined : createThrottle(clock, options.throttling),
        counters,
        deltaTokenLifetimeMs: (options.deltaTokenLifetimeSeconds ?? 7 * DAY_SECONDS) * 1000,
        recycleBinRetentionMs: (options.recycleBinRetentionSeconds ?? 30 * DAY_SECONDS) * 1000,
        identity: { origin, tenantId: store.tenantId, clients: registered, tokens },
        ...(latency === undefined
          ? {}
          : {
              latency: {
                model: latency,
                random: createRandomSource(options.latencySeed ?? 0).stream(0),
              },
            }),
        ...(managedIdentities.length === 0
          ? {}
          : {
              managedIdentity: {
                origin,
                tenantId: store.tenantId,
                identities: managedIdentities,
                identityHeader,
                tokens,
              },
            }),
        log: (entry) => {
          requestLog.push(entry);
          if (requestLog.length > REQUEST_LOG_LIMIT) requestLog.shift();
        },
      }),
    );

    let closed: Promise<void> | undefined;
    return {
      origin,
      authorityHost: origin,
      caPem: ca.certPem,
      caFile,
      tenantId: store.tenantId,
      clients: clientOptions.map((c) => ({
        clientId: c.clientId,
        clientSecret: c.clientSecret ?? '',
        roles: [...c.roles],
      })),
      ...(managedIdentities.length === 0
        ? {}
        : {
            managedIdentity: {
              endpoint: `${origin}${MANAGED_IDENTITY_PATH}`,
              header: identityHeader,
            },
          }),
      requestLog,
      counters,
      clock,
      store,
      faultPlan,
      latency,
      close() {
        closed ??= (async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          store.close();
          if (ownedCertDir !== undefined) await rm(ownedCertDir, { recursive: true, force: true });
        })();
        return closed;
      },
    };
  } catch (error) {
    store.close();
    if (ownedCertDir !== undefined) await rm(ownedCertDir, { recursive: true, force: true });
    throw error;
  }
}

function registerClients(
  clients: readonly SimulatorClientOptions[],
): Map<string, RegisteredClient> {
  const registered = new Map<string, RegisteredClient>();
  for (const client of clients) {
    const key = client.clientId.toLowerCase();
    if (key === '') throw new Error('Simulator client ids must not be empty.');
    if (registered.has(key))
      throw new Error(`Simulator client ${client.clientId} is listed twice.`);
    const credentials: ClientCredential[] = [];
    if (client.clientSecret !== undefined) {
      if (client.clientSecret === '') {
        throw new Error(`Simulator client ${client.clientId} has an empty secret.`);
      }
      credentials.push(secretCredential(client.clientSecret));
    }
    for (const pem of client.certificates ?? []) credentials.push(certificateCredential(pem));
    for (const trust of client.federatedCredentials ?? [])
      credentials.push(federatedCredential(trust));
    if (credentials.length === 0) {
      throw new Error(
        `Simulator client ${client.clientId} has no secret, certificate or federated credential.`,
      );
    }
    registered.set(key, { clientId: client.clientId, roles: [...client.roles], credentials });
  }
  return registered;
}
