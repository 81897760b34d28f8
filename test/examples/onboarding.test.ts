/**
 * examples/onboarding end to end against the embedded simulator (N20): validate -> plan -> apply
 * -> re-plan is empty through the `entrasync` command, two passes mailed to the manager, and the
 * commands its README shows (`simulator outbox`).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExampleCopy } from './helpers.js';
import { cli, copyExample, validatePlanApplyReplan } from './helpers.js';

const example: ExampleCopy = copyExample('onboarding');
afterAll(() => example.remove());

describe('examples/onboarding: Temporary Access Passes mailed to the manager', () => {
  it('N20: two new hires, each onboard step delivered to the manager; the outbox shows both mails', async () => {
    const plan = await validatePlanApplyReplan(example);
    expect(plan.stdout).toContain('2 to create, 2 to set manager, 2 to onboard');
    expect(plan.stdout).toContain('delivered by email to grace.hopper@contoso.com (manager)');

    const state = join(example.dir, '.entrasync', 'tenant.db');
    const outbox = await cli('simulator', 'outbox', '--state', state);
    expect(outbox.code).toBe(0);
    expect(outbox.stdout).toContain('2 mails in');
    // The hire dates are past: the passes start when made, which the subject says.
    expect(outbox.stdout).toMatch(
      /it-onboarding@contoso\.com -> grace\.hopper@contoso\.com {2}"Ken Thompson starts on \d{4}-\d{2}-\d{2}T/,
    );
    const bodies = await cli('simulator', 'outbox', '--state', state, '--body');
    expect(bodies.stdout).toContain('Hello Grace Hopper,');
    expect(bodies.stdout).toContain('sign in as barbara.liskov@contoso.com');
  });
});
