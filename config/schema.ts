/**
 * The config language, version 1: the single source of truth for the TypeScript types
 * (`Static<>`), validation (ajv in `load.ts`), the published `entrasync.schema.json`
 * (`write-schema.ts`) and the Markdown reference (`write-docs.ts`). Every node has a
 * `description` because the reference is generated from them. Strings the loader treats
 * specially (expressions, secret references) are built with the helpers of `schema-slots.ts`.
 */
import { Type, type Static, type TString } from '@sinclair/typebox';
import { CsvSourceOptions } from './sources/csv-options.js';
import { HttpSourceOptions } from './sources/http-options.js';
import { LdapSourceOptions } from './sources/ldap-options.js';
import {
  DEFAULT_MIN_SOURCE_RATIO,
  DEFAULT_THRESHOLDS,
  THRESHOLD_ACTIONS,
  THRESHOLD_FLAG,
} from '../engine/model/spec.js';
import type { ThresholdAction } from '../engine/model/spec.js';
import { WritebackConfig } from './writeback.js';
import { FUNCTION_NAMES } from '../engine/expr/functions.js';
import { ExcessPrivilege, TargetAuth, WritesConfig } from './auth-schema.js';
import {
  DaemonConfig,
  DURATION_PATTERN,
  HistoryConfig,
  ScheduleConfig,
} from './operations-schema.js';
import { GroupConfig, LicenseConfig } from './schema-groups.js';
import { ExpressionString, SecretOrText, StringEnum } from './schema-slots.js';
import { EXTENSION_ATTRIBUTES, UsersConfig } from './users-schema.js';

export {
  GROUP_KEY_PATTERN,
  GroupConfig,
  GroupLicenseConfig,
  LicenseConfig,
} from './schema-groups.js';

export {
  ANCHOR_ATTRIBUTES,
  DEFAULT_DEPROVISION_STATE_ATTRIBUTE,
  DeprovisionConfig,
  DIRECTORY_EXTENSION_PATTERN,
  EXTENSION_ATTRIBUTES,
  flattenExtensionAttribute,
  isDirectoryExtension,
  MATCH_RULES,
  USER_ATTRIBUTE_NAMES,
  UserAttributesConfig,
  UsersConfig,
  type AnchorAttribute,
  type ExtensionAttributeName,
  type UserAttributeName,
} from './users-schema.js';

export {
  ConfigSlot,
  ExpressionString,
  SECRET_REF_PATTERN,
  SecretOrText,
  SecretReference,
  StringEnum,
  slotOf,
  type ConfigSlotKind,
  type ConfigValue,
} from './schema-slots.js';

/** The config language version this entrasync reads. Older versions are migrated (`migrations/`). */
export const CONFIG_VERSION = 1 as const;

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_SIMULATOR_STATE = '.entrasync/tenant.db';
export const DEFAULT_MARKER_ATTRIBUTE = 'extensionAttribute15';
/** Marker values are `entrasync:<id>`; the id defaults to the primary source's name. */
export const MARKER_VALUE_PREFIX = 'entrasync:';
export const MARKER_ID_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]*$';
export const DEFAULT_GROUP_PREFIX = 'entrasync-';

/**
 * Source names become JSONata variables (`$hr`) and property names downstream, so they must be
 * identifiers and not names every object already has.
 */
export const SOURCE_NAME_PATTERN = `^(?!(?:__proto__|constructor|prototype|${FUNCTION_NAMES.join('|')})$)[A-Za-z_][A-Za-z0-9_]*$`;

// ---------------------------------------------------------------------------------------------
// target

export { TargetAuth, type AuthMethod } from './auth-schema.js';

