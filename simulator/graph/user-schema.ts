/**
 * The subset of Graph v1.0's `microsoft.graph.user` the simulator models, and the validation
 * Entra applies to writes of it. One table drives `$select`, rendering, create, update and the
 * seed, so a property behaves the same on every path.
 *
 * Sources: the user resource, create user and update user pages of the Graph v1.0 reference
 * (property types, documented maximum lengths, required-on-create, read-only), and Graph's
 * observed error bodies (see ../errors.ts). Constraints Graph documents but the simulator does
 * not model (per-property lifecycle permissions) are listed
 * in the README.
 */
import { graphErrors } from '../errors.js';
import { assignmentStatesOf } from '../licensing.js';
import { validateIdentities } from './identities.js';
import type { ExtensionLookup } from './user-extensions.js';
import type { PropertySpec } from './user-properties.js';
import { generatedProperties } from './user-properties.js';
import {
  canonicalExtensionName,
  isExtensionName,
  validateExtensionValue,
} from './user-extensions.js';
import type { UserDocument } from '../store.js';
import type { FilterableProperty, FilterSchema, Support } from './filter.js';

export const USER_TYPE = 'microsoft.graph.user';
export const USER_RESOURCE = 'User';
const EXTENSION_ATTRIBUTES_TYPE = 'microsoft.graph.onPremisesExtensionAttributes';
const EMPLOYEE_ORG_DATA_TYPE = 'microsoft.graph.employeeOrgData';
const PASSWORD_PROFILE_TYPE = 'microsoft.graph.passwordProfile';

// mailNickname may not contain these (Entra's alias rules): @ ( ) \ [ ] " ; : < > , and space.
const MAIL_NICKNAME_FORBIDDEN = /[@()\\[\]";:<>,\s]/;
// UPN: one @, a non-empty local part of Entra's allowed characters, a dotted domain.
const UPN_PATTERN =
  /^[A-Za-z0-9'.\-_!#^~]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export const USER_PROPERTIES: Readonly<Record<string, PropertySpec>> = {
  // The rest of Graph's writable properties; the entries below refine or add to them.
  ...generatedProperties(),
  id: { kind: 'string', readOnly: true },
  userPrincipalName: {
    kind: 'string',
    requiredOnCreate: true,
    notNullable: true,
    maxLength: 113,
    valid: (v) => UPN_PATTERN.test(v) && !v.startsWith('.') && !v.includes('.@'),
  },
  displayName: { kind: 'string', requiredOnCreate: true, notNullable: true, maxLength: 256 },
  givenName: { kind: 'string', maxLength: 64 },
  surname: { kind: 'string', maxLength: 64 },
  mail: { kind: 'string', maxLength: 256, valid: (v) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) },
  mailNickname: {
    kind: 'string',
    requiredOnCreate: true,
    notNullable: true,
    maxLength: 64,
    valid: (v) => v.length > 0 && !MAIL_NICKNAME_FORBIDDEN.test(v),
  },
  accountEnabled: { kind: 'boolean', requiredOnCreate: true, notNullable: true },
  jobTitle: { kind: 'string', maxLength: 128 },
  department: { kind: 'string', maxLength: 64 },
  companyName: { kind: 'string', maxLength: 64 },
  employeeId: { kind: 'string', maxLength: 16 },
  employeeType: { kind: 'string', maxLength: 64 },
  officeLocation: { kind: 'string', maxLength: 128 },
  usageLocation: { kind: 'string', valid: (v) => /^[A-Za-z]{2}$/.test(v), cloudMastered: true },
  mobilePhone: { kind: 'string', maxLength: 64 },
  // "Although this is a string collection, only one number can be set for this property."
  businessPhones: { kind: 'stringCollection', maxLength: 64, maxItems: 1 },
  city: { kind: 'string', maxLength: 128 },
  country: { kind: 'string', maxLength: 128 },
  postalCode: { kind: 'string', maxLength: 40 },
  streetAddress: { kind: 'string', maxLength: 1024 },
  state: { kind: 'string', maxLength: 128 },
  preferredLanguage: {
    kind: 'string',
    valid: (v) => /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/.test(v),
    cloudMastered: true,
  },
  // "The $ and _ characters cannot be used when specifying this property."
  onPremisesImmutableId: { kind: 'string', maxLength: 256, valid: (v) => !/[$_]/.test(v) },
  onPremisesSyncEnabled: { kind: 'boolean', readOnly: true },
  onPremisesExtensionAttributes: { kind: 'extensionAttributes' },
  userType: { kind: 'string', notNullable: true, valid: (v) => v === 'Member' || v === 'Guest' },
  createdDateTime: { kind: 'dateTimeOffset', readOnly: true },
  employeeHireDate: { kind: 'dateTimeOffset' },
  employeeLeaveDateTime: { kind: 'dateTimeOffset', cloudMastered: true },
  passwordProfile: { kind: 'passwordProfile', requiredOnCreate: true },
  // Set through assignLicense (directly) and group-based licensing; the seed may set direct
  // licenses. One entry per SKU held, as Graph shows it.
  assignedLicenses: { kind: 'assignedLicenses', readOnly: true },
  // One entry per assignment path (direct or per group), kept by the store: see licensing.ts.
  licenseAssignmentStates: { kind: 'licenseAssignmentStates', readOnly: true, derived: true },
  // Set by revokeSignInSessions ("Read-only. Returned only on $select.").
  signInSessionsValidFromDateTime: { kind: 'dateTimeOffset', readOnly: true },
  deletedDateTime: { kind: 'dateTimeOffset', readOnly: true },
  // "Read-only in Microsoft Graph"; Entra adds the mail as the primary SMTP: address (users.ts).
  // Unique across users and groups (../addresses.ts). Returned only on $select.
  proxyAddresses: { kind: 'stringCollection', readOnly: true },
  // objectIdentity entries; the userPrincipalName one follows the UPN (identities.ts).
  // "Returned only on $select."
  identities: { kind: 'identities', notNullable: true },
};

