/**
 * The `entra` target: reads and writes a Microsoft Entra tenant through Microsoft Graph with the
 * real `@microsoft/microsoft-graph-client` and an `@azure/identity` credential. The embedded
 * simulator is reached the same way, only with another authority, Graph URL and CA.
 */
import type { TokenCredential } from '@azure/identity';
import type { TargetReader, TargetWriter } from '../../engine/ports.js';
import type { GraphConnection } from './graph-client.js';
import { createGraphClient } from './graph-client.js';
import { createEntraReader } from './read-tenant.js';
import { createEntraWriter } from './write.js';

export interface EntraTarget {
  readonly reader: TargetReader;
  readonly writer: TargetWriter;
}

export function createEntraTarget(
  connection: GraphConnection,
  credential: TokenCredential,
): EntraTarget {
  const client = createGraphClient(connection, credential);
  return { reader: createEntraReader(client), writer: createEntraWriter(client) };
}

export type { GraphConnection } from './graph-client.js';
export { createClientSecretCredential } from './graph-client.js';
