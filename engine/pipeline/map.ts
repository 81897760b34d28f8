/**
 * Map: Person -> DesiredUser, by evaluating the compiled expressions of the spec.
 *
 * Each expression sees the primary source's record as its input (`first_name`) and every
 * source's record as a variable (`$hr.first_name`). A person whose mapping fails is held with an
 * error that names the record and the config path; it never becomes "absent".
 */
import type { Expression } from '../expr/jsonata.js';
import { ConfigError } from '../errors.js';
import { ExpressionEvaluationError, UNDECIDED, evaluateExpression } from '../expr/jsonata.js';
import { mailNicknameFromUpn } from '../expr/normalize.js';
import type { UniquenessContext } from '../expr/functions.js';
import { createUniquenessContext, functionBindings, selectUnique } from '../expr/functions.js';
import { compareText } from './compare.js';
import type {
  DesiredMembership,
  DesiredState,
  DesiredUser,
  OutOfScopePerson,
} from '../model/desired.js';
import type { Person, Provenance } from '../model/person.js';
import type { SourceIssue, SourceRecord } from '../model/source.js';
import type { SyncSpec } from '../model/spec.js';
import type { AttributeValue } from '../model/tenant.js';
import type { HeldPerson } from './join.js';
import type { AttributeTypes } from './attribute-types.js';
import { userPropertyType } from './attribute-types.js';
import { MappingError, show, toAttributeValue } from './typed-values.js';

export interface MapResult {
  readonly desired: DesiredState;
  readonly issues: readonly SourceIssue[];
}

/** What mapping may know of the tenant: which account holds which identifier, and by anchor. */
export interface MappingTenantView {
  /** Account id already holding a person's anchor (their own account). */
  accountIdByAnchor(anchor: string): string | undefined;
  readonly uniqueness: UniquenessContext;
  /**
   * The value an account has now for an attribute (`userPrincipalName` included), so that
   * `$selectUnique` keeps a person's current choice (P13). Absent: nothing is kept.
   */
  currentValue?(accountId: string, attribute: string): string | undefined;
  /**
   * The Graph type of each mapped attribute (directory extensions included, from the tenant's
   * `extensionProperties`). Absent: Graph's own user properties only.
   */
  readonly attributeTypes?: AttributeTypes;
}

/** An empty tenant; a new one per run, since `$selectUnique` remembers what it handed out. */
const noTenant = (): MappingTenantView => ({
  accountIdByAnchor: () => undefined,
  uniqueness: createUniquenessContext(new Map()),
});

/**
 * What the anchor's `$selectUnique` sees: nothing taken. The anchor is computed before the
 * person's account is known, so it may use only what needs no tenant.
 */
const NOTHING_TAKEN: UniquenessContext = {
  isTaken: () => false,
  mayKeep: () => false,
  claim: () => undefined,
};

type Bindings = Readonly<Record<string, unknown>>;

/** One expression a mapping step needs evaluated; the step gets the value back from `yield`. */
interface Evaluation {
  readonly expression: Expression;
  readonly input: unknown;
  readonly bindings: Bindings;
}

/**
 * Mapping written once as plain code that yields each expression it needs, so one driver can run
 * it synchronously while the fast path decides every value (the usual case: no promise per
 * expression or per person) and fall back to awaiting JSONata only when an expression needs it.
 */
type Steps<T> = Generator<Evaluation, T, unknown>;

function ask(expression: Expression, input: unknown, bindings: Bindings): Evaluation {
  return { expression, input, bindings };
}

/** Runs `steps`; a promise only when some expression had to go through JSONata. */
function drive<T>(steps: Steps<T>): T | Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const { expression, input, bindings } = next.value;
    const quick = expression.evaluateNow(input, bindings);
    if (quick === UNDECIDED) return driveAsync(steps, next.value);
    next = steps.next(quick);
  }
  return next.value;
}

/**
 * The rest of `steps`, from the first expression only JSONata can evaluate (`evaluate` still
 * tries the fast path first for the ones after it).
 */
async function driveAsync<T>(steps: Steps<T>, pending: Evaluation): Promise<T> {
  let evaluation = pending;
  for (;;) {
    const { expression, input, bindings } = evaluation;
    const next = steps.next(await evaluateExpression(expression, input, bindings));
    if (next.done) return next.value;
    evaluation = next.value;
  }
}

/** The spec's parts every person is mapped with, worked out once per run. */
interface MappingRules {
  readonly spec: SyncSpec;
  readonly attributes: readonly (readonly [string, Expression])[];
  readonly pairing: ReadonlySet<number>;
  /** Attributes whose expression calls `$selectUnique`: each gets its own, sticky binding. */
  readonly unique: ReadonlySet<string>;
  readonly types?: AttributeTypes;
}

