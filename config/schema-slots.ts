/**
 * Schema helpers for strings the loader treats specially. A leaf module (it imports no schema
 * and no connector), so a connector's `options.ts` can declare a secret field with
 * `SecretReference(...)` without an import cycle through `schema.ts`.
 *
 * Each helper tags its node with `ConfigSlot` (a symbol, so the tag never reaches the published
 * JSON Schema):
 * - `expression`: a JSONata expression, compiled when config loads;
 * - `secret`: must be a secret reference (`${env:NAME}` or `${file:path}`); loaded as a
 *   `SecretRef` object, so code cannot use it without resolving it (`secrets.ts`);
 * - `secret-or-text`: a literal string or a secret reference; loaded as `string | SecretRef`.
 * The JSON shape of a secret slot is a string; `Static<>` gives the loaded shape (the loader
 * converts after validation), which is why those nodes are `Type.Unsafe`.
 */
import { Type, type TSchema, type TString, type TUnsafe } from '@sinclair/typebox';
import type { SecretRef } from './secrets.js';

export const ConfigSlot = Symbol.for('entrasync.config-slot');
export type ConfigSlotKind = 'expression' | 'secret' | 'secret-or-text';

/** A whole string value `${env:NAME}` or `${file:path}`; nothing may surround it. */
export const SECRET_REF_PATTERN = '^\\$\\{(?:env:[A-Za-z_][A-Za-z0-9_]*|file:[^}]+)\\}$';

/** A config value that may be written literally or as a secret reference. */
export type ConfigValue = string | SecretRef;

export function slotOf(schema: unknown): ConfigSlotKind | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  return (schema as { [ConfigSlot]?: ConfigSlotKind })[ConfigSlot];
}

function withSlot<T extends TSchema>(schema: T, slot: ConfigSlotKind): T {
  return Object.assign(schema, { [ConfigSlot]: slot });
}

/** A JSONata expression, compiled when the config loads. */
export function ExpressionString(description: string, options: { default?: string } = {}): TString {
  return withSlot(Type.String({ minLength: 1, description, ...options }), 'expression');
}

/** Must be a secret reference; the loaded value is a `SecretRef`. */
export function SecretReference(description: string): TUnsafe<SecretRef> {
  return withSlot(
    Type.Unsafe<SecretRef>(
      Type.String({
        pattern: SECRET_REF_PATTERN,
        // Non-standard, understood by VS Code and yaml-language-server; ajv is told to accept it.
        patternErrorMessage:
          'must be a secret reference such as ${env:NAME} or ${file:path}: a secret written into a config file ends up in git',
        description,
      }),
    ),
    'secret',
  );
}

/** A literal string or a secret reference; the loaded value is `string | SecretRef`. */
export function SecretOrText(description: string): TUnsafe<ConfigValue> {
  return withSlot(
    Type.Unsafe<ConfigValue>(Type.String({ minLength: 1, description })),
    'secret-or-text',
  );
}

/** A string enum as JSON Schema `enum`: one error with the allowed values, completion in editors. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description: string; default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
