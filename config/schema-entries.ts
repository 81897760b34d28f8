/**
 * The schema flattened into one entry per key path, for the generated reference
 * (`write-docs.ts`) and for messages that list where something is allowed (`load.ts`).
 * Union members discriminated by a constant (`method`, `kind`) contribute their keys with a
 * condition (`method: secret`); a record's keys appear under `<name>`.
 */
import type { TSchema } from '@sinclair/typebox';
import { Config, slotOf, type ConfigSlotKind } from './schema.js';

export interface SchemaEntry {
  /** Key path, e.g. `target.auth.clientSecret`, `sources.<name>.path`. */
  readonly path: string;
  /** Human type: `string`, `JSONata expression`, `list of string`, `mapping`, ... */
  readonly type: string;
  readonly required: boolean;
  /** Discriminator value under which the key applies, e.g. `method: secret`. */
  readonly condition?: string;
  readonly default?: unknown;
  /** Allowed values of an enum or constant (for a list: of its items). */
  readonly allowed?: readonly unknown[];
  readonly description: string;
  readonly slot?: ConfigSlotKind;
}

type SchemaNode = Record<string, unknown>;

export function listSchemaEntries(schema: TSchema = Config): SchemaEntry[] {
  const entries: SchemaEntry[] = [];
  visitChildren(schema as SchemaNode, '', undefined, entries);
  return entries;
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

function visitChildren(
  schema: SchemaNode,
  path: string,
  condition: string | undefined,
  out: SchemaEntry[],
): void {
  const union = asNodes(schema['anyOf']);
  const discriminator = union ? discriminatorOf(union) : undefined;
  if (union && discriminator) {
    const values = union.map((b) => propertyOf(b, discriminator)?.['const']);
    const branchNotes = union
      .map((b, i) => {
        const d = propertyOf(b, discriminator)?.['description'];
        const note = typeof d === 'string' ? `: ${d.replace(/\.$/, '')}` : '';
        return `\`${String(values[i])}\`${note}`;
      })
      .join('; ');
    out.push({
      path: join(path, discriminator),
      type: 'string',
      required: true,
      ...(condition ? { condition } : {}),
      allowed: values,
      description: `Selects the variant: ${branchNotes}.`,
    });
    union.forEach((branch, i) => {
      const cond = `${discriminator}: ${String(values[i])}`;
      visitProperties(branch, path, cond, out, discriminator);
    });
    return;
  }
  if (isNode(schema['properties'])) {
    visitProperties(schema, path, condition, out);
    return;
  }
  const patterns = isNode(schema['patternProperties'])
    ? Object.values(schema['patternProperties'])
    : [];
  const valueSchema = patterns[0];
  if (isNode(valueSchema)) {
    const childPath = join(path, '<name>');
    out.push(entryFor(valueSchema, childPath, true, condition));
    visitChildren(valueSchema, childPath, condition, out);
  }
}

function visitProperties(
  schema: SchemaNode,
  path: string,
  condition: string | undefined,
  out: SchemaEntry[],
  skip?: string,
): void {
  const properties = isNode(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? (schema['required'] as string[]) : [];
  for (const [key, child] of Object.entries(properties)) {
    if (key === skip || !isNode(child)) continue;
    const childPath = join(path, key);
    out.push(entryFor(child, childPath, required.includes(key), condition));
    visitChildren(child, childPath, condition, out);
  }
}

function entryFor(
  schema: SchemaNode,
  path: string,
  required: boolean,
  condition: string | undefined,
): SchemaEntry {
  const slot = slotOf(schema);
  const allowed = allowedValues(schema) ?? allowedValues(asNode(schema['items']) ?? {});
  return {
    path,
    type: typeOf(schema),
    required,
    ...(condition ? { condition } : {}),
    ...(schema['default'] !== undefined ? { default: schema['default'] } : {}),
    ...(allowed ? { allowed } : {}),
    description: descriptionOf(schema),
    ...(slot ? { slot } : {}),
  };
}

function descriptionOf(schema: SchemaNode): string {
  const d = schema['description'];
  if (typeof d === 'string') return d;
  if ('const' in schema) return `Must be \`${String(schema['const'])}\`.`;
  return '';
}

function allowedValues(schema: SchemaNode): unknown[] | undefined {
  if (Array.isArray(schema['enum'])) return schema['enum'] as unknown[];
  if ('const' in schema) return [schema['const']];
  const union = asNodes(schema['anyOf']);
  if (union && union.every((b) => 'const' in b)) return union.map((b) => b['const']);
  return undefined;
}

function typeOf(schema: SchemaNode): string {
  const slot = slotOf(schema);
  if (slot === 'expression') return 'JSONata expression';
  if (slot === 'secret') return 'secret reference';
  if (slot === 'secret-or-text') return 'string or secret reference';
  const union = asNodes(schema['anyOf']);
  if (union) {
    if (union.every((b) => 'const' in b)) return typeof union[0]?.['const'];
    return discriminatorOf(union) ? 'mapping' : union.map((b) => typeOf(b)).join(' or ');
  }
  const type = schema['type'];
  if (type === 'array') {
    const items = asNode(schema['items']);
    return `list of ${items ? typeOf(items) : 'any'}`;
  }
  if (type === 'object')
    return isNode(schema['patternProperties']) ? 'mapping of names' : 'mapping';
  if (type === 'string' && schema['format'] === 'uri') return 'URL';
  if (typeof type === 'string') return type;
  return 'any';
}

export function discriminatorOf(branches: readonly SchemaNode[]): string | undefined {
  const first = branches[0];
  if (!first || !isNode(first['properties'])) return undefined;
  return Object.keys(first['properties']).find((name) =>
    branches.every((b) => {
      const p = propertyOf(b, name);
      return p !== undefined && 'const' in p;
    }),
  );
}

function propertyOf(schema: SchemaNode, name: string): SchemaNode | undefined {
  const props = schema['properties'];
  return isNode(props) ? asNode(props[name]) : undefined;
}

function asNode(value: unknown): SchemaNode | undefined {
  return isNode(value) ? value : undefined;
}

function asNodes(value: unknown): SchemaNode[] | undefined {
  return Array.isArray(value) && value.every(isNode) ? (value as SchemaNode[]) : undefined;
}

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
