/**
 * `apply` when the read that re-checks the plan against the tenant fails (A11): the quickstart
 * against the simulator, whose fault plan fails every read of the users after the first (which
 * made the plan), restarts included. The output says once what happened to the plan, and nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { TenantReadError } from '../../engine/errors.js';
import { openTestStack, runtimeOfStack } from '../daemon/test-helpers.js';
import { runApply } from './apply.js';

describe('apply re-checks the plan', () => {
  it('A11: the re-read of the tenant fails after the plan was printed: one clear error naming the plan as not applied, no "no plan is made", nothing written', async () => {
    const stack = await openTestStack({
      faultPlan: {
        seed: 1,
        faults: [
          {
            kind: 'page',
            page: 1,
            mode: 'fail',
            status: 500,
            match: { path: '^/users$' },
            when: { from: 2 }, // every read after the first: its restarts fail too
          },
        ],
      },
    });
    const runtime = runtimeOfStack(stack);
    let stdout = '';
    let stderr = '';
    const output = {
      out: (t: string) => void (stdout += t),
      err: (t: string) => void (stderr += t),
    };
    const error = await runApply(runtime, undefined, output, undefined, {
      journal: false,
      progress: false,
      autoApprove: true,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(stdout).toMatch(/to create|create/i);
    expect(error).toBeInstanceOf(TenantReadError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^the plan above was not applied: re-reading the tenant to check that it still fits failed \(reading users failed on page 1 \(500 /,
    );
    expect(message).toMatch(/nothing was written, run apply again$/);
    expect(`${stdout}${stderr}${message}`).not.toMatch(/no plan is made/);
    const writes = stack.sim.requestLog.filter(
      (e) => e.path.startsWith('/v1.0/') && e.method !== 'GET',
    );
    expect(writes).toEqual([]);
  });
});
