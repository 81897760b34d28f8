/**
 * The plan JSON's schema (TypeBox): the source of the published `plan.schema.json` and of the
 * plan reference in the README. The compile-time check at the bottom fails the typecheck when
 * this schema and the Plan types (engine/model/plan.ts, PlanDocument) stop describing the same
 * data, in either direction; objects are closed, so a field the schema lacks fails validation.
 */
import { Type } from '@sinclair/typebox';
import type { Static, TInteger, TOptional } from '@sinclair/typebox';
import { PLAN_FORMAT_VERSION } from '../model/plan.js';
import { THRESHOLD_ACTIONS } from '../model/spec.js';
import { KINDS_IN_ORDER, REASON_LABELS } from './kinds.js';
import type { PlanDocument } from './json.js';
import { WritebackSectionSchema } from './writeback-schema.js';

export const PLAN_SCHEMA_ID = 'urn:entrasync:plan:v1';
export const PLAN_SCHEMA_FILE_NAME = 'plan.schema.json';

const closed = { additionalProperties: false } as const;
const text = (description: string) => Type.String({ description });
const count = (description: string) => Type.Integer({ minimum: 0, description });
const texts = (description: string) => Type.Array(Type.String(), { description });
const oneOf = <T extends string>(values: readonly T[], description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );

/** A closed object of optional counts, one per key (TypeBox's Partial(Record) loses the keys). */
const countsOf = <K extends string>(
  keys: readonly K[],
  each: (key: K) => string,
  description: string,
) =>
  Type.Object(
    Object.fromEntries(
      keys.map((k) => [k, Type.Optional(Type.Integer({ minimum: 0, description: each(k) }))]),
    ) as Record<K, TOptional<TInteger>>,
    { ...closed, description },
  );

const RecordLocation = Type.Object(
  {
    file: Type.Optional(text('file path as the config names it (CSV)')),
    line: Type.Optional(count('line in the file')),
    column: Type.Optional(count('column in the line')),
    dn: Type.Optional(text('LDAP distinguished name')),
    url: Type.Optional(text('HTTP page URL, secrets removed')),
  },
  { ...closed, description: 'where a record or an issue came from' },
);

const Provenance = Type.Object(
  {
    source: text('source name (`sources.<name>`)'),
    key: text("the record's key in that source"),
    location: RecordLocation,
  },
  { ...closed, description: 'a source record behind a change' },
);

const AttributeValue = Type.Union(
  [Type.String(), Type.Number(), Type.Boolean(), Type.Null(), Type.Array(Type.String())],
  { description: 'a Graph attribute value (null: cleared)' },
);

const userRef = (description: string) =>
  Type.Object(
    {
      id: Type.Optional(text('Graph object id; absent for an account this plan creates')),
      userPrincipalName: text('userPrincipalName (for a group: its display name)'),
    },
    { ...closed, description },
  );
const knownUser = (description: string) =>
  Type.Object(
    { id: text('Graph object id'), userPrincipalName: text('userPrincipalName') },
    { ...closed, description },
  );
const groupFields = {
  uniqueName: text('the group found again by this name: prefix + rule key'),
  displayName: text('display name'),
};
const KnownGroupRef = Type.Object(
  { id: text('Graph object id'), ...groupFields },
  { ...closed, description: 'a group this config manages' },
);
const GroupRef = Type.Object(
  {
    id: Type.Optional(text('Graph object id; absent for a group this plan creates')),
    ...groupFields,
  },
  { ...closed, description: 'a group this config manages' },
);

const LicenseRef = Type.Object(
  {
    skuPartNumber: text('SKU part number, e.g. `ENTERPRISEPACK`'),
    skuId: text('SKU id (GUID)'),
    disabledPlans: texts('service plans switched off, by name, sorted'),
    disabledPlanIds: texts('the same plans by id, in the same order'),
  },
  { ...closed, description: 'a license by SKU' },
);

const AttributeChange = Type.Object(
  {
    attribute: text('Graph attribute path'),
    before: AttributeValue,
    after: AttributeValue,
  },
  { ...closed, description: 'one attribute set' },
);

