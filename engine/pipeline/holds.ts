/**
 * Holding what depends on a held change (issue 20: hold the unsafe, apply the rest). A change
 * the safety checks block is held, and so is every change that only makes sense after it:
 *
 * - a change that `requires` it (a license or manager of a user whose create is held, a
 *   session revoke after a held disable, a group's members while the group's create is held);
 * - the part of a membership change that names an account or group this plan creates, while
 *   that create is held: the membership change is split, the other members apply and the held
 *   members wait (one held new hire never holds a colleague's membership);
 * - a manager assignment whose manager is created by a held create.
 *
 * Everything else is independent and stays appliable. Pure over plain data; the result keeps
 * the plan's order, each held part right after its appliable part.
 */
import type { BlockedChange, Change, GroupMembersChange, UserRef } from '../model/plan.js';
import type { GroupRef } from '../model/plan.js';
import { createGroupId, createUserId } from '../model/plan.js';

export const HELD_PART_SUFFIX = '~held';

export interface HoldResult {
  readonly changes: readonly Change[];
  readonly blocked: readonly BlockedChange[];
}

/** Moves every dependent of a blocked change (and the held part of a membership) to blocked. */
export function holdDependents(
  changes: readonly Change[],
  blocked: readonly BlockedChange[],
): HoldResult {
  const held = new Set(blocked.map((b) => b.change.id));
  let allowed = [...changes];
  const added: BlockedChange[] = [];
  for (let grew = true; grew;) {
    grew = false;
    const next: Change[] = [];
    for (const change of allowed) {
      const outcome = holdOf(change, held);
      if (outcome === undefined) {
        next.push(change);
        continue;
      }
      grew = true;
      if (outcome.keep) next.push(outcome.keep);
      added.push(outcome.hold);
      held.add(outcome.hold.change.id);
    }
    allowed = next;
  }
  return { changes: allowed, blocked: [...blocked, ...added] };
}

interface Split {
  /** The appliable rest of the change, if any is left. */
  readonly keep?: Change;
  readonly hold: BlockedChange;
}

/** How `change` is held by the held ids, or undefined when it is independent of them. */
function holdOf(change: Change, held: ReadonlySet<string>): Split | undefined {
  const cause = change.requires?.find((id) => held.has(id));
  if (cause !== undefined) return { hold: followsHeld(change, [cause]) };
  if (change.kind === 'setManager') {
    const create = createOfUser(change.manager);
    if (create !== undefined && held.has(create)) return { hold: followsHeld(change, [create]) };
    return undefined;
  }
  if (change.kind === 'addMembers' || change.kind === 'removeMembers') {
    return splitMembers(change, held);
  }
  return undefined;
}

/** A membership change without the members whose create is held, and those members held. */
function splitMembers(change: GroupMembersChange, held: ReadonlySet<string>): Split | undefined {
  const heldUsers = change.members.filter((m) => isHeld(createOfUser(m), held));
  const heldGroups = (change.memberGroups ?? []).filter((g) => isHeld(createOfGroup(g), held));
  if (heldUsers.length === 0 && heldGroups.length === 0) return undefined;
  const causes = [
    ...heldUsers.map((m) => createOfUser(m)!),
    ...heldGroups.map((g) => createOfGroup(g)!),
  ];
  const keptUsers = change.members.filter((m) => !heldUsers.includes(m));
  const keptGroups = (change.memberGroups ?? []).filter((g) => !heldGroups.includes(g));
  if (keptUsers.length === 0 && keptGroups.length === 0) {
    return { hold: followsHeld(change, causes) };
  }
  const verb = change.kind === 'addMembers' ? 'add' : 'remove';
  const prep = change.kind === 'addMembers' ? 'to' : 'from';
  const part = (users: readonly UserRef[], groups: readonly GroupRef[], id: string): Change => ({
    ...change,
    id,
    members: users,
    ...(change.memberGroups ? { memberGroups: groups } : {}),
    message: `${verb} ${users.length + groups.length} member(s) ${prep} ${change.group.displayName}`,
  });
  return {
    keep: part(keptUsers, keptGroups, change.id),
    hold: followsHeld(part(heldUsers, heldGroups, `${change.id}${HELD_PART_SUFFIX}`), causes),
  };
}

function followsHeld(change: Change, causes: readonly string[]): BlockedChange {
  const named = causes.slice(0, 3).join(', ') + (causes.length > 3 ? ', …' : '');
  return {
    change,
    code: 'requires-blocked',
    waitsFor: causes,
    message: `held: it follows ${named}, which ${causes.length === 1 ? 'is' : 'are'} held; it applies once ${causes.length === 1 ? 'that change is' : 'they are'} released`,
  };
}

function isHeld(create: string | undefined, held: ReadonlySet<string>): boolean {
  return create !== undefined && held.has(create);
}

/** The create that makes an account this plan creates (no id yet). */
function createOfUser(user: UserRef): string | undefined {
  return user.id === undefined ? createUserId(user.userPrincipalName) : undefined;
}

/** The create that makes a group this plan creates (no id yet). */
function createOfGroup(group: GroupRef): string | undefined {
  return group.id === undefined ? createGroupId(group.uniqueName) : undefined;
}
