/**
 * The `entrasync` command. Thin by design: each command builds its runtime, calls the engine and
 * maps the outcome to an exit code (0 ok, 1 error, 2 changes planned, 3 blocked by safety).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/write-schema.js';
import { ConfigError, EntrasyncError, SafetyBlockedError } from '../engine/errors.js';
import { parseRoleList } from '../connectors/entra/permissions.js';
import { formatDiagnostic } from '../engine/model/diagnostic.js';
import { Redactor } from '../engine/secret.js';
import {
  addApplyOptions,
  applyOptionsFrom,
  checkApprovalPossible,
  runApply,
} from './commands/apply.js';
import type { BaselineFlags } from './baseline.js';
import { addBaselineOptions, baselineFrom } from './baseline.js';
import type { CommandContext } from './commands/command-context.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerDaemonCommand } from './commands/daemon.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerImportCommand } from './commands/import.js';
import { registerReportCommand } from './commands/report.js';
import { registerShowCommand } from './commands/show.js';
import { registerSnapshotCommand, runPlanWithSnapshot } from './commands/snapshot.js';
import { runExplain } from './commands/explain.js';
import type { OverrideFlags } from './overrides.js';
import { addOverrideOptions, overridesFrom, parseCount } from './overrides.js';
import type { PlanCommandOptions, PlanFormat } from './commands/plan.js';
import { runPlan } from './commands/plan.js';
import { runSimulator, runSimulatorOutbox, runSimulatorSeed } from './commands/simulator.js';
import type { LatencyModel } from '../simulator/index.js';
import { parseLatencyModel } from '../simulator/index.js';
import { runValidate } from './commands/validate.js';
import type { ValidateFormat } from './commands/validate.js';
import type { ExitCode } from './exit-codes.js';
import { EXIT } from './exit-codes.js';
import { createCliLogging } from './log-options.js';
import type { Output } from './output.js';
import { colourSwitch } from './colour.js';
import { addCommandHelp } from './help-text.js';
import { createOutput } from './output.js';
import { ensureToken, reportAuthFailure } from './auth-failure.js';
import type { Prompt } from './prompt.js';
import { NO_PROMPT, terminalPrompt } from './prompt.js';
import { DEFAULT_CONFIG_PATH, openRuntime } from './runtime.js';
import type { Runtime } from './runtime.js';

export interface Streams {
  /** `isTTY`: colour only on a terminal (cli/colour.ts). */
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  /** Where `apply` asks for approval; absent: nobody can answer (cli/prompt.ts). */
  readonly prompt?: Prompt;
}

