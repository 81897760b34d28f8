/**
 * A person's whole life in one tenant, through the real CLI runtime against the simulator (the
 * real Graph SDK over HTTPS): joiners, a mover whose groups and licenses follow the department,
 * a leaver under staged offboarding (disable and revoke sessions; memberships and licenses kept
 * for `removeAccessAfterDays`, then removed; deleted after `deleteAfterDays`), the same person
 * back after the delete (restored from the recycle bin, not recreated), and a license rule the
 * tenant has no seats for (G9). Every step is applied and re-planned to nothing (A4). The plan's
 * clock is moved forward (`now`); the disable date is the one the apply wrote on the account.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Plan } from '../../engine/model/plan.js';
import { isGroupChange, subjectOf } from '../../engine/model/plan.js';
import { convergeAt, label, planAt } from '../helpers/converge.js';
import { openTenantStore, startSimulator } from '../../simulator/index.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';
import { simTarget } from '../helpers/sim-target.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'people-ops');
const DAY = 86_400_000;
const work = mkdtempSync(join(tmpdir(), 'entrasync-lifecycle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
cpSync(fixture, work, { recursive: true, filter: (p) => !p.includes('.entrasync') });
const config = join(work, 'entrasync.yaml');
const csv = join(work, 'employees.csv');
const original = readFileSync(csv, 'utf8');

const plan = (now: number): Promise<Plan> => planAt(config, now);
const converge = (now: number): Promise<Plan> => convergeAt(config, now);

function kinds(p: Plan, upnOrGroup: string): string[] {
  return p.changes
    .filter(
      (c) =>
        subjectOf(c).userPrincipalName === upnOrGroup ||
        ('members' in c && c.members.some((m) => m.userPrincipalName === upnOrGroup)),
    )
    .map(label);
}

function tenant() {
  return openTenantStore(join(work, '.entrasync', 'tenant.db'));
}

describe('lifecycle: joiners, movers, leavers, returners and seats against the simulator', () => {
  const t0 = Date.now();
  let deletedId: string | undefined;

  it('joiners: groups created and filled, licenses direct and by group, managers after their creates', async () => {
    const first = await converge(t0);
    const counts = new Map<string, number>();
    for (const c of first.changes) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toMatchObject({
      createUser: 8,
      createGroup: 6,
      assignGroupLicenses: 1,
      assignLicenses: 8,
      setManager: 9,
      disableUser: 1,
    });
    const store = tenant();
    try {
      const zoe = store.listUsers().find((u) => u['employeeId'] === '2003');
      expect(zoe?.['userPrincipalName']).toBe('zoe.angstrom@contoso.com');
      const smiths = store
        .listUsers()
        .map((u) => String(u['userPrincipalName']))
        .filter((upn) => upn.startsWith('john.smith'))
        .sort();
      expect(smiths).toEqual(['john.smith.2005@contoso.com', 'john.smith@contoso.com']);
    } finally {
      store.close();
    }
    expect(first.licenses?.find((l) => l.skuPartNumber === 'SPE_E3')).toMatchObject({
      seats: 25,
      adding: 8,
      shortfall: 0,
    });
  });

  it('movers: a department change moves groups; a contractor made FTE trades the EMS group for a direct E3', async () => {
    writeFileSync(
      csv,
      original
        .replace('2007,Ada,Lovelace,Research', '2007,Ada,Lovelace,Sales')
        .replace(
          '2008,Edsger,Dijkstra,Engineering,Engineer,NL,Contractor',
          '2008,Edsger,Dijkstra,Engineering,Engineer,NL,FTE',
        ),
    );
    const moved = await converge(t0 + DAY);
    expect(kinds(moved, 'ada.lovelace@contoso.com')).toEqual(
      expect.arrayContaining([
        'updateUser ada.lovelace@contoso.com',
        'addMembers Dept - Sales',
        'removeMembers Dept - Research',
      ]),
    );
    expect(kinds(moved, 'edsger.dijkstra@contoso.com')).toEqual(
      expect.arrayContaining([
        'assignLicenses edsger.dijkstra@contoso.com',
        'addMembers Engineering Guild',
        'removeMembers License - EMS',
      ]),
    );
  });

  it('leaver, A6: disabled with sessions revoked; access kept for 7 days, removed after, deleted after 30', async () => {
    writeFileSync(csv, readFileSync(csv, 'utf8').replace(/^2010,.*\n/m, ''));
    const leave = await converge(t0 + DAY);
    expect(kinds(leave, 'linus.torvalds@contoso.com')).toEqual([
      'disableUser linus.torvalds@contoso.com',
    ]);
    const disable = leave.changes.find((c) => c.kind === 'disableUser');
    expect(disable).toMatchObject({ revokeSessions: true });

    // Within the grace period nothing more happens.
    const day3 = await plan(Date.now() + 3 * DAY);
    expect(kinds(day3, 'linus.torvalds@contoso.com')).toEqual([]);

    const day8 = await converge(Date.now() + 8 * DAY);
    expect(kinds(day8, 'linus.torvalds@contoso.com').sort()).toEqual([
      'removeLicenses linus.torvalds@contoso.com',
      'removeMembers All Staff',
      'removeMembers Dept - Engineering',
      'removeMembers Engineering Guild',
    ]);

    const day31 = await converge(Date.now() + 31 * DAY);
    expect(kinds(day31, 'linus.torvalds@contoso.com')).toEqual([
      'deleteUser linus.torvalds@contoso.com',
    ]);
    const deleted = day31.changes.find(
      (c) =>
        c.kind === 'deleteUser' && subjectOf(c).userPrincipalName === 'linus.torvalds@contoso.com',
    );
    expect(deleted?.reason).toBe('grace-elapsed');
    deletedId = deleted && !isGroupChange(deleted) ? deleted.user.id : undefined;
  });

  it('returner within the recycle bin: the same account restored and re-enabled, never a second one', async () => {
    writeFileSync(csv, readFileSync(csv, 'utf8') + original.match(/^2010,.*\n/m)?.[0]);
    const back = await converge(Date.now() + 32 * DAY);
    const linus = kinds(back, 'linus.torvalds@contoso.com');
    expect(linus).toContain('restoreUser linus.torvalds@contoso.com');
    expect(linus).toContain('enableUser linus.torvalds@contoso.com');
    expect(linus).not.toContain('createUser linus.torvalds@contoso.com');
    expect(deletedId).toBeDefined();
    expect(back.changes.find((c) => c.kind === 'restoreUser')?.id).toBe(`restoreUser:${deletedId}`);
  });

  it('G9: a rule needing more EMS seats than the tenant has is blocked at plan time, with the count', async () => {
    const extra = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
      .map(
        (i) =>
          `30${i.toString().padStart(2, '0')},Temp,Worker${i},Sales,Temp,US,Contractor,2006,active`,
      )
      .join('\n');
    writeFileSync(csv, readFileSync(csv, 'utf8') + extra + '\n');
    const short = await plan(Date.now() + 33 * DAY);
    const ems = short.licenses?.find((l) => l.skuPartNumber === 'EMS');
    expect(ems?.shortfall).toBeGreaterThan(0);
    const blocked = short.blocked.filter((b) => b.code === 'license-shortfall');
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked[0]?.message).toMatch(/EMS has \d+ free seat\(s\)/);
    expect(blocked.every((b) => subjectOf(b.change).userPrincipalName === 'License - EMS')).toBe(
      true,
    );
  });
});

/**
 * P10 and A9 as a user meets them: `entrasync plan` and `apply` (test/helpers/cli.ts, the real CLI
 * entry in-process) against a standalone simulator whose fault plan fails every try of the first
 * session revoke (503 until the applier gives up: the disable commits, the revoke never does).
 * Time moves by faking `Date` only (the plan's clock, the apply's disable date and the
 * simulator's clock alike); timers stay real.
 */
