/**
 * Join: source records -> one Person per human. The primary source says who exists; each linked
 * source contributes the record whose `key` equals the person's `equals` (`join.link`).
 *
 * Contracts, each protecting someone from looking like a leaver or being created twice:
 * - a key that appears twice in the primary source makes both records errors and holds that
 *   person (S11); a linked key that appears twice holds the people it would link to;
 * - a failed primary source contributes nobody: what it did read cannot be told from what not;
 * - a failed linked source holds everyone (their attributes from it are unknown), and an
 *   incomplete one holds the people it has no record for (it may have lost theirs);
 * - a person whose link key cannot be computed is held;
 * - a complete linked source that found records for fewer than `minSourceRatio` of the people
 *   whose link key is present (the people it should feed) has shrunk: it is treated like an
 *   incomplete one, and the people it has no record for are held (S17). Without this, a linked
 *   directory answering Success with 0 entries would clear its attributes for everyone.
 */
import { evaluateExpression } from '../expr/jsonata.js';
import type { Person } from '../model/person.js';
import type { SourceIssue, SourceRecord, SourceSnapshot } from '../model/source.js';
import { describeLocation } from '../model/source.js';
import type { LinkSpec } from '../model/spec.js';
import { groupBy } from './group-by.js';

export interface JoinResult {
  readonly people: readonly Person[];
  /** People known to exist whose fate is unknown this run, with the records that made them so. */
  readonly held: readonly HeldPerson[];
  readonly issues: readonly SourceIssue[];
  /** For each linked source, how many people it should feed and how many it did (S17). */
  readonly linkCoverage?: readonly LinkCoverage[];
}

/**
 * A linked source's coverage: `expected` people had a link key value for it (and were not held
 * for another reason first), `found` of them had a record in it. Counted for complete sources.
 */
export interface LinkCoverage {
  readonly source: string;
  readonly expected: number;
  readonly found: number;
  /** `found` is below `minSourceRatio` of `expected`: the source shrank. */
  readonly shrunk: boolean;
}

export interface HeldPerson {
  readonly personKey: string;
  readonly records: readonly SourceRecord[];
}