export const SimulatorTarget = Type.Object(
  {
    state: Type.Optional(
      Type.String({
        minLength: 1,
        default: DEFAULT_SIMULATOR_STATE,
        description: 'SQLite file holding the simulated tenant, relative to the config file.',
      }),
    ),
    seed: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'JSON file of users to start from when the state file is new, relative to the config file.',
      }),
    ),
    clockOffset: Type.Optional(
      Type.String({
        pattern: '^[-+]?[0-9]+(ms|s|m|h|d)$',
        patternErrorMessage:
          'must be a whole number and a unit, optionally signed: `ms`, `s`, `m`, `h` or `d` (`-1d`)',
        description:
          "The simulated tenant's clock runs this far from the local one (`-1d`: a day behind, so the local clock looks a day ahead); for trying `safety.maxClockSkew`. Default `0s`.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'The embedded simulated tenant. Only with `auth.method: simulator`.',
  },
);
export type SimulatorTarget = Static<typeof SimulatorTarget>;

export const MarkerConfig = Type.Object(
  {
    attribute: Type.Optional(
      StringEnum(EXTENSION_ATTRIBUTES, {
        default: DEFAULT_MARKER_ATTRIBUTE,
        description:
          'Extension attribute of `onPremisesExtensionAttributes` that marks an account as managed by this config.',
      }),
    ),
    id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: MARKER_ID_PATTERN,
        description:
          "This config's identity on the tenant: its accounts are marked `entrasync:<id>`, and accounts marked by another id are left alone. Default: the name of the primary source (`join.primary`). Set it before renaming that source; give each config sharing a tenant its own.",
      }),
    ),
    value: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The whole marker value, instead of `entrasync:<id>` (not with `id`). `entrasync` is the marker every config wrote before per-config ids: it makes this config claim every legacy-marked account.',
      }),
    ),
    claimLegacy: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Accounts with the legacy marker `entrasync` (written before per-config ids) are this config's: those no person matches are deprovisioned. Only when this config is the only one on the tenant. Without it, a legacy account is claimed (and re-marked) only by the person matching it by anchor, and the others are left alone.",
      }),
    ),
    groupPrefix: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 40,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        default: DEFAULT_GROUP_PREFIX,
        description:
          "Groups are managed by this config when their `uniqueName` (set once, on create) starts with this prefix; give each config sharing a tenant its own (configs sharing a prefix share the groups with the same key, and never remove each other's accounts from them).",
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {
      attribute: DEFAULT_MARKER_ATTRIBUTE,
      groupPrefix: DEFAULT_GROUP_PREFIX,
      claimLegacy: false,
    },
    description:
      'Where entrasync marks the accounts it created or adopted. Only marked accounts are ever deprovisioned; the marker is read in the same list read as every other attribute.',
  },
);
export type MarkerConfig = Static<typeof MarkerConfig>;

/**
 * The marker value of a config: `value` as given, else `entrasync:` + `id`, else + the primary
 * source's name. Part of the config text, so the same on every runner, daemon and machine.
 */
export function markerValueOf(marker: MarkerConfig | undefined, primarySource: string): string {
  return marker?.value ?? `${MARKER_VALUE_PREFIX}${marker?.id ?? primarySource}`;
}

const HttpsUrl = (description: string, defaultValue: string): TString =>
  Type.String({
    format: 'uri',
    pattern: '^https://',
    patternErrorMessage: 'must be an https:// URL',
    default: defaultValue,
    description,
  });

export const TargetConfig = Type.Object(
  {
    auth: TargetAuth,
    tenantId: Type.Optional(
      SecretOrText(
        'Directory (tenant) id or verified domain. Required with `auth.method` `secret`, `certificate` and `workload-identity`; optional for the simulator and a managed identity.',
      ),
    ),
    clientId: Type.Optional(
      SecretOrText(
        'Application (client) id of the app registration. Required with `auth.method` `secret`, `certificate` and `workload-identity`; optional for the simulator.',
      ),
    ),
    graphUrl: Type.Optional(
      HttpsUrl('Base URL of Microsoft Graph (national clouds differ).', DEFAULT_GRAPH_URL),
    ),
    authorityHost: Type.Optional(
      HttpsUrl('Microsoft Entra token authority (national clouds differ).', DEFAULT_AUTHORITY_HOST),
    ),
    caFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Extra CA certificate (PEM) to trust for Graph and the authority, relative to the config file: a standalone simulator or a TLS-inspecting proxy.',
      }),
    ),
    simulator: Type.Optional(SimulatorTarget),
    marker: Type.Optional(MarkerConfig),
    writes: Type.Optional(WritesConfig),
    excessPrivilege: Type.Optional(ExcessPrivilege),
  },
  { additionalProperties: false, description: 'The Microsoft Entra tenant to keep in sync.' },
);
export type TargetConfig = Static<typeof TargetConfig>;

// ---------------------------------------------------------------------------------------------
// sources

/**
 * Options of every source kind, discriminated by `kind`. A new kind (ldap, http) adds its
 * connector's options schema here; the loader picks the branch to report errors from by `kind`.
 */
