/**
 * Time-based deprovisioning stages on a clock entrasync can trust (issue 17, class 3): the skew
 * between the local clock and Graph's `Date` header (A7), recorded dates later than Graph's
 * now (A8), and the clock of offline snapshots. Fixed times, literal data, no I/O.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import { DEFAULT_DEPROVISION } from '../model/spec.js';
import type { TenantClock, TenantState, TenantUser } from '../model/tenant.js';
import {
  aGroup,
  aPerson,
  aSpec,
  accountOfRow,
  ofKind,
  planRows,
  summary,
} from '../../test/helpers/builders.js';
import type { SpecOverrides } from '../../test/helpers/builders.js';
import { deprovisionStage } from './diff.js';
import { formatSpan, stageClock } from './clock.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');
const DAY = 86_400_000;
const MINUTE = 60_000;
const at = (ms: number) => new Date(ms).toISOString();
const STATE = DEFAULT_DEPROVISION.stateAttribute;
const STAGED = { removeAccessAfterDays: 7, deleteAfterDays: 30 };

const spec = (o: SpecOverrides = {}) =>
  aSpec({
    groups: [{ key: 'all', name: 'All' }],
    ...o,
    deprovision: { ...STAGED, ...(typeof o.deprovision === 'object' ? o.deprovision : {}) },
    safety: { minSourceRatio: 0, ...o.safety },
  });

/** A live read whose `Date` header says `serverTime` while the local clock read `localTime`. */
const read = (serverTime: number, localTime: number): TenantClock => ({
  status: 'read',
  serverTime,
  localTime,
});

/** Ada stays; Lee left and was disabled with `recorded` as the date; both in `All`. */
function world(recorded: string | null, clock?: TenantClock) {
  const ada = aPerson('1', 'Ada', 'Lovelace');
  const adaAccount = accountOfRow(ada, {});
  const lee: TenantUser = accountOfRow(aPerson('2', 'Lee', 'Leaver'), {
    accountEnabled: false,
    ...(recorded === null ? {} : { [STATE]: recorded }),
  });
  const tenant: TenantState = {
    users: [adaAccount, lee],
    groups: [aGroup('entrasync-all', { displayName: 'All', memberIds: [adaAccount.id, lee.id] })],
    deletedUsers: [],
    ...(clock ? { clock } : {}),
  };
  return { rows: [ada], lee, tenant };
}

const plan = (s: ReturnType<typeof spec>, w: ReturnType<typeof world>, now = NOW): Promise<Plan> =>
  planRows(s, w.rows, w.tenant, now);

