import { subjectOf } from '../model/plan.js';
import { describe, expect, it } from 'vitest';
import { aPerson, aSnapshot, aSpec, anAccount } from '../../test/helpers/builders.js';
import { computePlan } from '../pipeline/plan.js';
import {
  appendDomain,
  createUniquenessContext,
  functionBindings,
  immutableId,
} from './functions.js';
import { compileExpression } from './jsonata.js';

async function evaluate(text: string, input: unknown = {}, holders = new Map<string, string[]>()) {
  const compiled = compileExpression(text, 'test', { file: 'x.yaml', line: 1, column: 1 });
  if (!compiled.ok) throw new Error(compiled.error.message);
  return compiled.expression.evaluate(
    input,
    functionBindings(createUniquenessContext(holders), undefined),
  );
}

describe('bound functions', () => {
  it('$foldDiacritics folds accents and ligatures', async () => {
    expect(await evaluate("$foldDiacritics('Zoë Ångström-Øster, Łukasz Straße')")).toBe(
      'Zoe Angstrom-Oster, Lukasz Strasse',
    );
  });

  it('$mailNickname keeps only characters Graph accepts', async () => {
    expect(await evaluate(`$mailNickname("Zoë (Ops) O'Brien@x; <y>")`)).toBe("ZoeOpsO'Brienxy");
  });

  it('$appendDomain adds a domain, replacing one that is there', () => {
    expect(appendDomain('jane.doe', 'contoso.com')).toBe('jane.doe@contoso.com');
    expect(appendDomain('jane.doe@old.example', '@contoso.com')).toBe('jane.doe@contoso.com');
    expect(appendDomain('', 'contoso.com')).toBeUndefined();
  });

  it('$immutableId: a GUID becomes base64 of its Windows byte layout (as Entra Connect); anything else base64 of UTF-8', () => {
    expect(immutableId('00112233-4455-6677-8899-aabbccddeeff')).toBe('MyIRAFVEd2aImaq7zN3u/w==');
    expect(immutableId('{00112233-4455-6677-8899-AABBCCDDEEFF}')).toBe('MyIRAFVEd2aImaq7zN3u/w==');
    expect(immutableId('jane.doe@contoso.com')).toBe(
      Buffer.from('jane.doe@contoso.com').toString('base64'),
    );
  });

  it('$selectUnique picks the first candidate no other account holds, and claims it', async () => {
    const holders = new Map([['jane.doe@contoso.com', ['someone-else']]]);
    expect(
      await evaluate(
        "$selectUnique([first & '.' & last, first & '.' & last & '2'], 'contoso.com')",
        { first: 'jane', last: 'doe' },
        holders,
      ),
    ).toBe('jane.doe2@contoso.com');
  });
});

describe('$selectUnique in a plan', () => {
  const spec = aSpec({
    attributes: {
      userPrincipalName:
        "$selectUnique([$lowercase($foldDiacritics(first & '.' & last)), $lowercase($foldDiacritics(first & '.' & last)) & '2', $lowercase($foldDiacritics(first & '.' & last)) & '3'], 'contoso.com')",
      displayName: "first & ' ' & last",
      department: 'department',
    },
  });

  it('avoids UPNs and mail held by other accounts, folds diacritics, holds a person it cannot name, whatever the row order', async () => {
    const taken = anAccount(
      'zoe.angstrom@contoso.com',
      { mail: 'zoe.angstrom2@contoso.com' },
      { managed: false },
    );
    const rows = [aPerson('2', 'Zoë', 'Ångström'), aPerson('1', 'Zoe', 'Angstrom')];
    for (const order of [rows, [...rows].reverse()]) {
      const plan = await computePlan(spec, [aSnapshot(order)], { users: [taken] });
      expect(
        plan.changes.map((c) => [c.provenance[0]?.key, subjectOf(c).userPrincipalName]),
      ).toEqual([['1', 'zoe.angstrom3@contoso.com']]);
      expect(plan.issues).toEqual([expect.objectContaining({ code: 'map.failed', key: '2' })]);
    }
  });

  it('never moves a person off their own UPN: their own account (by anchor) does not count as taking it', async () => {
    const own = anAccount('jane.doe@contoso.com', {
      employeeId: '1',
      displayName: 'Jane Doe',
      department: 'Sales',
      mailNickname: 'jane.doe',
    });
    const plan = await computePlan(spec, [aSnapshot([aPerson('1', 'Jane', 'Doe')])], {
      users: [own],
    });
    expect(plan.changes).toEqual([]);
  });

  it('two new people with one name get distinct UPNs in key order', async () => {
    const plan = await computePlan(
      spec,
      [aSnapshot([aPerson('7', 'Jane', 'Doe'), aPerson('3', 'Jane', 'Doe')])],
      {
        users: [],
      },
    );
    const byKey = plan.changes
      .map((c) => [c.provenance[0]?.key, subjectOf(c).userPrincipalName])
      .sort();
    expect(byKey).toEqual([
      ['3', 'jane.doe@contoso.com'],
      ['7', 'jane.doe2@contoso.com'],
    ]);
  });
});
