/**
 * What one Graph write is: its request, and what it means, which decides how its answers are
 * read (answer-rules.ts). Plain data, made by operations.ts and carried out by batch-executor.ts.
 */
import type { AttributeValue } from '../../engine/model/tenant.js';
import type { GraphHttpRequest } from './transport.js';

/** What a write means, which decides how its answers are read. */
export type OperationSemantics =
  | {
      readonly kind: 'create-user';
      readonly userPrincipalName: string;
      /** Attributes that prove a found account is the one this operation creates (anchor, marker). */
      readonly proof: Readonly<Record<string, AttributeValue>>;
    }
  | { readonly kind: 'update'; readonly objectId: string }
  | { readonly kind: 'upsert-group'; readonly uniqueName: string }
  | {
      readonly kind: 'add-members';
      readonly groupId: string;
      readonly memberIds: readonly string[];
    }
  | { readonly kind: 'assign-license'; readonly objectId: string }
  /** A 404 means "not a member" (already removed): the goal holds. */
  | { readonly kind: 'remove-member'; readonly groupId: string; readonly memberId: string }
  /** "Already exist" means the owner is there: the goal holds. */
  | { readonly kind: 'add-owner'; readonly groupId: string; readonly ownerId: string }
  /** A 404 means "not an owner" (already removed): the goal holds. */
  | { readonly kind: 'remove-owner'; readonly groupId: string; readonly ownerId: string }
  /** After a lost answer, an account that is gone (absent or in the recycle bin) is deleted (G13). */
  | { readonly kind: 'delete-user'; readonly objectId: string };

export interface GraphOperation {
  /** The change this operation carries out (journal key for `inDoubt`). */
  readonly changeId: string;
  readonly request: GraphHttpRequest;
  readonly semantics: OperationSemantics;
}

/** The existing directory objects a write names: a 404 or a 403 is about one of them. */
export function objectIdsOf(semantics: OperationSemantics): string[] {
  switch (semantics.kind) {
    case 'update':
    case 'assign-license':
    case 'delete-user':
      return [semantics.objectId];
    case 'add-members':
      return [semantics.groupId, ...semantics.memberIds];
    case 'remove-member':
      return [semantics.groupId, semantics.memberId];
    case 'add-owner':
    case 'remove-owner':
      return [semantics.groupId, semantics.ownerId];
    default:
      return [];
  }
}

/** The same group upsert without `owners@odata.bind`; undefined when it has none. */
export function withoutOwners(op: GraphOperation): GraphOperation | undefined {
  const body = op.request.body as Record<string, unknown> | undefined;
  if (body === undefined || !('owners@odata.bind' in body)) return undefined;
  const { 'owners@odata.bind': _owners, ...rest } = body;
  return { ...op, request: { ...op.request, body: rest } };
}
