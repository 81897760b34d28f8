import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import { subjectOf } from '../model/plan.js';
import { aPerson, aSnapshot, aSpec, accountOfRow } from '../../test/helpers/builders.js';
import { computePlan } from './plan.js';
import { MAX_REPEAT_ISSUES, foldRepeatedRecords } from './repeats.js';

const kinds = (plan: Plan) =>
  plan.changes.map((c) => `${c.kind} ${subjectOf(c).userPrincipalName}`);

describe('foldRepeatedRecords', () => {
  it('S16: an identical record read twice makes the source incomplete and is kept once', () => {
    const rows = [aPerson('1', 'Ada', 'Lovelace'), aPerson('2', 'Alan', 'Turing')];
    const folded = foldRepeatedRecords(aSnapshot([...rows, rows[0]!]));
    expect(folded.status).toBe('incomplete');
    expect(folded.records.map((r) => r.key)).toEqual(['1', '2']);
    expect(folded.issues).toEqual([
      expect.objectContaining({ severity: 'error', code: 'source.repeated-record', key: '1' }),
    ]);
    expect(folded.issues[0]?.message).toContain('hr.csv:2, hr.csv:4');
  });

  it('S16: field order does not hide a repeat; different content is left to the join (S11)', () => {
    const a = aPerson('1', 'Ada', 'Lovelace');
    const reordered = Object.fromEntries(Object.entries(a).reverse());
    const other = aPerson('1', 'Ada', 'King');
    expect(foldRepeatedRecords(aSnapshot([a, reordered])).status).toBe('incomplete');
    const s11 = aSnapshot([a, other]);
    expect(foldRepeatedRecords(s11)).toBe(s11);
  });

  it('S16: a page repeated 200 times stays one short issue per key, capped', () => {
    const page = Array.from({ length: 150 }, (_, i) => aPerson(String(i), 'P', `N${i}`));
    const rows = Array.from({ length: 201 }, () => page).flat();
    const folded = foldRepeatedRecords(aSnapshot(rows));
    expect(folded.records).toHaveLength(150);
    expect(folded.issues).toHaveLength(MAX_REPEAT_ISSUES + 1);
    expect(Math.max(...folded.issues.map((i) => i.message.length))).toBeLessThan(400);
    expect(folded.issues.at(-1)?.message).toContain('50 more repeated record(s)');
  });

  it('leaves a failed source failed and a clean one untouched', () => {
    const row = aPerson('1', 'Ada', 'Lovelace');
    expect(foldRepeatedRecords(aSnapshot([row, row], { status: 'failed' })).status).toBe('failed');
    const clean = aSnapshot([row]);
    expect(foldRepeatedRecords(clean)).toBe(clean);
  });
});

describe('computePlan with a repeated record', () => {
  it('S16: the person is updated once, not held as two people with one key, and nobody is disabled', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { department: 'Research' });
    const alan = aPerson('2', 'Alan', 'Turing');
    const tenant = {
      users: [accountOfRow(aPerson('1', 'Ada', 'Lovelace')), accountOfRow(alan)],
    };
    // Alan's row went missing while Ada's arrived twice: a repeated page, not a leaver.
    const plan = await computePlan(aSpec(), [aSnapshot([ada, ada])], tenant);
    expect(plan.sources[0]).toMatchObject({ status: 'incomplete', records: 1 });
    expect(kinds(plan)).toEqual(['updateUser ada.lovelace@contoso.com']);
    expect(plan.blocked.map((b) => `${b.change.kind} ${b.code}`)).toEqual([
      'disableUser source-unhealthy',
    ]);
    expect(plan.issues.map((i) => i.code)).toContain('source.repeated-record');
    expect(plan.issues.map((i) => i.code)).not.toContain('source.duplicate-key');
  });
});