const SELECT_UNIQUE_CALL = /\$selectUnique\s*\(/;

export async function mapPeople(
  people: readonly Person[],
  heldPeople: readonly HeldPerson[],
  spec: SyncSpec,
  tenant: MappingTenantView = noTenant(),
): Promise<MapResult> {
  const users: DesiredUser[] = [];
  const outOfScope: OutOfScopePerson[] = [];
  const heldAnchors: string[] = [];
  const heldWithoutAnchor: string[] = [];
  const issues: SourceIssue[] = [];
  const anchorFunctions = functionBindings(NOTHING_TAKEN, undefined);

  for (const held of heldPeople) {
    // Held people still have an account to protect: find its anchor if the records agree on one.
    const anchors = new Set<string>();
    const bySource = Object.fromEntries(held.records.map((r) => [r.source, r]));
    for (const record of held.records.filter((r) => r.source === spec.primarySource)) {
      try {
        const records = { ...bySource, [record.source]: record };
        anchors.add(await drive(anchorSteps(spec, record, bindingsOf(records, anchorFunctions))));
      } catch {
        anchors.clear();
        break;
      }
    }
    if (anchors.size > 0) heldAnchors.push(...anchors);
    else heldWithoutAnchor.push(held.personKey);
  }

  const rules: MappingRules = {
    spec,
    attributes: Object.entries(spec.users.attributes),
    pairing: pairedRules(spec),
    unique: new Set(
      Object.entries(spec.users.attributes)
        .filter(([, e]) => SELECT_UNIQUE_CALL.test(e.text))
        .map(([a]) => a),
    ),
    ...(tenant.attributeTypes ? { types: tenant.attributeTypes } : {}),
  };
  // A fixed order (by key, not by row) so that `$selectUnique` hands out the same identifiers on
  // every run, however the export happens to be sorted.
  const ordered = [...people].sort((a, b) => compareText(a.key, b.key));
  for (const person of ordered) {
    let anchor: string;
    try {
      const pending = drive(
        anchorSteps(spec, person.primary, bindingsOf(person.records, anchorFunctions)),
      );
      anchor = pending instanceof Promise ? await pending : pending;
    } catch (err) {
      heldWithoutAnchor.push(person.key);
      issues.push(mappingIssue(person, err));
      continue;
    }
    try {
      const own = tenant.accountIdByAnchor(anchor);
      const bindings = bindingsOf(person.records, functionBindings(tenant.uniqueness, own));
      // `$selectUnique` in an attribute's expression keeps the value the person's account has.
      const attributeBindings = (attribute: string): Bindings => {
        if (!rules.unique.has(attribute) || own === undefined) return bindings;
        const current = tenant.currentValue?.(own, attribute);
        if (current === undefined) return bindings;
        return { ...bindings, selectUnique: selectUnique(tenant.uniqueness, own, current) };
      };
      const pending = drive(personSteps(rules, person, anchor, bindings, attributeBindings));
      const mapped = pending instanceof Promise ? await pending : pending;
      if (mapped === OUT_OF_SCOPE) {
        outOfScope.push({ personKey: person.key, anchor, provenance: provenanceOf(person) });
      } else {
        users.push(mapped);
      }
    } catch (err) {
      heldAnchors.push(anchor);
      issues.push(mappingIssue(person, err));
    }
  }

  return {
    desired: { users, outOfScope, heldAnchors, heldWithoutAnchor },
    issues,
  };
}

function provenanceOf(person: Person): Provenance[] {
  return Object.values(person.records).map((r) => ({
    source: r.source,
    key: r.key,
    location: r.location,
  }));
}

/** Functions and every source's fields by source name (`$hr.first_name`). */
function bindingsOf(
  records: Readonly<Record<string, SourceRecord>>,
  functions: Bindings,
): Record<string, unknown> {
  const bindings: Record<string, unknown> = { ...functions };
  for (const name in records) bindings[name] = (records[name] as SourceRecord).fields;
  return bindings;
}

function* anchorSteps(spec: SyncSpec, primary: SourceRecord, bindings: Bindings): Steps<string> {
  const expression = spec.users.anchor;
  const value = yield ask(expression, primary.fields, bindings);
  const anchor = typeof value === 'number' ? String(value) : value;
  if (typeof anchor !== 'string' || anchor.trim() === '') {
    throw new MappingError(
      `${expression.configPath}: the anchor must be a non-empty string, got ${show(value)}`,
    );
  }
  return anchor.trim();
}

const OUT_OF_SCOPE = Symbol('out of scope');

/** One person's scope, attributes and access, or OUT_OF_SCOPE. */
function* personSteps(
  rules: MappingRules,
  person: Person,
  anchor: string,
  bindings: Bindings,
  attributeBindings: (attribute: string) => Bindings = () => bindings,
): Steps<DesiredUser | typeof OUT_OF_SCOPE> {
  const { spec } = rules;
  const input = person.primary.fields;
  if (spec.users.scope && !(yield* booleanSteps(spec.users.scope, input, bindings))) {
    return OUT_OF_SCOPE;
  }
  const attributes: Record<string, AttributeValue> = {};
  for (const [attribute, expression] of rules.attributes) {
    const value = yield ask(expression, input, attributeBindings(attribute));
    const type = rules.types?.get(attribute) ?? userPropertyType(attribute);
    attributes[attribute] = toAttributeValue(attribute, expression, value, type);
  }
  completeAttributes(spec, attributes);
  attributes[spec.users.anchorAttribute] = anchor;
  const access = yield* accessSteps(rules, input, bindings);
  const onboarding = spec.users.onboarding
    ? yield* onboardingSteps(spec.users.onboarding, input, bindings)
    : undefined;
  return {
    personKey: person.key,
    anchor,
    attributes,
    provenance: provenanceOf(person),
    ...access,
    ...(onboarding ? { onboarding } : {}),
  };
}

/**
 * `users.onboarding`'s expressions for one person: when the first credential becomes valid and
 * where it goes. Empty is absent (the onboarding stage holds a new hire without a recipient);
 * a value of the wrong type fails the person's mapping like any attribute.
 */
function* onboardingSteps(
  onboarding: NonNullable<SyncSpec['users']['onboarding']>,
  input: unknown,
  bindings: Bindings,
): Steps<NonNullable<DesiredUser['onboarding']>> {
  const text = function* (expression: Expression | undefined): Steps<string | undefined> {
    if (!expression) return undefined;
    const value = yield ask(expression, input, bindings);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      throw new MappingError(`${expression.configPath}: expected text, got ${show(value)}`);
    }
    return value.trim() === '' ? undefined : value.trim();
  };
  const startAt = yield* text(onboarding.tap?.startAt);
  const address = yield* text(onboarding.delivery.address);
  return { ...(startAt ? { startAt } : {}), ...(address ? { address } : {}) };
}

