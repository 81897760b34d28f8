#!/usr/bin/env node
/**
 * Writes engine/model/graph-user-properties.ts: the properties of Graph v1.0's
 * `microsoft.graph.user` that entrasync can map, with their types, from Graph's v1.0 CSDL
 * metadata (msgraph-metadata `clean_v10_metadata/cleanMetadata.xml`; the file is not committed
 * here, pass its path):
 *
 *     node scripts/generate-user-properties.mjs path/to/cleanMetadata.xml [out.ts]
 *
 * The CSDL gives names, types and collections but not which properties a client may write: that
 * is in the property descriptions of the user resource ("Read-only."), so it is classified
 * below by hand, with a reason for every property left out. A property of the CSDL that is in no
 * list stops the generator: a new Graph property is a decision, never silently mapped or dropped.
 * Documented limits (maximum lengths, allowed values) are not in the CSDL either; they are
 * listed below from the user resource page.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DEFAULT_OUT = fileURLToPath(
  new URL('../engine/model/graph-user-properties.ts', import.meta.url),
);
const SOURCE = 'microsoftgraph/msgraph-metadata clean_v10_metadata/cleanMetadata.xml';

/** "Read-only" in the user resource's descriptions, or set only by an action. */
const READ_ONLY = [
  'assignedLicenses', // assignLicense action
  'assignedPlans',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'identityParentId',
  'imAddresses',
  'isManagementRestricted',
  'lastPasswordChangeDateTime',
  'legalAgeGroupClassification', // computed from ageGroup and consentProvidedForMinor
  'licenseAssignmentStates',
  'onPremisesDistinguishedName',
  'onPremisesDomainName',
  'onPremisesLastSyncDateTime',
  'onPremisesProvisioningErrors',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'onPremisesUserPrincipalName',
  'provisionedPlans',
  'proxyAddresses',
  'securityIdentifier',
  'serviceProvisioningErrors',
  'signInActivity',
  'signInSessionsValidFromDateTime', // revokeSignInSessions action
];

/** Writable in Graph, but not a mapping target of entrasync, and why. */
const LEFT_OUT = {
  passwordProfile:
    'the initial password is set when entrasync creates an account; a password never comes from config or a source',
  identities:
    'sign-in identities (B2C local and social accounts) are a collection of objects with their own uniqueness rules and permission (User.ManageIdentities.All)',
  mailboxSettings:
    'Exchange mailbox settings, written through /users/{id}/mailboxSettings with MailboxSettings.ReadWrite, not the directory PATCH',
  customSecurityAttributes:
    'custom security attributes need their own permission (CustomSecAttributeAssignment.ReadWrite.All) and attribute-set definitions',
  authorizationInfo:
    'certificateUserIds bind certificates to sign-in: an authentication setting, not profile data',
  userType: 'Member and Guest decide ownership (guests are never touched); not a mapped value',
  showInAddressList:
    '"Do not use in Microsoft Graph": managed through the Microsoft 365 admin center',
  isResourceAccount: '"Do not use – reserved for future use"',
  deviceEnrollmentLimit: 'an Intune setting (device management permissions), not directory data',
  print: 'a printing relationship, not a property of the account',
  aboutMe: 'a SharePoint profile property: Graph updates it only with delegated permissions',
  birthday: 'a SharePoint profile property: Graph updates it only with delegated permissions',
  hireDate: 'a SharePoint profile property (use employeeHireDate)',
  interests: 'a SharePoint profile property: Graph updates it only with delegated permissions',
  mySite: 'a SharePoint profile property: Graph updates it only with delegated permissions',
  pastProjects: 'a SharePoint profile property: Graph updates it only with delegated permissions',
  preferredName: 'a SharePoint profile property: Graph updates it only with delegated permissions',
  responsibilities:
    'a SharePoint profile property: Graph updates it only with delegated permissions',
  schools: 'a SharePoint profile property: Graph updates it only with delegated permissions',
  skills: 'a SharePoint profile property: Graph updates it only with delegated permissions',
};

