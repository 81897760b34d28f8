/**
 * Settles writes that may have committed unseen before they are sent (again): a create whose
 * answer was lost or that met "already exists" (G4), a delete whose answer was lost (G13).
 * Each reads the one object concerned and nothing else; none writes.
 */
import type { AttributeValue } from '../../engine/model/tenant.js';
import { flatten, selectFor } from './attributes.js';
import type { ExecutorRun, OpState } from './executor-state.js';
import { failOp, nextBackoff } from './executor-state.js';
import type { OperationSemantics } from './graph-operation.js';
import type { GraphHttpResponse } from './transport.js';
import { graphErrorOf } from './transport.js';

type CreateUser = Extract<OperationSemantics, { kind: 'create-user' }>;

/** Reads back an operation flagged `reconcile`: a delete, else a create. */
export async function settleInDoubt(run: ExecutorRun, s: OpState): Promise<void> {
  if (s.op.semantics.kind === 'delete-user') await reconcileDelete(run, s);
  else await reconcileCreate(run, s);
}

/**
 * Proves whether a create whose answer was lost, or that met "already exists", is in the
 * tenant: read the user by UPN and compare the attributes that make it ours (anchor, marker).
 */
export async function reconcileCreate(run: ExecutorRun, s: OpState): Promise<void> {
  const semantics = s.op.semantics;
  if (semantics.kind !== 'create-user') {
    s.reconcile = false;
    return;
  }
  const paths = Object.keys(semantics.proof);
  const select = selectFor(paths).join(',');
  const url = `/users/${encodeURIComponent(semantics.userPrincipalName)}?$select=${select}`;
  const started = run.clock.now();
  for (;;) {
    let response: GraphHttpResponse;
    try {
      response = await run.transport.get(url);
    } catch (err) {
      failOp(s, {
        code: 'network',
        message: `could not read ${semantics.userPrincipalName} back to settle a lost create: ${err instanceof Error ? err.message : String(err)}`,
        class: 'transient',
      });
      return;
    }
    if (response.status === 200) {
      settleFound(run, s, semantics, response.body as Record<string, unknown>, paths);
      return;
    }
    if (response.status === 404) {
      if (!s.conflictSeen) {
        // Not there: the lost create never committed. Send it (again).
        s.reconcile = false;
        return;
      }
      // Graph says it exists but it cannot be read yet: replication lag (G6).
      if (run.clock.now() - started < run.lagWindowMs) {
        run.stats.retries += 1;
        await run.clock.sleep(nextBackoff(s));
        continue;
      }
    }
    const graph = graphErrorOf(response.body);
    failOp(s, {
      status: response.status,
      code: graph.code ?? `HTTP${response.status}`,
      message: `could not read ${semantics.userPrincipalName} back to settle its create: ${graph.message ?? response.status}`,
      class: response.status === 403 ? 'permission' : 'transient',
    });
    return;
  }
}

/** The account holding the UPN was found: ours (recovered) or another's (a final conflict). */
function settleFound(
  run: ExecutorRun,
  s: OpState,
  semantics: CreateUser,
  found: Record<string, unknown>,
  paths: readonly string[],
): void {
  const attributes = flatten(found, paths);
  const mismatch = paths.find((p) => !sameValue(attributes[p] ?? null, semantics.proof[p] ?? null));
  run.stats.reconciled += 1;
  s.reconcile = false;
  if (mismatch !== undefined) {
    const held = `${semantics.userPrincipalName} is held by another account (its ${mismatch} is not this person's)`;
    failOp(s, {
      status: s.conflict?.status ?? 400,
      code: s.conflict?.code ?? 'ObjectConflict',
      message: s.conflict ? `${s.conflict.message} (${held})` : held,
      class: 'final',
    });
    return;
  }
  const id = typeof found['id'] === 'string' ? found['id'] : undefined;
  if (id !== undefined) run.context.created.add(id);
  s.result = { ok: true, recovered: true, ...(id === undefined ? {} : { targetId: id }) };
}

/**
 * Settles a delete whose answer was lost (G13): an account that is no longer an active user
 * (absent, or in the recycle bin) was deleted as intended; one that is still there is deleted
 * again. Either way nothing but this account is touched.
 */
export async function reconcileDelete(run: ExecutorRun, s: OpState): Promise<void> {
  const semantics = s.op.semantics;
  s.reconcile = false;
  if (semantics.kind !== 'delete-user') return;
  let response: GraphHttpResponse;
  try {
    response = await run.transport.get(
      `/users/${encodeURIComponent(semantics.objectId)}?$select=id`,
    );
  } catch {
    return; // Unknown: resend; a 404 then still counts as deleted (mayHaveCommitted).
  }
  if (response.status === 404) {
    run.stats.reconciled += 1;
    s.result = { ok: true, recovered: true, targetId: semantics.objectId };
  }
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return JSON.stringify(a) === JSON.stringify(b);
}
