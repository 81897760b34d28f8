/**
 * The subset of Graph v1.0's `microsoft.graph.group` the simulator models: security groups and
 * Microsoft 365 (unified) groups with assigned membership. One table drives `$select`,
 * rendering, create, update, upsert and the seed.
 *
 * Sources: the group resource, create group, upsert group and update group pages of the Graph
 * v1.0 reference (required properties displayName, mailEnabled, mailNickname, securityEnabled;
 * maximum lengths; mailNickname characters; the default property set as the upsert example's
 * 201 response lists it). Dynamic groups are stored with their rule (checked, never evaluated);
 * mail-enabled security groups are not modelled (see README).
 */
import { graphErrors } from '../errors.js';
import type { DirectoryDocument } from '../store.js';
import type { FilterableProperty, FilterSchema } from './filter.js';
import { membershipRuleProblem } from './membership-rule.js';
import {
  formatDateTimeOffset,
  isPlainObject,
  renderAssignedLicenses,
  validateSeedLicenses,
} from './user-schema.js';

export const GROUP_TYPE = 'microsoft.graph.group';
export const GROUP_RESOURCE = 'Group';

type GroupPropertyKind =
  'string' | 'boolean' | 'stringCollection' | 'dateTimeOffset' | 'json' | 'assignedLicenses';

interface GroupPropertySpec {
  readonly kind: GroupPropertyKind;
  readonly readOnly?: boolean;
  /** Settable on create only (and on an upsert that creates). */
  readonly createOnly?: boolean;
  readonly requiredOnCreate?: boolean;
  readonly notNullable?: boolean;
  readonly maxLength?: number;
  readonly valid?: (value: string) => boolean;
}

// mailNickname: ASCII 0-127 except @ ( ) \ [ ] " ; : < > , and space.
const MAIL_NICKNAME = /^[\x21-\x7e]+$/;
const MAIL_NICKNAME_FORBIDDEN = /[@()\\[\]";:<>,\s]/;

export const GROUP_PROPERTIES: Readonly<Record<string, GroupPropertySpec>> = {
  id: { kind: 'string', readOnly: true },
  deletedDateTime: { kind: 'dateTimeOffset', readOnly: true },
  classification: { kind: 'string' },
  createdDateTime: { kind: 'dateTimeOffset', readOnly: true },
  description: { kind: 'string', maxLength: 1024 },
  displayName: { kind: 'string', requiredOnCreate: true, notNullable: true, maxLength: 256 },
  expirationDateTime: { kind: 'dateTimeOffset', readOnly: true },
  groupTypes: {
    kind: 'stringCollection',
    valid: (v) => v === 'Unified' || v === 'DynamicMembership',
  },
  isAssignableToRole: { kind: 'boolean', createOnly: true },
  mail: { kind: 'string', readOnly: true },
  mailEnabled: { kind: 'boolean', requiredOnCreate: true, notNullable: true },
  mailNickname: {
    kind: 'string',
    requiredOnCreate: true,
    notNullable: true,
    maxLength: 64,
    valid: (v) => MAIL_NICKNAME.test(v) && !MAIL_NICKNAME_FORBIDDEN.test(v),
  },
  // Dynamic groups: the rule is stored and checked (membership-rule.ts), never evaluated.
  membershipRule: { kind: 'string', maxLength: 3072 },
  membershipRuleProcessingState: { kind: 'string', valid: (v) => v === 'On' || v === 'Paused' },
  onPremisesLastSyncDateTime: { kind: 'dateTimeOffset', readOnly: true },
  onPremisesSecurityIdentifier: { kind: 'string', readOnly: true },
  onPremisesSyncEnabled: { kind: 'boolean', readOnly: true },
  preferredDataLocation: { kind: 'string', readOnly: true },
  preferredLanguage: { kind: 'string' },
  proxyAddresses: { kind: 'stringCollection', readOnly: true },
  renewedDateTime: { kind: 'dateTimeOffset', readOnly: true },
  resourceBehaviorOptions: { kind: 'stringCollection', readOnly: true },
  resourceProvisioningOptions: { kind: 'stringCollection', readOnly: true },
  securityEnabled: { kind: 'boolean', requiredOnCreate: true, notNullable: true },
  securityIdentifier: { kind: 'string', readOnly: true },
  theme: { kind: 'string' },
  visibility: {
    kind: 'string',
    valid: (v) => ['public', 'private', 'hiddenmembership'].includes(v.toLowerCase()),
  },
  uniqueName: { kind: 'string', createOnly: true, maxLength: 256 },
  onPremisesProvisioningErrors: { kind: 'json', readOnly: true },
  // Group-based licensing: set through POST /groups/{id}/assignLicense (the seed may set it);
  // "Returned only on $select", so not in the default set.
  assignedLicenses: { kind: 'assignedLicenses', readOnly: true },
};

/** Graph v1.0's default property set for groups, in Graph's output order. */
export const DEFAULT_GROUP_SELECT: readonly string[] = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesLastSyncDateTime',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'visibility',
  'uniqueName',
  'onPremisesProvisioningErrors',
];