describe('A7: the local clock against Graph (safety.maxClockSkew)', () => {
  it('A7: a local clock one day ahead of Graph refuses the delete with an error issue; the rest still plans', async () => {
    // Disabled 29.5 days ago by Graph's clock: the local clock (one day ahead) says 30.5.
    const w = world(at(NOW - 29.5 * DAY), read(NOW, NOW + DAY));
    const p = await plan(spec(), w, NOW + DAY);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(ofKind(p, 'removeMembers')).toEqual([]);
    const [issue] = p.issues.filter((i) => i.code === 'clock.skew');
    expect(issue).toMatchObject({ severity: 'error', source: 'target' });
    expect(issue?.message).toContain('1d ahead of');
    expect(issue?.message).toContain('safety.maxClockSkew 5m');
    expect(issue?.message).toContain('lee.leaver@contoso.com');
  });

  it('A7: under skew the time-based stages are refused and every other change still plans', async () => {
    const w = world(at(NOW - 40 * DAY), read(NOW, NOW + 2 * 3_600_000));
    const newcomer = aPerson('3', 'Nia', 'New');
    const p = await planRows(spec(), [...w.rows, newcomer], w.tenant, NOW + 2 * 3_600_000);
    expect(summary(p)).toEqual(['createUser nia.new@contoso.com', 'addMembers All']);
    expect(p.issues.map((i) => i.code)).toContain('clock.skew');
  });

  it('A7: a clock reading 2099 deletes nothing', async () => {
    const in2099 = Date.parse('2099-01-01T00:00:00Z');
    const w = world(at(NOW - 10 * DAY), read(NOW, in2099));
    const p = await plan(spec(), w, in2099);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(ofKind(p, 'removeMembers')).toEqual([]);
    expect(p.issues.filter((i) => i.severity === 'error').map((i) => i.code)).toEqual([
      'clock.skew',
    ]);
  });

  it('A7: a clock behind Graph past the limit is refused too (either way)', async () => {
    const w = world(at(NOW - 31 * DAY), read(NOW, NOW - 6 * MINUTE));
    const p = await plan(spec(), w, NOW - 6 * MINUTE);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(p.issues[0]?.message).toContain('6m behind');
  });

  it('A7: within safety.maxClockSkew the stages run, counted in Graph time', async () => {
    // Local clock 4 minutes ahead: Graph's now is 30 days minus 1 minute after the date.
    const recorded = NOW - 30 * DAY + MINUTE;
    const w = world(at(recorded), read(NOW, NOW + 4 * MINUTE));
    const early = await plan(spec(), w, NOW + 4 * MINUTE);
    expect(ofKind(early, 'deleteUser')).toEqual([]);
    expect(early.issues).toEqual([]);
    const due = await plan(spec(), w, NOW + 5 * MINUTE);
    expect(ofKind(due, 'deleteUser')).toHaveLength(1);
  });

  it('A7: maxClockSkew is configurable: 1m refuses a 2-minute skew, 1h lets a 30-minute one pass', async () => {
    const tight = world(at(NOW - 31 * DAY), read(NOW, NOW + 2 * MINUTE));
    const refused = await plan(spec({ safety: { maxClockSkewMs: MINUTE } }), tight, NOW);
    expect(ofKind(refused, 'deleteUser')).toEqual([]);
    expect(refused.issues[0]?.code).toBe('clock.skew');
    const loose = world(at(NOW - 31 * DAY), read(NOW, NOW + 30 * MINUTE));
    const allowed = await plan(spec({ safety: { maxClockSkewMs: 3_600_000 } }), loose, NOW);
    expect(ofKind(allowed, 'deleteUser')).toHaveLength(1);
  });

  it('A7: a config without time-based stages only gets a warning (removals with the disable need no clock)', async () => {
    const w = world(at(NOW - 31 * DAY), read(NOW, NOW + DAY));
    const p = await plan(spec({ deprovision: { removeAccessAfterDays: 0 } }), w);
    // deleteAfterDays from STAGED is still set: remove it for this case.
    const s = aSpec({
      groups: [{ key: 'all', name: 'All' }],
      safety: { minSourceRatio: 0 },
    });
    const q = await plan(s, w);
    expect(p.issues.map((i) => i.code)).toEqual(['clock.skew']);
    expect(summary(q)).toEqual(['removeMembers All']);
    expect(q.issues).toEqual([]);
    expect(q.warnings.map((x) => x.code)).toContain('clock.skew');
  });

  it('A7: an offline snapshot is planned at the Graph time it was read at, not at the local now', async () => {
    const w = world(at(NOW - 29 * DAY), { status: 'recorded', serverTime: NOW });
    // Two days later by the local clock: by the snapshot's time only 29 days have passed.
    const p = await plan(spec(), w, NOW + 2 * DAY);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(p.issues).toEqual([]);
  });

  it('A7: a snapshot without any Graph time refuses the time-based stages with a warning', async () => {
    const w = world(at(NOW - 31 * DAY), { status: 'unknown', reason: 'no Graph time' });
    const p = await plan(spec(), w);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(ofKind(p, 'removeMembers')).toEqual([]);
    expect(p.issues).toEqual([]);
    expect(p.warnings.map((x) => x.code)).toContain('clock.unknown');
  });
});

