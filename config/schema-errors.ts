/**
 * Turns ajv's errors (run with `allErrors`) into one clear diagnostic per problem, each at the
 * YAML node it is about.
 *
 * ajv reports a failed union (`anyOf`) as one error per branch plus the union itself: for an
 * auth block with a typo that is a dozen errors, most about branches the user never meant.
 * `reduceUnions` keeps only the branch the user meant: for a union of objects discriminated by
 * a constant property (`kind`, `method`) the one whose constant matches, an "unknown kind" error
 * when none does; for a union of constants a single "expected one of" error. Nested unions are
 * reduced outermost first.
 */
import type { ErrorObject } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import type { Document } from 'yaml';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import {
  configError,
  formatConfigPath,
  parseJsonPointer,
  positionOfKey,
  positionOfParent,
  positionOfValue,
  type PathSegment,
  type SourceLocator,
} from './diagnostics.js';
import { slotOf } from './schema.js';

type SchemaNode = Record<string, unknown>;

/** The part of an ajv error this module uses; synthetic errors have the same shape. */
interface RawError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly params: Record<string, unknown>;
  readonly data?: unknown;
  readonly schema?: unknown;
  readonly parentSchema?: SchemaNode | undefined;
  readonly propertyName?: string | undefined;
  readonly message?: string | undefined;
}

export function schemaDiagnostics(
  errors: readonly ErrorObject[],
  data: unknown,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const reduced = reduceUnions(errors as readonly RawError[]);
  const diagnostics: Diagnostic[] = [];
  const seenValue = new Set<string>();
  for (const error of sortByPriority(reduced)) {
    if (error.keyword === 'propertyNames') continue; // its nested error carries the detail
    const d = toDiagnostic(error, data, doc, locator);
    if (!d) continue;
    // One complaint per value is enough ("must be a URL" and "must be https" say the same).
    if (VALUE_KEYWORDS.has(error.keyword) && error.propertyName === undefined) {
      if (seenValue.has(error.instancePath)) continue;
      seenValue.add(error.instancePath);
    }
    diagnostics.push(d);
  }
  return dedupe(diagnostics);
}

const VALUE_KEYWORDS = new Set([
  'type',
  'const',
  'enum',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
]);
const PRIORITY: Readonly<Record<string, number>> = {
  type: 0,
  const: 1,
  enum: 1,
  format: 2,
  pattern: 3,
  minLength: 4,
  maxLength: 4,
};

function sortByPriority(errors: readonly RawError[]): RawError[] {
  return [...errors].sort((a, b) => (PRIORITY[a.keyword] ?? 9) - (PRIORITY[b.keyword] ?? 9));
}

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const k = `${d.path}\0${d.code}\0${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// unions

export function reduceUnions(errors: readonly RawError[]): RawError[] {
  let list = [...errors];
  for (;;) {
    const unions = list.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
    if (unions.length === 0) return list;
    const union = unions.reduce((a, b) => (b.schemaPath.length < a.schemaPath.length ? b : a));
    const prefix = `${union.schemaPath}/`;
    const branchErrors = list.filter((e) => e.schemaPath.startsWith(prefix));
    const rest = list.filter((e) => e !== union && !e.schemaPath.startsWith(prefix));
    list = [...rest, ...chooseBranch(union, branchErrors)];
  }
}

function chooseBranch(union: RawError, branchErrors: readonly RawError[]): RawError[] {
  const branches = Array.isArray(union.schema) ? (union.schema as SchemaNode[]) : [];
  const data = union.data;
  const base = {
    instancePath: union.instancePath,
    schemaPath: `${union.schemaPath}#reduced`,
    data,
    parentSchema: union.parentSchema,
  };

  const consts = branches.map((b) => b['const']);
  if (branches.length > 0 && branches.every((b) => 'const' in b)) {
    return [{ ...base, keyword: 'enum', params: { allowedValues: consts } }];
  }

  const discriminator = findDiscriminator(branches);
  if (discriminator && isPlainObject(data)) {
    const allowed = branches.map(
      (b) => ((b['properties'] as SchemaNode)[discriminator] as SchemaNode)['const'],
    );
    if (!(discriminator in data)) {
      return [
        {
          ...base,
          keyword: 'required',
          params: { missingProperty: discriminator, allowedValues: allowed },
        },
      ];
    }
    const index = allowed.findIndex((v) => v === data[discriminator]);
    if (index < 0) {
      return [
        {
          ...base,
          instancePath: `${union.instancePath}/${escapePointer(discriminator)}`,
          data: data[discriminator],
          keyword: 'enum',
          params: { allowedValues: allowed, discriminator },
        },
      ];
    }
    return branchErrors.filter((e) => e.schemaPath.startsWith(`${union.schemaPath}/${index}/`));
  }

  // Anything else: the branch with the fewest complaints is the likeliest intent.
  const byBranch = new Map<number, RawError[]>();
  for (const e of branchErrors) {
    const index = Number(e.schemaPath.slice(union.schemaPath.length + 1).split('/')[0]);
    byBranch.set(index, [...(byBranch.get(index) ?? []), e]);
  }
  let best: RawError[] | undefined;
  for (const errs of byBranch.values()) if (!best || errs.length < best.length) best = errs;
  return best ?? [{ ...base, keyword: 'union', params: {} }];
}

