/**
 * The daemon's public types, in a module of their own so that its parts (the run cycle, the
 * health state) share them with `daemon.ts` without an import cycle. `daemon.ts` re-exports them.
 */
import type { ApplyIO, OpResult, Plan, PlanOptions, RunReport } from '../../engine/index.js';
import type { SyncSpec } from '../../engine/model/spec.js';
import type { SourceConnector, TargetReader, SourceWriter } from '../../engine/ports.js';
import type { Redactor } from '../../engine/secret.js';
import type { ApplyStore } from '../apply-store.js';
import type { HistoryStore, RunMode, RunOutcome } from '../history/history-store.js';
import type { Logger } from '../logging.js';
import type { AlertSink } from './alerts.js';
import type { BackoffPolicy } from './backoff.js';
import type { DaemonMetrics, SkipReason } from './metrics.js';
import type {
  CircuitBreakerProbe,
  DaemonClock,
  DeltaTenantReader,
  GraphTelemetry,
  RunLock,
  Scheduler,
} from './ports.js';

export interface DaemonOptions {
  readonly spec: SyncSpec;
  readonly sources: readonly SourceConnector[];
  readonly target: { readonly reader: TargetReader; readonly writer: ApplyIO['writer'] };
  /** The writer of `writeback.<source>` (issue 26): write-backs go out after each apply. */
  readonly sourceWriter?: (source: string) => SourceWriter | undefined;
  readonly mode: RunMode;
  readonly clock: DaemonClock;
  readonly scheduler: Scheduler;
  /** Scrubs health reasons and alerts (logs and history scrub on their own). */
  readonly redactor: Redactor;
  /** Base logger; each run logs through a child carrying its run id. */
  readonly logger: Logger;
  readonly history?: HistoryStore;
  readonly metrics?: DaemonMetrics;
  readonly alerts?: AlertSink;
  readonly backoff: BackoffPolicy;
  /** Share of attempted changes that may fail before the run counts as failed. */
  readonly failureRatio: number;
  /** With a delta reader: read the whole tenant at least this often. */
  readonly fullReadEveryMs: number;
  /** A cheap stamp of the sources' local files (source-stamp.ts): a change clears the back-off. */
  readonly inputsStamp?: () => string | undefined;
  readonly delta?: DeltaTenantReader;
  readonly circuit?: CircuitBreakerProbe;
  readonly telemetry?: GraphTelemetry;
  readonly lock?: RunLock;
  /**
   * The apply journal and lock `entrasync apply` uses (cli/apply-store.ts). In apply mode a run
   * takes its lock before reading the tenant (unless `lock` is given) and applies through its
   * journal (cli/apply-runner.ts): an `entrasync apply` meanwhile is refused naming this run,
   * and a run cut short is resumed by the next apply of either.
   */
  readonly applyStore?: ApplyStore;
  readonly planOptions?: PlanOptions;
  /**
   * How a plan is applied, for tests. Default: `applyJournaled` (cli/apply-runner.ts) with this
   * run's reader, the target's writer and `applyStore`. A lock it finds held must throw an
   * error with code `apply.locked` (and optionally `holder`).
   */
  readonly applier?: Applier;
}

export type Applier = (
  plan: Plan,
  io: { readonly reader: TargetReader },
  onResult: (op: OpResult, index: number, total: number) => void,
) => Promise<RunReport>;

export type TickResult =
  | { readonly ran: true; readonly runId: string; readonly outcome: RunOutcome }
  | { readonly ran: false; readonly skipped: SkipReason; readonly detail: string };

/** The error code of a run skipped because another applier holds the apply lock (A3). */
export const LOCKED = 'apply.locked';
