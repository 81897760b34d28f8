import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import { subjectOf } from '../model/plan.js';
import type { TenantUser } from '../model/tenant.js';
import type { Row } from '../../test/helpers/builders.js';
import {
  aPerson,
  aSpec,
  accountOfRow,
  anAccount,
  ofKind,
  planRows,
  summary,
} from '../../test/helpers/builders.js';
import { anchorForm, keyFormatPattern, looksLikeExponent } from './anchors.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const blocked = (p: Plan) => p.blocked.map((b) => `${b.code} ${b.change.kind} ${b.change.id}`);
const codes = (p: Plan) => [...new Set(p.blocked.map((b) => b.code))].sort();
const tenantOf = (users: TenantUser[]) => ({ users, privileged: [] });

/** `n` people with zero-padded keys (`00113`...), their accounts in sync. */
function padded(n: number) {
  const rows = Array.from({ length: n }, (_, i) =>
    aPerson(`00${113 + i}`, `P${113 + i}`, 'Person'),
  );
  return { rows, accounts: rows.map((r) => accountOfRow(r)) };
}
const unpad = (rows: Row[]) => rows.map((r) => ({ ...r, id: String(Number(r.id)) }));

describe('anchors: a soft match never takes another person’s account (P7)', () => {
  const leaver = aPerson('00101', 'John', 'Smith');
  const hire = aPerson('00999', 'John', 'Smith');

  it('P7: a new hire with a leaver’s name does not take over the leaver’s account; the hire is a plan error naming both anchors, the account is held', async () => {
    const account = accountOfRow(leaver);
    const plan = await planRows(aSpec(), [hire], tenantOf([account]), NOW);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toEqual([]);
    const issue = plan.issues.find((i) => i.code === 'match.upn-taken');
    expect(issue?.severity).toBe('error');
    expect(issue?.message).toBe(
      'hr:00999: userPrincipalName john.smith@contoso.com is held by a managed account of another person (employeeId "00101", not "00999"); held: that account is never taken over. Give this person another userPrincipalName (e.g. with $selectUnique)',
    );
    // Neither the account's anchor nor anything else of it moves, and it is not disabled while
    // the two cannot be told apart.
    expect(plan.warnings.map((w) => w.code)).toContain('deprovision.held');
  });

  it('P7: with $selectUnique the hire gets a free name and a new account; the leaver is disabled', async () => {
    const spec = aSpec({
      attributes: {
        userPrincipalName:
          "$selectUnique([$lowercase(first & '.' & last), $lowercase(first & '.' & last & '2')], '@contoso.com')",
        displayName: "first & ' ' & last",
        department: 'department',
        accountEnabled: "status = 'active'",
      },
    });
    const account = accountOfRow(leaver);
    const plan = await planRows(spec, [hire], tenantOf([account]), NOW);
    expect(plan.issues).toEqual([]);
    expect(plan.blocked).toEqual([]);
    expect(summary(plan)).toEqual([
      'createUser john.smith2@contoso.com',
      'disableUser john.smith@contoso.com',
    ]);
    expect(ofKind(plan, 'createUser')[0]?.attributes.employeeId).toBe('00999');
  });

  it('P7: a match by mail skips a managed account under another anchor too', async () => {
    const spec = aSpec({
      match: ['anchor', 'mail'],
      attributes: {
        userPrincipalName: "$lowercase(first & '.' & last) & '.' & id & '@contoso.com'",
        displayName: "first & ' ' & last",
        mail: "$lowercase(first & '.' & last) & '@contoso.com'",
        accountEnabled: "status = 'active'",
      },
    });
    const account = anAccount('jsmith@contoso.com', {
      employeeId: '00101',
      mail: 'john.smith@contoso.com',
      displayName: 'John Smith',
    });
    const plan = await planRows(spec, [hire], tenantOf([account]), NOW);
    // The hire is not paired with the leaver's account; the mail it holds still belongs to that
    // account, so the hire waits as a mail conflict (P14) instead of being created beside it.
    expect(summary(plan)).toEqual(['disableUser jsmith@contoso.com']);
    expect(plan.issues.map((i) => i.code)).toEqual(['mail.conflict']);
    expect(plan.changes.some((c) => c.kind === 'updateUser' || c.kind === 'adoptUser')).toBe(false);
  });

  it('P7: the person’s own account whose key only changed format is still found by userPrincipalName', async () => {
    const { rows, accounts } = padded(1);
    const plan = await planRows(aSpec(), unpad(rows), tenantOf(accounts), NOW);
    expect(plan.issues).toEqual([]);
    expect(blocked(plan)).toEqual([`needs-approval updateUser updateUser:${accounts[0]?.id}`]);
  });
});

