/**
 * When a plan may be reused instead of computed again: the daemon's no-change cycle.
 *
 * A plan is a pure function of the spec, the source snapshots, the tenant state and the clock.
 * Connectors hand back the very same snapshot / tenant object when they can prove nothing
 * changed (a CSV file with the same bytes, a directory whose change counter did not move, a
 * Graph delta round with no changes), so "same inputs" is object identity here, never a deep
 * comparison that could miss something. The clock matters in two places only, and both are
 * bounded by `planValidUntil`:
 *
 * - staged offboarding: a disabled leaver's next stage falls due `removeAccessAfterDays` /
 *   `deleteAfterDays` after the date recorded on the account;
 * - expressions that read the clock (`$now()`, `$millis()`): such a spec is never reused.
 */
import type { Plan } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import type { SyncSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import { specExpressions } from './lint.js';
import type { PlanOptions } from './plan.js';

const DAY_MS = 86_400_000;
const CLOCK_FUNCTIONS = /\$(?:now|millis)\s*\(/;

/** The inputs a plan was made from, kept by a caller that plans again and again (the daemon). */
export interface PlanMemo {
  readonly spec: SyncSpec;
  readonly snapshots: readonly SourceSnapshot[];
  readonly tenant: TenantState;
  /** The options it was planned with (`now` aside): each must be the same object again. */
  readonly options: PlanOptions;
  readonly plan: Plan;
  /** The plan stays what `computePlan` would give until this instant (ms since the epoch). */
  readonly validUntil: number;
}

/**
 * The first instant after `now` at which the same spec, snapshots and tenant could give a
 * different plan; `now` itself when that cannot be known (the spec reads the clock).
 * Conservative: every managed-looking disabled account with a recorded date counts, leaver
 * or not, so the bound can only be early, never late.
 */
export function planValidUntil(spec: SyncSpec, tenant: TenantState, now: number): number {
  if (specExpressions(spec).some((e) => CLOCK_FUNCTIONS.test(e.expression.text))) return now;
  const policy = spec.users.deprovision;
  if (policy.action !== 'disable') return Number.POSITIVE_INFINITY;
  const offsets = [
    policy.removeAccessAfterDays,
    ...(policy.deleteAfterDays === undefined ? [] : [policy.deleteAfterDays]),
  ].map((days) => days * DAY_MS);
  let until = Number.POSITIVE_INFINITY;
  for (const account of tenant.users) {
    if (account.attributes['accountEnabled'] === true) continue;
    const recorded = account.attributes[policy.stateAttribute];
    if (typeof recorded !== 'string') continue;
    const since = Date.parse(recorded);
    if (Number.isNaN(since)) continue;
    for (const offset of offsets) {
      const due = since + offset;
      if (due > now && due < until) until = due;
    }
  }
  return until;
}

/**
 * The memo's plan when it may stand for a new one: the same spec object, the same snapshot
 * objects in the same order, the same tenant object, the same option values (`now` aside),
 * and `now` before `validUntil`.
 */
export function reusablePlan(
  memo: PlanMemo | undefined,
  spec: SyncSpec,
  snapshots: readonly SourceSnapshot[],
  tenant: TenantState,
  options: PlanOptions,
  now: number,
): Plan | undefined {
  if (memo === undefined || memo.spec !== spec || memo.tenant !== tenant) return undefined;
  if (now >= memo.validUntil) return undefined;
  const keys = new Set([...Object.keys(memo.options), ...Object.keys(options)]);
  keys.delete('now');
  for (const key of keys) {
    if (memo.options[key as keyof PlanOptions] !== options[key as keyof PlanOptions]) {
      return undefined;
    }
  }
  if (memo.snapshots.length !== snapshots.length) return undefined;
  if (!memo.snapshots.every((s, i) => s === snapshots[i])) return undefined;
  return memo.plan;
}