/** Graph v1.0's default property set for users, in Graph's output order. */
export const DEFAULT_USER_SELECT: readonly string[] = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

const CANONICAL_NAMES = new Map(Object.keys(USER_PROPERTIES).map((n) => [n.toLowerCase(), n]));

/** `$select` names are case-insensitive in Graph; returns the canonical name or undefined. */
export function canonicalUserProperty(name: string): string | undefined {
  return CANONICAL_NAMES.get(name.toLowerCase()) ?? canonicalExtensionName(name);
}

export const EXTENSION_ATTRIBUTE_NAMES: readonly string[] = Array.from(
  { length: 15 },
  (_, i) => `extensionAttribute${i + 1}`,
);

/** A user as Graph returns it for the given property names (unset properties are null). */
export function renderUser(user: UserDocument, select: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of select) {
    // A directory extension shows only when set (Graph leaves an unset one out).
    if (isExtensionName(name)) {
      if (user[name] !== undefined && user[name] !== null) out[name] = user[name];
      continue;
    }
    out[name] = renderProperty(user, name);
  }
  return out;
}

function renderProperty(user: UserDocument, name: string): unknown {
  const value = user[name];
  switch (USER_PROPERTIES[name]?.kind) {
    case 'stringCollection':
    case 'identities':
      return Array.isArray(value) ? value : [];
    case 'assignedLicenses':
      return renderAssignedLicenses(value);
    case 'licenseAssignmentStates':
      // Graph's property order (licenseAssignmentState resource); error is "None" when the
      // assignment succeeded (as Graph answers, although the page says null).
      return assignmentStatesOf(user).map((state) => ({
        assignedByGroup: state.assignedByGroup,
        disabledPlans: state.disabledPlans,
        error: state.error,
        lastUpdatedDateTime: state.lastUpdatedDateTime,
        skuId: state.skuId,
        state: state.state,
      }));
    case 'extensionAttributes': {
      const stored = isPlainObject(value) ? value : {};
      return Object.fromEntries(EXTENSION_ATTRIBUTE_NAMES.map((n) => [n, stored[n] ?? null]));
    }
    case 'employeeOrgData':
      return isPlainObject(value)
        ? { costCenter: value['costCenter'] ?? null, division: value['division'] ?? null }
        : null;
    case 'passwordProfile': {
      // Graph never returns a password; the simulator never stored one.
      const stored = isPlainObject(value) ? value : undefined;
      return stored === undefined
        ? null
        : {
            password: null,
            forceChangePasswordNextSignIn: stored['forceChangePasswordNextSignIn'] ?? false,
            forceChangePasswordNextSignInWithMfa:
              stored['forceChangePasswordNextSignInWithMfa'] ?? false,
          };
    }
    default:
      return value ?? null;
  }
}

