import { subjectOf } from '../model/plan.js';
import { describe, expect, it } from 'vitest';
import { aPerson, aSnapshot, aSpec, anAccount } from '../../test/helpers/builders.js';
import { computePlan } from './plan.js';

const team = (n: number, extra: Record<string, string> = {}) =>
  Array.from({ length: n }, (_, i) => aPerson(String(i + 1), `P${i + 1}`, 'Person', extra));

describe('mapping checks at plan time', () => {
  it('M1: a mapping that reads fields but gives everyone the same value is a warning; the disable threshold holds the result', async () => {
    const rows = team(20);
    const accounts = rows.map((r) =>
      anAccount(`p${r.id}.person@contoso.com`, {
        employeeId: r.id,
        displayName: `P${r.id} Person`,
        department: 'Sales',
        mailNickname: `p${r.id}.person`,
      }),
    );
    const typo = aSpec({
      attributes: {
        userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
        displayName: "first & ' ' & last",
        department: 'department',
        accountEnabled: "status = 'Active'",
      },
    });
    const plan = await computePlan(typo, [aSnapshot(rows)], { users: accounts });
    expect(plan.warnings.map((w) => w.message)).toEqual([
      'users.attributes.department gives "Sales" for all 20 people: check the fields it reads (department)',
      `users.attributes.accountEnabled gives false for all 20 people: check the fields it reads (status)`,
    ]);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => b.code)).toEqual(Array(20).fill('threshold'));
  });

  it('a userPrincipalName Graph would reject is a per-person plan error that names the record', async () => {
    const spec = aSpec({
      attributes: {
        userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
        displayName: 'first',
      },
    });
    const plan = await computePlan(
      spec,
      [aSnapshot([aPerson('1', 'Zoë', 'Ångström'), aPerson('2', 'Alan', 'Turing')])],
      { users: [] },
    );
    expect(plan.changes.map((c) => subjectOf(c).userPrincipalName)).toEqual([
      'alan.turing@contoso.com',
    ]);
    expect(plan.issues).toEqual([
      expect.objectContaining({
        code: 'map.failed',
        key: '1',
        location: { file: 'hr.csv', line: 2 },
      }),
    ]);
    expect(plan.issues[0]?.message).toContain(
      '"zoë.ångström@contoso.com" is not a valid userPrincipalName',
    );
  });

  it('createOnly attributes are set on create and never updated afterwards', async () => {
    const spec = aSpec({ createOnly: ['department'] });
    const created = await computePlan(spec, [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [],
    });
    expect(created.changes[0]).toMatchObject({
      kind: 'createUser',
      attributes: { department: 'Sales' },
    });
    const edited = anAccount('ada.lovelace@contoso.com', {
      employeeId: '1',
      displayName: 'Ada Lovelace',
      department: 'Edited by an admin',
      mailNickname: 'ada.lovelace',
    });
    const later = await computePlan(spec, [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [edited],
    });
    expect(later.changes).toEqual([]);
  });
});
