import { describe, expect, it } from 'vitest';
import { Redactor } from '../../engine/secret.js';
import { openHistoryStore } from '../history/history-store.js';
import { createHistoryGuard } from './history-guard.js';
import { createProtectBaseline } from './protect-baseline.js';
import { captureLogger } from './test-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const guard = () => createHistoryGuard(captureLogger().logger);

describe('P2 baseline of the daemon', () => {
  it("the first run after a restart plans against the previous run's protect list; later runs against this config's", () => {
    const history = openHistoryStore(':memory:', new Redactor());
    history.recordProtect(['ceo@contoso.com', 'breakglass@contoso.com'], T0);
    const baseline = createProtectBaseline({
      protect: ['breakglass@contoso.com'],
      planOptions: { now: T0 },
      history,
      guard: guard(),
      clock: { now: () => T0 + 1000 },
    });
    expect(baseline.planOptions()).toEqual({
      now: T0,
      protectBaseline: {
        protect: ['ceo@contoso.com', 'breakglass@contoso.com'],
        from: 'the previous run',
      },
    });
    // A run that failed before planning leaves the first-run baseline for the next one.
    expect(baseline.planOptions().protectBaseline?.from).toBe('the previous run');

    baseline.planned();
    expect(history.lastProtect()).toEqual(['breakglass@contoso.com']);
    expect(baseline.planOptions()).toEqual({
      now: T0,
      protectBaseline: { protect: ['breakglass@contoso.com'], from: 'this config' },
    });
  });

  it('with an empty history the first run compares with this config; without history there is no baseline', () => {
    const history = openHistoryStore(':memory:', new Redactor());
    const fresh = createProtectBaseline({
      protect: ['breakglass@contoso.com'],
      planOptions: {},
      history,
      guard: guard(),
      clock: { now: () => T0 },
    });
    expect(fresh.planOptions().protectBaseline).toEqual({
      protect: ['breakglass@contoso.com'],
      from: 'this config (no earlier run)',
    });

    const none = createProtectBaseline({
      protect: ['breakglass@contoso.com'],
      planOptions: { now: T0 },
      guard: guard(),
      clock: { now: () => T0 },
    });
    none.planned();
    expect(none.planOptions()).toEqual({ now: T0 });
  });

  it('a history that cannot be read is logged and shown by the guard, and the run plans on', () => {
    const history = openHistoryStore(':memory:', new Redactor());
    history.close();
    const g = guard();
    const baseline = createProtectBaseline({
      protect: ['breakglass@contoso.com'],
      planOptions: {},
      history,
      guard: g,
      clock: { now: () => T0 },
    });
    expect(baseline.planOptions().protectBaseline?.from).toBe('this config (no earlier run)');
    expect(g.error).toBeDefined();
    // The next history call that succeeds clears it.
    expect(g.attempt(() => 'read', 'fallback')).toBe('read');
    expect(g.error).toBeUndefined();
  });
});
