/**
 * The config language's groups and licenses (`groups`, `licenses`): managed groups over their
 * whole life and license rules. Part of config/schema.ts, which re-exports them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ExpressionString, StringEnum } from './schema-slots.js';

const SkuPartNumber = (description: string) =>
  Type.String({
    minLength: 1,
    pattern: '^[A-Za-z0-9_.+-]+$',
    patternErrorMessage: 'must be a SKU part number such as SPE_E3 (not a GUID with braces)',
    description,
  });

const DisabledPlans = Type.Optional(
  Type.Array(Type.String({ minLength: 1, description: 'A service plan name.' }), {
    uniqueItems: true,
    default: [],
    description:
      'Service plans of the SKU switched off, by name (e.g. `YAMMER_ENTERPRISE`), as `subscribedSkus` lists them.',
  }),
);

export const GroupLicenseConfig = Type.Object(
  {
    sku: SkuPartNumber('SKU part number, e.g. `SPE_E3`.'),
    disabledPlans: DisabledPlans,
  },
  {
    additionalProperties: false,
    description: 'A license the group holds (group-based licensing).',
  },
);

export const GROUP_KEY_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';

export const GroupConfig = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        "The group's display name. With `foreach`, a JSONata expression over the person with the value bound as `$value`, e.g. `'Dept - ' & $value`.",
    }),
    key: Type.Optional(
      Type.String({
        pattern: GROUP_KEY_PATTERN,
        patternErrorMessage: 'must be lower-case letters, digits and `-`, at most 64',
        description:
          'Stable key of the group: its `uniqueName` is `target.marker.groupPrefix` + key (with `foreach`: + `-` + the value). Required with `foreach`; defaults to the name in lower case. Renaming the group keeps the key, so it stays the same group.',
      }),
    ),
    foreach: Type.Optional(
      ExpressionString(
        'One group per distinct value: a JSONata expression over the person giving a string or a list of strings (e.g. `department`); each person is a member of the groups of their values.',
      ),
    ),
    members: Type.Optional(
      ExpressionString(
        "Who is a member: a JSONata expression over the person (e.g. `department = 'Engineering'`); absent means everyone in scope.",
      ),
    ),
    description: Type.Optional(Type.String({ maxLength: 1024, description: 'Group description.' })),
    type: Type.Optional(
      StringEnum(['security', 'microsoft365'] as const, {
        default: 'security',
        description:
          '`security`: a security group; `microsoft365`: a Microsoft 365 (unified, mail-enabled) group.',
      }),
    ),
    owners: Type.Optional(
      Type.Array(Type.String({ minLength: 3, description: 'A userPrincipalName.' }), {
        uniqueItems: true,
        default: [],
        description:
          "The group's user owners, by userPrincipalName of existing accounts: set with the create, and kept afterwards (the missing ones added, other user owners removed; owners that are not users are left alone). Additions go before removals, and the group is never left without an owner: when none of these has an account, no owner is removed. Empty or absent: owners are not managed.",
      }),
    ),
    membershipRule: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 3072,
        description:
          'A dynamic group: Entra computes the members from this rule (e.g. `(user.department -eq "Sales") and (user.accountEnabled -eq true)`), so entrasync never adds or removes its members. Created with `groupTypes` `DynamicMembership` and kept: a changed rule is written, a static group given a rule becomes dynamic, and one whose rule is taken out becomes static (its members then kept by the rules from the next plan). Graph checks the syntax. Not with `members`, `foreach`, `memberGroups` or `licenses`, and no rule may nest a dynamic group.',
      }),
    ),
    membershipRuleProcessingState: Type.Optional(
      StringEnum(['On', 'Paused'] as const, {
        description:
          'With `membershipRule`: `On` (absent) evaluates the rule; `Paused` stops Entra from changing the members.',
      }),
    ),
    licenses: Type.Optional(
      Type.Array(GroupLicenseConfig, {
        default: [],
        description: 'Licenses the group holds, inherited by every member (group-based licensing).',
      }),
    ),
    memberGroups: Type.Optional(
      Type.Array(
        Type.String({
          pattern: GROUP_KEY_PATTERN,
          patternErrorMessage: 'must be the `key` of another group rule',
          description: 'The `key` of another rule of `groups`.',
        }),
        {
          minItems: 1,
          uniqueItems: true,
          description:
            "Nested groups: other rules' groups that are members of this rule's groups, by rule `key` (e.g. `[eng-platform, eng-apps]`). A static rule is its one group; a `foreach` rule is every group it makes. Under a `foreach` parent, a `foreach` child is paired through the people: each person's group of this rule (the value of this `foreach`) contains that person's groups of the child rule (e.g. a `division` rule with `memberGroups: [department]` puts in each division group the department groups of the people of that division); `members` picks the direct user members only, so `members: 'false'` makes groups of nested groups alone. A managed group no longer listed is removed (a membership removal). Security groups only: a Microsoft 365 group can neither contain nor be a nested group, and nesting may not form a cycle.",
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'A group entrasync creates and whose membership it keeps: static (one group) or `foreach` (one per distinct value), with user members and, by `memberGroups`, nested groups of other rules. Only groups carrying `target.marker.groupPrefix` are ever changed.',
  },
);
export type GroupConfig = Static<typeof GroupConfig>;

export const LicenseConfig = Type.Object(
  {
    sku: SkuPartNumber('SKU part number, e.g. `SPE_E3`, as `subscribedSkus` lists it.'),
    when: Type.Optional(
      ExpressionString(
        "Who gets it: a JSONata expression over the person (e.g. `employeeType = 'FTE'`); absent means everyone in scope. When it stops holding, the license is removed.",
      ),
    ),
    disabledPlans: DisabledPlans,
    group: Type.Optional(
      Type.String({
        pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
        patternErrorMessage: "must be the group's object id (a GUID)",
        description:
          'Group-based licensing on an existing group this config does not manage, by object id (as Okta assigns licenses to existing groups): the group gets the SKU (with `disabledPlans`), checked against the seats its members would take; its members and its other licenses are never touched, and taking the rule out removes nothing (unassign in the portal). Not with `when` or `assignBy`.',
      }),
    ),
    assignBy: Type.Optional(
      StringEnum(['direct', 'group'] as const, {
        default: 'direct',
        description:
          '`direct`: assignLicense on each user; `group`: group-based licensing through a managed group `<groupPrefix>license-<sku>` holding the license, whose members are the people the rule selects (fewer writes, Entra handles the seats).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'A license rule. The plan counts seats needed against `subscribedSkus` and blocks assignments the tenant has no seats for; `usageLocation` must be mapped or set.',
  },
);
export type LicenseConfig = Static<typeof LicenseConfig>;