function findDiscriminator(branches: readonly SchemaNode[]): string | undefined {
  const first = branches[0];
  if (!first || branches.length < 2) return undefined;
  const props = first['properties'];
  if (!isPlainObject(props)) return undefined;
  return Object.keys(props).find((name) =>
    branches.every((b) => {
      const p = b['properties'];
      return (
        isPlainObject(p) &&
        isPlainObject(p[name]) &&
        'const' in p[name] &&
        Array.isArray(b['required']) &&
        b['required'].includes(name)
      );
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// messages

function toDiagnostic(
  error: RawError,
  data: unknown,
  doc: Document,
  locator: SourceLocator,
): Diagnostic | undefined {
  const path = parseJsonPointer(error.instancePath, data);
  const name = describeLocation(path);
  const at = (p: readonly PathSegment[]) => positionOfValue(doc, locator, p);
  const params = error.params;

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys((error.parentSchema?.['properties'] as SchemaNode) ?? {});
      const where = path.length === 0 ? 'unknown top-level key' : `unknown key`;
      const inside = path.length === 0 ? '' : ` in \`${formatConfigPath(path)}\``;
      const suggestion = suggest(key, allowed);
      const hint = suggestion
        ? `; did you mean \`${suggestion}\`?`
        : allowed.length > 0 && allowed.length <= 12
          ? `; expected one of ${allowed.map((k) => `\`${k}\``).join(', ')}`
          : '';
      return configError(
        'config.unknown-key',
        `${where} \`${key}\`${inside}${hint}`,
        [...path, key],
        positionOfKey(doc, locator, [...path, key]),
      );
    }
    case 'required': {
      const key = String(params['missingProperty']);
      if (path.length === 0 && key === 'version') {
        return configError(
          'config.version',
          'missing `version: 1`: every config file starts with the version of the config language it is written in',
          ['version'],
          positionOfParent(doc, locator, path),
        );
      }
      const allowed = params['allowedValues'];
      const oneOf = Array.isArray(allowed) ? ` (one of ${listValues(allowed)})` : '';
      const inside = path.length === 0 ? '' : ` in \`${formatConfigPath(path)}\``;
      return configError(
        'config.missing-key',
        `missing required key \`${key}\`${inside}${oneOf}`,
        [...path, key],
        positionOfParent(doc, locator, path),
      );
    }
    case 'type': {
      if (path.length === 1 && path[0] === 'version') {
        return versionDiagnostic(error.data, path, at(path));
      }
      const expected = ([] as unknown[]).concat(params['type']).map((t) => typeName(String(t)));
      const got = valueTypeName(error.data);
      const slot = slotOf(error.parentSchema);
      const hint =
        slot === 'expression' && (typeof error.data === 'boolean' || typeof error.data === 'number')
          ? ` (a JSONata expression is a string: quote it, e.g. "${String(error.data)}")`
          : '';
      return configError(
        'config.type',
        `wrong type for ${name}: expected ${expected.join(' or ')}, got ${got}${hint}`,
        path,
        at(path),
      );
    }
    case 'const':
    case 'enum': {
      const allowed =
        error.keyword === 'const'
          ? [params['allowedValue']]
          : (params['allowedValues'] as unknown[]);
      if (path.length === 1 && path[0] === 'version')
        return versionDiagnostic(error.data, path, at(path));
      const discriminator = params['discriminator'];
      const what =
        typeof discriminator === 'string'
          ? `unknown ${discriminator} ${show(error.data)} for ${describeLocation(path.slice(0, -1))}`
          : `invalid value ${show(error.data)} for ${name}`;
      const suggestion =
        typeof error.data === 'string'
          ? suggest(
              error.data,
              allowed.filter((v): v is string => typeof v === 'string'),
            )
          : undefined;
      const expected =
        allowed.length === 1
          ? `expected ${listValues(allowed)}`
          : `expected one of ${listValues(allowed)}`;
      return configError(
        'config.invalid-value',
        `${what}: ${expected}${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}`,
        path,
        at(path),
      );
    }
    case 'pattern': {
      const custom = error.parentSchema?.['patternErrorMessage'];
      if (error.propertyName !== undefined) {
        const keyPath = [...path, error.propertyName];
        return configError(
          'config.invalid-key',
          `invalid name \`${error.propertyName}\` in \`${formatConfigPath(path)}\`: ${typeof custom === 'string' ? custom : `must match ${String(params['pattern'])}`}`,
          keyPath,
          positionOfKey(doc, locator, keyPath),
        );
      }
      return configError(
        'config.invalid-value',
        `invalid value ${show(error.data)} for ${name}: ${typeof custom === 'string' ? custom : `must match ${String(params['pattern'])}`}`,
        path,
        at(path),
      );
    }
    case 'format':
      return configError(
        'config.invalid-value',
        `invalid value ${show(error.data)} for ${name}: must be ${params['format'] === 'uri' ? 'an absolute URL' : `a valid ${String(params['format'])}`}`,
        path,
        at(path),
      );
    case 'minLength':
      return configError(
        'config.invalid-value',
        params['limit'] === 1
          ? `${name} must not be empty`
          : `${name} must be at least ${String(params['limit'])} characters`,
        path,
        at(path),
      );
    case 'maxLength':
      return configError(
        'config.invalid-value',
        `${name} must be at most ${String(params['limit'])} character${params['limit'] === 1 ? '' : 's'}, got ${show(error.data)}`,
        path,
        at(path),
      );
    case 'minItems':
      return configError(
        'config.invalid-value',
        `${name} must list at least ${String(params['limit'])} item${params['limit'] === 1 ? '' : 's'}`,
        path,
        at(path),
      );
    case 'minProperties':
      return configError(
        'config.invalid-value',
        `${name} must have at least ${String(params['limit'])} entr${params['limit'] === 1 ? 'y' : 'ies'}`,
        path,
        at(path),
      );
    case 'uniqueItems': {
      // ajv reports the earlier duplicate as `i`, the later as `j`.
      const earlier = Number(params['i']);
      const later = Number(params['j']);
      const item = Array.isArray(error.data) ? error.data[later] : undefined;
      return configError(
        'config.duplicate',
        `${show(item)} appears twice in \`${formatConfigPath(path)}\` (items ${earlier + 1} and ${later + 1})`,
        [...path, later],
        at([...path, later]),
      );
    }
    default:
      return configError(
        'config.invalid-value',
        `${name}: ${error.message ?? `fails ${error.keyword}`}`,
        path,
        at(path),
      );
  }
}

