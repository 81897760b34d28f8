/**
 * What a plan holds, said the same way by every renderer (issue 20): the held count by reason,
 * whether the rest applies, and how the held part is released. Pure: (data) => strings.
 */
import type { Plan } from '../model/plan.js';

/**
 * Reasons a reviewer releases by approving the plan or overriding a threshold. The others (a
 * source that cannot prove it is whole, seats, lifted protection, people not identified) are
 * released only by fixing their cause.
 */
const RELEASED_BY_REVIEW: ReadonlySet<string> = new Set([
  'threshold',
  'needs-approval',
  'key-format',
  'churn',
  'mass-clear',
]);

/** Held changes per reason code, most first. */
export function heldByReason(plan: Plan): [code: string, count: number][] {
  const counts = new Map<string, number>();
  for (const b of plan.blocked) counts.set(b.code, (counts.get(b.code) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** `Held (N)` heading words: what happens to the rest of the plan. */
export function heldHeading(plan: Plan): string {
  return plan.onBlocked === 'hold-plan'
    ? `Held (${plan.blocked.length}) - nothing of this plan is applied (safety.onBlocked: hold-plan)`
    : `Held (${plan.blocked.length}) - not applied; everything else applies`;
}

/**
 * One line on releasing the held part: the fingerprint an approval or override binds to, which
 * stays the same after the rest of the plan is applied.
 */
export function releaseLine(plan: Plan): string | undefined {
  if (plan.blocked.length === 0) return undefined;
  const byReason = heldByReason(plan)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const release = plan.blocked.some((b) => RELEASED_BY_REVIEW.has(b.code))
    ? plan.releaseFingerprint?.slice(0, 12)
    : undefined;
  const how =
    release === undefined
      ? 'each is released when its reason is resolved (no approval releases it)'
      : `an approval in approvals.yaml (\`plans: [${release}]\`) or \`apply --allow-<action> N --plan ${release}\` releases what a reviewer may release, in this plan or the next`;
  return `Held: ${byReason}; ${how}.`;
}
