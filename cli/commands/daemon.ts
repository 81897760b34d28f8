/**
 * `entrasync daemon`: plan (and with `--mode apply`, apply) on the config's cron `schedule`,
 * serving `/healthz` and `/metrics`, until SIGTERM or SIGINT. See cli/daemon/.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runDaemon } from '../daemon/run-daemon.js';
import type { DaemonCommandOptions } from '../daemon/run-daemon.js';
import { LOG_LEVELS } from '../logging.js';
import { DEFAULT_CONFIG_PATH } from '../runtime.js';
import type { CommandContext } from './command-context.js';

export function buildDaemonCommand(context: CommandContext): Command {
  return new Command('daemon')
    .description(
      "run on the config's cron `schedule`: plan (default, like Entra Connect staging mode) or plan and apply; serves /healthz and /metrics",
    )
    .addOption(new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG_PATH))
    .addOption(
      new Option(
        '--mode <mode>',
        'plan only, or plan and apply (default: daemon.mode, else plan)',
      ).choices(['plan', 'apply']),
    )
    .option('--schedule <cron>', 'cron expression (default: `schedule` of the config)')
    .option(
      '--host <address>',
      'address of /healthz and /metrics (default: daemon.listen.host, 127.0.0.1)',
    )
    .option(
      '--port <port>',
      'port of /healthz and /metrics (default: daemon.listen.port, 9464)',
      parsePort,
    )
    .option('--history <file>', 'history file (default: history.path of the config)')
    .option('--no-run-on-start', 'wait for the first scheduled time instead of running at once')
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS, 'silent']))
    .action(async (opts: DaemonCommandOptions) => {
      context.setExitCode(await runDaemon(opts, { redactor: context.redactor }));
    });
}

export function registerDaemonCommand(program: Command, context: CommandContext): void {
  // addCommand does not pass on the parent's settings (exitOverride, output): copy them.
  program.addCommand(buildDaemonCommand(context).copyInheritedSettings(program));
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('not a port number');
  }
  return port;
}
