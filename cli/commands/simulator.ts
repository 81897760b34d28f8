import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { openTenantStore, seedTenant, startSimulator } from '../../simulator/index.js';
import type { LatencyModel, OutboxMail, RunningSimulator } from '../../simulator/index.js';
import { formatLatencyModel } from '../../simulator/index.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import { EntrasyncError } from '../../engine/errors.js';
import type { Output } from '../output.js';
import { DEFAULT_SIMULATOR_STATE } from '../../config/schema.js';

export interface SimulatorCommandOptions {
  readonly state?: string;
  readonly seed?: string;
  readonly port?: number;
  readonly faultPlan?: string;
  /** Graph-like latency of every answer (simulator/latency.ts). */
  readonly latency?: LatencyModel;
}

/**
 * Runs the simulated tenant standalone until SIGINT/SIGTERM. The client secret is written to a
 * file (mode 0600) rather than printed, so it never lands in a terminal scrollback or CI log.
 */
export async function runSimulator(
  options: SimulatorCommandOptions,
  output: Output,
): Promise<void> {
  const statePath = resolve(options.state ?? DEFAULT_SIMULATOR_STATE);
  const simulator = await startSimulator({
    statePath,
    ...(options.seed ? { seedPath: resolve(options.seed) } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.faultPlan ? { faultPlan: resolve(options.faultPlan) } : {}),
    ...(options.latency ? { latency: options.latency } : {}),
  });
  const client = simulator.clients[0];
  const secretFile = join(resolve(simulator.caFile, '..'), 'client-secret');
  if (client) await writeFile(secretFile, client.clientSecret, { mode: 0o600 });
  output.out(
    [
      `entrasync simulator listening on ${simulator.origin}`,
      `  state:          ${statePath}`,
      `  Graph URL:      ${simulator.origin}  (v1.0 under ${simulator.origin}/v1.0)`,
      `  authority:      ${simulator.authorityHost}`,
      `  tenant id:      ${simulator.tenantId}`,
      `  client id:      ${client?.clientId ?? '-'}`,
      `  client secret:  in ${secretFile}`,
      `  CA certificate: ${simulator.caFile}`,
      ...(simulator.latency ? [`  latency:        ${formatLatencyModel(simulator.latency)}`] : []),
      '',
      'Use it from a config with:',
      indent(targetBlock(simulator, client?.clientId ?? '-', secretFile), '  '),
    ].join('\n'),
  );
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await simulator.close();
}

/**
 * The `target:` block that points a config at this simulator, written by the YAML library so it
 * pastes as valid YAML whatever the paths hold (a `${file:…}` reference inside a hand-written
 * flow mapping was not).
 */
export function targetBlock(
  simulator: Pick<RunningSimulator, 'tenantId' | 'origin' | 'authorityHost' | 'caFile'>,
  clientId: string,
  secretFile: string,
): string {
  return stringify({
    target: {
      auth: { method: 'secret', clientSecret: `\${file:${secretFile}}` },
      tenantId: simulator.tenantId,
      clientId,
      graphUrl: simulator.origin,
      authorityHost: simulator.authorityHost,
      caFile: simulator.caFile,
    },
  });
}

function indent(text: string, by: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => by + line)
    .join('\n');
}

export interface SimulatorSeedOptions {
  readonly state: string;
  readonly users: number;
  readonly groups: number;
  readonly randomSeed: number;
}

/** `entrasync simulator seed`: a generated tenant for demos and benchmarks; refuses a non-empty one. */
export function runSimulatorSeed(options: SimulatorSeedOptions, output: Output): ExitCode {
  const statePath = resolve(options.state);
  const store = openTenantStore(statePath);
  try {
    let result: ReturnType<typeof seedTenant>;
    try {
      result = seedTenant(store, {
        users: options.users,
        groups: options.groups,
        seed: options.randomSeed,
      });
    } catch (err) {
      throw new EntrasyncError('simulator.seed', err instanceof Error ? err.message : String(err));
    }
    output.out(
      `seeded ${statePath}: ${result.users} users, ${result.groups} groups, ${result.memberships} memberships in ${result.durationMs} ms\n`,
    );
    return EXIT.ok;
  } finally {
    store.close();
  }
}

export interface SimulatorOutboxOptions {
  readonly state: string;
  readonly format: 'text' | 'json';
  /** Print each mail's body too (it may carry a credential: the mail is its delivery). */
  readonly body: boolean;
}

/**
 * `entrasync simulator outbox`: the mails the simulated tenant's `sendMail` accepted, oldest
 * first: time, sender, recipients, subject. Bodies only with `--body`, since an onboarding mail
 * carries a Temporary Access Pass and stdout often lands in a CI log.
 */
export function runSimulatorOutbox(options: SimulatorOutboxOptions, output: Output): ExitCode {
  const statePath = resolve(options.state);
  if (!existsSync(statePath)) {
    throw new EntrasyncError('simulator.state', `no simulator state at ${statePath}`);
  }
  const store = openTenantStore(statePath);
  try {
    const mails = store.outbox();
    if (options.format === 'json') {
      const shown = mails.map((mail) => (options.body ? mail : withoutBody(mail)));
      output.out(`${JSON.stringify({ state: statePath, mails: shown }, null, 2)}\n`);
      return EXIT.ok;
    }
    const lines = [`${mails.length} mail${mails.length === 1 ? '' : 's'} in ${statePath}`];
    for (const mail of mails) {
      const to = [...mail.toRecipients, ...mail.ccRecipients, ...mail.bccRecipients]
        .map((r) => r.address)
        .join(', ');
      lines.push(
        `${mail.sentDateTime}  ${mail.senderAddress} -> ${to}  ${JSON.stringify(mail.subject)}`,
      );
      if (options.body) lines.push(indent(mail.body.content, '    '));
    }
    output.out(`${lines.join('\n')}\n`);
    return EXIT.ok;
  } finally {
    store.close();
  }
}

function withoutBody(mail: OutboxMail): Omit<OutboxMail, 'body'> {
  const { body: _body, ...rest } = mail;
  return rest;
}