describe('P10, A9: a mapping-disabled account over 31 days, and a lost revoke, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-offboarding-'));
  const SECRET_ENV = 'ENTRASYNC_OFFBOARDING_SECRET';
  const TOM = 'tom.jones@contoso.com';
  let sim: RunningSimulator;
  let config: string;
  // An hour ahead of the seed, so the seeded accounts' sessions are clearly older than the
  // disable date the apply records.
  const t0 = Date.now() + 3_600_000;

  beforeAll(async () => {
    const managed = (id: string, first: string) => ({
      userPrincipalName: `${first}.jones@contoso.com`,
      displayName: `${first} Jones`,
      mailNickname: `${first}.jones`,
      accountEnabled: true,
      employeeId: id,
      onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync' },
    });
    sim = await startSimulator({
      throttling: false,
      seed: { users: [managed('1', 'ada'), managed('2', 'tom')] },
      faultPlan: {
        seed: 17,
        faults: [
          {
            kind: 'status',
            status: 503,
            match: { method: 'POST', path: 'revokeSignInSessions$' },
            when: { times: 6 },
            description: 'A9: the revoke sent with the disable never commits',
          },
        ],
      },
    });
    const app = sim.clients[0]!;
    process.env[SECRET_ENV] = app.clientSecret;
    writeFileSync(join(dir, 'people.csv'), 'id,first,status\n1,ada,active\n2,tom,active\n');
    config = join(dir, 'entrasync.yaml');
    writeFileSync(
      config,
      `version: 1
${simTarget(sim, { secretEnv: SECRET_ENV, clientId: app.clientId })}
sources:
  hr: { kind: csv, path: people.csv, key: id }
users:
  anchor: id
  attributes:
    userPrincipalName: "first & '.jones@contoso.com'"
    displayName: "$uppercase($substring(first, 0, 1)) & $substring(first, 1) & ' Jones'"
    mailNickname: "first & '.jones'"
    accountEnabled: "status = 'active'"
  deprovision: { action: disable, removeAccessAfterDays: 7, deleteAfterDays: 30 }
groups:
  - { name: Everyone, key: everyone }
safety:
  minSourceRatio: 0
`,
    );
  });

  afterAll(async () => {
    vi.useRealTimers();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
    delete process.env[SECRET_ENV];
  });

  /** The CLI at `at`: `plan -f json` parsed, or `apply` with its exit code and output. */
  async function planAtTime(at: number): Promise<{ code: number; plan: Plan }> {
    vi.setSystemTime(at);
    const run = await cli('plan', '-c', config, '-f', 'json');
    return { code: run.code, plan: JSON.parse(run.stdout) as Plan };
  }
  async function applyAt(at: number) {
    vi.setSystemTime(at);
    return cli('apply', '--auto-approve', '-c', config);
  }
  const tom = () => sim.store.listUsers().find((u) => u['userPrincipalName'] === TOM);
  const labels = (p: Plan) => p.changes.map(label);

  it('P10, A9: revoked and dated at once (the revoke lost, then retried until done), access gone on day 8, deleted on day 31', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    // Both start in the group.
    expect((await applyAt(t0)).code).toBe(0);
    writeFileSync(join(dir, 'people.csv'), 'id,first,status\n1,ada,active\n2,tom,terminated\n');

    // Day 0: the mapping disables Tom, with a revoke and the date; access is kept for now.
    const day0 = await planAtTime(t0);
    expect(labels(day0.plan)).toEqual([`disableUser ${TOM}`]);
    expect(day0.plan.changes[0]).toMatchObject({
      reason: 'source-status',
      revokeSessions: true,
      stateAttribute: 'onPremisesExtensionAttributes.extensionAttribute14',
    });
    const disabled = await applyAt(t0);
    expect(disabled.code).toBe(1); // the revoke failed: 503 until the applier gave up
    expect(tom()?.['accountEnabled']).toBe(false);
    const recorded = (tom()?.['onPremisesExtensionAttributes'] as Record<string, string>)
      .extensionAttribute14;
    // Graph's time (A10), taken from a `Date` header: whole seconds.
    expect(Date.parse(recorded!)).toBeGreaterThanOrEqual(t0 - 1000);
    const before = String(tom()?.['signInSessionsValidFromDateTime']);
    expect(Date.parse(before)).toBeLessThan(t0);

    // A9: the next plan sees sessions valid since before the disable and revokes again.
    const retry = await planAtTime(t0 + 60_000);
    expect(labels(retry.plan)).toEqual([`revokeSessions ${TOM}`]);
    const text = await cli('plan', '-c', config);
    expect(text.stdout).toMatch(
      /- revoke sessions tom\.jones@contoso\.com .*\n.*before its disable at/,
    );
    expect((await applyAt(t0 + 60_000)).code).toBe(0);
    expect(Date.parse(String(tom()?.['signInSessionsValidFromDateTime']))).toBeGreaterThanOrEqual(
      Math.floor(Date.parse(recorded!) / 1000) * 1000,
    );
    expect((await planAtTime(t0 + 120_000)).code).toBe(0);

    // P10: within removeAccessAfterDays nothing more; after it the membership goes.
    expect((await planAtTime(t0 + 3 * DAY)).code).toBe(0);
    const day8 = await planAtTime(t0 + 8 * DAY);
    expect(labels(day8.plan)).toEqual(['removeMembers Everyone']);
    expect((await applyAt(t0 + 8 * DAY)).code).toBe(0);
    expect((await planAtTime(t0 + 9 * DAY)).code).toBe(0);

    // Day 31: deleted (to the recycle bin); Tom stays in HR as terminated and is not recreated.
    const day31 = await planAtTime(t0 + 31 * DAY);
    expect(labels(day31.plan)).toEqual([`deleteUser ${TOM}`]);
    expect(day31.plan.changes[0]?.reason).toBe('grace-elapsed');
    expect((await applyAt(t0 + 31 * DAY)).code).toBe(0);
    expect(tom()).toBeUndefined();
    const after = await planAtTime(t0 + 32 * DAY);
    expect([after.code, labels(after.plan)]).toEqual([0, []]);
  });
});
