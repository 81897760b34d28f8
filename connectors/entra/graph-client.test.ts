import { globalAgent } from 'node:https';
import { describe, expect, onTestFinished, test } from 'vitest';
import type { RunningSimulator } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import type { GraphConnection } from './graph-client.js';
import { createClientSecretCredential, createGraphClient, graphScope } from './graph-client.js';

async function simulator(): Promise<RunningSimulator> {
  const sim = await startSimulator();
  onTestFinished(() => sim.close());
  return sim;
}

function connection(sim: RunningSimulator, withCa = true): GraphConnection {
  return {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    ...(withCa ? { caPem: sim.caPem } : {}),
  };
}

function secretOf(sim: RunningSimulator): { clientId: string; clientSecret: string } {
  const client = sim.clients[0];
  if (client === undefined) throw new Error('simulator has no client');
  return client;
}

describe('graphScope', () => {
  test('is the .default scope of the Graph origin', () => {
    expect(graphScope('https://graph.microsoft.com')).toBe('https://graph.microsoft.com/.default');
    expect(graphScope('https://127.0.0.1:8443/')).toBe('https://127.0.0.1:8443/.default');
  });
});

describe('createGraphClient', () => {
  test('reaches the simulator over HTTPS, trusting its CA per client', async () => {
    const sim = await simulator();
    const { clientId, clientSecret } = secretOf(sim);
    const conn = connection(sim);
    const graph = createGraphClient(
      conn,
      createClientSecretCredential(conn, clientId, clientSecret),
    );
    await expect(graph.api('/users').get()).resolves.toMatchObject({ value: [] });
    // The bearer token reached the simulator (customHosts), and it came from the credential.
    expect(sim.requestLog.at(-1)).toMatchObject({ path: '/v1.0/users', status: 200, clientId });
  });

  test('trust is not process-wide: without caPem both clients refuse the simulator', async () => {
    const sim = await simulator();
    const { clientId, clientSecret } = secretOf(sim);
    const untrusted = connection(sim, false);
    await expect(
      createClientSecretCredential(untrusted, clientId, clientSecret).getToken(
        graphScope(sim.origin),
      ),
    ).rejects.toThrow();

    const trustedCredential = createClientSecretCredential(connection(sim), clientId, clientSecret);
    const graph = createGraphClient(untrusted, trustedCredential);
    await expect(graph.api('/users').get()).rejects.toThrow();
    expect(sim.requestLog.filter((e) => e.path.startsWith('/v1.0'))).toEqual([]);

    expect(globalAgent.options.ca).toBeUndefined();
    expect(process.env['NODE_TLS_REJECT_UNAUTHORIZED']).toBeUndefined();
  });
});
