/**
 * Import: from a live tenant and the records of the primary source, infer a starting `users:`
 * mapping and say which account each record would match, so adopting a tenant starts from a
 * reviewed plan with nothing unexpected in it.
 *
 * How (pure: records and tenant in, proposal out):
 * 1. Pair records with accounts one to one: by an anchor attribute already on the accounts
 *    (employeeId, onPremisesImmutableId, an extension attribute) equal to a record field, else by
 *    a field equal to the UPN, else to mail; the strategy that pairs the most wins.
 * 2. For each attribute the accounts hold, try candidate expressions over the record (a field,
 *    its lowercase, two fields joined, `first.last@domain` forms) and keep the one that gives the
 *    account's value for the most pairs; attributes no candidate explains well enough are left
 *    out (mapping them would rewrite accounts) and listed.
 * 3. Everything a plan of that mapping would do beyond adopting is listed: records without an
 *    account (creates), accounts whose values the mapping would change (updates, renames),
 *    accounts already carrying the marker that no record matches (disables), privileged accounts
 *    (never adopted, P3).
 * Candidates are computed here in plain code; the command then plans with the written config to
 * prove the plan is what this proposal says.
 */
import {
  flattenExtensionAttribute,
  EXTENSION_ATTRIBUTES,
  USER_ATTRIBUTE_NAMES,
} from '../../config/schema.js';
import { immutableId } from '../../engine/expr/functions.js';
import { foldDiacritics, identifierKey } from '../../engine/expr/normalize.js';
import type { SourceRecord } from '../../engine/model/source.js';
import { LEGACY_MARKER_VALUE, MARKER_VALUE_PREFIX } from '../../engine/model/spec.js';
import type { MatchRule } from '../../engine/model/spec.js';
import type { AttributeValue, TenantState, TenantUser } from '../../engine/model/tenant.js';

export interface ImportInput {
  readonly source: string;
  /** Name of the primary source's key field (`key:` of its options). */
  readonly keyField: string;
  readonly records: readonly SourceRecord[];
  readonly tenant: TenantState;
  /** Flattened marker path, e.g. `onPremisesExtensionAttributes.extensionAttribute15`. */
  readonly markerAttribute: string;
  readonly markerValue: string;
  /** `target.marker.claimLegacy`: the legacy marker `entrasync` is this config's too (P16). */
  readonly claimLegacy?: boolean;
  /** Share of pairs an expression must explain to be mapped. Default 0.8. */
  readonly minAgreement?: number;
}

export type PairedBy = 'anchor' | 'userPrincipalName' | 'mail';

export interface InferredAttribute {
  /** Flattened Graph path (`department`, `onPremisesExtensionAttributes.extensionAttribute3`). */
  readonly attribute: string;
  readonly expression: string;
  /** Pairs whose account value the expression reproduces, out of `of`. */
  readonly agree: number;
  readonly of: number;
}

export interface SkippedAttribute {
  readonly attribute: string;
  readonly reason: string;
}

export interface ImportPair {
  readonly record: SourceRecord;
  readonly user: TenantUser;
  /** Attributes the mapping would change on this account: `department: "Sales" -> "Ops"`. */
  readonly differences: readonly string[];
  readonly privileged: boolean;
  readonly alreadyManaged: boolean;
}

export interface UnmatchedAccount {
  readonly user: TenantUser;
  readonly reason:
    'guest' | 'synced-from-on-premises' | 'managed-no-record' | 'unmanaged' | 'other-config';
}

export interface ImportProposal {
  readonly pairedBy: PairedBy;
  /** JSONata over the record for `users.anchor`. */
  readonly anchor: string;
  /** Config name for `users.anchorAttribute` (`employeeId`, `extensionAttribute3`). */
  readonly anchorAttribute: string;
  readonly match: readonly MatchRule[];
  readonly attributes: readonly InferredAttribute[];
  readonly skipped: readonly SkippedAttribute[];
  readonly pairs: readonly ImportPair[];
  readonly unmatchedRecords: readonly SourceRecord[];
  readonly unmatchedAccounts: readonly UnmatchedAccount[];
}

