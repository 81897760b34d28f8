/**
 * The entra writer: turns plan changes into Graph operations (data, see operations.ts) and
 * carries them out through the batch executor, paced per app+tenant. Per-object failures come
 * back as results, never exceptions (invariant 6). The initial password of a created user is
 * generated here, sent in the request body and kept nowhere: not in the plan, the report, the
 * journal or any log.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Change } from '../../engine/model/plan.js';
import type { WriteStats } from '../../engine/model/report.js';
import type { BatchTargetWriter, WriteContext, WriteResult } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { ExecutorStats } from './batch-executor.js';
import { MAX_BATCH_SIZE, executeOperations } from './batch-executor.js';
import { operationFor } from './operations.js';
import type { UserIdentity } from './operations.js';
import type { WritePacer } from './pacer.js';
import type { GraphTransport } from './transport.js';

export interface EntraWriterOptions {
  readonly transport: GraphTransport;
  readonly pacer: WritePacer;
  /** Which attributes prove a found account is ours (anchor, marker): G4 reconciliation. */
  readonly identity?: UserIdentity;
  /** Changes per `$batch`. Default 20, Graph's maximum. */
  readonly batchSize?: number;
  /** Batches the engine keeps open (sends are limited by the pacer). Default 16. */
  readonly concurrency?: number;
  /** Stop starting waits this long after the first write; what is left is `not-run`. */
  readonly timeBudgetMs?: number;
  /** How long a 404 on an object created this run counts as replication lag. */
  readonly lagWindowMs?: number;
  /** Objects the tenant protects (from the read); their 403s are `protected-by-tenant`. */
  readonly protectedIds?: () => ReadonlySet<string>;
  /** Headers for each request inside a `$batch` (the daemon's `x-ms-throttle-priority: low`). */
  readonly itemHeaders?: Readonly<Record<string, string>>;
  /** Graph origin for `@odata.id` references. Default `https://graph.microsoft.com`. */
  readonly graphUrl?: string;
}

export function createEntraWriter(options: EntraWriterOptions): BatchTargetWriter {
  const { transport, pacer } = options;
  const stats: ExecutorStats = { writes: 0, throttled: 0, retries: 0, reconciled: 0 };
  const batchSize = Math.min(MAX_BATCH_SIZE, Math.max(1, options.batchSize ?? MAX_BATCH_SIZE));
  // Each run (context) gets its deadline at its first write.
  const deadlines = new WeakMap<WriteContext, number>();
  const referenceBase = `${(options.graphUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '')}/v1.0`;

  async function applyBatch(
    changes: readonly Change[],
    context: WriteContext,
  ): Promise<readonly WriteResult[]> {
    const budget = context.timeBudgetMs ?? options.timeBudgetMs;
    if (budget !== undefined && !deadlines.has(context)) {
      deadlines.set(context, transport.clock.now() + budget);
    }
    const results: WriteResult[] = [];
    for (let start = 0; start < changes.length; start += batchSize) {
      const slice = changes.slice(start, start + batchSize);
      const operations = slice.map((change) =>
        operationFor(change, initialPassword, options.identity),
      );
      results.push(
        ...(await executeOperations(operations, context, {
          transport,
          pacer,
          stats,
          referenceBase,
          deadline: () => deadlines.get(context),
          ...(options.lagWindowMs === undefined ? {} : { lagWindowMs: options.lagWindowMs }),
          ...(options.protectedIds ? { protectedIds: options.protectedIds() } : {}),
          ...(options.itemHeaders ? { itemHeaders: options.itemHeaders } : {}),
        })),
      );
    }
    return results;
  }

  return {
    apiVersion: PORT_API_VERSION,
    maxBatchSize: batchSize,
    concurrency: Math.max(1, options.concurrency ?? 16),
    applyBatch,
    async apply(change: Change): Promise<WriteResult> {
      const context: WriteContext = {
        inDoubt: new Set(),
        created: new Set(),
        signal: new AbortController().signal,
      };
      const [result] = await applyBatch([change], context);
      return result ?? { ok: false, error: { code: 'internal', message: 'no result' } };
    },
    stats(): WriteStats {
      const counters = transport.counters;
      return {
        requests: counters.requests,
        writes: stats.writes,
        throttled: stats.throttled + counters.throttled,
        retries: stats.retries + counters.retries,
        reconciled: stats.reconciled,
        tokenRefreshes: counters.tokenRefreshes,
        longestRetryAfterMs: counters.longestRetryAfterMs,
        elapsedMs:
          stats.firstWriteAt === undefined || stats.lastWriteAt === undefined
            ? 0
            : stats.lastWriteAt - stats.firstWriteAt,
      };
    },
  };
}

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGIT = '23456789';
const SYMBOL = '!#%+-=?@';

/** 24 random characters with every class Entra's complexity rule asks for. */
export function initialPassword(): string {
  const all = UPPER + LOWER + DIGIT + SYMBOL;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGIT), pick(SYMBOL)];
  for (const byte of randomBytes(20)) chars.push(all[byte % all.length] ?? 'x');
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? '', chars[i] ?? ''];
  }
  return chars.join('');
}

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)] ?? alphabet[0] ?? '';
}
