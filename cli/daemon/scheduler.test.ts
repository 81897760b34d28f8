import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../engine/errors.js';
import { checkSchedule, createCronScheduler } from './scheduler.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('cron scheduler (node-cron)', () => {
  it('ticks on the cron schedule, driven by fake timers rather than real minutes', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 0, 0, 10) });
    const scheduler = createCronScheduler('*/30 * * * *', { timezone: 'UTC' });
    let ticks = 0;
    scheduler.start(() => ticks++);
    expect(scheduler.nextRun()).toBe(Date.UTC(2026, 0, 1, 0, 30));
    await vi.advanceTimersByTimeAsync(29 * 60_000);
    expect(ticks).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(ticks).toBe(1);
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(ticks).toBe(3);
    scheduler.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(ticks).toBe(3);
    expect(scheduler.nextRun()).toBeUndefined();
  });

  it('rejects a bad expression as a config error naming the field', () => {
    expect(() => checkSchedule('*/30 * * *')).toThrow(ConfigError);
    expect(() => checkSchedule('61 * * * *')).toThrow(/is not a cron expression/);
    expect(() => checkSchedule('0 */6 * * *')).not.toThrow();
  });
});