interface Candidate {
  readonly expression: string;
  readonly evaluate: (record: SourceRecord) => string | undefined;
  /** Lower is simpler; ties in agreement go to the simpler candidate. */
  readonly cost: number;
}

const SAMPLE = 400;
const ANCHOR_CANDIDATES = ['employeeId', 'onPremisesImmutableId', ...EXTENSION_ATTRIBUTES] as const;
/** Attributes import never maps: identity it decides itself, or values Graph derives. */
const NOT_MAPPED = new Set(['userPrincipalName', 'accountEnabled', 'onPremisesImmutableId']);

export function inferImport(input: ImportInput): ImportProposal {
  const minAgreement = input.minAgreement ?? 0.8;
  const fields = scalarFields(input.records);
  const eligible = input.tenant.users.filter(
    (u) => u.attributes.userType !== 'Guest' && u.attributes.onPremisesSyncEnabled !== true,
  );

  // 1. Pairing.
  const strategies = pairingStrategies(input, fields, eligible);
  const best = strategies.sort((a, b) => b.pairs.size - a.pairs.size || a.rank - b.rank)[0];
  const pairing = best ?? {
    by: 'userPrincipalName' as PairedBy,
    anchorAttribute: undefined,
    anchorExpression: undefined,
    pairs: new Map<SourceRecord, TenantUser>(),
    rank: 9,
  };
  const pairs = [...pairing.pairs.entries()];
  const sample = pairs.slice(0, SAMPLE);

  // 2. Anchor: the attribute that paired them, or the key written to a free attribute.
  let anchorAttribute = pairing.anchorAttribute;
  let anchorPath = anchorAttribute ? configNameToPath(anchorAttribute) : undefined;
  const anchorExpression = pairing.anchorExpression ?? fieldRef(input.keyField);
  if (!anchorAttribute) {
    const free = ANCHOR_CANDIDATES.find((name) => {
      const path = configNameToPath(name);
      if (path === input.markerAttribute || name === 'onPremisesImmutableId') return false;
      return pairs.every(([record, user]) => {
        const v = user.attributes[path];
        return v === null || v === undefined || v === '' || v === record.key;
      });
    });
    anchorAttribute = free ?? 'employeeId';
    anchorPath = configNameToPath(anchorAttribute);
  }

  // 3. Attributes.
  const domain = commonDomain(pairs.map(([, u]) => u.userPrincipalName));
  const attributes: InferredAttribute[] = [];
  const skipped: SkippedAttribute[] = [];
  const upn = bestCandidate(
    'userPrincipalName',
    identityCandidates(fields, relevantFields('userPrincipalName', fields, sample), domain),
    sample,
  );
  attributes.push(
    upn ?? {
      attribute: 'userPrincipalName',
      expression: `$lowercase(${fieldRef(input.keyField)}) & '@${domain}'`,
      agree: 0,
      of: sample.length,
    },
  );
  for (const attribute of USER_ATTRIBUTE_NAMES as readonly string[]) {
    if (
      NOT_MAPPED.has(attribute) ||
      attribute === anchorPath ||
      attribute === input.markerAttribute
    ) {
      continue;
    }
    const held = sample.filter(([, u]) => !isEmpty(u.attributes[attribute])).length;
    if (held === 0) continue;
    const parts = relevantFields(attribute, fields, sample);
    const candidates =
      attribute === 'mail'
        ? identityCandidates(fields, parts, mailDomain(sample) ?? domain)
        : attribute === 'mailNickname'
          ? [...valueCandidates(fields), ...nicknameCandidates(fields, parts)]
          : attribute === 'displayName'
            ? [...valueCandidates(fields), ...joinedCandidates(parts, ' ')]
            : valueCandidates(fields);
    const found = bestCandidate(attribute, candidates, sample);
    if (found && found.agree / Math.max(1, found.of) >= minAgreement) {
      attributes.push(found);
    } else if (attribute === 'displayName') {
      attributes.push(
        found ?? { attribute, expression: fieldRef(input.keyField), agree: 0, of: sample.length },
      );
    } else {
      skipped.push({
        attribute,
        reason: found
          ? `\`${found.expression}\` gives the account's value for only ${found.agree} of ${found.of} accounts`
          : `no source field gives the values ${held} account(s) hold`,
      });
    }
  }
  const enabled = enabledCandidate(input.records, fields, sample);
  if (enabled) attributes.push(enabled);

  // 4. What a plan of this mapping would do besides adopting.
  const privileged = new Set((input.tenant.privileged ?? []).map((p) => p.userId));
  const candidates = allCandidates(fields, domain, mailDomain(sample));
  const evaluators = new Map<string, (r: SourceRecord) => string | undefined>();
  for (const a of [...attributes.map((x) => x.expression), anchorExpression]) {
    const evaluate = evaluatorFor(a, candidates);
    if (evaluate) evaluators.set(a, evaluate);
  }
  const importPairs: ImportPair[] = pairs.map(([record, user]) => ({
    record,
    user,
    differences: differences(record, user, attributes, anchorPath, anchorExpression, evaluators),
    privileged: privileged.has(user.id),
    alreadyManaged: ownMarker(user, input),
  }));
  const pairedUsers = new Set(pairs.map(([, u]) => u.id));
  const pairedRecords = new Set(pairs.map(([r]) => r));
  const unmatchedAccounts: UnmatchedAccount[] = input.tenant.users
    .filter((u) => !pairedUsers.has(u.id))
    .map((user) => ({
      user,
      reason:
        user.attributes.userType === 'Guest'
          ? 'guest'
          : user.attributes.onPremisesSyncEnabled === true
            ? 'synced-from-on-premises'
            : ownMarker(user, input)
              ? 'managed-no-record'
              : isEntrasyncMarker(user.attributes[input.markerAttribute])
                ? 'other-config'
                : 'unmanaged',
    }));

  const match: MatchRule[] =
    pairing.by === 'mail'
      ? ['anchor', 'userPrincipalName', 'mail']
      : ['anchor', 'userPrincipalName'];
  return {
    pairedBy: pairing.by,
    anchor: anchorExpression,
    anchorAttribute,
    match,
    attributes: sortAttributes(attributes),
    skipped,
    pairs: importPairs,
    unmatchedRecords: input.records.filter((r) => !pairedRecords.has(r)),
    unmatchedAccounts,
  };
}

