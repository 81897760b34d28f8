/**
 * The simulator's `Date` header (issue 17, class 3): Graph sends its time on every response
 * (RFC 9110 §6.6.1, IMF-fixdate, one second resolution); the simulator sends its own clock's,
 * not the host's, so a test can make Graph's time differ from the local clock (A7).
 */
import { describe, expect, it } from 'vitest';
import { createVirtualClock, offsetClock, systemClock } from './index.js';
import { bearer, raw, simulator } from './test-helpers/simulator.js';

const DAY = 86_400_000;

describe("the simulator's Date header", () => {
  it("A7: every answer (success, Graph error, identity endpoint) carries the simulator's clock, not the host's", async () => {
    const clock = createVirtualClock(Date.UTC(2031, 4, 6, 7, 8, 9, 750));
    const sim = await simulator({ clock });
    const expected = 'Tue, 06 May 2031 07:08:09 GMT';
    const auth = await bearer(sim);
    const ok = await raw(sim, '/v1.0/users?$top=1', { headers: { Authorization: auth } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('date')).toBe(expected);
    const missing = await raw(sim, '/v1.0/users/00000000-0000-4000-8000-000000000000', {
      headers: { Authorization: auth },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('date')).toBe(expected);
    const unauthenticated = await raw(sim, '/v1.0/users');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('date')).toBe(expected);
    const discovery = await raw(sim, `/${sim.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(discovery.headers.get('date')).toBe(expected);
    clock.advance(DAY);
    const later = await raw(sim, '/v1.0/users?$top=1', { headers: { Authorization: auth } });
    expect(later.headers.get('date')).toBe('Wed, 07 May 2031 07:08:09 GMT');
  });

  it('A7: offsetClock runs the tenant a day behind the local clock', async () => {
    const sim = await simulator({ clock: offsetClock(systemClock(), -DAY) });
    const answer = await raw(sim, '/v1.0/users');
    const graphTime = Date.parse(answer.headers.get('date') ?? '');
    expect(Math.abs(graphTime - (Date.now() - DAY))).toBeLessThan(60_000);
  });
});
