/**
 * Apply: walks a plan's changes in order and hands each to the target writer. Outcomes are
 * recorded per change; one failure never stops the others (invariant 6, style practice 11).
 * Only `apply` ever receives a writer: planning cannot write by construction (practice 10).
 */
import type { Plan } from '../model/plan.js';
import type { OpResult, RunReport } from '../model/report.js';
import type { TargetWriter } from '../ports.js';

export interface ApplyOptions {
  /** Called after each change, e.g. for progress output. */
  readonly onResult?: (result: OpResult, index: number, total: number) => void;
}

export async function applyPlan(
  plan: Plan,
  writer: TargetWriter,
  options: ApplyOptions = {},
): Promise<RunReport> {
  const ops: OpResult[] = [];
  const total = plan.changes.length;
  for (const [index, change] of plan.changes.entries()) {
    let result: OpResult;
    try {
      const written = await writer.apply(change);
      result = written.ok
        ? {
            changeId: change.id,
            kind: change.kind,
            user: change.user,
            outcome: 'applied',
            ...(written.targetId ? { targetId: written.targetId } : {}),
          }
        : {
            changeId: change.id,
            kind: change.kind,
            user: change.user,
            outcome: 'failed',
            error: written.error,
          };
    } catch (err) {
      // A writer that throws has broken its contract; record it against the change and go on.
      result = {
        changeId: change.id,
        kind: change.kind,
        user: change.user,
        outcome: 'failed',
        error: { code: 'internal', message: err instanceof Error ? err.message : String(err) },
      };
    }
    ops.push(result);
    options.onResult?.(result, index, total);
  }
  return { planFingerprint: plan.fingerprint, ops };
}
