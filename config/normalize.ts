/**
 * Walks a config value alongside its schema: fills schema defaults, and hands every string in a
 * tagged slot (expression, secret) to a visitor that may replace it. Unions of objects are
 * followed through the branch whose discriminator (`kind`, `method`) matches the value.
 *
 * Runs on unvalidated data too (so expressions are checked even when something else in the
 * file is wrong): anything whose shape does not fit the schema is returned unchanged, and ajv
 * reports it.
 */
import type { TSchema } from '@sinclair/typebox';
import type { PathSegment } from './diagnostics.js';
import { slotOf, type ConfigSlotKind } from './schema.js';

export interface SlotVisitor {
  /** A string in a tagged slot; returns what the loaded config holds there. */
  slot(kind: ConfigSlotKind, text: string, path: readonly PathSegment[]): unknown;
  /** A string in an untagged slot. */
  plain(text: string, path: readonly PathSegment[]): void;
}

type SchemaNode = Record<string, unknown>;

export function normalizeValue(
  schema: TSchema,
  value: unknown,
  visitor: SlotVisitor,
  path: readonly PathSegment[] = [],
): unknown {
  return walk(schema as SchemaNode, value, visitor, path);
}

function walk(
  schema: SchemaNode,
  value: unknown,
  visitor: SlotVisitor,
  path: readonly PathSegment[],
): unknown {
  const slot = slotOf(schema);
  if (typeof value === 'string') {
    if (slot) return visitor.slot(slot, value, path);
    visitor.plain(value, path);
    return value;
  }
  const anyOf = schema['anyOf'];
  if (Array.isArray(anyOf)) {
    const branch = selectBranch(anyOf as SchemaNode[], value);
    return branch ? walk(branch, value, visitor, path) : value;
  }
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (!isObject(items)) return value;
    return value.map((item, i) => walk(items, item, visitor, [...path, i]));
  }
  if (isObject(value)) {
    const properties = isObject(schema['properties']) ? schema['properties'] : {};
    const patterns = isObject(schema['patternProperties'])
      ? Object.values(schema['patternProperties'])
      : [];
    const additional = patterns[0];
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const childSchema = Object.hasOwn(properties, key) ? properties[key] : additional;
      out[key] = isObject(childSchema) ? walk(childSchema, child, visitor, [...path, key]) : child;
    }
    for (const [key, childSchema] of Object.entries(properties)) {
      if (Object.hasOwn(value, key) || !isObject(childSchema)) continue;
      if (childSchema['default'] === undefined) continue;
      // A default goes through the same walk, so a default expression (`accountEnabled: "true"`)
      // is compiled like a written one and a defaulted object gets its nested defaults.
      out[key] = walk(childSchema, structuredClone(childSchema['default']), visitor, [
        ...path,
        key,
      ]);
    }
    return out;
  }
  return value;
}

/** The branch of a discriminated union of objects that matches the value's discriminator. */
function selectBranch(branches: readonly SchemaNode[], value: unknown): SchemaNode | undefined {
  if (!isObject(value)) return undefined;
  return branches.find((b) => {
    const props = b['properties'];
    if (!isObject(props)) return false;
    return Object.entries(props).some(
      ([name, p]) =>
        isObject(p) && 'const' in p && Object.hasOwn(value, name) && value[name] === p['const'],
    );
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