/** `assignedLicenses` of a user or group as Graph renders it: `[{ disabledPlans, skuId }]`. */
export function renderAssignedLicenses(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.map((l: unknown) => {
        const license = isPlainObject(l) ? l : {};
        return {
          disabledPlans: Array.isArray(license['disabledPlans']) ? license['disabledPlans'] : [],
          skuId: license['skuId'] ?? null,
        };
      })
    : [];
}

/**
 * The stored form of a user: unset properties (null) are omitted, and so are unset extension
 * attributes; both read back as null.
 */
export function compactUser(user: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(user)) {
    if (value === null || value === undefined) continue;
    if (
      (name === 'onPremisesExtensionAttributes' || name === 'employeeOrgData') &&
      isPlainObject(value)
    ) {
      const kept = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
      if (kept.length > 0) out[name] = Object.fromEntries(kept);
      continue;
    }
    out[name] = value;
  }
  return out;
}

export type WriteMode = 'create' | 'update' | 'seed';

/**
 * Validates a request body (or seed entry) and returns the changes to store, in stored form:
 * dates normalised, the password dropped, extension attributes as given (merged by the
 * caller on update). Throws the GraphError Graph would return for the first problem found.
 */
export function validateUserWrite(
  body: Readonly<Record<string, unknown>>,
  mode: WriteMode,
  extensions?: ExtensionLookup,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    // OData control information such as "@odata.type" is accepted and not stored.
    if (name.startsWith('@odata.')) continue;
    if (isExtensionName(name)) {
      const checked = validateExtensionValue(name, value, extensions);
      changes[checked.name] = checked.value;
      continue;
    }
    const spec = USER_PROPERTIES[name];
    if (spec === undefined) throw graphErrors.invalidProperty(name);
    if (spec.derived === true || (spec.readOnly === true && mode !== 'seed')) {
      throw graphErrors.readOnlyProperty(name);
    }
    changes[name] = validateValue(name, spec, value, mode);
  }
  if (mode !== 'update') {
    for (const [name, spec] of Object.entries(USER_PROPERTIES)) {
      if (spec.requiredOnCreate !== true) continue;
      // Seeded users need no password: nothing will ever sign in with it.
      if (mode === 'seed' && spec.kind === 'passwordProfile') continue;
      if (changes[name] === undefined || changes[name] === null) {
        throw graphErrors.propertyRequired(name, USER_RESOURCE);
      }
    }
  }
  return changes;
}

/** Properties in `changes` that Graph refuses to write on a directory-synced user. */
export function onPremisesMasteredIn(changes: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(changes).filter((n) => USER_PROPERTIES[n]?.cloudMastered !== true);
}

function validateValue(name: string, spec: PropertySpec, value: unknown, mode: WriteMode): unknown {
  if (value === null) {
    if (spec.notNullable === true || spec.kind === 'passwordProfile') {
      throw graphErrors.invalidValue(name, USER_RESOURCE);
    }
    return null;
  }
  switch (spec.kind) {
    case 'string': {
      if (typeof value !== 'string') throw graphErrors.cannotConvert('Edm.String', literal(value));
      const tooLong = spec.maxLength !== undefined && value.length > spec.maxLength;
      const blankRequired = spec.notNullable === true && value.trim() === '';
      if (tooLong || blankRequired || (spec.valid !== undefined && !spec.valid(value))) {
        throw graphErrors.invalidValue(name, USER_RESOURCE);
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean')
        throw graphErrors.cannotConvert('Edm.Boolean', literal(value));
      return value;
    case 'stringCollection': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw graphErrors.cannotConvert('Collection(Edm.String)', literal(value));
      }
      const strings = value as string[];
      if (
        strings.length > (spec.maxItems ?? Infinity) ||
        strings.some((v) => v.length > (spec.maxLength ?? Infinity))
      ) {
        throw graphErrors.invalidValue(name, USER_RESOURCE);
      }
      return strings;
    }
    case 'dateTimeOffset':
      return normaliseDateTimeOffset(value);
    case 'extensionAttributes':
      return validateExtensionAttributes(value);
    case 'employeeOrgData':
      return validateEmployeeOrgData(value);
    case 'passwordProfile':
      return validatePasswordProfile(value, mode);
    case 'assignedLicenses':
      return validateSeedLicenses(value, USER_RESOURCE);
    case 'licenseAssignmentStates':
      throw graphErrors.readOnlyProperty(name);
    case 'identities':
      return validateIdentities(value);
  }
}

