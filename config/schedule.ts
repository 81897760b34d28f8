/**
 * The cron schedule (`schedule:`), checked where the config is loaded so `validate` and `plan`
 * point at its line and column, and with the same checker the daemon uses for `--schedule`.
 */
import { validateDetailed } from 'node-cron';
import type { Document } from 'yaml';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import type { SourceLocator } from './diagnostics.js';
import { configError, positionOfValue } from './diagnostics.js';

/** What is wrong with a cron expression, or undefined when node-cron accepts it. */
export function scheduleProblem(expression: string): string | undefined {
  const result = validateDetailed(expression);
  if (result.valid) return undefined;
  const detail = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return `\`schedule: ${expression}\` is not a cron expression${detail ? ` (${detail})` : ''}`;
}

/** The config's `schedule:` as diagnostics at its line and column (none when absent or valid). */
export function scheduleDiagnostics(
  schedule: unknown,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const problem = typeof schedule === 'string' ? scheduleProblem(schedule) : undefined;
  if (problem === undefined) return [];
  return [
    configError(
      'config.schedule',
      problem,
      ['schedule'],
      positionOfValue(doc, locator, ['schedule']),
    ),
  ];
}
