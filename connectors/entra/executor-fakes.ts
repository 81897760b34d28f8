/**
 * Test fakes for the batch executor's pieces: a clock that moves only when slept on, a
 * transport that answers from a script and records what was sent, and a pacer that records
 * what it was told. Used by the executor's unit tests only; the simulator tests use the real ones.
 */
import type { WriteContext } from '../../engine/ports.js';
import type { Clock } from './clock.js';
import type { ExecutorOptions, ExecutorRun } from './executor-state.js';
import { startRun } from './executor-state.js';
import type { GraphOperation, OperationSemantics } from './graph-operation.js';
import type { WritePacer } from './pacer.js';
import type { GraphHttpRequest, GraphHttpResponse, GraphTransport } from './transport.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');

export interface FakeClock extends Clock {
  readonly slept: number[];
}

export function fakeClock(): FakeClock {
  let now = T0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += Math.max(0, ms);
    },
  };
}

export interface FakeTransport extends GraphTransport {
  /** Every request sent or read, in order (reads as GET). */
  readonly sent: GraphHttpRequest[];
  /** The generation passed to each `refreshCredential`. */
  readonly refreshes: number[];
}

/** Answers each request (send or get) with the next scripted answer; an Error is thrown. */
export function fakeTransport(
  clock: Clock,
  script: readonly (GraphHttpResponse | Error)[],
): FakeTransport {
  const queue = [...script];
  const sent: GraphHttpRequest[] = [];
  const refreshes: number[] = [];
  const next = async (request: GraphHttpRequest): Promise<GraphHttpResponse> => {
    sent.push(request);
    const answer = queue.shift();
    if (answer === undefined) throw new Error(`no scripted answer for ${request.url}`);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return {
    clock,
    sent,
    refreshes,
    counters: { requests: 0, throttled: 0, retries: 0, tokenRefreshes: 0, longestRetryAfterMs: 0 },
    credentialGeneration: 7,
    send: next,
    get: (url) => next({ method: 'GET', url }),
    refreshCredential: (generation) => {
      refreshes.push(generation);
    },
    serverClock: () => undefined,
  };
}

export interface FakePacer extends WritePacer {
  readonly acquired: number[];
  readonly throttles: { retryAfterMs: number; scoped: boolean }[];
  /** Slots taken and not given back. */
  inFlight: number;
}

export function fakePacer(): FakePacer {
  const pacer: FakePacer = {
    acquired: [],
    throttles: [],
    inFlight: 0,
    acquire: async (writes) => {
      pacer.acquired.push(writes);
      pacer.inFlight += 1;
    },
    done: () => {
      pacer.inFlight -= 1;
    },
    observe: () => undefined,
    throttled: (retryAfterMs, scoped) => {
      pacer.throttles.push({ retryAfterMs, scoped });
    },
    snapshot: () => ({ rate: 20, inFlightLimit: 4, slowDowns: pacer.throttles.length }),
  };
  return pacer;
}

export function writeContext(inDoubt: readonly string[] = []): WriteContext {
  return {
    inDoubt: new Set(inDoubt),
    created: new Set(),
    createdIds: new Map(),
    signal: new AbortController().signal,
  };
}

export interface FakeRun {
  readonly run: ExecutorRun;
  readonly clock: FakeClock;
  readonly transport: FakeTransport;
  readonly pacer: FakePacer;
}

/** A run over the fakes; `script` answers the transport's requests in order. */
export function fakeRun(
  script: readonly (GraphHttpResponse | Error)[] = [],
  options: Partial<Omit<ExecutorOptions, 'transport' | 'pacer'>> = {},
  context: WriteContext = writeContext(),
): FakeRun {
  const clock = fakeClock();
  const transport = fakeTransport(clock, script);
  const pacer = fakePacer();
  const run = startRun(context, {
    transport,
    pacer,
    stats: { writes: 0, throttled: 0, retries: 0, reconciled: 0 },
    referenceBase: 'https://graph.microsoft.com/v1.0',
    ...options,
  });
  return { run, clock, transport, pacer };
}

export function answer(
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): GraphHttpResponse {
  return { status, headers, body };
}

/** A Graph error body. */
export function graphError(code: string, message: string): unknown {
  return { error: { code, message } };
}

export function operation(
  semantics: OperationSemantics,
  request: Partial<GraphHttpRequest> = {},
): GraphOperation {
  return {
    changeId: `change:${semantics.kind}`,
    request: { method: 'POST', url: '/test', ...request },
    semantics,
  };
}