export async function main(
  argv: readonly string[],
  streams: Streams = { stdout: process.stdout, stderr: process.stderr, prompt: terminalPrompt() },
): Promise<ExitCode> {
  const redactor = new Redactor();
  const colour = colourSwitch(streams.stdout);
  const output = createOutput(redactor, streams, colour.colors);
  const logging = createCliLogging(redactor, streams.stderr);
  let exitCode: ExitCode = EXIT.ok;

  const withRuntime = async (configPath: string, body: (runtime: Runtime) => Promise<ExitCode>) => {
    const runtime = await openRuntime(configPath, redactor, process.env, {
      onGraphRequest: (trace) => logging.graphRequest(trace),
    });
    try {
      await ensureToken(runtime);
      exitCode = await body(runtime);
    } finally {
      await runtime.close();
    }
  };

  const program = new Command('entrasync')
    .description('Keep a Microsoft Entra ID tenant in the state your config files declare.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .enablePositionalOptions()
    .exitOverride()
    // Help and usage errors go where the rest of the output goes (tests capture them).
    .configureOutput({
      writeOut: (text) => void streams.stdout.write(text),
      writeErr: (text) => void streams.stderr.write(text),
    });
  const configOption = () =>
    new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG_PATH);

  program
    .command('validate')
    .description(
      'check the config file: YAML, schema, references and every expression (no secrets, no network)',
    )
    .addOption(configOption())
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(async (opts: { config: string; format: ValidateFormat }) => {
      exitCode = await runValidate(opts.config, output, opts.format);
    });

  addBaselineOptions(
    addOverrideOptions(
      program
        .command('plan')
        .description(
          'read the sources and the tenant and show what apply would change (never writes)',
        )
        .addOption(configOption())
        .addOption(
          new Option('-f, --format <format>', 'output format')
            .choices(['text', 'json', 'markdown', 'html'])
            .default('text'),
        )
        .option('-o, --out <file>', 'also save the plan as JSON, for `apply <file>`')
        .option(
          '--tenant-snapshot <file>',
          'plan against a tenant snapshot (entrasync snapshot) instead of the live tenant; no Graph credentials needed',
        )
        .addOption(
          new Option(
            '--apply-roles <permissions>',
            "the apply identity's application permissions, comma-separated: missing permissions are checked against these instead of this identity's token",
          ).argParser(applyRolesArgument),
        )
        .option(
          '--markdown-budget <characters>',
          'most characters of the markdown plan; what does not fit is counted, with a pointer to the full plan (default 60000; GitHub comments hold 65536)',
          parseCount,
        ),
    ),
  ).action(
    async (
      opts: {
        config: string;
        format: PlanFormat;
        out?: string;
        tenantSnapshot?: string;
        applyRoles?: string[];
        markdownBudget?: number;
      } & OverrideFlags &
        BaselineFlags,
    ) => {
      const overrides = overridesFrom(opts);
      const protectBaseline = await baselineFrom(opts, opts.config);
      const planOptions: PlanCommandOptions = {
        format: opts.format,
        ...(opts.out ? { out: opts.out } : {}),
        ...(overrides ? { overrides } : {}),
        ...(protectBaseline ? { protectBaseline } : {}),
        ...(opts.applyRoles ? { applyRoles: opts.applyRoles } : {}),
        ...(opts.markdownBudget === undefined ? {} : { markdownBudget: opts.markdownBudget }),
      };
      if (opts.tenantSnapshot) {
        exitCode = await runPlanWithSnapshot(
          opts.config,
          opts.tenantSnapshot,
          planOptions,
          output,
          redactor,
        );
        return;
      }
      await withRuntime(opts.config, (runtime) => runPlan(runtime, planOptions, output));
    },
  );

  addBaselineOptions(
    addApplyOptions(
      addOverrideOptions(
        program
          .command('apply')
          .description(
            'apply a saved plan (refused if the tenant changed since), or plan and apply now',
          )
          .argument('[plan]', 'plan file saved by `plan --out`')
          .addOption(configOption()),
      ),
    ),
  ).action(
    async (
      planFile: string | undefined,
      opts: { config: string } & OverrideFlags & BaselineFlags & Record<string, unknown>,
    ) => {
      const overrides = overridesFrom(opts);
      if (planFile && overrides) {
        throw new EntrasyncError(
          'cli.usage',
          'a saved plan already carries its overrides: make it with `plan --allow-... --plan <fingerprint> --out`',
        );
      }
      const applyOptions = { ...applyOptionsFrom(opts), prompt: streams.prompt ?? NO_PROMPT };
      checkApprovalPossible(planFile, applyOptions);
      const protectBaseline = await baselineFrom(opts, opts.config);
      await withRuntime(opts.config, (runtime) =>
        runApply(runtime, planFile, output, overrides, {
          ...applyOptions,
          redactor,
          ...(protectBaseline ? { protectBaseline } : {}),
        }),
      );
    },
  );

  program
    .command('explain')
    .description(
      'show how one or more people go through the pipeline: records, scope, mapped values, matched account, changes',
    )
    .argument('<person...>', 'person key (`hr:1001`), primary key (`1001`) or userPrincipalName')
    .addOption(configOption())
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(async (people: string[], opts: { config: string; format: 'text' | 'json' }) => {
      await withRuntime(opts.config, (runtime) => runExplain(runtime, people, opts.format, output));
    });

  const simulator = program
    .command('simulator')
    .enablePositionalOptions()
    .description(
      'run the simulated tenant (Microsoft Graph + token endpoint over HTTPS) until stopped',
    )
    .option('--state <file>', 'SQLite file holding the tenant', '.entrasync/tenant.db')
    .option('--seed <file>', 'JSON seed applied when the state is new')
    .option('--port <port>', 'port on 127.0.0.1 (default: any free port)', parsePort)
    .option(
      '--fault-plan <file>',
      'JSON or YAML fault plan (seeded, reproducible): see simulator/README.md',
    )
    .option(
      '--latency <model>',
      'delay each Graph answer by base + per object returned + jitter, e.g. 150ms+1ms~20ms',
      parseLatencyArgument,
    )
    .action(
      async (opts: {
        state: string;
        seed?: string;
        port?: number;
        faultPlan?: string;
        latency?: LatencyModel;
      }) => {
        await runSimulator(opts, output);
      },
    );
  simulator
    .command('seed')
    .description('fill a new simulated tenant with generated users, groups, licenses and an admin')
    .option('--state <file>', 'SQLite file holding the tenant', '.entrasync/tenant.db')
    .requiredOption('--users <n>', 'users to create', parseCount)
    .option('--groups <n>', 'groups to create', parseCount, 0)
    .option(
      '--random-seed <n>',
      'seed of the generator: the same seed gives the same tenant',
      parseCount,
      1,
    )
    .action((opts: { state: string; users: number; groups: number; randomSeed: number }) => {
      exitCode = runSimulatorSeed(opts, output);
    });
  simulator
    .command('outbox')
    .description(
      "list the mails the simulated tenant's sendMail accepted: time, sender, recipients, subject",
    )
    .option('--state <file>', 'SQLite file holding the tenant', '.entrasync/tenant.db')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--body', 'print each body too (onboarding mails carry a Temporary Access Pass)', false)
    .action((opts: { state: string; format: 'text' | 'json'; body: boolean }) => {
      exitCode = runSimulatorOutbox(opts, output);
    });

  const context: CommandContext = {
    output,
    redactor,
    withRuntime,
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  registerDaemonCommand(program, context);
  registerReportCommand(program, context);
  registerShowCommand(program, context);
  registerSnapshotCommand(program, context);
  registerImportCommand(program, context);
  registerDoctorCommand(program, context);
  registerCompletionCommand(program, context);
  colour.install(program);
  addCommandHelp(program);
  // After every registration, so each command gets the log options.
  logging.install(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    const debug = logging.enabled('debug');
    const authFailure = reportAuthFailure(err, output, debug);
    if (authFailure !== undefined) return authFailure;
    // At debug, the error with its stack and code as a log line too.
    if (debug) logging.logger().debug({ err }, 'the command failed');
    return reportError(err, output);
  }
}

function reportError(err: unknown, output: Output): ExitCode {
  const e = err as { code?: string; exitCode?: number };
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
    return e.exitCode === 0 ? EXIT.ok : EXIT.error;
  }
  if (err instanceof ConfigError) {
    for (const d of err.diagnostics) output.err(`${formatDiagnostic(d)}\n`);
    const errors = err.diagnostics.filter((d) => d.severity === 'error').length;
    output.err(`${errors} error(s) in configuration\n`);
    return EXIT.error;
  }
  if (err instanceof SafetyBlockedError) {
    output.err(`blocked: ${err.message}\n`);
    return EXIT.blocked;
  }
  if (err instanceof EntrasyncError) {
    output.err(`error (${err.code}): ${err.message}\n`);
    return EXIT.error;
  }
  output.err(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.error;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

function parseLatencyArgument(value: string): LatencyModel {
  try {
    return parseLatencyModel(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('not a port number');
  return port;
}

function applyRolesArgument(value: string): string[] {
  try {
    return parseRoleList(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}
