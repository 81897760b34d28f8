/**
 * The entrasync simulator: a local Microsoft Entra tenant that answers the identity platform's
 * token endpoint and Microsoft Graph v1.0 over HTTPS on a loopback address. It is the embedded
 * target for trying entrasync without a tenant and the test double for every Graph test; the
 * real `@azure/identity` and `@microsoft/microsoft-graph-client` talk to it unchanged, trusting
 * its CA per client (see connectors/entra/graph-client.ts).
 *
 * ```ts
 * const sim = await startSimulator({ statePath: 'tenant.db' });
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
import type { RequestLogEntry } from './router.js';
import { createRequestHandler } from './router.js';
import { loadSeed } from './seed.js';
import { openTenantStore } from './store.js';
import type { RegisteredClient } from './token-endpoint.js';
import { secretCredential } from './token-endpoint.js';
import { createCertificateAuthority, issueServerCertificate } from './tls.js';

export type { RequestLogEntry } from './router.js';
export type { OpenTenantStoreOptions, TenantStore, UserDocument } from './store.js';
export { DEFAULT_TENANT_ID, openTenantStore } from './store.js';
export { SeedError } from './seed.js';

/** An app registration in the simulated tenant, with its application permissions (roles). */
export interface SimulatorClient {
  clientId: string;
  clientSecret: string;
  roles: string[];
}

export interface SimulatorOptions {
  /** SQLite file holding the tenant (WAL). Absent: an in-memory tenant, gone on close. */
  statePath?: string;
  /** JSON seed, applied only to a state that holds no users and was never seeded. */
  seedPath?: string;
  /** Loopback only: '127.0.0.1' (default), '::1' or 'localhost'. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Tenant id of a new state (an existing state keeps its own). Default `DEFAULT_TENANT_ID`. */
  tenantId?: string;
  /**
   * App registrations. Default: one client, `DEFAULT_CLIENT_ID`, with a random secret and the
   * role User.ReadWrite.All.
   */
  clients?: SimulatorClient[];
  /**
   * Where `ca.pem` is written (replaced on every start: each start makes a new CA whose key
   * never leaves memory). Default: a fresh temporary directory, removed on close.
   */
  certDir?: string;
  /** Lifetime of issued access tokens. Default 3600. */
  tokenLifetimeSeconds?: number;
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
  /** Every request served, oldest first; holds no secret, token or password. */
  readonly requestLog: readonly RequestLogEntry[];
  close(): Promise<void>;
}

export const DEFAULT_CLIENT_ID = '2f6c3a51-7d84-4b0e-a9c1-5e1d00e5a1c0';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
// Bounds memory in a long-running simulator; tests read far fewer entries.
const REQUEST_LOG_LIMIT = 100_000;

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`The simulator binds loopback addresses only; refusing host "${host}".`);
  }
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1) {
    throw new Error('tokenLifetimeSeconds must be a positive integer.');
  }
  const clients = options.clients ?? [
    {
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: randomBytes(24).toString('base64url'),
      roles: ['User.ReadWrite.All'],
    },
  ];
  const registered = registerClients(clients);

  const seed = options.seedPath === undefined ? undefined : await loadSeed(options.seedPath);
  const store = openTenantStore(options.statePath, {
    ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
  });
  let ownedCertDir: string | undefined;
  try {
    if (seed !== undefined) store.seedIfNew(seed);

    const certDir =
      options.certDir ?? (ownedCertDir = await mkdtemp(join(tmpdir(), 'entrasync-sim-')));
    await mkdir(certDir, { recursive: true });
    const ca = await createCertificateAuthority();
    const caFile = join(certDir, 'ca.pem');
    await writeFile(caFile, ca.certPem);
    const leaf = await issueServerCertificate(ca);

    const requestLog: RequestLogEntry[] = [];
    const tokens = createAccessTokenService({
      tenantId: store.tenantId,
      lifetimeSeconds: lifetime,
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
        identity: { origin, tenantId: store.tenantId, clients: registered, tokens },
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
      clients: clients.map((c) => ({ ...c, roles: [...c.roles] })),
      requestLog,
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

function registerClients(clients: readonly SimulatorClient[]): Map<string, RegisteredClient> {
  const registered = new Map<string, RegisteredClient>();
  for (const client of clients) {
    const key = client.clientId.toLowerCase();
    if (key === '') throw new Error('Simulator client ids must not be empty.');
    if (client.clientSecret === '') {
      throw new Error(`Simulator client ${client.clientId} has an empty secret.`);
    }
    if (registered.has(key))
      throw new Error(`Simulator client ${client.clientId} is listed twice.`);
    registered.set(key, {
      clientId: client.clientId,
      roles: [...client.roles],
      credentials: [secretCredential(client.clientSecret)],
    });
  }
  return registered;
}
