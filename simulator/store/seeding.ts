/**
 * Seeding a new tenant: a seed (file or generator) goes in only if the state was never seeded
 * and holds no users, in one immediate transaction, so two simulators starting on one new file
 * seed it once.
 */
import type Database from 'better-sqlite3';
import { defaultDomains } from '../domains.js';
import type { DocTable } from './docs.js';
import type { SkuSeats } from './licenses.js';
import type { LinkTable } from './links.js';
import type { SeedData } from './model.js';
import type { ObjectTable } from './objects.js';
import type { StateMeta } from './schema.js';

export interface SeedParts {
  readonly meta: StateMeta;
  readonly objects: ObjectTable;
  readonly links: LinkTable;
  readonly seats: SkuSeats;
  readonly docs: DocTable;
  /** The tenant's initial domain (see ../domains.ts). */
  readonly defaultDomain: string;
}

/** Returns `seedIfNew(seed, nowMs)`: whether the seed went in. */
export function createSeeding(
  db: Database.Database,
  parts: SeedParts,
): (seed: SeedData, nowMs: number) => boolean {
  const { meta, objects, links, seats, docs } = parts;
  const seedTx = db.transaction((seed: SeedData, nowMs: number): boolean => {
    if (meta.get('seeded') !== undefined || objects.countActive('user') !== 0) return false;
    for (const [index, seeded] of seed.users.entries()) {
      // Every user has its userPrincipalName identity, issued by the initial domain (as
      // ../graph/identities.ts keeps it on writes); the seed's own entries come first.
      const given = Array.isArray(seeded['identities']) ? (seeded['identities'] as unknown[]) : [];
      const upnIdentity = {
        signInType: 'userPrincipalName',
        issuer: parts.defaultDomain,
        issuerAssignedId: seeded['userPrincipalName'],
      };
      const user = { ...seeded, identities: [...given, upnIdentity] };
      const result = objects.insertObjectTx('user', user);
      if (!result.ok) throw new Error(`seed users[${index}]: duplicate ${result.conflict}`);
    }
    for (const [index, group] of (seed.groups ?? []).entries()) {
      const result = objects.insertObjectTx('group', group);
      if (!result.ok) throw new Error(`seed groups[${index}]: duplicate ${result.conflict}`);
    }
    for (const sku of seed.skus ?? []) seats.insertSeedSku(sku);
    for (const link of seed.links ?? [])
      links.insertSeedLink(link.rel, link.sourceId, link.targetId);
    for (const { kind, doc } of seed.docs ?? []) docs.insertDoc(kind, doc.id, doc);
    seedDomains(parts, seed);
    for (const user of seed.users) seats.consumeSeededSeats(user);
    // Members of seeded licensed groups inherit, in seed order (seats checked as in Entra).
    for (const group of seed.groups ?? []) seats.relicenseMembersTx(group.id, nowMs);
    meta.set('seeded', new Date().toISOString());
    return true;
  });
  // Statistics let SQLite pick the expression indexes for $filter (eq/in on mail, employeeId)
  // instead of walking the list index in seq order.
  return (seed, nowMs) => {
    const seeded = seedTx.immediate(seed, nowMs);
    if (seeded) db.exec('ANALYZE');
    return seeded;
  };
}

/** The seed's domains replace the defaults; without any, its users' domains join them. */
function seedDomains({ meta, docs, defaultDomain }: SeedParts, seed: SeedData): void {
  if (seed.domains !== undefined) {
    docs.deleteDocsOfKind('domain');
    for (const domain of seed.domains) docs.insertDoc('domain', domain.id.toLowerCase(), domain);
    meta.set('domains', 'seeded');
    return;
  }
  // Stored by the lowercased name: those already there are kept as they are.
  for (const domain of defaultDomains(defaultDomain, seed.users)) {
    const key = domain.id.toLowerCase();
    if (docs.getDoc('domain', key) === undefined) docs.insertDoc('domain', key, domain);
  }
}
