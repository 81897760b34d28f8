/**
 * The real connectors against a running simulator, as a process would build them from a loaded
 * config: the config's sources and an entra target (the real Graph SDK and @azure/identity over
 * HTTPS) on the simulator's virtual clock. For tests and benchmarks that run the engine directly.
 */
import type { LoadedConfig } from '../../config/load.js';
import { resolveSecret } from '../../config/secrets.js';
import { createSource } from '../../connectors/index.js';
import { createClientSecretCredential, createEntraTarget } from '../../connectors/entra/index.js';
import type { EntraTarget } from '../../connectors/entra/index.js';
import type { SourceConnector } from '../../engine/ports.js';
import { Redactor } from '../../engine/secret.js';
import type { RunningSimulator, VirtualClock } from '../../simulator/index.js';

/** The config's sources and an entra target on `sim`, on `clock`. */
export function connect(
  loaded: LoadedConfig,
  sim: RunningSimulator,
  clock: VirtualClock,
  redactor = new Redactor(),
  options: { timeBudgetMs?: number } = {},
): { sources: SourceConnector[]; target: EntraTarget; secret: string } {
  const app = sim.clients[0]!;
  redactor.add(app.clientSecret);
  const connection = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  const sources = Object.entries(loaded.config.sources).map(([name, o]) =>
    createSource(name, o, {
      baseDir: loaded.baseDir,
      redactor,
      resolveSecret: (ref) => resolveSecret(ref, { env: {}, baseDir: loaded.baseDir, redactor }),
    }),
  );
  const target = createEntraTarget(
    connection,
    () => createClientSecretCredential(connection, app.clientId, app.clientSecret),
    {
      clock,
      identity: {
        anchorAttribute: loaded.spec.users.anchorAttribute,
        markerAttribute: loaded.spec.marker.attribute,
      },
      ...(options.timeBudgetMs === undefined ? {} : { timeBudgetMs: options.timeBudgetMs }),
    },
  );
  return { sources, target, secret: app.clientSecret };
}
