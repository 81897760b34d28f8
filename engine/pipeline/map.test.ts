/**
 * The mapping driver runs each person synchronously while the fast path decides every value and
 * hands the rest to JSONata: both routes must give the same people, errors and order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNDECIDED } from '../expr/jsonata.js';
import type { Expression } from '../expr/jsonata.js';
import type { SyncSpec } from '../model/spec.js';
import type { Person } from '../model/person.js';
import { aRecord, aSpec, anAccount } from '../../test/helpers/builders.js';
import { mapPeople } from './map.js';
import { mappingView } from './plan.js';

/** The spec with every expression sent to JSONata: what mapping was before the fast path. */
function jsonataOnly(spec: SyncSpec): SyncSpec {
  const slow = (e: Expression): Expression => ({ ...e, evaluateNow: () => UNDECIDED });
  const maybe = (e: Expression | undefined) => (e ? slow(e) : undefined);
  return {
    ...spec,
    users: {
      ...spec.users,
      anchor: slow(spec.users.anchor),
      ...(spec.users.scope ? { scope: slow(spec.users.scope) } : {}),
      ...(spec.users.manager ? { manager: slow(spec.users.manager) } : {}),
      attributes: Object.fromEntries(
        Object.entries(spec.users.attributes).map(([k, e]) => [k, slow(e)]),
      ),
    },
    groups: spec.groups.map((g) => ({
      ...g,
      ...(g.members ? { members: slow(g.members) } : {}),
      ...(g.foreach ? { foreach: slow(g.foreach), name: maybe(g.name as Expression) } : {}),
    })),
    licenses: spec.licenses.map((l) => ({ ...l, ...(l.when ? { when: slow(l.when) } : {}) })),
  };
}

const spec = aSpec({
  scope: "status != 'contractor'",
  attributes: {
    // fast path
    userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
    displayName: "first & ' ' & last",
    accountEnabled: "status = 'active'",
    // JSONata only
    jobTitle: '$substring(title, 0, 5)',
    mail: "$selectUnique([$lowercase(first) & '@contoso.com', $lowercase(first & last) & '@contoso.com'])",
    department: 'department',
  },
  manager: 'manager',
  groups: [
    { name: 'Everyone' },
    { name: 'Active', members: "status = 'active'" },
    { name: 'Dept', foreach: 'department', key: 'dept' },
  ],
  licenses: [{ sku: 'SPE_E3', when: "$contains(title, 'Eng')" }],
});

describe('mapPeople', () => {
  it('gives the same people, out-of-scope people and errors by the fast path as by JSONata', async () => {
    const row = fc.record({
      first: fc.constantFrom('Ada', 'Alan', 'Grace', 'ada', ''),
      last: fc.constantFrom('Lovelace', 'Turing', 'Hopper'),
      status: fc.constantFrom('active', 'inactive', 'contractor'),
      // A number where text is expected sends the fast path to JSONata mid-person; an array
      // title makes $substring fail (a mapping error, after fast attributes were computed).
      department: fc.oneof(fc.constantFrom('Ops', 'R&D', ''), fc.integer({ max: 9, min: 0 })),
      title: fc.oneof(fc.constantFrom('Engineer', 'Eng', 'Clerk'), fc.constant(['x', 'y'])),
      manager: fc.constantFrom('1', '2', ''),
    });
    // Both runs hand out `$selectUnique` identifiers afresh: a second run does not see the first's.
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 6 }), async (rows) => {
        const people = rows.map((fields, i): Person => {
          const record = aRecord({ id: String(i + 1), ...fields } as Record<string, string>, i + 2);
          return { key: `hr:${record.key}`, primary: record, records: { hr: record } };
        });
        const fast = await mapPeople(people, [], spec);
        const slow = await mapPeople(people, [], jsonataOnly(spec));
        expect(fast).toEqual(slow);
      }),
      { numRuns: 200 },
    );
  });

  it('P13: keeps the same current $selectUnique choices by the fast path as by JSONata', async () => {
    const mails = [
      'ada@contoso.com',
      'adalovelace@contoso.com',
      'alan@contoso.com',
      'x@contoso.com',
    ];
    const account = fc.record({
      employeeId: fc.constantFrom('1', '2', '3', '9'),
      mail: fc.constantFrom(...mails),
      proxy: fc.constantFrom(...mails),
    });
    const row = fc.record({
      first: fc.constantFrom('Ada', 'Alan'),
      last: fc.constantFrom('Lovelace', 'Turing'),
      status: fc.constant('active'),
      department: fc.constant('Ops'),
      title: fc.constant('Eng'),
      manager: fc.constant(''),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 4 }),
        fc.array(account, { maxLength: 4 }),
        async (rows, accounts) => {
          const people = rows.map((fields, i): Person => {
            const record = aRecord({ id: String(i + 1), ...fields }, i + 2);
            return { key: `hr:${record.key}`, primary: record, records: { hr: record } };
          });
          const tenant = {
            users: accounts.map((a, i) =>
              anAccount(`u${i}@contoso.com`, {
                employeeId: a.employeeId,
                mail: a.mail,
                proxyAddresses: [`smtp:${a.proxy}`],
              }),
            ),
          };
          // A fresh view per run: each hands out identifiers afresh.
          const fast = await mapPeople(people, [], spec, mappingView(tenant, spec));
          const slow = await mapPeople(people, [], jsonataOnly(spec), mappingView(tenant, spec));
          expect(fast).toEqual(slow);
        },
      ),
      { numRuns: 200 },
    );
  });
});
