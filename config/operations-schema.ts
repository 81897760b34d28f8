/**
 * Config keys for running entrasync unattended (issue 10): `schedule`, `daemon`, `history`.
 * Top-level keys of the root `Config` object in `schema.ts`; kept in their own module so the
 * daemon, history and report code can import their types without the whole language.
 *
 * Durations are written as a whole number and a unit (`90s`, `10m`, `6h`, `1d`), parsed by
 * `parseDuration` in `cli/daemon/duration.ts`.
 *
 * No object here has a schema default: a filled-in default would change the digest of every
 * existing config (and so every saved plan). The daemon applies the documented defaults itself.
 * None of these keys changes what a plan contains, so they belong outside the config digest.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SecretReference, StringEnum } from './schema-slots.js';

export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d)$';

export const DEFAULT_HISTORY_PATH = '.entrasync/history.db';
export const DEFAULT_DAEMON_HOST = '127.0.0.1';
export const DEFAULT_DAEMON_PORT = 9464;
export const DEFAULT_DAEMON_MODE = 'plan';
export const DEFAULT_FULL_READ_EVERY = '24h';
export const DEFAULT_BACKOFF_INITIAL = '10m';
export const DEFAULT_BACKOFF_MAX = '24h';
export const DEFAULT_SHUTDOWN_TIMEOUT = '5m';
export const DEFAULT_FAILURE_RATIO = 0.5;

function Duration(description: string, defaultValue: string) {
  return Type.String({
    pattern: DURATION_PATTERN,
    patternErrorMessage: 'must be a whole number and a unit: `ms`, `s`, `m`, `h` or `d` (`10m`)',
    default: defaultValue,
    description,
  });
}

export const ScheduleConfig = Type.String({
  minLength: 1,
  description:
    'When `entrasync daemon` runs: a cron expression (`*/30 * * * *`; five fields, or six with seconds first), in `daemon.timezone` or the local time zone.',
});
export type ScheduleConfig = Static<typeof ScheduleConfig>;

export const DaemonListenConfig = Type.Object(
  {
    host: Type.Optional(
      Type.String({
        minLength: 1,
        default: DEFAULT_DAEMON_HOST,
        description:
          'Address `/healthz` and `/metrics` listen on. Loopback by default; widen it only behind a network policy.',
      }),
    ),
    port: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        default: DEFAULT_DAEMON_PORT,
        description: 'Port of `/healthz` and `/metrics` (0: any free port).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Where the daemon serves `/healthz`, `/livez` and `/metrics`.',
  },
);
export type DaemonListenConfig = Static<typeof DaemonListenConfig>;

export const DaemonBackoffConfig = Type.Object(
  {
    initial: Type.Optional(
      Duration('Wait after the first failed run before trying again.', DEFAULT_BACKOFF_INITIAL),
    ),
    max: Type.Optional(
      Duration(
        'Longest wait between tries; the wait doubles after each consecutive failure up to this.',
        DEFAULT_BACKOFF_MAX,
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'While a source fails, the tenant cannot be read, or applies trip the circuit breaker, scheduled runs are skipped for a wait that doubles toward `max` (daily by default); the first healthy run resets it.',
  },
);
export type DaemonBackoffConfig = Static<typeof DaemonBackoffConfig>;

export const DaemonConfig = Type.Object(
  {
    mode: Type.Optional(
      StringEnum(['plan', 'apply'] as const, {
        default: DEFAULT_DAEMON_MODE,
        description:
          '`plan`: plan on schedule and record the plans, never write (like Entra Connect staging mode). `apply`: plan and apply.',
      }),
    ),
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'IANA time zone of `schedule`, e.g. `Europe/London`. Default: local time.',
      }),
    ),
    fullReadEvery: Type.Optional(
      Duration(
        'Read the whole tenant at least this often; runs in between use delta queries when the target supports them.',
        DEFAULT_FULL_READ_EVERY,
      ),
    ),
    listen: Type.Optional(DaemonListenConfig),
    backoff: Type.Optional(DaemonBackoffConfig),
    failureRatio: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        default: DEFAULT_FAILURE_RATIO,
        description:
          'An apply in which more than this share of the attempted changes failed counts as a failed run (back-off and alert), as does one the circuit breaker stopped.',
      }),
    ),
    shutdownTimeout: Type.Optional(
      Duration(
        'On SIGTERM, how long to let the current run finish before exiting; an apply cut short resumes from its journal.',
        DEFAULT_SHUTDOWN_TIMEOUT,
      ),
    ),
    alertWebhook: Type.Optional(
      SecretReference(
        'Webhook that receives a JSON POST when the daemon becomes degraded and when it recovers, as a reference (`${env:ENTRASYNC_ALERT_WEBHOOK}`): such URLs carry a token. Without it, `ENTRASYNC_ALERT_WEBHOOK` is used when set.',
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'How `entrasync daemon` runs: mode, health and metrics endpoint, back-off, alerts.',
  },
);
export type DaemonConfig = Static<typeof DaemonConfig>;

export const HistoryConfig = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        minLength: 1,
        default: DEFAULT_HISTORY_PATH,
        description:
          'SQLite file holding every run, plan fingerprint and operation outcome, relative to the config file.',
      }),
    ),
    keepDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Runs older than this many days are removed; absent keeps everything.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Run history of the daemon and of `entrasync apply` (each change recorded as it happens), for `entrasync report`. Never consulted when planning: losing it cannot hasten a disable or delete.',
  },
);
export type HistoryConfig = Static<typeof HistoryConfig>;

/** The three keys together, as the daemon and report commands read them from a loaded config. */
export interface OperationsConfig {
  readonly schedule?: ScheduleConfig;
  readonly daemon?: DaemonConfig;
  readonly history?: HistoryConfig;
}