function* booleanSteps(expression: Expression, input: unknown, bindings: Bindings): Steps<boolean> {
  const value = yield ask(expression, input, bindings);
  if (typeof value !== 'boolean') {
    throw new MappingError(`${expression.configPath}: expected true or false, got ${show(value)}`);
  }
  return value;
}

/** The required attributes are there; the defaults Graph needs filled in. */
function completeAttributes(spec: SyncSpec, attributes: Record<string, AttributeValue>): void {
  for (const required of ['userPrincipalName', 'displayName'] as const) {
    if (typeof attributes[required] !== 'string') {
      const expression = spec.users.attributes[required];
      throw new MappingError(
        `${expression?.configPath ?? `users.attributes.${required}`}: ${required} is required, got nothing`,
      );
    }
  }
  validateIdentifiers(spec, attributes);
  if (attributes.accountEnabled === undefined) attributes.accountEnabled = true;
  if (attributes.mailNickname === undefined || attributes.mailNickname === null) {
    attributes.mailNickname = mailNicknameFromUpn(attributes.userPrincipalName as string);
  }
}

/**
 * Group memberships, license rules and the manager key of one person. Any failure holds the
 * person like a failed attribute: a person whose groups cannot be computed is not a leaver of
 * every group.
 */
function* accessSteps(
  rules: MappingRules,
  input: unknown,
  bindings: Bindings,
): Steps<Pick<DesiredUser, 'groups' | 'licenseRules' | 'managerKey'>> {
  const { spec, pairing } = rules;
  const out: { groups?: DesiredMembership[]; licenseRules?: number[]; managerKey?: string } = {};
  if (spec.groups.length > 0) {
    const groups: DesiredMembership[] = [];
    for (let rule = 0; rule < spec.groups.length; rule++) {
      const group = spec.groups[rule] as SyncSpec['groups'][number];
      const member = !group.members || (yield* booleanSteps(group.members, input, bindings));
      // A rule that nests groups by people's values needs everyone's values, members or not
      // (such rules are all `foreach`).
      if (!member && !pairing.has(rule)) continue;
      if (!group.foreach) {
        groups.push({ rule, name: group.name as string });
        continue;
      }
      const raw = yield ask(group.foreach, input, bindings);
      const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v: unknown) => {
        if (v === undefined || v === null) return [];
        if (typeof v !== 'string' && typeof v !== 'number') {
          throw new MappingError(
            `${group.foreach?.configPath ?? ''}: a foreach value must be text, got ${show(v)}`,
          );
        }
        const text = String(v).trim();
        return text === '' ? [] : [text];
      });
      for (const value of [...new Set(values)]) {
        const nameExpression = group.name as Expression;
        const name = yield ask(nameExpression, input, { ...bindings, value });
        if (typeof name !== 'string' || name.trim() === '') {
          throw new MappingError(
            `${nameExpression.configPath}: the group name must be non-empty text, got ${show(name)}`,
          );
        }
        groups.push({ rule, value, name: name.trim(), ...(member ? {} : { nestingOnly: true }) });
      }
    }
    out.groups = groups;
  }
  if (spec.licenses.length > 0) {
    const licenseRules: number[] = [];
    for (let index = 0; index < spec.licenses.length; index++) {
      const when = spec.licenses[index]?.when;
      if (!when || (yield* booleanSteps(when, input, bindings))) licenseRules.push(index);
    }
    out.licenseRules = licenseRules;
  }
  if (spec.users.manager) {
    const value = yield ask(spec.users.manager, input, bindings);
    if (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '')) {
      out.managerKey = String(value).trim();
    } else if (value !== undefined && value !== null && value !== '') {
      throw new MappingError(
        `${spec.users.manager.configPath}: the manager key must be text, got ${show(value)}`,
      );
    }
  }
  return out;
}

