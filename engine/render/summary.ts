/**
 * The counts a saved plan carries in its JSON (`summary`), for scripts and dashboards that read
 * plans without walking the changes. Derived from the plan when it is rendered, never stored in
 * the Plan itself: it cannot disagree with the changes, and the fingerprint does not hash it.
 */
import type { ChangeKind, Plan } from '../model/plan.js';
import { heldByReason } from './held.js';
import { KINDS_IN_ORDER } from './kinds.js';

export interface PlanSummary {
  /** Changes in the plan: those that apply plus those held. */
  readonly total: number;
  /** Changes not held (`changes`): what apply applies, unless a source failed or a hold-plan holds. */
  readonly changes: number;
  /** Changes held by a safety check (`blocked`). */
  readonly held: number;
  /** Changes not held, per kind, in the plan's kind order; kinds with none are left out. */
  readonly byKind: Readonly<Partial<Record<ChangeKind, number>>>;
  /** Held changes per reason code (`blocked[].code`), most first. */
  readonly heldByReason: Readonly<Record<string, number>>;
}

export function summarizePlan(plan: Plan): PlanSummary {
  const counts = new Map<ChangeKind, number>();
  for (const c of plan.changes) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  return {
    total: plan.changes.length + plan.blocked.length,
    changes: plan.changes.length,
    held: plan.blocked.length,
    byKind: Object.fromEntries(
      KINDS_IN_ORDER.filter((k) => counts.has(k)).map((k) => [k, counts.get(k)]),
    ),
    heldByReason: Object.fromEntries(heldByReason(plan)),
  };
}
