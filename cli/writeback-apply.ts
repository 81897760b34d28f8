/**
 * Apply's write-back step (issue 26): after the Graph changes, each planned write-back goes to
 * its source through that source's writer (connectors/ldap/writeback.ts, http/writeback.ts),
 * one record at a time, in plan order. One failure never stops the others (invariant 6); each
 * failure is one line naming the record (DN or key) and the LDAP result code or HTTP status.
 * A plan made before any of this (a saved plan without `writebacks`) writes nothing back.
 */
import type { Plan } from '../engine/model/plan.js';
import type { WritebackResult } from '../engine/model/writeback.js';
import type { SourceWriter } from '../engine/ports.js';
import type { Output } from './output.js';

export interface WritebackRun {
  readonly results: readonly WritebackResult[];
  readonly failed: number;
}

export function hasWritebacks(plan: Plan): boolean {
  return (plan.writebacks?.changes.length ?? 0) > 0;
}

/** Writes the plan's write-backs and prints one line each and a count. */
export async function applyWritebacks(
  plan: Plan,
  writerOf: ((source: string) => SourceWriter | undefined) | undefined,
  text: Output,
): Promise<WritebackRun> {
  const changes = plan.writebacks?.changes ?? [];
  if (changes.length === 0) return { results: [], failed: 0 };
  text.out(`\nWriting back ${changes.length} record(s) to the sources...\n`);
  const writers = new Map<string, SourceWriter | undefined>();
  const results: WritebackResult[] = [];
  try {
    for (const change of changes) {
      if (!writers.has(change.source)) writers.set(change.source, writerOf?.(change.source));
      const writer = writers.get(change.source);
      const result: WritebackResult = writer
        ? await writer.write(change)
        : {
            changeId: change.id,
            source: change.source,
            key: change.record.key,
            outcome: 'failed',
            error: {
              code: 'writeback.not-configured',
              message: `${change.source}:${change.record.key}: the config has no writeback.${change.source} any more; not written`,
            },
          };
      results.push(result);
      const where = change.record.dn ?? `${change.source}:${change.record.key}`;
      text.out(
        result.outcome === 'applied'
          ? `  applied  write   ${where} (${change.set.map((s) => s.field).join(', ')})\n`
          : `  ${result.outcome.padEnd(8)} write   ${result.error ? `${result.error.code}: ${result.error.message}` : where}\n`,
      );
    }
  } finally {
    for (const writer of writers.values()) await writer?.close();
  }
  const failed = results.filter((r) => r.outcome === 'failed').length;
  text.out(`Write-back: ${results.length - failed} applied, ${failed} failed.\n`);
  return { results, failed };
}
