/**
 * One search entry -> the fields of one record, and the range retrieval that completes an
 * attribute the server handed over in slices.
 *
 * Field shape, chosen so a mapping sees the same type for every person:
 * - each configured attribute is a field under the name as configured (`givenName`, whatever case
 *   the server answers in);
 * - an attribute listed in `multiValued` is always a list (empty when absent); any other attribute
 *   is one value, or no field at all when the entry lacks it (JSONata then reads "nothing", as for
 *   a missing CSV column value). When an entry holds several values of a single-valued field, the
 *   first is used and the caller warns: LDAP schemas allow several `cn` or `mail` values, a
 *   mapping expects one;
 * - `dn` is always there; `immutableId` (base64 of `objectGUID`) and `accountDisabled`
 *   (`userAccountControl` bit 0x2) are derived when their attribute is read.
 */
import type { Client, Entry } from 'ldapts';
import type { SourceObject, SourceValue } from '../../engine/model/source.js';
import { DecodeProblem, UAC_ACCOUNTDISABLE, decodeValue } from './decode.js';
import type { RawValue } from './decode.js';

/** `member;range=0-1499` -> base `member`, start 0, end 1499; `*` -> end undefined. */
export interface RangedValue {
  readonly attribute: string;
  readonly start: number;
  readonly end: number | undefined;
  readonly values: RawValue[];
}

export interface EntryValues {
  readonly dn: string;
  /** Lower-case attribute name (options other than `range` dropped) -> values. */
  readonly values: Map<string, RawValue[]>;
  /** Attributes the server returned in slices, still to be completed. */
  readonly ranged: RangedValue[];
}

const RANGE_OPTION = /^range=(\d+)-(\d+|\*)$/i;

export function entryValues(entry: Entry): EntryValues {
  const values = new Map<string, RawValue[]>();
  const ranged: RangedValue[] = [];
  for (const [type, raw] of Object.entries(entry)) {
    if (type === 'dn') continue;
    const list: RawValue[] = Array.isArray(raw) ? [...raw] : [raw];
    const [base = type, ...options] = type.split(';');
    const range = options.map((o) => RANGE_OPTION.exec(o)).find((m) => m !== null);
    if (range) {
      ranged.push({
        attribute: base,
        start: Number(range[1]),
        end: range[2] === '*' ? undefined : Number(range[2]),
        values: list,
      });
      continue;
    }
    const key = base.toLowerCase();
    values.set(key, [...(values.get(key) ?? []), ...list]);
  }
  return { dn: entry.dn, values, ranged };
}

export class RangeRetrievalError extends Error {}

/**
 * Completes a ranged attribute with base-scope reads of explicit windows
 * (`member;range=1500-2999`, ...) until the server answers a range ending in `*`. Explicit
 * windows behave the same on AD (which caps each at MaxValRange) and on Samba (which returns what
 * is asked). Anything else (a gap, no progress, the attribute gone) throws: a group with some of
 * its members missing must not be read as smaller.
 */
export async function completeRange(
  client: Pick<Client, 'search'>,
  dn: string,
  first: RangedValue,
  windowSize: number,
  explicitBufferAttributes: string[],
): Promise<RawValue[]> {
  const values = [...first.values];
  if (first.start !== 0) {
    throw new RangeRetrievalError(
      `${first.attribute} of ${dn}: first range starts at ${first.start}`,
    );
  }
  let end = first.end;
  while (end !== undefined) {
    const next = end + 1;
    const wanted = `${first.attribute};range=${next}-${next + windowSize - 1}`;
    const result = await client.search(dn, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: [wanted],
      explicitBufferAttributes,
    });
    const entry = result.searchEntries[0];
    const slice = entry
      ? entryValues(entry).ranged.find(
          (r) => r.attribute.toLowerCase() === first.attribute.toLowerCase(),
        )
      : undefined;
    if (!slice) {
      throw new RangeRetrievalError(
        `${first.attribute} of ${dn}: asked for ${wanted}, the server returned no such range after ${values.length} values`,
      );
    }
    if (slice.start !== next || (slice.end !== undefined && slice.end < next)) {
      throw new RangeRetrievalError(
        `${first.attribute} of ${dn}: asked for values from ${next}, got range ${slice.start}-${slice.end ?? '*'}`,
      );
    }
    values.push(...slice.values);
    end = slice.end;
  }
  return values;
}

export interface FieldPlan {
  /** Configured attribute names, key included, in order. */
  readonly attributes: readonly string[];
  /** Lower-case names of attributes that are always lists. */
  readonly multiValued: ReadonlySet<string>;
}

export interface EntryFields {
  readonly fields: SourceObject;
  /** Attributes (as configured) that held several values where one was expected. */
  readonly extraValues: readonly string[];
  /** Values that could not be decoded: attribute and why. */
  readonly problems: readonly { readonly attribute: string; readonly message: string }[];
}

export function entryFields(entry: EntryValues, plan: FieldPlan): EntryFields {
  // fromEntries-style assignment on a null-prototype object: an attribute named `__proto__` or
  // `constructor` stays a plain field.
  const fields: Record<string, SourceValue> = Object.create(null) as Record<string, SourceValue>;
  const extraValues: string[] = [];
  const problems: { attribute: string; message: string }[] = [];
  fields['dn'] = entry.dn;
  for (const attribute of plan.attributes) {
    const raw = entry.values.get(attribute.toLowerCase()) ?? [];
    const decoded: SourceValue[] = [];
    for (const value of raw) {
      try {
        decoded.push(decodeValue(attribute, value));
      } catch (err) {
        if (!(err instanceof DecodeProblem)) throw err;
        problems.push({ attribute, message: err.message });
      }
    }
    if (plan.multiValued.has(attribute.toLowerCase())) {
      fields[attribute] = decoded;
      continue;
    }
    if (decoded.length === 0) continue;
    fields[attribute] = decoded[0] ?? null;
    if (decoded.length > 1) extraValues.push(attribute);
    const lower = attribute.toLowerCase();
    if (lower === 'objectguid') {
      const bytes = raw[0];
      if (bytes !== undefined) {
        fields['immutableId'] = (
          typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes
        ).toString('base64');
      }
    }
    if (lower === 'useraccountcontrol' && typeof fields[attribute] === 'number') {
      fields['accountDisabled'] = ((fields[attribute] as number) & UAC_ACCOUNTDISABLE) !== 0;
    }
  }
  return { fields: { ...fields }, extraValues, problems };
}

/** Field names a record of this plan may carry, for the snapshot's `fields` (lint). */
export function declaredFields(plan: FieldPlan, groups: boolean): string[] {
  const names = ['dn', ...plan.attributes];
  const lower = plan.attributes.map((a) => a.toLowerCase());
  if (lower.includes('objectguid')) names.push('immutableId');
  if (lower.includes('useraccountcontrol')) names.push('accountDisabled');
  if (groups) names.push('groups', 'groupDns');
  return [...new Set(names)];
}
