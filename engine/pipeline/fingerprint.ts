/**
 * Digests that bind a saved plan to what it was made from (style practice 5).
 *
 * The tenant digest covers only what the plan's decisions rest on, so unrelated activity in a
 * busy tenant does not make every reviewed plan stale: every managed account (the population
 * deprovisioning is judged against), every account a change targets, and for each create whether
 * an account with that UPN exists. Apply recomputes it from a fresh read and the saved plan alone.
 */
import { createHash } from 'node:crypto';
import { identifierKey } from '../expr/normalize.js';
import type { Change } from '../model/plan.js';
import { isGroupChange } from '../model/plan.js';
import type { MarkerSpec } from '../model/spec.js';
import type { TenantState, TenantUser } from '../model/tenant.js';
import { compareText } from './compare.js';
import { isMarked } from './ownership.js';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * JSON with object keys sorted at every level: equal data gives equal text. Written out
 * directly rather than by building a sorted copy for JSON.stringify: a 100,000-user tenant
 * digest then allocates one string instead of a second tenant. Same text as
 * `JSON.stringify(sortedCopy)` for plain data (the test checks both on arbitrary values):
 * undefined and function members are left out, and in arrays written as null.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

/**
 * `sha256(canonicalJson(value))`, the same digest, without the whole text in memory at once:
 * the outer two levels (a tenant's user list, a plan's changes) are written piece by piece
 * into the hash, so a 100,000-user digest never builds a 50 MB string for the collector.
 */
export function canonicalDigest(value: unknown): string {
  return streamedDigest((sink) => stream(value, sink, 0));
}

/** sha256 of the text `writeAll` hands its sink, fed to the hash in 64 KiB pieces. */
function streamedDigest(writeAll: (sink: (text: string) => void) => void): string {
  const hash = createHash('sha256');
  let pending = '';
  writeAll((text) => {
    pending += text;
    if (pending.length >= 65_536) {
      hash.update(pending);
      pending = '';
    }
  });
  hash.update(pending);
  return hash.digest('hex');
}

function stream(value: unknown, sink: (text: string) => void, depth: number): void {
  if (depth >= 2 || typeof value !== 'object' || value === null) {
    sink(write(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    sink('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) sink(',');
      stream(value[i], sink, depth + 1);
    }
    sink(']');
    return;
  }
  const { keys, labels } = shapeOf(value);
  sink('{');
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const member = (value as Record<string, unknown>)[keys[i] as string];
    const simple = typeof member !== 'object' || member === null;
    const text = simple ? write(member) : undefined;
    if (simple && text === undefined) continue;
    sink(`${first ? '' : ','}${labels[i] as string}`);
    first = false;
    if (text !== undefined) sink(text);
    else stream(member, sink, depth + 1);
  }
  sink('}');
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let text = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) text += ',';
          text += write(value[i]) ?? 'null';
        }
        return text + ']';
      }
      const { keys, labels, ordered } = shapeOf(value);
      // Already in canonical key order with only plain values: JSON.stringify writes the same
      // text, natively (the reader builds account attributes this way, sorted).
      if (ordered && plainMembers(value as Record<string, unknown>, keys)) {
        return JSON.stringify(value);
      }
      let text = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const member = write((value as Record<string, unknown>)[keys[i] as string]);
        if (member === undefined) continue;
        text += `${first ? '' : ','}${labels[i] as string}${member}`;
        first = false;
      }
      return text + '}';
    }
    default:
      return undefined;
  }
}

/**
 * Every member is one JSON.stringify writes exactly as `write` does: a string, a finite or
 * non-finite number, a boolean, null, undefined, or an array of those (no nested object, whose
 * keys JSON.stringify would not sort; no bigint, which it cannot write).
 */
function plainMembers(value: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const key of keys) {
    const member = value[key];
    if (typeof member === 'bigint' || typeof member === 'symbol' || typeof member === 'function') {
      return false;
    }
    if (typeof member !== 'object' || member === null) continue;
    if (!Array.isArray(member)) return false;
    for (const item of member as unknown[]) {
      if (item !== null && (typeof item === 'object' || typeof item === 'bigint')) return false;
    }
  }
  return true;
}

const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

/** An object's keys in canonical order and each one written out (`"key":`). */
interface Shape {
  /** The object's own keys, in its own order (what the cache is keyed by). */
  readonly own: readonly string[];
  readonly keys: readonly string[];
  readonly labels: readonly string[];
  /** The object's own key order is already the canonical one. */
  readonly ordered: boolean;
}

/**
 * Shapes by key set, so 100,000 accounts with the same attributes sort their keys once rather
 * than 100,000 times. Bounded: data with ever new key sets (a source's free-form fields) just
 * stops being cached.
 */
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 1000;

