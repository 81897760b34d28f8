/**
 * Which clock the time-based deprovisioning stages run on (issue 17, class 3).
 *
 * Grace periods (removeAccessAfterDays, deleteAfterDays) count from a date recorded on the
 * account by the apply, in Microsoft Graph's time, so they must be counted in Graph's time too:
 * a local clock one day ahead would delete a day early, one reading 2099 at once. The tenant
 * read measures the local clock against Graph's `Date` header (TenantState.clock); this module
 * turns that into the `now` the diff counts from and says whether it may be trusted:
 *
 * - a live read: `now` is the local clock corrected by the measured skew (Graph's now). Past
 *   `safety.maxClockSkew` the clock is not trusted: the time-based stages are refused (error
 *   `clock.skew`, plan exit 1) and everything else still plans; a config without time-based
 *   stages only gets a warning.
 * - an offline snapshot (`recorded`): the stages are evaluated at the Graph time the snapshot
 *   was read at, never at the local now: a stage can come late, never early.
 * - no Graph time at all (`unknown`, a snapshot from before this was recorded): the stages are
 *   refused with a warning (`clock.unknown`); apply reads the live tenant and checks again.
 * - no clock in the tenant state (engine callers that pass their own `now`): `now` as given.
 *
 * Days are 86,400,000 ms of UTC: no local time zone and no daylight-saving shift enters.
 */
import type { PlanIssue, PlanWarning } from '../model/plan.js';
import type { SyncSpec } from '../model/spec.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS } from '../model/spec.js';
import type { TenantClock } from '../model/tenant.js';

export interface StageClock {
  /** Graph's time now (ms since the epoch), as well as it is known. */
  readonly now: number;
  /** false: the time-based stages are refused. */
  readonly trusted: boolean;
  /** Why not trusted, for the issue or warning. */
  readonly reason?: string;
  /** `skew`: the local clock is past maxClockSkew (an error); `unknown`: no Graph time. */
  readonly distrust?: 'skew' | 'unknown';
}

/** The clock the stages run on; `localNow` is the local clock when the plan is made. */
export function stageClock(
  clock: TenantClock | undefined,
  localNow: number,
  maxSkewMs: number = DEFAULT_MAX_CLOCK_SKEW_MS,
): StageClock {
  if (clock === undefined) return { now: localNow, trusted: true };
  switch (clock.status) {
    case 'recorded':
      return { now: clock.serverTime, trusted: true };
    case 'unknown':
      return { now: localNow, trusted: false, distrust: 'unknown', reason: clock.reason };
    case 'read': {
      const skew = clock.localTime - clock.serverTime;
      const now = localNow - skew;
      if (Math.abs(skew) <= maxSkewMs) return { now, trusted: true };
      return {
        now,
        trusted: false,
        distrust: 'skew',
        reason: `the local clock (${new Date(clock.localTime).toISOString()}) is ${formatSpan(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} Microsoft Graph's (Date header ${new Date(clock.serverTime).toUTCString()}), past safety.maxClockSkew ${formatSpan(maxSkewMs)}`,
      };
    }
  }
}

/** Whether the policy has a stage that waits for a number of days. */
export function hasTimedStages(spec: SyncSpec): boolean {
  const policy = spec.users.deprovision;
  return (
    policy.action === 'disable' &&
    (policy.removeAccessAfterDays > 0 || policy.deleteAfterDays !== undefined)
  );
}

/**
 * What the plan says about an untrusted clock: an error issue when the skew refused the
 * config's time-based stages, a warning otherwise. `held`: UPNs of the leavers whose stages
 * were not evaluated.
 */
export function clockFindings(
  clock: StageClock,
  spec: SyncSpec,
  held: readonly string[],
): { issues: PlanIssue[]; warnings: PlanWarning[] } {
  if (clock.trusted) return { issues: [], warnings: [] };
  const timed = hasTimedStages(spec);
  const listed = held.slice(0, 10).join(', ');
  const accounts =
    held.length === 0
      ? 'no leaver is waiting for one now'
      : `${held.length} leaver(s) keep their current stage: ${listed}${held.length > 10 ? `, and ${held.length - 10} more` : ''}`;
  const refused = `access removals after removeAccessAfterDays and deletes after deleteAfterDays are not planned (${accounts})`;
  if (clock.distrust === 'skew' && timed) {
    return {
      issues: [
        {
          severity: 'error',
          code: 'clock.skew',
          message: `${clock.reason ?? 'the local clock is skewed'}: ${refused}; everything else is planned. Set the clock right (NTP) and plan again.`,
          source: 'target',
        },
      ],
      warnings: [],
    };
  }
  return {
    issues: [],
    warnings: [
      {
        code: clock.distrust === 'skew' ? 'clock.skew' : 'clock.unknown',
        message: timed
          ? `${clock.reason ?? 'no Microsoft Graph time'}: ${refused}`
          : `${clock.reason ?? 'no Microsoft Graph time'}; this config has no time-based stage, so the plan does not depend on it`,
        subject: 'safety.maxClockSkew',
      },
    ],
  };
}

/** `3d 4h`, `6m 5s`, `1d` (for 1d 0h 0.9s), `800ms`: a unit and the next one down, floored. */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: readonly (readonly [string, number])[] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const i = units.findIndex(([, size]) => ms >= size);
  const [name, size] = units[i] ?? ['s', 1000];
  const n = Math.floor(ms / size);
  const next = units[i + 1];
  const m = next ? Math.floor((ms - n * size) / next[1]) : 0;
  return next && m > 0 ? `${n}${name} ${m}${next[0]}` : `${n}${name}`;
}
