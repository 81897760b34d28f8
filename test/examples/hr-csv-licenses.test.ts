/**
 * examples/hr-csv-licenses end to end against the embedded simulator (real Graph SDK over HTTPS):
 * validate -> plan -> apply -> re-plan is empty, through the `entrasync` command; then a second
 * HR export with a mover, a contractor made employee and a leaver, through the command again;
 * then the leaver's later offboarding stages with the plan's clock moved forward (7 and 30 days;
 * the CLI has no clock option, so those two runs use the CLI runtime directly, as
 * test/scenarios/lifecycle.test.ts does).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExampleCopy } from './helpers.js';
import {
  changesFor,
  convergeAt,
  copyExample,
  planAt,
  readTenant,
  planApplyReplan,
  validatePlanApplyReplan,
} from './helpers.js';

const DAY = 86_400_000;
const example: ExampleCopy = copyExample('hr-csv-licenses');
afterAll(() => example.remove());
const csv = join(example.dir, 'people.csv');

function editCsv(edit: (text: string) => string): void {
  const before = readFileSync(csv, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(csv, after);
}

describe('examples/hr-csv-licenses: joiners, movers and leavers from an HR export', () => {
  it('joiners: accounts, licenses by rule, group-based licensing, managers; re-plan is empty', async () => {
    const plan = await validatePlanApplyReplan(example);
    expect(plan.stdout).toContain('hr (csv): complete, 13 records');
    expect(plan.stdout).toContain('12 to create');
    // Seats are counted per SKU before anything is assigned.
    expect(plan.stdout).toContain('SPE_E3: 25 seats, 0 consumed, +9 -0 by this plan');
    expect(plan.stdout).toContain('EMS: 10 seats, 0 consumed, +3 -0 by this plan');
    expect(plan.stdout).toContain('POWER_BI_PRO: 5 seats, 0 consumed, +2 -0 by this plan');

    const tenant = readTenant(example);
    // Peter Novak is `terminated` in the first export: he never gets an account.
    expect(tenant.user('peter.novak@contoso.com')).toBeUndefined();
    // Names: accents folded, apostrophe dropped, the second James Smith disambiguated.
    expect(tenant.user('sofia.hernandez@contoso.com')).toMatchObject({
      displayName: 'Sofía Hernández',
      usageLocation: 'ES',
      employeeId: 'E1003',
    });
    expect(tenant.user('liam.obrien@contoso.com')?.['usageLocation']).toBe('IE');
    expect(tenant.user('hannah.muller@contoso.com')?.['usageLocation']).toBe('DE');
    expect(tenant.user('james.smith@contoso.com')?.['employeeId']).toBe('E1008');
    expect(tenant.user('james.smith.e1009@contoso.com')).toMatchObject({
      employeeId: 'E1009',
      employeeType: 'Contractor',
      companyName: 'Northwind Staffing',
    });

    // Licenses by rule: E3 for employees, EMS without RMS_S_PREMIUM for contractors, Power BI Pro
    // for Finance through the license group.
    expect(tenant.licensesOf('noah.schmidt@contoso.com')).toEqual(['SPE_E3']);
    expect(tenant.licensesOf('aarav.patel@contoso.com')).toEqual(['EMS']);
    expect(tenant.disabledPlansOf('aarav.patel@contoso.com', 'EMS')).toEqual(['RMS_S_PREMIUM']);
    expect(tenant.licensesOf('mia.johansson@contoso.com')).toEqual(['POWER_BI_PRO', 'SPE_E3']);
    expect(tenant.licensesOf('chloe.martin@contoso.com')).toEqual(['EMS', 'POWER_BI_PRO']);
    expect(tenant.members('entrasync-license-power-bi-pro')).toEqual([
      'chloe.martin@contoso.com',
      'mia.johansson@contoso.com',
    ]);

    // Managers by employee id.
    expect(tenant.managerOf('sofia.hernandez@contoso.com')).toBe('liam.obrien@contoso.com');
    expect(tenant.managerOf('liam.obrien@contoso.com')).toBe('olivia.bennett@contoso.com');
    expect(tenant.managerOf('olivia.bennett@contoso.com')).toBeUndefined();

    expect(tenant.groupsOf('chloe.martin@contoso.com')).toEqual([
      'All Contractors',
      'Dept - Finance',
      'License - POWER_BI_PRO',
    ]);
    expect(tenant.groupsOf('noah.schmidt@contoso.com')).toEqual([
      'All Employees',
      'Dept - Engineering',
    ]);
  });

  it('mover + leaver: a move to Finance brings Power BI, a conversion trades EMS for E3, a leaver is disabled with access kept', async () => {
    editCsv((text) =>
      text
        // Mover: Lucas moves from Sales to Finance, with a new manager.
        .replace(
          'E1006,Lucas,Rossi,Sales,Account Executive,IT,Employee,,E1005,active',
          'E1006,Lucas,Rossi,Finance,Financial Analyst,IT,Employee,,E1007,active',
        )
        // Conversion: the contractor Aarav is hired as an employee.
        .replace(
          'E1011,Aarav,Patel,Engineering,QA Engineer,IN,Contractor,Northwind Staffing,E1002,active',
          'E1011,Aarav,Patel,Engineering,QA Engineer,IN,Employee,,E1002,active',
        )
        // Leaver: Noah is terminated.
        .replace(
          'E1004,Noah,Schmidt,Engineering,Software Engineer,DE,Employee,,E1002,active',
          'E1004,Noah,Schmidt,Engineering,Software Engineer,DE,Employee,,E1002,terminated',
        ),
    );
    // The saved plan is read after the apply (it does not change), and checked as reviewed.
    const { planFile } = await planApplyReplan(example, 'round2.json');
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as Parameters<typeof changesFor>[0];

    expect(changesFor(saved, 'lucas.rossi@contoso.com')).toEqual([
      'addMembers Dept - Finance',
      'addMembers License - POWER_BI_PRO',
      'removeMembers Dept - Sales',
      'setManager lucas.rossi@contoso.com',
      'updateUser lucas.rossi@contoso.com',
    ]);
    expect(changesFor(saved, 'aarav.patel@contoso.com')).toEqual([
      'addMembers All Employees',
      'assignLicenses aarav.patel@contoso.com',
      'removeLicenses aarav.patel@contoso.com',
      'removeMembers All Contractors',
      'updateUser aarav.patel@contoso.com',
    ]);
    // Day 0 of the leaver: only the disable (sessions revoked); groups and licenses stay 7 days.
    expect(changesFor(saved, 'noah.schmidt@contoso.com')).toEqual([
      'disableUser noah.schmidt@contoso.com',
    ]);
    expect(saved.changes.find((c) => c.kind === 'disableUser')).toMatchObject({
      reason: 'left-scope',
      revokeSessions: true,
    });

    const tenant = readTenant(example);
    expect(tenant.user('lucas.rossi@contoso.com')).toMatchObject({
      department: 'Finance',
      jobTitle: 'Financial Analyst',
    });
    expect(tenant.managerOf('lucas.rossi@contoso.com')).toBe('mia.johansson@contoso.com');
    expect(tenant.licensesOf('lucas.rossi@contoso.com')).toEqual(['POWER_BI_PRO', 'SPE_E3']);
    expect(tenant.licensesOf('aarav.patel@contoso.com')).toEqual(['SPE_E3']);
    expect(tenant.disabledPlansOf('aarav.patel@contoso.com', 'SPE_E3')).toEqual([]);
    expect(tenant.user('noah.schmidt@contoso.com')?.['accountEnabled']).toBe(false);
    expect(tenant.licensesOf('noah.schmidt@contoso.com')).toEqual(['SPE_E3']);
    expect(tenant.groupsOf('noah.schmidt@contoso.com')).toEqual([
      'All Employees',
      'Dept - Engineering',
    ]);
  });

  it('staged offboarding: nothing more within 7 days, access removed after 7, deleted after 30', async () => {
    const now = Date.now();
    expect(
      changesFor(await planAt(example.config, now + 3 * DAY), 'noah.schmidt@contoso.com'),
    ).toEqual([]);

    const day8 = await convergeAt(example.config, now + 8 * DAY);
    expect(changesFor(day8, 'noah.schmidt@contoso.com')).toEqual([
      'removeLicenses noah.schmidt@contoso.com',
      'removeMembers All Employees',
      'removeMembers Dept - Engineering',
    ]);
    let tenant = readTenant(example);
    expect(tenant.licensesOf('noah.schmidt@contoso.com')).toEqual([]);
    expect(tenant.groupsOf('noah.schmidt@contoso.com')).toEqual([]);
    expect(tenant.user('noah.schmidt@contoso.com')?.['accountEnabled']).toBe(false);

    const day31 = await convergeAt(example.config, now + 31 * DAY);
    expect(changesFor(day31, 'noah.schmidt@contoso.com')).toEqual([
      'deleteUser noah.schmidt@contoso.com',
    ]);
    expect(day31.changes.find((c) => c.kind === 'deleteUser')?.reason).toBe('grace-elapsed');
    tenant = readTenant(example);
    expect(tenant.user('noah.schmidt@contoso.com')).toBeUndefined();
    // Everyone else is untouched by the stages.
    expect(tenant.user('lucas.rossi@contoso.com')?.['accountEnabled']).toBe(true);
  });
});