const changeBase = {
  id: text('stable id within a plan and across re-plans, e.g. `createUser:jdoe@contoso.com`'),
  reason: oneOf(
    Object.keys(REASON_LABELS) as (keyof typeof REASON_LABELS)[],
    'why the change is in the plan (explains; apply never branches on it)',
  ),
  message: text('one line for humans'),
  provenance: Type.Array(Provenance, {
    description: 'source records behind the change (empty for deprovisioning)',
  }),
  rule: Type.Optional(text('config path of the rule or mapping behind it, e.g. `groups[2]`')),
  requires: Type.Optional(texts('ids of changes this one follows: if one is held, so is this')),
};
const kinds = <T extends string>(...values: T[]) =>
  oneOf(values, `the change kind: ${values.map((v) => `\`${v}\``).join(', ')}`);

const CreateUser = Type.Object(
  {
    ...changeBase,
    kind: kinds('createUser'),
    user: userRef('the account created'),
    attributes: Type.Record(Type.String(), AttributeValue, {
      description: 'every attribute set on create, marker and anchor included; never a password',
    }),
  },
  { ...closed, description: 'create an account' },
);
const UpdateUser = Type.Object(
  {
    ...changeBase,
    kind: kinds('updateUser', 'adoptUser'),
    user: knownUser('the account'),
    set: Type.Array(AttributeChange, { description: 'attributes set' }),
    matchedBy: Type.Optional(
      oneOf(['anchor', 'userPrincipalName', 'mail'] as const, 'adoptUser: the match rule'),
    ),
    reanchor: Type.Optional(Type.Literal(true, { description: 'the anchor is rewritten' })),
  },
  { ...closed, description: 'update an account, or adopt an existing one' },
);
const SetAccountEnabled = Type.Object(
  {
    ...changeBase,
    kind: kinds('enableUser', 'disableUser'),
    user: knownUser('the account'),
    stateAttribute: Type.Optional(text('deprovisioning state attribute written with it')),
    revokeSessions: Type.Optional(Type.Literal(true, { description: 'also revoke sessions' })),
  },
  { ...closed, description: 'enable or disable an account' },
);
const UserLifecycle = Type.Object(
  {
    ...changeBase,
    kind: kinds('deleteUser', 'restoreUser'),
    user: knownUser('the account (restore: the deleted object)'),
    newUserPrincipalName: Type.Optional(text('restoreUser: restored under this name')),
    autoReconcileProxyConflict: Type.Optional(
      Type.Literal(true, { description: 'restoreUser: drop proxy addresses held elsewhere' }),
    ),
  },
  { ...closed, description: 'delete to the recycle bin, or restore from it' },
);
const RevokeSessions = Type.Object(
  { ...changeBase, kind: kinds('revokeSessions'), user: knownUser('the disabled account') },
  { ...closed, description: 'revoke the sessions of a disabled account again' },
);
const SetManager = Type.Object(
  {
    ...changeBase,
    kind: kinds('setManager'),
    user: userRef('the account'),
    manager: userRef('its manager'),
  },
  { ...closed, description: "set an account's manager" },
);
const UserLicenses = Type.Object(
  {
    ...changeBase,
    kind: kinds('assignLicenses', 'removeLicenses'),
    user: userRef('the account'),
    licenses: Type.Array(LicenseRef, { description: 'licenses assigned or removed' }),
  },
  { ...closed, description: "an account's direct licenses" },
);
const OnboardUser = Type.Object(
  {
    ...changeBase,
    kind: kinds('onboardUser'),
    user: userRef('the new account'),
    credential: oneOf(['tap', 'password'] as const, 'what the account gets (never its value)'),
    delivery: Type.Object(
      {
        channel: oneOf(['email', 'webhook'] as const, 'how it is delivered'),
        to: oneOf(['manager', 'sponsor', 'personal'] as const, 'whose address `recipient` is'),
        recipient: text('the address it goes to'),
      },
      { ...closed, description: 'who receives the credential' },
    ),
    tap: Type.Optional(
      Type.Object(
        {
          startDateTime: Type.Optional(text('when the pass becomes valid (absent: when made)')),
          startPassed: Type.Optional(text('`startAt` gave this past time: valid at once')),
          lifetimeInMinutes: Type.Integer({ description: 'how long the pass is valid' }),
          isUsableOnce: Type.Boolean({ description: 'the pass signs in once' }),
        },
        { ...closed, description: 'the Temporary Access Pass requested' },
      ),
    ),
    placeholders: Type.Record(Type.String(), Type.String(), {
      description: 'template values known at plan time (never the credential)',
    }),
    stateAttribute: text('attribute marking the account as awaiting its credential'),
  },
  { ...closed, description: "a new account's first credential, made and delivered at apply" },
);
const CreateGroup = Type.Object(
  {
    ...changeBase,
    kind: kinds('createGroup'),
    group: GroupRef,
    properties: Type.Object(
      {
        displayName: text('display name'),
        description: Type.Union([Type.String(), Type.Null()], { description: 'description' }),
        mailNickname: text('mail nickname'),
        mailEnabled: Type.Boolean({ description: 'mail-enabled' }),
        securityEnabled: Type.Boolean({ description: 'security-enabled' }),
        groupTypes: texts(
          'group types (`Unified`: Microsoft 365; `DynamicMembership`: members from a rule)',
        ),
        membershipRule: Type.Optional(text("a dynamic group's membership rule")),
        membershipRuleProcessingState: Type.Optional(
          text("a dynamic group's rule processing: `On` or `Paused`"),
        ),
      },
      { ...closed, description: 'Graph group properties set' },
    ),
    owners: Type.Array(knownUser('an owner'), { description: 'owners set with the create' }),
  },
  { ...closed, description: 'create a group' },
);
const UpdateGroup = Type.Object(
  {
    ...changeBase,
    kind: kinds('updateGroup'),
    group: KnownGroupRef,
    set: Type.Array(AttributeChange, { description: 'properties set' }),
  },
  { ...closed, description: "update a group's properties" },
);
const GroupMembers = Type.Object(
  {
    ...changeBase,
    kind: kinds('addMembers', 'removeMembers'),
    group: GroupRef,
    members: Type.Array(userRef('a member account'), { description: 'accounts, at most 20' }),
    memberGroups: Type.Optional(Type.Array(GroupRef, { description: 'nested managed groups' })),
  },
  { ...closed, description: 'add or remove members' },
);
const GroupOwners = Type.Object(
  {
    ...changeBase,
    kind: kinds('addOwners', 'removeOwners'),
    group: KnownGroupRef,
    owners: Type.Array(knownUser('an owner'), { description: 'owners added or removed' }),
  },
  { ...closed, description: "add or remove an existing group's owners" },
);
const GroupLicenses = Type.Object(
  {
    ...changeBase,
    kind: kinds('assignGroupLicenses', 'removeGroupLicenses'),
    group: GroupRef,
    licenses: Type.Array(LicenseRef, { description: 'licenses assigned or removed' }),
  },
  { ...closed, description: "a group's licenses (group-based licensing)" },
);

export const ChangeSchema = Type.Union(
  [
    CreateUser,
    UpdateUser,
    SetAccountEnabled,
    UserLifecycle,
    SetManager,
    UserLicenses,
    RevokeSessions,
    OnboardUser,
    CreateGroup,
    UpdateGroup,
    GroupMembers,
    GroupOwners,
    GroupLicenses,
  ],
  { description: 'one change; `kind` says which' },
);

const kindCounts = countsOf(
  KINDS_IN_ORDER,
  (kind) => `\`${kind}\` changes`,
  'changes not held, per kind (kinds with none left out)',
);