interface Pairing {
  readonly by: PairedBy;
  readonly anchorAttribute: string | undefined;
  readonly anchorExpression: string | undefined;
  readonly pairs: Map<SourceRecord, TenantUser>;
  /** Tie-break: anchor before UPN before mail. */
  readonly rank: number;
}

function pairingStrategies(
  input: ImportInput,
  fields: readonly string[],
  users: readonly TenantUser[],
): Pairing[] {
  const out: Pairing[] = [];
  for (const name of ANCHOR_CANDIDATES) {
    const path = configNameToPath(name);
    if (path === input.markerAttribute) continue;
    const index = uniqueIndex(users, (u) => text(u.attributes[path])?.trim());
    if (index.size === 0) continue;
    for (const field of fields) {
      const plain = pairBy(input.records, index, (r) => fieldValue(r, field)?.trim());
      out.push({
        by: 'anchor',
        anchorAttribute: name,
        anchorExpression: fieldRef(field),
        pairs: plain,
        rank: 0,
      });
      if (name === 'onPremisesImmutableId') {
        const derived = pairBy(input.records, index, (r) => immutableId(fieldValue(r, field)));
        out.push({
          by: 'anchor',
          anchorAttribute: name,
          anchorExpression: `$immutableId(${fieldRef(field)})`,
          pairs: derived,
          rank: 1,
        });
      }
    }
  }
  const byUpn = uniqueIndex(users, (u) => identifierKey(u.userPrincipalName));
  const byMail = uniqueIndex(users, (u) => {
    const m = text(u.attributes.mail);
    return m ? identifierKey(m) : undefined;
  });
  for (const field of fields) {
    const value = (r: SourceRecord) => {
      const v = fieldValue(r, field);
      return v ? identifierKey(v) : undefined;
    };
    out.push({
      by: 'userPrincipalName',
      anchorAttribute: undefined,
      anchorExpression: undefined,
      pairs: pairBy(input.records, byUpn, value),
      rank: 2,
    });
    out.push({
      by: 'mail',
      anchorAttribute: undefined,
      anchorExpression: undefined,
      pairs: pairBy(input.records, byMail, value),
      rank: 3,
    });
  }
  // No field holds the UPN: try the usual ways a UPN is built from names (`first.last@domain`),
  // choosing the form on a sample and pairing everyone with it.
  const domain = commonDomain(users.map((u) => u.userPrincipalName));
  const sample = input.records.slice(0, SAMPLE);
  let derived: { c: Candidate; hits: number } | undefined;
  for (const c of identityCandidates(fields, fields, domain)) {
    if (c.cost < 2) continue; // a field as it is: covered above
    let hits = 0;
    for (const r of sample) {
      const v = c.evaluate(r);
      if (v && byUpn.has(identifierKey(v))) hits++;
    }
    if (hits > 0 && (!derived || hits > derived.hits)) derived = { c, hits };
  }
  if (derived) {
    const evaluate = derived.c.evaluate;
    out.push({
      by: 'userPrincipalName',
      anchorAttribute: undefined,
      anchorExpression: undefined,
      pairs: pairBy(input.records, byUpn, (r) => {
        const v = evaluate(r);
        return v ? identifierKey(v) : undefined;
      }),
      rank: 4,
    });
  }
  return out.filter((p) => p.pairs.size > 0);
}

