/**
 * Builds what a command needs from a config file: the compiled spec, the source connectors and
 * the target (starting the embedded simulator when the config asks for it). I/O lives here and
 * in connectors; the engine only receives the ports.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import {
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_GRAPH_URL,
  DEFAULT_SIMULATOR_STATE,
} from '../config/schema.js';
import { resolveSecret, revealConfigValue } from '../config/secrets.js';
import { createSource } from '../connectors/index.js';
import { createClientSecretCredential, createEntraTarget } from '../connectors/entra/index.js';
import type { EntraTarget, GraphConnection } from '../connectors/entra/index.js';
import type { ConnectorContext, SourceConnector } from '../engine/ports.js';
import type { Redactor } from '../engine/secret.js';
import { startSimulator } from '../simulator/index.js';

export interface Runtime {
  readonly loaded: LoadedConfig;
  readonly sources: readonly SourceConnector[];
  readonly target: EntraTarget;
  close(): Promise<void>;
}

export const DEFAULT_CONFIG_PATH = 'entrasync.yaml';

export async function openRuntime(
  configPath: string,
  redactor: Redactor,
  env = process.env,
): Promise<Runtime> {
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
  const target = loaded.config.target;

  if (target.auth.method === 'simulator') {
    const simulator = await startSimulator({
      statePath: resolve(loaded.baseDir, target.simulator?.state ?? DEFAULT_SIMULATOR_STATE),
      ...(target.simulator?.seed
        ? { seedPath: resolve(loaded.baseDir, target.simulator.seed) }
        : {}),
    });
    const client = simulator.clients[0];
    if (!client) throw new Error('the embedded simulator has no client');
    redactor.add(client.clientSecret);
    const connection: GraphConnection = {
      graphUrl: simulator.origin,
      authorityHost: simulator.authorityHost,
      tenantId: simulator.tenantId,
      caPem: simulator.caPem,
    };
    const credential = createClientSecretCredential(
      connection,
      client.clientId,
      client.clientSecret,
    );
    return {
      loaded,
      sources,
      target: createEntraTarget(connection, credential),
      close: () => simulator.close(),
    };
  }

  // The loader guarantees tenantId and clientId with `method: secret`.
  if (target.tenantId === undefined || target.clientId === undefined) {
    throw new Error('target.tenantId and target.clientId are required with auth.method: secret');
  }
  const tenantId = revealConfigValue(target.tenantId, secretContext);
  const clientId = revealConfigValue(target.clientId, secretContext);
  const connection: GraphConnection = {
    graphUrl: target.graphUrl ?? DEFAULT_GRAPH_URL,
    authorityHost: target.authorityHost ?? DEFAULT_AUTHORITY_HOST,
    tenantId,
    ...(target.caFile
      ? { caPem: await readFile(resolve(loaded.baseDir, target.caFile), 'utf8') }
      : {}),
  };
  const credential: TokenCredential = createClientSecretCredential(
    connection,
    clientId,
    resolveSecret(target.auth.clientSecret, secretContext).reveal(),
  );
  return {
    loaded,
    sources,
    target: createEntraTarget(connection, credential),
    close: async () => {},
  };
}
