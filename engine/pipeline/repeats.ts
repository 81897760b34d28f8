/**
 * Repeated records: the same record (same key AND same content) arriving twice from one read.
 *
 * No source holds one record twice; a read that returns one twice re-read part of itself (an LDAP
 * server that handed back a paging cookie again, an HTTP API whose `next` link pointed at a page
 * already read, a CSV export that appended a chunk twice). Whatever else such a read returned or
 * skipped cannot be trusted to be the whole source, so:
 *
 * - the snapshot becomes `incomplete` (a `failed` one stays failed): nobody it lacks is taken
 *   for a leaver (invariant 2);
 * - each repeated record is kept once, so the person is not held as "two people with one key";
 * - one `source.repeated-record` error per key says where the copies were (capped, so a page
 *   repeated 200 times stays one short line per key).
 *
 * Two records with one key and DIFFERENT content stay what they were (S11, the join holds that
 * person): only identical copies are folded here.
 *
 * Every source kind goes through this: `computePlanWithStages` applies it to every snapshot
 * before the join, so no connector has to.
 */
import type { SourceIssue, SourceRecord, SourceSnapshot, SourceValue } from '../model/source.js';
import { describeLocation } from '../model/source.js';

/** Repeated keys listed one by one; beyond this, one issue sums up the rest. */
export const MAX_REPEAT_ISSUES = 100;
/** Locations named in one repeat issue. */
const MAX_LOCATIONS = 5;

export function foldRepeatedRecords(snapshot: SourceSnapshot): SourceSnapshot {
  if (snapshot.records.length < 2) return snapshot;
  // Cheap first pass: only keys seen more than once are compared by content.
  const firstByKey = new Map<string, number>();
  let repeatedKeys: Set<string> | undefined;
  snapshot.records.forEach((r, i) => {
    if (!firstByKey.has(r.key)) firstByKey.set(r.key, i);
    else (repeatedKeys ??= new Set()).add(r.key);
  });
  if (repeatedKeys === undefined) return snapshot;

  const seenContent = new Map<string, SourceRecord[]>(); // key + content -> copies
  const records: SourceRecord[] = [];
  for (const record of snapshot.records) {
    if (!repeatedKeys.has(record.key)) {
      records.push(record);
      continue;
    }
    const id = `${record.key}\u0000${canonical(record.fields)}`;
    const copies = seenContent.get(id);
    if (copies) copies.push(record);
    else {
      seenContent.set(id, [record]);
      records.push(record);
    }
  }
  const repeated = [...seenContent.values()].filter((copies) => copies.length > 1);
  if (repeated.length === 0) return snapshot;

  const issues: SourceIssue[] = repeated.slice(0, MAX_REPEAT_ISSUES).map((copies) => {
    const first = copies[0] as SourceRecord;
    const where = copies.slice(0, MAX_LOCATIONS).map((r) => describeLocation(r.location) || '?');
    const more = copies.length > MAX_LOCATIONS ? `, and ${copies.length - MAX_LOCATIONS} more` : '';
    return {
      severity: 'error',
      code: 'source.repeated-record',
      message:
        `source "${snapshot.name}" returned the record with key "${first.key}" ${copies.length} times, identical ` +
        `(${where.join(', ')}${more}): the read went over part of the source again, so it cannot be shown whole; ` +
        'the record is used once and the source is incomplete (nothing is deprovisioned)',
      location: first.location,
      key: first.key,
    };
  });
  if (repeated.length > MAX_REPEAT_ISSUES) {
    issues.push({
      severity: 'error',
      code: 'source.repeated-record',
      message: `source "${snapshot.name}": ${repeated.length - MAX_REPEAT_ISSUES} more repeated record(s) not listed (${repeated.length} in all)`,
    });
  }
  return {
    ...snapshot,
    status: snapshot.status === 'failed' ? 'failed' : 'incomplete',
    records,
    issues: [...snapshot.issues, ...issues],
  };
}

/** JSON with object keys sorted, so field order (LDAP attribute order) does not matter. */
function canonical(value: SourceValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v: SourceValue) => canonical(v)).join(',')}]`;
  const object = value as Readonly<Record<string, SourceValue>>;
  return `{${Object.keys(object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(object[k] as SourceValue)}`)
    .join(',')}}`;
}
