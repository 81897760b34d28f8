/**
 * What a command registered from outside `program.ts` gets from `main`: the run's output and
 * redactor, the exit code to set, and the runtime opener that closes what it opened.
 */
import type { Redactor } from '../../engine/secret.js';
import type { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime.js';

export interface CommandContext {
  readonly output: Output;
  readonly redactor: Redactor;
  setExitCode(code: ExitCode): void;
  /** Opens the runtime for a config, runs `body`, closes the runtime, sets the exit code. */
  withRuntime(configPath: string, body: (runtime: Runtime) => Promise<ExitCode>): Promise<void>;
}
