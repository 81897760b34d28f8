/**
 * The entra writer: turns plan changes into Graph operations (data, see operations.ts) and
 * carries them out through the batch executor, paced per app+tenant. Per-object failures come
 * back as results, never exceptions (invariant 6). The initial password of a created user is
 * generated here, sent in the request body and kept nowhere: not in the plan, the report, the
 * journal or any log.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Change } from '../../engine/model/plan.js';
import { memberCount } from '../../engine/model/plan.js';
import type { WriteStats } from '../../engine/model/report.js';
import type { BatchTargetWriter, WriteContext, WriteResult } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { ExecutorStats } from './batch-executor.js';
import { MAX_BATCH_SIZE, executeOperations } from './batch-executor.js';
import type { GraphOperation } from './batch-executor.js';
import { operationsFor, resolverFor } from './operations.js';
import type { OnboardingDelivery } from './onboard.js';
import { onboardUser } from './onboard.js';
import type { Redactor } from '../../engine/secret.js';
import type { UserIdentity } from './operations.js';
import type { WritePacer } from './pacer.js';
import type { GraphTransport } from './transport.js';
import { graphNow } from './transport.js';

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
  /**
   * How `onboardUser` steps deliver the credential they make (onboard.ts). Absent: such a
   * step fails (the config has no delivery, or the caller did not load it).
   */
  readonly onboarding?: { readonly delivery: OnboardingDelivery; readonly redactor?: Redactor };
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
    const ids = resolverFor(context.createdIds);
    if (changes.some((c) => c.kind === 'onboardUser')) {
      return applyWithOnboarding(changes, context, ids);
    }
    if (transport.serverClock() === undefined && changes.some(recordsDate)) {
      // No Graph answer yet to date a disable by (apply reads the tenant first, so this is a
      // writer used on its own): one small read measures Graph's clock before any date is set.
      await transport.get('/users?$top=1&$select=id').catch(() => undefined);
    }
    // The disable date recorded on an account is Graph's time (A10): the local clock corrected
    // by the offset of the latest Graph answer's Date header, so a skewed local clock never
    // dates a deprovisioning early or late.
    const now = () => new Date(graphNow(transport)).toISOString();
    const planned = changes.map((change) =>
      operationsFor(change, {
        password: initialPassword,
        ids,
        referenceBase,
        now,
        ...(options.identity ? { identity: options.identity } : {}),
      }),
    );
    // Pack whole changes into calls of at most `batchSize` operations each.
    const packs: { index: number; operations: readonly GraphOperation[] }[][] = [];
    let pack: { index: number; operations: readonly GraphOperation[] }[] = [];
    let size = 0;
    planned.forEach((p, index) => {
      if (!p.ok) return;
      if (size + p.operations.length > batchSize && pack.length > 0) {
        packs.push(pack);
        pack = [];
        size = 0;
      }
      pack.push({ index, operations: p.operations });
      size += p.operations.length;
    });
    if (pack.length > 0) packs.push(pack);

    const opResults = new Map<number, WriteResult[]>();
    for (const p of packs) {
      const operations = p.flatMap((entry) => entry.operations);
      const answers = await executeOperations(operations, context, {
        transport,
        pacer,
        stats,
        referenceBase,
        deadline: () => deadlines.get(context),
        ...(options.lagWindowMs === undefined ? {} : { lagWindowMs: options.lagWindowMs }),
        ...(options.protectedIds ? { protectedIds: options.protectedIds() } : {}),
        ...(options.itemHeaders ? { itemHeaders: options.itemHeaders } : {}),
      });
      let at = 0;
      for (const entry of p) {
        opResults.set(entry.index, answers.slice(at, at + entry.operations.length));
        at += entry.operations.length;
      }
    }
    const results: WriteResult[] = [];
    for (const [index, change] of changes.entries()) {
      const p = planned[index];
      if (!p) continue;
      if (!p.ok) {
        results.push({ ok: false, error: { code: p.code, message: p.message, class: 'final' } });
        continue;
      }
      let result = combine(opResults.get(index) ?? []);
      if (result.ok && change.kind === 'createGroup' && result.targetId === undefined) {
        result = await groupIdOf(transport, change.group.uniqueName, context);
      }
      if (result.ok && p.missing.length > 0) {
        result = {
          ok: false,
          error: {
            code: 'member-not-created',
            message: `${p.missing.length} member(s) left out, their accounts or groups were not created: ${p.missing.join(', ')}; the other ${change.kind === 'addMembers' || change.kind === 'removeMembers' ? memberCount(change) - p.missing.length : 0} applied`,
            class: 'final',
          },
        };
      }
      results.push(result);
    }
    return results;
  }

  /**
   * A batch with onboarding steps: those run one by one outside `$batch` (each is several
   * dependent requests with a credential in between), the rest as usual.
   */
  async function applyWithOnboarding(
    changes: readonly Change[],
    context: WriteContext,
    ids: ReturnType<typeof resolverFor>,
  ): Promise<readonly WriteResult[]> {
    const others = changes.filter((c) => c.kind !== 'onboardUser');
    const otherResults = others.length > 0 ? [...(await applyBatch(others, context))] : [];
    const results: WriteResult[] = [];
    for (const change of changes) {
      if (change.kind !== 'onboardUser') {
        results.push(
          otherResults.shift() ?? { ok: false, error: { code: 'internal', message: 'no result' } },
        );
        continue;
      }
      if (context.signal.aborted) {
        results.push({ ok: false, notRun: true, code: 'aborted', reason: 'the run was aborted' });
        continue;
      }
      const userId = ids.user(change.user);
      if (userId === undefined) {
        results.push({
          ok: false,
          error: {
            code: 'not-created',
            message: `${change.user.userPrincipalName} has no id: its create did not apply`,
            class: 'final',
          },
        });
      } else if (!options.onboarding) {
        results.push({
          ok: false,
          error: {
            code: 'onboarding-not-configured',
            message: 'no delivery was loaded for onboarding steps',
            class: 'final',
          },
        });
      } else {
        stats.writes += 1;
        results.push(
          await onboardUser(change, userId, {
            transport,
            delivery: options.onboarding.delivery,
            password: initialPassword,
            ...(options.onboarding.redactor ? { redactor: options.onboarding.redactor } : {}),
          }),
        );
      }
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
        createdIds: new Map(),
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

/** One result for a change carried out by several operations: the first failure decides. */
function combine(results: readonly WriteResult[]): WriteResult {
  const first = results[0];
  if (first === undefined) {
    return { ok: false, error: { code: 'internal', message: 'no result for the change' } };
  }
  const stopped = results.find((r) => !r.ok && 'notRun' in r);
  if (stopped) return stopped;
  const failed = results.find((r) => !r.ok);
  if (failed) return failed;
  return first;
}

/**
 * An upsert that found its group answers 204 without a body: the id is read back by
 * uniqueName, so the members that follow in this run can be added.
 */
async function groupIdOf(
  transport: GraphTransport,
  uniqueName: string,
  context: WriteContext,
): Promise<WriteResult> {
  const url = `/groups(uniqueName='${encodeURIComponent(uniqueName.replace(/'/g, "''"))}')?$select=id`;
  try {
    const response = await transport.get(url);
    const id = (response.body as { id?: unknown } | undefined)?.id;
    if (response.status === 200 && typeof id === 'string') {
      context.created.add(id);
      return { ok: true, targetId: id };
    }
    return {
      ok: false,
      error: {
        status: response.status,
        code: 'group-not-found',
        message: `group ${uniqueName} was upserted but cannot be read back (${response.status})`,
        class: 'transient',
      },
    };
  } catch (err) {
    return {
      ok: false,
      error: {
        code: 'group-not-found',
        message: `group ${uniqueName} was upserted but cannot be read back: ${err instanceof Error ? err.message : String(err)}`,
        class: 'transient',
      },
    };
  }
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

/** A change whose request carries a date: a disable that records when deprovisioning started. */
function recordsDate(change: Change): boolean {
  return change.kind === 'disableUser' && change.stateAttribute !== undefined;
}
