/**
 * Carries out Graph write operations exactly once each, in as few round trips as possible,
 * paced under Graph's write ceiling, and survives every failure of the test catalogue.
 *
 * One call takes up to 20 operations on distinct objects and runs rounds until each has a
 * final result. A round: reconcile what may have committed unseen, wait until the latest
 * `notBefore` of the remaining operations (so inner 429s are retried after the longest
 * `retry-after`, G3), take write tokens from the pacer, send them (one request alone, several as
 * one `$batch`), then class each answer:
 *
 * | answer | what happens |
 * | 2xx | done (a create's id joins the run's created set) |
 * | 429 (envelope or item) | wait its Retry-After in full, however long (G1, G2); the pacer slows |
 * | 401 | the credential is refreshed and the operation resent, once per 401; 3 in a row are final (G7, G11) |
 * | 404 on an object created this run | replication lag: retried with backoff for `lagWindowMs` (G6) |
 * | 404 on any other object | `stale`: the plan no longer fits the tenant; never a deprovision (G6) |
 * | 400 "already exists" on a user create | read the user back by UPN and check our anchor (G4) |
 * | 400 "references already exist" on members | added one by one under the write policy (G12), "already exists" is success |
 * | 400 "references already exist" on a group upsert | its owners are bound (a replay): resent without them |
 * | 403 | `protected-by-tenant` for objects the read found protected, else `permission`; final |
 * | other 4xx | final, recorded against the object, never retried (G9, invariant 6) |
 * | 5xx, reset, no answer | retried with backoff; a create or a delete is reconciled first (it may have committed, G4, G13) |
 *
 * A wait that would pass the run's time budget is not taken: the operation answers `notRun`
 * (resumable) instead of being retried early (G2). Inner-batch retries exist nowhere else: the
 * SDK does not look inside `$batch` (throttling docs), so this loop is ours. Its caps, backoff
 * and Retry-After rules are those of write-policy.ts, which every other path that writes uses;
 * every wait runs on the injected clock.
 *
 * The pieces: executor-state.ts (each operation's state and how it ends), batch-round.ts (wait,
 * pace, send one round and read its answers), answer-rules.ts (the table above), reconcile.ts
 * (reading back what may have committed unseen), member-fallback.ts (G12, one `$ref` at a time).
 */
import type { WriteContext, WriteResult } from '../../engine/ports.js';
import { sendRound, waitForRound } from './batch-round.js';
import type { ExecutorOptions } from './executor-state.js';
import { newOpState, openOf, outcomeOf, startRun, stopOp } from './executor-state.js';
import type { GraphOperation } from './graph-operation.js';
import { addOneByOne } from './member-fallback.js';
import { settleInDoubt } from './reconcile.js';

export type { ExecutorOptions, ExecutorStats } from './executor-state.js';
export type { GraphOperation, OperationSemantics } from './graph-operation.js';
export { MAX_401_IN_A_ROW, isAlreadyExists, isReferenceExists } from './answer-rules.js';

export const MAX_BATCH_SIZE = 20;

/**
 * Carries out up to MAX_BATCH_SIZE operations on distinct objects; one result each, in their
 * order. Per-operation failures are results, never exceptions.
 */
export async function executeOperations(
  operations: readonly GraphOperation[],
  context: WriteContext,
  options: ExecutorOptions,
): Promise<WriteResult[]> {
  if (operations.length > MAX_BATCH_SIZE) {
    throw new Error(`at most ${MAX_BATCH_SIZE} operations per call`);
  }
  const run = startRun(context, options);
  const states = operations.map((op) => newOpState(op, context));
  while (openOf(states).length > 0) {
    if (context.signal.aborted) {
      for (const s of openOf(states)) {
        stopOp(s, 'aborted', 'the run stopped before this change was sent');
      }
      break;
    }
    for (const s of openOf(states).filter((x) => x.reconcile)) await settleInDoubt(run, s);
    for (const s of openOf(states).filter((x) => x.oneByOne)) await addOneByOne(run, s);
    const due = openOf(states);
    if (due.length === 0) break;
    if (!(await waitForRound(run, due))) break;
    if (context.signal.aborted) continue;
    await sendRound(run, due);
  }
  return states.map(outcomeOf);
}