export const PlanSummarySchema = Type.Object(
  {
    total: count('changes in the plan: those that apply plus those held'),
    changes: count('changes not held (`changes`)'),
    held: count('changes held by a safety check (`blocked`)'),
    byKind: kindCounts,
    heldByReason: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
      description: 'held changes per reason code (`blocked[].code`), most first',
    }),
  },
  { ...closed, description: 'counts, computed when the plan is written (not fingerprinted)' },
);

export const ProtectLift = Type.Union(
  [
    Type.Object(
      { ran: Type.Literal(false, { description: 'no baseline was given' }) },
      { ...closed, description: 'the check did not run' },
    ),
    Type.Object(
      {
        ran: Type.Literal(true, { description: 'the check ran' }),
        baseline: Type.Object(
          {
            protect: texts('`safety.protect` entries of the baseline, lower case, sorted'),
            from: Type.Optional(text('where the baseline was read')),
          },
          { ...closed, description: 'the protect list before this change' },
        ),
        lifted: Type.Array(knownUser('an account'), {
          description: 'accounts whose protection this change lifts',
        }),
      },
      { ...closed, description: 'the check ran' },
    ),
  ],
  { description: 'the protect-lift check (`--baseline`)' },
);

export const PlanDocumentSchema = Type.Object(
  {
    formatVersion: Type.Literal(PLAN_FORMAT_VERSION, {
      description: 'the plan format; apply refuses other versions',
    }),
    fingerprint: text('hash of the config, the tenant read and the changes; approvals bind to it'),
    summary: PlanSummarySchema,
    configDigest: text('hash of the configuration'),
    tenantDigest: text('hash of the tenant read; apply refuses if the live tenant differs'),
    sources: Type.Array(
      Type.Object(
        {
          name: text('source name'),
          kind: text('source kind (`csv`, `ldap`, `http`)'),
          status: oneOf(
            ['complete', 'incomplete', 'failed'] as const,
            'only a complete source may cause deprovisioning',
          ),
          records: count('records read'),
          errors: count('errors while reading'),
          warnings: count('warnings while reading'),
        },
        { ...closed, description: 'a source as read' },
      ),
      { description: 'the sources read' },
    ),
    changes: Type.Array(ChangeSchema, { description: 'changes apply applies, in order' }),
    blocked: Type.Array(
      Type.Object(
        {
          change: ChangeSchema,
          code: text('why it is held, e.g. `threshold`, `source-unhealthy`, `needs-approval`'),
          message: text('why it is held, for humans, with how to release it'),
          waitsFor: Type.Optional(texts('`requires-blocked`: ids of the held changes it follows')),
        },
        { ...closed, description: 'a held change' },
      ),
      { description: 'changes held by safety checks; never applied' },
    ),
    releaseFingerprint: Type.Optional(
      text('what an approval or `--allow-* --plan` binds to, to release the held part'),
    ),
    onBlocked: Type.Optional(
      Type.Literal('hold-plan', { description: 'nothing of a plan with held changes applies' }),
    ),
    warnings: Type.Array(
      Type.Object(
        {
          code: text('stable code'),
          message: text('message'),
          subject: Type.Optional(text('what it is about')),
        },
        { ...closed, description: 'a warning' },
      ),
      { description: 'warnings about the plan' },
    ),
    issues: Type.Array(
      Type.Object(
        {
          severity: oneOf(['error', 'warning'] as const, 'errors keep people out of the plan'),
          code: text('stable code, e.g. `source.parse`'),
          message: text('message'),
          location: Type.Optional(RecordLocation),
          key: Type.Optional(text('the record key it belongs to')),
          source: text('the source it belongs to'),
        },
        { ...closed, description: 'a problem with a record or a person' },
      ),
      { description: 'problems reading, joining, mapping or matching' },
    ),
    ignored: Type.Array(
      Type.Object(
        {
          user: knownUser('the account'),
          reason: oneOf(
            [
              'unmanaged',
              'synced-from-on-premises',
              'guest',
              'protected',
              'privileged',
              'other-config',
              'legacy-marker',
            ] as const,
            'why it is left alone',
          ),
          marker: Type.Optional(text('the marker the account carries')),
        },
        { ...closed, description: 'an account left alone' },
      ),
      { description: 'tenant accounts the plan leaves alone' },
    ),
    notProvisioned: Type.Optional(
      Type.Array(
        Type.Object(
          { personKey: text('the person'), userPrincipalName: text('the name they would get') },
          { ...closed, description: 'a person without an account' },
        ),
        { description: '`users.create: false`: people who get no account' },
      ),
    ),
    managedUsers: count('accounts this config manages'),
    licenses: Type.Optional(
      Type.Array(
        Type.Object(
          {
            skuPartNumber: text('SKU part number'),
            skuId: text('SKU id'),
            seats: count('prepaid enabled + warning units'),
            consumed: count('seats in use'),
            adding: count('users this plan gives the SKU'),
            removing: count('users this plan takes it from'),
            shortfall: count('seats missing for this plan'),
          },
          { ...closed, description: 'seats of one SKU' },
        ),
        { description: 'seat check per SKU (with `licenses` rules)' },
      ),
    ),
    overrides: Type.Optional(
      countsOf(
        THRESHOLD_ACTIONS,
        (action) => `${action} allowed, up to this many`,
        'threshold overrides bound to this plan',
      ),
    ),
    protectLift: Type.Optional(ProtectLift),
    writebacks: Type.Optional(WritebackSectionSchema),
  },
  { ...closed, title: 'entrasync plan', description: 'a plan saved by `entrasync plan --out`' },
);

