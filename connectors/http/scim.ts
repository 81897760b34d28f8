/**
 * What the `scim` preset knows of SCIM 2.0 (RFC 7643 user schema, RFC 7644 list responses).
 *
 * Records are User resources as the server sends them, with two changes so mappings stay
 * readable: the attributes of the enterprise extension
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`) are lifted to the top level
 * (`employeeNumber`, `department`, `manager`, ...; the core schema has no attribute of those
 * names), and `password`, which a server must never return, is dropped if one does.
 */
import type { SourceObject, SourceValue } from '../../engine/model/source.js';
import { isObject } from './select.js';

export const SCIM_LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Attributes of the core User schema (RFC 7643 §4.1) plus the common attributes (§3.1). */
export const SCIM_CORE_USER_ATTRIBUTES: readonly string[] = [
  'schemas',
  'id',
  'externalId',
  'meta',
  'userName',
  'name',
  'displayName',
  'nickName',
  'profileUrl',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'active',
  'emails',
  'phoneNumbers',
  'ims',
  'photos',
  'addresses',
  'groups',
  'entitlements',
  'roles',
  'x509Certificates',
];

/** Attributes of the enterprise User extension (RFC 7643 §4.3), lifted to the top level. */
export const SCIM_ENTERPRISE_USER_ATTRIBUTES: readonly string[] = [
  'employeeNumber',
  'costCenter',
  'organization',
  'division',
  'department',
  'manager',
];

export const SCIM_USER_FIELDS: readonly string[] = [
  ...SCIM_CORE_USER_ATTRIBUTES,
  ...SCIM_ENTERPRISE_USER_ATTRIBUTES,
];

/** Whether a resource declares the core User schema. */
export function isScimUser(resource: Readonly<Record<string, unknown>>): boolean {
  const schemas = resource['schemas'];
  return (
    Array.isArray(schemas) &&
    schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCIM_CORE_USER.toLowerCase())
  );
}

/** The record's fields: the resource with the enterprise extension lifted and no password. */
export function flattenScimUser(resource: Readonly<Record<string, unknown>>): SourceObject {
  const out: Record<string, SourceValue> = {};
  let enterprise: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(resource)) {
    // Schema URIs are case-insensitive (RFC 7643 §2.1).
    if (name.toLowerCase() === SCIM_ENTERPRISE_USER.toLowerCase() && isObject(value)) {
      enterprise = value;
      continue;
    }
    if (name === 'password') continue;
    defineField(out, name, value as SourceValue);
  }
  for (const [name, value] of Object.entries(enterprise ?? {})) {
    if (!Object.hasOwn(out, name)) defineField(out, name, value as SourceValue);
  }
  return out;
}

/** Defines an own property, so a field named `__proto__` stays a field. */
function defineField(target: Record<string, SourceValue>, name: string, value: SourceValue): void {
  Object.defineProperty(target, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A SCIM error body's status and detail, for a message. */
export function describeScimError(body: Readonly<Record<string, unknown>>): string | undefined {
  const schemas = body['schemas'];
  if (!Array.isArray(schemas) || !schemas.includes(SCIM_ERROR)) return undefined;
  const parts = [
    body['status'] === undefined ? undefined : `status ${String(body['status'])}`,
    typeof body['scimType'] === 'string' ? body['scimType'] : undefined,
    typeof body['detail'] === 'string' ? body['detail'] : undefined,
  ].filter((p) => p !== undefined);
  return `SCIM error${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}