function versionDiagnostic(
  value: unknown,
  path: readonly PathSegment[],
  position: Diagnostic['position'],
): Diagnostic {
  const message =
    typeof value === 'number' && Number.isInteger(value) && value > 1
      ? `unsupported config version ${value}: this entrasync reads version 1; the file may be written for a newer entrasync`
      : `invalid config version ${show(value)}: must be the number 1`;
  return configError('config.version', message, path, position);
}

/** A diagnostic for a version that is present but not 1, before any other check. */
export function unsupportedVersion(
  value: unknown,
  doc: Document,
  locator: SourceLocator,
): Diagnostic {
  return versionDiagnostic(value, ['version'], positionOfValue(doc, locator, ['version']));
}

function describeLocation(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'the config file';
  const last = path[path.length - 1];
  return typeof last === 'number'
    ? `item ${last + 1} of \`${formatConfigPath(path.slice(0, -1))}\``
    : `\`${formatConfigPath(path)}\``;
}

/**
 * A close allowed word, or undefined. Case-insensitive equality always counts; otherwise the
 * edit distance must be small for the word's length, so `atributes` suggests `attributes` but
 * `foo` suggests nothing.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = word.toLowerCase();
  const exact = candidates.find((c) => c.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  const best = closest(
    lower,
    candidates.map((c) => c.toLowerCase()),
  );
  const d = distance(lower, best);
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  if (d > limit || d >= word.length) return undefined;
  return candidates.find((c) => c.toLowerCase() === best);
}

function typeName(t: string): string {
  if (t === 'object') return 'mapping';
  if (t === 'array') return 'list';
  if (t === 'integer') return 'integer';
  return t;
}

function valueTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `\`${value}\``;
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a mapping';
  return `\`${String(value)}\``;
}

function listValues(values: readonly unknown[]): string {
  return values.map((v) => `\`${String(v)}\``).join(', ');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
