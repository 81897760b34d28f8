import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncSpec } from '../model/spec.js';
import type { TenantUser } from '../model/tenant.js';
import { subjectOf } from '../model/plan.js';
import { renderPlanJson } from '../render/json.js';
import { renderPlanMarkdown } from '../render/markdown.js';
import { renderPlanText } from '../render/text.js';
import {
  aGroup,
  aPerson,
  aSpec,
  accountOfRow,
  MARKER,
  ofKind,
  planRows,
  summary,
  type SpecOverrides,
} from '../../test/helpers/builders.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');

/** A spec as the config loader builds it by default: this config is `entrasync:hr`. */
function hrSpec(o: SpecOverrides = {}, claimLegacy = false): SyncSpec {
  const spec = aSpec(o);
  return {
    ...spec,
    marker: {
      ...spec.marker,
      value: 'entrasync:hr',
      ...(claimLegacy ? { claimLegacy: true } : {}),
    },
  };
}

const ada = aPerson('1', 'Ada', 'Lovelace');
const alan = aPerson('2', 'Alan', 'Turing');
/** An account of this config, in sync with its person. */
const own = (row: typeof ada): TenantUser => accountOfRow(row, { [MARKER]: 'entrasync:hr' });
/** An account another config (`entrasync:contractors`) manages. */
const theirs = (row: typeof ada): TenantUser =>
  accountOfRow(row, { [MARKER]: 'entrasync:contractors' });
const legacy = (row: typeof ada): TenantUser => accountOfRow(row, { [MARKER]: 'entrasync' });

