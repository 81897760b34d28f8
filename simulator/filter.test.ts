/**
 * The $filter parser, checker and back ends as units: the grammar Graph accepts, Graph's
 * per-property rules, values that are never spliced into SQL, and agreement between the SQL
 * back end and the in-memory evaluator.
 */
import { describe, expect, test } from 'vitest';
import { checkFilter, parseFilter } from './graph/filter.js';
import { evaluateFilter, filterToSql } from './graph/filter-backends.js';
import { GROUP_FILTER_SCHEMA } from './graph/group-schema.js';
import { USER_FILTER_SCHEMA } from './graph/user-schema.js';
import type { UserDocument } from './index.js';
import { openTenantStore } from './index.js';

describe('parseFilter', () => {
  test('precedence, quotes, functions, lambdas, keywords in any case', () => {
    expect(parseFilter("a eq 'x' or b eq 'y' and c eq true")).toEqual({
      type: 'or',
      left: { type: 'compare', op: 'eq', property: 'a', value: { kind: 'string', value: 'x' } },
      right: {
        type: 'and',
        left: { type: 'compare', op: 'eq', property: 'b', value: { kind: 'string', value: 'y' } },
        right: {
          type: 'compare',
          op: 'eq',
          property: 'c',
          value: { kind: 'boolean', value: true },
        },
      },
    });
    expect(parseFilter("displayName eq 'O''Brien'")).toMatchObject({
      value: { kind: 'string', value: "O'Brien" },
    });
    expect(parseFilter("STARTSWITH(mail,'a') OR NOT (x eq null)")).toMatchObject({
      type: 'or',
      left: { type: 'startsWith', property: 'mail' },
      right: { type: 'not', operand: { type: 'compare', value: { kind: 'null' } } },
    });
    expect(
      parseFilter('assignedLicenses/any(x:x/skuId eq 05e9a617-0261-4cee-bb44-138d3ef5d965)'),
    ).toEqual({
      type: 'any',
      property: 'assignedLicenses',
      terms: [
        {
          member: 'skuId',
          test: 'eq',
          value: { kind: 'guid', value: '05e9a617-0261-4cee-bb44-138d3ef5d965' },
        },
      ],
    });
    expect(
      parseFilter("onPremisesExtensionAttributes/extensionAttribute1 in ('a', 'b')"),
    ).toMatchObject({
      type: 'in',
      property: 'onPremisesExtensionAttributes/extensionAttribute1',
    });
    for (const bad of ["a eq 'x", 'a eq', "a eq 'x' and", "(a eq 'x'", "a foo 'x'", "a eq 'x')"]) {
      expect(() => parseFilter(bad), bad).toThrow(/Syntax error at position \d+/);
    }
  });
});

describe('SQL and evaluator agree', () => {
  const users: UserDocument[] = [
    {
      id: '00000000-0000-4000-8000-000000000001',
      userPrincipalName: 'ann@contoso.example',
      accountEnabled: true,
      mail: 'Ann@Contoso.example',
      employeeId: 'E1',
      companyName: 'Contoso',
    },
    {
      id: '00000000-0000-4000-8000-000000000002',
      userPrincipalName: 'bob@contoso.example',
      accountEnabled: false,
      employeeId: 'E2',
      onPremisesExtensionAttributes: { extensionAttribute1: "50%_o'k" },
    },
    {
      id: '00000000-0000-4000-8000-000000000003',
      userPrincipalName: 'cy@fabrikam.example',
      accountEnabled: true,
      mail: 'cy@fabrikam.example',
      assignedLicenses: [{ skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965', disabledPlans: [] }],
    },
  ];
  const cases: [string, boolean, string[]][] = [
    ["mail eq 'ann@contoso.example'", false, ['ann']],
    ["startsWith(userPrincipalName, 'B')", false, ['bob']],
    ["employeeId in ('E1', 'E2') and accountEnabled eq true", false, ['ann']],
    ['accountEnabled eq false or mail eq null', true, ['bob']],
    ["not(companyName eq 'Contoso')", true, ['bob', 'cy']],
    ["companyName ne 'Contoso'", true, ['bob', 'cy']],
    ["endsWith(userPrincipalName, '@fabrikam.example')", true, ['cy']],
    ["onPremisesExtensionAttributes/extensionAttribute1 eq '50%_O''K'", true, ['bob']],
    ["startsWith(mail, '%')", false, []],
    ['assignedLicenses/any(x:x/skuId eq 05e9a617-0261-4cee-bb44-138d3ef5d965)', false, ['cy']],
  ];
  test.each(cases)('%s', (filter, advanced, expected) => {
    const checked = checkFilter(filter, USER_FILTER_SCHEMA, advanced);
    const names = (list: readonly UserDocument[]) =>
      list.map((u) => u.userPrincipalName.split('@')[0]);
    expect(names(users.filter((u) => evaluateFilter(checked, u)))).toEqual(expected);
    const store = openTenantStore();
    try {
      store.seedIfNew(users);
      const sql = filterToSql(checked);
      expect(sql.sql).not.toContain("'ann"); // values are bound, never spliced
      const rows = store.queryObjects({
        kind: 'user',
        state: 'active',
        afterSeq: 0,
        limit: 10,
        where: sql,
      });
      expect(names(rows.map((r) => r.doc as UserDocument))).toEqual(expected);
    } finally {
      store.close();
    }
  });
});

describe('checkFilter rules', () => {
  test('group properties and lambda operators', () => {
    expect(() =>
      checkFilter("groupTypes/any(c:c eq 'Unified')", GROUP_FILTER_SCHEMA, false),
    ).not.toThrow();
    expect(() =>
      checkFilter("uniqueName eq 'x' and securityEnabled eq true", GROUP_FILTER_SCHEMA, false),
    ).not.toThrow();
    expect(() => checkFilter("description eq 'x'", GROUP_FILTER_SCHEMA, false)).toThrow(
      "Unsupported or invalid query filter clause specified for property 'description' of resource 'Group'.",
    );
    expect(() => checkFilter("groupTypes eq 'Unified'", GROUP_FILTER_SCHEMA, false)).toThrow(
      /Unsupported/,
    );
  });
});
