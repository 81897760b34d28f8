import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { collectReadGarbage } from './memory.js';

describe('collectReadGarbage', () => {
  it('collects what reading left behind, without --expose-gc on the command line', () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    // About 100 MiB of garbage, as a tenant read leaves parsed pages behind.
    let pages: string[][] | undefined = Array.from({ length: 100 }, (_, p) =>
      Array.from({ length: 10_000 }, (_, i) => `page ${String(p)} user ${String(i)}`.repeat(4)),
    );
    expect(pages.length).toBe(100);
    pages = undefined;
    const before = getHeapStatistics().used_heap_size;
    collectReadGarbage();
    const after = getHeapStatistics().used_heap_size;
    expect(before - after).toBeGreaterThan(64 * 1024 * 1024);
    // The flag is unset again: no `gc` leaks into new contexts.
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