function shapeOf(value: object): Shape {
  const own = Object.keys(value);
  // A cheap signature; two key lists that join alike (a key holding a NUL) are told apart by
  // comparing the lists themselves, and the second one is simply not cached.
  const signature = own.join('\u0000');
  const cached = shapes.get(signature);
  if (cached !== undefined && sameKeys(cached.own, own)) return cached;
  const keys = sortedKeys(value);
  const shape = {
    own,
    keys,
    labels: keys.map((k) => `${JSON.stringify(k)}:`),
    ordered: keys.every((k, i) => own[i] === k),
  };
  if (cached === undefined && shapes.size < MAX_SHAPES) shapes.set(signature, shape);
  return shape;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Keys in the order JSON.stringify writes an object built in sorted order: integer-like keys
 * first by value (JavaScript enumerates them so, whatever the insertion order), then the
 * others by `compareText`.
 */
function sortedKeys(value: object): string[] {
  const indexes: string[] = [];
  const names: string[] = [];
  for (const key of Object.keys(value)) {
    (ARRAY_INDEX.test(key) && Number(key) < 4294967295 ? indexes : names).push(key);
  }
  indexes.sort((a, b) => Number(a) - Number(b));
  return indexes.length === 0 ? names.sort(compareText) : [...indexes, ...names.sort(compareText)];
}

export function tenantDigest(
  tenant: TenantState,
  marker: MarkerSpec,
  changes: readonly Change[],
): string {
  const targeted = new Set<string>();
  const createdUpns = new Set<string>();
  for (const change of changes) {
    if (isGroupChange(change)) continue;
    if (change.user.id) targeted.add(change.user.id);
    else createdUpns.add(identifierKey(change.user.userPrincipalName));
  }
  const relevantUsers = tenant.users
    .filter(
      (u) =>
        isMarked(u, marker) ||
        targeted.has(u.id) ||
        (createdUpns.size > 0 && createdUpns.has(identifierKey(u.userPrincipalName))),
    )
    .sort((a, b) => compareText(a.id, b.id));
  // Without groups (none read) the digest is the users' alone, as before groups existed.
  const groups = [...(tenant.groups ?? [])]
    .map((g) => ({ ...g, memberIds: [...g.memberIds].sort(compareText) }))
    .sort((a, b) => compareText(a.id, b.id));
  // canonicalDigest(groups.length === 0 ? users : { groups, users }) for the users as
  // { id, userPrincipalName, attributes, licenses?, managerId? }, written without building
  // those 100,000 objects (the test compares the two).
  return streamedDigest((sink) => {
    if (groups.length > 0) {
      sink('{"groups":');
      stream(groups, sink, 1);
      sink(',"users":');
    }
    sink('[');
    for (let i = 0; i < relevantUsers.length; i++) {
      sink(digestTextOfUser(relevantUsers[i] as TenantUser, i === 0 ? '' : ','));
    }
    sink(groups.length > 0 ? ']}' : ']');
  });
}

/** A user's part of the tenant digest, its keys in canonical order. */
function digestTextOfUser(u: TenantUser, separator: string): string {
  let text = `${separator}{"attributes":${write(u.attributes) ?? 'null'},"id":${JSON.stringify(u.id)}`;
  if (u.licenses !== undefined) text += `,"licenses":${write(u.licenses) ?? 'null'}`;
  if (u.managerId !== undefined) text += `,"managerId":${write(u.managerId) ?? 'null'}`;
  return `${text},"userPrincipalName":${JSON.stringify(u.userPrincipalName)}}`;
}

export function planFingerprint(
  configDigest: string,
  tenantDigestValue: string,
  changes: readonly Change[],
): string {
  return canonicalDigest({ configDigest, tenantDigest: tenantDigestValue, changes });
}

/**
 * The fingerprint of what a plan holds before any approval (issue 20): the config, the changes
 * a check held on its own (not those held only because they follow one), and the accounts they
 * target as the tenant has them. Applying the rest of the plan leaves all three as they are, so
 * an approval or override bound to it releases the held part in the plans made after that
 * apply; a change to a held change or to an account it targets makes it a new one to review.
 */
export function heldFingerprint(
  configDigest: string,
  held: readonly Change[],
  tenant: TenantState,
): string {
  const targeted = new Set<string>();
  for (const change of held) {
    if (!isGroupChange(change) && change.user.id) targeted.add(change.user.id);
  }
  const users = tenant.users
    .filter((u) => targeted.has(u.id))
    .sort((a, b) => compareText(a.id, b.id))
    .map((u) => digestTextOfUser(u, ''));
  const changes = [...held].sort((a, b) => compareText(a.id, b.id));
  return canonicalDigest({ configDigest, held: changes, users });
}