/**
 * `foreach` rules on either side of a nesting paired through people (a `foreach` rule whose
 * `memberGroups` names another `foreach` rule): their values count for everyone in scope.
 */
function pairedRules(spec: SyncSpec): ReadonlySet<number> {
  const out = new Set<number>();
  spec.groups.forEach((parent, p) => {
    if (!parent.foreach) return;
    for (const key of parent.memberGroups ?? []) {
      const c = spec.groups.findIndex((g) => g.key === key);
      if (c < 0 || !spec.groups[c]?.foreach) continue;
      out.add(p);
      out.add(c);
    }
  });
  return out;
}

/**
 * Graph's rules for the identifiers it rejects at create time, checked per person at plan time
 * so a bad record is a plan error naming the record, not a 400 halfway through an apply.
 */
const UPN = /^[A-Za-z0-9'._!#^~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const MAIL_NICKNAME = /^[\x21-\x7e]+$/;

function validateIdentifiers(spec: SyncSpec, attributes: Record<string, AttributeValue>): void {
  const upn = attributes.userPrincipalName;
  const path = (a: string) => spec.users.attributes[a]?.configPath ?? `users.attributes.${a}`;
  if (typeof upn === 'string') {
    const local = upn.slice(0, upn.lastIndexOf('@'));
    if (
      !UPN.test(upn) ||
      local.length > 64 ||
      local.startsWith('.') ||
      local.endsWith('.') ||
      local.includes('..')
    ) {
      throw new MappingError(
        `${path('userPrincipalName')}: ${JSON.stringify(upn)} is not a valid userPrincipalName (ASCII letters, digits and ' . _ ! # ^ ~ - before a single @ and a domain; at most 64 characters before the @; use $foldDiacritics)`,
      );
    }
  }
  const nickname = attributes.mailNickname;
  if (
    typeof nickname === 'string' &&
    (!MAIL_NICKNAME.test(nickname) || /[@()\\[\]";:<>,]/.test(nickname) || nickname.length > 64)
  ) {
    throw new MappingError(
      `${path('mailNickname')}: ${JSON.stringify(nickname)} is not a valid mailNickname (ASCII without spaces or @ ( ) \\ [ ] " ; : < > , and at most 64 characters; use $mailNickname)`,
    );
  }
}

/** JSONata's guardrail codes: time (D1012), stack depth (D1011), sequence length (D2015). */
const RUNAWAY_CODES: Readonly<Record<string, string>> = {
  D1012: 'the time bound',
  D1011: 'the stack depth bound',
  D2015: 'the sequence length bound',
};

/**
 * A runaway expression is a config problem, not a person's: it would run away for everyone, so
 * the plan stops with the expression's position instead of holding every person one by one (M3).
 */
function rethrowIfRunaway(err: unknown): void {
  if (!(err instanceof ExpressionEvaluationError) || !err.jsonataCode) return;
  const bound = RUNAWAY_CODES[err.jsonataCode];
  if (!bound) return;
  const e = err.expression;
  throw new ConfigError([
    {
      severity: 'error',
      code: 'expr.runaway',
      message: `\`${e.configPath}\` was stopped by ${bound} (${err.jsonataCode}): the expression runs away; simplify it`,
      path: e.configPath,
      position: e.position,
    },
  ]);
}

function mappingIssue(person: Person, err: unknown): SourceIssue {
  rethrowIfRunaway(err);
  const detail =
    err instanceof ExpressionEvaluationError || err instanceof MappingError
      ? err.message
      : `unexpected error: ${String(err)}`;
  return {
    severity: 'error',
    code: 'map.failed',
    message: `${person.key}: ${detail}; this person is held: not created, changed or deprovisioned`,
    location: person.primary.location,
    key: person.primary.key,
  };
}
