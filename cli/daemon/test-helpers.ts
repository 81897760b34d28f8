/**
 * A real stack for daemon tests: the quickstart config copied to a temp dir (CSV source through
 * the real connector), the simulator seeded with the quickstart tenant (optionally with a fault
 * plan), the real Entra target over HTTPS, a virtual clock, a hand-cranked scheduler and logs
 * captured as JSON lines.
 */
import type { Runtime } from '../runtime.js';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { loadConfig } from '../../config/load.js';
import type { LoadedConfig } from '../../config/load.js';
import { createSource } from '../../connectors/index.js';
import { createClientSecretCredential, createEntraTarget } from '../../connectors/entra/index.js';
import type { EntraTarget } from '../../connectors/entra/index.js';
import type { ConnectorContext, SourceConnector } from '../../engine/ports.js';
import { Redactor } from '../../engine/secret.js';
import { resolveSecret } from '../../config/secrets.js';
import type { FaultPlan, RunningSimulator, VirtualClock } from '../../simulator/index.js';
import { createVirtualClock, startSimulator } from '../../simulator/index.js';
import type { Logger } from '../logging.js';
import { createLogger } from '../logging.js';
import { createManualScheduler } from './scheduler.js';
import type { ManualScheduler } from './scheduler.js';

export const QUICKSTART = join(import.meta.dirname, '..', '..', 'examples', 'quickstart');

/** Registers cleanup: `onTestFinished` inside a test, or a list a suite's `afterAll` runs. */
export type Cleanup = (step: () => unknown) => void;

const afterThisTest: Cleanup = (step) => onTestFinished(async () => void (await step()));

export function tempCopyOfQuickstart(cleanup: Cleanup = afterThisTest): string {
  const work = mkdtempSync(join(tmpdir(), 'entrasync-daemon-'));
  cleanup(() => rmSync(work, { recursive: true, force: true }));
  cpSync(QUICKSTART, work, { recursive: true, filter: (p) => !p.includes('.entrasync') });
  return work;
}

export interface CapturedLog {
  readonly lines: string[];
  readonly destination: { write(text: string): void };
  records(): Record<string, unknown>[];
  text(): string;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  return {
    lines,
    destination: { write: (text: string) => void lines.push(text) },
    records: () =>
      lines
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join(''),
  };
}

/** A debug-level JSON logger whose lines land in a `CapturedLog`. */
export function captureLogger(
  redactor: Redactor = new Redactor(),
  now?: () => number,
): { readonly log: CapturedLog; readonly logger: Logger } {
  const log = captureLog();
  const logger = createLogger({
    redactor,
    destination: log.destination,
    level: 'debug',
    pretty: false,
    ...(now ? { now } : {}),
  });
  return { log, logger };
}

export interface TestStack {
  readonly work: string;
  readonly loaded: LoadedConfig;
  readonly sources: readonly SourceConnector[];
  readonly target: EntraTarget;
  readonly sim: RunningSimulator;
  readonly clock: VirtualClock;
  readonly scheduler: ManualScheduler;
  readonly redactor: Redactor;
  readonly log: CapturedLog;
  readonly logger: Logger;
}

export async function openTestStack(
  options: {
    faultPlan?: FaultPlan;
    work?: string;
    redactor?: Redactor;
    cleanup?: Cleanup;
    env?: Readonly<Record<string, string>>;
  } = {},
): Promise<TestStack> {
  const cleanup = options.cleanup ?? afterThisTest;
  const work = options.work ?? tempCopyOfQuickstart(cleanup);
  const loaded = await loadConfig(join(work, 'entrasync.yaml'));
  const redactor = options.redactor ?? new Redactor();
  const context: ConnectorContext = {
    baseDir: loaded.baseDir,
    redactor,
    resolveSecret: (ref) =>
      resolveSecret(ref, { env: options.env ?? {}, baseDir: loaded.baseDir, redactor }),
  };
  const sources = Object.entries(loaded.config.sources).map(([name, o]) =>
    createSource(name, o, context),
  );
  const sim = await startSimulator({
    seed: JSON.parse(readFileSync(join(work, 'tenant.json'), 'utf8')) as unknown,
    ...(options.faultPlan ? { faultPlan: options.faultPlan } : {}),
  });
  cleanup(() => sim.close());
  const client = sim.clients[0];
  if (!client) throw new Error('simulator has no client');
  redactor.add(client.clientSecret);
  const connection = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  const target = createEntraTarget(
    connection,
    createClientSecretCredential(connection, client.clientId, client.clientSecret),
  );
  const clock = createVirtualClock();
  const { log, logger } = captureLogger(redactor, () => clock.now());
  return {
    work,
    loaded,
    sources,
    target,
    sim,
    clock,
    scheduler: createManualScheduler(),
    redactor,
    log,
    logger,
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** The stack as the CLI's commands take it (a Runtime), closing nothing of the stack's own. */
export function runtimeOfStack(stack: TestStack): Runtime {
  return {
    loaded: stack.loaded,
    sources: stack.sources,
    target: stack.target,
    connection: {
      graphUrl: stack.sim.origin,
      authorityHost: stack.sim.authorityHost,
      tenantId: stack.sim.tenantId,
      caPem: stack.sim.caPem,
    },
    close: () => Promise.resolve(),
  };
}

/** Polls `probe` every 10 ms until it gives a value (not undefined or false); 10 s at most. */
export async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