export async function joinSources(
  snapshots: readonly SourceSnapshot[],
  primarySource: string,
  links: readonly LinkSpec[] = [],
  minSourceRatio = 0,
): Promise<JoinResult> {
  const primary = snapshots.find((s) => s.name === primarySource);
  if (!primary) throw new Error(`join: primary source "${primarySource}" was not read`);
  if (primary.status === 'failed') return { people: [], held: [], issues: [] };

  const held: HeldPerson[] = [];
  const issues: SourceIssue[] = [];
  const candidates: { personKey: string; record: SourceRecord }[] = [];
  for (const [key, records] of groupBy(primary.records, (r) => r.key)) {
    const personKey = `${primary.name}:${key}`;
    const [first] = records;
    if (!first) continue;
    if (records.length > 1) {
      held.push({ personKey, records });
      issues.push(
        ...duplicateIssues(
          primary.name,
          key,
          records,
          'this person is held: not created, changed or deprovisioned',
        ),
      );
      continue;
    }
    candidates.push({ personKey, record: first });
  }

  const indexes = [];
  for (const link of links) {
    const snapshot = snapshots.find((s) => s.name === link.source);
    if (!snapshot) throw new Error(`join: linked source "${link.source}" was not read`);
    indexes.push(await indexLinkedSource(snapshot, link, issues));
  }

  const linked: Linked[] = [];
  const counts = indexes.map(() => ({ expected: 0, found: 0 }));
  for (const { personKey, record } of candidates) {
    const records: Record<string, SourceRecord> = { [primary.name]: record };
    const missing: { index: number; value: string }[] = [];
    let holdReason: string | undefined;
    for (const [i, index] of indexes.entries()) {
      if (index.snapshot.status === 'failed') {
        holdReason = `source "${index.snapshot.name}" failed`;
        break;
      }
      let value: string | undefined;
      try {
        value = keyString(
          await evaluateExpression(index.link.equals, record.fields, bindingsOf(records)),
        );
      } catch (err) {
        holdReason = `${index.link.equals.configPath}: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
      if (value === undefined) continue;
      const count = counts[i] as { expected: number; found: number };
      count.expected++;
      if (index.ambiguous.has(value)) {
        count.found++;
        holdReason = `its key "${value}" appears more than once in source "${index.snapshot.name}"`;
        break;
      }
      const linkedRecord = index.byKey.get(value);
      if (linkedRecord) {
        count.found++;
        records[index.snapshot.name] = linkedRecord;
      } else if (index.snapshot.status === 'incomplete') {
        holdReason = `source "${index.snapshot.name}" is incomplete and has no record with key "${value}"`;
        break;
      } else missing.push({ index: i, value });
    }
    linked.push({ personKey, record, records, missing, ...(holdReason ? { holdReason } : {}) });
  }

  const linkCoverage = indexes.map((index, i): LinkCoverage => {
    const { expected, found } = counts[i] as { expected: number; found: number };
    const shrunk =
      index.snapshot.status === 'complete' && expected > 0 && found / expected < minSourceRatio;
    return { source: index.snapshot.name, expected, found, shrunk };
  });
  const people: Person[] = [];
  for (const { personKey, record, records, missing, holdReason: reason } of linked) {
    let holdReason = reason;
    const gap = holdReason ? undefined : missing.find((m) => linkCoverage[m.index]?.shrunk);
    if (gap) {
      const c = linkCoverage[gap.index] as LinkCoverage;
      holdReason = `source "${c.source}" shrank (records for ${c.found} of the ${c.expected} people it links to, below minSourceRatio ${minSourceRatio}) and has no record with key "${gap.value}"`;
    }
    if (holdReason) {
      held.push({ personKey, records: Object.values(records) });
      issues.push({
        severity: 'warning',
        code: 'join.held',
        message: `${personKey} is held (not created, changed or deprovisioned): ${holdReason}`,
        location: record.location,
        key: record.key,
      });
      continue;
    }
    people.push({ key: personKey, primary: record, records });
  }
  return { people, held, issues, linkCoverage };
}

/** One primary person after linking, before the shrink check decides who is held. */
interface Linked {
  readonly personKey: string;
  readonly record: SourceRecord;
  readonly records: Record<string, SourceRecord>;
  /** Linked sources (by index) that had no record for the person's link key. */
  readonly missing: readonly { index: number; value: string }[];
  readonly holdReason?: string;
}

interface LinkIndex {
  readonly link: LinkSpec;
  readonly snapshot: SourceSnapshot;
  readonly byKey: ReadonlyMap<string, SourceRecord>;
  readonly ambiguous: ReadonlySet<string>;
}

async function indexLinkedSource(
  snapshot: SourceSnapshot,
  link: LinkSpec,
  issues: SourceIssue[],
): Promise<LinkIndex> {
  const grouped = new Map<string, SourceRecord[]>();
  for (const record of snapshot.records) {
    let value: string | undefined;
    try {
      value = keyString(
        await evaluateExpression(link.key, record.fields, { [snapshot.name]: record.fields }),
      );
    } catch (err) {
      issues.push({
        severity: 'error',
        code: 'join.key-failed',
        message: `${link.key.configPath}: ${err instanceof Error ? err.message : String(err)}`,
        location: record.location,
        key: record.key,
      });
      continue;
    }
    if (value === undefined) continue;
    const list = grouped.get(value);
    if (list) list.push(record);
    else grouped.set(value, [record]);
  }
  const byKey = new Map<string, SourceRecord>();
  const ambiguous = new Set<string>();
  for (const [value, records] of grouped) {
    const [first] = records;
    if (records.length === 1 && first) byKey.set(value, first);
    else {
      ambiguous.add(value);
      issues.push(
        ...duplicateIssues(snapshot.name, value, records, 'the person it links to is held'),
      );
    }
  }
  return { link, snapshot, byKey, ambiguous };
}

function duplicateIssues(
  source: string,
  key: string,
  records: readonly SourceRecord[],
  consequence: string,
): SourceIssue[] {
  // A few locations only: n issues each naming all n places grows as n² (a page read 200 times).
  const where =
    records
      .slice(0, 5)
      .map((r) => describeLocation(r.location))
      .join(', ') + (records.length > 5 ? `, and ${records.length - 5} more` : '');
  return records.map((r) => ({
    severity: 'error' as const,
    code: 'source.duplicate-key',
    message: `key "${key}" appears ${records.length} times in source "${source}" (${where}); ${consequence}`,
    location: r.location,
    key,
  }));
}

function bindingsOf(records: Readonly<Record<string, SourceRecord>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(records).map(([name, r]) => [name, r.fields]));
}

/** Join keys compare as trimmed strings; numbers are accepted as their decimal text. */
function keyString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
