/**
 * The `users` section of the config language: which Graph attributes a mapping may set (Graph's
 * writable user properties, `engine/model/graph-user-properties.ts`, and directory extensions
 * `extension_<appId>_<name>`), the anchor, matching and deprovisioning.
 */
import { OnboardingConfig } from './onboarding-schema.js';
import { Type, type Static, type TOptional, type TSchema, type TString } from '@sinclair/typebox';
import type { WRITABLE_USER_PROPERTIES } from '../engine/model/graph-user-properties.js';
import { ExpressionString, StringEnum } from './schema-slots.js';

export const DEFAULT_DEPROVISION_STATE_ATTRIBUTE = 'extensionAttribute14';
const EXTENSION_NUMBERS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] as const;
export type ExtensionAttributeName = `extensionAttribute${(typeof EXTENSION_NUMBERS)[number]}`;
export const EXTENSION_ATTRIBUTES: readonly ExtensionAttributeName[] = EXTENSION_NUMBERS.map(
  (n) => `extensionAttribute${n}` as const,
);

/** Graph path of an extension attribute, as the engine addresses attributes. */
export function flattenExtensionAttribute(name: ExtensionAttributeName): string {
  return `onPremisesExtensionAttributes.${name}`;
}

const USER_ATTRIBUTE_DESCRIPTIONS = {
  givenName: 'Given (first) name.',
  surname: 'Family name.',
  displayName: 'Name shown in address lists and the portal. Required.',
  mail: 'Primary SMTP address.',
  mailNickname: 'Mail alias.',
  userPrincipalName:
    'Sign-in name, `name@domain`, where the domain is verified in the tenant. Required.',
  accountEnabled: 'Whether the account can sign in; the expression yields a boolean.',
  jobTitle: 'Job title.',
  department: 'Department.',
  companyName: 'Company name.',
  employeeId:
    'Employee identifier from HR. When `anchorAttribute` is `employeeId`, the anchor sets it: leave it out here.',
  employeeType: 'Employment type, e.g. `Employee`, `Contractor`.',
  employeeHireDate: 'Hire date, ISO 8601 date-time.',
  employeeLeaveDateTime: 'Leave date, ISO 8601 date-time.',
  officeLocation: 'Office location.',
  usageLocation:
    'Two-letter country code (ISO 3166-1 alpha-2); needed before licenses can be assigned.',
  mobilePhone: 'Mobile phone number.',
  businessPhones: 'Business phone numbers: a list (Graph keeps one).',
  city: 'City.',
  country: 'Country or region.',
  state: 'State or province.',
  postalCode: 'Postal code.',
  streetAddress: 'Street address.',
  preferredLanguage: 'Preferred language, ISO 639-1 with region, e.g. `en-US`.',
  onPremisesImmutableId:
    'Immutable id (source anchor) used by federated sign-in. When `anchorAttribute` is `onPremisesImmutableId`, the anchor sets it.',
  faxNumber: 'Fax number.',
  otherMails: 'Additional email addresses: a list, compared as a set (order does not matter).',
  'employeeOrgData.costCenter': 'Cost center of the organization data (`employeeOrgData`).',
  'employeeOrgData.division': 'Division of the organization data (`employeeOrgData`).',
  ageGroup:
    'Age group: `Minor`, `NotAdult` or `Adult` (any case, as Graph accepts); empty clears it.',
  consentProvidedForMinor:
    'Whether consent was obtained for a minor: `Granted`, `Denied` or `NotRequired`.',
  passwordPolicies:
    'Password policies: `DisablePasswordExpiration`, `DisableStrongPassword`, both comma-separated, or `None`.',
  preferredDataLocation: 'Preferred data location (Multi-Geo), e.g. `EUR`.',
} as const satisfies Readonly<
  Record<
    Exclude<keyof typeof WRITABLE_USER_PROPERTIES, `onPremisesExtensionAttributes.${string}`>,
    string
  >
>;

export type UserAttributeName =
  | keyof typeof USER_ATTRIBUTE_DESCRIPTIONS
  | `onPremisesExtensionAttributes.${ExtensionAttributeName}`;

/**
 * A directory extension registered by an application: `extension_<appId without dashes>_<name>`.
 * Its type comes from the tenant's `extensionProperties` at plan time.
 */
