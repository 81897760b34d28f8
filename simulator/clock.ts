/**
 * The simulator's notion of time. Everything time-dependent (token lifetimes, throttling
 * buckets and Retry-After, replication lag, delta-token expiry, recycle-bin retention,
 * createdDateTime) reads one injected clock, so a test or benchmark can run hours of simulated
 * time in seconds while every wait is still honoured in simulated time.
 *
 * - `systemClock()`: wall-clock time; `sleep` really waits.
 * - `createVirtualClock()`: time moves only when told. `advance(ms)` moves it forward.
 *   `sleep(ms)` registers a wake-up at `now + ms`; once the current turn of the event loop
 *   is over, time jumps to the earliest pending wake-up and those sleepers resume (then the
 *   next, and so on). So N workers that each sleep 30 s from the same instant resume together
 *   30 s later, not N × 30 s, and nobody waits in real time. A client that waits
 *   `Retry-After` with the same clock's `sleep` waits exactly as long as the simulator's token
 *   bucket needs, in simulated time.
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves once `ms` of this clock's time has passed. */
  sleep(ms: number): Promise<void>;
}

export interface VirtualClock extends Clock {
  readonly virtual: true;
  /** Moves time forward by `ms` (negative values are refused: time never runs backwards). */
  advance(ms: number): void;
}

export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  };
}

/** Default start of virtual time: a fixed instant, so simulated timestamps are stable. */
export const VIRTUAL_EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

export function createVirtualClock(startMs: number = VIRTUAL_EPOCH_MS): VirtualClock {
  if (!Number.isFinite(startMs)) throw new Error('createVirtualClock: startMs must be finite.');
  let now = startMs;
  let pending: { wake: number; resolve: () => void }[] = [];
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const earliest = Math.min(...pending.map((p) => p.wake));
    if (earliest > now) now = earliest;
    const due = pending.filter((p) => p.wake <= now);
    pending = pending.filter((p) => p.wake > now);
    for (const sleeper of due) sleeper.resolve();
    schedule();
  };
  const schedule = (): void => {
    if (scheduled || pending.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    virtual: true,
    now: () => now,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new Error('VirtualClock.advance: ms must be a non-negative number.');
      }
      now += ms;
    },
    sleep(ms) {
      return new Promise<void>((resolve) => {
        pending.push({ wake: now + Math.max(0, ms), resolve });
        schedule();
      });
    },
  };
}

/**
 * `base` read `offsetMs` later (negative: earlier): a tenant whose clock differs from the
 * local one, so a test can show what entrasync does with a skewed local clock (A7). Sleeps
 * are `base`'s: an offset shifts the time, not its pace.
 */
export function offsetClock(base: Clock, offsetMs: number): Clock {
  if (!Number.isFinite(offsetMs)) throw new Error('offsetClock: offsetMs must be finite.');
  if (offsetMs === 0) return base;
  return { now: () => base.now() + offsetMs, sleep: (ms) => base.sleep(ms) };
}

export function isVirtualClock(clock: Clock): clock is VirtualClock {
  return (clock as Partial<VirtualClock>).virtual === true;
}
