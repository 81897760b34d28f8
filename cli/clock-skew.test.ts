/**
 * A local clock skewed against Microsoft Graph's, as a user meets it (issue 17, class 3): the
 * real CLI, the real CSV source and the embedded simulator through the real Graph SDK, with
 * the simulated tenant's clock a day behind the local one (`target.simulator.clockOffset`), so
 * the local clock reads one day ahead of Graph's `Date` header.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../engine/model/plan.js';
import { openTenantStore } from '../simulator/index.js';
import { cli as run } from '../test/helpers/cli.js';

const DAY = 86_400_000;
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

const seedUser = (first: string, last: string, id: string, extra: Record<string, unknown>) => ({
  userPrincipalName: `${first.toLowerCase()}.${last.toLowerCase()}@contoso.com`,
  displayName: `${first} ${last}`,
  mailNickname: `${first.toLowerCase()}.${last.toLowerCase()}`,
  employeeId: id,
  accountEnabled: true,
  ...extra,
  onPremisesExtensionAttributes: {
    extensionAttribute15: 'entrasync:hr',
    ...(extra.onPremisesExtensionAttributes as object | undefined),
  },
});

/**
 * A tenant where Lee left and was disabled `disabledDaysAgo` (29.5) days ago by Graph's clock
 * (30.5 by a local clock one day ahead; deleteAfterDays 30), Bob left today and is still enabled, Ada stays and
 * Nia is a new hire. `clockOffset`: the simulated tenant's clock against the local one.
 */
function workspace(
  clockOffset: string | undefined,
  disabledDaysAgo = 29.5,
): { config: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-clock-'));
  temps.push(dir);
  const graphNow = Date.now() - (clockOffset === '-1d' ? DAY : 0);
  const disabledAt = new Date(graphNow - disabledDaysAgo * DAY).toISOString();
  writeFileSync(
    join(dir, 'seed.json'),
    JSON.stringify({
      users: [
        seedUser('Ada', 'Lovelace', '1', {}),
        seedUser('Lee', 'Leaver', '2', {
          accountEnabled: false,
          onPremisesExtensionAttributes: { extensionAttribute14: disabledAt },
        }),
        seedUser('Bob', 'Gone', '3', {}),
      ],
    }),
  );
  writeFileSync(
    join(dir, 'employees.csv'),
    'employee_id,first_name,last_name,status\n1,Ada,Lovelace,active\n4,Nia,New,active\n',
  );
  const config = join(dir, 'entrasync.yaml');
  writeFileSync(
    config,
    `version: 1
target:
  auth: { method: simulator }
  simulator: { state: tenant.db, seed: seed.json${clockOffset ? `, clockOffset: "${clockOffset}"` : ''} }
sources:
  hr: { kind: csv, path: employees.csv, key: employee_id }
users:
  anchor: employee_id
  anchorAttribute: employeeId
  attributes:
    userPrincipalName: "$lowercase(first_name & '.' & last_name) & '@contoso.com'"
    displayName: "first_name & ' ' & last_name"
    mailNickname: "$lowercase(first_name & '.' & last_name)"
    accountEnabled: "status = 'active'"
  deprovision: { action: disable, removeAccessAfterDays: 7, deleteAfterDays: 30 }
safety:
  minSourceRatio: 0
`,
  );
  return { config, state: join(dir, 'tenant.db') };
}

const summary = (p: Plan) =>
  p.changes.map((c) => `${c.kind} ${'user' in c ? c.user.userPrincipalName : ''}`);

function stored(state: string, upn: string): Record<string, unknown> | undefined {
  const store = openTenantStore(state);
  try {
    return store.getUserByUpn(upn)?.user as Record<string, unknown> | undefined;
  } finally {
    store.close();
  }
}

describe('a local clock skewed against Graph (safety.maxClockSkew)', () => {
  it('A7 control: with the clocks agreeing, a leaver 30.5 days past the disable is deleted', async () => {
    const { config } = workspace(undefined, 30.5);
    const planned = await run('plan', '--config', config, '-f', 'json');
    expect(planned.code).toBe(2);
    expect(summary(JSON.parse(planned.stdout) as Plan)).toContain(
      'deleteUser lee.leaver@contoso.com',
    );
  });

  it('A7: the local clock one day ahead of the Date header: the delete is refused with an error (exit 1), the rest is planned and applied', async () => {
    const { config, state } = workspace('-1d');
    const planned = await run('plan', '--config', config, '-f', 'json');
    expect(planned.code).toBe(1);
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(summary(plan)).toEqual([
      'createUser nia.new@contoso.com',
      'disableUser bob.gone@contoso.com',
    ]);
    expect(plan.issues).toEqual([
      expect.objectContaining({ severity: 'error', code: 'clock.skew' }),
    ]);
    expect(planned.stderr).toMatch(
      /error: the local clock .* is 1d ahead of Microsoft Graph's \(Date header .*\), past safety\.maxClockSkew 5m: .*deletes after deleteAfterDays are not planned \(1 leaver\(s\) keep their current stage: lee\.leaver@contoso\.com\)/,
    );

    // A10: apply does the rest; the disable date it records is Graph's time, a day behind.
    const applied = await run('apply', '--auto-approve', '--config', config);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('past safety.maxClockSkew 5m');
    expect(stored(state, 'nia.new@contoso.com')).toBeDefined();
    expect(stored(state, 'lee.leaver@contoso.com')).toBeDefined();
    const bob = stored(state, 'bob.gone@contoso.com') as {
      accountEnabled: boolean;
      onPremisesExtensionAttributes: { extensionAttribute14: string };
    };
    expect(bob.accountEnabled).toBe(false);
    const recorded = Date.parse(bob.onPremisesExtensionAttributes.extensionAttribute14);
    expect(Math.abs(recorded - (Date.now() - DAY))).toBeLessThan(5 * 60_000);
  });

  it('A7: safety.maxClockSkew 2d lets the same skew pass, and the grace period counts in Graph time (29.5 days: no delete yet)', async () => {
    const { config } = workspace('-1d');
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(
        'minSourceRatio: 0',
        'minSourceRatio: 0\n  maxClockSkew: 2d',
      ),
    );
    const planned = await run('plan', '--config', config, '-f', 'json');
    expect(planned.code).toBe(2);
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(plan.issues).toEqual([]);
    expect(summary(plan)).not.toContain('deleteUser lee.leaver@contoso.com');
  });
});
