/**
 * Carries out Graph write operations exactly once each, in as few round trips as possible,
 * paced under Graph's write ceiling, and survives every failure of the test catalogue.
 *
 * One call takes up to 20 operations on distinct objects and runs rounds until each has a
 * final result. A round: reconcile what may have committed unseen, wait until the latest
 * `notBefore` of the remaining operations (so inner 429s are retried after the longest
 * `retry-after`, G3), take write tokens from the pacer, send them (one request alone, several as
 * one `$batch`), then class each answer:
 *
 * | answer | what happens |
 * | 2xx | done (a create's id joins the run's created set) |
 * | 429 (envelope or item) | wait its Retry-After in full, however long (G1, G2); the pacer slows |
 * | 401 | the credential is refreshed and the operation resent, once per 401; 3 in a row are final (G7, G11) |
 * | 404 on an object created this run | replication lag: retried with backoff for `lagWindowMs` (G6) |
 * | 404 on any other object | `stale`: the plan no longer fits the tenant; never a deprovision (G6) |
 * | 400 "already exists" on a user create | read the user back by UPN and check our anchor (G4) |
 * | 400 "references already exist" on members | added one by one under the write policy (G12), "already exists" is success |
 * | 400 "references already exist" on a group upsert | its owners are bound (a replay): resent without them |
 * | 403 | `protected-by-tenant` for objects the read found protected, else `permission`; final |
 * | other 4xx | final, recorded against the object, never retried (G9, invariant 6) |
 * | 5xx, reset, no answer | retried with backoff; a create or a delete is reconciled first (it may have committed, G4, G13) |
 *
 * A wait that would pass the run's time budget is not taken: the operation answers `notRun`
 * (resumable) instead of being retried early (G2). Inner-batch retries exist nowhere else: the
 * SDK does not look inside `$batch` (throttling docs), so this loop is ours. Its caps, backoff
 * and Retry-After rules are those of write-policy.ts, which every other path that writes uses;
 * every wait runs on the injected clock.
 */
import type { IBackoff } from 'cockatiel';
import type { AttributeValue } from '../../engine/model/tenant.js';
import type { FailureClass, TargetError } from '../../engine/model/report.js';
import type { WriteContext, WriteResult } from '../../engine/ports.js';
import { flatten, selectFor } from './attributes.js';
import { parseRetryAfter } from './clock.js';
import type { WritePacer } from './pacer.js';
import type { GraphHttpRequest, GraphHttpResponse, GraphTransport } from './transport.js';
import { TransportError, graphErrorOf } from './transport.js';
import {
  DEFAULT_MAX_THROTTLED_ATTEMPTS,
  DEFAULT_MAX_TRANSIENT_ATTEMPTS,
  sendWrite,
  writeBackoff,
} from './write-policy.js';

/** What a write means, which decides how its answers are read. */
export type OperationSemantics =
  | {
      readonly kind: 'create-user';
      readonly userPrincipalName: string;
      /** Attributes that prove a found account is the one this operation creates (anchor, marker). */
      readonly proof: Readonly<Record<string, AttributeValue>>;
    }
  | { readonly kind: 'update'; readonly objectId: string }
  | { readonly kind: 'upsert-group'; readonly uniqueName: string }
  | {
      readonly kind: 'add-members';
      readonly groupId: string;
      readonly memberIds: readonly string[];
    }
  | { readonly kind: 'assign-license'; readonly objectId: string }
  /** A 404 means "not a member" (already removed): the goal holds. */
  | { readonly kind: 'remove-member'; readonly groupId: string; readonly memberId: string }
  /** After a lost answer, an account that is gone (absent or in the recycle bin) is deleted (G13). */
  | { readonly kind: 'delete-user'; readonly objectId: string };

export interface GraphOperation {
  /** The change this operation carries out (journal key for `inDoubt`). */
  readonly changeId: string;
  readonly request: GraphHttpRequest;
  readonly semantics: OperationSemantics;
}

export interface ExecutorStats {
  writes: number;
  throttled: number;
  retries: number;
  reconciled: number;
  firstWriteAt?: number;
  lastWriteAt?: number;
}

