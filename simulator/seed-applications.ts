/**
 * The seed's `applications`: each with the directory extensions it registered, so a simulated
 * tenant can start with `extension_<appId>_<name>` definitions (and users carrying values):
 *
 * ```json
 * "applications": [ { "appId": "<guid>", "id"?: "<guid>", "displayName"?: "HR sync",
 *   "extensionProperties"?: [ { "name": "costCode", "dataType": "String",
 *                               "isMultiValued"?: false, "targetObjects": ["User"] } ] } ]
 * ```
 *
 * Extensions are checked with the rules of `POST .../extensionProperties`.
 */
import { randomUUID } from 'node:crypto';
import { GraphError } from './errors.js';
import { extensionLookup, extensionPropertyDocument } from './graph/applications.js';
import type { ExtensionLookup } from './graph/user-extensions.js';
import type { DirectoryDocument, DocKind, TenantStore } from './store.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SeededApplications {
  readonly docs: { kind: DocKind; doc: DirectoryDocument }[];
  /** The seeded extensions by name, for validating the seeded users' values. */
  readonly lookup: ExtensionLookup;
}

export function parseSeedApplications(
  entries: unknown,
  source: string,
  fail: (message: string) => Error,
): SeededApplications {
  const docs: { kind: DocKind; doc: DirectoryDocument }[] = [];
  if (entries !== undefined && !Array.isArray(entries)) {
    throw fail(`Seed file ${source}: "applications" must be an array.`);
  }
  for (const [index, entry] of ((entries as unknown[] | undefined) ?? []).entries()) {
    const where = `Seed file ${source}: applications[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw fail(`${where}: expected an object.`);
    }
    const { appId, id, displayName, extensionProperties } = entry as Record<string, unknown>;
    if (typeof appId !== 'string' || !GUID.test(appId))
      throw fail(`${where}: "appId" must be a GUID.`);
    const app: DirectoryDocument = {
      id: typeof id === 'string' ? id.toLowerCase() : randomUUID(),
      appId: appId.toLowerCase(),
      displayName: typeof displayName === 'string' ? displayName : '',
    };
    docs.push({ kind: 'application', doc: app });
    for (const [i, ext] of ((extensionProperties as unknown[] | undefined) ?? []).entries()) {
      try {
        const doc = extensionPropertyDocument(app, (ext ?? {}) as Record<string, unknown>);
        docs.push({ kind: 'extensionProperty', doc });
      } catch (err) {
        if (!(err instanceof GraphError)) throw err;
        throw fail(`${where}: extensionProperties[${i}]: ${err.message}`);
      }
    }
  }
  const byName = new Map(
    docs.filter((d) => d.kind === 'extensionProperty').map((d) => [String(d.doc['name']), d.doc]),
  );
  const store = { listDocs: () => [...byName.values()] } as unknown as TenantStore;
  return { docs, lookup: extensionLookup(store) };
}
