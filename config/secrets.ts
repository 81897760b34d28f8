/**
 * Secret references: `${env:NAME}` and `${file:path}`.
 *
 * Contract:
 * - A reference is the WHOLE string value. `"Bearer ${env:TOKEN}"` is a config error, not a
 *   template: templating would make it unclear which part of a value is secret, and would put a
 *   secret inside a string that is logged as a whole.
 * - References are allowed only where the schema says so (`SecretReference`, `SecretOrText` in
 *   `schema.ts`). Elsewhere a string that looks like one is a config error, so a typo'd field
 *   never sends the literal text `${env:X}` to a server.
 * - Loading never resolves: a CI job validating a pull request has no secrets. The loaded config
 *   holds `SecretRef` objects, which are not strings, so TypeScript makes every consumer go
 *   through `resolveSecret` / `resolveConfigValue` before a value can reach a library.
 * - Resolution wraps the value in `Secret` and registers it with the run's `Redactor`. An unset
 *   or empty variable, or a missing or empty file, throws `ConfigError` naming the variable or
 *   path and where the reference is, never any value (catalogue M6). Whitespace-only counts as
 *   empty. A file's trailing line break(s) are removed (`echo s3cret > file` is the usual way
 *   such files are made).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../engine/errors.js';
import type { Diagnostic, SourcePosition } from '../engine/model/diagnostic.js';
import { Secret, type Redactor } from '../engine/secret.js';

export type { SecretRef } from '../engine/secret.js';
import type { SecretRef } from '../engine/secret.js';

export interface SecretContext {
  /** Environment to read `${env:...}` from, normally `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory `${file:...}` paths resolve against (the config file's directory). */
  readonly baseDir: string;
  /** Every resolved value is registered here. */
  readonly redactor: Redactor;
}

const WHOLE_REFERENCE = /^\$\{(env|file):([^}]*)\}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Anything that looks like an attempt at a reference, for error messages. */
const REFERENCE_LIKE = /\$\{[^}]*\}?/;

export type ParsedReference =
  | { readonly ok: true; readonly scheme: 'env' | 'file'; readonly name: string }
  | { readonly ok: false; readonly message: string }
  | undefined;

/**
 * Reads a string as a reference. `undefined`: not a reference and nothing like one. An error
 * result: it contains `${...}` but is not one whole, well-formed reference.
 */
export function parseSecretReference(text: string): ParsedReference {
  const m = WHOLE_REFERENCE.exec(text);
  if (m) {
    const scheme = m[1] as 'env' | 'file';
    const name = m[2] ?? '';
    if (scheme === 'env' && !ENV_NAME.test(name)) {
      return {
        ok: false,
        message: `\`${text}\` is not a valid reference: a variable name is letters, digits and \`_\`, not starting with a digit`,
      };
    }
    if (scheme === 'file' && name.trim() === '') {
      return { ok: false, message: `\`${text}\` is not a valid reference: the path is empty` };
    }
    return { ok: true, scheme, name };
  }
  if (!REFERENCE_LIKE.test(text)) return undefined;
  const shellStyle = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(text);
  if (shellStyle && text === shellStyle[0]) {
    return {
      ok: false,
      message: `\`${text}\` is not a reference; did you mean \`\${env:${shellStyle[1]}}\`?`,
    };
  }
  return {
    ok: false,
    message:
      'a secret reference must be the whole value, exactly `${env:NAME}` or `${file:path}`, with nothing around it',
  };
}

/** True when a string contains something that looks like a reference (`${env:`, `${file:`). */
export function looksLikeSecretReference(text: string): boolean {
  return /\$\{\s*(env|file)\s*:/.test(text);
}

export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'secretRef'
  );
}

export function createSecretRef(
  scheme: 'env' | 'file',
  name: string,
  path: string,
  position?: SourcePosition,
): SecretRef {
  const ref: SecretRef = { kind: 'secretRef', scheme, name, text: `\${${scheme}:${name}}`, path };
  return position ? { ...ref, position } : ref;
}

/** Resolves one reference, or throws `ConfigError` naming the variable or file (never a value). */
export function resolveSecret(ref: SecretRef, ctx: SecretContext): Secret {
  const result = tryResolve(ref, ctx);
  if (!result.ok) throw new ConfigError([result.diagnostic]);
  return result.secret;
}

/**
 * A value that may be a reference: references resolve to a `Secret` (registered with the
 * redactor), literal strings come back unchanged.
 */
export function resolveConfigValue(value: string | SecretRef, ctx: SecretContext): string | Secret {
  return typeof value === 'string' ? value : resolveSecret(value, ctx);
}

/**
 * A value a library needs as plain text (a tenant or client id, a client secret at the moment it
 * is handed to the credential): resolves a reference (registering it with the redactor) and
 * reveals it; literal text comes back unchanged.
 */
export function revealConfigValue(value: string | SecretRef, ctx: SecretContext): string {
  return typeof value === 'string' ? value : resolveSecret(value, ctx).reveal();
}

/**
 * Checks that every reference resolves, reporting all that do not in one `ConfigError`, so a run
 * fails before any connection is attempted and names every missing variable at once. Resolved
 * values are registered with the redactor and returned in the order given.
 */
export function resolveSecrets(refs: readonly SecretRef[], ctx: SecretContext): Secret[] {
  const secrets: Secret[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const ref of refs) {
    const result = tryResolve(ref, ctx);
    if (result.ok) secrets.push(result.secret);
    else diagnostics.push(result.diagnostic);
  }
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  return secrets;
}

type ResolveResult =
  | { readonly ok: true; readonly secret: Secret }
  | { readonly ok: false; readonly diagnostic: Diagnostic };

function tryResolve(ref: SecretRef, ctx: SecretContext): ResolveResult {
  const fail = (code: string, message: string): ResolveResult => ({
    ok: false,
    diagnostic: {
      severity: 'error',
      code,
      message: `${message} (referenced by \`${ref.path}\`)`,
      path: ref.path,
      ...(ref.position ? { position: ref.position } : {}),
    },
  });
  let value: string;
  if (ref.scheme === 'env') {
    const raw = ctx.env[ref.name];
    if (raw === undefined)
      return fail('secret.env-unset', `environment variable \`${ref.name}\` is not set`);
    if (raw.trim() === '') {
      return fail('secret.env-empty', `environment variable \`${ref.name}\` is set but empty`);
    }
    value = raw;
  } else {
    const file = isAbsolute(ref.name) ? ref.name : resolve(ctx.baseDir, ref.name);
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (err) {
      // Only the error code: a message could in principle quote content.
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      return fail('secret.file-unreadable', `cannot read secret file \`${ref.name}\` (${code})`);
    }
    value = raw.replace(/(\r?\n)+$/, '');
    if (value.trim() === '')
      return fail('secret.file-empty', `secret file \`${ref.name}\` is empty`);
  }
  ctx.redactor.add(value);
  return { ok: true, secret: new Secret(value) };
}
