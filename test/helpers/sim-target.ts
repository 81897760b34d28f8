/**
 * The `target:` block of a config that reaches a running simulator as a real tenant is reached:
 * a client secret from an environment variable, the tenant, the client, and the simulator's
 * Graph URL, authority and CA file. One place for what every end-to-end test against a
 * standalone simulator writes.
 */
import type { RunningSimulator } from '../../simulator/index.js';

export interface SimTargetOptions {
  /** Environment variable holding the secret (`${env:NAME}`). */
  readonly secretEnv: string;
  /** Default: the simulator's first app. */
  readonly clientId?: string;
  /** Default: the simulator's tenant. */
  readonly tenantId?: string;
  /** Default: the simulator's authority. */
  readonly authorityHost?: string;
  /** More `target` keys, as YAML lines without indentation (`marker: { id: hr }`). */
  readonly extra?: readonly string[];
}

/** `target:` and its keys, each line ending with a newline. */
export function simTarget(sim: RunningSimulator, options: SimTargetOptions): string {
  const lines = [
    `auth: { method: secret, clientSecret: "\${env:${options.secretEnv}}" }`,
    `tenantId: ${options.tenantId ?? sim.tenantId}`,
    `clientId: ${options.clientId ?? sim.clients[0]!.clientId}`,
    `graphUrl: ${sim.origin}`,
    `authorityHost: ${options.authorityHost ?? sim.authorityHost}`,
    `caFile: ${sim.caFile}`,
    ...(options.extra ?? []),
  ];
  return `target:\n${lines.map((l) => `  ${l}\n`).join('')}`;
}
