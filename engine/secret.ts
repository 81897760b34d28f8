/**
 * Secrets are resolved late and carried in a wrapper that never prints its value: `toString`,
 * `toJSON` and `util.inspect` all give `[redacted]`. `reveal()` is the one way out, used only at
 * the point a connector hands the value to a library. One Redactor per run knows every resolved
 * value and scrubs any text on its way out (logs, errors, renderers, history).
 */
import type { SourcePosition } from './model/diagnostic.js';

/**
 * A `${env:NAME}` or `${file:path}` reference as config holds it before resolution. It is not a
 * string, so no code can hand it to a library without resolving it first.
 */
export interface SecretRef {
  readonly kind: 'secretRef';
  readonly scheme: 'env' | 'file';
  /** Variable name (`env`) or path as written (`file`). Neither is secret. */
  readonly name: string;
  /** The reference as written, e.g. `${env:ENTRA_CLIENT_SECRET}`. Safe to print. */
  readonly text: string;
  /** Config path of the value, e.g. `target.auth.clientSecret`. */
  readonly path: string;
  /** Where the reference is written. */
  readonly position?: SourcePosition;
}

/** Resolves a reference to its value, registered with the run's redactor; throws naming the reference. */
export type SecretResolver = (ref: SecretRef) => Secret;

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

export const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspectSymbol](): string {
    return REDACTED;
  }
}

export class Redactor {
  readonly #values = new Set<string>();

  /** Registers a secret value; short values are ignored so redaction never mangles ordinary text. */
  add(value: string | Secret): void {
    const v = typeof value === 'string' ? value : value.reveal();
    if (v.length >= 4) this.#values.add(v);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const v of [...this.#values].sort((a, b) => b.length - a.length)) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    return out;
  }
}