/** The JSON Schema (draft-07) as `plan.schema.json` holds it. */
export function renderPlanJsonSchema(): string {
  // JSON.stringify drops TypeBox's symbol keys: only JSON Schema remains.
  const { title, ...rest } = JSON.parse(JSON.stringify(PlanDocumentSchema)) as Record<
    string,
    unknown
  >;
  referToChanges(rest);
  const document = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: PLAN_SCHEMA_ID,
    title,
    ...rest,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * A held change is a change: its schema, identical to `changes[]`'s, becomes a reference to it,
 * which halves the published file.
 */
function referToChanges(document: Record<string, unknown>): void {
  type Node = { properties: Record<string, { items: Node & Record<string, unknown> }> };
  const properties = (document as Node).properties;
  const held = properties['blocked']?.items.properties;
  const change = properties['changes']?.items;
  if (!held || JSON.stringify(held['change']) !== JSON.stringify(change)) {
    throw new Error('plan schema: blocked[].change is no longer the schema of changes[]');
  }
  held['change'] = { $ref: '#/properties/changes/items' } as never;
}

type DeepMutable<T> = T extends readonly (infer U)[]
  ? DeepMutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: DeepMutable<T[K]> }
    : T;
/** Every optional property made required: an optional field only one side has then differs. */
type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Agree<A, B> = Same<A, B> extends true ? Same<DeepRequired<A>, DeepRequired<B>> : false;
/** Fails the typecheck when the schema and the Plan types disagree (see the module comment). */
const schemaMatchesPlanTypes: Agree<
  DeepMutable<PlanDocument>,
  Static<typeof PlanDocumentSchema>
> = true;
void schemaMatchesPlanTypes;