/** Seeds may give users and groups licenses: `[{ skuId, disabledPlans? }]`. */
export function validateSeedLicenses(
  value: unknown,
  resource: string,
): { skuId: string; disabledPlans: string[] }[] {
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!Array.isArray(value))
    throw graphErrors.cannotConvert('Collection(microsoft.graph.assignedLicense)', literal(value));
  return value.map((entry: unknown) => {
    const license = isPlainObject(entry) ? entry : {};
    const skuId = license['skuId'];
    const disabled = license['disabledPlans'] ?? [];
    if (
      typeof skuId !== 'string' ||
      !guid.test(skuId) ||
      !Array.isArray(disabled) ||
      disabled.some((p) => typeof p !== 'string' || !guid.test(p))
    ) {
      throw graphErrors.invalidValue('assignedLicenses', resource);
    }
    return {
      skuId: skuId.toLowerCase(),
      disabledPlans: (disabled as string[]).map((p) => p.toLowerCase()),
    };
  });
}

function validateExtensionAttributes(value: unknown): Record<string, string | null> {
  if (!isPlainObject(value)) {
    throw graphErrors.cannotConvert(EXTENSION_ATTRIBUTES_TYPE, literal(value));
  }
  const out: Record<string, string | null> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('@odata.')) continue;
    if (!EXTENSION_ATTRIBUTE_NAMES.includes(key)) {
      throw graphErrors.unknownComplexProperty(key, EXTENSION_ATTRIBUTES_TYPE);
    }
    if (v !== null && typeof v !== 'string') {
      throw graphErrors.cannotConvert('Edm.String', literal(v));
    }
    if (typeof v === 'string' && v.length > 1024) {
      throw graphErrors.invalidValue('onPremisesExtensionAttributes', USER_RESOURCE);
    }
    out[key] = v;
  }
  return out;
}

/** `employeeOrgData`: `costCenter` and `division`, each a string or null (merged on update). */
function validateEmployeeOrgData(value: unknown): Record<string, string | null> {
  if (!isPlainObject(value))
    throw graphErrors.cannotConvert(EMPLOYEE_ORG_DATA_TYPE, literal(value));
  const out: Record<string, string | null> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('@odata.')) continue;
    if (key !== 'costCenter' && key !== 'division') {
      throw graphErrors.unknownComplexProperty(key, EMPLOYEE_ORG_DATA_TYPE);
    }
    if (v !== null && typeof v !== 'string')
      throw graphErrors.cannotConvert('Edm.String', literal(v));
    out[key] = v;
  }
  return out;
}

/**
 * Returns the profile to store: the flags only. The password is checked against Entra's
 * default policy (8-256 characters, three of lower, upper, digit, symbol) and then dropped;
 * it is never echoed in an error.
 */
function validatePasswordProfile(value: unknown, mode: WriteMode): Record<string, boolean> {
  if (!isPlainObject(value)) throw graphErrors.cannotConvert(PASSWORD_PROFILE_TYPE, undefined);
  const stored: Record<string, boolean> = {};
  let password: unknown;
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('@odata.')) continue;
    if (key === 'password') {
      password = v;
    } else if (
      key === 'forceChangePasswordNextSignIn' ||
      key === 'forceChangePasswordNextSignInWithMfa'
    ) {
      if (v === null) continue;
      if (typeof v !== 'boolean') throw graphErrors.cannotConvert('Edm.Boolean', literal(v));
      stored[key] = v;
    } else {
      throw graphErrors.unknownComplexProperty(key, PASSWORD_PROFILE_TYPE);
    }
  }
  if (password === undefined || password === null) {
    if (mode === 'seed') return stored;
    throw graphErrors.propertyRequired('passwordProfile', USER_RESOURCE);
  }
  if (typeof password !== 'string') throw graphErrors.cannotConvert('Edm.String', undefined);
  if (!meetsPasswordPolicy(password)) throw graphErrors.passwordComplexity();
  return stored;
}

function meetsPasswordPolicy(password: string): boolean {
  if (password.length < 8 || password.length > 256) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password));
  return classes.length >= 3;
}