export interface ExecutorOptions {
  readonly transport: GraphTransport;
  readonly pacer: WritePacer;
  readonly stats: ExecutorStats;
  /** Clock time after which no wait is started; operations answer `notRun` instead. */
  readonly deadline?: () => number | undefined;
  /** How long a 404 on an object created this run counts as replication lag. Default 60 s. */
  readonly lagWindowMs?: number;
  /** Object ids the tenant protects (restricted administrative units, role holders): P4. */
  readonly protectedIds?: ReadonlySet<string>;
  /** Headers for each request inside a `$batch` (e.g. `x-ms-throttle-priority`). */
  readonly itemHeaders?: Readonly<Record<string, string>>;
  /** Base of `@odata.id` references: `https://graph.microsoft.com/v1.0`. */
  readonly referenceBase: string;
  /** Sends of one operation before a throttled or transient one gives up. Default 12 / 6. */
  readonly maxThrottledAttempts?: number;
  readonly maxTransientAttempts?: number;
}

export const MAX_BATCH_SIZE = 20;

/** 401s in a row (each followed by a fresh credential) after which an operation fails `auth`. */
export const MAX_401_IN_A_ROW = 3;

interface OpState {
  /** Replaced once by the same upsert without its owners (see `withoutOwners`). */
  op: GraphOperation;
  result?: WriteResult;
  throttledAttempts: number;
  transientAttempts: number;
  notBefore: number;
  /** Read back before (re)sending: a create that may have committed unseen. */
  reconcile: boolean;
  /** Graph said the create's UPN exists: the account must be found (lag may hide it briefly). */
  conflictSeen: boolean;
  /** Graph's "already exists" error, reported if the account found is not ours. */
  conflict?: TargetError;
  /**
   * 401s met in a row by this operation (the transport's own refresh-and-resend counts one);
   * reset by any other answer. Each 401 gets a refresh and a resend until MAX_401_IN_A_ROW.
   */
  unauthorized: number;
  /** A send got no answer (or a 5xx): the write may have committed (a delete's 404 is success). */
  mayHaveCommitted: boolean;
  lagSince?: number;
  backoff?: IBackoff<unknown>;
  /** add-members met "already exist": add them one by one. */
  oneByOne: boolean;
}