/** Value -> the one user holding it; values held by two users are left out (ambiguous). */
function uniqueIndex(
  users: readonly TenantUser[],
  key: (u: TenantUser) => string | undefined,
): Map<string, TenantUser> {
  const index = new Map<string, TenantUser>();
  const dup = new Set<string>();
  for (const u of users) {
    const k = key(u);
    if (!k) continue;
    if (index.has(k)) dup.add(k);
    else index.set(k, u);
  }
  for (const k of dup) index.delete(k);
  return index;
}

function pairBy(
  records: readonly SourceRecord[],
  index: ReadonlyMap<string, TenantUser>,
  key: (r: SourceRecord) => string | undefined,
): Map<SourceRecord, TenantUser> {
  const pairs = new Map<SourceRecord, TenantUser>();
  const taken = new Map<string, number>();
  for (const r of records) {
    const k = key(r);
    const u = k ? index.get(k) : undefined;
    if (u) {
      pairs.set(r, u);
      taken.set(u.id, (taken.get(u.id) ?? 0) + 1);
    }
  }
  // One to one only: an account two records point at pairs with neither.
  for (const [r, u] of pairs) if ((taken.get(u.id) ?? 0) > 1) pairs.delete(r);
  return pairs;
}

function bestCandidate(
  attribute: string,
  candidates: readonly Candidate[],
  sample: readonly (readonly [SourceRecord, TenantUser])[],
): InferredAttribute | undefined {
  let best: { c: Candidate; agree: number } | undefined;
  for (const c of candidates) {
    let agree = 0;
    for (const [record, user] of sample) {
      if (same(attribute, user.attributes[attribute], c.evaluate(record))) agree++;
    }
    if (agree === 0) continue;
    if (!best || agree > best.agree || (agree === best.agree && c.cost < best.c.cost)) {
      best = { c, agree };
    }
  }
  return best
    ? { attribute, expression: best.c.expression, agree: best.agree, of: sample.length }
    : undefined;
}

