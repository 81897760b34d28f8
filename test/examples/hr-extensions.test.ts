/**
 * examples/hr-extensions end to end against the embedded simulator (real Graph SDK over HTTPS),
 * through the `entrasync` command: directory extensions discovered from the application's
 * `extensionProperties` at plan time and typed by their dataType, employeeOrgData by subfield,
 * otherMails as a set and ageGroup by Graph's allowed values are created, then changed with one
 * PATCH each, and every apply is followed by an empty re-plan. An extension the application
 * does not have is a plan error that names the ones it has.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTenantStore } from '../../simulator/index.js';
import type { ExampleCopy } from './helpers.js';
import {
  cli,
  copyExample,
  planApplyReplan,
  readTenant,
  validatePlanApplyReplan,
} from './helpers.js';

const APP = '6a1e0c7b3f2d4d5e9b8a1c2d3e4f5a6b';
const ext = (name: string) => `extension_${APP}_${name}`;

const example: ExampleCopy = copyExample('hr-extensions');
afterAll(() => example.remove());

/** The modified properties of each "Update user" audit entry for this account, oldest first. */
function updatesOf(upn: string): string[][] {
  const store = openTenantStore(join(example.dir, '.entrasync', 'tenant.db'));
  try {
    return store
      .pageAudits({ limit: 999 })
      .map(
        (a) => a.doc as unknown as { activityDisplayName: string; targetResources: AuditTarget[] },
      )
      .filter(
        (d) =>
          d.activityDisplayName === 'Update user' &&
          d.targetResources[0]?.userPrincipalName === upn,
      )
      .reverse()
      .map((d) =>
        (d.targetResources[0]?.modifiedProperties ?? []).map((m) => m.displayName).sort(),
      );
  } finally {
    store.close();
  }
}

interface AuditTarget {
  userPrincipalName?: string;
  modifiedProperties?: { displayName: string }[];
}

function edit(file: string, change: (text: string) => string): void {
  const path = join(example.dir, file);
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
}

describe('examples/hr-extensions: directory extensions and the rest of the user', () => {
  it('U-EXT1 creates users with typed extension values, employeeOrgData, otherMails and ageGroup; re-plan is empty', async () => {
    const plan = await validatePlanApplyReplan(example);
    expect(plan.stdout).toContain('3 to create');

    const ines = readTenant(example).user('ines.duarte@contoso.com');
    expect(ines).toMatchObject({
      employeeOrgData: { costCenter: 'CC-410', division: 'Engineering' },
      otherMails: ['ines@duarte.example', 'ines.d@home.example'],
      ageGroup: 'Adult',
      [ext('badgeNumber')]: 71001,
      [ext('securityClearance')]: true,
      [ext('startDate')]: '2024-03-01T00:00:00Z',
    });
    const lena = readTenant(example).user('lena.vogel@contoso.com');
    expect(lena?.['ageGroup']).toBe('NotAdult');
    expect(lena?.[ext('securityClearance')]).toBe(false);
  });

  it('U-EXT2 changes one subfield, reorders a set and changes an extension: one update each, then an empty plan', async () => {
    edit('people.csv', (t) =>
      t
        // Kofi moves cost center (division kept); Ines's other mails only change order.
        .replace('E2002,Kofi,Mensah,CC-220', 'E2002,Kofi,Mensah,CC-230')
        .replace(
          'ines@duarte.example;ines.d@home.example',
          'ines.d@home.example;ines@duarte.example',
        )
        // Lena gets a new badge and her clearance.
        .replace('71003,false', '71009,true'),
    );
    const { plan, planFile } = await planApplyReplan(example, 'plan-2.json');
    expect(plan.stdout).toContain('2 to update');
    // The plan shows each changed value, typed: a number and a boolean, not their text.
    expect(plan.stdout).toContain('employeeOrgData.costCenter: "CC-220" -> "CC-230"');
    expect(plan.stdout).toContain(`${ext('badgeNumber')}: 71003 -> 71009`);
    expect(plan.stdout).toContain(`${ext('securityClearance')}: false -> true`);
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as {
      changes: {
        kind: string;
        user?: { userPrincipalName: string };
        set?: { attribute: string; before: unknown; after: unknown }[];
      }[];
    };
    const updates = saved.changes.filter((c) => c.kind === 'updateUser');
    expect(updates.map((c) => [c.user?.userPrincipalName, c.set?.map((s) => s.attribute)])).toEqual(
      [
        ['kofi.mensah@contoso.com', ['employeeOrgData.costCenter']],
        ['lena.vogel@contoso.com', [ext('badgeNumber'), ext('securityClearance')]],
      ],
    );
    // Typed before and after: numbers and booleans, not their text.
    expect(updates[1]?.set).toEqual([
      { attribute: ext('badgeNumber'), before: 71003, after: 71009 },
      { attribute: ext('securityClearance'), before: false, after: true },
    ]);

    const tenant = readTenant(example);
    expect(tenant.user('kofi.mensah@contoso.com')?.['employeeOrgData']).toEqual({
      costCenter: 'CC-230',
      division: 'Finance',
    });
    expect(tenant.user('lena.vogel@contoso.com')).toMatchObject({
      [ext('badgeNumber')]: 71009,
      [ext('securityClearance')]: true,
    });
    // Both extension values went in one PATCH: one "Update user" entry in the directory audit
    // log since the first apply, naming both.
    expect(updatesOf('lena.vogel@contoso.com')).toEqual([
      [ext('badgeNumber'), ext('securityClearance')],
    ]);
  });

  it('U-EXT3 an extension the application does not have is a plan error naming the ones it has', async () => {
    edit('entrasync.yaml', (t) =>
      t.replace(`${ext('startDate')}: start_date`, `${ext('startDay')}: start_date`),
    );
    const plan = await cli('plan', '--config', example.config);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain(`\`${ext('startDay')}\` is not a directory extension`);
    expect(plan.stderr).toContain(
      `the tenant has \`${ext('badgeNumber')}\`, \`${ext('securityClearance')}\`, \`${ext('startDate')}\``,
    );
  });

  it('U-EXT4 a value Graph would refuse holds the person at plan time: ageGroup outside the allowed values', async () => {
    edit('entrasync.yaml', (t) =>
      t.replace(`${ext('startDay')}: start_date`, `${ext('startDate')}: start_date`),
    );
    edit('people.csv', (t) => t.replace(',Adult\n', ',Grown-up\n'));
    const plan = await cli('plan', '--config', example.config);
    expect(plan.stdout + plan.stderr).toContain(
      'ageGroup must be one of `Minor`, `NotAdult`, `Adult`, got "Grown-up"',
    );
    expect(readTenant(example).user('kofi.mensah@contoso.com')?.['ageGroup']).toBe('Adult');
  });
});
