/**
 * Directory extension values on users (`extension_<appId>_<name>`), as Graph keeps them: only an
 * extension some application registered for `User` may be written (else Graph's
 * `Request_BadRequest` "Invalid property"), values are checked against the extension's
 * `dataType` (String and Binary at most 256 characters, Integer 32-bit, LargeInteger 64-bit,
 * Boolean, DateTime as an ISO 8601 date-time; `isMultiValued`: a list of them), and a user shows
 * them only when `$select` names them, and only when set (Graph leaves an unset extension out).
 *
 * Definitions live in the store (`extensionProperty` docs, ../graph/applications.ts).
 */
import { graphErrors } from '../errors.js';
import type { FilterableProperty, FilterSchema } from './filter.js';

export interface ExtensionDefinition {
  readonly name: string;
  readonly dataType: string;
  readonly isMultiValued: boolean;
  readonly targetObjects: readonly string[];
}

/** Finds a registered extension by name (any case), or undefined. */
export type ExtensionLookup = (name: string) => ExtensionDefinition | undefined;

const EXTENSION_NAME = /^extension_([0-9a-f]{32})_([A-Za-z0-9_]+)$/i;

export function isExtensionName(name: string): boolean {
  return EXTENSION_NAME.test(name);
}

/** `extension_<appId>_<name>` with the app id part lowercased, as Graph spells it. */
export function canonicalExtensionName(name: string): string | undefined {
  const m = EXTENSION_NAME.exec(name);
  return m ? `extension_${(m[1] ?? '').toLowerCase()}_${m[2] ?? ''}` : undefined;
}

/** Checks a written extension value; returns the name and the value to store. */
export function validateExtensionValue(
  name: string,
  value: unknown,
  lookup: ExtensionLookup | undefined,
): { name: string; value: unknown } {
  const definition = lookup?.(name);
  if (definition === undefined || !definition.targetObjects.some((t) => /^user$/i.test(t))) {
    throw graphErrors.invalidProperty(name);
  }
  if (value === null) return { name: definition.name, value: null };
  if (definition.isMultiValued) {
    if (!Array.isArray(value)) throw graphErrors.cannotConvert('Collection', literal(value));
    return { name: definition.name, value: value.map((v) => scalar(definition, v)) };
  }
  return { name: definition.name, value: scalar(definition, value) };
}

function scalar(definition: ExtensionDefinition, value: unknown): unknown {
  switch (definition.dataType.toLowerCase()) {
    case 'boolean':
      if (typeof value !== 'boolean')
        throw graphErrors.cannotConvert('Edm.Boolean', literal(value));
      return value;
    case 'integer':
    case 'largeinteger': {
      const big = definition.dataType.toLowerCase() === 'largeinteger';
      const ok =
        typeof value === 'number' &&
        Number.isSafeInteger(value) &&
        (big || (value >= -2147483648 && value <= 2147483647));
      if (!ok) throw graphErrors.cannotConvert(big ? 'Edm.Int64' : 'Edm.Int32', literal(value));
      return value;
    }
    case 'datetime': {
      const time = typeof value === 'string' ? Date.parse(value) : NaN;
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time)) {
        throw graphErrors.cannotConvert('Edm.DateTimeOffset', literal(value));
      }
      const iso = new Date(time).toISOString();
      return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
    }
    default:
      if (typeof value !== 'string') throw graphErrors.cannotConvert('Edm.String', literal(value));
      if (value.length > 256) throw graphErrors.invalidValue(definition.name, 'User');
      return value;
  }
}

function literal(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * `$filter` on directory extension values, per registered user extension: `eq` (and `in`) on
 * String and Boolean ones without advanced queries, `any(x: x eq '…')` on multi-valued ones,
 * `eq null` with advanced queries. Integer, LargeInteger and DateTime extensions are not
 * filterable in the simulator (its filter language has no numbers).
 */
export function withExtensionFilters(
  schema: FilterSchema,
  definitions: readonly ExtensionDefinition[],
): FilterSchema {
  const extra: FilterableProperty[] = [];
  for (const d of definitions) {
    if (!d.targetObjects.some((t) => /^user$/i.test(t))) continue;
    const type = d.dataType.toLowerCase();
    const filterType = d.isMultiValued
      ? type === 'string'
        ? 'stringCollection'
        : undefined
      : type === 'string'
        ? 'string'
        : type === 'boolean'
          ? 'boolean'
          : undefined;
    if (filterType === undefined) continue;
    extra.push({
      name: d.name,
      type: filterType,
      jsonPath: `$.${d.name}`,
      eq: 'default',
      nullValues: 'advanced',
    });
  }
  return extra.length === 0 ? schema : { ...schema, properties: [...schema.properties, ...extra] };
}