export const DIRECTORY_EXTENSION_PATTERN = '^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$';
const DIRECTORY_EXTENSION = new RegExp(DIRECTORY_EXTENSION_PATTERN);

export function isDirectoryExtension(attribute: string): boolean {
  return DIRECTORY_EXTENSION.test(attribute);
}

const REQUIRED_USER_ATTRIBUTES = ['userPrincipalName', 'displayName'] as const;

type UserAttributeProperties = {
  userPrincipalName: TString;
  displayName: TString;
} & {
  [K in Exclude<UserAttributeName, (typeof REQUIRED_USER_ATTRIBUTES)[number]>]: TOptional<TString>;
};

function userAttributeProperties(): UserAttributeProperties {
  const props: Record<string, TSchema> = {};
  for (const [name, description] of Object.entries(USER_ATTRIBUTE_DESCRIPTIONS)) {
    const required = (REQUIRED_USER_ATTRIBUTES as readonly string[]).includes(name);
    const expr =
      name === 'accountEnabled'
        ? ExpressionString(description, { default: 'true' })
        : ExpressionString(description);
    props[name] = required ? expr : Type.Optional(expr);
  }
  for (const ext of EXTENSION_ATTRIBUTES) {
    props[flattenExtensionAttribute(ext)] = Type.Optional(
      ExpressionString(`Extension attribute \`${ext}\` of \`onPremisesExtensionAttributes\`.`),
    );
  }
  return props as UserAttributeProperties;
}

/** Every Graph user attribute the mapping may set, by flattened path. */
export const USER_ATTRIBUTE_NAMES: readonly UserAttributeName[] = [
  ...(Object.keys(USER_ATTRIBUTE_DESCRIPTIONS) as (keyof typeof USER_ATTRIBUTE_DESCRIPTIONS)[]),
  ...EXTENSION_ATTRIBUTES.map((e) => flattenExtensionAttribute(e) as UserAttributeName),
];

const UserAttributesObject = Type.Object(userAttributeProperties(), {
  additionalProperties: false,
  patternProperties: {
    [DIRECTORY_EXTENSION_PATTERN]: ExpressionString(
      'A directory extension `extension_<appId>_<name>` of an application in the tenant; checked against its `extensionProperties` when planning (needs Application.Read.All), and typed by its `dataType`.',
    ),
  },
  description:
    'Graph user attribute -> JSONata expression evaluated against the person (the primary record, other sources as `$name`). `userPrincipalName` and `displayName` are required. Complex properties by subfield (`employeeOrgData.costCenter`); directory extensions as `extension_<appId>_<name>`.',
});
export const UserAttributesConfig = UserAttributesObject;
export type UserAttributesConfig = Static<typeof UserAttributesObject> &
  Partial<Record<`extension_${string}`, string>>;

export const ANCHOR_ATTRIBUTES = [
  'employeeId',
  'onPremisesImmutableId',
  ...EXTENSION_ATTRIBUTES,
] as const;
export type AnchorAttribute = (typeof ANCHOR_ATTRIBUTES)[number];

export const MATCH_RULES = ['anchor', 'userPrincipalName', 'mail'] as const;

