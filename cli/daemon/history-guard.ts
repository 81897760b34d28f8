/**
 * The daemon's calls into history: a history that cannot be written or read is logged and shown
 * in health (`history: ...`), but never stops a run. The next history call that succeeds clears
 * the error.
 */
import type { Logger } from '../logging.js';

export interface HistoryGuard {
  /** `body`'s value; when it throws, the error is logged and kept and `fallback` is returned. */
  attempt<T>(body: () => T, fallback: T): T;
  /** The message of the last history call if it failed; undefined once one succeeds. */
  readonly error: string | undefined;
}

export function createHistoryGuard(log: Logger): HistoryGuard {
  let error: string | undefined;
  return {
    attempt(body, fallback) {
      try {
        const value = body();
        error = undefined;
        return value;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        log.error({ err }, 'history could not be written or read');
        return fallback;
      }
    },
    get error() {
      return error;
    },
  };
}