describe('anchors: a reanchor is its own action, blocked unless approved (P8)', () => {
  it('P8: an HR export whose keys lost their leading zeros rewrites no anchor: every reanchor waits for approval, named', async () => {
    const { rows, accounts } = padded(6);
    const plan = await planRows(aSpec(), unpad(rows), tenantOf(accounts), NOW);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toHaveLength(6);
    expect(codes(plan)).toEqual(['needs-approval']);
    const first = plan.blocked[0];
    expect(first?.change).toMatchObject({
      kind: 'updateUser',
      reanchor: true,
      set: [{ attribute: 'employeeId', before: '00113', after: '113' }],
      message:
        're-anchor p113.person@contoso.com: employeeId "00113" -> "113", the key lost its leading zeros',
    });
    expect(first?.message).toContain(
      'needs approval: re-anchoring p113.person@contoso.com (employeeId "00113" -> "113", the key lost its leading zeros) moves an identity',
    );
    expect(first?.message).toContain(
      'source keys lost their leading zeros: 00113 -> 113, 00114 -> 114, 00115 -> 115 and 3 more',
    );
    expect(first?.message).toContain('- { action: reanchors, subject: p113.person@contoso.com }');
  });

  it('P8: approving the plan by fingerprint releases every reanchor, applied as an update; a per-object approval releases only its account', async () => {
    const { rows, accounts } = padded(3);
    const first = await planRows(aSpec(), unpad(rows), tenantOf(accounts), NOW);
    const byPlan = await planRows(
      aSpec({ approvals: { plans: [first.fingerprint.slice(0, 12)], changes: [] } }),
      unpad(rows),
      tenantOf(accounts),
      NOW,
    );
    expect(byPlan.fingerprint).toBe(first.fingerprint);
    expect(byPlan.blocked).toEqual([]);
    expect(ofKind(byPlan, 'updateUser').map((c) => [c.reanchor, c.set])).toEqual(
      ['113', '114', '115'].map((id) => [
        true,
        [{ attribute: 'employeeId', before: `00${id}`, after: id }],
      ]),
    );

    const byObject = await planRows(
      aSpec({
        approvals: {
          plans: [],
          changes: [{ action: 'reanchors', subject: 'P114.Person@contoso.com' }],
        },
      }),
      unpad(rows),
      tenantOf(accounts),
      NOW,
    );
    expect(summary(byObject)).toEqual(['updateUser p114.person@contoso.com']);
    expect(byObject.blocked.map((b) => subjectOf(b.change))).toMatchObject([
      { userPrincipalName: 'p113.person@contoso.com' },
      { userPrincipalName: 'p115.person@contoso.com' },
    ]);
  });

  it('P8: an approval of another action (updates) does not release a reanchor', async () => {
    const { rows, accounts } = padded(1);
    const plan = await planRows(
      aSpec({
        approvals: {
          plans: [],
          changes: [{ action: 'updates', subject: 'p113.person@contoso.com' }],
        },
      }),
      unpad(rows),
      tenantOf(accounts),
      NOW,
    );
    expect(codes(plan)).toEqual(['needs-approval']);
  });

  it('P8: adopting an unmanaged account whose anchor is another key is a reanchor: the adoption approval alone does not release it', async () => {
    const person = aPerson('00999', 'Ada', 'Lovelace');
    const account = anAccount(
      'ada.lovelace@contoso.com',
      { employeeId: '00101', displayName: 'Ada Lovelace' },
      { managed: false },
    );
    const adoptOnly = {
      plans: [],
      changes: [{ action: 'adoptions' as const, subject: 'ada.lovelace@contoso.com' }],
    };
    const plan = await planRows(
      aSpec({ approvals: adoptOnly }),
      [person],
      tenantOf([account]),
      NOW,
    );
    expect(plan.changes).toEqual([]);
    expect(plan.blocked[0]?.change).toMatchObject({
      kind: 'adoptUser',
      reanchor: true,
      message:
        'adopt existing account ada.lovelace@contoso.com for hr:00999 (matched by userPrincipalName) and re-anchor it: employeeId "00101" -> "00999"',
    });
    expect(plan.blocked[0]?.message).toMatch(/^needs approval: re-anchoring ada\.lovelace/);

    const both = await planRows(
      aSpec({
        approvals: {
          plans: [],
          changes: [
            ...adoptOnly.changes,
            { action: 'reanchors', subject: 'ada.lovelace@contoso.com' },
          ],
        },
      }),
      [person],
      tenantOf([account]),
      NOW,
    );
    expect(summary(both)).toEqual(['adoptUser ada.lovelace@contoso.com']);
  });

  it('P8: enabling a reanchored account waits with the reanchor (as its licenses and manager do)', async () => {
    const person = aPerson('00999', 'Ada', 'Lovelace');
    const account = anAccount(
      'ada.lovelace@contoso.com',
      { employeeId: '00101', displayName: 'Ada Lovelace', accountEnabled: false },
      { managed: false },
    );
    const plan = await planRows(aSpec(), [person], tenantOf([account]), NOW);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => [b.change.kind, b.code])).toEqual([
      ['adoptUser', 'needs-approval'],
      ['enableUser', 'requires-blocked'],
    ]);
  });

  it('P8: adopting an unmanaged account with no anchor yet writes the anchor and is no reanchor', async () => {
    const person = aPerson('00999', 'Ada', 'Lovelace');
    const account = anAccount(
      'ada.lovelace@contoso.com',
      { displayName: 'Ada Lovelace' },
      {
        managed: false,
      },
    );
    const plan = await planRows(aSpec(), [person], tenantOf([account]), NOW);
    expect(plan.blocked[0]?.change).not.toHaveProperty('reanchor');
    expect(plan.blocked[0]?.message).toMatch(/^needs approval: adopting the existing account/);
  });
});

