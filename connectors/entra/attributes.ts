/**
 * The engine addresses nested Graph properties by dotted path
 * (`onPremisesExtensionAttributes.extensionAttribute15`); Graph wants them nested. These two
 * functions are the only place that knows the mapping.
 */
import type { AttributeValue, Attributes } from '../../engine/model/tenant.js';

/** Top-level Graph properties to `$select` for the given flattened paths. */
export function selectFor(paths: readonly string[]): string[] {
  const top = new Set<string>(['id', 'userPrincipalName']);
  for (const path of paths) top.add(path.split('.')[0] ?? path);
  return [...top];
}

/** Graph object -> flattened attributes (only the requested paths, unset ones as null). */
export function flatten(
  object: Record<string, unknown>,
  paths: readonly string[],
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const path of paths) {
    out[path] = toAttributeValue(path.includes('.') ? nested(object, path) : object[path]);
  }
  return out;
}

function nested(object: Record<string, unknown>, path: string): unknown {
  let value: unknown = object;
  for (const part of path.split('.')) {
    value =
      value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  return value;
}

function toAttributeValue(value: unknown): AttributeValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return JSON.stringify(value);
}

/** Flattened attributes -> a Graph request body. */
export function unflatten(attributes: Attributes): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(attributes)) {
    const parts = path.split('.');
    let target = body;
    for (const part of parts.slice(0, -1)) {
      const next = target[part];
      if (next && typeof next === 'object') target = next as Record<string, unknown>;
      else {
        const created: Record<string, unknown> = {};
        target[part] = created;
        target = created;
      }
    }
    target[parts[parts.length - 1] ?? path] = value;
  }
  return body;
}
