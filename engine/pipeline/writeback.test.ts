import { describe, expect, it } from 'vitest';
import type { SyncSpec } from '../model/spec.js';
import type { TenantState } from '../model/tenant.js';
import type { WritebackSpec } from '../model/writeback.js';
import { accountOfRow, aPerson, aSpec, planRows, upnOf } from '../../test/helpers/builders.js';
import type { Row } from '../../test/helpers/builders.js';
import { renderPlanText } from '../render/text.js';
import { renderPlanMarkdown } from '../render/markdown.js';
import { planDocument } from '../render/json.js';
import { isEmptyPlan } from '../model/plan.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const WRITEBACK: WritebackSpec = {
  source: 'hr',
  attributes: [
    { field: 'entra_id', from: 'id' },
    { field: 'work_email', from: 'userPrincipalName' },
  ],
};

function spec(overrides: Parameters<typeof aSpec>[0] = {}, wb = WRITEBACK): SyncSpec {
  return { ...aSpec(overrides), writeback: [wb] };
}

const ada = aPerson('1', 'Ada', 'Lovelace');
const alan = aPerson('2', 'Alan', 'Turing');

function tenantOf(rows: Row[]): TenantState {
  return { users: rows.map((r, i) => accountOfRow(r, {}, { id: `id-${i + 1}` })) };
}

