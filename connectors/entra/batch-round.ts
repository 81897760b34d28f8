/**
 * One round of the executor: wait until every due operation may go out (the latest
 * `notBefore`, so the items of one batch retry together after the longest Retry-After, G3),
 * take write tokens from the pacer, send (one request alone, several as one `$batch`) and read
 * each answer (answer-rules.ts). 401s inside a `$batch` refresh the credential once for the
 * round; the transport refreshes and resends by itself only for a whole request.
 */
import { readAnswer, readNoAnswer } from './answer-rules.js';
import type { ExecutorRun, OpState } from './executor-state.js';
import { stopForTimeBudget } from './executor-state.js';
import type { GraphOperation } from './graph-operation.js';
import type { GraphHttpRequest, GraphHttpResponse } from './transport.js';
import { TransportError } from './transport.js';

/** One request inside a `$batch` body. */
export interface BatchItemRequest {
  readonly id: string;
  readonly method: GraphHttpRequest['method'];
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/**
 * Waits until the latest `notBefore` of `due`. False, with each of them stopped, when that
 * wait would pass the run's deadline: they are not retried early (G2).
 */
export async function waitForRound(run: ExecutorRun, due: readonly OpState[]): Promise<boolean> {
  const { clock } = run;
  const wakeAt = Math.max(...due.map((s) => s.notBefore));
  const deadline = run.deadline?.();
  if (deadline !== undefined && Math.max(wakeAt, clock.now()) > deadline) {
    const waitMs = wakeAt - clock.now();
    for (const s of due) stopForTimeBudget(s, waitMs, 'Retry-After');
    return false;
  }
  const wait = wakeAt - clock.now();
  if (wait > 0) await clock.sleep(wait);
  return true;
}

/** Sends `due` under the pacer's tokens and reads the answers. */
export async function sendRound(run: ExecutorRun, due: readonly OpState[]): Promise<void> {
  const { pacer, stats, clock } = run;
  await pacer.acquire(due.length);
  try {
    stats.writes += due.length;
    stats.firstWriteAt ??= clock.now();
    const [only] = due;
    if (due.length === 1 && only !== undefined) await sendAlone(run, only);
    else await sendBatch(run, due);
    stats.lastWriteAt = clock.now();
  } finally {
    pacer.done();
  }
}

async function sendAlone(run: ExecutorRun, s: OpState): Promise<void> {
  let response: GraphHttpResponse;
  try {
    response = await run.transport.send(s.op.request);
  } catch (err) {
    readNoAnswer(run, s, err);
    return;
  }
  run.pacer.observe(response.headers);
  // The transport already refreshed and resent once after a 401: a 401 here is final.
  readAnswer(run, s, response, true);
}

async function sendBatch(run: ExecutorRun, batch: readonly OpState[]): Promise<void> {
  const { transport, pacer, stats } = run;
  const generation = transport.credentialGeneration;
  const requests = batchRequestsOf(
    batch.map((s) => s.op),
    run.itemHeaders,
  );
  let envelope: GraphHttpResponse;
  try {
    envelope = await transport.send({ method: 'POST', url: '/$batch', body: { requests } });
  } catch (err) {
    for (const s of batch) readNoAnswer(run, s, err);
    return;
  }
  pacer.observe(envelope.headers);
  if (envelope.status !== 200) {
    // The envelope itself failed: every item answered the same. The transport already
    // refreshed the credential and resent once after a 401: a 401 here is final.
    for (const s of batch) readAnswer(run, s, envelope, true);
    return;
  }
  const byId = batchAnswersOf(envelope.body);
  let refreshNeeded = false;
  for (const [i, s] of batch.entries()) {
    const item = byId.get(String(i + 1));
    if (item === undefined) {
      // No answer for this item: as if the response were lost.
      const lost = new TransportError(
        'network',
        'missing',
        'the $batch answer left this request out',
      );
      readNoAnswer(run, s, lost);
      continue;
    }
    if (item.status === 429) stats.throttled += 1;
    if (item.status === 401) refreshNeeded = true;
    pacer.observe(item.headers);
    readAnswer(run, s, item);
  }
  if (refreshNeeded) transport.refreshCredential(generation);
}

/** The `$batch` requests for these operations, with ids "1", "2", … in their order. */
export function batchRequestsOf(
  operations: readonly GraphOperation[],
  itemHeaders: Readonly<Record<string, string>> | undefined,
): BatchItemRequest[] {
  return operations.map(({ request }, i) => ({
    id: String(i + 1),
    method: request.method,
    url: request.url,
    headers: {
      ...itemHeaders,
      ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...request.headers,
    },
    ...(request.body === undefined ? {} : { body: request.body }),
  }));
}

/**
 * The answers in a `$batch` response body by item id, header names lower-cased. An item
 * without a numeric status answers 0 (retried as transient); a body without `responses` has none.
 */
export function batchAnswersOf(body: unknown): Map<string, GraphHttpResponse> {
  const byId = new Map<string, GraphHttpResponse>();
  const responses = (body as { responses?: unknown } | undefined)?.responses;
  if (!Array.isArray(responses)) return byId;
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
  return byId;
}
