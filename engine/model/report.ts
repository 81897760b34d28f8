import type { ChangeKind, UserRef } from './plan.js';

export type OpOutcome = 'applied' | 'failed' | 'skipped' | 'not-run';

/** A Graph (or other target) error as the target reported it. */
export interface TargetError {
  readonly status?: number;
  /** Graph's `error.code`, e.g. `Request_BadRequest`, or a transport code like `ECONNRESET`. */
  readonly code: string;
  readonly message: string;
}

export interface OpResult {
  readonly changeId: string;
  readonly kind: ChangeKind;
  readonly user: UserRef;
  readonly outcome: OpOutcome;
  /** Object id the write produced or touched. */
  readonly targetId?: string;
  readonly error?: TargetError;
}

export interface RunReport {
  readonly planFingerprint: string;
  readonly ops: readonly OpResult[];
}

export function countOutcomes(report: RunReport): Record<OpOutcome, number> {
  const counts: Record<OpOutcome, number> = { applied: 0, failed: 0, skipped: 0, 'not-run': 0 };
  for (const op of report.ops) counts[op.outcome]++;
  return counts;
}
