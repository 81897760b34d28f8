/**
 * `entrasync snapshot -o tenant.json`: saves a tenant read to a file; and the offline plan that
 * `plan --tenant-snapshot tenant.json` makes from it with no Graph credentials (pull requests
 * from forks, replaying a plan exactly). See connectors/snapshot/tenant-snapshot.ts for the
 * file's contracts.
 *
 * The snapshot reads every user attribute a config can map, not only what this config maps, so
 * a pull request that maps one more attribute can still be planned from it.
 */
import { Command, Option } from 'commander';
import { loadConfig } from '../../config/load.js';
import { USER_ATTRIBUTE_NAMES } from '../../config/schema.js';
import { resolveSecret } from '../../config/secrets.js';
import { createSource } from '../../connectors/index.js';
import {
  takeTenantSnapshot,
  tenantSnapshotReader,
  writeTenantSnapshot,
} from '../../connectors/snapshot/tenant-snapshot.js';
import { tenantReadRequest } from '../../engine/index.js';
import type { ThresholdOverrides } from '../../engine/index.js';
import type { SyncSpec } from '../../engine/model/spec.js';
import type { TenantReadRequest } from '../../engine/model/tenant.js';
import type { ConnectorContext, SourceConnector, TargetReader } from '../../engine/ports.js';
import type { Redactor } from '../../engine/secret.js';
import type { LoadedConfig } from '../../config/load.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime.js';
import { DEFAULT_CONFIG_PATH } from '../runtime.js';
import type { CommandContext } from './command-context.js';
import { runPlan } from './plan.js';
import type { PlanFormat } from './plan.js';

export { tenantSnapshotReader } from '../../connectors/snapshot/tenant-snapshot.js';

/** What a snapshot reads: this config's attributes plus every attribute any config can map. */
export function snapshotReadRequest(spec: SyncSpec): TenantReadRequest {
  return {
    userAttributes: [
      ...new Set([...tenantReadRequest(spec).userAttributes, ...USER_ATTRIBUTE_NAMES]),
    ],
  };
}

export async function runSnapshot(
  runtime: Pick<Runtime, 'loaded'> & { readonly target: { readonly reader: TargetReader } },
  options: { readonly out: string },
  output: Output,
  now: number = Date.now(),
): Promise<ExitCode> {
  const snapshot = await takeTenantSnapshot(
    runtime.target.reader,
    snapshotReadRequest(runtime.loaded.spec),
    now,
  );
  await writeTenantSnapshot(options.out, snapshot);
  output.out(
    `Saved tenant snapshot ${snapshot.digest.slice(0, 12)} to ${options.out}: ${snapshot.tenant.users.length} user(s), ${snapshot.userAttributes.length} attribute(s)${snapshot.tenant.privileged ? `, ${snapshot.tenant.privileged.length} privileged account(s)` : ', privileged accounts unknown'}\n`,
  );
  return EXIT.ok;
}

/** A runtime with the sources of a config and a snapshot as the tenant; nothing to close. */
export interface SnapshotRuntime {
  readonly loaded: LoadedConfig;
  readonly sources: readonly SourceConnector[];
  readonly target: { readonly reader: TargetReader };
}

/**
 * Opens a config's sources (their secrets resolve as usual) with the snapshot as the tenant.
 * The target section is never read: no Graph credential is resolved or needed.
 */
export async function openSnapshotRuntime(
  configPath: string,
  snapshotFile: string,
  redactor: Redactor,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SnapshotRuntime> {
  const loaded = await loadConfig(configPath);
  const secretContext = { env, baseDir: loaded.baseDir, redactor };
  const context: ConnectorContext = {
    baseDir: loaded.baseDir,
    redactor,
    resolveSecret: (ref) => resolveSecret(ref, secretContext),
  };
  const sources = Object.entries(loaded.config.sources).map(([name, options]) =>
    createSource(name, options, context),
  );
  return { loaded, sources, target: { reader: tenantSnapshotReader(snapshotFile) } };
}

export interface SnapshotPlanOptions {
  readonly format: PlanFormat;
  readonly out?: string;
  readonly overrides?: ThresholdOverrides;
  readonly markdownBudget?: number;
}

/**
 * `plan --tenant-snapshot <file>`: the plan command with the snapshot as the tenant. Same output,
 * same `--out`, same exit codes; the same inputs give a byte-identical plan.
 */
export async function runPlanWithSnapshot(
  configPath: string,
  snapshotFile: string,
  options: SnapshotPlanOptions,
  output: Output,
  redactor: Redactor,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const runtime = await openSnapshotRuntime(configPath, snapshotFile, redactor, env);
  return runPlan(runtime, options, output);
}

export function buildSnapshotCommand(context: CommandContext): Command {
  return new Command('snapshot')
    .description(
      'save a tenant read (users with every mappable attribute, privileged accounts) to a file, for `plan --tenant-snapshot`',
    )
    .addOption(new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG_PATH))
    .requiredOption('-o, --out <file>', 'snapshot file to write (JSON, mode 0600)')
    .action(async (opts: { config: string; out: string }) => {
      await context.withRuntime(opts.config, (runtime) =>
        runSnapshot(runtime, { out: opts.out }, context.output),
      );
    });
}

export function registerSnapshotCommand(program: Command, context: CommandContext): void {
  // addCommand does not pass on the parent's settings (exitOverride, output): copy them.
  program.addCommand(buildSnapshotCommand(context).copyInheritedSettings(program));
}
