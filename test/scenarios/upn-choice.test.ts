/**
 * A UPN is chosen once (issue 17, class 5), end to end: the real `entrasync` command (in-process,
 * the embedded simulator over HTTPS, the real Graph SDK). Between runs the tenant is changed
 * behind entrasync's back, as an admin would: an account takes a person's UPN as its mail, the
 * holder of an earlier candidate goes away, a leaver's UPN is given to a new account. Each run is
 * plan -> apply -> re-plan, and the re-plan is empty (A4).
 *
 * P13: an existing account's UPN is never changed because a candidate became free or was taken as
 * mail. P15: a returning leaver whose old UPN was taken is restored under a new unique UPN.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../engine/model/plan.js';
import { openTenantStore } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'entrasync-upn-choice-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const config = join(work, 'entrasync.yaml');
const csv = join(work, 'hr.csv');
const state = join(work, '.entrasync', 'tenant.db');

writeFileSync(
  config,
  `version: 1
target:
  auth:
    method: simulator
  simulator:
    state: .entrasync/tenant.db
    seed: tenant.json
sources:
  hr:
    kind: csv
    path: hr.csv
    key: id
users:
  anchor: id
  match: [anchor]
  attributes:
    userPrincipalName: >-
      $selectUnique([
        $lowercase(first & '.' & last),
        $lowercase(first & '.' & last) & '2',
        $lowercase(first & '.' & last) & '3'
      ], 'contoso.com')
    displayName: "first & ' ' & last"
  deprovision:
    action: delete
safety:
  minSourceRatio: 0
  maxDeletes: { count: 10, percent: 100 }
`,
);
// An unmanaged account already holds john.smith@: John gets john.smith2@.
writeFileSync(
  join(work, 'tenant.json'),
  JSON.stringify({
    users: [
      {
        id: '0b000000-0000-4000-8000-000000000001',
        userPrincipalName: 'john.smith@contoso.com',
        displayName: 'John Smith (contractor)',
        mailNickname: 'john.smith',
        accountEnabled: true,
      },
    ],
  }),
);

const people = {
  sam: '1,Sam,Lee',
  john: '2,John,Smith',
  lee: '3,Lee,Leaver',
};
function sources(...rows: string[]): void {
  writeFileSync(csv, ['id,first,last', ...rows].join('\n') + '\n');
}

/** plan --out (changes, exit 2) -> apply it (all applied) -> plan (empty, exit 0). */
async function planApplyReplan(name: string): Promise<Plan> {
  const planFile = join(work, `${name}.json`);
  const plan = await cli('plan', '--config', config, '--out', planFile);
  expect(plan.stderr).not.toMatch(/error/i);
  expect(plan.code).toBe(2);
  const apply = await cli('apply', planFile, '--config', config);
  expect(apply.stdout).toMatch(/ 0 failed, 0 skipped, 0 not run\./);
  expect(apply.code).toBe(0);
  await expectNoChanges();
  return JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
}

async function expectNoChanges(): Promise<void> {
  const again = await cli('plan', '--config', config);
  expect(again.stdout).toContain('no changes. The tenant matches the configuration.');
  expect(again.code).toBe(0);
}

function tenant<T>(use: (store: ReturnType<typeof openTenantStore>) => T): T {
  const store = openTenantStore(state);
  try {
    return use(store);
  } finally {
    store.close();
  }
}

const upnOf = (employeeId: string) =>
  tenant((s) => s.listUsers().find((u) => u['employeeId'] === employeeId)?.userPrincipalName);

describe('a UPN is chosen once, through the CLI against the simulator', () => {
  it('joiners get the first free candidates', async () => {
    sources(people.sam, people.john, people.lee);
    await planApplyReplan('joiners');
    expect([upnOf('1'), upnOf('2'), upnOf('3')]).toEqual([
      'sam.lee@contoso.com',
      'john.smith2@contoso.com',
      'lee.leaver@contoso.com',
    ]);
  });

  it('P13: an account taking sam.lee@ as mail, and the holder of john.smith@ leaving, rename nobody', async () => {
    tenant((s) => {
      const ok = s.insertUser({
        id: '0b000000-0000-4000-8000-000000000002',
        userPrincipalName: 'samuel.leeds@contoso.com',
        displayName: 'Samuel Leeds',
        mailNickname: 'samuel.leeds',
        accountEnabled: true,
        mail: 'Sam.Lee@contoso.com',
        proxyAddresses: ['SMTP:Sam.Lee@contoso.com', 'smtp:sam.lee2@contoso.com'],
      });
      expect(ok).toEqual({ ok: true });
      s.purge('0b000000-0000-4000-8000-000000000001', Date.now());
    });
    await expectNoChanges();
    expect([upnOf('1'), upnOf('2')]).toEqual(['sam.lee@contoso.com', 'john.smith2@contoso.com']);
  });

  it('P15: a leaver is deleted, their UPN is given to a new account, and on return they are restored under a new unique UPN', async () => {
    sources(people.sam, people.john);
    const left = await planApplyReplan('leaver');
    expect(left.changes.map((c) => c.kind)).toEqual(['deleteUser']);
    tenant((s) => {
      expect(
        s.insertUser({
          id: '0b000000-0000-4000-8000-000000000003',
          userPrincipalName: 'lee.leaver@contoso.com',
          displayName: 'Lee Leaver (new)',
          mailNickname: 'lee.leaver',
          accountEnabled: true,
        }),
      ).toEqual({ ok: true });
    });
    sources(people.sam, people.john, people.lee);
    const back = await planApplyReplan('returner');
    expect(back.changes.find((c) => c.kind === 'restoreUser')).toMatchObject({
      newUserPrincipalName: 'lee.leaver2@contoso.com',
    });
    expect(back.changes.some((c) => c.kind === 'createUser')).toBe(false);
    expect(upnOf('3')).toBe('lee.leaver2@contoso.com');
  });
});
