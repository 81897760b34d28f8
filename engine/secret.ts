/**
 * Secrets are resolved late and carried in a wrapper that never prints its value: `toString`,
 * `toJSON` and `util.inspect` all give `[redacted]`. `reveal()` is the one way out, used only at
 * the point a connector hands the value to a library. One Redactor per run knows every resolved
 * value and scrubs any text on its way out (logs, errors, renderers, history).
 */
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
