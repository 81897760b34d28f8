/**
 * How the executor reads one answer to one operation, or its absence: the table at the top of
 * batch-executor.ts. Each rule either ends the operation (a result or a failure) or says when
 * and how it goes out again (`notBefore`, `reconcile`, `oneByOne`, a lighter request); none
 * sends anything. Caps and backoff are write-policy.ts's, through the run and `nextBackoff`.
 */
import type { TargetError } from '../../engine/model/report.js';
import { parseRetryAfter } from './clock.js';
import type { ExecutorRun, OpState } from './executor-state.js';
import { failOp, nextBackoff, noteThrottle } from './executor-state.js';
import type { OperationSemantics } from './graph-operation.js';
import { objectIdsOf, withoutOwners } from './graph-operation.js';
import type { GraphHttpResponse } from './transport.js';
import { TransportError, graphErrorOf } from './transport.js';

/** 401s in a row (each followed by a fresh credential) after which an operation fails `auth`. */
export const MAX_401_IN_A_ROW = 3;

type GraphErrorBody = ReturnType<typeof graphErrorOf>;

/**
 * Reads one answer. `refreshedByTransport`: the answer is to a whole request, for which the
 * transport already refreshed the credential and resent once after a 401 (a 401 then counts two).
 */
export function readAnswer(
  run: ExecutorRun,
  s: OpState,
  answer: GraphHttpResponse,
  refreshedByTransport = false,
): void {
  const { status, headers, body } = answer;
  s.unauthorized = status === 401 ? s.unauthorized + (refreshedByTransport ? 2 : 1) : 0;
  if (status >= 200 && status < 300) {
    succeed(run, s, body);
    return;
  }
  const graph = graphErrorOf(body);
  const error: TargetError = {
    status,
    code: graph.code ?? `HTTP${status}`,
    message: graph.message ?? `Graph answered ${status}`,
  };
  if (status === 429) {
    retryThrottled(run, s, error, headers);
  } else if (status === 401) {
    // Each 401 gets a refresh and a resend, whatever happened to earlier sends (G11); a run
    // of them means fresh credentials are refused too: final after MAX_401_IN_A_ROW.
    if (s.unauthorized >= MAX_401_IN_A_ROW) failOp(s, { ...error, class: 'auth' });
    else run.stats.retries += 1;
  } else if (status === 404) {
    readNotFound(run, s, error);
  } else if (status === 400 && readBadRequest(run, s, graph, error)) {
    return;
  } else if (status === 403) {
    const isProtected = objectIdsOf(s.op.semantics).some((id) =>
      run.protectedIds?.has(id.toLowerCase()),
    );
    failOp(s, { ...error, class: isProtected ? 'protected-by-tenant' : 'permission' });
  } else if (status >= 500 || status === 0) {
    retryTransient(run, s, error, parseRetryAfter(headers['retry-after'], run.clock.now()));
  } else {
    failOp(s, { ...error, class: 'final' });
  }
}

