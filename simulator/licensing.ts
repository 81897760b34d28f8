/**
 * License assignment paths, as Entra keeps them: a user holds a SKU directly (user
 * assignLicense) and/or by inheritance from each group it is a direct member of that has the
 * SKU in its `assignedLicenses` (group-based licensing; nested groups pass nothing on, as
 * Entra documents). Graph shows one `licenseAssignmentState` per path and one `assignedLicenses`
 * entry per SKU the user actually holds.
 *
 * Seats: a user consumes one unit of a SKU however many paths grant it. Direct assignments are
 * seat-checked when made (the request fails). An inherited assignment that finds no free seat
 * is recorded, not refused: state `Error`, error `CountViolation`, not in `assignedLicenses` and
 * not consumed, as Entra reports group-licensing errors on the user object. It is re-evaluated
 * whenever the user's licensing is recomputed (membership change, group or user assignLicense,
 * restore).
 *
 * Pure functions over stored documents; the store applies the seat bookkeeping
 * (store/licenses.ts).
 */
import type { AssignedLicense, DirectoryDocument } from './store/model.js';

export type AssignmentStateName = 'Active' | 'Error';
export type AssignmentError = 'None' | 'CountViolation';

/** One assignment path, in stored form (Graph's licenseAssignmentState properties). */
export interface LicenseAssignmentState {
  readonly assignedByGroup: string | null;
  readonly disabledPlans: readonly string[];
  readonly error: AssignmentError;
  readonly lastUpdatedDateTime: string | null;
  readonly skuId: string;
  readonly state: AssignmentStateName;
}

/** The licenses one group passes on to its user members. */
export interface GroupGrant {
  readonly groupId: string;
  readonly licenses: readonly AssignedLicense[];
}

export interface LicenseComputation {
  readonly states: LicenseAssignmentState[];
  /** One entry per held SKU; disabled plans are those disabled on every path (union of plans). */
  readonly assignedLicenses: AssignedLicense[];
  /** SKUs the user holds (consumes a seat of) afterwards, lowercase. */
  readonly held: ReadonlySet<string>;
}

/** The `assignedLicenses` of a user or group document, lowercased; malformed entries skipped. */
export function assignedLicensesOf(doc: DirectoryDocument): AssignedLicense[] {
  const value = doc['assignedLicenses'];
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const skuId = (entry as Record<string, unknown>)['skuId'];
    const disabled = (entry as Record<string, unknown>)['disabledPlans'];
    return typeof skuId === 'string'
      ? [
          {
            skuId: skuId.toLowerCase(),
            disabledPlans: Array.isArray(disabled)
              ? disabled.filter((p): p is string => typeof p === 'string').map(lower)
              : [],
          },
        ]
      : [];
  });
}

/**
 * A user's assignment paths. Documents written before group-based licensing (and seeded users)
 * have `assignedLicenses` only: every entry is then a direct, active assignment dated at the
 * user's creation.
 */
export function assignmentStatesOf(user: DirectoryDocument): LicenseAssignmentState[] {
  const stored = user['licenseAssignmentStates'];
  if (Array.isArray(stored)) {
    return stored.flatMap((entry: unknown): LicenseAssignmentState[] => {
      if (typeof entry !== 'object' || entry === null) return [];
      const e = entry as Record<string, unknown>;
      if (typeof e['skuId'] !== 'string') return [];
      return [
        {
          assignedByGroup: typeof e['assignedByGroup'] === 'string' ? e['assignedByGroup'] : null,
          disabledPlans: Array.isArray(e['disabledPlans'])
            ? e['disabledPlans'].filter((p): p is string => typeof p === 'string')
            : [],
          error: e['error'] === 'CountViolation' ? 'CountViolation' : 'None',
          lastUpdatedDateTime:
            typeof e['lastUpdatedDateTime'] === 'string' ? e['lastUpdatedDateTime'] : null,
          skuId: e['skuId'],
          state: e['state'] === 'Error' ? 'Error' : 'Active',
        },
      ];
    });
  }
  const created = typeof user['createdDateTime'] === 'string' ? user['createdDateTime'] : null;
  return assignedLicensesOf(user).map((license) => ({
    assignedByGroup: null,
    disabledPlans: license.disabledPlans,
    error: 'None',
    lastUpdatedDateTime: created,
    skuId: license.skuId,
    state: 'Active',
  }));
}