function enabledCandidate(
  records: readonly SourceRecord[],
  fields: readonly string[],
  sample: readonly (readonly [SourceRecord, TenantUser])[],
): InferredAttribute | undefined {
  const enabled = (u: TenantUser) => u.attributes.accountEnabled === true;
  const allEnabled = sample.filter(([, u]) => enabled(u)).length;
  let best: { expression: string; agree: number } | undefined;
  for (const field of fields) {
    const values = new Set(records.map((r) => fieldValue(r, field) ?? ''));
    if (values.size < 2 || values.size > 12) continue;
    for (const value of [...values].sort()) {
      if (value === '') continue;
      let agree = 0;
      for (const [record, user] of sample) {
        if ((fieldValue(record, field) === value) === enabled(user)) agree++;
      }
      if (!best || agree > best.agree) {
        best = { expression: `${fieldRef(field)} = ${jsonataString(value)}`, agree };
      }
    }
  }
  // A rule that explains no more than "everyone is enabled" is left out (the default, true).
  if (!best || best.agree <= allEnabled) return undefined;
  return {
    attribute: 'accountEnabled',
    expression: best.expression,
    agree: best.agree,
    of: sample.length,
  };
}

function valueCandidates(fields: readonly string[]): Candidate[] {
  return fields.flatMap((f) => [
    { expression: fieldRef(f), evaluate: (r: SourceRecord) => fieldValue(r, f), cost: 0 },
  ]);
}

function joinedCandidates(fields: readonly string[], separator: string): Candidate[] {
  const out: Candidate[] = [];
  for (const a of fields) {
    for (const b of fields) {
      if (a === b) continue;
      out.push({
        expression: `${fieldRef(a)} & ${jsonataString(separator)} & ${fieldRef(b)}`,
        evaluate: (r) => join(fieldValue(r, a), separator, fieldValue(r, b)),
        cost: 2,
      });
    }
  }
  return out;
}

/**
 * Fields worth combining for an attribute: those whose value (folded, lowercased) appears inside
 * the account's value for at least a third of the pairs. Keeps two-field candidates from growing
 * with the square of a wide LDAP entry.
 */
function relevantFields(
  attribute: string,
  fields: readonly string[],
  sample: readonly (readonly [SourceRecord, TenantUser])[],
): string[] {
  const fold = (v: string) => foldDiacritics(v).toLowerCase();
  return fields.filter((f) => {
    let hits = 0;
    for (const [record, user] of sample) {
      const target = text(user.attributes[attribute] ?? null);
      const value = fieldValue(record, f);
      if (target && value && fold(target).includes(fold(value))) hits++;
    }
    return hits * 3 >= sample.length && hits > 0;
  });
}

function allCandidates(
  fields: readonly string[],
  domain: string,
  mail: string | undefined,
): Candidate[] {
  return [
    ...joinedCandidates(fields, ' '),
    ...nicknameCandidates(fields, fields),
    ...identityCandidates(fields, fields, domain),
    ...(mail && mail !== domain ? identityCandidates(fields, fields, mail) : []),
  ];
}

function nicknameCandidates(fields: readonly string[], parts: readonly string[]): Candidate[] {
  const out: Candidate[] = [];
  for (const f of fields) {
    out.push({
      expression: `$lowercase(${fieldRef(f)})`,
      evaluate: (r) => fieldValue(r, f)?.toLowerCase(),
      cost: 1,
    });
  }
  for (const a of parts) {
    for (const b of parts) {
      if (a === b) continue;
      out.push({
        expression: `$lowercase(${fieldRef(a)} & '.' & ${fieldRef(b)})`,
        evaluate: (r) => join(fieldValue(r, a), '.', fieldValue(r, b))?.toLowerCase(),
        cost: 3,
      });
      out.push({
        expression: `$lowercase($foldDiacritics(${fieldRef(a)} & '.' & ${fieldRef(b)}))`,
        evaluate: (r) => {
          const v = join(fieldValue(r, a), '.', fieldValue(r, b));
          return v === undefined ? undefined : foldDiacritics(v).toLowerCase();
        },
        cost: 4,
      });
    }
  }
  return out;
}

