/**
 * Write-back planning (issue 26): for each person whose account this config manages, the Entra
 * values `writeback.<source>.attributes` names, compared with what that person's record in the
 * source holds now. Only a difference is a change, so a source that holds the value already is
 * never written (idempotent), and a re-plan after the apply is empty.
 *
 * Values come from the tenant as read, never from what this plan is about to write:
 * - an account this plan creates (its object id is not known yet) or adopts (not managed yet)
 *   gets its write-back in the next plan;
 * - a field whose Entra attribute this plan changes (`updateUser`) waits for the next plan too,
 *   so a failed or held update never leaves the source holding a value Entra does not have.
 * So a new person converges in two runs: the first apply creates the account, the second
 * writes its values back, the third plans nothing. Writing after a create within the same apply
 * would need the apply to re-read the account and plan as it goes, outside the reviewed plan.
 *
 * Brakes, as for every other action: a source that is not `complete` (failed, incomplete,
 * shrunk, a record read twice) gets no write-back at all (`source-unhealthy`): a record it read
 * may be a stale copy; and more write-backs than `safety.maxWritebacks` (count AND percent of the
 * managed accounts) are held (`threshold`) until the plan is approved or
 * `apply --allow-writebacks <n> --plan <fingerprint>` lets exactly this plan through.
 */
import type { SourceRecord, SourceSnapshot, SourceValue } from '../model/source.js';
import type { ThresholdOverrides, UserChange } from '../model/plan.js';
import type { Approvals, Threshold } from '../model/spec.js';
import type { TenantUser } from '../model/tenant.js';
import type {
  BlockedWriteback,
  WritebackChange,
  WritebackField,
  WritebackSection,
  WritebackSpec,
} from '../model/writeback.js';
import { writebackId } from '../model/writeback.js';
import { canonicalDigest } from './fingerprint.js';
import type { MatchedPair } from './match.js';

export interface WritebackInput {
  readonly specs: readonly WritebackSpec[];
  readonly snapshots: readonly SourceSnapshot[];
  readonly pairs: readonly MatchedPair[];
  /** Accounts this config manages (ownership `managed`), by object id. */
  readonly managed: ReadonlySet<string>;
  /** Anchors of people held this run: nothing of theirs is written anywhere. */
  readonly heldAnchors: ReadonlySet<string>;
  /** The plan's Graph changes: fields whose Entra attribute they change wait a run. */
  readonly changes: readonly UserChange[];
}