/** The user's direct assignments (the ones user assignLicense adds and removes). */
export function directLicensesOf(user: DirectoryDocument): AssignedLicense[] {
  return assignmentStatesOf(user)
    .filter((s) => s.assignedByGroup === null)
    .map((s) => ({ skuId: s.skuId.toLowerCase(), disabledPlans: s.disabledPlans.map(lower) }));
}

/**
 * Recomputes a user's assignment paths.
 *
 * `takeSeat(skuId, required)` is called once for each SKU the user did not hold before and
 * needs now; it returns whether a seat was taken. `required` is true for direct assignments
 * (checked when they were made, so the seat is taken regardless); inherited ones take a seat
 * only when one is free, else they become `CountViolation`. Releasing seats of SKUs no longer
 * held is the caller's job (`previouslyHeld` minus `held`).
 *
 * An unchanged path keeps its `lastUpdatedDateTime`; a new or changed one gets `now`.
 */
export function computeLicenses(input: {
  readonly directs: readonly AssignedLicense[];
  readonly grants: readonly GroupGrant[];
  readonly previous: readonly LicenseAssignmentState[];
  readonly previouslyHeld: ReadonlySet<string>;
  readonly takeSeat: (skuId: string, required: boolean) => boolean;
  readonly now: string;
}): LicenseComputation {
  type Path = { readonly group: string | null; readonly license: AssignedLicense };
  const paths: Path[] = [
    ...input.directs.map((license) => ({ group: null, license })),
    ...input.grants.flatMap((grant) =>
      grant.licenses.map((license) => ({ group: grant.groupId.toLowerCase(), license })),
    ),
  ];
  const held = new Set<string>();
  const refused = new Set<string>();
  const direct = new Set(input.directs.map((l) => l.skuId.toLowerCase()));
  for (const path of paths) {
    const skuId = path.license.skuId.toLowerCase();
    if (held.has(skuId) || refused.has(skuId)) continue;
    if (input.previouslyHeld.has(skuId) || input.takeSeat(skuId, direct.has(skuId))) {
      held.add(skuId);
    } else {
      refused.add(skuId);
    }
  }
  const states = paths.map((path): LicenseAssignmentState => {
    const skuId = path.license.skuId.toLowerCase();
    const ok = held.has(skuId);
    const next = {
      assignedByGroup: path.group,
      disabledPlans: path.license.disabledPlans.map(lower),
      error: ok ? 'None' : 'CountViolation',
      skuId,
      state: ok ? 'Active' : 'Error',
    } as const;
    const before = input.previous.find(
      (p) =>
        p.skuId.toLowerCase() === skuId &&
        (p.assignedByGroup?.toLowerCase() ?? null) === path.group,
    );
    const unchanged =
      before !== undefined &&
      before.state === next.state &&
      before.error === next.error &&
      sameSet(before.disabledPlans.map(lower), next.disabledPlans);
    return { ...next, lastUpdatedDateTime: unchanged ? before.lastUpdatedDateTime : input.now };
  });
  const assignedLicenses: AssignedLicense[] = [];
  for (const skuId of new Set(states.filter((s) => s.state === 'Active').map((s) => s.skuId))) {
    const plans = states.filter((s) => s.skuId === skuId).map((s) => s.disabledPlans);
    const [first = [], ...rest] = plans;
    assignedLicenses.push({
      skuId,
      disabledPlans: first.filter((plan) => rest.every((other) => other.includes(plan))),
    });
  }
  return { states, assignedLicenses, held };
}

function lower(value: string): string {
  return value.toLowerCase();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
