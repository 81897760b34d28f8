/**
 * Helpers for the entra connector's tests: a simulator on the virtual clock (so Retry-After
 * waits of minutes take no real time) reached with the real SDK and @azure/identity, and plans
 * made of user changes.
 */
import { onTestFinished } from 'vitest';
import type { Change, CreateUserChange, Plan } from '../../engine/model/plan.js';
import type {
  FaultPlan,
  RunningSimulator,
  SimulatorOptions,
  VirtualClock,
} from '../../simulator/index.js';
import { createVirtualClock, startSimulator } from '../../simulator/index.js';
import type { EntraTarget, EntraTargetOptions, GraphConnection } from './index.js';
import { createClientSecretCredential, createEntraTarget } from './index.js';

export const MARKER = 'onPremisesExtensionAttributes.extensionAttribute15';

export interface Harness {
  readonly sim: RunningSimulator;
  readonly clock: VirtualClock;
  readonly connection: GraphConnection;
  readonly target: EntraTarget;
}

export async function harness(
  options: {
    seed?: unknown;
    faultPlan?: FaultPlan;
    throttling?: SimulatorOptions['throttling'];
    clients?: SimulatorOptions['clients'];
    target?: EntraTargetOptions;
    tokenLifetimeSeconds?: number;
  } = {},
): Promise<Harness> {
  const clock = createVirtualClock();
  const sim = await startSimulator({
    clock,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.faultPlan === undefined ? {} : { faultPlan: options.faultPlan }),
    ...(options.throttling === undefined ? {} : { throttling: options.throttling }),
    ...(options.clients === undefined ? {} : { clients: options.clients }),
    ...(options.tokenLifetimeSeconds === undefined
      ? {}
      : { tokenLifetimeSeconds: options.tokenLifetimeSeconds }),
  });
  onTestFinished(() => sim.close());
  const connection: GraphConnection = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  const app = sim.clients[0];
  if (app === undefined) throw new Error('simulator has no client');
  const target = createEntraTarget(
    connection,
    () => createClientSecretCredential(connection, app.clientId, app.clientSecret),
    { clock, ...options.target },
  );
  return { sim, clock, connection, target };
}

export function createChange(i: number, domain = 'contoso.com'): CreateUserChange {
  const upn = `person${i}@${domain}`;
  return {
    id: `createUser:${upn}`,
    kind: 'createUser',
    reason: 'new-person',
    message: '',
    user: { userPrincipalName: upn },
    provenance: [],
    attributes: {
      userPrincipalName: upn,
      displayName: `Person ${i}`,
      mailNickname: `person${i}`,
      accountEnabled: true,
      employeeId: `E${i}`,
      [MARKER]: 'entrasync',
    },
  };
}

export function planOf(changes: readonly Change[]): Plan {
  return {
    formatVersion: 1,
    fingerprint: 'f'.repeat(64),
    configDigest: 'c'.repeat(64),
    tenantDigest: 't',
    sources: [],
    changes,
    blocked: [],
    warnings: [],
    issues: [],
    ignored: [],
    managedUsers: 0,
  };
}

/** Every user in the simulated tenant with this UPN prefix, by UPN (duplicates would show). */
export function usersNamed(sim: RunningSimulator, prefix: string): string[] {
  return sim.store
    .listUsers()
    .map((u) => String(u.userPrincipalName))
    .filter((upn) => upn.startsWith(prefix))
    .sort();
}