describe("A8: a recorded date later than Graph's now is unknown", () => {
  it('A8: a date one day in the future restarts the grace period: re-recorded, never deleted', async () => {
    const recorded = at(NOW + DAY);
    const w = world(recorded, read(NOW, NOW));
    const p = await plan(spec(), w);
    expect(summary(p)).toEqual(['disableUser lee.leaver@contoso.com']);
    const [disable] = ofKind(p, 'disableUser');
    expect(disable).toMatchObject({ stateAttribute: STATE, reason: 'left-source' });
    expect(disable?.message).toContain(`the recorded ${recorded} is later than Microsoft Graph`);
  });

  it('A8: a date in 2099 (written by a clock reading 2099) does not delete', async () => {
    const w = world('2099-03-01T00:00:00.000Z', read(NOW, NOW));
    const p = await plan(spec(), w);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(summary(p)).toEqual(['disableUser lee.leaver@contoso.com']);
  });

  it('A8: a local clock one day ahead does not delete a day early (the grace period counts in Graph time)', async () => {
    // 29.5 days by Graph; the local clock one day ahead would say 30.5. Skew allowed for the test.
    const w = world(at(NOW - 29.5 * DAY), read(NOW, NOW + DAY));
    const p = await plan(spec({ safety: { maxClockSkewMs: 2 * DAY } }), w, NOW + DAY);
    expect(ofKind(p, 'deleteUser')).toEqual([]);
    expect(ofKind(p, 'removeMembers')).toHaveLength(1);
  });

  it('A8: deprovisionStage with fixed times: future, exact boundary, and an untrusted clock', () => {
    const s = spec();
    const account = (recorded: string): TenantUser =>
      accountOfRow(aPerson('2', 'Lee', 'Leaver'), { accountEnabled: false, [STATE]: recorded });
    expect(deprovisionStage(account(at(NOW + 6 * MINUTE)), s, NOW, true)).toMatchObject({
      disable: true,
      stamp: true,
      removeAccess: false,
      delete: false,
      future: at(NOW + 6 * MINUTE),
    });
    // Within maxClockSkew (5m) a later date is jitter: not due, not re-recorded every plan.
    const jitter = deprovisionStage(account(at(NOW + 2 * MINUTE)), s, NOW, true);
    expect(jitter).toMatchObject({ disable: false, removeAccess: false, delete: false });
    expect(jitter.future).toBeUndefined();
    expect(deprovisionStage(account(at(NOW - 30 * DAY)), s, NOW, true)).toMatchObject({
      delete: true,
      removeAccess: true,
      clockHeld: false,
    });
    expect(deprovisionStage(account(at(NOW - 30 * DAY)), s, NOW, false)).toMatchObject({
      disable: false,
      delete: false,
      removeAccess: false,
      clockHeld: true,
    });
    // Immediate removal (removeAccessAfterDays 0) waits for nothing: untouched by the clock.
    const immediate = spec({ deprovision: { removeAccessAfterDays: 0 } });
    expect(deprovisionStage(account(at(NOW - DAY)), immediate, NOW, false)).toMatchObject({
      removeAccess: true,
      delete: false,
    });
  });

  it('A8: days are UTC days: across a daylight-saving change 30 days are 30 x 86,400,000 ms', () => {
    // 2024-03-31 is the EU spring-forward day; local wall time plays no part.
    const s = spec();
    const disabledAt = Date.parse('2024-03-10T12:00:00Z');
    const account = accountOfRow(aPerson('2', 'Lee', 'Leaver'), {
      accountEnabled: false,
      [STATE]: at(disabledAt),
    });
    expect(deprovisionStage(account, s, disabledAt + 30 * DAY - 1, true).delete).toBe(false);
    expect(deprovisionStage(account, s, disabledAt + 30 * DAY, true).delete).toBe(true);
  });
});

describe('stageClock', () => {
  it('no clock in the tenant state: now as given, trusted', () => {
    expect(stageClock(undefined, NOW)).toEqual({ now: NOW, trusted: true });
  });
  it('a live read corrects the local clock by the measured skew', () => {
    expect(stageClock(read(NOW, NOW + 1000), NOW + 61_000)).toEqual({
      now: NOW + 60_000,
      trusted: true,
    });
    expect(stageClock(read(NOW, NOW + 5 * MINUTE), NOW).trusted).toBe(true);
    expect(stageClock(read(NOW, NOW + 5 * MINUTE + 1), NOW).trusted).toBe(false);
  });
  it('formatSpan', () => {
    expect(formatSpan(500)).toBe('500ms');
    expect(formatSpan(DAY + 3_600_000 + 5000)).toBe('1d 1h');
    expect(formatSpan(6 * MINUTE)).toBe('6m');
    expect(formatSpan(DAY + 999)).toBe('1d');
    expect(formatSpan(6 * MINUTE + 5500)).toBe('6m 5s');
  });
});