/** UPN and mail: a field as it is, lowercased, or `first.last@domain` forms. */
function identityCandidates(
  fields: readonly string[],
  parts: readonly string[],
  domain: string,
): Candidate[] {
  const at = `@${domain}`;
  const out: Candidate[] = [...valueCandidates(fields)];
  for (const f of fields) {
    out.push({
      expression: `$lowercase(${fieldRef(f)})`,
      evaluate: (r) => fieldValue(r, f)?.toLowerCase(),
      cost: 1,
    });
    out.push({
      expression: `$lowercase(${fieldRef(f)}) & ${jsonataString(at)}`,
      evaluate: (r) => suffix(fieldValue(r, f)?.toLowerCase(), at),
      cost: 2,
    });
  }
  for (const a of parts) {
    for (const b of parts) {
      if (a === b) continue;
      out.push({
        expression: `$lowercase(${fieldRef(a)} & '.' & ${fieldRef(b)}) & ${jsonataString(at)}`,
        evaluate: (r) => suffix(join(fieldValue(r, a), '.', fieldValue(r, b))?.toLowerCase(), at),
        cost: 3,
      });
      out.push({
        expression: `$lowercase($foldDiacritics(${fieldRef(a)} & '.' & ${fieldRef(b)})) & ${jsonataString(at)}`,
        evaluate: (r) => {
          const v = join(fieldValue(r, a), '.', fieldValue(r, b));
          return suffix(v === undefined ? undefined : foldDiacritics(v).toLowerCase(), at);
        },
        cost: 4,
      });
      out.push({
        expression: `$lowercase($substring(${fieldRef(a)}, 0, 1) & ${fieldRef(b)}) & ${jsonataString(at)}`,
        evaluate: (r) => {
          const x = fieldValue(r, a);
          const y = fieldValue(r, b);
          return x && y ? `${x.slice(0, 1)}${y}`.toLowerCase() + at : undefined;
        },
        cost: 5,
      });
    }
  }
  return out;
}

function differences(
  record: SourceRecord,
  user: TenantUser,
  attributes: readonly InferredAttribute[],
  anchorPath: string | undefined,
  anchorExpression: string,
  evaluators: ReadonlyMap<string, (r: SourceRecord) => string | undefined>,
): string[] {
  const out: string[] = [];
  for (const a of attributes) {
    if (a.attribute === 'accountEnabled') continue;
    const evaluate = evaluators.get(a.expression);
    if (!evaluate) continue;
    const after = evaluate(record);
    const before = user.attributes[a.attribute];
    if (!same(a.attribute, before, after)) {
      out.push(`${a.attribute}: ${show(before)} -> ${show(after ?? null)}`);
    }
  }
  if (anchorPath) {
    const anchor = evaluators.get(anchorExpression)?.(record);
    const before = user.attributes[anchorPath];
    if (anchor !== undefined && !same(anchorPath, before, anchor)) {
      out.push(`${anchorPath}: ${show(before)} -> ${show(anchor)} (anchor)`);
    }
  }
  const enabled = attributes.find((a) => a.attribute === 'accountEnabled');
  const want = enabled ? enabledBy(enabled.expression, record) : true;
  if (want !== undefined && want !== (user.attributes.accountEnabled === true)) {
    out.push(`accountEnabled: ${String(user.attributes.accountEnabled)} -> ${String(want)}`);
  }
  return out;
}

/** Evaluates a `field = "value"` rule this module produced. */
function enabledBy(expression: string, record: SourceRecord): boolean | undefined {
  const m = /^(.+) = ('(?:[^'\\]|\\.)*')$/.exec(expression);
  const field = m ? fieldFromRef(m[1] ?? '') : undefined;
  if (!m || field === undefined) return undefined;
  return fieldValue(record, field) === parseJsonataString(m[2] ?? "''");
}

