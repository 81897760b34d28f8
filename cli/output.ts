/**
 * Every byte the CLI prints goes through here, and through the run's redactor, so a secret that
 * reaches an error message is scrubbed before it reaches a terminal or a CI log (invariant 5).
 */
import type { Redactor } from '../engine/secret.js';
import type { Colors } from './colour.js';
import { NO_COLORS } from './colour.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Colours for text output (cli/colour.ts); absent: none. */
  readonly colors?: Colors;
}

/** The output's colours, or none. */
export function colorsOf(output: Output): Colors {
  return output.colors ?? NO_COLORS;
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
  /** Asked at each use: whether colour is on is known only once the command's flags are. */
  colours: () => Colors = () => NO_COLORS,
): Output {
  return {
    out: (text) => void streams.stdout.write(redactor.redact(text)),
    err: (text) => void streams.stderr.write(redactor.redact(text)),
    get colors() {
      return colours();
    },
  };
}
