/**
 * `entrasync daemon`: opens the runtime once, wires the daemon to history, metrics, the
 * health server, alerts and a node-cron schedule, and runs until SIGTERM or SIGINT.
 *
 * Issue-5 abilities are connected here when they exist (see `ports.ts`): the target's delta
 * reader as `delta`, its 429 counter as `telemetry`; in apply mode the apply store beside the
 * config (`.entrasync/apply.db`, the one `entrasync apply` uses) as `applyStore`, for the apply
 * lock and the journal.
 */
import { sourceStamp } from './source-stamp.js';
import { resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import {
  DEFAULT_BACKOFF_INITIAL,
  DEFAULT_BACKOFF_MAX,
  DEFAULT_DAEMON_HOST,
  DEFAULT_DAEMON_MODE,
  DEFAULT_DAEMON_PORT,
  DEFAULT_FAILURE_RATIO,
  DEFAULT_FULL_READ_EVERY,
  DEFAULT_HISTORY_PATH,
  DEFAULT_SHUTDOWN_TIMEOUT,
} from '../../config/operations-schema.js';
import type { OperationsConfig } from '../../config/operations-schema.js';
import { isSecretRef, resolveSecret } from '../../config/secrets.js';
import { EntrasyncError } from '../../engine/errors.js';
import type { Redactor } from '../../engine/secret.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_WRITES_PER_SECOND } from '../../connectors/entra/pacer.js';
import { openApplyStoreBeside } from '../apply-runner.js';
import { openHistoryStore } from '../history/history-store.js';
import type { Logger } from '../logging.js';
import { createLogger } from '../logging.js';
import { openRuntime } from '../runtime.js';
import type { AlertSink } from './alerts.js';
import { createWebhookAlertSink } from './alerts.js';
import type { Daemon } from './daemon.js';
import { createDaemon } from './daemon.js';
import { durationMs } from './duration.js';
import { startHealthServer } from './health-server.js';
import { createDaemonMetrics } from './metrics.js';
import type { DaemonClock, Scheduler } from './ports.js';
import { checkSchedule, createCronScheduler } from './scheduler.js';

export const ALERT_WEBHOOK_ENV = 'ENTRASYNC_ALERT_WEBHOOK';

export interface DaemonCommandOptions {
  readonly config: string;
  readonly mode?: 'plan' | 'apply';
  readonly schedule?: string;
  readonly host?: string;
  readonly port?: number;
  readonly history?: string;
  /** Run once at start, before the first scheduled tick (default true). */
  readonly runOnStart?: boolean;
  readonly logLevel?: string;
}

/** What the command takes from the process; tests pass their own. */
export interface DaemonEnvironment {
  readonly redactor: Redactor;
  readonly env?: NodeJS.ProcessEnv;
  /** Where SIGTERM, SIGINT and SIGHUP come from (the process). */
  readonly signals?: Pick<NodeJS.EventEmitter, 'on' | 'once' | 'off'>;
  readonly logDestination?: { write(text: string): unknown; isTTY?: boolean };
  readonly clock?: DaemonClock;
  readonly scheduler?: (expression: string, timezone: string | undefined, log: Logger) => Scheduler;
  readonly fetch?: typeof fetch;
  /** Called once the daemon serves and its schedule runs. */
  readonly onStarted?: (started: { readonly url: string; readonly daemon: Daemon }) => void;
  /**
   * Ends the process when a run did not finish within the shutdown timeout (a hung connection
   * must not keep a stopped daemon alive). Default: `process.exit`.
   */
  readonly forceExit?: (code: ExitCode) => void;
}

/** The operations keys of a loaded config, read defensively until the root schema has them. */
export function operationsConfig(config: Config): OperationsConfig {
  const c = config as Config & OperationsConfig;
  return {
    ...(c.schedule !== undefined ? { schedule: c.schedule } : {}),
    ...(c.daemon !== undefined ? { daemon: c.daemon } : {}),
    ...(c.history !== undefined ? { history: c.history } : {}),
  };
}

/** Where the history file is: `--history`, else `history.path` beside the config. */
export function historyPathFor(baseDir: string, ops: OperationsConfig, override?: string): string {
  return override ? resolve(override) : resolve(baseDir, ops.history?.path ?? DEFAULT_HISTORY_PATH);
}

export async function runDaemon(
  options: DaemonCommandOptions,
  environment: DaemonEnvironment,
): Promise<ExitCode> {
  const { redactor } = environment;
  const env = environment.env ?? process.env;
  const clock = environment.clock ?? { now: () => Date.now() };
  const signals = environment.signals ?? process;

  const runtime = await openRuntime(options.config, redactor, env);
  const cleanup: (() => Promise<void> | void)[] = [() => runtime.close()];
  let stuck = false;
  try {
    const ops = operationsConfig(runtime.loaded.config);
    const schedule = options.schedule ?? ops.schedule;
    if (!schedule) {
      throw new EntrasyncError(
        'config.schedule',
        'the daemon needs a schedule: add `schedule: "*/30 * * * *"` to the config or pass --schedule',
      );
    }
    checkSchedule(schedule);
    const daemonConfig = ops.daemon ?? {};
    const mode = options.mode ?? daemonConfig.mode ?? DEFAULT_DAEMON_MODE;
    const logger = createLogger({
      redactor,
      ...(options.logLevel ? { level: options.logLevel } : {}),
      ...(environment.logDestination ? { destination: environment.logDestination } : {}),
      now: () => clock.now(),
    });

    const history = openHistoryStore(
      historyPathFor(runtime.loaded.baseDir, ops, options.history),
      redactor,
    );
    cleanup.push(() => history.close());
    if (ops.history?.keepDays !== undefined) {
      const removed = history.prune(clock.now() - ops.history.keepDays * 86_400_000);
      if (removed > 0) logger.info({ runId: 'daemon', removed }, 'old runs removed from history');
    }

    // Plan mode writes nothing, so it neither takes the lock nor keeps a journal.
    const applyStore = mode === 'apply' ? openApplyStoreBeside(runtime.loaded.baseDir) : undefined;
    if (applyStore) cleanup.push(() => applyStore.close());

    const alerts = alertSink(daemonConfig.alertWebhook, env, runtime.loaded.baseDir, {
      redactor,
      logger,
      ...(environment.fetch ? { fetch: environment.fetch } : {}),
    });
    const metrics = createDaemonMetrics({ processMetrics: true });
    const scheduler = (environment.scheduler ?? defaultScheduler)(
      schedule,
      daemonConfig.timezone,
      logger,
    );
    const stamp = sourceStamp(runtime.loaded.config.sources, runtime.loaded.baseDir);
    const daemon = createDaemon({
      spec: runtime.loaded.spec,
      sources: runtime.sources,
      target: runtime.target,
      ...(runtime.sourceWriter ? { sourceWriter: runtime.sourceWriter } : {}),
      // Issue 5's connector: delta reads between full reads, and its 429 counter for /metrics.
      delta: runtime.target.delta,
      telemetry: {
        throttledResponses: () => runtime.target.stats().throttled,
        requests: () => runtime.target.stats().requests,
        writes: () => runtime.target.stats().writes,
        writeCeilingPerSecond:
          runtime.loaded.config.target.writes?.perSecond ?? DEFAULT_WRITES_PER_SECOND,
      },
      mode,
      clock,
      scheduler,
      redactor,
      logger,
      history,
      metrics,
      ...(alerts ? { alerts } : {}),
      backoff: {
        initialMs: durationMs(daemonConfig.backoff?.initial ?? DEFAULT_BACKOFF_INITIAL),
        maxMs: durationMs(daemonConfig.backoff?.max ?? DEFAULT_BACKOFF_MAX),
      },
      failureRatio: daemonConfig.failureRatio ?? DEFAULT_FAILURE_RATIO,
      fullReadEveryMs: durationMs(daemonConfig.fullReadEvery ?? DEFAULT_FULL_READ_EVERY),
      ...(stamp ? { inputsStamp: stamp } : {}),
      ...(applyStore ? { applyStore } : {}),
    });
    const server = await startHealthServer({
      host: options.host ?? daemonConfig.listen?.host ?? DEFAULT_DAEMON_HOST,
      port: options.port ?? daemonConfig.listen?.port ?? DEFAULT_DAEMON_PORT,
      health: () => daemon.health(),
      metrics,
      redactor,
    });
    cleanup.push(() => server.close());
    logger.info(
      { runId: 'daemon', url: server.url, schedule, mode },
      `serving /healthz and /metrics on ${server.url}`,
    );

    // SIGHUP: the operator fixed what made runs fail; try again at the next tick.
    const hangUp = () => daemon.resetBackoff('SIGHUP');
    signals.on('SIGHUP', hangUp);
    cleanup.push(() => void signals.off('SIGHUP', hangUp));
    const stopSignal = new Promise<string>((done) => {
      const onSignal = (name: string) => () => {
        signals.off('SIGTERM', term);
        signals.off('SIGINT', int);
        done(name);
      };
      const term = onSignal('SIGTERM');
      const int = onSignal('SIGINT');
      signals.once('SIGTERM', term);
      signals.once('SIGINT', int);
    });
    const started = daemon.start({ runNow: options.runOnStart ?? true });
    environment.onStarted?.({ url: server.url, daemon });
    const signal = await stopSignal;
    logger.info({ runId: 'daemon', signal }, `${signal} received: shutting down`);
    const finished = await daemon.stop(
      durationMs(daemonConfig.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT),
    );
    if (finished) {
      await started;
    } else {
      stuck = true;
    }
    return EXIT.ok;
  } finally {
    for (const step of cleanup.reverse()) await step();
    if (stuck) (environment.forceExit ?? ((code) => process.exit(code)))(EXIT.ok);
  }
}

function defaultScheduler(expression: string, timezone: string | undefined, log: Logger) {
  return createCronScheduler(expression, { ...(timezone ? { timezone } : {}), logger: log });
}

function alertSink(
  configured: unknown,
  env: NodeJS.ProcessEnv,
  baseDir: string,
  options: { redactor: Redactor; logger: Logger; fetch?: typeof fetch },
): AlertSink | undefined {
  let url: string | undefined;
  if (isSecretRef(configured)) {
    url = resolveSecret(configured, { env, baseDir, redactor: options.redactor }).reveal();
  } else if (typeof configured === 'string' && configured !== '') {
    url = configured;
  } else {
    const fromEnv = env[ALERT_WEBHOOK_ENV];
    if (fromEnv && fromEnv.trim() !== '') url = fromEnv.trim();
  }
  if (!url) return undefined;
  if (!/^https?:\/\//.test(url)) {
    throw new EntrasyncError('config.alert-webhook', 'the alert webhook must be an http(s) URL');
  }
  return createWebhookAlertSink({ url, ...options });
}
