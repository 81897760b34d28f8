/**
 * The retry policy of every path that writes to Graph: one set of rules, whichever path sends.
 *
 * - 429: wait its `Retry-After` in full (however long), else the backoff; at most
 *   `maxThrottledAttempts` sends.
 * - 5xx, reset, no answer: exponential backoff (cockatiel's, 1 s doubling to 30 s, with jitter),
 *   or a longer `Retry-After` if the answer names one; at most `maxTransientAttempts` sends.
 * - 401: the transport refreshes the credential and resends once per 401 (G7, G11).
 * - A wait that would pass the run's deadline is not taken: the write answers "time budget"
 *   (resumable) instead of being retried early (G2).
 *
 * The batch executor's round loop applies these rules to the items of a `$batch` (it cannot be a
 * single cockatiel call: items of one batch retry together after the longest wait). A write sent
 * on its own outside that loop (the member-by-member fallback, G12) goes through `sendWrite`, a
 * cockatiel retry policy with the same caps and backoff. Waits run on the injected clock (not
 * cockatiel's setTimeout), so a 300 s Retry-After takes no real time in tests and benchmarks.
 */
import type { IBackoff } from 'cockatiel';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { Clock } from './clock.js';
import { parseRetryAfter } from './clock.js';
import type { GraphHttpResponse } from './transport.js';
import { DEFAULT_MAX_THROTTLED_ATTEMPTS, TransportError } from './transport.js';

/** Sends of one write before a throttled or a transient failure is final. */
export { DEFAULT_MAX_THROTTLED_ATTEMPTS };
export const DEFAULT_MAX_TRANSIENT_ATTEMPTS = 6;

/** The backoff of a write retried without a `Retry-After`. */
export function writeBackoff(): IBackoff<unknown> {
  return new ExponentialBackoff({ initialDelay: 1000, maxDelay: 30_000 }).next();
}

/** Is this answer one a write retries (429 or 5xx)? */
export function isRetryableWriteStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export interface WritePolicyOptions {
  readonly clock: Clock;
  readonly maxThrottledAttempts?: number;
  readonly maxTransientAttempts?: number;
  /** Clock time after which no wait is started. */
  readonly deadline?: () => number | undefined;
  /** Called for each 429 with the wait it asked for (the pacer slows down). */
  readonly onThrottled?: (waitMs: number, headers: Readonly<Record<string, string>>) => void;
  /** Called for each retry. */
  readonly onRetry?: () => void;
}

/** What a write sent under the policy came to. */
export type WriteOutcome =
  | { readonly kind: 'answer'; readonly response: GraphHttpResponse }
  | { readonly kind: 'no-answer'; readonly error: Error }
  | { readonly kind: 'time-budget'; readonly waitMs: number };

class TimeBudgetStop extends Error {
  constructor(readonly waitMs: number) {
    super('time budget');
  }
}

/**
 * Sends one write under the policy: the last answer (a success, a final error, or the last
 * retryable one once its cap is reached), no answer at all, or a stop at the time budget.
 * `send` is called for each attempt (take pacer tokens inside it).
 */
export async function sendWrite(
  send: () => Promise<GraphHttpResponse>,
  options: WritePolicyOptions,
): Promise<WriteOutcome> {
  const { clock } = options;
  const maxThrottled = options.maxThrottledAttempts ?? DEFAULT_MAX_THROTTLED_ATTEMPTS;
  const maxTransient = options.maxTransientAttempts ?? DEFAULT_MAX_TRANSIENT_ATTEMPTS;
  let throttled = 0;
  let transient = 0;
  let again = false;
  let pendingWaitMs = 0;
  let backoff: IBackoff<unknown> | undefined;
  const nextBackoff = (): number => {
    backoff = backoff ? backoff.next(undefined) : writeBackoff();
    return backoff.duration;
  };
  const policy = retry(
    handleWhen((err) => again && !(err instanceof TimeBudgetStop)).orWhenResult(() => again),
    { maxAttempts: maxThrottled + maxTransient },
  );
  policy.onRetry(() => options.onRetry?.());
  try {
    const response = await policy.execute(async () => {
      if (pendingWaitMs > 0) {
        const wait = pendingWaitMs;
        pendingWaitMs = 0;
        const deadline = options.deadline?.();
        if (deadline !== undefined && clock.now() + wait > deadline) throw new TimeBudgetStop(wait);
        await clock.sleep(wait);
      }
      again = false;
      let answer: GraphHttpResponse;
      try {
        answer = await send();
      } catch (err) {
        if (err instanceof TransportError && err.kind === 'auth') throw err;
        transient += 1;
        again = transient < maxTransient;
        pendingWaitMs = nextBackoff();
        throw err;
      }
      const asked = parseRetryAfter(answer.headers['retry-after'], clock.now());
      if (answer.status === 429) {
        throttled += 1;
        const wait = asked ?? nextBackoff();
        options.onThrottled?.(wait, answer.headers);
        again = throttled < maxThrottled;
        pendingWaitMs = wait;
      } else if (answer.status >= 500) {
        transient += 1;
        again = transient < maxTransient;
        pendingWaitMs = Math.max(nextBackoff(), asked ?? 0);
      }
      return answer;
    });
    return { kind: 'answer', response };
  } catch (err) {
    if (err instanceof TimeBudgetStop) return { kind: 'time-budget', waitMs: err.waitMs };
    return { kind: 'no-answer', error: err instanceof Error ? err : new Error(String(err)) };
  }
}
