/**
 * Applications, as far as directory extensions need them: an application's
 * `extensionProperties`, listed (`GET`, least privileged Application.Read.All) and created
 * (`POST`, Application.ReadWrite.All or Application.ReadWrite.OwnedBy) through
 * `/applications/{object id}/extensionProperties` or `/applications(appId='{appId}')/...`.
 * Applications themselves come from the seed (`applications`); other application routes answer
 * 501. An extension is named `extension_<appId without dashes>_<name>`; users carry its values
 * (./user-extensions.ts).
 */
import { randomUUID } from 'node:crypto';
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import type { DirectoryDocument, TenantStore } from '../store.js';
import type { GraphContext } from './context.js';
import { jsonObjectBody } from '../http.js';
import type { ExtensionDefinition, ExtensionLookup } from './user-extensions.js';

export const APPLICATIONS_READ = [
  'Application.Read.All',
  'Application.ReadWrite.OwnedBy',
  'Application.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
export const APPLICATIONS_WRITE = ['Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All'];

const DATA_TYPES = ['Binary', 'Boolean', 'DateTime', 'Integer', 'LargeInteger', 'String'];
const TARGET_OBJECTS = [
  'User',
  'Group',
  'AdministrativeUnit',
  'Application',
  'Device',
  'Organization',
];
const EXTENSION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,119}$/;

/** The application with this object id, or with this appId (`byAppId`). */
export function findApplication(
  store: TenantStore,
  key: string,
  byAppId: boolean,
): DirectoryDocument {
  const lower = key.toLowerCase();
  const found = store
    .listDocs('application')
    .find((a) => String(byAppId ? a['appId'] : a.id).toLowerCase() === lower);
  if (found === undefined) throw graphErrors.resourceNotFound(key);
  return found;
}

function extensionsOf(store: TenantStore, app: DirectoryDocument): DirectoryDocument[] {
  const appId = String(app['appId']).toLowerCase();
  return store.listDocs('extensionProperty').filter((e) => e['ownerAppId'] === appId);
}

/** An extension property as Graph renders it (the owner is kept for the store only). */
function render(doc: DirectoryDocument): Record<string, unknown> {
  const { ownerAppId: _owner, ...rest } = doc;
  return rest;
}

export function listExtensionProperties(
  ctx: GraphContext,
  key: string,
  byAppId: boolean,
): SimResponse {
  const app = findApplication(ctx.store, key, byAppId);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#applications('${app.id}')/extensionProperties`,
      value: extensionsOf(ctx.store, app).map(render),
    },
  };
}

export function createExtensionProperty(
  ctx: GraphContext,
  key: string,
  byAppId: boolean,
): SimResponse {
  const app = findApplication(ctx.store, key, byAppId);
  const body = jsonObjectBody(ctx.request);
  const doc = extensionPropertyDocument(app, body);
  if (ctx.store.listDocs('extensionProperty').some((e) => e['name'] === doc['name'])) {
    throw graphErrors.objectConflict('name');
  }
  ctx.store.insertDoc('extensionProperty', doc.id, doc);
  return {
    status: 201,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#applications('${app.id}')/extensionProperties/$entity`,
      ...render(doc),
    },
  };
}

/** Checks a new extension property (create body or seed entry) and builds its document. */
export function extensionPropertyDocument(
  app: DirectoryDocument,
  body: Readonly<Record<string, unknown>>,
): DirectoryDocument {
  const { name, dataType, isMultiValued, targetObjects } = body;
  if (typeof name !== 'string' || !EXTENSION_NAME.test(name)) {
    throw graphErrors.invalidValue('name', 'ExtensionProperty');
  }
  if (typeof dataType !== 'string' || !DATA_TYPES.includes(dataType)) {
    throw graphErrors.invalidValue('dataType', 'ExtensionProperty');
  }
  if (
    !Array.isArray(targetObjects) ||
    targetObjects.length === 0 ||
    targetObjects.some((t) => typeof t !== 'string' || !TARGET_OBJECTS.includes(t))
  ) {
    throw graphErrors.invalidValue('targetObjects', 'ExtensionProperty');
  }
  if (isMultiValued !== undefined && typeof isMultiValued !== 'boolean') {
    throw graphErrors.cannotConvert('Edm.Boolean', JSON.stringify(isMultiValued));
  }
  const appId = String(app['appId']).toLowerCase();
  return {
    id: typeof body['id'] === 'string' ? body['id'] : randomUUID(),
    deletedDateTime: null,
    appDisplayName: typeof app['displayName'] === 'string' ? app['displayName'] : '',
    dataType,
    isMultiValued: isMultiValued === true,
    isSyncedFromOnPremises: false,
    name: `extension_${appId.replace(/-/g, '')}_${name}`,
    targetObjects: targetObjects as string[],
    ownerAppId: appId,
  };
}

/** Every registered directory extension. */
export function extensionDefinitions(store: TenantStore): ExtensionDefinition[] {
  return store.listDocs('extensionProperty').map((e) => ({
    name: String(e['name']),
    dataType: String(e['dataType']),
    isMultiValued: e['isMultiValued'] === true,
    targetObjects: (e['targetObjects'] as string[] | undefined) ?? [],
  }));
}

/** The registered extensions by name (any case), for user writes. */
export function extensionLookup(store: TenantStore): ExtensionLookup {
  let byName: Map<string, ExtensionDefinition> | undefined;
  return (name) => {
    byName ??= new Map(extensionDefinitions(store).map((d) => [d.name.toLowerCase(), d]));
    return byName.get(name.toLowerCase());
  };
}
