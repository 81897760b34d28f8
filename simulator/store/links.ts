/**
 * The `links` table (group members and owners, user managers, administrative unit members)
 * and `link_log`, the reference changes delta reports. Ids are stored lowercased. Writes here
 * run inside the caller's transaction and stamp the source object's change sequence.
 */
import type Database from 'better-sqlite3';
import type { LinkChange, LinkRelation } from './model.js';
import type { ObjectTable } from './objects.js';

/** The delta-visible name of a link relation on its source object. */
function linkProperty(rel: LinkRelation): string {
  return rel === 'member' ? 'members' : rel === 'owner' ? 'owners' : rel;
}

export type LinkTable = ReturnType<typeof createLinkTable>;

export function createLinkTable(db: Database.Database, objects: ObjectTable) {
  const queries = createLinkQueries(db);
  const insertLink = db.prepare<[string, string, string]>(
    'INSERT INTO links (rel, source_id, target_id) VALUES (?, ?, ?)',
  );
  const existsLink = db.prepare<[string, string, string], { seq: number }>(
    'SELECT seq FROM links WHERE rel = ? AND source_id = ? AND target_id = ?',
  );
  const deleteLink = db.prepare<[string, string, string]>(
    'DELETE FROM links WHERE rel = ? AND source_id = ? AND target_id = ?',
  );
  const logLink = db.prepare<[number, string, string, string, number]>(
    'INSERT INTO link_log (cseq, rel, source_id, target_id, removed) VALUES (?, ?, ?, ?, ?)',
  );
  const linksOfObject = db.prepare<
    [string, string],
    { rel: string; source_id: string; target_id: string }
  >('SELECT rel, source_id, target_id FROM links WHERE source_id = ? OR target_id = ?');
  const deleteLinksOfObject = db.prepare<[string, string]>(
    'DELETE FROM links WHERE source_id = ? OR target_id = ?',
  );

  function addLinksTx(
    rel: LinkRelation,
    sourceId: string,
    targetIds: readonly string[],
  ): { ok: true } | { ok: false; existing: string } {
    const source = sourceId.toLowerCase();
    const targets = targetIds.map((t) => t.toLowerCase());
    for (const target of targets) {
      if (existsLink.get(rel, source, target) !== undefined) return { ok: false, existing: target };
    }
    if (new Set(targets).size !== targets.length) {
      return { ok: false, existing: targets.find((t, i) => targets.indexOf(t) !== i) ?? '' };
    }
    if (targets.length === 0) return { ok: true };
    const cseq = objects.touch(source, [linkProperty(rel)]);
    for (const target of targets) {
      insertLink.run(rel, source, target);
      logLink.run(cseq, rel, source, target, 0);
    }
    return { ok: true };
  }

  function removeLinkTx(rel: LinkRelation, sourceId: string, targetId: string): boolean {
    const source = sourceId.toLowerCase();
    const target = targetId.toLowerCase();
    if (existsLink.get(rel, source, target) === undefined) return false;
    deleteLink.run(rel, source, target);
    const cseq = objects.touch(source, [linkProperty(rel)]);
    logLink.run(cseq, rel, source, target, 1);
    return true;
  }

  function setManagerTx(userId: string, managerId: string | null): void {
    const source = userId.toLowerCase();
    const current = queries.getManagerId(source);
    if (current === (managerId?.toLowerCase() ?? undefined)) return;
    if (current !== undefined) removeLinkTx('manager', source, current);
    if (managerId !== null) addLinksTx('manager', source, [managerId]);
  }

  /** Drops every link from or to `id` (lowercased), logged as removed at `cseq`. */
  function dropLinksOfTx(id: string, cseq: number): void {
    for (const link of linksOfObject.all(id, id)) {
      logLink.run(cseq, link.rel, link.source_id, link.target_id, 1);
    }
    deleteLinksOfObject.run(id, id);
  }

  return {
    addLinksTx,
    removeLinkTx,
    setManagerTx,
    dropLinksOfTx,
    /** A seeded link: no change stamp (a new tenant's objects are all created at once). */
    insertSeedLink: (rel: LinkRelation, sourceId: string, targetId: string): void => {
      insertLink.run(rel, sourceId.toLowerCase(), targetId.toLowerCase());
    },
    ...queries,
  };
}

/** The read side of links: pages, reverse lookups, members, and the change log for delta. */
function createLinkQueries(db: Database.Database) {
  const pageLinksStmt = db.prepare<
    [string, string, number, number],
    { seq: number; target_id: string }
  >(
    'SELECT seq, target_id FROM links WHERE rel = ? AND source_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  // INDEXED BY: without statistics SQLite prefers scanning the covering UNIQUE index, which makes
  // "groups this user is in" (every license recompute) linear in all links.
  const linkSourcesStmt = db.prepare<[string, string], { source_id: string }>(
    'SELECT source_id FROM links INDEXED BY links_target WHERE rel = ? AND target_id = ? ORDER BY seq',
  );
  const pageLinks = (rel: LinkRelation, sourceId: string, afterSeq: number, limit: number) =>
    pageLinksStmt
      .all(rel, sourceId.toLowerCase(), afterSeq, limit)
      .map((r) => ({ seq: r.seq, targetId: r.target_id }));

  /** User members of a group (any state), in membership order. */
  function memberIdsTx(groupId: string): string[] {
    const out: string[] = [];
    let after = 0;
    for (;;) {
      const links = pageLinks('member', groupId, after, 1000);
      for (const link of links) out.push(link.targetId);
      const last = links.at(-1);
      if (last === undefined || links.length < 1000) return out;
      after = last.seq;
    }
  }

  function linkChanges(
    rel: LinkRelation,
    sourceIds: readonly string[],
    since: number,
    upto: number,
  ): LinkChange[] {
    if (sourceIds.length === 0) return [];
    const rows = db
      .prepare(
        `SELECT cseq, source_id, target_id, removed FROM link_log WHERE rel = ? AND cseq > ? AND cseq <= ? AND source_id IN (${sourceIds
          .map(() => '?')
          .join(',')}) ORDER BY cseq`,
      )
      .all(rel, since, upto, ...sourceIds.map((s) => s.toLowerCase())) as {
      cseq: number;
      source_id: string;
      target_id: string;
      removed: number;
    }[];
    return rows.map((r) => ({
      cseq: r.cseq,
      sourceId: r.source_id,
      targetId: r.target_id,
      removed: r.removed === 1,
    }));
  }

  return {
    pageLinks,
    linkSources: (rel: LinkRelation, targetId: string): string[] =>
      linkSourcesStmt.all(rel, targetId.toLowerCase()).map((r) => r.source_id),
    getManagerId: (userId: string): string | undefined =>
      pageLinksStmt.get('manager', userId.toLowerCase(), 0, 1)?.target_id,
    memberIdsTx,
    linkChanges,
  };
}
