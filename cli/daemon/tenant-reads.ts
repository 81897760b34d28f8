/**
 * How each run reads the tenant. Without a delta reader, always in full through the target's
 * reader. With one, in full when no full read has been done or the last is `fullReadEveryMs`
 * old, and by delta in between; a delta that fails is never taken as "nothing changed": the run
 * reads in full instead (ports.ts, `DeltaTenantReader`).
 */
import type { TenantReadRequest, TenantState } from '../../engine/model/tenant.js';
import type { TargetReader } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { TenantReadKind } from '../history/history-store.js';
import type { Logger } from '../logging.js';
import type { DaemonClock, DeltaTenantReader } from './ports.js';

export interface TenantReadsOptions {
  readonly reader: TargetReader;
  readonly delta?: DeltaTenantReader;
  readonly fullReadEveryMs: number;
  readonly clock: DaemonClock;
}

/** One run's reader, and how it read: `full` once any read of the run was full. */
export interface RunReader {
  readonly reader: TargetReader;
  readonly kind: TenantReadKind;
}

export interface TenantReads {
  /** The reader for a run starting now; `log` is the run's (a failed delta is logged there). */
  forRun(log: Logger): RunReader;
}

export function createTenantReads(options: TenantReadsOptions): TenantReads {
  const { clock } = options;
  let lastFullReadAt: number | undefined;

  function deltaReader(delta: DeltaTenantReader, full: boolean, log: Logger): RunReader {
    let kind: TenantReadKind = full ? 'full' : 'delta';
    const readFull = async (request: TenantReadRequest): Promise<TenantState> => {
      const state = await delta.readFull(request);
      kind = 'full';
      lastFullReadAt = clock.now();
      return state;
    };
    let fullDone = false;
    const reader: TargetReader = {
      apiVersion: PORT_API_VERSION,
      async read(request) {
        if (full && !fullDone) {
          fullDone = true;
          return readFull(request);
        }
        try {
          return await delta.readDelta(request);
        } catch (err) {
          log.warn({ err }, 'delta read failed; reading the whole tenant');
          return readFull(request);
        }
      },
    };
    return {
      reader,
      get kind() {
        return kind;
      },
    };
  }

  return {
    forRun(log) {
      const delta = options.delta;
      if (!delta) return { reader: options.reader, kind: 'full' };
      const full =
        lastFullReadAt === undefined || clock.now() - lastFullReadAt >= options.fullReadEveryMs;
      return deltaReader(delta, full, log);
    },
  };
}
