/**
 * Selectors: where something is in a JSON value (`records`, `key`, a next link, a cursor, a
 * total). Written either as a dotted path or as a JSONata expression.
 *
 * A dotted path (`data.items`, `links.next`, `@odata.nextLink`, `next-cursor`) is followed
 * property by property through objects, own properties only, never into arrays; if the value has
 * an own property spelled exactly like the whole path, that property wins (`@odata.nextLink` is
 * one property in Graph-style APIs). It is exact where JSONata is lenient: JSONata unwraps a
 * one-element array into its element and maps paths over arrays, so `data` on a page with one
 * person would give an object, not a list. Anything that is not a dotted path is compiled as
 * JSONata (with the engine's guardrails) once, when the read starts.
 */
import { compileExpression } from '../../engine/expr/jsonata.js';

export interface Selector {
  readonly text: string;
  /** `path`: synchronous and exact; `jsonata`: may return a Promise. */
  readonly kind: 'path' | 'jsonata';
  select(value: unknown): unknown;
}

export type CompileSelectorResult =
  | { readonly ok: true; readonly selector: Selector }
  | { readonly ok: false; readonly message: string };

const DOTTED_PATH = /^[A-Za-z_@][\w@-]*(?:\.[A-Za-z_@][\w@-]*)*$/;

export function compileSelector(text: string, configPath: string): CompileSelectorResult {
  if (DOTTED_PATH.test(text)) {
    const steps = text.split('.');
    return {
      ok: true,
      selector: { text, kind: 'path', select: (value) => followPath(value, text, steps) },
    };
  }
  const compiled = compileExpression(text, configPath, { file: configPath, line: 1, column: 1 });
  if (!compiled.ok) {
    const { error } = compiled;
    return {
      ok: false,
      message: `\`${configPath}\` is neither a dotted path nor valid JSONata: ${error.message} (${error.code}, at character ${error.offset + 1})`,
    };
  }
  const { expression } = compiled;
  return {
    ok: true,
    selector: { text, kind: 'jsonata', select: (value) => expression.evaluate(value, {}) },
  };
}

function followPath(value: unknown, whole: string, steps: readonly string[]): unknown {
  if (isObject(value) && Object.hasOwn(value, whole)) return value[whole];
  let current: unknown = value;
  for (const step of steps) {
    if (!isObject(current) || !Object.hasOwn(current, step)) return undefined;
    current = current[step];
  }
  return current;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
