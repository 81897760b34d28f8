import { describe, expect, it } from 'vitest';
import { aPerson, aSnapshot, aSpec, anAccount } from '../../test/helpers/builders.js';
import { renderExplanationsText } from '../render/explain.js';
import { explainPeople } from './explain.js';
import { computePlanWithStages } from './plan.js';

describe('explain', () => {
  const spec = aSpec({ scope: "status != 'contractor'" });
  const account = anAccount('ada.byron@contoso.com', {
    employeeId: '1',
    displayName: 'Ada Byron',
    department: 'Sales',
    mailNickname: 'ada.byron',
  });
  const gone = anAccount('alan.turing@contoso.com', { employeeId: '2' });
  const rows = [
    aPerson('1', 'Ada', 'Lovelace'),
    aPerson('2', 'Alan', 'Turing', { status: 'contractor' }),
    aPerson('3', 'Grace', 'Hopper'),
    aPerson('3', 'Grace', 'H'),
  ];

  it('shows records, anchor, mapped values with their rules, the matched account and its changes', async () => {
    const { plan, stages } = await computePlanWithStages(spec, [aSnapshot(rows)], {
      users: [account, gone],
    });
    const [ada, alan, grace, byUpn, nobody] = explainPeople(
      ['1', 'hr:2', '3', 'ADA.LOVELACE@contoso.com', '42'],
      spec,
      plan,
      stages,
    );

    expect(ada).toMatchObject({
      personKey: 'hr:1',
      decision: 'in-scope',
      anchor: '1',
      attributes: { userPrincipalName: 'ada.lovelace@contoso.com', displayName: 'Ada Lovelace' },
      account: {
        id: account.id,
        userPrincipalName: 'ada.byron@contoso.com',
        matchedBy: 'anchor',
        ownership: 'managed',
      },
    });
    expect(ada?.changes.map((c) => c.kind)).toEqual(['updateUser']);
    expect(byUpn?.personKey).toBe('hr:1');

    expect(alan).toMatchObject({ decision: 'out-of-scope', account: { id: gone.id } });
    expect(alan?.changes.map((c) => [c.kind, c.reason])).toEqual([['disableUser', 'left-scope']]);

    expect(grace?.decision).toBe('held');
    expect(grace?.records).toHaveLength(2);
    expect(grace?.issues.map((i) => i.code)).toEqual([
      'source.duplicate-key',
      'source.duplicate-key',
    ]);

    expect(nobody?.decision).toBe('not-found');
    expect(nobody?.account).toBeUndefined();

    const { plan: plan2, stages: stages2 } = await computePlanWithStages(
      aSpec({ safety: { minSourceRatio: 0 } }),
      [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])],
      { users: [account, gone] },
    );
    const [left] = explainPeople(['alan.turing@contoso.com'], aSpec(), plan2, stages2);
    expect(left).toMatchObject({
      decision: 'not-found',
      account: { id: gone.id, ownership: 'managed' },
    });
    expect(left?.changes.map((c) => [c.kind, c.reason])).toEqual([['disableUser', 'left-source']]);

    const text = renderExplanationsText([ada!]);
    expect(text).toContain('hr:1: in scope: should have an account');
    expect(text).toContain(`displayName: "Ada Lovelace"  <- first & ' ' & last`);
    expect(text).toContain('account: ada.byron@contoso.com');
    expect(text).toContain('matched by anchor; managed');
  });
});
