/**
 * The latency model: Graph answers in hundreds of milliseconds, not the few a loopback
 * simulator takes, and the time grows with what the answer carries. Every Graph response
 * (top-level; a `$batch` envelope as one) is delayed by
 *
 *   base + perObject × objects returned + a uniform draw in [0, jitter]
 *
 * on the simulator's clock (wall: a real wait; virtual: the clock moves on, nobody waits).
 * "Objects returned" is the length of the answer's `value` array, 1 for a single object, 0 for
 * an answer without a body; a `$batch` envelope counts the objects of all its items (a
 * conservative model: it does not count on Graph running the items of a batch side by side).
 *
 * Written `150ms+1ms~20ms` (base, per object, jitter; units optional, `~jitter` optional) on the
 * command line (`entrasync simulator --latency`) and in `startSimulator({ latency })`; the
 * fault plan's `latency` rule takes `ms`, `perObjectMs` and `jitterMs` for the requests it
 * matches. The benchmarks' default is BENCH_LATENCY, 150 ms + 1 ms per object (a 999-user
 * page ≈ 1.15 s), an assumption about Graph from published figures, not a measurement.
 */
import type { Random } from './random.js';

export interface LatencyModel {
  /** Every response waits this long. */
  readonly baseMs: number;
  /** And this long per object it returns. */
  readonly perObjectMs: number;
  /** And a uniform draw in [0, jitterMs]. Default 0. */
  readonly jitterMs?: number;
}

/** The benchmarks' Graph-like latency: 150 ms + 1 ms per object returned. */
export const BENCH_LATENCY: LatencyModel = { baseMs: 150, perObjectMs: 1 };

const NUMBER = String.raw`(\d+(?:\.\d+)?)\s*(?:ms)?`;
const SYNTAX = new RegExp(`^${NUMBER}(?:\\s*\\+\\s*${NUMBER})?(?:\\s*~\\s*${NUMBER})?$`, 'i');

/** `150ms+1ms~20ms`, `150+1`, `200ms`, `0`; throws on anything else. */
export function parseLatencyModel(text: string): LatencyModel {
  const match = SYNTAX.exec(text.trim());
  if (match === null) {
    throw new Error(
      `latency "${text}" is not <base>ms[+<perObject>ms][~<jitter>ms], e.g. 150ms+1ms~20ms`,
    );
  }
  const [, base, perObject, jitter] = match;
  return {
    baseMs: Number(base),
    perObjectMs: perObject === undefined ? 0 : Number(perObject),
    ...(jitter === undefined ? {} : { jitterMs: Number(jitter) }),
  };
}

export function formatLatencyModel(model: LatencyModel): string {
  const jitter = model.jitterMs ? `~${model.jitterMs}ms` : '';
  return `${model.baseMs}ms+${model.perObjectMs}ms/object${jitter}`;
}

/** Objects a response body carries: its `value` array, or a batch's items' objects, or 1. */
export function objectsReturned(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 0;
  const record = body as Record<string, unknown>;
  if (Array.isArray(record['value'])) return record['value'].length;
  if (Array.isArray(record['responses'])) {
    let total = 0;
    for (const item of record['responses'] as unknown[]) {
      total += objectsReturned((item as Record<string, unknown> | null)?.['body']);
    }
    return total;
  }
  // An error body is not an object returned.
  return 'error' in record ? 0 : 1;
}

/** The delay (ms, whole) of one response under `model`; `random` draws the jitter. */
export function latencyDelayMs(model: LatencyModel, objects: number, random: Random): number {
  const jitter = model.jitterMs ? random.float() * model.jitterMs : 0;
  return Math.round(model.baseMs + model.perObjectMs * Math.max(0, objects) + jitter);
}
