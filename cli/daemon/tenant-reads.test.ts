import { describe, expect, it } from 'vitest';
import type { TenantReadRequest, TenantState } from '../../engine/model/tenant.js';
import type { TargetReader } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { DeltaTenantReader } from './ports.js';
import { captureLogger, HOUR } from './test-helpers.js';
import { createTenantReads } from './tenant-reads.js';

const REQUEST: TenantReadRequest = { userAttributes: [] };
const T0 = Date.UTC(2026, 0, 1);

/** A tenant state that says which read produced it (in its one user's id). */
const stateFrom = (read: string): TenantState => ({
  users: [{ id: read, userPrincipalName: `${read}@contoso.com`, attributes: {} }],
});

function setup(failDelta = false) {
  let now = T0;
  const calls: string[] = [];
  const delta: DeltaTenantReader = {
    readFull: () => (calls.push('full'), Promise.resolve(stateFrom('full'))),
    readDelta: () => {
      calls.push('delta');
      return failDelta
        ? Promise.reject(new Error('delta token expired'))
        : Promise.resolve(stateFrom('delta'));
    },
  };
  const plain: TargetReader = {
    apiVersion: PORT_API_VERSION,
    read: () => Promise.resolve(stateFrom('plain')),
  };
  const { log, logger } = captureLogger();
  const reads = createTenantReads({
    reader: plain,
    delta,
    fullReadEveryMs: 24 * HOUR,
    clock: { now: () => now },
  });
  return { reads, plain, calls, log, logger, advance: (ms: number) => (now += ms) };
}

describe('tenant reads of daemon runs', () => {
  it('reads in full first, by delta in between, and in full again once the last full read is old', async () => {
    const { reads, calls, logger, advance } = setup();
    const first = reads.forRun(logger);
    expect(first.kind).toBe('full');
    expect((await first.reader.read(REQUEST)).users[0]?.id).toBe('full');

    advance(HOUR);
    const second = reads.forRun(logger);
    expect(second.kind).toBe('delta');
    expect((await second.reader.read(REQUEST)).users[0]?.id).toBe('delta');

    advance(24 * HOUR);
    const third = reads.forRun(logger);
    expect(third.kind).toBe('full');
    await third.reader.read(REQUEST);
    // A second read in the same run (apply's re-read) goes by delta.
    await third.reader.read(REQUEST);
    expect(calls).toEqual(['full', 'delta', 'full', 'delta']);
  });

  it('a failed delta read is logged and the run reads in full instead', async () => {
    const { reads, calls, log, logger, advance } = setup(true);
    await reads.forRun(logger).reader.read(REQUEST);
    advance(HOUR);
    const run = reads.forRun(logger);
    expect(run.kind).toBe('delta');
    expect((await run.reader.read(REQUEST)).users[0]?.id).toBe('full');
    expect(run.kind).toBe('full');
    expect(calls).toEqual(['full', 'delta', 'full']);
    expect(log.text()).toContain('delta read failed; reading the whole tenant');
  });

  it("without a delta reader every run reads in full through the target's reader", () => {
    const plain: TargetReader = {
      apiVersion: PORT_API_VERSION,
      read: () => Promise.resolve(stateFrom('plain')),
    };
    const reads = createTenantReads({
      reader: plain,
      fullReadEveryMs: HOUR,
      clock: { now: () => T0 },
    });
    const { logger } = captureLogger();
    const run = reads.forRun(logger);
    expect(run.reader).toBe(plain);
    expect(run.kind).toBe('full');
  });
});