const Days = (description: string, defaultValue?: number) =>
  Type.Integer({
    minimum: 0,
    maximum: 3650,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

export const DeprovisionConfig = Type.Object(
  {
    action: Type.Optional(
      StringEnum(['disable', 'delete', 'none'] as const, {
        default: 'disable',
        description:
          'What happens at once to a managed account whose person left the sources or the scope: `disable` (block sign-in; later stages below), `delete` (to the recycle bin, restorable for 30 days) or `none`.',
      }),
    ),
    revokeSessions: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          'Revoke sign-in sessions (refresh tokens, session cookies) when disabling. The disable then records its date (`stateAttribute`), and a revoke that did not take effect (`signInSessionsValidFromDateTime` older than that date) is sent again by the next plan.',
      }),
    ),
    removeAccessAfterDays: Type.Optional(
      Days(
        'Days after the disable when memberships of managed groups and licenses from `licenses` rules are removed. `0`: with the disable.',
        0,
      ),
    ),
    deleteAfterDays: Type.Optional(
      Days(
        "Days after the disable when the account is deleted (to the recycle bin). Absent: never. A person who returns within the recycle bin's 30 days is restored, not recreated.",
      ),
    ),
    stateAttribute: Type.Optional(
      StringEnum(EXTENSION_ATTRIBUTES, {
        default: DEFAULT_DEPROVISION_STATE_ATTRIBUTE,
        description:
          'Extension attribute where entrasync records when it disabled an account (ISO 8601), so the stages above need no local state; cleared when the person returns.',
      }),
    ),
    whenDisabled: Type.Optional(
      Type.Object(
        {
          removeAccessAfterDays: Type.Optional(
            Days(
              'Days after the disable when the account loses memberships of managed groups and licenses from `licenses` rules. Default: `deprovision.removeAccessAfterDays`.',
            ),
          ),
          deleteAfterDays: Type.Optional(
            Type.Union(
              [
                Days(
                  'Days after the disable when the account is deleted (to the recycle bin). Default: `deprovision.deleteAfterDays`; `null`: never.',
                ),
                Type.Null(),
              ],
              {
                description:
                  'Days after the disable when the account is deleted (to the recycle bin). Default: `deprovision.deleteAfterDays`; `null`: never.',
              },
            ),
          ),
        },
        {
          additionalProperties: false,
          description:
            "Stages of an account the mapping disables (`accountEnabled` false) while its person is still in the sources: it is disabled and its sessions revoked at once whatever `action` says, then goes through these stages, counted from the disable entrasync made. Absent: the leavers' stages above.",
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    default: {
      action: 'disable',
      revokeSessions: true,
      removeAccessAfterDays: 0,
      stateAttribute: DEFAULT_DEPROVISION_STATE_ATTRIBUTE,
    },
    description:
      'Deprovisioning policy for managed accounts, as staged offboarding: block sign-in, then remove access, then delete. The day count starts when entrasync disabled the account; a person back within the grace period is re-enabled (or restored), with the same account.',
  },
);
export type DeprovisionConfig = Static<typeof DeprovisionConfig>;

export const UsersConfig = Type.Object(
  {
    scope: Type.Optional(
      ExpressionString(
        'Who should have an account: a JSONata expression over the person; absent means every record of the primary source.',
      ),
    ),
    anchor: ExpressionString(
      'Stable identifier of the person (hard-match key), written to `anchorAttribute`; must not change when the person is renamed.',
    ),
    anchorAttribute: Type.Optional(
      StringEnum(ANCHOR_ATTRIBUTES, {
        default: 'employeeId',
        description:
          'Graph attribute holding the anchor: `employeeId`, `onPremisesImmutableId` or an extension attribute `extensionAttribute1`..`15`.',
      }),
    ),
    match: Type.Optional(
      Type.Array(
        StringEnum(MATCH_RULES, {
          description: 'A way to find an existing account: `anchor`, `userPrincipalName`, `mail`.',
        }),
        {
          minItems: 1,
          uniqueItems: true,
          default: ['anchor', 'userPrincipalName'],
          description:
            'How an existing account is found for a person, tried in order; a match on an unmanaged account adopts it.',
        },
      ),
    ),
    attributes: UserAttributesConfig,
    manager: Type.Optional(
      ExpressionString(
        "The person's manager: a JSONata expression giving the manager's key in the primary source (e.g. `manager_id`), set as the account's manager. A manager being created in the same plan is created first.",
      ),
    ),
    deprovision: Type.Optional(DeprovisionConfig),
    // No schema default: absent keeps the throw-away password of before (and every digest).
    onboarding: Type.Optional(OnboardingConfig),
    create: Type.Optional(
      // No schema default: a filled-in default would change every config's digest.
      Type.Boolean({
        description:
          '`false`: update-only (Okta\'s "Profile sync" / "License only"): manage the attributes, groups and licenses of accounts that exist and match, never create or restore one; a person without an account is listed as not provisioned. With `deprovision.action: none` nothing is disabled either. Default `true`.',
      }),
    ),
    createOnly: Type.Optional(
      Type.Array(StringEnum(USER_ATTRIBUTE_NAMES, { description: 'A mapped attribute.' }), {
        uniqueItems: true,
        default: [],
        description:
          'Mapped attributes set only when entrasync creates an account, never updated afterwards (e.g. `mailNickname`, or `usageLocation` an admin may change).',
      }),
    ),
  },
  { additionalProperties: false, description: 'Which people get user accounts, and how.' },
);
export type UsersConfig = Static<typeof UsersConfig>;
