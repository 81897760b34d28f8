/**
 * When a tenant value and a desired value are the same for Graph: unset equals empty, sets
 * (otherMails) compare without order, allowed values (ageGroup) and identifiers (UPN, mail)
 * without case. One function, used by the diff and by the planned-writes check alike.
 */
import { isCaseInsensitiveAttribute } from '../expr/normalize.js';
import type { AttributeValue } from '../model/tenant.js';
import { userPropertyType } from './attribute-types.js';
import { compareText } from './compare.js';

/** Graph reads an unset string as null and an unset list as []: both equal "no value". */
export function sameValue(
  attribute: string,
  a: AttributeValue | undefined,
  b: AttributeValue | undefined,
): boolean {
  const x = normaliseValue(a);
  const y = normaliseValue(b);
  const type = userPropertyType(attribute);
  if (Array.isArray(x) || Array.isArray(y)) {
    const xs = Array.isArray(x) ? x : x === null ? [] : [String(x)];
    const ys = Array.isArray(y) ? y : y === null ? [] : [String(y)];
    // Graph keeps some collections as sets (otherMails): their order carries no meaning.
    const [a, b] = type?.set ? [[...xs].sort(compareText), [...ys].sort(compareText)] : [xs, ys];
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  if (
    typeof x === 'string' &&
    typeof y === 'string' &&
    (isCaseInsensitiveAttribute(attribute) || type?.values !== undefined)
  ) {
    return x.toLowerCase() === y.toLowerCase();
  }
  return x === y;
}

function normaliseValue(v: AttributeValue | undefined): AttributeValue {
  if (v === undefined || v === '') return null;
  if (Array.isArray(v) && v.length === 0) return null;
  return v;
}
