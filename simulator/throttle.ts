/**
 * Graph's identity-and-access throttling as token buckets (throttling-limits page, "Identity
 * and access service limits"):
 *
 * - per application + tenant: resource units per 10 seconds by tenant size, 3,500 (S, under 50
 *   users), 5,000 (M, 50-500) or 8,000 (L, over 500), and 3,000 writes per 2 min 30 s;
 * - per tenant, all applications together: 18,000 writes per 5 minutes.
 *   (The per-application-across-tenants limits cannot bind with one tenant and are omitted.)
 *
 * A request's resource-unit cost is its route's base cost (GET users 2, GET groups/{id}/members
 * 3, GET subscribedSkus 3, anything else 1), minus 1 with `$select`, plus 1 with `$expand`,
 * minus 1 with `$top` under 20, never below 1; writes (POST, PATCH, PUT, DELETE) also cost one
 * write unit. Buckets refill continuously; a request the bucket cannot pay for is refused (and
 * costs nothing) with 429 and `Retry-After` = the whole seconds until it could be paid. Every
 * answered request reports `x-ms-resource-unit`, and `x-ms-throttle-limit-percentage` once more
 * than 80% of a limit is used. Time comes from the injected clock, so with the virtual clock
 * the simulator never sleeps: it answers 429 with the wait computed from the bucket.
 */
import type { Clock } from './clock.js';

export interface ThrottleOptions {
  /** Resource units per 10 s per app+tenant; default by tenant size (3,500 / 5,000 / 8,000). */
  readonly resourceUnitsPer10Seconds?: number;
  /** Writes per 150 s per app+tenant; default 3,000. */
  readonly writesPer150Seconds?: number;
  /** Writes per 300 s per tenant across apps; default 18,000. */
  readonly tenantWritesPer300Seconds?: number;
}

export type ThrottleResult =
  | { readonly ok: true; readonly headers: Readonly<Record<string, string>> }
  | {
      readonly ok: false;
      readonly retryAfterSeconds: number;
      readonly headers: Readonly<Record<string, string>>;
    };

export interface Throttle {
  take(request: {
    readonly appId: string;
    readonly tenantId: string;
    readonly resourceUnits: number;
    readonly writes: number;
    readonly tenantUsers: number;
  }): ThrottleResult;
}

interface Bucket {
  tokens: number;
  last: number;
}

export function tenantResourceUnits(tenantUsers: number): number {
  return tenantUsers < 50 ? 3_500 : tenantUsers <= 500 ? 5_000 : 8_000;
}

export function createThrottle(clock: Clock, options: ThrottleOptions = {}): Throttle {
  const buckets = new Map<string, Bucket>();

  // Refills `key` to now and returns it; capacity may change (tenant size), tokens never exceed it.
  const refill = (key: string, capacity: number, windowMs: number): Bucket => {
    const now = clock.now();
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: capacity, last: now };
      buckets.set(key, bucket);
    }
    const elapsed = Math.max(0, now - bucket.last);
    bucket.tokens = Math.min(capacity, bucket.tokens + (capacity * elapsed) / windowMs);
    bucket.last = now;
    return bucket;
  };

  const waitSeconds = (bucket: Bucket, cost: number, capacity: number, windowMs: number): number =>
    Math.max(1, Math.ceil(((cost - bucket.tokens) * windowMs) / capacity / 1000));

  return {
    take({ appId, tenantId, resourceUnits, writes, tenantUsers }): ThrottleResult {
      const ruCapacity = options.resourceUnitsPer10Seconds ?? tenantResourceUnits(tenantUsers);
      const writeCapacity = options.writesPer150Seconds ?? 3_000;
      const tenantWriteCapacity = options.tenantWritesPer300Seconds ?? 18_000;
      const ru = refill(`ru/${appId}/${tenantId}`, ruCapacity, 10_000);
      const wr = refill(`w/${appId}/${tenantId}`, writeCapacity, 150_000);
      const tw = refill(`tw/${tenantId}`, tenantWriteCapacity, 300_000);

      const refusals: { seconds: number; scope: string; info: string }[] = [];
      if (ru.tokens < resourceUnits) {
        refusals.push({
          seconds: waitSeconds(ru, resourceUnits, ruCapacity, 10_000),
          scope: `Tenant_Application/ReadWrite/${appId}/${tenantId}`,
          info: 'ResourceUnitLimitExceeded',
        });
      }
      if (writes > 0 && wr.tokens < writes) {
        refusals.push({
          seconds: waitSeconds(wr, writes, writeCapacity, 150_000),
          scope: `Tenant_Application/Write/${appId}/${tenantId}`,
          info: 'WriteLimitExceeded',
        });
      }
      if (writes > 0 && tw.tokens < writes) {
        refusals.push({
          seconds: waitSeconds(tw, writes, tenantWriteCapacity, 300_000),
          scope: `Tenant/Write/${appId}/${tenantId}`,
          info: 'WriteLimitExceeded',
        });
      }
      if (refusals.length > 0) {
        const worst = refusals.reduce((a, b) => (b.seconds > a.seconds ? b : a));
        return {
          ok: false,
          retryAfterSeconds: worst.seconds,
          headers: {
            'x-ms-throttle-scope': worst.scope,
            'x-ms-throttle-information': worst.info,
          },
        };
      }
      ru.tokens -= resourceUnits;
      if (writes > 0) {
        wr.tokens -= writes;
        tw.tokens -= writes;
      }
      const used = Math.max(
        1 - ru.tokens / ruCapacity,
        writes > 0 ? 1 - wr.tokens / writeCapacity : 0,
      );
      const headers: Record<string, string> = { 'x-ms-resource-unit': String(resourceUnits) };
      if (used > 0.8) headers['x-ms-throttle-limit-percentage'] = used.toFixed(1);
      return { ok: true, headers };
    },
  };
}

/** Graph's resource-unit cost of a request (see the module comment). */
export function resourceUnitCost(baseCost: number, url: URL): number {
  let cost = baseCost;
  const option = (name: string): string | undefined => {
    for (const [key, value] of url.searchParams) if (key.toLowerCase() === name) return value;
    return undefined;
  };
  if (option('$select') !== undefined) cost -= 1;
  if (option('$expand') !== undefined) cost += 1;
  const top = option('$top');
  if (top !== undefined && /^\d+$/.test(top) && Number(top) < 20) cost -= 1;
  return Math.max(1, cost);
}
