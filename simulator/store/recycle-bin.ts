/**
 * The recycle bin and its way out: soft deletion, restore, purge, and the expiry of deleted
 * objects and tombstones. Each keeps licensing in step (a deleted user releases its seats, a
 * deleted group stops passing its licenses on) in the caller's transaction.
 */
import type Database from 'better-sqlite3';
import { withoutAddresses } from '../addresses.js';
import type { SkuSeats } from './licenses.js';
import { licensesOf } from './licenses.js';
import type { LinkTable } from './links.js';
import type { DirectoryDocument, WriteResult } from './model.js';
import type { ObjectTable } from './objects.js';
import { immutableIdOf, keyOf } from './objects.js';

export function createRecycleBin(
  db: Database.Database,
  objects: ObjectTable,
  links: LinkTable,
  seats: SkuSeats,
) {
  function softDeleteTx(id: string, nowMs: number): void {
    const row = objects.rowById(id.toLowerCase());
    if (row === undefined || row.state !== 'active') return;
    const doc = JSON.parse(row.doc) as DirectoryDocument;
    if (row.kind === 'user') seats.releaseLicenses(doc, -1);
    const deletedDoc = {
      ...doc,
      deletedDateTime: new Date(nowMs).toISOString().slice(0, 19) + 'Z',
    };
    // A deleted user keeps its UPN in the document but releases the unique key: Entra lets a
    // new user take the name, and restoring the old one then fails with a conflict.
    objects.changeState(id.toLowerCase(), {
      state: 'deleted',
      key: row.kind === 'group' ? keyOf('group', doc) : null,
      immutableId: null,
      doc: deletedDoc,
      deletedMs: nowMs,
    });
    objects.addresses.clear(id);
    // Members keep their membership in the recycle bin but no longer inherit its licenses.
    if (row.kind === 'group') seats.relicenseMembersTx(id, nowMs);
  }

  function restoreTx(
    id: string,
    given: DirectoryDocument,
    nowMs: number,
    reconcileAddresses: boolean,
  ): WriteResult {
    const row = objects.rowById(id.toLowerCase());
    if (row === undefined || row.state !== 'deleted') {
      throw new Error(`restore: no deleted object with id ${id}`);
    }
    // autoReconcileProxyConflict: addresses an active object took meanwhile are dropped.
    const doc = reconcileAddresses
      ? withoutAddresses(given, objects.addresses.heldByOthers(given, id))
      : given;
    const conflict = objects.conflictFor(row.kind, doc, id.toLowerCase());
    if (!conflict.ok) return conflict;
    objects.changeState(id.toLowerCase(), {
      state: 'active',
      key: keyOf(row.kind, doc),
      immutableId: immutableIdOf(row.kind, doc),
      doc,
      deletedMs: null,
    });
    objects.addresses.set(id, doc);
    // A restored user held no seats in the recycle bin: its direct licenses take theirs back
    // (as before deletion, unchecked) and inherited ones are seat-checked again.
    if (row.kind === 'user') seats.relicenseUserTx(id, nowMs, { previouslyHeld: new Set() });
    else seats.relicenseMembersTx(id, nowMs);
    return { ok: true };
  }

  function purgeTx(id: string, nowMs: number): void {
    const lower = id.toLowerCase();
    const row = objects.rowById(lower);
    if (row === undefined || row.state === 'purged') return;
    if (row.state === 'active' && row.kind === 'user') {
      seats.releaseLicenses(JSON.parse(row.doc) as DirectoryDocument, -1);
    }
    // Members of an active licensed group, found before the links go.
    const members =
      row.kind === 'group' &&
      row.state === 'active' &&
      licensesOf(JSON.parse(row.doc) as DirectoryDocument).length > 0
        ? links.memberIdsTx(lower)
        : [];
    const cseq = objects.nextCseq();
    links.dropLinksOfTx(lower, cseq);
    objects.addresses.clear(lower);
    objects.setState(lower, {
      state: 'purged',
      key: null,
      immutableId: null,
      doc: { id: lower },
      deletedMs: nowMs,
      cseq,
      pcseq: { '@state': cseq },
    });
    // Former members of a purged licensed group lose what they inherited from it.
    for (const memberId of members) seats.relicenseUserTx(memberId, nowMs);
  }

  const expireDeleted = db.prepare<[number], { id: string }>(
    "SELECT id FROM objects WHERE state = 'deleted' AND deleted_ms < ?",
  );
  const dropTombstones = db.prepare<[number]>(
    "DELETE FROM objects WHERE state = 'purged' AND deleted_ms < ?",
  );

  /** Purges recycle-bin objects deleted before `deletedBeforeMs`; drops older tombstones. */
  function expireTx(deletedBeforeMs: number, tombstonesBeforeMs: number): void {
    for (const { id } of expireDeleted.all(deletedBeforeMs)) purgeTx(id, deletedBeforeMs);
    dropTombstones.run(tombstonesBeforeMs);
  }

  return { softDeleteTx, restoreTx, purgeTx, expireTx };
}