const CANONICAL = new Map(Object.keys(GROUP_PROPERTIES).map((n) => [n.toLowerCase(), n]));

export function canonicalGroupProperty(name: string): string | undefined {
  return CANONICAL.get(name.toLowerCase());
}

export function renderGroup(
  group: DirectoryDocument,
  select: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of select) {
    const spec = GROUP_PROPERTIES[name];
    const value = group[name];
    if (spec?.kind === 'assignedLicenses') {
      out[name] = renderAssignedLicenses(value);
    } else if (spec?.kind === 'stringCollection' || name === 'onPremisesProvisioningErrors') {
      out[name] = Array.isArray(value) ? value : [];
    } else {
      out[name] = value ?? null;
    }
  }
  return out;
}

export type GroupWriteMode = 'create' | 'update' | 'seed';

/**
 * Validates a group body (without `@odata.bind` entries, which the caller takes out first)
 * and returns the changes to store. Throws the GraphError Graph would return.
 */
export function validateGroupWrite(
  body: Readonly<Record<string, unknown>>,
  mode: GroupWriteMode,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith('@odata.')) continue;
    const spec = GROUP_PROPERTIES[name];
    if (spec === undefined) throw graphErrors.invalidProperty(name);
    if (spec.readOnly === true && mode !== 'seed') throw graphErrors.readOnlyProperty(name);
    if (spec.createOnly === true && mode === 'update') throw graphErrors.readOnlyProperty(name);
    changes[name] = validateGroupValue(name, spec, value);
  }
  if (mode !== 'update') {
    for (const [name, spec] of Object.entries(GROUP_PROPERTIES)) {
      if (
        spec.requiredOnCreate === true &&
        (changes[name] === undefined || changes[name] === null)
      ) {
        throw graphErrors.propertyRequired(name, GROUP_RESOURCE);
      }
    }
  }
  return changes;
}

function validateGroupValue(name: string, spec: GroupPropertySpec, value: unknown): unknown {
  if (value === null) {
    if (spec.notNullable === true) throw graphErrors.invalidValue(name, GROUP_RESOURCE);
    return null;
  }
  switch (spec.kind) {
    case 'string': {
      if (typeof value !== 'string') {
        throw graphErrors.cannotConvert('Edm.String', JSON.stringify(value));
      }
      const tooLong = spec.maxLength !== undefined && value.length > spec.maxLength;
      const blank = spec.notNullable === true && value.trim() === '';
      if (tooLong || blank || (spec.valid !== undefined && !spec.valid(value))) {
        throw graphErrors.invalidValue(name, GROUP_RESOURCE);
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') {
        throw graphErrors.cannotConvert('Edm.Boolean', JSON.stringify(value));
      }
      return value;
    case 'stringCollection': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw graphErrors.cannotConvert('Collection(Edm.String)', JSON.stringify(value));
      }
      if (spec.valid !== undefined && value.some((v) => !spec.valid?.(v as string))) {
        throw graphErrors.invalidValue(name, GROUP_RESOURCE);
      }
      return value;
    }
    case 'dateTimeOffset': {
      const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(time)) {
        throw graphErrors.cannotConvert('Edm.DateTimeOffset', JSON.stringify(value));
      }
      return formatDateTimeOffset(new Date(time));
    }
    case 'json':
      return value;
    case 'assignedLicenses':
      return validateSeedLicenses(value, GROUP_RESOURCE);
  }
}

/**
 * The rules that span properties: mail-enabled security groups cannot be written; a dynamic
 * group (`groupTypes` has `DynamicMembership`) needs a valid `membershipRule`, and only a
 * dynamic group has one.
 */
export function checkGroupShape(group: Readonly<Record<string, unknown>>): void {
  const types = Array.isArray(group['groupTypes']) ? (group['groupTypes'] as unknown[]) : [];
  const unified = types.includes('Unified');
  if (group['mailEnabled'] === true && !unified) throw graphErrors.mailEnabledSecurityGroup();
  const rule = group['membershipRule'];
  if (types.includes('DynamicMembership')) {
    if (typeof rule !== 'string')
      throw graphErrors.propertyRequired('membershipRule', GROUP_RESOURCE);
    const problem = membershipRuleProblem(rule);
    if (problem !== undefined) throw graphErrors.invalidMembershipRule(problem);
  } else if (rule !== undefined && rule !== null) {
    throw graphErrors.invalidValue('membershipRule', GROUP_RESOURCE);
  }
  if (group['isAssignableToRole'] === true && group['securityEnabled'] !== true) {
    throw graphErrors.invalidValue('isAssignableToRole', GROUP_RESOURCE);
  }
}