describe('write-back planning (issue 26)', () => {
  it('WB3: each managed account whose source record lacks its values gets one change per record, with before and after', async () => {
    const plan = await planRows(
      spec(),
      [ada, { ...alan, entra_id: 'id-2' }],
      tenantOf([ada, alan]),
      NOW,
    );
    expect(plan.changes).toEqual([]);
    expect(plan.writebacks?.blocked).toEqual([]);
    expect(plan.writebacks?.changes).toEqual([
      {
        id: 'writeback:hr:1',
        source: 'hr',
        record: { key: '1', id: '1' },
        user: { id: 'id-1', userPrincipalName: upnOf(ada) },
        set: [
          { field: 'entra_id', from: 'id', before: null, after: 'id-1' },
          { field: 'work_email', from: 'userPrincipalName', before: null, after: upnOf(ada) },
        ],
        message: 'write entra_id <- id, work_email <- userPrincipalName to hr record 1',
      },
      {
        id: 'writeback:hr:2',
        source: 'hr',
        record: { key: '2', id: '2' },
        user: { id: 'id-2', userPrincipalName: upnOf(alan) },
        // entra_id holds the value already: only the mail is written.
        set: [{ field: 'work_email', from: 'userPrincipalName', before: null, after: upnOf(alan) }],
        message: 'write work_email <- userPrincipalName to hr record 2',
      },
    ]);
  });

  it('WB4: idempotent: a source holding every value plans nothing, and the plan is empty', async () => {
    const rows = [ada, alan].map((r, i) => ({
      ...r,
      entra_id: `id-${i + 1}`,
      work_email: upnOf(r),
    }));
    const plan = await planRows(spec(), rows, tenantOf([ada, alan]), NOW);
    expect(plan.writebacks).toEqual({ changes: [], blocked: [] });
    expect(isEmptyPlan(plan)).toBe(true);
  });

  it('WB5: a person without an account yet (created by this plan) gets the write-back in the next plan; an unmanaged account gets none', async () => {
    const plan = await planRows(
      spec(),
      [ada, alan],
      {
        users: [
          accountOfRow(alan, { [`onPremisesExtensionAttributes.extensionAttribute15`]: null }),
        ],
      },
      NOW,
    );
    // The adoption (by userPrincipalName) waits for an approval; either way it is not managed yet.
    expect(
      [...plan.changes, ...plan.blocked.map((b) => b.change)].map((c) => c.kind).sort(),
    ).toEqual(['adoptUser', 'createUser']);
    expect(plan.writebacks).toEqual({ changes: [], blocked: [] });
  });

  it('WB6: a field whose Entra attribute this plan changes waits for the next plan (never the old value)', async () => {
    const wb: WritebackSpec = {
      source: 'hr',
      attributes: [
        { field: 'entra_department', from: 'department' },
        { field: 'entra_id', from: 'id' },
      ],
    };
    const moved = { ...ada, department: 'Research' };
    const plan = await planRows(spec({}, wb), [moved], tenantOf([ada]), NOW);
    expect(plan.changes.map((c) => c.kind)).toEqual(['updateUser']);
    expect(plan.writebacks?.changes[0]?.set.map((s) => s.field)).toEqual(['entra_id']);
  });

  it('WB7: an incomplete source gets no write-back at all (source-unhealthy), and the plan is held', async () => {
    const plan = await planRows(spec(), [ada], tenantOf([ada]), NOW, { status: 'incomplete' });
    expect(plan.writebacks?.changes).toEqual([]);
    expect(plan.writebacks?.blocked.map((b) => [b.change.id, b.code])).toEqual([
      ['writeback:hr:1', 'source-unhealthy'],
    ]);
    expect(plan.writebacks?.blocked[0]?.message).toContain('source "hr" is incomplete');
    expect(renderPlanText(plan)).toContain('Write-back held (1) - not written');
  });

  it('WB8: more write-backs than safety.maxWritebacks are held until --allow-writebacks binds to this plan', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => aPerson(String(i + 1), `P${i}`, 'X'));
    const thresholds = { ...aSpec().safety.thresholds, writebacks: { count: 3, percent: 10 } };
    const s = spec({ safety: { ...aSpec().safety, thresholds } });
    const held = await planRows(s, rows, tenantOf(rows), NOW);
    expect(held.writebacks?.changes).toEqual([]);
    expect(held.writebacks?.blocked).toHaveLength(5);
    expect(held.writebacks?.blocked[0]?.message).toContain(
      `--allow-writebacks 5 --plan ${held.fingerprint.slice(0, 12)}`,
    );
    const { computePlan } = await import('./plan.js');
    const { rowsSnapshot } = await import('../../test/helpers/builders.js');
    const released = await computePlan(s, [rowsSnapshot(rows)], tenantOf(rows), {
      now: NOW,
      overrides: { fingerprint: held.fingerprint.slice(0, 12), allow: { writebacks: 5 } },
    });
    expect(released.fingerprint).toBe(held.fingerprint);
    expect(released.writebacks?.changes).toHaveLength(5);
    expect(released.overrides).toEqual({ writebacks: 5 });
  });

  it('WB9: the fingerprint covers the write-backs; a config without writeback keeps its old fingerprint and has no section', async () => {
    const without = await planRows(aSpec(), [ada], tenantOf([ada]), NOW);
    expect(without.writebacks).toBeUndefined();
    const withWb = await planRows(spec(), [ada], tenantOf([ada]), NOW);
    expect(withWb.fingerprint).not.toBe(without.fingerprint);
    const inSync = await planRows(
      spec(),
      [{ ...ada, entra_id: 'id-1', work_email: upnOf(ada) }],
      tenantOf([ada]),
      NOW,
    );
    // No write-back left: the fingerprint is the one the plan has without the section.
    const plain = await planRows(
      aSpec(),
      [{ ...ada, entra_id: 'id-1', work_email: upnOf(ada) }],
      tenantOf([ada]),
      NOW,
    );
    expect(inSync.fingerprint).toBe(plain.fingerprint);
  });

  it('WB10: text, markdown and JSON show the section and the summary counts it', async () => {
    const plan = await planRows(spec(), [ada], tenantOf([ada]), NOW);
    const text = renderPlanText(plan);
    expect(text).toContain('Write-back to the sources, after the changes above (1)');
    expect(text).toContain(`entra_id: (none) -> "id-1"  (Entra id)`);
    expect(text).toMatch(/Plan [0-9a-f]{12}: 1 to write back\./);
    const md = renderPlanMarkdown(plan);
    expect(md).toContain('| Write-back | 1 |');
    expect(md).toContain('<b>Write-back</b> (1)');
    expect(md).toContain('no tenant changes; 1 write-back(s) to the sources');
    expect(planDocument(plan).writebacks?.changes[0]?.id).toBe('writeback:hr:1');
  });
});
