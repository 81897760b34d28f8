/**
 * The `entra` target: reads and writes a Microsoft Entra tenant through Microsoft Graph with the
 * real `@microsoft/microsoft-graph-client` and an `@azure/identity` credential. The embedded
 * simulator is reached the same way, only with another authority, Graph URL and CA.
 *
 * One target = one app in one tenant: one transport (retries, token refresh), one write pacer
 * (Graph's write ceiling is per app+tenant), one reader and one writer sharing them.
 */
import type { TokenCredential } from '@azure/identity';
import type { WriteStats } from '../../engine/model/report.js';
import type { BatchTargetWriter, WriteContext, WriteResult } from '../../engine/ports.js';
import type { GraphOperation } from './batch-executor.js';
import { executeOperations } from './batch-executor.js';
import type { Clock } from './clock.js';
import { wallClock } from './clock.js';
import type { DeltaTenantReader } from './delta.js';
import { createDeltaTenantReader } from './delta.js';
import type { GraphConnection, RefreshableCredential } from './graph-client.js';
import { createGraphClient, createRefreshableCredential } from './graph-client.js';
import type { GraphRequestObserver } from './graph-trace.js';
import type { UserIdentity } from './operations.js';
import type { WritePacer } from './pacer.js';
import { createWritePacer } from './pacer.js';
import type { EntraReader, EntraReaderOptions } from './read-tenant.js';
import { createEntraReader } from './read-tenant.js';
import type { GraphTransport } from './transport.js';
import { createGraphTransport } from './transport.js';
import type { EntraWriterOptions } from './write.js';
import { createEntraWriter } from './write.js';

export interface EntraTargetOptions {
  /** Clock for every wait; default wall time. Tests pass the simulator's virtual clock. */
  readonly clock?: Clock;
  /** Sustained writes per second for this app+tenant. Default 20 (Graph's ceiling). */
  readonly writesPerSecond?: number;
  /**
   * Requests (batches of up to 20) on the wire at once. Default 4. The engine keeps four times
   * as many batches open, so batches waiting out a Retry-After do not idle the connection.
   */
  readonly concurrency?: number;
  /** Changes per `$batch`, at most 20. */
  readonly batchSize?: number;
  /** `low` sends `x-ms-throttle-priority: low` (the daemon: background work yields first). */
  readonly priority?: 'low' | 'normal';
  /** Stop starting waits this long after the first write (G2); the rest is resumable. */
  readonly timeBudgetMs?: number;
  /** Attributes that prove a found account is ours (anchor, marker): G4. */
  readonly identity?: UserIdentity;
  /** How long a 404 on an object created this run counts as replication lag (G6). */
  readonly lagWindowMs?: number;
  readonly reader?: Omit<EntraReaderOptions, 'onRead'>;
  /** Delta reads: full read at least this often. Default 24 h. */
  readonly fullReadIntervalMs?: number;
  /** Told of each Graph request (method, path, status, duration, ids): graph-trace.ts. */
  readonly onGraphRequest?: GraphRequestObserver;
  /** How onboarding steps deliver new hires' credentials (users.onboarding). */
  readonly onboarding?: EntraWriterOptions['onboarding'];
}

export interface EntraTarget {
  readonly reader: EntraReader;
  readonly writer: BatchTargetWriter;
  /** Delta reads for the daemon, separate from the full read `plan` and `apply` use. */
  readonly delta: DeltaTenantReader;
  readonly credential: RefreshableCredential;
  readonly transport: GraphTransport;
  readonly pacer: WritePacer;
  /** Runs Graph operations (groups, members, licenses: operations.ts) with the same machinery. */
  applyOperations(
    operations: readonly GraphOperation[],
    context: WriteContext,
  ): Promise<WriteResult[]>;
  /** Writer and journaled-apply figures, plus the requests and 429s reads met. */
  stats(): WriteStats;
}

/**
 * `credential` may be a factory: a 401 mid-run then builds a fresh credential (fresh token, and
 * for workload identity a fresh assertion). A credential instance is used as it is.
 */