export const SourceConfig = Type.Union([CsvSourceOptions, LdapSourceOptions, HttpSourceOptions], {
  description: 'One source of people, its kind chosen by `kind`: `csv`, `ldap` or `http`.',
});
export type SourceConfig = Static<typeof SourceConfig>;
export type SourceKind = SourceConfig['kind'];

export const SourcesConfig = Type.Record(Type.String(), SourceConfig, {
  minProperties: 1,
  propertyNames: {
    pattern: SOURCE_NAME_PATTERN,
    patternErrorMessage:
      'must start with a letter or `_` and contain only letters, digits and `_` (it becomes the JSONata variable `$name`); `__proto__`, `constructor`, `prototype` and the names of bound functions (' +
      FUNCTION_NAMES.map((f) => '`' + f + '`').join(', ') +
      ') are reserved',
  },
  description:
    "Where people come from: source name -> options, the kind chosen by `kind`. At least one. A source name is also the JSONata variable holding that source's record (`$hr`).",
});
export type SourcesConfig = Static<typeof SourcesConfig>;

export const LinkConfig = Type.Object(
  {
    key: ExpressionString(
      "JSONata over the linked source's record giving its join key, e.g. `employeeID`.",
    ),
    equals: ExpressionString(
      'JSONata over the primary record giving the same key, e.g. `employee_id` (every source is also bound as `$name`).',
    ),
  },
  {
    additionalProperties: false,
    description:
      'A record of this source belongs to the person whose primary record gives `equals` the value its `key` gives. Keys compare as trimmed text.',
  },
);
export type LinkConfig = Static<typeof LinkConfig>;

export const JoinConfig = Type.Object(
  {
    primary: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Source whose records define who exists. Optional with exactly one source; required with several.',
      }),
    ),
    link: Type.Optional(
      Type.Record(Type.String(), LinkConfig, {
        description:
          'Other sources joined to the primary one, by source name. A person missing from a linked source simply has no record there; if that source is incomplete, the person is held, and if it failed, everyone is held. A linked source with records for fewer than `safety.minSourceRatio` of the people whose `equals` has a value has shrunk: it counts as incomplete and blocks deprovisioning.',
      }),
    ),
  },
  { additionalProperties: false, description: 'How records of several sources form one person.' },
);
export type JoinConfig = Static<typeof JoinConfig>;

// ---------------------------------------------------------------------------------------------
// safety

/**
 * `filled: false`: no schema defaults (a threshold added later: a filled-in default would
 * change the digest of every config that has a `safety` section); the loader applies them.
 */
function ThresholdConfig(action: ThresholdAction, what: string, filled = true) {
  const d = DEFAULT_THRESHOLDS[action];
  const fill = <T>(value: T) => (filled ? { default: value } : {});
  return Type.Optional(
    Type.Object(
      {
        count: Type.Optional(
          Type.Integer({
            minimum: 0,
            ...fill(d.count),
            description: `Up to this many ${what} never trip the brake.`,
          }),
        ),
        percent: Type.Optional(
          Type.Number({
            minimum: 0,
            maximum: 100,
            ...fill(d.percent),
            description: `Up to this percentage of the managed accounts, ${what} never trip the brake.`,
          }),
        ),
      },
      {
        additionalProperties: false,
        ...fill({ count: d.count, percent: d.percent }),
        description: `Brake on ${what}: a plan with more than \`count\` of them AND more than \`percent\` % of the managed accounts is blocked until a reviewer lets exactly that plan through (\`apply ${THRESHOLD_FLAG[action]} N --plan <fingerprint>\`).`,
      },
    ),
  );
}

