/**
 * Builds what a command needs from a config file: the compiled spec, the source connectors and
 * the target (starting the embedded simulator when the config asks for it). I/O lives here and
 * in connectors; the engine only receives the ports.
 *
 * Credentials are built as factories: a 401 mid-run makes the connector build a fresh one (a
 * fresh token, and for workload identity a fresh federated assertion), see
 * connectors/entra/graph-client.ts. Every secret resolved here is registered with the redactor.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { DEFAULT_FEDERATION_AUDIENCE } from '../config/auth-schema.js';
import { loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import {
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_GRAPH_URL,
  DEFAULT_SIMULATOR_STATE,
} from '../config/schema.js';
import type { TargetConfig } from '../config/schema.js';
import { resolveSecret, revealConfigValue } from '../config/secrets.js';
import { createSource, createSourceWriter } from '../connectors/index.js';
import {
  createClientAssertionCredential,
  createClientCertificateCredential,
  createClientSecretCredential,
  createEntraTarget,
  createManagedIdentityCredential,
  fileAssertion,
  githubActionsAssertion,
  withAuthContext,
} from '../connectors/entra/index.js';
import type {
  AuthContext,
  Clock,
  EntraReaderOptions,
  EntraTarget,
  EntraTargetOptions,
  GraphConnection,
  GraphRequestObserver,
  OnboardingDelivery,
} from '../connectors/entra/index.js';
import type { PlanIO } from '../engine/index.js';
import type { ConnectorContext, SourceConnector, SourceWriter } from '../engine/ports.js';
import { collectReadGarbage } from './memory.js';
import type { Redactor, Secret } from '../engine/secret.js';
import { loadDeliverySettings } from '../config/onboarding.js';
import { offsetClock, startSimulator, systemClock } from '../simulator/index.js';
import { parseDuration } from './daemon/duration.js';

export interface Runtime {
  readonly loaded: LoadedConfig;
  readonly sources: readonly SourceConnector[];
  readonly target: EntraTarget;
  /** Graph's origin and authority the target talks to. */
  readonly connection: GraphConnection;
  /**
   * The writer of `writeback.<source>` (issue 26), made when apply writes back; its credentials
   * are resolved at its first write. Undefined for a source without a `writeback` entry.
   */
  readonly sourceWriter?: (source: string) => SourceWriter | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Clock for the target's waits (Retry-After, pacing); default wall time. */
  readonly clock?: Clock;
  /** `low` for background work (the daemon): `x-ms-throttle-priority: low`. */
  readonly priority?: 'low' | 'normal';
  /** Told of each Graph request: the `--log-level debug` trace (cli/logging.ts). */
  readonly onGraphRequest?: GraphRequestObserver;
  /** How the tenant is read (connectors/entra/read-tenant.ts); the benchmarks set it. */
  readonly reader?: Omit<EntraReaderOptions, 'onRead'>;
}

export const DEFAULT_CONFIG_PATH = 'entrasync.yaml';

/** What planning reads through: the runtime's sources and target reader. */
export function planIO(runtime: {
  readonly sources: readonly SourceConnector[];
  readonly target: { readonly reader: PlanIO['target'] };
}): PlanIO {
  return {
    sources: runtime.sources,
    target: runtime.target.reader,
    afterRead: collectReadGarbage,
  };
}

