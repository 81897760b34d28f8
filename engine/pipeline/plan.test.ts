import { subjectOf } from '../model/plan.js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { Plan } from '../model/plan.js';
import { aPerson, aSnapshot, aSpec, anAccount, MARKER } from '../../test/helpers/builders.js';
import { computePlan } from './plan.js';

const kinds = (plan: Plan) =>
  plan.changes.map((c) => `${c.kind} ${subjectOf(c).userPrincipalName}`);

describe('computePlan', () => {
  it('creates an account for a new person with marker, anchor and a default mailNickname', async () => {
    const plan = await computePlan(aSpec(), [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [],
    });
    expect(plan.changes).toHaveLength(1);
    const [change] = plan.changes;
    expect(change).toMatchObject({
      kind: 'createUser',
      reason: 'new-person',
      user: { userPrincipalName: 'ada.lovelace@contoso.com' },
      attributes: {
        userPrincipalName: 'ada.lovelace@contoso.com',
        displayName: 'Ada Lovelace',
        department: 'Sales',
        accountEnabled: true,
        employeeId: '1',
        mailNickname: 'ada.lovelace',
        [MARKER]: 'entrasync',
      },
      provenance: [{ source: 'hr', key: '1', location: { file: 'hr.csv', line: 2 } }],
    });
  });

  it('matches by anchor after a rename and updates only what drifted', async () => {
    const account = anAccount('ada.byron@contoso.com', {
      employeeId: '1',
      displayName: 'Ada Byron',
      department: 'Sales',
      mailNickname: 'ada.byron',
    });
    const plan = await computePlan(aSpec(), [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [account],
    });
    expect(plan.changes).toEqual([
      expect.objectContaining({
        kind: 'updateUser',
        user: { id: account.id, userPrincipalName: 'ada.byron@contoso.com' },
        set: [
          {
            attribute: 'userPrincipalName',
            before: 'ada.byron@contoso.com',
            after: 'ada.lovelace@contoso.com',
          },
          { attribute: 'displayName', before: 'Ada Byron', after: 'Ada Lovelace' },
          { attribute: 'mailNickname', before: 'ada.byron', after: 'ada.lovelace' },
        ],
      }),
    ]);
  });

  it('compares UPN without regard to case and treats null, "" and [] as no value', async () => {
    const account = anAccount('Ada.Lovelace@Contoso.com', {
      employeeId: '1',
      displayName: 'Ada Lovelace',
      department: 'Sales',
      mailNickname: 'ada.lovelace',
      jobTitle: null,
      businessPhones: [],
    });
    const spec = aSpec({
      attributes: {
        userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
        displayName: "first & ' ' & last",
        department: 'department',
        jobTitle: "''",
        businessPhones: 'missing_field',
      },
    });
    const snapshot = aSnapshot([aPerson('1', 'Ada', 'Lovelace')], {
      fields: ['id', 'first', 'last', 'department', 'status', 'missing_field'],
    });
    const plan = await computePlan(spec, [snapshot], { users: [account] });
    expect(plan.changes).toEqual([]);
  });

  it('disables a managed account whose person left the source, and says why', async () => {
    const stays = anAccount('ada.lovelace@contoso.com', {
      employeeId: '1',
      displayName: 'Ada Lovelace',
      department: 'Sales',
      mailNickname: 'ada.lovelace',
    });
    const left = anAccount('alan.turing@contoso.com', { employeeId: '2' });
    const plan = await computePlan(
      aSpec({ safety: { minSourceRatio: 0.5 } }),
      [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])],
      { users: [stays, left] },
    );
    expect(kinds(plan)).toEqual(['disableUser alan.turing@contoso.com']);
    expect(plan.changes[0]).toMatchObject({ reason: 'left-source', provenance: [] });
  });

  it('disables when the scope stops holding (left-scope) and when the mapping says disabled (source-status)', async () => {
    const a = anAccount('ada.lovelace@contoso.com', {
      employeeId: '1',
      displayName: 'Ada Lovelace',
      department: 'Sales',
      mailNickname: 'ada.lovelace',
    });
    const b = anAccount('alan.turing@contoso.com', {
      employeeId: '2',
      displayName: 'Alan Turing',
      department: 'Sales',
      mailNickname: 'alan.turing',
    });
    const spec = aSpec({ scope: "department != 'Contractors'" });
    const rows = [
      aPerson('1', 'Ada', 'Lovelace', { status: 'leave' }),
      aPerson('2', 'Alan', 'Turing', { department: 'Contractors' }),
    ];
    const plan = await computePlan(spec, [aSnapshot(rows)], { users: [a, b] });
    expect(plan.changes.map((c) => [c.kind, subjectOf(c).userPrincipalName, c.reason])).toEqual([
      ['disableUser', 'ada.lovelace@contoso.com', 'source-status'],
      ['disableUser', 'alan.turing@contoso.com', 'left-scope'],
    ]);
  });

  it('re-enables a managed account whose person is active again', async () => {
    const a = anAccount('ada.lovelace@contoso.com', {
      accountEnabled: false,
      employeeId: '1',
      displayName: 'Ada Lovelace',
      department: 'Sales',
      mailNickname: 'ada.lovelace',
    });
    const plan = await computePlan(aSpec(), [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [a],
    });
    expect(kinds(plan)).toEqual(['enableUser ada.lovelace@contoso.com']);
  });

  it('P1: never touches an unmarked account absent from every source, and lists it as unmanaged', async () => {
    const admin = anAccount('admin@contoso.com', { employeeId: '999' }, { managed: false });
    const plan = await computePlan(aSpec(), [aSnapshot([])], { users: [admin] });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toEqual([]);
    expect(plan.ignored).toEqual([
      { user: { id: admin.id, userPrincipalName: 'admin@contoso.com' }, reason: 'unmanaged' },
    ]);
  });

  it('P6: adopting an unmarked account found by UPN needs an approval; approved, it writes the marker and anchor', async () => {
    const existing = anAccount(
      'ada.lovelace@contoso.com',
      { displayName: 'Ada Lovelace', department: 'Sales', mailNickname: 'ada.lovelace' },
      { managed: false },
    );
    const snapshot = aSnapshot([aPerson('1', 'Ada', 'Lovelace')]);
    const tenant = { users: [existing], privileged: [] };
    const unapproved = await computePlan(aSpec(), [snapshot], tenant);
    expect(unapproved.changes).toEqual([]);
    expect(unapproved.blocked.map((b) => [b.change.kind, b.code])).toEqual([
      ['adoptUser', 'needs-approval'],
    ]);
    expect(unapproved.blocked[0]?.message).toContain(
      '{ action: adoptions, subject: ada.lovelace@contoso.com }',
    );

    const approvals = {
      plans: [],
      changes: [{ action: 'adoptions' as const, subject: 'Ada.Lovelace@contoso.com' }],
    };
    const plan = await computePlan(aSpec({ approvals }), [snapshot], tenant);
    expect(plan.changes).toEqual([
      expect.objectContaining({
        kind: 'adoptUser',
        reason: 'adopt',
        matchedBy: 'userPrincipalName',
        set: [
          { attribute: 'employeeId', before: null, after: '1' },
          { attribute: MARKER, before: null, after: 'entrasync' },
        ],
      }),
    ]);
    expect(plan.fingerprint).toBe(unapproved.fingerprint);
  });

  it('adopts an unmarked account found by anchor without approval, when admin detection worked', async () => {
    const existing = anAccount('a.lovelace@contoso.com', { employeeId: '1' }, { managed: false });
    const snapshot = aSnapshot([aPerson('1', 'Ada', 'Lovelace')]);
    const plan = await computePlan(aSpec(), [snapshot], { users: [existing], privileged: [] });
    expect(plan.changes.map((c) => c.kind)).toEqual(['adoptUser']);
    const unknown = await computePlan(aSpec(), [snapshot], { users: [existing] });
    expect(unknown.blocked.map((b) => b.code)).toEqual(['needs-approval']);
    expect(unknown.blocked[0]?.message).toContain('could not tell whether');
  });

  it('P3: a privileged account is never adopted, changed or deprovisioned unless allowPrivileged names it', async () => {
    const admin = anAccount('ada.lovelace@contoso.com', { employeeId: '1', displayName: 'Old' });
    const leaverAdmin = anAccount('alan.turing@contoso.com', { employeeId: '2' });
    const tenant = {
      users: [admin, leaverAdmin],
      privileged: [
        { userId: admin.id, reason: 'active role Global Administrator' },
        { userId: leaverAdmin.id, reason: 'eligible role User Administrator' },
      ],
    };
    const snapshot = aSnapshot([aPerson('1', 'Ada', 'Lovelace')]);
    const spec = aSpec({ safety: { minSourceRatio: 0 } });
    const plan = await computePlan(spec, [snapshot], tenant);
    expect(plan.changes).toEqual([]);
    expect(plan.blocked).toEqual([]);
    expect(plan.ignored.map((i) => [i.user.userPrincipalName, i.reason])).toEqual([
      ['alan.turing@contoso.com', 'privileged'],
    ]);
    expect(plan.warnings.map((w) => w.code)).toEqual(['match.privileged']);

    const allowed = await computePlan(
      aSpec({ safety: { minSourceRatio: 0, allowPrivileged: ['ada.lovelace@contoso.com'] } }),
      [snapshot],
      tenant,
    );
    expect(allowed.changes.map((c) => c.kind)).toEqual(['updateUser']);
  });

  it('requireApproval: listed actions wait for an approval of the plan or of the change', async () => {
    const leaver = anAccount('alan.turing@contoso.com', { employeeId: '2' });
    const snapshot = aSnapshot([]);
    const spec = aSpec({ safety: { minSourceRatio: 0, requireApproval: ['disables'] } });
    const plan = await computePlan(spec, [snapshot], { users: [leaver], privileged: [] });
    expect(plan.blocked.map((b) => b.code)).toEqual(['needs-approval']);
    const byPlan = await computePlan(
      aSpec({
        safety: spec.safety,
        approvals: { plans: [plan.fingerprint.slice(0, 12)], changes: [] },
      }),
      [snapshot],
      { users: [leaver], privileged: [] },
    );
    expect(byPlan.changes.map((c) => c.kind)).toEqual(['disableUser']);
    const byChange = await computePlan(
      aSpec({
        safety: spec.safety,
        approvals: { plans: [], changes: [{ action: 'disables', subject: leaver.id }] },
      }),
      [snapshot],
      { users: [leaver], privileged: [] },
    );
    expect(byChange.changes.map((c) => c.kind)).toEqual(['disableUser']);
  });

  it('P5: leaves accounts synced from on-premises alone even when a person matches them', async () => {
    const synced = anAccount(
      'ada.lovelace@contoso.com',
      { onPremisesSyncEnabled: true },
      { managed: false },
    );
    const plan = await computePlan(aSpec(), [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
      users: [synced],
    });
    expect(plan.changes).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.objectContaining({ code: 'match.synced-from-on-premises' }),
    ]);
  });

  it('S7: a failed source creates nobody and every disable it would cause is blocked', async () => {
    const managed = anAccount('alan.turing@contoso.com', { employeeId: '2' });
    const failed = aSnapshot([aPerson('1', 'Ada', 'Lovelace')], {
      status: 'failed',
      issues: [
        {
          severity: 'error',
          code: 'source.parse',
          message: 'unclosed quote',
          location: { file: 'hr.csv', line: 43, column: 7 },
        },
      ],
    });
    const plan = await computePlan(aSpec(), [failed], { users: [managed] });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => [b.change.kind, b.code])).toEqual([
      ['disableUser', 'source-unhealthy'],
    ]);
    expect(plan.issues[0]).toMatchObject({ source: 'hr', code: 'source.parse' });
  });

  it('S1: an incomplete source still creates and updates, but its disables are blocked', async () => {
    const managed = anAccount('alan.turing@contoso.com', { employeeId: '2' });
    const plan = await computePlan(
      aSpec(),
      [aSnapshot([aPerson('1', 'Ada', 'Lovelace')], { status: 'incomplete' })],
      { users: [managed] },
    );
    expect(kinds(plan)).toEqual(['createUser ada.lovelace@contoso.com']);
    expect(plan.blocked.map((b) => b.code)).toEqual(['source-unhealthy']);
  });

  it('S11: two rows with one key are both errors; that person is neither created nor deprovisioned', async () => {
    const managed = anAccount('ada.lovelace@contoso.com', { employeeId: '1' });
    const rows = [
      aPerson('1', 'Ada', 'Lovelace'),
      aPerson('1', 'Ada', 'King'),
      aPerson('2', 'Alan', 'Turing'),
    ];
    const plan = await computePlan(aSpec(), [aSnapshot(rows)], { users: [managed] });
    expect(kinds(plan)).toEqual(['createUser alan.turing@contoso.com']);
    expect(plan.issues.filter((i) => i.code === 'source.duplicate-key')).toHaveLength(2);
    expect(plan.warnings.map((w) => w.code)).toEqual(['deprovision.held']);
  });

  it('holds a person whose mapping fails instead of treating them as gone', async () => {
    const managed = anAccount('ada.lovelace@contoso.com', { employeeId: '1' });
    const spec = aSpec({
      attributes: {
        userPrincipalName: "first = 'Ada' ? undefined_field : 'x@contoso.com'",
        displayName: 'first',
      },
    });
    const plan = await computePlan(
      spec,
      [
        aSnapshot([aPerson('1', 'Ada', 'Lovelace')], {
          fields: ['id', 'first', 'last', 'department', 'status', 'undefined_field'],
        }),
      ],
      { users: [managed] },
    );
    expect(plan.changes).toEqual([]);
    expect(plan.issues).toEqual([expect.objectContaining({ code: 'map.failed', key: '1' })]);
    expect(plan.issues[0]?.message).toContain('userPrincipalName is required');
  });

  it('blocks every disable while someone in the sources cannot be identified', async () => {
    const managed = anAccount('alan.turing@contoso.com', { employeeId: '2' });
    const plan = await computePlan(
      aSpec({ anchor: 'badge' }),
      [
        aSnapshot([aPerson('1', 'Ada', 'Lovelace')], {
          fields: ['id', 'first', 'last', 'department', 'status', 'badge'],
        }),
      ],
      { users: [managed] },
    );
    expect(plan.blocked.map((b) => b.code)).toEqual(['unidentified-people']);
  });

  it('S9: a mapping that reads a field the source does not have fails before planning, with did-you-mean', async () => {
    const spec = aSpec({
      attributes: {
        userPrincipalName: "id & '@contoso.com'",
        displayName: 'first',
        accountEnabled: "status = 'active'",
      },
    });
    const renamed = aSnapshot([], { fields: ['id', 'first', 'last', 'department', 'Status'] });
    const error = await computePlan(spec, [renamed], { users: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const [d] = (error as ConfigError).diagnostics;
    expect(d?.message).toBe('field `status` not present in source `hr` (did you mean `Status`?)');
    expect(d?.path).toBe('users.attributes.accountEnabled');
    expect(d?.position).toMatchObject({ file: 'entrasync.yaml', column: 5 });
  });

  it('M1: pins JSONata undefined-is-false: a comparison with a missing field is false, not an error', async () => {
    const spec = aSpec({
      attributes: {
        userPrincipalName: "id & '@contoso.com'",
        displayName: 'first',
        accountEnabled: "nonexistent = 'active'",
      },
    });
    const snapshot = aSnapshot([aPerson('1', 'Ada', 'Lovelace')], { fields: [] });
    const plan = await computePlan(spec, [snapshot], { users: [] });
    expect(plan.changes[0]).toMatchObject({
      kind: 'createUser',
      attributes: { accountEnabled: false },
    });
  });

  it('holds both people when two would get the same UPN', async () => {
    const rows = [aPerson('1', 'Ada', 'Lovelace'), aPerson('2', 'Ada', 'Lovelace')];
    const plan = await computePlan(aSpec(), [aSnapshot(rows)], { users: [] });
    expect(plan.changes).toEqual([]);
    expect(plan.issues.map((i) => i.code)).toEqual(['match.ambiguous', 'match.ambiguous']);
  });

  it('gives the same plan, byte for byte, for the same inputs; the fingerprint follows the changes', async () => {
    const rows = [aPerson('2', 'Alan', 'Turing'), aPerson('1', 'Ada', 'Lovelace')];
    const a = await computePlan(aSpec(), [aSnapshot(rows)], { users: [] });
    const snapshot = aSnapshot(rows);
    const reordered = { ...snapshot, records: [...snapshot.records].reverse() };
    const b = await computePlan(aSpec(), [reordered], { users: [] });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = await computePlan(aSpec(), [aSnapshot(rows.slice(0, 1))], { users: [] });
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });
});
