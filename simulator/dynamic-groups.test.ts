/**
 * Dynamic groups in the simulator through the real Graph SDK (issue 26): created with
 * `DynamicMembership`, a `membershipRule` and a processing state (default `On`); a rule that
 * does not parse, a dynamic group without a rule and a rule on a static group are 400s; member
 * writes to a dynamic group are refused, owners are not; PATCH converts static to dynamic.
 */
import { describe, expect, test } from 'vitest';
import { membershipRuleProblem } from './graph/membership-rule.js';
import {
  graphFailure,
  graphFor,
  newUser,
  ref,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

const RULE = '(user.department -eq "Sales") and (user.accountEnabled -eq true)';

describe('dynamic groups', () => {
  test('DG5: created with its rule (state On by default); refused without one, with a bad one, or on a static group', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const created = (await graph.api('/groups').post({
      ...securityGroup(11),
      groupTypes: ['DynamicMembership'],
      membershipRule: RULE,
    })) as Record<string, unknown>;
    expect(created).toMatchObject({
      groupTypes: ['DynamicMembership'],
      membershipRule: RULE,
      membershipRuleProcessingState: 'On',
    });
    const noRule = await graphFailure(
      graph.api('/groups').post({ ...securityGroup(12), groupTypes: ['DynamicMembership'] }),
    );
    expect(noRule.statusCode).toBe(400);
    const bad = await graphFailure(
      graph.api('/groups').post({
        ...securityGroup(13),
        groupTypes: ['DynamicMembership'],
        membershipRule: '(user.department -equals "Sales")',
      }),
    );
    expect([bad.statusCode, bad.message]).toEqual([
      400,
      'The entrasync simulator refuses this membershipRule: unknown operator -equals.',
    ]);
    const staticWithRule = await graphFailure(
      graph.api('/groups').post({ ...securityGroup(14), membershipRule: RULE }),
    );
    expect(staticWithRule.statusCode).toBe(400);
    const paused = await graphFailure(
      graph
        .api(`/groups/${String(created['id'])}`)
        .patch({ membershipRuleProcessingState: 'Stopped' }),
    );
    expect(paused.statusCode).toBe(400);
  });

  test('DG6: members of a dynamic group cannot be written (owners can); a static group becomes dynamic by PATCH', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const user = ((await graph.api('/users').post(newUser('d1'))) as { id: string }).id;
    const dynamic = (await graph.api('/groups').post({
      ...securityGroup(15),
      groupTypes: ['DynamicMembership'],
      membershipRule: RULE,
    })) as { id: string };
    const add = await graphFailure(
      graph.api(`/groups/${dynamic.id}/members/$ref`).post({ '@odata.id': ref(user) }),
    );
    expect(add.statusCode).toBe(400);
    const bind = await graphFailure(
      graph.api(`/groups/${dynamic.id}`).patch({ 'members@odata.bind': [ref(user)] }),
    );
    expect(bind.statusCode).toBe(400);
    await graph.api(`/groups/${dynamic.id}/owners/$ref`).post({ '@odata.id': ref(user) });

    const assigned = (await graph.api('/groups').post(securityGroup(16))) as { id: string };
    await graph.api(`/groups/${assigned.id}/members/$ref`).post({ '@odata.id': ref(user) });
    await graph.api(`/groups/${assigned.id}`).patch({
      groupTypes: ['DynamicMembership'],
      membershipRule: RULE,
      membershipRuleProcessingState: 'Paused',
    });
    expect(await graph.api(`/groups/${assigned.id}`).get()).toMatchObject({
      groupTypes: ['DynamicMembership'],
      membershipRule: RULE,
      membershipRuleProcessingState: 'Paused',
    });
  });

  test('DG7: the rule check accepts the reference examples and refuses broken rules', () => {
    for (const ok of [
      RULE,
      'user.department -eq "Sales"',
      '(user.extensionAttribute1 -contains "Sales Manager")',
      'user.memberof -any (group.objectId -in ["a8a9c1b2-0000-4000-8000-000000000001"])',
      '(device.deviceOSType -startsWith "Windows") -or (device.displayName -notContains "lab")',
      'user.accountEnabled -eq true and user.country -in ["DE","FR"]',
    ]) {
      expect([ok, membershipRuleProblem(ok)]).toEqual([ok, undefined]);
    }
    expect(membershipRuleProblem('(user.department -eq "Sales"')).toBe('unbalanced parentheses');
    expect(membershipRuleProblem('user.department -eq "Sales')).toBe('unterminated string');
    expect(membershipRuleProblem('department = Sales')).toMatch(/^no property compared/);
  });
});