export async function openRuntime(
  configPath: string,
  redactor: Redactor,
  env = process.env,
  options: RuntimeOptions = {},
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
  const sourceWriter = (name: string): SourceWriter | undefined => {
    const writeback = loaded.config.writeback?.[name];
    const source = loaded.config.sources[name];
    return writeback && source ? createSourceWriter(name, source, writeback, context) : undefined;
  };
  const target = loaded.config.target;
  const delivery = await onboardingDelivery(loaded, (ref) => resolveSecret(ref, secretContext));
  const targetOptions: EntraTargetOptions = {
    ...entraTargetOptions(loaded, options),
    ...(delivery ? { onboarding: { delivery, redactor } } : {}),
  };

  if (target.auth.method === 'simulator') {
    const simulator = await startSimulator({
      statePath: resolve(loaded.baseDir, target.simulator?.state ?? DEFAULT_SIMULATOR_STATE),
      ...(target.simulator?.seed
        ? { seedPath: resolve(loaded.baseDir, target.simulator.seed) }
        : {}),
      ...(target.simulator?.clockOffset
        ? { clock: offsetClock(systemClock(), signedDurationMs(target.simulator.clockOffset)) }
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
    return {
      loaded,
      sources,
      sourceWriter,
      connection,
      target: createEntraTarget(
        connection,
        () =>
          withAuthContext(
            createClientSecretCredential(connection, client.clientId, client.clientSecret),
            authContext(connection, 'simulator', client.clientId),
          ),
        targetOptions,
      ),
      close: () => simulator.close(),
    };
  }

  const connection: GraphConnection = {
    graphUrl: target.graphUrl ?? DEFAULT_GRAPH_URL,
    authorityHost: target.authorityHost ?? DEFAULT_AUTHORITY_HOST,
    tenantId:
      target.tenantId === undefined
        ? 'organizations'
        : revealConfigValue(target.tenantId, secretContext),
    ...(target.caFile
      ? { caPem: await readFile(resolve(loaded.baseDir, target.caFile), 'utf8') }
      : {}),
  };
  const credential = await credentialFactory(target, connection, {
    clientId: () => {
      // The loader guarantees tenantId and clientId for app-registration methods.
      if (target.clientId === undefined) {
        throw new Error(`target.clientId is required with auth.method: ${target.auth.method}`);
      }
      return revealConfigValue(target.clientId, secretContext);
    },
    secret: (ref) => resolveSecret(ref, secretContext).reveal(),
    baseDir: loaded.baseDir,
    env,
  });
  const clientId =
    target.auth.method === 'managed-identity'
      ? target.auth.clientId
      : target.clientId === undefined
        ? undefined
        : revealConfigValue(target.clientId, secretContext);
  const auth = authContext(connection, target.auth.method, clientId);
  return {
    loaded,
    sources,
    sourceWriter,
    connection,
    target: createEntraTarget(connection, () => withAuthContext(credential(), auth), targetOptions),
    close: async () => {},
  };
}

/**
 * How onboarding steps deliver (users.onboarding): the template read and checked, the webhook
 * URL resolved (and registered with the redactor). Read for plan too, so a missing template
 * stops the plan instead of the apply.
 */
async function onboardingDelivery(
  loaded: LoadedConfig,
  resolveRef: (ref: Parameters<typeof resolveSecret>[0]) => Secret,
): Promise<OnboardingDelivery | undefined> {
  const settings = await loadDeliverySettings(loaded.config.users.onboarding, loaded.baseDir);
  if (!settings) return undefined;
  if (settings.channel === 'email') return settings;
  return {
    channel: 'webhook',
    url: resolveRef(settings.url),
    includeCredential: settings.includeCredential,
  };
}

/** What an authentication failure names: connectors/entra/auth-failure.ts. */
function authContext(
  connection: GraphConnection,
  method: string,
  clientId: string | undefined,
): AuthContext {
  return {
    authorityHost: connection.authorityHost ?? DEFAULT_AUTHORITY_HOST,
    tenantId: connection.tenantId,
    method,
    ...(clientId === undefined ? {} : { clientId }),
    ...(connection.caPem === undefined ? {} : { caPem: connection.caPem }),
  };
}

function entraTargetOptions(loaded: LoadedConfig, options: RuntimeOptions): EntraTargetOptions {
  const target = loaded.config.target;
  return {
    identity: {
      anchorAttribute: loaded.spec.users.anchorAttribute,
      markerAttribute: loaded.spec.marker.attribute,
    },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.priority ? { priority: options.priority } : {}),
    ...(options.onGraphRequest ? { onGraphRequest: options.onGraphRequest } : {}),
    ...(options.reader ? { reader: options.reader } : {}),
    ...(target.writes?.perSecond === undefined ? {} : { writesPerSecond: target.writes.perSecond }),
    ...(target.writes?.concurrency === undefined ? {} : { concurrency: target.writes.concurrency }),
  };
}

interface CredentialInputs {
  clientId(): string;
  secret(ref: Parameters<typeof resolveSecret>[0]): string;
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A factory of the credential `target.auth` asks for (see the module comment). */
async function credentialFactory(
  target: TargetConfig,
  connection: GraphConnection,
  inputs: CredentialInputs,
): Promise<() => TokenCredential> {
  const auth = target.auth;
  switch (auth.method) {
    case 'simulator':
      throw new Error('internal: the simulator has its own credential');
    case 'secret': {
      const clientId = inputs.clientId();
      const secret = inputs.secret(auth.clientSecret);
      return () => createClientSecretCredential(connection, clientId, secret);
    }
    case 'certificate': {
      const clientId = inputs.clientId();
      const pem = inputs.secret(auth.certificate);
      const chain = auth.sendCertificateChain ?? false;
      return () => createClientCertificateCredential(connection, clientId, pem, chain);
    }
    case 'workload-identity': {
      const clientId = inputs.clientId();
      const audience = auth.audience ?? DEFAULT_FEDERATION_AUDIENCE;
      let assertion: () => Promise<string>;
      if (auth.provider === 'github-actions') {
        assertion = githubActionsAssertion(inputs.env, audience);
      } else {
        const file = auth.tokenFile ?? inputs.env['AZURE_FEDERATED_TOKEN_FILE'];
        if (file === undefined || file === '') {
          throw new Error(
            'workload identity with provider: file needs target.auth.tokenFile or AZURE_FEDERATED_TOKEN_FILE',
          );
        }
        assertion = fileAssertion(resolve(inputs.baseDir, file), (p) => readFile(p, 'utf8'));
      }
      return () => createClientAssertionCredential(connection, clientId, assertion);
    }
    case 'managed-identity': {
      const clientId = auth.clientId;
      return () => createManagedIdentityCredential(clientId, connection);
    }
  }
}

/** `-1d` in ms (negative: behind); the schema checked the text. */
function signedDurationMs(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const ms = parseDuration(text.replace(/^[-+]/, ''));
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return sign * ms;
}
