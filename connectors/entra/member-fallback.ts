/**
 * The member-by-member fallback (G12): an add-members write that met "references already
 * exist" is carried out one `$ref` at a time, where "already a member" is success. Each add
 * goes through `sendWrite`, the write policy every path that sends shares (write-policy.ts):
 * 5xx and resets retried with a cap, 429 waited out with an attempt cap, the time budget
 * respected; each send takes a token from the pacer.
 */
import type { FailureClass, TargetError } from '../../engine/model/report.js';
import { isReferenceExists } from './answer-rules.js';
import type { ExecutorRun, OpState } from './executor-state.js';
import { failOp, noteThrottle, stopForTimeBudget } from './executor-state.js';
import type { GraphHttpResponse } from './transport.js';
import { TransportError, graphErrorOf } from './transport.js';
import type { WriteOutcome, WritePolicyOptions } from './write-policy.js';
import { sendWrite } from './write-policy.js';

/** Adds the members of a flagged add-members operation one by one; its result is the group. */
export async function addOneByOne(run: ExecutorRun, s: OpState): Promise<void> {
  const semantics = s.op.semantics;
  s.oneByOne = false;
  if (semantics.kind !== 'add-members') return;
  for (const memberId of semantics.memberIds) {
    const outcome = await addMember(run, semantics.groupId, memberId);
    if (outcome.kind === 'time-budget') {
      stopForTimeBudget(s, outcome.waitMs);
      return;
    }
    const failure = memberAddFailure(outcome, memberId);
    if (failure !== undefined) {
      failOp(s, failure);
      return;
    }
  }
  s.result = { ok: true, targetId: semantics.groupId };
}

/** One member's add, paced, under the write policy. */
function addMember(run: ExecutorRun, groupId: string, memberId: string): Promise<WriteOutcome> {
  const send = async (): Promise<GraphHttpResponse> => {
    await run.pacer.acquire(1);
    try {
      run.stats.writes += 1;
      const answer = await run.transport.send({
        method: 'POST',
        url: `/groups/${encodeURIComponent(groupId)}/members/$ref`,
        body: { '@odata.id': `${run.referenceBase}/directoryObjects/${memberId}` },
      });
      run.pacer.observe(answer.headers);
      return answer;
    } finally {
      run.pacer.done();
    }
  };
  return sendWrite(send, writePolicyOf(run));
}

/** The write policy's options for this run: its caps, deadline, and what a 429 or retry counts. */
export function writePolicyOf(run: ExecutorRun): WritePolicyOptions {
  return {
    clock: run.clock,
    maxThrottledAttempts: run.maxThrottledAttempts,
    maxTransientAttempts: run.maxTransientAttempts,
    deadline: () => run.deadline?.(),
    onThrottled: (ms, headers) => {
      run.stats.throttled += 1;
      noteThrottle(run, ms, headers);
    },
    onRetry: () => {
      run.stats.retries += 1;
    },
  };
}

/**
 * Why one member's add failed, or undefined when the member is in the group (added now, or
 * "already exist").
 */
export function memberAddFailure(
  outcome: Exclude<WriteOutcome, { kind: 'time-budget' }>,
  memberId: string,
): TargetError | undefined {
  if (outcome.kind === 'no-answer') {
    const error = outcome.error;
    const auth = error instanceof TransportError && error.kind === 'auth';
    return {
      code: error instanceof TransportError ? error.code : 'network',
      message: `adding member ${memberId}: ${error.message}`,
      class: auth ? 'auth' : 'transient',
    };
  }
  const response = outcome.response;
  const graph = graphErrorOf(response.body);
  if (response.status < 300 || (response.status === 400 && isReferenceExists(graph))) {
    return undefined;
  }
  return {
    status: response.status,
    code: graph.code ?? `HTTP${response.status}`,
    message: `adding member ${memberId}: ${graph.message ?? response.status}`,
    class: classOfStatus(response.status),
  };
}

function classOfStatus(status: number): FailureClass {
  if (status === 403) return 'permission';
  if (status === 401) return 'auth';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'transient';
  return 'final';
}
