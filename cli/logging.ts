/**
 * Structured logs (pino): one JSON object per line, pretty-printed by pino-pretty when writing to
 * a terminal. Contracts:
 * - every line carries a `runId` (`runLogger`); the daemon's own lines carry its session id;
 * - every line passes through the run's `Redactor` twice: arguments are scrubbed before pino
 *   serialises them (so a secret holding a quote or backslash is caught before JSON escaping
 *   changes it), and the finished line is scrubbed again on its way to the stream (invariant 5,
 *   catalogue X1);
 * - errors are logged as `{ type, code, message, stack }`, scrubbed like everything else.
 */
import { LOG_LEVEL_NAMES } from './log-option-defs.js';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { DestinationStream, Level, Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Redactor } from '../engine/secret.js';

export type Logger = PinoLogger;

export const LOG_LEVELS: readonly Level[] = LOG_LEVEL_NAMES;

export interface LoggerOptions {
  readonly redactor: Redactor;
  /** Default: `ENTRASYNC_LOG_LEVEL`, else `info`. */
  readonly level?: string;
  /** Default: stdout. Anything with `write(line)`. */
  readonly destination?: { write(text: string): unknown; isTTY?: boolean };
  /** Default: whether the destination is a terminal. */
  readonly pretty?: boolean;
  /** Time source for the `time` field (the daemon's clock, virtual in tests). */
  readonly now?: () => number;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const level = options.level ?? process.env.ENTRASYNC_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level) && level !== 'silent') {
    throw new Error(`unknown log level "${level}": one of ${LOG_LEVELS.join(', ')}, silent`);
  }
  const redactor = options.redactor;
  const now = options.now;
  const pretty = options.pretty ?? destination.isTTY === true;
  const stream: DestinationStream = pretty
    ? pinoPretty({
        destination: destination as NodeJS.WritableStream,
        sync: true,
        colorize: destination.isTTY === true,
      })
    : { write: (line: string) => void destination.write(line) };
  return pino(
    {
      level,
      base: undefined,
      ...(now ? { timestamp: () => `,"time":"${new Date(now()).toISOString()}"` } : {}),
      ...(!now ? { timestamp: pino.stdTimeFunctions.isoTime } : {}),
      formatters: { level: (label) => ({ level: label }) },
      // Errors arrive already turned into scrubbed plain data (see `scrub`); pino's own error
      // serializer would re-type them as `Object`.
      serializers: { err: (value: unknown) => value },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg) => scrub(arg, redactor, 0)) as typeof args;
          method.apply(this, scrubbed);
        },
        streamWrite: (line) => redactor.redact(line),
      },
    },
    stream,
  );
}

/** A child logger whose every line carries `runId`. */
export function runLogger(base: Logger, runId: string): Logger {
  return base.child({ runId });
}

/** A run id: sortable by start time, unique across daemons (`20260101T000000Z-1a2b3c4d`). */
export function newRunId(nowMs: number = Date.now()): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${stamp}-${randomUUID().slice(0, 8)}`;
}

const MAX_DEPTH = 8;

/** Deep copy with every string redacted and errors turned into plain data. */
function scrub(value: unknown, redactor: Redactor, depth: number): unknown {
  if (typeof value === 'string') return redactor.redact(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      type: value.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: redactor.redact(value.message),
      ...(value.stack ? { stack: redactor.redact(value.stack) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, redactor, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    // Class instances (a Secret among them) are logged by their own JSON form, then scrubbed.
    const json = (value as { toJSON?: () => unknown }).toJSON;
    return typeof json === 'function' ? scrub(json.call(value), redactor, depth + 1) : '[object]';
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, redactor, depth + 1);
  return out;
}
