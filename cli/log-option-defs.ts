/**
 * The `--log-level` and `--log-format` options as commander declares them, apart from the
 * logging itself (log-options.ts) so that quick.ts can show them in the root help without
 * loading pino: it imports commander only.
 */
import type { Command } from 'commander';
import { Option } from 'commander';

/** pino's levels, most severe first, as the options offer them (plus `silent`). */
export const LOG_LEVEL_NAMES = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export const LEVEL_CHOICES: readonly string[] = [...LOG_LEVEL_NAMES, 'silent'];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Adds the options to `command` and every subcommand that lacks them. */
export function addLogOptions(command: Command): void {
  const has = (flag: string) => command.options.some((o) => o.long === flag);
  if (!has('--log-level')) {
    command.addOption(
      new Option(
        '--log-level <level>',
        'log level of the logs on stderr; debug traces each Graph request (env: ENTRASYNC_LOG_LEVEL, default info)',
      ).choices(LEVEL_CHOICES),
    );
  }
  // The daemon's logs are its output, on stdout, pretty on a terminal: no format option.
  if (!has('--log-format') && command.name() !== 'daemon') {
    command.addOption(
      new Option(
        '--log-format <format>',
        'log format (env: ENTRASYNC_LOG_FORMAT, default pretty on a terminal, else json)',
      ).choices([...LOG_FORMATS]),
    );
  }
  for (const sub of command.commands) addLogOptions(sub);
}