/** Writable by an application through the directory PATCH, and mapped. */
const WRITABLE = [
  'accountEnabled',
  'ageGroup',
  'businessPhones',
  'city',
  'companyName',
  'consentProvidedForMinor',
  'country',
  'department',
  'displayName',
  'employeeHireDate',
  'employeeId',
  'employeeLeaveDateTime',
  'employeeType',
  'faxNumber',
  'givenName',
  'jobTitle',
  'mail',
  'mailNickname',
  'mobilePhone',
  'officeLocation',
  'onPremisesImmutableId',
  'otherMails',
  'passwordPolicies',
  'postalCode',
  'preferredDataLocation',
  'preferredLanguage',
  'state',
  'streetAddress',
  'surname',
  'usageLocation',
  'userPrincipalName',
];

/** Complex properties mapped by dotted path, one entry per subfield. */
const COMPLEX = ['employeeOrgData', 'onPremisesExtensionAttributes'];

/** Documented limits and allowed values (user resource page), by flattened path. */
const LIMITS = {
  displayName: { maxLength: 256 },
  givenName: { maxLength: 64 },
  surname: { maxLength: 64 },
  jobTitle: { maxLength: 128 },
  department: { maxLength: 64 },
  companyName: { maxLength: 64 },
  employeeId: { maxLength: 16 },
  employeeType: { maxLength: 64 },
  officeLocation: { maxLength: 128 },
  mobilePhone: { maxLength: 64 },
  businessPhones: { maxLength: 64, maxItems: 1 },
  city: { maxLength: 128 },
  country: { maxLength: 128 },
  state: { maxLength: 128 },
  postalCode: { maxLength: 40 },
  streetAddress: { maxLength: 1024 },
  mail: { maxLength: 256 },
  mailNickname: { maxLength: 64 },
  userPrincipalName: { maxLength: 113 },
  onPremisesImmutableId: { maxLength: 256 },
  otherMails: { maxLength: 250, maxItems: 250 },
  ageGroup: { values: ['Minor', 'NotAdult', 'Adult'] },
  consentProvidedForMinor: { values: ['Granted', 'Denied', 'NotRequired'] },
  usageLocation: { maxLength: 2 },
  ...Object.fromEntries(
    Array.from({ length: 15 }, (_, i) => [
      `onPremisesExtensionAttributes.extensionAttribute${i + 1}`,
      { maxLength: 1024 },
    ]),
  ),
};

/** Collections Graph keeps as sets: compared without regard to order. */
const SETS = ['businessPhones', 'otherMails'];

const PRIMITIVES = {
  'Edm.String': 'String',
  'Edm.Boolean': 'Boolean',
  'Edm.Int32': 'Int32',
  'Edm.DateTimeOffset': 'DateTimeOffset',
};

function block(xml, kind, name) {
  const start = xml.indexOf(`<${kind} Name="${name}"`);
  if (start < 0) throw new Error(`${kind} ${name} not found in the metadata`);
  const end = xml.indexOf(`</${kind}>`, start);
  return xml.slice(start, end);
}

function propertiesOf(text) {
  return [...text.matchAll(/<Property Name="([^"]+)" Type="([^"]+)"/g)].map((m) => ({
    name: m[1],
    type: m[2],
  }));
}

function typeOf(path, csdlType) {
  const collection = csdlType.startsWith('Collection(');
  const inner = collection ? csdlType.slice('Collection('.length, -1) : csdlType;
  const primitive = PRIMITIVES[inner];
  if (!primitive) throw new Error(`${path}: type ${csdlType} has no mapping`);
  return {
    type: primitive,
    ...(collection ? { collection: true } : {}),
    ...(SETS.includes(path) ? { set: true } : {}),
    ...LIMITS[path],
  };
}