describe('two configs on one tenant (P16)', () => {
  it("P16: another config's accounts are never deprovisioned, listed as left alone (another config) in text, markdown and JSON", async () => {
    const grace = aPerson('7', 'Grace', 'Hopper');
    const alanTheirs = theirs(alan);
    const plan = await planRows(
      hrSpec(),
      [ada],
      { users: [own(ada), alanTheirs, theirs(grace)] },
      NOW,
    );
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toEqual([]);
    expect(plan.managedUsers).toBe(1);
    expect(plan.ignored.map((i) => [i.user.userPrincipalName, i.reason, i.marker])).toEqual([
      ['alan.turing@contoso.com', 'other-config', 'entrasync:contractors'],
      ['grace.hopper@contoso.com', 'other-config', 'entrasync:contractors'],
    ]);
    expect(renderPlanText(plan)).toContain(
      'Left alone (2): alan.turing@contoso.com (another config: entrasync:contractors), grace.hopper@contoso.com (another config: entrasync:contractors)',
    );
    expect(renderPlanMarkdown(plan)).toContain('| Left alone (another config) | 2 |');
    expect(JSON.parse(renderPlanJson(plan)).ignored[0]).toEqual({
      user: { id: alanTheirs.id, userPrincipalName: 'alan.turing@contoso.com' },
      reason: 'other-config',
      marker: 'entrasync:contractors',
    });
  });

  it("P16: a person whose anchor or UPN another config's account holds is held (plan error), never adopted, updated or created", async () => {
    // Ada: same anchor and UPN as the other config's account (matched by anchor).
    // Alan: only the UPN is the same (another anchor), found by the UPN soft match.
    // Grace: `match: [anchor]` would create her; the other config holds her UPN.
    const grace = aPerson('7', 'Grace', 'Hopper');
    const graceTheirs = accountOfRow({ ...grace, id: '900' }, { [MARKER]: 'entrasync:b' });
    const alanTheirs = accountOfRow({ ...alan, id: '901' }, { [MARKER]: 'entrasync:b' });
    for (const match of [['anchor', 'userPrincipalName'], ['anchor']] as SpecOverrides['match'][]) {
      const plan = await planRows(
        hrSpec({ match }),
        [ada, alan, grace],
        { users: [theirs({ ...ada, department: 'Other' }), alanTheirs, graceTheirs] },
        NOW,
      );
      expect(summary(plan), String(match)).toEqual([]);
      const held = plan.issues.filter((i) => i.code === 'match.other-config');
      expect(held.map((i) => i.key)).toEqual(['hr:1', 'hr:2', 'hr:7']);
      expect(held[0]?.message).toMatch(
        /ada\.lovelace@contoso\.com is managed by another entrasync config \(marker "entrasync:contractors"; if that is this config under an earlier id, set `target\.marker\.id: contractors`\).*held/,
      );
      expect(held.every((i) => i.severity === 'error')).toBe(true);
      expect(plan.ignored.every((i) => i.reason === 'other-config')).toBe(true);
      expect(plan.ignored).toHaveLength(3);
    }
  });

  it('P16: a legacy-marked account its person matches by anchor is claimed and re-marked, visibly; the update brake does not count re-marks', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => aPerson(String(100 + i), 'P', `N${i}`));
    const plan = await planRows(hrSpec(), rows, { users: rows.map(legacy) }, NOW);
    expect(plan.blocked).toEqual([]);
    const updates = ofKind(plan, 'updateUser');
    expect(updates).toHaveLength(60);
    expect(updates[0]).toMatchObject({
      reason: 'claim-legacy',
      set: [{ attribute: MARKER, before: 'entrasync', after: 'entrasync:hr' }],
    });
    expect(updates[0]?.message).toMatch(/re-mark legacy marker "entrasync" as "entrasync:hr"/);
    expect(renderPlanText(plan)).toContain('[legacy marker claimed');
    // a re-mark with drift is still an update like any other
    const drifted = await planRows(
      hrSpec(),
      [ada],
      { users: [legacy({ ...ada, department: 'Old' })] },
      NOW,
    );
    expect(ofKind(drifted, 'updateUser')[0]?.set.map((c) => c.attribute)).toEqual([
      'department',
      MARKER,
    ]);
  });

  it('P16: legacy-marked accounts no person claims are left alone (never disabled) until claimLegacy; then deprovisioned as before', async () => {
    const tenant = { users: [legacy(ada), legacy(alan)] };
    const plan = await planRows(hrSpec(), [ada], tenant, NOW);
    expect(summary(plan)).toEqual(['updateUser ada.lovelace@contoso.com']);
    expect(plan.ignored).toEqual([
      {
        user: { id: tenant.users[1]?.id, userPrincipalName: 'alan.turing@contoso.com' },
        reason: 'legacy-marker',
        marker: 'entrasync',
      },
    ]);
    expect(plan.warnings.map((w) => w.code)).toContain('marker.legacy');
    expect(plan.warnings.find((w) => w.code === 'marker.legacy')?.message).toMatch(
      /^1 account\(s\) carry the legacy marker "entrasync".*claimLegacy: true/,
    );

    // (the shrink check is off: one person of two managed accounts is a shrink, not the point)
    const claimed = await planRows(
      hrSpec({ safety: { minSourceRatio: 0 } }, true),
      [ada],
      tenant,
      NOW,
    );
    expect(summary(claimed)).toEqual([
      'updateUser ada.lovelace@contoso.com',
      'disableUser alan.turing@contoso.com',
    ]);
    expect(ofKind(claimed, 'updateUser')[0]?.reason).toBe('claim-legacy');
    expect(claimed.ignored).toEqual([]);
    expect(claimed.warnings.map((w) => w.code)).not.toContain('marker.legacy');
  });

  it('P16: a legacy account matched by UPN that carries another anchor is not claimed: the person is held', async () => {
    const plan = await planRows(hrSpec(), [ada], { users: [legacy({ ...ada, id: '555' })] }, NOW);
    expect(summary(plan)).toEqual([]);
    expect(plan.issues.map((i) => i.code)).toEqual(['match.other-config']);
    expect(plan.issues[0]?.message).toMatch(/legacy marker "entrasync" with another anchor/);
  });

  it("P16: a legacy-marked account in the recycle bin is restored for its own anchor and re-marked; another config's never is", async () => {
    const spec = hrSpec({ deprovision: { action: 'disable', deleteAfterDays: 30 } });
    const gone = (u: TenantUser): TenantUser => ({
      ...u,
      attributes: { ...u.attributes, accountEnabled: false },
    });
    const plan = await planRows(spec, [ada], { users: [], deletedUsers: [gone(legacy(ada))] }, NOW);
    expect(summary(plan)).toEqual([
      'restoreUser ada.lovelace@contoso.com',
      'updateUser ada.lovelace@contoso.com',
      'enableUser ada.lovelace@contoso.com',
    ]);
    expect(ofKind(plan, 'updateUser')[0]?.set).toEqual([
      { attribute: MARKER, before: 'entrasync', after: 'entrasync:hr' },
    ]);
    const other = await planRows(
      spec,
      [ada],
      { users: [], deletedUsers: [gone(theirs(ada))] },
      NOW,
    );
    expect(summary(other)).toEqual(['createUser ada.lovelace@contoso.com']);
  });

  it("P16: a group two configs share keeps the other config's members", async () => {
    const spec = hrSpec({ groups: [{ name: 'All Staff', key: 'all-staff' }] });
    const ours = own(ada);
    const other = theirs(alan);
    const plan = await planRows(
      spec,
      [ada],
      {
        users: [ours, other],
        groups: [
          aGroup('entrasync-all-staff', {
            displayName: 'All Staff',
            memberIds: [ours.id, other.id],
          }),
        ],
      },
      NOW,
    );
    expect(ofKind(plan, 'removeMembers')).toEqual([]);
    expect(plan.changes).toEqual([]);
  });

  it("P16: a group under this config's prefix that no rule asks for and that holds only another config's accounts is left alone, not emptied", async () => {
    const spec = hrSpec({ groups: [{ name: 'All Staff', key: 'all-staff' }] });
    const ours = own(ada);
    const other = theirs(alan);
    const groups = [
      aGroup('entrasync-all-staff', { displayName: 'All Staff', memberIds: [ours.id] }),
      aGroup('entrasync-eng', { displayName: 'Eng', memberIds: [other.id] }),
      aGroup('entrasync-old', { displayName: 'Old', memberIds: [ours.id, other.id] }),
    ];
    const plan = await planRows(spec, [ada], { users: [ours, other], groups }, NOW);
    // our own orphaned group loses our account only; the other config's group is untouched
    expect(
      ofKind(plan, 'removeMembers').map((c) => [
        c.group.uniqueName,
        c.members?.map((m) => m.userPrincipalName),
      ]),
    ).toEqual([['entrasync-old', ['ada.lovelace@contoso.com']]]);
    expect(
      plan.warnings.filter((w) => w.code === 'group.other-config').map((w) => w.subject),
    ).toEqual(['entrasync-eng']);
  });

  it("P16 (property): whatever the tenant, no change ever names another config's account", async () => {
    const people = [ada, alan, aPerson('3', 'Grace', 'Hopper'), aPerson('4', 'Edsger', 'Dijkstra')];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            person: fc.constantFrom(...people),
            anchor: fc.constantFrom('1', '2', '3', '4', '99', ''),
            marker: fc.constantFrom('entrasync:hr', 'entrasync:b', 'entrasync', null, 'other'),
            enabled: fc.boolean(),
          }),
          { maxLength: 6 },
        ),
        fc.subarray(people),
        fc.boolean(),
        async (accounts, rows, claimLegacy) => {
          const users = accounts.map((a, i) =>
            accountOfRow(
              { ...a.person, id: a.anchor },
              { [MARKER]: a.marker, accountEnabled: a.enabled },
              { id: `id-${i}` },
            ),
          );
          const plan = await planRows(hrSpec({}, claimLegacy), rows, { users }, NOW);
          const foreign = new Set(
            accounts.flatMap((a, i) =>
              a.marker === 'entrasync:b' || (a.marker === 'entrasync' && !claimLegacy)
                ? [`id-${i}`]
                : [],
            ),
          );
          const all = [...plan.changes, ...plan.blocked.map((b) => b.change)];
          // the one exception: a legacy account its own person claimed (re-marked) in this plan
          const claimed = new Set(
            all.flatMap((c) =>
              c.kind === 'updateUser' && c.reason === 'claim-legacy' ? [c.user.id] : [],
            ),
          );
          for (const c of all) {
            const id = subjectOf(c).id;
            if (id === undefined || !foreign.has(id) || claimed.has(id)) continue;
            expect.fail(`${c.kind} ${id} names another config's account`);
          }
          for (const id of claimed) {
            expect(accounts[Number(id?.slice(3))]?.marker).toBe('entrasync');
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