// Edm.DateTimeOffset: a full ISO 8601 date-time with a zone. Graph returns it as
// 2024-01-31T09:00:00Z (UTC, no fraction when zero).
const DATE_TIME_OFFSET =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function normaliseDateTimeOffset(value: unknown): string {
  if (typeof value !== 'string' || !DATE_TIME_OFFSET.test(value)) {
    throw graphErrors.cannotConvert('Edm.DateTimeOffset', literal(value));
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw graphErrors.cannotConvert('Edm.DateTimeOffset', literal(value));
  return formatDateTimeOffset(new Date(time));
}

/** Now (or `nowMs`), to the second, as Graph stamps `createdDateTime`. */
export function nowDateTimeOffset(nowMs: number = Date.now()): string {
  return formatDateTimeOffset(new Date(Math.floor(nowMs / 1000) * 1000));
}

export function formatDateTimeOffset(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

function literal(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `$filter` support per user property, from Graph's advanced-queries table
 * (https://learn.microsoft.com/graph/aad-advanced-queries): `default` works on any request,
 * `advanced` needs `ConsistencyLevel: eventual` and `$count=true`; absent means unsupported.
 * `in` follows `eq`; `ne` and `not` always need advanced queries.
 */
function userFilterProperties(): FilterableProperty[] {
  const text = (
    name: string,
    eq: Support,
    startsWith: Support | undefined,
    extra: Partial<FilterableProperty> = {},
  ): FilterableProperty => ({
    name,
    type: 'string',
    jsonPath: `$.${name}`,
    eq,
    ...(startsWith === undefined ? {} : { startsWith }),
    nullValues: 'advanced',
    ...extra,
  });
  return [
    { name: 'id', type: 'guid', jsonPath: '$.id', column: 'id', eq: 'default' },
    text('userPrincipalName', 'default', 'default', {
      column: 'key',
      endsWith: 'advanced',
      nullValues: undefined,
    }),
    text('mail', 'default', 'default', { endsWith: 'advanced' }),
    text('mailNickname', 'default', 'default'),
    text('displayName', 'default', 'default'),
    text('givenName', 'default', 'default'),
    text('surname', 'default', 'default'),
    text('department', 'default', 'default'),
    text('jobTitle', 'default', 'default'),
    text('city', 'default', 'default'),
    text('country', 'default', 'default'),
    text('state', 'default', 'default'),
    text('usageLocation', 'default', 'default'),
    text('employeeId', 'default', 'default'),
    text('userType', 'default', undefined),
    text('companyName', 'advanced', 'advanced'),
    text('employeeType', 'advanced', 'advanced'),
    text('officeLocation', 'advanced', 'advanced'),
    text('mobilePhone', 'advanced', 'advanced'),
    text('postalCode', 'advanced', 'advanced'),
    text('preferredLanguage', 'advanced', 'advanced'),
    text('streetAddress', 'advanced', 'advanced'),
    text('onPremisesImmutableId', 'advanced', undefined),
    { name: 'accountEnabled', type: 'boolean', jsonPath: '$.accountEnabled', eq: 'default' },
    {
      name: 'onPremisesSyncEnabled',
      type: 'boolean',
      jsonPath: '$.onPremisesSyncEnabled',
      eq: 'default',
      nullValues: 'advanced',
    },
    {
      name: 'businessPhones',
      type: 'stringCollection',
      jsonPath: '$.businessPhones',
      eq: 'default',
    },
    {
      name: 'assignedLicenses',
      type: 'objectCollection',
      jsonPath: '$.assignedLicenses',
      eq: 'default',
      members: { skuId: 'guid' },
    },
    {
      name: 'identities',
      type: 'objectCollection',
      jsonPath: '$.identities',
      eq: 'default',
      members: { issuer: 'string', issuerAssignedId: 'string' },
      signInRules: true,
    },
    ...EXTENSION_ATTRIBUTE_NAMES.map((n): FilterableProperty => ({
      name: `onPremisesExtensionAttributes/${n}`,
      type: 'string',
      jsonPath: `$.onPremisesExtensionAttributes.${n}`,
      eq: 'advanced',
      nullValues: 'advanced',
    })),
  ];
}

export const USER_FILTER_SCHEMA: FilterSchema = {
  typeName: USER_TYPE,
  resourceName: USER_RESOURCE,
  properties: userFilterProperties(),
  knownProperty: canonicalUserProperty,
};
