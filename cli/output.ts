/**
 * Every byte the CLI prints goes through here, and through the run's redactor, so a secret that
 * reaches an error message is scrubbed before it reaches a terminal or a CI log (invariant 5).
 */
import type { Redactor } from '../engine/secret.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

interface Writable {
  write(text: string): unknown;
}

export function createOutput(
  redactor: Redactor,
  streams: { readonly stdout: Writable; readonly stderr: Writable } = {
    stdout: process.stdout,
    stderr: process.stderr,
  },
): Output {
  return {
    out: (text) => void streams.stdout.write(redactor.redact(text)),
    err: (text) => void streams.stderr.write(redactor.redact(text)),
  };
}