describe('anchors: a key-format change is named and blocks whatever its count (P9)', () => {
  const onlyAnchor = aSpec({ match: ['anchor'] });

  it('P9: 4 people whose keys lost their leading zeros (under the churn guard): the 4 creates and 4 disables are blocked, the pattern named', async () => {
    const { rows, accounts } = padded(4);
    const plan = await planRows(onlyAnchor, unpad(rows), tenantOf(accounts), NOW);
    expect(plan.changes).toEqual([]);
    expect(codes(plan)).toEqual(['key-format']);
    expect(plan.blocked.map((b) => b.change.kind).sort()).toEqual([
      ...Array(4).fill('createUser'),
      ...Array(4).fill('disableUser'),
    ]);
    expect(plan.blocked[0]?.message).toContain(
      'blocked: the key format of the source changed (source keys lost their leading zeros: 00113 -> 113, 00114 -> 114, 00115 -> 115 and 1 more)',
    );
    expect(plan.blocked[0]?.message).toContain(
      `plans: [${plan.releaseFingerprint?.slice(0, 12) ?? '-'}]`,
    );
  });

  it('P9: one key is enough; an ordinary leaver in the same plan waits too; approving the plan releases both', async () => {
    const { rows, accounts } = padded(12);
    const [changed, ...others] = rows;
    const stay = others.slice(0, 10); // the 12th person left
    const input = [{ ...changed!, id: '113' }, ...stay];
    const spec = aSpec({ match: ['anchor'], safety: { minSourceRatio: 0.5 } });
    const plan = await planRows(spec, input, tenantOf(accounts), NOW);
    expect(plan.changes).toEqual([]);
    expect(blocked(plan)).toHaveLength(3);
    expect(codes(plan)).toEqual(['key-format']);
    expect(plan.blocked[0]?.message).toContain(
      'source keys lost their leading zeros: 00113 -> 113)',
    );

    const approved = await planRows(
      aSpec({
        match: ['anchor'],
        safety: { minSourceRatio: 0.5 },
        approvals: { plans: [plan.fingerprint.slice(0, 12)], changes: [] },
      }),
      input,
      tenantOf(accounts),
      NOW,
    );
    expect(approved.blocked).toEqual([]);
    expect(approved.changes).toHaveLength(3);
  });

  it('P9: eight keys collapsed into one by exponent notation (1.23E+05) disable nobody', async () => {
    const keep = Array.from({ length: 40 }, (_, i) => aPerson(`2${i}`, `K${i}`, 'Keep'));
    const lost = Array.from({ length: 8 }, (_, i) => aPerson(`12300${i + 1}`, `L${i}`, 'Lost'));
    const accounts = [...keep, ...lost].map((r) => accountOfRow(r));
    const rows = [...keep, ...lost.map((r) => ({ ...r, id: '1.23E+05' }))];
    const plan = await planRows(aSpec(), rows, tenantOf(accounts), NOW);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => b.change.kind)).toEqual(Array(8).fill('disableUser'));
    expect(codes(plan)).toEqual(['key-format']);
    expect(plan.blocked[0]?.message).toContain(
      'source keys were rewritten in exponent notation: 1.23E+05 (8 times)',
    );
    expect(plan.issues.filter((i) => i.code === 'source.duplicate-key')).toHaveLength(8);
  });

  it('P9: two keys that lost their zeros and collided (held as duplicates) disable neither account', async () => {
    const keep = Array.from({ length: 20 }, (_, i) => aPerson(`2${i}`, `K${i}`, 'Keep'));
    const a = aPerson('0113', 'Ada', 'Lovelace');
    const b = aPerson('00113', 'Alan', 'Turing');
    const accounts = [...keep, a, b].map((r) => accountOfRow(r));
    const rows = [...keep, { ...a, id: '113' }, { ...b, id: '113' }];
    const plan = await planRows(aSpec(), rows, tenantOf(accounts), NOW);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((x) => x.change.kind)).toEqual(['disableUser', 'disableUser']);
    expect(codes(plan)).toEqual(['key-format']);
    expect(plan.blocked[0]?.message).toContain(
      'source keys lost their leading zeros: 00113 -> 113, 0113 -> 113)',
    );
  });

  it('P9: a single key in exponent notation blocks its create and every disable', async () => {
    const { rows, accounts } = padded(3);
    const input = [...rows.slice(0, 2), aPerson('4.56E+07', 'New', 'Hire')];
    const plan = await planRows(
      aSpec({ safety: { minSourceRatio: 0.5 } }),
      input,
      tenantOf(accounts),
      NOW,
    );
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => b.change.kind).sort()).toEqual(['createUser', 'disableUser']);
    expect(plan.blocked[0]?.message).toContain(
      'source keys were rewritten in exponent notation: 4.56E+07',
    );
  });

  it.each([
    ['whitespace', 'E 113', 'E113', 'source keys changed whitespace: "E 113" -> E113'],
    ['case', 'e113', 'E113', 'source keys changed case: e113 -> E113'],
    ['leading zeros', '0113', '113', 'source keys lost their leading zeros: 0113 -> 113'],
  ])(
    'P9: %s: a create and a disable for one reformatted key are blocked and named',
    async (_, before, after, words) => {
      const person = aPerson(after, 'Ada', 'Lovelace');
      const account = accountOfRow({ ...person, id: before });
      const plan = await planRows(onlyAnchor, [person], tenantOf([account]), NOW);
      expect(plan.changes).toEqual([]);
      expect(blocked(plan).map((b) => b.split(' ').slice(0, 2).join(' '))).toEqual([
        'key-format createUser',
        'key-format disableUser',
      ]);
      expect(plan.blocked[0]?.message).toContain(`(${words})`);

      // With the default soft match the person keeps the account, and the reanchor waits.
      const soft = await planRows(aSpec(), [person], tenantOf([account]), NOW);
      expect(soft.changes).toEqual([]);
      expect(soft.blocked[0]?.change).toMatchObject({ kind: 'updateUser', reanchor: true });
      expect(soft.blocked[0]?.message).toContain(words);
    },
  );

  it('P9: with $selectUnique the reformatted keys get free names, and those creates and the disables are blocked, named', async () => {
    const { rows, accounts } = padded(2);
    const spec = aSpec({
      attributes: {
        userPrincipalName:
          "$selectUnique([$lowercase(first & '.' & last), $lowercase(first & '.' & last & '2')], '@contoso.com')",
        displayName: "first & ' ' & last",
        department: 'department',
        accountEnabled: "status = 'active'",
      },
    });
    const plan = await planRows(spec, unpad(rows), tenantOf(accounts), NOW);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => `${b.code} ${b.change.kind}`).sort()).toEqual([
      'key-format createUser',
      'key-format createUser',
      'key-format disableUser',
      'key-format disableUser',
    ]);
    expect(plan.blocked[0]?.message).toContain(
      'source keys lost their leading zeros: 00113 -> 113, 00114 -> 114)',
    );
  });

  it('P9: a namesake with an unrelated key is no key-format change', async () => {
    const person = aPerson('7001', 'Ada', 'Lovelace');
    const account = accountOfRow({ ...person, id: '113' });
    const plan = await planRows(onlyAnchor, [person], tenantOf([account]), NOW);
    expect(codes(plan)).toEqual([]);
  });

  it('P9 (property): whichever keys lose their leading zeros, under either match rule, nobody is disabled, created or re-anchored without approval', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.constantFrom<('anchor' | 'userPrincipalName')[]>(
          ['anchor'],
          ['anchor', 'userPrincipalName'],
        ),
        async (lost, match) => {
          const { rows, accounts } = padded(lost.length);
          const input = rows.map((r, i) => (lost[i] ? { ...r, id: String(Number(r.id)) } : r));
          const plan = await planRows(aSpec({ match }), input, tenantOf(accounts), NOW);
          expect(plan.changes).toEqual([]);
          if (!lost.includes(true)) expect(plan.blocked).toEqual([]);
          else expect(codes(plan).length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('P9 (property): a number with leading zeros and without is one key in two formats, named as lost zeros', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 ** 9 }), fc.integer({ min: 1, max: 5 }), (n, zeros) => {
        const bare = String(n);
        const padded = '0'.repeat(zeros) + bare;
        expect(anchorForm(padded)).toBe(anchorForm(bare));
        expect(keyFormatPattern(padded, bare)).toBe('leading zeros lost');
        expect(keyFormatPattern(bare, padded)).toBe('leading zeros added');
      }),
    );
    expect(keyFormatPattern('00101', '00999')).toBeUndefined();
    expect(keyFormatPattern('123000', '1.23E+05')).toBe('exponent notation');
    expect(looksLikeExponent('12E3456')).toBe(false);
    expect(looksLikeExponent('4,56e-07')).toBe(true);
  });
});