/** Every write-back the sources need, before the brakes. Sorted by id. */
export function candidateWritebacks(input: WritebackInput): WritebackChange[] {
  const changing = changingAttributes(input.changes);
  const out: WritebackChange[] = [];
  for (const spec of input.specs) {
    const snapshot = input.snapshots.find((s) => s.name === spec.source);
    if (!snapshot) continue;
    const records = new Map(snapshot.records.map((r) => [r.key, r]));
    for (const pair of input.pairs) {
      const account = pair.account;
      if (!account || !input.managed.has(account.id)) continue;
      if (input.heldAnchors.has(pair.desired.anchor)) continue;
      const from = pair.desired.provenance.find((p) => p.source === spec.source);
      const record = from && records.get(from.key);
      if (!record) continue;
      const change = writebackFor(spec, record, account, changing.get(account.id));
      if (change) out.push(change);
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function writebackFor(
  spec: WritebackSpec,
  record: SourceRecord,
  account: TenantUser,
  changing: ReadonlySet<string> | undefined,
): WritebackChange | undefined {
  const set: WritebackField[] = [];
  for (const { field, from } of spec.attributes) {
    if (changing?.has(from.toLowerCase())) continue;
    const after = entraValue(account, from);
    // An Entra attribute with no value never clears the source's.
    if (after === undefined) continue;
    const held = fieldValue(record, field);
    if (held.same(after)) continue;
    set.push({ field, from, before: held.text, after });
  }
  if (set.length === 0) return undefined;
  const id =
    spec.idField === undefined ? record.key : textOf(fieldValue(record, spec.idField).text);
  return {
    id: writebackId(spec.source, record.key),
    source: spec.source,
    record: {
      key: record.key,
      ...(record.location.dn === undefined ? {} : { dn: record.location.dn }),
      ...(id === undefined ? {} : { id }),
    },
    user: { id: account.id, userPrincipalName: account.userPrincipalName },
    set,
    message: `write ${set.map((s) => `${s.field} <- ${s.from}`).join(', ')} to ${spec.source} record ${record.location.dn ?? record.key}`,
  };
}

function textOf(value: string | null): string | undefined {
  return value === null || value === '' ? undefined : value;
}

/** The account's value of an Entra attribute as text; undefined when it has none. */
export function entraValue(account: TenantUser, attribute: string): string | undefined {
  const value =
    attribute === 'id'
      ? account.id
      : attribute === 'userPrincipalName'
        ? account.userPrincipalName
        : account.attributes[attribute];
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The record's value of a field (LDAP attribute names match whatever their case), as text, and
 * whether it is exactly `value`: a single value equal to it (a list holding just it counts).
 */
function fieldValue(
  record: SourceRecord,
  field: string,
): { text: string | null; same: (value: string) => boolean } {
  let value: SourceValue | undefined = record.fields[field];
  if (value === undefined) {
    const lower = field.toLowerCase();
    const name = Object.keys(record.fields).find((k) => k.toLowerCase() === lower);
    value = name === undefined ? undefined : record.fields[name];
  }
  const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  const texts = list.flatMap((v) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : [],
  );
  return {
    text: texts.length === 0 ? null : texts.join(', '),
    same: (after) => texts.length === 1 && texts[0] === after,
  };
}

/** Attributes (lower case) the plan's updates set, by account id. */
function changingAttributes(changes: readonly UserChange[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const change of changes) {
    if (change.kind !== 'updateUser' && change.kind !== 'adoptUser') continue;
    const set = out.get(change.user.id) ?? new Set<string>();
    for (const a of change.set) set.add(a.attribute.toLowerCase());
    if (change.set.some((a) => a.attribute === 'userPrincipalName')) set.add('userprincipalname');
    out.set(change.user.id, set);
  }
  return out;
}

export interface WritebackBrakes {
  /** Source health by name, as the plan summarises it. */
  readonly sources: readonly { readonly name: string; readonly status: string }[];
  readonly threshold: Threshold;
  readonly managedUsers: number;
  /** The plan's fingerprint, which covers the write-backs (`withWritebacks`). */
  readonly fingerprint: string;
  readonly overrides?: ThresholdOverrides;
  readonly approvals: Approvals;
}

/** The brakes over the candidates: source health, then the `writebacks` threshold. */
export function brakeWritebacks(
  candidates: readonly WritebackChange[],
  brakes: WritebackBrakes,
): { section: WritebackSection; overrideUsed?: number } {
  const blocked: BlockedWriteback[] = [];
  let allowed: WritebackChange[] = [];
  for (const change of candidates) {
    const status = brakes.sources.find((s) => s.name === change.source)?.status ?? 'failed';
    if (status === 'complete') allowed.push(change);
    else
      blocked.push({
        change,
        code: 'source-unhealthy',
        message: `blocked: source "${change.source}" is ${status}; nothing is written back to it until it reads completely`,
      });
  }
  const { count, percent } = brakes.threshold;
  const n = allowed.length;
  let overrideUsed: number | undefined;
  if (n > count && n > (percent / 100) * brakes.managedUsers) {
    const bound = (prefix: string) =>
      prefix.length >= 12 && brakes.fingerprint.startsWith(prefix.toLowerCase());
    const allowance =
      brakes.overrides && bound(brakes.overrides.fingerprint)
        ? brakes.overrides.allow.writebacks
        : undefined;
    const approved = brakes.approvals.plans.some(bound);
    if (allowance !== undefined && n <= allowance) overrideUsed = allowance;
    else if (!approved) {
      const message =
        `blocked: ${n} write-backs exceed the threshold (more than ${count} and more than ${percent}% of ` +
        `${brakes.managedUsers} managed account(s)); if this is intended, review the plan and run apply with ` +
        `--allow-writebacks ${n} --plan ${brakes.fingerprint.slice(0, 12)}`;
      for (const change of allowed) blocked.push({ change, code: 'threshold', message });
      allowed = [];
    }
  }
  return {
    section: { changes: allowed, blocked },
    ...(overrideUsed === undefined ? {} : { overrideUsed }),
  };
}

/**
 * The plan fingerprint with its write-backs: each record, field and value. A plan without any
 * keeps the fingerprint it had before write-back existed.
 */
export function withWritebacks(fingerprint: string, changes: readonly WritebackChange[]): string {
  if (changes.length === 0) return fingerprint;
  return canonicalDigest({
    fingerprint,
    writebacks: changes.map((c) => ({ id: c.id, record: c.record, set: c.set })),
  });
}

/** Entra attributes the tenant read must select for the write-backs (beyond id and UPN). */
export function writebackAttributes(specs: readonly WritebackSpec[] | undefined): string[] {
  return [...new Set((specs ?? []).flatMap((s) => s.attributes.map((a) => a.from)))].filter(
    (a) => a !== 'id' && a !== 'userPrincipalName',
  );
}
