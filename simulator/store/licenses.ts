/**
 * Licenses as stored: subscribed SKUs with their consumed-unit counters, and users' assignment
 * paths recomputed (with licensing.ts, which computes them) in the same transaction as every
 * write that can change them. One unit per user and SKU held, directly or through a licensed
 * group. Writes here run inside the caller's transaction.
 */
import type Database from 'better-sqlite3';
import type { GroupGrant } from '../licensing.js';
import {
  assignedLicensesOf,
  assignmentStatesOf,
  computeLicenses,
  directLicensesOf,
} from '../licensing.js';
import type { LinkTable } from './links.js';
import type {
  AssignedLicense,
  DirectoryDocument,
  GroupLicenseResult,
  LicenseResult,
  ObjectKind,
  StoredSku,
  UserDocument,
} from './model.js';
import type { ObjectTable } from './objects.js';

/** A user's or group's `assignedLicenses` (the SKUs a user holds a seat of), lowercased. */
export function licensesOf(doc: DirectoryDocument): AssignedLicense[] {
  return assignedLicensesOf(doc);
}

/** Graph's DateTimeOffset form, to the second (`lastUpdatedDateTime`). */
function dateTimeOf(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Seats that can be assigned: enabled plus warning units (warning units still work). */
export function seatsOf(sku: Readonly<Record<string, unknown>>): number {
  const prepaid = sku['prepaidUnits'];
  if (typeof prepaid !== 'object' || prepaid === null) return 0;
  const units = prepaid as Record<string, unknown>;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return n(units['enabled']) + n(units['warning']);
}

export type SkuSeats = ReturnType<typeof createSkuSeats>;

/**
 * The `skus` table and the recomputation of users' licensing that keeps its counters right,
 * for the other parts of the store.
 */
export function createSkuSeats(db: Database.Database, objects: ObjectTable, links: LinkTable) {
  const skus = createSkuTable(db);
  return { ...skus, ...createRelicensing(objects, links, skus) };
}

type SkuTable = ReturnType<typeof createSkuTable>;

/** The `skus` table: subscribed SKUs and their consumed-unit counters. */
function createSkuTable(db: Database.Database) {
  const selectSkus = db.prepare<[], { sku_id: string; doc: string; consumed: number }>(
    'SELECT sku_id, doc, consumed FROM skus ORDER BY rowid',
  );
  const selectSku = db.prepare<[string], { sku_id: string; doc: string; consumed: number }>(
    'SELECT sku_id, doc, consumed FROM skus WHERE sku_id = ?',
  );
  const insertSku = db.prepare<[string, string]>('INSERT INTO skus (sku_id, doc) VALUES (?, ?)');
  const addConsumed = db.prepare<[number, string]>(
    'UPDATE skus SET consumed = max(0, consumed + ?) WHERE sku_id = ?',
  );

  function releaseLicenses(doc: DirectoryDocument, sign: 1 | -1): void {
    for (const license of licensesOf(doc)) addConsumed.run(sign, license.skuId);
  }

  /** Whether `skuId` (lowercased) has a free seat; undefined for a SKU not subscribed to. */
  function hasFreeSeat(skuId: string): boolean | undefined {
    const sku = selectSku.get(skuId);
    if (sku === undefined) return undefined;
    return sku.consumed < seatsOf(JSON.parse(sku.doc) as Record<string, unknown>);
  }

  return {
    releaseLicenses,
    hasFreeSeat,
    isSubscribed: (skuId: string): boolean => selectSku.get(skuId) !== undefined,
    /** Adds `delta` consumed units to `skuId` (lowercased); never below zero. */
    consume: (skuId: string, delta: 1 | -1): void => {
      addConsumed.run(delta, skuId);
    },
    listSkus: (): StoredSku[] =>
      selectSkus.all().map((row) => ({
        skuId: row.sku_id,
        doc: JSON.parse(row.doc) as Record<string, unknown>,
        consumedUnits: row.consumed,
      })),
    /** A seeded SKU, stored by its lowercased id; seeded users' seats are counted separately. */
    insertSeedSku: (sku: Readonly<Record<string, unknown>> & { skuId: string }): void => {
      const { skuId, ...rest } = sku;
      insertSku.run(skuId.toLowerCase(), JSON.stringify({ ...rest, skuId: skuId.toLowerCase() }));
    },
    /** Seeded licenses consume seats like assigned ones. */
    consumeSeededSeats: (user: DirectoryDocument): void => {
      for (const license of licensesOf(user)) addConsumed.run(1, license.skuId.toLowerCase());
    },
  };
}

/**
 * The recomputation of users' licensing that keeps the SKU counters right: what every
 * membership, deletion, restore and assignment calls.
 */
function createRelicensing(objects: ObjectTable, links: LinkTable, skus: SkuTable) {
  /** An active group's licenses; none for a deleted, purged or missing group. */
  function groupLicensesTx(groupId: string): AssignedLicense[] {
    const row = objects.rowById(groupId.toLowerCase());
    if (row === undefined || row.state !== 'active' || row.kind !== 'group') return [];
    return licensesOf(JSON.parse(row.doc) as DirectoryDocument);
  }

  /**
   * Recomputes an active user's assignment paths (see licensing.ts) and keeps the SKU
   * consumed-unit counters in step; writes the user only when its licensing changed, so delta
   * reports `assignedLicenses` / `licenseAssignmentStates` exactly when they move. `directs`
   * replaces the direct assignments (user assignLicense); `previouslyHeld` overrides the SKUs
   * the user is taken to hold a seat of (a restored user holds none). Returns the user as
   * stored afterwards, or undefined when it is not an active user.
   */
  function relicenseUserTx(
    userId: string,
    nowMs: number,
    options: { directs?: readonly AssignedLicense[]; previouslyHeld?: ReadonlySet<string> } = {},
  ): UserDocument | undefined {
    const row = objects.rowById(userId.toLowerCase());
    if (row === undefined || row.state !== 'active' || row.kind !== 'user') return undefined;
    const user = JSON.parse(row.doc) as UserDocument;
    const grants: GroupGrant[] = links
      .linkSources('member', user.id)
      .map((groupId) => ({ groupId, licenses: groupLicensesTx(groupId) }))
      .filter((grant) => grant.licenses.length > 0);
    const previouslyHeld =
      options.previouslyHeld ?? new Set(licensesOf(user).map((l) => l.skuId.toLowerCase()));
    const previous = assignmentStatesOf(user);
    const result = computeLicenses({
      directs: options.directs ?? directLicensesOf(user),
      grants,
      previous,
      previouslyHeld,
      now: dateTimeOf(nowMs),
      takeSeat: (skuId, required) => {
        const free = skus.hasFreeSeat(skuId);
        if (free === undefined || (!required && !free)) return false;
        skus.consume(skuId, 1);
        return true;
      },
    });
    for (const skuId of previouslyHeld) if (!result.held.has(skuId)) skus.consume(skuId, -1);
    const changed: string[] = [];
    if (JSON.stringify(result.assignedLicenses) !== JSON.stringify(licensesOf(user))) {
      changed.push('assignedLicenses');
    }
    if (JSON.stringify(result.states) !== JSON.stringify(previous)) {
      changed.push('licenseAssignmentStates');
    }
    if (changed.length === 0) return user;
    const updated = {
      ...user,
      assignedLicenses: result.assignedLicenses,
      licenseAssignmentStates: result.states,
    } as UserDocument;
    objects.updateObjectTx('user', updated, changed);
    return updated;
  }

  /**
   * Recomputes the user members of a group that carries licenses (in any state: a group in
   * the recycle bin keeps them), or the given ones; a group without licenses costs nothing.
   */
  function relicenseMembersTx(groupId: string, nowMs: number, memberIds?: readonly string[]): void {
    if (licensesOf(groupDocTx(groupId)).length === 0) return;
    for (const memberId of memberIds ?? links.memberIdsTx(groupId)) {
      relicenseUserTx(memberId, nowMs);
    }
  }

  /** A group's document in any state (licenses survive soft deletion), or an empty one. */
  function groupDocTx(groupId: string): DirectoryDocument {
    const row = objects.rowById(groupId.toLowerCase());
    return row === undefined || row.kind !== 'group'
      ? { id: groupId }
      : (JSON.parse(row.doc) as DirectoryDocument);
  }

  return { relicenseUserTx, relicenseMembersTx };
}

/** User and group assignLicense: checked, then applied through the seat bookkeeping. */
export function createLicenseAssignment(objects: ObjectTable, links: LinkTable, seats: SkuSeats) {
  function assignLicensesTx(
    userId: string,
    add: readonly AssignedLicense[],
    remove: readonly string[],
    nowMs: number,
  ): LicenseResult {
    const user = activeDocTx(objects, 'user', userId, 'assignLicenses') as UserDocument;
    const unknown = unknownSku(add, remove);
    if (unknown !== undefined) return { ok: false, reason: 'unknownSku', skuId: unknown };
    const directs = new Map(directLicensesOf(user).map((l) => [l.skuId, l]));
    const inherited = new Set(
      assignmentStatesOf(user)
        .filter((s) => s.assignedByGroup !== null)
        .map((s) => s.skuId.toLowerCase()),
    );
    for (const skuId of remove) {
      const lower = skuId.toLowerCase();
      if (!directs.has(lower) && inherited.has(lower)) {
        return { ok: false, reason: 'inherited', skuId };
      }
    }
    const next = withChanges(directs, add, remove);
    // A SKU the user already holds (directly or through a group) needs no new seat.
    const held = new Set(licensesOf(user).map((l) => l.skuId.toLowerCase()));
    for (const skuId of next.keys()) {
      if (held.has(skuId)) continue;
      const free = seats.hasFreeSeat(skuId);
      if (free === undefined) return { ok: false, reason: 'unknownSku', skuId };
      if (!free) return { ok: false, reason: 'noSeats', skuId };
    }
    const updated = seats.relicenseUserTx(userId, nowMs, { directs: [...next.values()] }) ?? user;
    return { ok: true, user: updated };
  }

  function assignGroupLicensesTx(
    groupId: string,
    add: readonly AssignedLicense[],
    remove: readonly string[],
    nowMs: number,
  ): GroupLicenseResult {
    const group = activeDocTx(objects, 'group', groupId, 'assignGroupLicenses');
    const unknown = unknownSku(add, remove);
    if (unknown !== undefined) return { ok: false, reason: 'unknownSku', skuId: unknown };
    const current = licensesOf(group);
    const next = withChanges(new Map(current.map((l) => [l.skuId, l])), add, remove);
    const licenses = [...next.values()];
    let updated = group;
    if (JSON.stringify(licenses) !== JSON.stringify(current)) {
      updated = { ...group, assignedLicenses: licenses };
      objects.updateObjectTx('group', updated, ['assignedLicenses']);
    }
    // Every member is recomputed even when the group's licenses did not change, so repeating
    // an assignment retries members that found no free seat before.
    for (const memberId of links.memberIdsTx(group.id)) seats.relicenseUserTx(memberId, nowMs);
    return { ok: true, group: updated };
  }

  /** The first SKU named in `add` or `remove` that the tenant does not subscribe to. */
  function unknownSku(
    add: readonly AssignedLicense[],
    remove: readonly string[],
  ): string | undefined {
    for (const skuId of [...remove, ...add.map((l) => l.skuId)]) {
      if (!seats.isSubscribed(skuId.toLowerCase())) return skuId;
    }
    return undefined;
  }

  return { assignLicensesTx, assignGroupLicensesTx };
}

/** The document of the active `kind` with `id`; `caller` throws without one (a route's bug). */
function activeDocTx(
  objects: ObjectTable,
  kind: ObjectKind,
  id: string,
  caller: string,
): DirectoryDocument {
  const row = objects.rowById(id.toLowerCase());
  if (row === undefined || row.state !== 'active' || row.kind !== kind) {
    throw new Error(`${caller}: no active ${kind} ${id}`);
  }
  return JSON.parse(row.doc) as DirectoryDocument;
}

/** `current` (keyed by lowercased SKU id) without `remove` and with `add`, lowercased. */
function withChanges(
  current: ReadonlyMap<string, AssignedLicense>,
  add: readonly AssignedLicense[],
  remove: readonly string[],
): Map<string, AssignedLicense> {
  const next = new Map(current);
  for (const skuId of remove) next.delete(skuId.toLowerCase());
  for (const license of add) {
    next.set(license.skuId.toLowerCase(), {
      skuId: license.skuId.toLowerCase(),
      disabledPlans: license.disabledPlans.map((p) => p.toLowerCase()),
    });
  }
  return next;
}