/** Properties Entra derives on create: mail and proxyAddresses of unified groups, SID. */
export function derivedGroupProperties(
  group: Readonly<Record<string, unknown>> & { id: string },
  defaultDomain: string,
  createdDateTime: string,
): Record<string, unknown> {
  const unified = Array.isArray(group['groupTypes']) && group['groupTypes'].includes('Unified');
  const nickname = String(group['mailNickname']);
  const dynamic =
    Array.isArray(group['groupTypes']) && group['groupTypes'].includes('DynamicMembership');
  return {
    createdDateTime,
    renewedDateTime: createdDateTime,
    ...(dynamic && group['membershipRuleProcessingState'] == null
      ? { membershipRuleProcessingState: 'On' }
      : {}),
    securityIdentifier: securityIdentifierOf(group.id),
    ...(unified
      ? {
          mail: `${nickname}@${defaultDomain}`,
          proxyAddresses: [`SMTP:${nickname}@${defaultDomain}`],
          visibility: group['visibility'] ?? 'Public',
        }
      : {}),
  };
}

/** Entra's cloud SID for an object id: S-1-12-1 and the GUID's bytes as four uint32s. */
function securityIdentifierOf(id: string): string {
  const hex = id.replace(/-/g, '');
  const bytes = Buffer.from(hex, 'hex');
  // GUID byte order: the first three fields are little-endian in the binary form.
  const binary = Buffer.concat([
    Buffer.from(bytes.subarray(0, 4)).reverse(),
    Buffer.from(bytes.subarray(4, 6)).reverse(),
    Buffer.from(bytes.subarray(6, 8)).reverse(),
    bytes.subarray(8, 16),
  ]);
  const parts = [0, 4, 8, 12].map((offset) => binary.readUInt32LE(offset));
  return `S-1-12-1-${parts.join('-')}`;
}

const HAS_MEMBERS_WITH_LICENSE_ERRORS_SQL = `EXISTS (SELECT 1 FROM links l JOIN objects m ON m.id = l.target_id
  WHERE l.rel = 'member' AND l.source_id = objects.id AND m.kind = 'user' AND m.state = 'active'
  AND EXISTS (SELECT 1 FROM json_each(m.doc, '$.licenseAssignmentStates') s
    WHERE json_extract(s.value, '$.state') = 'Error'
    AND lower(json_extract(s.value, '$.assignedByGroup')) = lower(objects.id)))`;

export const GROUP_FILTER_SCHEMA: FilterSchema = {
  typeName: GROUP_TYPE,
  resourceName: GROUP_RESOURCE,
  properties: [
    { name: 'id', type: 'guid', jsonPath: '$.id', column: 'id', eq: 'default' },
    {
      name: 'displayName',
      type: 'string',
      jsonPath: '$.displayName',
      eq: 'default',
      startsWith: 'default',
      nullValues: 'advanced',
    },
    {
      name: 'mailNickname',
      type: 'string',
      jsonPath: '$.mailNickname',
      eq: 'default',
      startsWith: 'default',
    },
    {
      name: 'mail',
      type: 'string',
      jsonPath: '$.mail',
      eq: 'default',
      startsWith: 'default',
      endsWith: 'advanced',
      nullValues: 'advanced',
    },
    {
      name: 'uniqueName',
      type: 'string',
      jsonPath: '$.uniqueName',
      column: 'key',
      eq: 'default',
      startsWith: 'default',
    },
    { name: 'securityEnabled', type: 'boolean', jsonPath: '$.securityEnabled', eq: 'default' },
    { name: 'mailEnabled', type: 'boolean', jsonPath: '$.mailEnabled', eq: 'default' },
    {
      name: 'isAssignableToRole',
      type: 'boolean',
      jsonPath: '$.isAssignableToRole',
      eq: 'default',
    },
    {
      name: 'onPremisesSyncEnabled',
      type: 'boolean',
      jsonPath: '$.onPremisesSyncEnabled',
      eq: 'default',
    },
    {
      name: 'groupTypes',
      type: 'stringCollection',
      jsonPath: '$.groupTypes',
      eq: 'default',
    },
    {
      name: 'proxyAddresses',
      type: 'stringCollection',
      jsonPath: '$.proxyAddresses',
      eq: 'default',
      startsWith: 'default',
    },
    {
      name: 'assignedLicenses',
      type: 'objectCollection',
      jsonPath: '$.assignedLicenses',
      eq: 'default',
      members: { skuId: 'guid' },
    },
    // Dynamic groups are not modelled: every group's state is null, so `eq 'On'` finds none.
    {
      name: 'membershipRuleProcessingState',
      type: 'string',
      jsonPath: '$.membershipRuleProcessingState',
      eq: 'default',
      nullValues: 'advanced',
    },
    {
      // Computed (group-list example 2): a direct user member holds a license through this
      // group in state Error. Not evaluated on member lists (read from the document there).
      name: 'hasMembersWithLicenseErrors',
      type: 'boolean',
      jsonPath: '$.hasMembersWithLicenseErrors',
      sql: HAS_MEMBERS_WITH_LICENSE_ERRORS_SQL,
      eq: 'default',
    },
  ] satisfies FilterableProperty[],
  knownProperty: canonicalGroupProperty,
};

export { isPlainObject };