/** The evaluator of a candidate expression this module produced. */
function evaluatorFor(
  expression: string,
  candidates: readonly Candidate[],
): ((r: SourceRecord) => string | undefined) | undefined {
  if (/^\$immutableId\(/.test(expression)) {
    const field = fieldFromRef(expression.slice('$immutableId('.length, -1));
    return field === undefined ? undefined : (r) => immutableId(fieldValue(r, field));
  }
  const field = fieldFromRef(expression);
  if (field !== undefined) return (r) => fieldValue(r, field);
  return candidates.find((c) => c.expression === expression)?.evaluate;
}

function scalarFields(records: readonly SourceRecord[]): string[] {
  const fields = new Set<string>();
  for (const r of records.slice(0, SAMPLE)) {
    for (const [name, v] of Object.entries(r.fields)) {
      if ((typeof v === 'string' || typeof v === 'number') && !name.includes('`')) fields.add(name);
    }
  }
  return [...fields].sort();
}

function fieldValue(record: SourceRecord, field: string): string | undefined {
  const v = record.fields[field];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A JSONata path to a field: bare when it is an identifier, in backticks otherwise. */
export function fieldRef(field: string): string {
  return IDENTIFIER.test(field) ? field : `\`${field}\``;
}

function fieldFromRef(ref: string): string | undefined {
  if (IDENTIFIER.test(ref)) return ref;
  const m = /^`([^`]*)`$/.exec(ref);
  return m?.[1];
}

/** A single-quoted JSONata string literal (the style of the examples). */
function jsonataString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function parseJsonataString(literal: string): string {
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}

function join(a: string | undefined, sep: string, b: string | undefined): string | undefined {
  return a === undefined || b === undefined ? undefined : `${a}${sep}${b}`;
}

function suffix(value: string | undefined, at: string): string | undefined {
  return value === undefined ? undefined : value + at;
}

function text(v: AttributeValue | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isEmpty(v: AttributeValue | undefined): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Equality as the plan's diff sees it: empty is null, lists compare by items, UPN/mail by case. */
function same(
  attribute: string,
  before: AttributeValue | undefined,
  after: string | undefined,
): boolean {
  if (isEmpty(before)) return after === undefined;
  if (after === undefined) return false;
  if (Array.isArray(before)) return before.length === 1 && before[0] === after;
  if (typeof before !== 'string') return String(before) === after;
  if (attribute === 'userPrincipalName' || attribute === 'mail') {
    return before.toLowerCase() === after.toLowerCase();
  }
  return before === after;
}

function show(v: AttributeValue | undefined): string {
  return v === undefined || v === null ? 'null' : JSON.stringify(v);
}

function commonDomain(upns: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const upn of upns) {
    const d = upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
    if (d) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  return (
    [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ??
    'example.com'
  );
}

function mailDomain(sample: readonly (readonly [SourceRecord, TenantUser])[]): string | undefined {
  const mails = sample
    .map(([, u]) => text(u.attributes.mail))
    .filter((m): m is string => m !== undefined);
  return mails.length > 0 ? commonDomain(mails) : undefined;
}

function configNameToPath(name: string): string {
  return (EXTENSION_ATTRIBUTES as readonly string[]).includes(name)
    ? flattenExtensionAttribute(name as (typeof EXTENSION_ATTRIBUTES)[number])
    : name;
}

const ORDER = ['userPrincipalName', 'displayName', 'givenName', 'surname', 'mail', 'mailNickname'];

function sortAttributes(attributes: readonly InferredAttribute[]): InferredAttribute[] {
  const rank = (a: string) => {
    const i = ORDER.indexOf(a);
    if (i >= 0) return i;
    return a === 'accountEnabled' ? 1000 : 100;
  };
  return [...attributes].sort(
    (a, b) => rank(a.attribute) - rank(b.attribute) || a.attribute.localeCompare(b.attribute),
  );
}

function ownMarker(user: TenantUser, input: ImportInput): boolean {
  const value = user.attributes[input.markerAttribute];
  return (
    value === input.markerValue || (input.claimLegacy === true && value === LEGACY_MARKER_VALUE)
  );
}

/** Another entrasync config's marker (`entrasync:<id>`) or the unclaimed legacy one (P16). */
function isEntrasyncMarker(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    (value === LEGACY_MARKER_VALUE || value.startsWith(MARKER_VALUE_PREFIX))
  );
}
