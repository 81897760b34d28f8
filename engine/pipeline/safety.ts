/**
 * Safety: plan-level checks over plain data (style practice 4). Changes that fail a check move
 * to `blocked` with a reason and are applied nowhere. This slice carries the source-health check
 * of invariant 2; thresholds, protection and approvals (issue 9) plug in here as further checks.
 */
import type { BlockedChange, Change, SourceSummary } from '../model/plan.js';
import { DEPROVISIONING_KINDS } from '../model/plan.js';

export interface SafetyContext {
  readonly sources: readonly SourceSummary[];
  /** People the sources know of but whose account could not be identified this run. */
  readonly heldWithoutAnchor: readonly string[];
}

export interface SafetyResult {
  readonly changes: readonly Change[];
  readonly blocked: readonly BlockedChange[];
}

type Check = (change: Change, context: SafetyContext) => Omit<BlockedChange, 'change'> | undefined;

/**
 * A source that failed or is incomplete cannot say who left: every deprovisioning change is
 * blocked, whichever source it seems to come from (S1, S7, S8).
 */
const unhealthySources: Check = (change, context) => {
  if (!DEPROVISIONING_KINDS.has(change.kind)) return undefined;
  const unhealthy = context.sources.filter((s) => s.status !== 'complete');
  if (unhealthy.length === 0) return undefined;
  return {
    code: 'source-unhealthy',
    message: `blocked: source ${unhealthy.map((s) => `"${s.name}" is ${s.status}`).join(', ')}; nothing is deprovisioned until every source reads completely`,
  };
};

/** Someone in the sources could not be identified; their account looks exactly like a leaver's. */
const unidentifiedPeople: Check = (change, context) => {
  if (!DEPROVISIONING_KINDS.has(change.kind) || context.heldWithoutAnchor.length === 0)
    return undefined;
  const n = context.heldWithoutAnchor.length;
  return {
    code: 'unidentified-people',
    message: `blocked: ${n} ${n === 1 ? 'person' : 'people'} in the sources could not be identified (${context.heldWithoutAnchor.slice(0, 3).join(', ')}${n > 3 ? ', ...' : ''}); fix their records first`,
  };
};

const CHECKS: readonly Check[] = [unhealthySources, unidentifiedPeople];

export function checkSafety(changes: readonly Change[], context: SafetyContext): SafetyResult {
  const allowed: Change[] = [];
  const blocked: BlockedChange[] = [];
  for (const change of changes) {
    let verdict: Omit<BlockedChange, 'change'> | undefined;
    for (const check of CHECKS) {
      verdict = check(change, context);
      if (verdict) break;
    }
    if (verdict) blocked.push({ change, ...verdict });
    else allowed.push(change);
  }
  return { changes: allowed, blocked };
}
