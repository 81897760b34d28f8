/**
 * `entrasync doctor -c <config>`: checks a tenant before the first plan (issue 22) and prints
 * one line per check, `ok`, `warn` or `fail` with a hint: the Graph permissions the config can
 * need against the token's roles (excess privilege: warn), the domains the userPrincipalName
 * and mail mappings name against the tenant's verified domains, the local clock against
 * Graph's `Date` header (safety.maxClockSkew), accounts of other configs that people of this
 * config would collide with (their `entrasync:<id>` marker), the SKUs the license rules name,
 * and whether each source reads. Exit 0 when nothing fails, 1 otherwise. Never writes.
 *
 * The tenant and the sources are read once, through a dry plan (the plan itself is not shown):
 * the marker collisions are the plan's own `match.other-config` issues, so doctor and plan
 * cannot disagree about them. Verified domains are read even when the config would not ask.
 */
import { writebackFindings } from './doctor-writeback.js';
import { Command, Option } from 'commander';
import { readGrantedAccess } from '../../connectors/entra/index.js';
import { EntrasyncError } from '../../engine/errors.js';
import { planRun, tenantReadRequest } from '../../engine/index.js';
import type { TenantReadRequest, TenantState } from '../../engine/model/tenant.js';
import type { TargetReader } from '../../engine/ports.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime.js';
import { DEFAULT_CONFIG_PATH, planIO } from '../runtime.js';
import type { CommandContext } from './command-context.js';
import type { DoctorFinding } from './doctor-checks.js';
import {
  actionsOfConfig,
  clockFinding,
  domainFindings,
  markerFindings,
  permissionFindings,
  skuFindings,
  sourceFindings,
} from './doctor-checks.js';

export type DoctorFormat = 'text' | 'json';

export async function runDoctor(
  runtime: Runtime,
  format: DoctorFormat,
  output: Output,
): Promise<ExitCode> {
  const findings = await doctorFindings(runtime);
  output.out(format === 'json' ? renderJson(findings) : renderText(findings));
  return findings.some((f) => f.status === 'fail') ? EXIT.error : EXIT.ok;
}

export async function doctorFindings(runtime: Runtime): Promise<DoctorFinding[]> {
  const spec = runtime.loaded.spec;
  // First: a credential that cannot get a token fails here, as one line (cli/auth-failure.ts).
  const granted = await readGrantedAccess(runtime.target.credential, runtime.connection.graphUrl);
  const request: TenantReadRequest = { ...tenantReadRequest(spec), domains: true };
  let tenant: TenantState | undefined;
  const reader = runtime.target.reader;
  const capturing: TargetReader = {
    apiVersion: reader.apiVersion,
    read: async (asked) => {
      tenant = await reader.read({ ...asked, domains: true });
      return tenant;
    },
  };
  const refuseExcess = runtime.loaded.config.target.excessPrivilege === 'refuse';
  const permissions = permissionFindings(granted, actionsOfConfig(spec, request), refuseExcess);
  let plan;
  try {
    plan = await planRun(spec, { ...planIO(runtime), target: capturing });
  } catch (err) {
    // Usually a missing read permission (already a finding above): say so, with what was found.
    if (!(err instanceof EntrasyncError)) throw err;
    return [...permissions, unreadableTenant(err)];
  }
  if (tenant === undefined) throw new Error('internal: the dry plan did not read the tenant');
  return [
    ...permissions,
    ...domainFindings(spec, tenant),
    clockFinding(spec, tenant),
    markerFindings(spec, tenant, plan),
    ...skuFindings(spec, tenant),
    ...sourceFindings(plan),
    ...(await writebackFindings(runtime, plan)),
  ];
}

function unreadableTenant(err: EntrasyncError): DoctorFinding {
  return {
    check: 'tenant',
    status: 'fail',
    message: `the tenant could not be read, so the other checks did not run: ${err.message}`,
    hint: 'grant the missing permissions above, then run doctor again',
  };
}

function renderText(findings: readonly DoctorFinding[]): string {
  const lines = findings.map((f) => {
    const hint = f.hint === undefined ? '' : ` (hint: ${f.hint})`;
    return `${f.status.padEnd(4)}  ${f.check.padEnd(11)} ${f.message}${hint}`;
  });
  return `${lines.join('\n')}\n${summary(findings)}\n`;
}

function renderJson(findings: readonly DoctorFinding[]): string {
  const count = (status: DoctorFinding['status']) =>
    findings.filter((f) => f.status === status).length;
  return `${JSON.stringify(
    {
      ok: findings.every((f) => f.status !== 'fail'),
      summary: { ok: count('ok'), warn: count('warn'), fail: count('fail') },
      checks: findings,
    },
    null,
    2,
  )}\n`;
}

function summary(findings: readonly DoctorFinding[]): string {
  const count = (status: DoctorFinding['status']) =>
    findings.filter((f) => f.status === status).length;
  const fails = count('fail');
  return `doctor: ${count('ok')} ok, ${count('warn')} warn, ${fails} fail${fails === 0 ? '' : ': fix the failures before the first plan'}`;
}

export function buildDoctorCommand(context: CommandContext): Command {
  return new Command('doctor')
    .description(
      'check a tenant before the first plan: Graph permissions, verified domains, clock skew, marker collisions, SKUs (never writes)',
    )
    .addOption(new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG_PATH))
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText(
      'after',
      '\nExample:\n  entrasync doctor -c entrasync.yaml\n\nExit codes: 0 nothing failed (warnings allowed), 1 a check failed or an error',
    )
    .action(async (opts: { config: string; format: DoctorFormat }) => {
      await context.withRuntime(opts.config, (runtime) =>
        runDoctor(runtime, opts.format, context.output),
      );
    });
}

export function registerDoctorCommand(program: Command, context: CommandContext): void {
  // addCommand does not pass on the parent's settings (exitOverride, output): copy them.
  program.addCommand(buildDoctorCommand(context).copyInheritedSettings(program));
}
