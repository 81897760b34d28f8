import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { remainingText } from './progress-eta.js';

describe('apply progress: time left', () => {
  it('comes from the rate measured over the run so far', () => {
    expect(remainingText(0, 100, 5_000)).toBe('-');
    expect(remainingText(20, 100, 10_000)).toBe('40s');
    expect(remainingText(100, 3_000, 12_000)).toBe('5m 48s');
    expect(remainingText(999, 1_000, 1_000)).toBe('<1s');
    expect(remainingText(100, 100, 9_000)).toBe('0s');
  });

  it('never prints 60 seconds or 60 minutes as a unit (the `3m60s` of the old ETA)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 86_400_000 }),
        (done, more, elapsed) => {
          const text = remainingText(done, done + more, elapsed);
          expect(text).not.toMatch(/\b60[sm]\b/);
          expect(text).toMatch(/^(-|0s|<1s|\d+[dhms]( \d+[dhms])?)$/);
        },
      ),
    );
  });
});
