/**
 * The cron schedule (`schedule:`), checked where the config is loaded so `validate` and `plan`
 * point at its line and column, and with the same checker the daemon uses for `--schedule`.
 */
import { validateDetailed } from 'node-cron';

/** What is wrong with a cron expression, or undefined when node-cron accepts it. */
export function scheduleProblem(expression: string): string | undefined {
  const result = validateDetailed(expression);
  if (result.valid) return undefined;
  const detail = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return `\`schedule: ${expression}\` is not a cron expression${detail ? ` (${detail})` : ''}`;
}
