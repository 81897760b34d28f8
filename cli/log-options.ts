/**
 * The global `--log-level` and `--log-format` options (issue 22) and the run's logger.
 *
 * Contracts:
 * - every command accepts both options after its name, and `entrasync` accepts them before
 *   one; the command's own value wins, then the global one, then `ENTRASYNC_LOG_LEVEL` and
 *   `ENTRASYNC_LOG_FORMAT`, then `info` and pretty-when-stderr-is-a-terminal (else JSON);
 * - logs go to stderr (stdout stays the command's output: a plan, JSON), through the run's
 *   redactor (cli/logging.ts);
 * - `debug` traces each Graph request: method, path, status, duration, request ids
 *   (connectors/entra/graph-trace.ts says what a trace may hold);
 * - the daemon keeps its own `--log-level` (its logs are its output, on stdout): a global
 *   value is passed on to it when it has none of its own.
 */
import type { Command } from 'commander';
import { prettyFactory } from 'pino-pretty';
import type { GraphRequestTrace } from '../connectors/entra/index.js';
import { EntrasyncError } from '../engine/errors.js';
import type { Redactor } from '../engine/secret.js';
import type { Logger } from './logging.js';
import { createLogger } from './logging.js';
import type { LogFormat } from './log-option-defs.js';
import { addLogOptions, LEVEL_CHOICES, LOG_FORMATS } from './log-option-defs.js';

export { LOG_FORMATS } from './log-option-defs.js';
export type { LogFormat } from './log-option-defs.js';

const DEFAULT_LEVEL = 'info';

interface Writable {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliLogging {
  /** The run's logger, built on first use with the options the command was given. */
  logger(): Logger;
  /** Whether `level` would be logged (without building the logger). */
  enabled(level: 'debug' | 'trace'): boolean;
  /** The Graph trace observer for openRuntime. */
  graphRequest(trace: GraphRequestTrace): void;
  /** Adds the options to every command of `program` and reads them before each action. */
  install(program: Command): void;
}

export function createCliLogging(
  redactor: Redactor,
  stderr: Writable,
  env: NodeJS.ProcessEnv = process.env,
): CliLogging {
  let level = env['ENTRASYNC_LOG_LEVEL'] ?? DEFAULT_LEVEL;
  let format = env['ENTRASYNC_LOG_FORMAT'] as LogFormat | undefined;
  let built: Logger | undefined;
  const logger = (): Logger => {
    const pretty = (format ?? (stderr.isTTY === true ? 'pretty' : 'json')) === 'pretty';
    built ??= createLogger({
      redactor,
      level,
      destination: pretty ? prettyDestination(stderr) : stderr,
      pretty: false,
    });
    return built;
  };
  const rank = (name: string): number => LEVEL_CHOICES.indexOf(name);
  return {
    logger,
    enabled: (wanted) => level !== 'silent' && rank(level) >= rank(wanted),
    graphRequest(trace) {
      if (level !== 'debug' && level !== 'trace') return;
      const status = trace.status === undefined ? 'no answer' : String(trace.status);
      logger().debug(
        { graph: trace },
        `graph ${trace.method} ${trace.path} ${status} ${trace.durationMs}ms`,
      );
    },
    install(program) {
      addLogOptions(program);
      program.hook('preAction', (_root, action) => {
        const global = program.opts<{ logLevel?: string; logFormat?: LogFormat }>();
        const own = action.opts<{ logLevel?: string; logFormat?: LogFormat }>();
        const chosenLevel = own.logLevel ?? global.logLevel;
        if (chosenLevel !== undefined) {
          level = chosenLevel;
          // The daemon reads its own option: pass the global one on.
          if (own.logLevel === undefined) action.setOptionValue('logLevel', chosenLevel);
        }
        format = own.logFormat ?? global.logFormat ?? format;
        validateChoices(level, format);
      });
    },
  };
}

/**
 * pino-pretty's formatter applied line by line, synchronously: every line is on stderr before
 * the command returns (its stream form may write later). Lines arrive already redacted.
 */
function prettyDestination(stderr: Writable): Writable {
  const format = prettyFactory({
    colorize: stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
  });
  return { write: (line: string) => stderr.write(format(line)) };
}

/** The options' choices are checked by commander; the environment's here. */
function validateChoices(level: string, format: string | undefined): void {
  if (!LEVEL_CHOICES.includes(level)) {
    throw new EntrasyncError(
      'cli.usage',
      `ENTRASYNC_LOG_LEVEL "${level}" is not a log level: one of ${LEVEL_CHOICES.join(', ')}`,
    );
  }
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new EntrasyncError(
      'cli.usage',
      `ENTRASYNC_LOG_FORMAT "${format}" is not a log format: one of ${LOG_FORMATS.join(', ')}`,
    );
  }
}
