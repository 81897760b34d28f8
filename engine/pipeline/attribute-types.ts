/**
 * The Graph type of every attribute a mapping sets, so values are typed before they are
 * compared and written: Graph's own user properties from the generated table
 * (`graph-user-properties.ts`), directory extensions (`extension_<appId>_<name>`) from the
 * `extensionProperties` the tenant read found. A mapped extension the tenant does not have is a
 * config error that lists the ones it has: writing it would fail for every person.
 */
import { ConfigError } from '../errors.js';
import type { GraphPrimitive, GraphUserProperty } from '../model/graph-user-properties.js';
import { WRITABLE_USER_PROPERTIES } from '../model/graph-user-properties.js';
import type { SyncSpec } from '../model/spec.js';
import type { DirectoryExtension, TenantState } from '../model/tenant.js';
import { compareText } from './compare.js';

/** An attribute's type: a Graph primitive (`LargeInteger` for 64-bit extensions), maybe a list. */
export interface AttributeType {
  readonly type: GraphPrimitive | 'LargeInteger';
  readonly collection?: true;
  readonly set?: true;
  readonly values?: readonly string[];
  /** Dates are written as Graph returns them (`2024-01-31T00:00:00Z`): directory extensions. */
  readonly dateAsGraph?: true;
}

export type AttributeTypes = ReadonlyMap<string, AttributeType>;

const EXTENSION = /^extension_([0-9a-f]{32})_[A-Za-z0-9_]+$/i;

/** The application ids (with dashes) whose directory extensions the mapping writes. */
export function extensionAppsOf(attributes: readonly string[]): string[] {
  const apps = new Set<string>();
  for (const attribute of attributes) {
    const hex = EXTENSION.exec(attribute)?.[1]?.toLowerCase();
    if (hex === undefined) continue;
    apps.add(
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    );
  }
  return [...apps].sort(compareText);
}

export function isExtensionAttribute(attribute: string): boolean {
  return EXTENSION.test(attribute);
}

/** The static type of a Graph user property, or undefined (extensions, unknown names). */
export function userPropertyType(attribute: string): GraphUserProperty | undefined {
  return Object.hasOwn(WRITABLE_USER_PROPERTIES, attribute)
    ? WRITABLE_USER_PROPERTIES[attribute]
    : undefined;
}

/**
 * The types of the mapped attributes. Throws ConfigError (`config.unknown-extension`) for an
 * extension the tenant does not have for users, naming those it has.
 */
export function attributeTypesOf(spec: SyncSpec, tenant: TenantState): AttributeTypes {
  const types = new Map<string, AttributeType>();
  const extensions = new Map(
    (tenant.extensionProperties ?? []).map((e) => [e.name.toLowerCase(), e] as const),
  );
  const problems = [];
  for (const [attribute, expression] of Object.entries(spec.users.attributes)) {
    if (!isExtensionAttribute(attribute)) {
      const known = userPropertyType(attribute);
      if (known) types.set(attribute, known);
      continue;
    }
    const found = extensions.get(attribute.toLowerCase());
    if (found && found.name === attribute && appliesToUsers(found)) {
      types.set(attribute, extensionType(found));
      continue;
    }
    problems.push({
      severity: 'error' as const,
      code: 'config.unknown-extension',
      message: unknownExtensionMessage(attribute, found, tenant.extensionProperties),
      path: expression.configPath,
      ...(expression.position ? { position: expression.position } : {}),
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return types;
}

function appliesToUsers(extension: DirectoryExtension): boolean {
  return extension.targetObjects.some((t) => t.toLowerCase() === 'user');
}

function extensionType(extension: DirectoryExtension): AttributeType {
  const byDataType: Readonly<Record<string, AttributeType['type']>> = {
    string: 'String',
    binary: 'String',
    boolean: 'Boolean',
    integer: 'Int32',
    largeinteger: 'LargeInteger',
    datetime: 'DateTimeOffset',
  };
  const type = byDataType[extension.dataType.toLowerCase()] ?? 'String';
  return {
    type,
    ...(extension.isMultiValued ? { collection: true as const } : {}),
    ...(type === 'DateTimeOffset' ? { dateAsGraph: true as const } : {}),
  };
}

function unknownExtensionMessage(
  attribute: string,
  found: DirectoryExtension | undefined,
  all: readonly DirectoryExtension[] | undefined,
): string {
  if (found && found.name !== attribute) {
    return `\`${attribute}\` is spelled \`${found.name}\` in the tenant (Graph matches extension names exactly)`;
  }
  if (found) {
    return `\`${attribute}\` is registered for ${found.targetObjects.join(', ')}, not for users`;
  }
  if (all === undefined) {
    return `\`${attribute}\` cannot be checked: the tenant read did not include directory extensions (a tenant snapshot taken without this config: take it again)`;
  }
  const forUsers = all.filter(appliesToUsers).map((e) => `\`${e.name}\``);
  const app = EXTENSION.exec(attribute)?.[1] ?? '';
  return `\`${attribute}\` is not a directory extension of application ${app} for users: ${
    forUsers.length > 0
      ? `the tenant has ${forUsers.sort(compareText).join(', ')}`
      : 'that application has none (create it with POST /applications/{id}/extensionProperties)'
  }`;
}