export const SafetyConfig = Type.Object(
  {
    maxCreates: ThresholdConfig('creates', 'accounts created'),
    maxAdoptions: ThresholdConfig('adoptions', 'existing accounts adopted'),
    maxUpdates: ThresholdConfig('updates', 'accounts updated'),
    maxEnables: ThresholdConfig('enables', 'accounts enabled'),
    maxDisables: ThresholdConfig('disables', 'accounts disabled'),
    maxDeletes: ThresholdConfig('deletes', 'accounts deleted'),
    maxLicenseRemovals: ThresholdConfig(
      'licenseRemovals',
      'license removals (users losing a license)',
    ),
    maxMembershipRemovals: ThresholdConfig(
      'membershipRemovals',
      'membership removals (members taken out of managed groups)',
    ),
    maxWritebacks: ThresholdConfig('writebacks', 'write-backs (source records written)', false),
    minSourceRatio: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        default: DEFAULT_MIN_SOURCE_RATIO,
        description:
          'A source with fewer records than this ratio of the accounts this config manages has shrunk (a half-written export, a bind account that lost read access): like an incomplete source, it blocks every deprovisioning change.',
      }),
    ),
    protect: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description:
          'Accounts entrasync never adopts, changes or deprovisions, by userPrincipalName or object id (break-glass accounts, service accounts).',
      }),
    ),
    allowPrivileged: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description:
          'Privileged accounts (an active or eligible directory role, or a role-assignable group) this config may manage anyway, by userPrincipalName or object id. Every other privileged account is left alone.',
      }),
    ),
    requireApproval: Type.Optional(
      Type.Array(
        StringEnum(THRESHOLD_ACTIONS, {
          description: 'An action.',
        }),
        {
          uniqueItems: true,
          default: [],
          description:
            'Actions whose changes each need an approval in the approvals file before apply. Adopting an account found by userPrincipalName or mail always does.',
        },
      ),
    ),
    onBlocked: Type.Optional(
      // No schema default: a filled-in default would change every config's digest.
      StringEnum(['hold-changes', 'hold-plan'] as const, {
        description:
          'What a blocked change does to the rest of the plan. `hold-changes` (default): it is held with the changes that depend on it, and everything independent applies (apply exits 3 when anything was held). `hold-plan`: nothing of a plan with a blocked change is applied (Terraform-like all or nothing).',
      }),
    ),
    maxClockSkew: Type.Optional(
      // No schema default: a filled-in default would change every config's digest.
      Type.String({
        pattern: DURATION_PATTERN,
        patternErrorMessage: 'must be a whole number and a unit: `ms`, `s`, `m`, `h` or `d` (`5m`)',
        description:
          "How far the local clock may be from Microsoft Graph's (the `Date` header of the tenant read), either way, before the plan refuses every stage that waits for a number of days (`removeAccessAfterDays`, `deleteAfterDays`) with an error (exit 1); everything else still plans. Default `5m`.",
      }),
    ),
    approvals: Type.Optional(
      Type.String({
        minLength: 1,
        default: 'approvals.yaml',
        description:
          'Approvals file, relative to the config file: `plans` (fingerprints) and `changes` (`{ action, subject }`). Optional unless named here.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Brakes that stop a plan from doing too much at once or acting on a source it cannot trust.',
  },
);
export type SafetyConfig = Static<typeof SafetyConfig>;

// ---------------------------------------------------------------------------------------------
// root

export const Config = Type.Object(
  {
    version: Type.Literal(CONFIG_VERSION, {
      description: 'Config language version. Must be `1`.',
    }),
    target: TargetConfig,
    sources: SourcesConfig,
    join: Type.Optional(JoinConfig),
    users: UsersConfig,
    groups: Type.Optional(
      Type.Array(GroupConfig, {
        default: [],
        description:
          'Groups this config creates and whose membership it keeps: `name`, `key`, `foreach`, `members`, `description`, `type`, `owners`, `licenses`, and `memberGroups`, the keys of other rules whose groups are nested in this one (static: `[eng-platform, eng-apps]`; `foreach` in `foreach`, paired through the people: a `division` rule with `memberGroups: [department]` holds the department groups of its people). Managed groups no longer nested are removed (membership removals); unknown keys, cycles and Microsoft 365 groups on either side are config errors.',
      }),
    ),
    licenses: Type.Optional(
      Type.Array(LicenseConfig, {
        default: [],
        description: 'License rules: who gets which SKU.',
      }),
    ),
    safety: Type.Optional(SafetyConfig),
    schedule: Type.Optional(ScheduleConfig),
    daemon: Type.Optional(DaemonConfig),
    history: Type.Optional(HistoryConfig),
    writeback: Type.Optional(WritebackConfig),
  },
  {
    additionalProperties: false,
    title: 'entrasync configuration',
    description:
      'Declares who should have an account in a Microsoft Entra ID tenant, from which sources, with which attributes.',
  },
);
/**
 * The config as `loadConfig` returns it: schema defaults filled in, secret references as
 * `SecretRef` objects. Optional properties with a default are always present after loading.
 */
export type Config = Static<typeof Config>;
