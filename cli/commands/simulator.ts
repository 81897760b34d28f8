import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startSimulator } from '../../simulator/index.js';
import type { Output } from '../output.js';
import { DEFAULT_SIMULATOR_STATE } from '../../config/schema.js';

export interface SimulatorCommandOptions {
  readonly state?: string;
  readonly seed?: string;
  readonly port?: number;
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
      '',
      'Use it from a config with:',
      '  target:',
      '    auth: { method: secret, clientSecret: ${file:' + secretFile + '} }',
      `    tenantId: ${simulator.tenantId}`,
      `    clientId: ${client?.clientId ?? '-'}`,
      `    graphUrl: ${simulator.origin}`,
      `    authorityHost: ${simulator.authorityHost}`,
      `    caFile: ${simulator.caFile}`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await simulator.close();
}