export async function executeOperations(
  operations: readonly GraphOperation[],
  context: WriteContext,
  options: ExecutorOptions,
): Promise<WriteResult[]> {
  if (operations.length > MAX_BATCH_SIZE) {
    throw new Error(`at most ${MAX_BATCH_SIZE} operations per call`);
  }
  const { transport, pacer, stats } = options;
  const clock = transport.clock;
  const lagWindowMs = options.lagWindowMs ?? 60_000;
  const states: OpState[] = operations.map((op) => ({
    op,
    throttledAttempts: 0,
    transientAttempts: 0,
    notBefore: 0,
    reconcile:
      (op.semantics.kind === 'create-user' || op.semantics.kind === 'delete-user') &&
      context.inDoubt.has(op.changeId),
    conflictSeen: false,
    unauthorized: 0,
    mayHaveCommitted: context.inDoubt.has(op.changeId),
    oneByOne: false,
  }));
  const open = (): OpState[] => states.filter((s) => s.result === undefined);

  const stop = (s: OpState, code: string, reason: string): void => {
    s.result = { ok: false, notRun: true, code, reason };
  };
  const fail = (s: OpState, error: TargetError): void => {
    s.result = { ok: false, error };
  };
  const nextBackoff = (s: OpState): number => {
    s.backoff = s.backoff ? s.backoff.next(undefined) : writeBackoff();
    return s.backoff.duration;
  };

  while (open().length > 0) {
    if (context.signal.aborted) {
      for (const s of open()) stop(s, 'aborted', 'the run stopped before this change was sent');
      break;
    }
    for (const s of open().filter((x) => x.reconcile)) {
      if (s.op.semantics.kind === 'delete-user') await reconcileDelete(s);
      else await reconcileCreate(s);
    }
    for (const s of open().filter((x) => x.oneByOne)) await addOneByOne(s);
    const sendable = open();
    if (sendable.length === 0) break;

    const wakeAt = Math.max(...sendable.map((s) => s.notBefore));
    const deadline = options.deadline?.();
    if (deadline !== undefined && Math.max(wakeAt, clock.now()) > deadline) {
      const seconds = Math.ceil((wakeAt - clock.now()) / 1000);
      for (const s of sendable) {
        stop(
          s,
          'time-budget',
          `waiting ${seconds} s (Retry-After) would pass the run's time budget; not retried early, resumable`,
        );
      }
      break;
    }
    const wait = wakeAt - clock.now();
    if (wait > 0) await clock.sleep(wait);
    if (context.signal.aborted) continue;

    await pacer.acquire(sendable.length);
    try {
      stats.writes += sendable.length;
      stats.firstWriteAt ??= clock.now();
      if (sendable.length === 1 && sendable[0] !== undefined) {
        await sendAlone(sendable[0]);
      } else {
        await sendBatch(sendable);
      }
      stats.lastWriteAt = clock.now();
    } finally {
      pacer.done();
    }
  }
  return states.map(
    (s) =>
      s.result ?? {
        ok: false,
        error: { code: 'internal', message: 'no outcome', class: 'transient' },
      },
  );

  // ------------------------------------------------------------------------------------------

  async function sendAlone(s: OpState): Promise<void> {
    let response: GraphHttpResponse;
    try {
      response = await transport.send(s.op.request);
    } catch (err) {
      noAnswer(s, err);
      return;
    }
    pacer.observe(response.headers);
    // The transport already refreshed and resent once after a 401: a 401 here is final.
    interpret(s, response.status, response.headers, response.body, true);
  }

  async function sendBatch(batch: readonly OpState[]): Promise<void> {
    const generation = transport.credentialGeneration;
    const requests = batch.map((s, i) => ({
      id: String(i + 1),
      method: s.op.request.method,
      url: s.op.request.url,
      headers: {
        ...options.itemHeaders,
        ...(s.op.request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...s.op.request.headers,
      },
      ...(s.op.request.body === undefined ? {} : { body: s.op.request.body }),
    }));
    let envelope: GraphHttpResponse;
    try {
      envelope = await transport.send({ method: 'POST', url: '/$batch', body: { requests } });
    } catch (err) {
      for (const s of batch) noAnswer(s, err);
      return;
    }
    pacer.observe(envelope.headers);
    if (envelope.status !== 200) {
      // The envelope itself failed: every item answered the same. The transport already
      // refreshed the credential and resent once after a 401: a 401 here is final.
      for (const s of batch) interpret(s, envelope.status, envelope.headers, envelope.body, true);
      return;
    }
    const responses = (envelope.body as { responses?: unknown } | undefined)?.responses;
    const byId = new Map<
      string,
      { status: number; headers: Record<string, string>; body: unknown }
    >();
    if (Array.isArray(responses)) {
      for (const raw of responses as Record<string, unknown>[]) {
        const headers: Record<string, string> = {};
        const rawHeaders = raw['headers'];
        if (rawHeaders && typeof rawHeaders === 'object') {
          for (const [k, v] of Object.entries(rawHeaders as Record<string, unknown>)) {
            headers[k.toLowerCase()] = String(v);
          }
        }
        byId.set(String(raw['id']), {
          status: typeof raw['status'] === 'number' ? raw['status'] : 0,
          headers,
          body: raw['body'],
        });
      }
    }
    let refreshNeeded = false;
    for (const [i, s] of batch.entries()) {
      const item = byId.get(String(i + 1));
      if (item === undefined) {
        // No answer for this item: as if the response were lost.
        noAnswer(
          s,
          new TransportError('network', 'missing', 'the $batch answer left this request out'),
        );
        continue;
      }
      if (item.status === 429) stats.throttled += 1;
      if (item.status === 401) refreshNeeded = true;
      pacer.observe(item.headers);
      interpret(s, item.status, item.headers, item.body);
    }
    if (refreshNeeded) transport.refreshCredential(generation);
  }

  /** No HTTP answer: the write may or may not have happened. */
  function noAnswer(s: OpState, err: unknown): void {
    if (err instanceof TransportError && err.kind === 'auth') {
      fail(s, { code: err.code || 'auth', message: err.message, class: 'auth' });
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    transientRetry(
      s,
      { code: err instanceof TransportError ? err.code : 'network', message },
      undefined,
    );
  }

  function transientRetry(s: OpState, error: TargetError, retryAfterMs: number | undefined): void {
    s.transientAttempts += 1;
    if (s.transientAttempts >= (options.maxTransientAttempts ?? DEFAULT_MAX_TRANSIENT_ATTEMPTS)) {
      fail(s, { ...error, class: 'transient' });
      return;
    }
    stats.retries += 1;
    s.mayHaveCommitted = true;
    // A create or delete may have committed before the answer was lost: prove it before
    // resending (G4, G13).
    if (s.op.semantics.kind === 'create-user' || s.op.semantics.kind === 'delete-user') {
      s.reconcile = true;
    }
    s.notBefore = clock.now() + Math.max(nextBackoff(s), retryAfterMs ?? 0);
  }

  function interpret(
    s: OpState,
    status: number,
    headers: Readonly<Record<string, string>>,
    body: unknown,
    refreshedByTransport = false,
  ): void {
    const semantics = s.op.semantics;
    const unauthorized = status === 401 ? s.unauthorized + (refreshedByTransport ? 2 : 1) : 0;
    s.unauthorized = unauthorized;
    if (status >= 200 && status < 300) {
      const id = (body as { id?: unknown } | undefined)?.id;
      if (semantics.kind === 'create-user' && typeof id === 'string') context.created.add(id);
      if (semantics.kind === 'upsert-group' && typeof id === 'string') context.created.add(id);
      s.result = {
        ok: true,
        ...(typeof id === 'string'
          ? { targetId: id }
          : 'objectId' in semantics
            ? { targetId: semantics.objectId }
            : 'groupId' in semantics
              ? { targetId: semantics.groupId }
              : {}),
      };
      return;
    }
    const graph = graphErrorOf(body);
    const error: TargetError = {
      status,
      code: graph.code ?? `HTTP${status}`,
      message: graph.message ?? `Graph answered ${status}`,
    };
    if (status === 429) {
      const ms = parseRetryAfter(headers['retry-after'], clock.now()) ?? nextBackoff(s);
      if (ms > transport.counters.longestRetryAfterMs) transport.counters.longestRetryAfterMs = ms;
      pacer.throttled(ms, headers['x-ms-throttle-scope'] !== undefined);
      s.throttledAttempts += 1;
      if (s.throttledAttempts >= (options.maxThrottledAttempts ?? DEFAULT_MAX_THROTTLED_ATTEMPTS)) {
        fail(s, { ...error, class: 'throttled' });
        return;
      }
      stats.retries += 1;
      s.notBefore = Math.max(s.notBefore, clock.now() + ms);
      return;
    }
    if (status === 401) {
      // Each 401 gets a refresh and a resend, whatever happened to earlier sends (G11); a run
      // of them means fresh credentials are refused too: final after MAX_401_IN_A_ROW.
      if (unauthorized >= MAX_401_IN_A_ROW) {
        fail(s, { ...error, class: 'auth' });
        return;
      }
      stats.retries += 1;
      return;
    }
    if (status === 404 && semantics.kind === 'delete-user' && s.mayHaveCommitted) {
      // An earlier send may have deleted it: gone is the goal (G13).
      stats.reconciled += 1;
      s.result = { ok: true, recovered: true, targetId: semantics.objectId };
      return;
    }
    if (status === 404 && semantics.kind === 'remove-member') {
      s.result = { ok: true, targetId: semantics.groupId };
      return;
    }
    if (status === 404) {
      const ids = objectIdsOf(semantics);
      if (ids.some((id) => context.created.has(id))) {
        s.lagSince ??= clock.now();
        if (clock.now() - s.lagSince < lagWindowMs) {
          stats.retries += 1;
          s.notBefore = clock.now() + nextBackoff(s);
          return;
        }
      }
      fail(s, {
        ...error,
        class: 'stale',
        message: `${error.message} (the object is gone or changed since the plan: re-plan; nothing is deprovisioned because of this)`,
      });
      return;
    }
    if (status === 400 && semantics.kind === 'create-user' && isAlreadyExists(graph)) {
      s.conflictSeen = true;
      s.conflict = error;
      s.reconcile = true;
      return;
    }
    if (status === 400 && semantics.kind === 'upsert-group' && isReferenceExists(graph)) {
      // The owners are already bound: a replayed upsert whose first send committed unseen, or
      // a group found with them. The upsert is atomic, so it is resent without the owners.
      const lighter = withoutOwners(s.op);
      if (lighter !== undefined) {
        s.op = lighter;
        stats.retries += 1;
        return;
      }
    }
    if (status === 400 && semantics.kind === 'add-members' && isReferenceExists(graph)) {
      s.oneByOne = true;
      return;
    }
    if (status === 403) {
      const isProtected = objectIdsOf(semantics).some((id) =>
        options.protectedIds?.has(id.toLowerCase()),
      );
      fail(s, { ...error, class: isProtected ? 'protected-by-tenant' : 'permission' });
      return;
    }
    if (status >= 500 || status === 0) {
      transientRetry(s, error, parseRetryAfter(headers['retry-after'], clock.now()));
      return;
    }
    fail(s, { ...error, class: 'final' });
  }

  /**
   * Proves whether a create whose answer was lost, or that met "already exists", is in the
   * tenant: read the user by UPN and compare the attributes that make it ours (anchor, marker).
   */
  async function reconcileCreate(s: OpState): Promise<void> {
    const semantics = s.op.semantics;
    if (semantics.kind !== 'create-user') {
      s.reconcile = false;
      return;
    }
    const paths = Object.keys(semantics.proof);
    const select = selectFor(paths).join(',');
    const url = `/users/${encodeURIComponent(semantics.userPrincipalName)}?$select=${select}`;
    const started = clock.now();
    for (;;) {
      let response: GraphHttpResponse;
      try {
        response = await transport.get(url);
      } catch (err) {
        fail(s, {
          code: 'network',
          message: `could not read ${semantics.userPrincipalName} back to settle a lost create: ${err instanceof Error ? err.message : String(err)}`,
          class: 'transient',
        });
        return;
      }
      if (response.status === 200) {
        const found = response.body as Record<string, unknown>;
        const attributes = flatten(found, paths);
        const mismatch = paths.find(
          (p) => !sameValue(attributes[p] ?? null, semantics.proof[p] ?? null),
        );
        stats.reconciled += 1;
        s.reconcile = false;
        if (mismatch !== undefined) {
          const held = `${semantics.userPrincipalName} is held by another account (its ${mismatch} is not this person's)`;
          fail(s, {
            status: s.conflict?.status ?? 400,
            code: s.conflict?.code ?? 'ObjectConflict',
            message: s.conflict ? `${s.conflict.message} (${held})` : held,
            class: 'final',
          });
          return;
        }
        const id = typeof found['id'] === 'string' ? found['id'] : undefined;
        if (id !== undefined) context.created.add(id);
        s.result = { ok: true, recovered: true, ...(id === undefined ? {} : { targetId: id }) };
        return;
      }
      if (response.status === 404) {
        if (!s.conflictSeen) {
          // Not there: the lost create never committed. Send it (again).
          s.reconcile = false;
          return;
        }
        // Graph says it exists but it cannot be read yet: replication lag (G6).
        if (clock.now() - started < lagWindowMs) {
          stats.retries += 1;
          await clock.sleep(nextBackoff(s));
          continue;
        }
      }
      const graph = graphErrorOf(response.body);
      fail(s, {
        status: response.status,
        code: graph.code ?? `HTTP${response.status}`,
        message: `could not read ${semantics.userPrincipalName} back to settle its create: ${graph.message ?? response.status}`,
        class: response.status === 403 ? 'permission' : 'transient',
      });
      return;
    }
  }

  /**
   * Settles a delete whose answer was lost (G13): an account that is no longer an active user
   * (absent, or in the recycle bin) was deleted as intended; one that is still there is deleted
   * again. Either way nothing but this account is touched.
   */
  async function reconcileDelete(s: OpState): Promise<void> {
    const semantics = s.op.semantics;
    s.reconcile = false;
    if (semantics.kind !== 'delete-user') return;
    let response: GraphHttpResponse;
    try {
      response = await transport.get(`/users/${encodeURIComponent(semantics.objectId)}?$select=id`);
    } catch {
      return; // Unknown: resend; a 404 then still counts as deleted (mayHaveCommitted).
    }
    if (response.status === 404) {
      stats.reconciled += 1;
      s.result = { ok: true, recovered: true, targetId: semantics.objectId };
    }
  }

  /**
   * Members one `$ref` at a time, where "already a member" is success. Each add goes through
   * the write policy every path shares (write-policy.ts, G12): 5xx and resets retried with a
   * cap, 429 waited out with an attempt cap, the time budget respected.
   */
  async function addOneByOne(s: OpState): Promise<void> {
    const semantics = s.op.semantics;
    s.oneByOne = false;
    if (semantics.kind !== 'add-members') return;
    for (const memberId of semantics.memberIds) {
      const outcome = await sendWrite(
        async () => {
          await pacer.acquire(1);
          try {
            stats.writes += 1;
            const answer = await transport.send({
              method: 'POST',
              url: `/groups/${encodeURIComponent(semantics.groupId)}/members/$ref`,
              body: { '@odata.id': `${options.referenceBase}/directoryObjects/${memberId}` },
            });
            pacer.observe(answer.headers);
            return answer;
          } finally {
            pacer.done();
          }
        },
        {
          clock,
          ...(options.maxThrottledAttempts === undefined
            ? {}
            : { maxThrottledAttempts: options.maxThrottledAttempts }),
          ...(options.maxTransientAttempts === undefined
            ? {}
            : { maxTransientAttempts: options.maxTransientAttempts }),
          deadline: () => options.deadline?.(),
          onThrottled: (ms, headers) => {
            stats.throttled += 1;
            if (ms > transport.counters.longestRetryAfterMs) {
              transport.counters.longestRetryAfterMs = ms;
            }
            pacer.throttled(ms, headers['x-ms-throttle-scope'] !== undefined);
          },
          onRetry: () => {
            stats.retries += 1;
          },
        },
      );
      if (outcome.kind === 'time-budget') {
        stop(
          s,
          'time-budget',
          `waiting ${Math.ceil(outcome.waitMs / 1000)} s would pass the run's time budget; not retried early, resumable`,
        );
        return;
      }
      if (outcome.kind === 'no-answer') {
        const auth = outcome.error instanceof TransportError && outcome.error.kind === 'auth';
        fail(s, {
          code: outcome.error instanceof TransportError ? outcome.error.code : 'network',
          message: `adding member ${memberId}: ${outcome.error.message}`,
          class: auth ? 'auth' : 'transient',
        });
        return;
      }
      const response = outcome.response;
      const graph = graphErrorOf(response.body);
      if (response.status < 300 || (response.status === 400 && isReferenceExists(graph))) continue;
      fail(s, {
        status: response.status,
        code: graph.code ?? `HTTP${response.status}`,
        message: `adding member ${memberId}: ${graph.message ?? response.status}`,
        class: classOfStatus(response.status),
      });
      return;
    }
    s.result = { ok: true, targetId: semantics.groupId };
  }
}

/** The same group upsert without `owners@odata.bind`; undefined when it has none. */
function withoutOwners(op: GraphOperation): GraphOperation | undefined {
  const body = op.request.body as Record<string, unknown> | undefined;
  if (body === undefined || !('owners@odata.bind' in body)) return undefined;
  const { 'owners@odata.bind': _owners, ...rest } = body;
  return { ...op, request: { ...op.request, body: rest } };
}

function objectIdsOf(semantics: OperationSemantics): string[] {
  switch (semantics.kind) {
    case 'update':
    case 'assign-license':
    case 'delete-user':
      return [semantics.objectId];
    case 'add-members':
      return [semantics.groupId, ...semantics.memberIds];
    case 'remove-member':
      return [semantics.groupId, semantics.memberId];
    default:
      return [];
  }
}

function classOfStatus(status: number): FailureClass {
  if (status === 403) return 'permission';
  if (status === 401) return 'auth';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'transient';
  return 'final';
}

/**
 * "Another object with the same value for property userPrincipalName already exists." A
 * conflict on proxyAddresses (the mail is another object's) is not: the create did not happen,
 * and reading the user back would only wait out the replication window.
 */
export function isAlreadyExists(graph: {
  message?: string;
  detailCodes: readonly string[];
}): boolean {
  if (/property proxyAddresses/i.test(graph.message ?? '')) return false;
  return (
    graph.detailCodes.includes('ObjectConflict') || /already exists/i.test(graph.message ?? '')
  );
}

/** "One or more added object references already exist for the following modified properties". */
export function isReferenceExists(graph: { message?: string }): boolean {
  return /added object references already exist/i.test(graph.message ?? '');
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return JSON.stringify(a) === JSON.stringify(b);
}