/** No HTTP answer: the write may or may not have happened. */
export function readNoAnswer(run: ExecutorRun, s: OpState, err: unknown): void {
  if (err instanceof TransportError && err.kind === 'auth') {
    failOp(s, { code: err.code || 'auth', message: err.message, class: 'auth' });
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof TransportError ? err.code : 'network';
  retryTransient(run, s, { code, message }, undefined);
}

function succeed(run: ExecutorRun, s: OpState, body: unknown): void {
  const semantics = s.op.semantics;
  const id = (body as { id?: unknown } | undefined)?.id;
  if (
    typeof id === 'string' &&
    (semantics.kind === 'create-user' || semantics.kind === 'upsert-group')
  ) {
    run.context.created.add(id);
  }
  s.result = { ok: true, ...targetOf(semantics, id) };
}

/** The object a successful write names: the id Graph answered, else the one it was sent to. */
function targetOf(semantics: OperationSemantics, answeredId: unknown): { targetId?: string } {
  if (typeof answeredId === 'string') return { targetId: answeredId };
  if ('objectId' in semantics) return { targetId: semantics.objectId };
  if ('groupId' in semantics) return { targetId: semantics.groupId };
  return {};
}

/** 429: wait its Retry-After in full (else the backoff), up to the throttled cap (G1, G2). */
function retryThrottled(
  run: ExecutorRun,
  s: OpState,
  error: TargetError,
  headers: Readonly<Record<string, string>>,
): void {
  const ms = parseRetryAfter(headers['retry-after'], run.clock.now()) ?? nextBackoff(s);
  noteThrottle(run, ms, headers);
  s.throttledAttempts += 1;
  if (s.throttledAttempts >= run.maxThrottledAttempts) {
    failOp(s, { ...error, class: 'throttled' });
    return;
  }
  run.stats.retries += 1;
  s.notBefore = Math.max(s.notBefore, run.clock.now() + ms);
}

/** 5xx, reset or no answer: backoff (or a longer Retry-After) up to the transient cap. */
function retryTransient(
  run: ExecutorRun,
  s: OpState,
  error: TargetError,
  retryAfterMs: number | undefined,
): void {
  s.transientAttempts += 1;
  if (s.transientAttempts >= run.maxTransientAttempts) {
    failOp(s, { ...error, class: 'transient' });
    return;
  }
  run.stats.retries += 1;
  s.mayHaveCommitted = true;
  // A create or delete may have committed before the answer was lost: prove it before
  // resending (G4, G13).
  if (s.op.semantics.kind === 'create-user' || s.op.semantics.kind === 'delete-user') {
    s.reconcile = true;
  }
  s.notBefore = run.clock.now() + Math.max(nextBackoff(s), retryAfterMs ?? 0);
}

/** 404: the goal already holds, replication lag on an object created this run, or stale (G6). */
function readNotFound(run: ExecutorRun, s: OpState, error: TargetError): void {
  const semantics = s.op.semantics;
  if (semantics.kind === 'delete-user' && s.mayHaveCommitted) {
    // An earlier send may have deleted it: gone is the goal (G13).
    run.stats.reconciled += 1;
    s.result = { ok: true, recovered: true, targetId: semantics.objectId };
    return;
  }
  if (semantics.kind === 'remove-member' || semantics.kind === 'remove-owner') {
    s.result = { ok: true, targetId: semantics.groupId };
    return;
  }
  if (
    objectIdsOf(semantics).some((id) => run.context.created.has(id)) &&
    retryWhileLagging(run, s)
  ) {
    return;
  }
  failOp(s, {
    ...error,
    class: 'stale',
    message: `${error.message} (the object is gone or changed since the plan: re-plan; nothing is deprovisioned because of this)`,
  });
}

/** Replication lag on an object created this run: resent after a backoff, within the lag window (G6). */
function retryWhileLagging(run: ExecutorRun, s: OpState): boolean {
  s.lagSince ??= run.clock.now();
  if (run.clock.now() - s.lagSince >= run.lagWindowMs) return false;
  run.stats.retries += 1;
  s.notBefore = run.clock.now() + nextBackoff(s);
  return true;
}

/**
 * A 400 `Request_BadRequest` naming an object created this run ("Invalid object identifier
 * '<id>'."): Graph answers a write that references a group or user created a moment ago this
 * way as well as with 404 while it replicates (GR4), so it is lag, not a final refusal.
 */
function isLaggingReference(run: ExecutorRun, s: OpState, graph: GraphErrorBody): boolean {
  if (graph.code !== 'Request_BadRequest') return false;
  const message = (graph.message ?? '').toLowerCase();
  return objectIdsOf(s.op.semantics).some(
    (id) => run.context.created.has(id) && message.includes(id.toLowerCase()),
  );
}

/**
 * 400s that mean "already there" (G4, G12) or replication lag (GR4); false for any other 400,
 * which is final.
 */
function readBadRequest(
  run: ExecutorRun,
  s: OpState,
  graph: GraphErrorBody,
  error: TargetError,
): boolean {
  const kind = s.op.semantics.kind;
  if (kind === 'create-user' && isAlreadyExists(graph)) {
    s.conflictSeen = true;
    s.conflict = error;
    s.reconcile = true;
    return true;
  }
  if (kind === 'upsert-group' && isReferenceExists(graph)) {
    // The owners are already bound: a replayed upsert whose first send committed unseen, or
    // a group found with them. The upsert is atomic, so it is resent without the owners.
    const lighter = withoutOwners(s.op);
    if (lighter === undefined) return false;
    s.op = lighter;
    run.stats.retries += 1;
    return true;
  }
  if (s.op.semantics.kind === 'add-owner' && isReferenceExists(graph)) {
    // Already an owner (a replay whose first send committed unseen): the goal holds.
    s.result = { ok: true, targetId: s.op.semantics.groupId };
    return true;
  }
  if (kind === 'add-members' && isReferenceExists(graph)) {
    s.oneByOne = true;
    return true;
  }
  return isLaggingReference(run, s, graph) && retryWhileLagging(run, s);
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
