/**
 * Write pacing for one app+tenant: a token bucket that keeps entrasync under Graph's write
 * ceiling (3,000 writes per 150 s per app and tenant, i.e. 20 writes/s) instead of running into
 * 429s, plus an in-flight limit.
 *
 * - The bucket refills at `writesPerSecond` (default 20) up to `burst` (default one second's
 *   worth); a batch of n items takes n tokens. Waiting happens on the injected clock.
 * - `x-ms-throttle-limit-percentage` (sent once more than 80% of a limit is used) slows the
 *   rate by 10% each time it is seen, before any 429; answers without it recover 1% each.
 * - A 429 halves the in-flight limit (G1: "concurrency drops"), once per throttling episode. A
 *   429 that names an app/tenant scope (`x-ms-throttle-scope`: the bucket itself is empty) also
 *   halves the rate and holds every write until its Retry-After has passed, since any other
 *   write would be refused too.
 * - Floors: 10% of the configured rate, one request in flight. Recovery is gradual.
 *
 * No maintained rate limiter takes an injected clock (bottleneck and limiter read Date.now and
 * setTimeout), and the pacing must run on the simulator's virtual clock in tests and benchmarks;
 * the bucket is a few lines of arithmetic over (tokens, last refill).
 */
import type { Clock } from './clock.js';

export interface PacerOptions {
  readonly clock: Clock;
  /** Sustained writes per second. Default 20 (Graph's 3,000 per 150 s). */
  readonly writesPerSecond?: number;
  /** Tokens the bucket holds when full. Default `writesPerSecond` (one second's worth). */
  readonly burst?: number;
  /** Most requests in flight. Default 4. */
  readonly maxInFlight?: number;
}

export interface PacerSnapshot {
  /** Current writes per second after slow-downs. */
  readonly rate: number;
  readonly inFlightLimit: number;
  readonly slowDowns: number;
}

export interface WritePacer {
  /** Resolves when `writes` writes may be sent; takes an in-flight slot (release with `done`). */
  acquire(writes: number): Promise<void>;
  /** Gives back the in-flight slot taken by `acquire`. */
  done(): void;
  /** Reads `x-ms-throttle-limit-percentage` from an answer. */
  observe(headers: Readonly<Record<string, string>>): void;
  /** A 429 arrived; `scoped` when it names the app/tenant bucket. */
  throttled(retryAfterMs: number, scoped: boolean): void;
  snapshot(): PacerSnapshot;
}

export const DEFAULT_WRITES_PER_SECOND = 20;

export function createWritePacer(options: PacerOptions): WritePacer {
  const clock = options.clock;
  const base = options.writesPerSecond ?? DEFAULT_WRITES_PER_SECOND;
  const burst = options.burst ?? base;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 4);
  let factor = 1;
  let tokens = burst;
  let last = clock.now();
  let pausedUntil = 0;
  let inFlight = 0;
  let inFlightLimit = maxInFlight;
  let cleanAnswers = 0;
  let slowDowns = 0;
  let lastCut = -Infinity;
  let queue: Promise<void> = Promise.resolve();
  const slotWaiters: (() => void)[] = [];

  const rate = (): number => Math.max(base * 0.1, base * factor);
  const refill = (): void => {
    const now = clock.now();
    tokens = Math.min(Math.max(burst, tokens), tokens + ((now - last) / 1000) * rate());
    last = now;
  };

  const takeSlot = async (): Promise<void> => {
    while (inFlight >= inFlightLimit) {
      await new Promise<void>((resolve) => slotWaiters.push(resolve));
    }
    inFlight += 1;
  };

  return {
    async acquire(writes) {
      await takeSlot();
      const need = Math.max(0, writes);
      // Callers are served in arrival order, so the bucket is never split into waiting halves.
      const turn = queue.then(async () => {
        for (;;) {
          refill();
          const pause = pausedUntil - clock.now();
          if (pause > 0) {
            await clock.sleep(pause);
            continue;
          }
          const capacity = Math.max(burst, need);
          if (tokens > capacity) tokens = capacity;
          if (tokens >= need) {
            tokens -= need;
            return;
          }
          await clock.sleep(Math.ceil(((need - tokens) / rate()) * 1000));
        }
      });
      queue = turn.catch(() => {});
      await turn;
    },
    done() {
      inFlight = Math.max(0, inFlight - 1);
      slotWaiters.shift()?.();
    },
    observe(headers) {
      const raw = headers['x-ms-throttle-limit-percentage'];
      if (raw === undefined) {
        factor = Math.min(1, factor + 0.01);
        cleanAnswers += 1;
        if (cleanAnswers >= 10 && inFlightLimit < maxInFlight) {
          inFlightLimit += 1;
          cleanAnswers = 0;
          slotWaiters.shift()?.();
        }
        return;
      }
      // Graph documents a share between 0.8 and 1.8; accept a percentage too.
      const value = Number(raw);
      const used = value > 2 ? value / 100 : value;
      if (Number.isFinite(used) && used >= 0.8) {
        factor = Math.max(0.1, factor * 0.9);
        slowDowns += 1;
        cleanAnswers = 0;
      }
    },
    throttled(retryAfterMs, scoped) {
      const now = clock.now();
      // One cut per throttling episode: the 429s of one burst (a whole batch's items) are one
      // signal, not twenty.
      if (now - lastCut >= Math.max(1000, retryAfterMs)) {
        lastCut = now;
        inFlightLimit = Math.max(1, Math.floor(inFlightLimit / 2));
        cleanAnswers = 0;
        slowDowns += 1;
        // A 429 naming the app/tenant bucket says our rate is too high; one without a scope is
        // Graph's load shedding (it can come far below the limits), which a slower rate would
        // not cure: those ops wait their Retry-After, the rest go on.
        if (scoped) factor = Math.max(0.1, factor * 0.5);
      }
      if (scoped) pausedUntil = Math.max(pausedUntil, now + retryAfterMs);
    },
    snapshot() {
      return { rate: rate(), inFlightLimit, slowDowns };
    },
  };
}
