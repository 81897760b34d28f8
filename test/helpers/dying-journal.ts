/**
 * An in-process kill of an apply (A1): a journal that dies after `limit` entries. What it had not
 * recorded is lost, as with SIGKILL, and the apply is left with `Killed` thrown through it.
 */
import type { Journal } from '../../engine/apply/journal.js';

export class Killed extends Error {}

export function dyingJournal(inner: Journal, limit: number): Journal {
  let written = 0;
  return {
    begin: (run) => inner.begin(run),
    async record(runId, entries) {
      if (written >= limit) throw new Killed('killed');
      const room = limit - written;
      written += Math.min(room, entries.length);
      await inner.record(runId, entries.slice(0, room));
      if (entries.length > room || written >= limit) throw new Killed('killed');
    },
    finish: () => Promise.reject(new Killed('killed')),
  };
}
