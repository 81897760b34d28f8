/**
 * Join: source records -> one Person per human. This slice joins on the primary source only;
 * linking further sources by key expressions (issue 8) extends `joinSources` without changing its
 * callers.
 *
 * Contract: a person whose identity is ambiguous (their key appears twice in the primary source)
 * is not a person this run: both records become errors and the key is held, so the person is
 * neither created twice nor treated as gone (catalogue S11). A failed source contributes nobody:
 * what it did read cannot be told apart from what it did not.
 */
import type { Person } from '../model/person.js';
import type { SourceIssue, SourceRecord, SourceSnapshot } from '../model/source.js';
import { describeLocation } from '../model/source.js';

export interface JoinResult {
  readonly people: readonly Person[];
  /** People known to exist whose fate is unknown this run, with the records that made them so. */
  readonly held: readonly HeldPerson[];
  readonly issues: readonly SourceIssue[];
}

export interface HeldPerson {
  readonly personKey: string;
  readonly records: readonly SourceRecord[];
}

export function joinSources(
  snapshots: readonly SourceSnapshot[],
  primarySource: string,
): JoinResult {
  const primary = snapshots.find((s) => s.name === primarySource);
  if (!primary) throw new Error(`join: primary source "${primarySource}" was not read`);
  if (primary.status === 'failed') return { people: [], held: [], issues: [] };

  const byKey = new Map<string, SourceRecord[]>();
  for (const record of primary.records) {
    const list = byKey.get(record.key);
    if (list) list.push(record);
    else byKey.set(record.key, [record]);
  }

  const people: Person[] = [];
  const held: HeldPerson[] = [];
  const issues: SourceIssue[] = [];
  for (const [key, records] of byKey) {
    const personKey = `${primary.name}:${key}`;
    const [first] = records;
    if (!first) continue;
    if (records.length > 1) {
      held.push({ personKey, records });
      const where = records.map((r) => describeLocation(r.location)).join(', ');
      for (const r of records) {
        issues.push({
          severity: 'error',
          code: 'source.duplicate-key',
          message: `key "${key}" appears ${records.length} times in source "${primary.name}" (${where}); this person is held: not created, changed or deprovisioned`,
          location: r.location,
          key,
        });
      }
      continue;
    }
    people.push({ key: personKey, primary: first, records: { [primary.name]: first } });
  }
  return { people, held, issues };
}
