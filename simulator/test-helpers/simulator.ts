/**
 * Helpers shared by the simulator's own tests: start a simulator for one test, reach it with
 * the real Graph SDK and @azure/identity, or with raw HTTPS for what the SDK hides.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { Agent } from 'undici';
import { onTestFinished } from 'vitest';
import type { GraphConnection } from '../../connectors/entra/graph-client.js';
import {
  createClientSecretCredential,
  createGraphClient,
  graphScope,
} from '../../connectors/entra/graph-client.js';
import type { RunningSimulator, SimulatorClient, SimulatorOptions } from '../index.js';
import { startSimulator } from '../index.js';

export const PASSWORD = 'xWwvJ]6NMw+bWH-d';

export async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator(options);
  onTestFinished(() => sim.close());
  return sim;
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'entrasync-sim-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function connection(sim: RunningSimulator): GraphConnection {
  return {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
}

export function credentialFor(sim: RunningSimulator, client?: SimulatorClient): TokenCredential {
  const c = client ?? sim.clients[0];
  if (c === undefined) throw new Error('simulator has no client');
  return createClientSecretCredential(connection(sim), c.clientId, c.clientSecret);
}

export function graphFor(sim: RunningSimulator, client?: SimulatorClient): Client {
  return createGraphClient(connection(sim), credentialFor(sim, client));
}

export async function graphFailure(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error('expected the Graph request to fail');
}

/** A bearer token for raw requests. */
export async function bearer(sim: RunningSimulator, client?: SimulatorClient): Promise<string> {
  const token = await credentialFor(sim, client).getToken(graphScope(sim.origin));
  if (token === null) throw new Error('no token');
  return `Bearer ${token.token}`;
}

/** Raw HTTPS against the simulator, for what the SDK hides (status lines, headers). */
export async function raw(
  sim: RunningSimulator,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const dispatcher = new Agent({ connect: { ca: sim.caPem } });
  try {
    const response = await fetch(`${sim.origin}${path}`, {
      ...init,
      dispatcher,
    } as unknown as RequestInit);
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
  } finally {
    await dispatcher.close();
  }
}

export function newUser(
  n: number | string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    accountEnabled: true,
    displayName: `User ${n}`,
    mailNickname: `user${n}`,
    userPrincipalName: `user${n}@contoso.example`,
    passwordProfile: { forceChangePasswordNextSignIn: true, password: PASSWORD },
    ...extra,
  };
}

export function securityGroup(
  n: number | string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    displayName: `Group ${n}`,
    mailEnabled: false,
    mailNickname: `group${n}`,
    securityEnabled: true,
    ...extra,
  };
}

/** `https://graph.microsoft.com/v1.0/directoryObjects/{id}`, as Graph's docs write references. */
export function ref(id: string): string {
  return `https://graph.microsoft.com/v1.0/directoryObjects/${id}`;
}

/** Follows nextLinks to the end; returns every item. */
export async function readAll(graph: Client, first: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let url: string | undefined = first;
  while (url !== undefined) {
    const page = (await graph.api(url).get()) as {
      value: Record<string, unknown>[];
      '@odata.nextLink'?: string;
    };
    items.push(...page.value);
    url = page['@odata.nextLink'];
  }
  return items;
}
