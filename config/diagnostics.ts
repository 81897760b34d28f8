/**
 * Diagnostics that point into YAML: positions from node ranges (through a `LineCounter`), nodes
 * found by config path, and a printer for a list of diagnostics.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
} from 'yaml';
import type { Diagnostic, SourcePosition } from '../engine/model/diagnostic.js';
import { formatDiagnostic } from '../engine/model/diagnostic.js';

/** A step of a config path: a mapping key or a list index. */
export type PathSegment = string | number;

/** `users.attributes.displayName`, `users.match[1]`. The root is the empty string. */
export function formatConfigPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** Splits an ajv `instancePath` (a JSON Pointer) into segments; numeric steps under a list become numbers. */
export function parseJsonPointer(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current) && /^\d+$/.test(key)) {
      const index = Number(key);
      segments.push(index);
      current = current[index];
    } else {
      segments.push(key);
      current =
        typeof current === 'object' && current !== null
          ? (current as Record<string, unknown>)[key]
          : undefined;
    }
  }
  return segments;
}

/** Turns file offsets into 1-based positions for one file. */
export interface SourceLocator {
  readonly file: string;
  position(offset: number): SourcePosition;
}

export function createSourceLocator(file: string, lineCounter: LineCounter): SourceLocator {
  return {
    file,
    position(offset) {
      const { line, col } = lineCounter.linePos(offset);
      return { file, line, column: col };
    },
  };
}

/** The key and value nodes a config path leads to; either may be absent. */
export interface NodeAtPath {
  readonly key?: Node;
  readonly value?: Node;
}

/**
 * Finds the YAML nodes at a config path, following aliases. Keys compare as strings, as
 * `toJS()` turns them into property names.
 */
export function findNode(doc: Document, segments: readonly PathSegment[]): NodeAtPath {
  let value: unknown = doc.contents;
  let key: Node | undefined;
  for (const seg of segments) {
    value = deref(doc, value);
    if (isMap(value)) {
      const pair = value.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) return {};
      key = isNode(pair.key) ? pair.key : undefined;
      value = pair.value;
    } else if (isSeq(value) && typeof seg === 'number') {
      key = undefined;
      value = value.items[seg];
    } else {
      return {};
    }
  }
  const resolved = deref(doc, value);
  return { ...(key ? { key } : {}), ...(isNode(resolved) ? { value: resolved } : {}) };
}

function deref(doc: Document, value: unknown): unknown {
  let v = value;
  // Bounded: an alias cycle is a YAML error reported elsewhere.
  for (let i = 0; i < 32 && isAlias(v); i++) v = v.resolve(doc);
  return v;
}

function isNode(value: unknown): value is Node {
  return (
    typeof value === 'object' &&
    value !== null &&
    'range' in value &&
    Array.isArray((value as { range?: unknown }).range)
  );
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** Start of a node, or undefined when it has no source range. */
export function nodeStart(node: Node | undefined): number | undefined {
  return node?.range ? node.range[0] : undefined;
}

/**
 * Where a diagnostic about the value at `segments` should point: the value, or its key when the
 * value is empty (`users:` with nothing after it), or the nearest ancestor that exists.
 */
export function positionOfValue(
  doc: Document,
  locator: SourceLocator,
  segments: readonly PathSegment[],
): SourcePosition | undefined {
  for (let n = segments.length; n >= 0; n--) {
    const { key, value } = findNode(doc, segments.slice(0, n));
    const emptyValue = isScalar(value) && value.range && value.range[0] === value.range[1];
    const node = value && !emptyValue ? value : (key ?? value);
    const start = nodeStart(node);
    if (start !== undefined) return locator.position(start);
  }
  return undefined;
}

/** Where a diagnostic about a key should point: the key, else the value, else an ancestor. */
export function positionOfKey(
  doc: Document,
  locator: SourceLocator,
  segments: readonly PathSegment[],
): SourcePosition | undefined {
  const { key } = findNode(doc, segments);
  const start = nodeStart(key);
  if (start !== undefined) return locator.position(start);
  return positionOfValue(doc, locator, segments);
}

/**
 * Where "missing key in X" should point: the key that introduces X (`users:`), or the start of
 * the document for the root.
 */
export function positionOfParent(
  doc: Document,
  locator: SourceLocator,
  segments: readonly PathSegment[],
): SourcePosition | undefined {
  if (segments.length === 0) {
    const start = nodeStart(doc.contents ?? undefined);
    return locator.position(start ?? 0);
  }
  return positionOfKey(doc, locator, segments);
}

export function configError(
  code: string,
  message: string,
  path: readonly PathSegment[] | string,
  position: SourcePosition | undefined,
): Diagnostic {
  return {
    severity: 'error',
    code,
    message,
    path: typeof path === 'string' ? path : formatConfigPath(path),
    ...(position ? { position } : {}),
  };
}

/** Orders diagnostics by file, line and column; those without a position come first. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const pa = a.position;
    const pb = b.position;
    if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
    return pa.file.localeCompare(pb.file) || pa.line - pb.line || pa.column - pb.column;
  });
}

export interface FormatDiagnosticsOptions {
  /** Source text by file name: adds the offending line and a caret under the column. */
  readonly sources?: Readonly<Record<string, string>>;
}

/**
 * One block per diagnostic (`file:line:col: message [path]`, from `formatDiagnostic`), in file
 * order, with an optional source excerpt, then a count line.
 */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  options: FormatDiagnosticsOptions = {},
): string {
  const lines: string[] = [];
  for (const d of sortDiagnostics(diagnostics)) {
    lines.push(formatDiagnostic(d));
    const text = d.position ? options.sources?.[d.position.file] : undefined;
    if (d.position && text !== undefined) {
      const sourceLine = text.split(/\r?\n/)[d.position.line - 1];
      if (sourceLine !== undefined) {
        const gutter = String(d.position.line);
        lines.push(`  ${gutter} | ${sourceLine}`);
        lines.push(`  ${' '.repeat(gutter.length)} | ${' '.repeat(d.position.column - 1)}^`);
      }
    }
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const counts = [plural(errors, 'error'), ...(warnings > 0 ? [plural(warnings, 'warning')] : [])];
  if (diagnostics.length > 0) lines.push(counts.join(', '));
  return lines.join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