export function createEntraTarget(
  connection: GraphConnection,
  credential: TokenCredential | (() => TokenCredential),
  options: EntraTargetOptions = {},
): EntraTarget {
  const refreshable = createRefreshableCredential(
    typeof credential === 'function' ? credential : () => credential,
  );
  const clock = options.clock ?? wallClock();
  const client = createGraphClient(connection, refreshable, options.onGraphRequest);
  const priority = options.priority === 'low' ? { 'x-ms-throttle-priority': 'low' } : undefined;
  const transport = createGraphTransport(client, refreshable, {
    clock,
    ...(priority ? { headers: priority } : {}),
  });
  const pacer = createWritePacer({
    clock,
    ...(options.writesPerSecond === undefined ? {} : { writesPerSecond: options.writesPerSecond }),
    maxInFlight: options.concurrency ?? 4,
  });
  let protectedIds: ReadonlySet<string> = new Set();
  const reader = createEntraReader(transport, {
    ...options.reader,
    onRead: (state) => {
      protectedIds = new Set(
        [...(state.protectedByTenant ?? []), ...(state.privileged ?? []).map((p) => p.userId)].map(
          (id) => id.toLowerCase(),
        ),
      );
    },
  });
  const writer = createEntraWriter({
    transport,
    pacer,
    graphUrl: 'https://graph.microsoft.com',
    protectedIds: () => protectedIds,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    concurrency: 4 * (options.concurrency ?? 4),
    ...(options.timeBudgetMs === undefined ? {} : { timeBudgetMs: options.timeBudgetMs }),
    ...(options.lagWindowMs === undefined ? {} : { lagWindowMs: options.lagWindowMs }),
    ...(priority ? { itemHeaders: priority } : {}),
    ...(options.onboarding ? { onboarding: options.onboarding } : {}),
  });
  const delta = createDeltaTenantReader({
    transport,
    full: reader,
    clock,
    ...(options.fullReadIntervalMs === undefined
      ? {}
      : { fullReadIntervalMs: options.fullReadIntervalMs }),
  });
  const opStats = { writes: 0, throttled: 0, retries: 0, reconciled: 0 };
  return {
    reader,
    writer,
    delta,
    credential: refreshable,
    transport,
    pacer,
    applyOperations: (operations, context) =>
      executeOperations(operations, context, {
        transport,
        pacer,
        stats: opStats,
        referenceBase: 'https://graph.microsoft.com/v1.0',
        protectedIds,
        ...(priority ? { itemHeaders: priority } : {}),
      }),
    // The journaled apply writes through executeOperations (opStats); the writer's own
    // figures cover its batches. Both go through the one transport (requests, its 429s).
    stats: () => {
      const own = writer.stats();
      return {
        ...own,
        writes: own.writes + opStats.writes,
        throttled: own.throttled + opStats.throttled,
        retries: own.retries + opStats.retries,
        reconciled: own.reconciled + opStats.reconciled,
      };
    },
  };
}

export type { GraphConnection, RefreshableCredential } from './graph-client.js';
export {
  createClientAssertionCredential,
  createClientCertificateCredential,
  createClientSecretCredential,
  createManagedIdentityCredential,
  fileAssertion,
  githubActionsAssertion,
} from './graph-client.js';
export type { AuthContext } from './auth-failure.js';
export { AuthenticationFailure, withAuthContext } from './auth-failure.js';
export type { GraphRequestObserver, GraphRequestTrace } from './graph-trace.js';
export type { Clock } from './clock.js';
export { wallClock } from './clock.js';
export type { DeltaReadResult, DeltaTenantReader, DeltaCheckpoint } from './delta.js';
export { DeltaTokenExpiredError } from './delta.js';
export type { EntraReader, EntraReaderOptions, EntraTenantState } from './read-tenant.js';
export type { UsersReadNote } from './read-users.js';
export type { GraphOperation, OperationSemantics } from './batch-executor.js';
export {
  addMembersOperations,
  assignLicenseOperation,
  upsertGroupOperation,
} from './operations.js';
export type { UserIdentity } from './operations.js';
export type { OnboardingDelivery } from './onboard.js';
export type { AuditLogQuery, AuditTarget, DirectoryAuditEntry } from './audit-log.js';
export { AuditLogForbiddenError, auditFilter, readDirectoryAudits } from './audit-log.js';
export type { AccessFinding, EntraAction, GrantedAccess } from './permissions.js';
export {
  ACTION_OF_CHANGE,
  actionsOfChange,
  appIdOf,
  checkAccess,
  grantedAccessOf,
  readGrantedAccess,
} from './permissions.js';