function generate(xml) {
  const user = propertiesOf(block(xml, 'EntityType', 'user'));
  const known = new Set([...READ_ONLY, ...Object.keys(LEFT_OUT), ...COMPLEX, ...WRITABLE]);
  const unclassified = user.map((p) => p.name).filter((n) => !known.has(n));
  if (unclassified.length > 0) {
    throw new Error(
      `user properties in no list (writable, read-only or left out): ${unclassified.join(', ')}`,
    );
  }
  const writable = {};
  for (const { name, type } of user) {
    if (READ_ONLY.includes(name) || name in LEFT_OUT) continue;
    if (COMPLEX.includes(name)) {
      for (const sub of propertiesOf(block(xml, 'ComplexType', type.replace(/^graph\./, '')))) {
        writable[`${name}.${sub.name}`] = typeOf(`${name}.${sub.name}`, sub.type);
      }
      continue;
    }
    if (!type.startsWith('Edm.') && !type.startsWith('Collection(Edm.')) {
      throw new Error(`${name} (${type}) is complex: map it by subfield (COMPLEX) or leave it out`);
    }
    writable[name] = typeOf(name, type);
  }
  const missing = [...known].filter((n) => !user.some((p) => p.name === n));
  if (missing.length > 0) throw new Error(`not in the metadata any more: ${missing.join(', ')}`);
  return { writable, names: user.map((p) => p.name) };
}

function render({ writable, names }) {
  const sortKey = (path) =>
    path.replace(/extensionAttribute(\d+)$/, (_, n) => `extensionAttribute${n.padStart(2, '0')}`);
  const entries = Object.entries(writable)
    .sort(([a], [b]) => (sortKey(a) < sortKey(b) ? -1 : 1))
    .map(([path, spec]) => `  '${path}': ${JSON.stringify(spec).replace(/"(\w+)":/g, '$1: ')},`);
  const leftOut = Object.entries(LEFT_OUT).map(([n, why]) => `  ${n}: ${JSON.stringify(why)},`);
  return `// Generated by scripts/generate-user-properties.mjs from ${SOURCE}; do not edit.
/**
 * The properties of Graph v1.0's \`microsoft.graph.user\` a mapping may set, by flattened path
 * (complex properties by subfield: \`employeeOrgData.costCenter\`), with their Graph types and
 * documented limits. Directory extensions (\`extension_<appId>_<name>\`) are not here: their
 * types come from the tenant (\`extensionProperties\`). The simulator models each property.
 */
export type GraphPrimitive = 'String' | 'Boolean' | 'Int32' | 'DateTimeOffset';

export interface GraphUserProperty {
  readonly type: GraphPrimitive;
  /** A collection of \`type\`. */
  readonly collection?: true;
  /** A collection Graph keeps as a set: order carries no meaning. */
  readonly set?: true;
  /** Documented maximum length (of each item, for a collection). */
  readonly maxLength?: number;
  /** Documented most items of a collection. */
  readonly maxItems?: number;
  /** Allowed values (compared without regard to case, as Graph does). */
  readonly values?: readonly string[];
}

export const WRITABLE_USER_PROPERTIES: Readonly<Record<string, GraphUserProperty>> = {
${entries.join('\n')}
};

/** Writable in Graph but not mapped by entrasync, with the reason. */
export const LEFT_OUT_USER_PROPERTIES: Readonly<Record<string, string>> = {
${leftOut.join('\n')}
};

/** Read-only in Graph (or set by an action such as assignLicense). */
export const READ_ONLY_USER_PROPERTIES: readonly string[] = ${JSON.stringify([...READ_ONLY].sort())};

/** Every property of the user entity in the metadata the table was generated from. */
export const METADATA_USER_PROPERTIES: readonly string[] = ${JSON.stringify(names)};
`;
}

const [input, out = DEFAULT_OUT] = process.argv.slice(2);
if (!input) {
  process.stderr.write(
    'usage: node scripts/generate-user-properties.mjs <cleanMetadata.xml> [out.ts]\n',
  );
  process.exit(2);
}
try {
  writeFileSync(out, render(generate(readFileSync(input, 'utf8'))));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stdout.write(`wrote ${out}\n`);
