/**
 * A group's owners by reference (group-post-owners, group-delete-owners):
 * `POST /groups/{id}/owners/$ref` with `{"@odata.id": ".../users/{id}"}` and
 * `DELETE /groups/{id}/owners/{id}/$ref`, both 204, with the member writes' rules (restricted
 * administrative units, role-assignable groups, the duplicate error, 404 for an absent owner),
 * and never the group's last user owner (400).
 * Owners are users (Graph also takes service principals, which the simulator does not model).
 */
import { GraphError, graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import { jsonObjectBody } from '../http.js';
import { audit } from './audit.js';
import type { GraphContext } from './context.js';
import { assertNotRestricted, findGroup, resolveReference } from './context.js';
import { addReferences, assertMembershipWrite } from './groups.js';
import type { PathSegment } from './odata.js';

export function addOwner(ctx: GraphContext, segment: PathSegment): SimResponse {
  const body = jsonObjectBody(ctx.request);
  const group = findGroup(ctx, segment);
  assertNotRestricted(ctx, group.doc);
  assertMembershipWrite(ctx, group);
  const owner = resolveReference(ctx, body['@odata.id']);
  if (owner.kind !== 'user') {
    // Graph documents users and service principals as owners; its wording for a group is not.
    throw new GraphError(
      400,
      'Request_BadRequest',
      'The entrasync simulator takes only users as group owners, as Graph documents (and service principals, which it does not model).',
    );
  }
  ctx.store.transaction(() => addReferences(ctx, group.doc.id, [], [owner.doc.id]));
  return { status: 204 };
}

export function removeOwner(ctx: GraphContext, segment: PathSegment, ownerId: string): SimResponse {
  const group = findGroup(ctx, segment);
  assertNotRestricted(ctx, group.doc);
  assertMembershipWrite(ctx, group);
  ctx.store.transaction(() => {
    // "Once owners are assigned to a group, the last owner (a user object) of the group cannot
    // be removed" (group-delete-owners).
    const owners = ctx.store.pageLinks('owner', group.doc.id, 0, 1000).map((l) => l.targetId);
    const id = ownerId.toLowerCase();
    const userOwners = owners.filter((o) => ctx.store.getObject(o)?.kind === 'user');
    if (userOwners.length === 1 && userOwners[0] === id) throw graphErrors.lastOwner();
    if (!ctx.store.removeLink('owner', group.doc.id, ownerId, ctx.clock.now())) {
      throw graphErrors.resourceNotFound(ownerId);
    }
    const owner = ctx.store.getObject(ownerId);
    audit(ctx, 'Remove owner from group', owner === undefined ? [group] : [owner, group]);
  });
  return { status: 204 };
}
