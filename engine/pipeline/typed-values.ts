/**
 * A mapped value as the Graph type of its attribute wants it (attribute-types.ts): booleans,
 * integers, lists, allowed values, directory-extension dates in Graph's form. A value that cannot
 * be one is a MappingError: the person is held with the config path and the value, never written
 * wrong and never refused halfway through an apply.
 */
import type { Expression } from '../expr/jsonata.js';
import type { AttributeValue } from '../model/tenant.js';
import type { AttributeType } from './attribute-types.js';

export class MappingError extends Error {}

const INT32 = { min: -2147483648, max: 2147483647 };

export function toAttributeValue(
  attribute: string,
  expression: Expression,
  value: unknown,
  type: AttributeType | undefined,
): AttributeValue {
  const fail = (wanted: string): never => {
    throw new MappingError(
      `${expression.configPath}: ${attribute} must be ${wanted}, got ${show(value)}`,
    );
  };
  if (attribute === 'accountEnabled') {
    return typeof value === 'boolean' ? value : fail('true or false');
  }
  if (value === undefined || value === null || value === '') return null;
  if (type?.collection) {
    if (type.type !== 'String') fail(`a list (multi-valued ${type.type} is not supported)`);
    const list = Array.isArray(value) ? value : [value];
    if (list.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return list.map(String).filter((v) => v !== '');
    }
    return fail('a list of strings');
  }
  switch (type?.type) {
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
        return value.trim().toLowerCase() === 'true';
      }
      return fail('true or false');
    case 'Int32':
    case 'LargeInteger': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return fail('a whole number');
      if (type.type === 'Int32' && (n < INT32.min || n > INT32.max)) {
        return fail('a 32-bit whole number');
      }
      return n;
    }
    default:
      break;
  }
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : fail('a string');
  if (type?.values) {
    const allowed = type.values.find((v) => v.toLowerCase() === text.trim().toLowerCase());
    return allowed ?? fail(`one of ${type.values.map((v) => `\`${v}\``).join(', ')}`);
  }
  if (type?.type === 'DateTimeOffset' && type.dateAsGraph)
    return graphDateTime(text) ?? fail('an ISO 8601 date-time');
  return text;
}

/** `2024-01-31` or any ISO 8601 date-time -> `2024-01-31T00:00:00Z`, as Graph returns one. */
function graphDateTime(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(text.trim())) return undefined;
  const ms = Date.parse(/T/.test(text) && !/(Z|[+-]\d{2}:\d{2})$/.test(text) ? `${text}Z` : text);
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

export function show(value: unknown): string {
  if (value === undefined) return 'nothing (a field the expression reads may be missing)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
