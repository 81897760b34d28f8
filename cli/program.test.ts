/**
 * The CLI as a user runs it: real config files, the real CSV source, the embedded simulator over
 * HTTPS through the real Graph SDK and @azure/identity. Asserts exit codes and what is printed,
 * and reads the simulated tenant's state directly to prove what was (not) written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openTenantStore } from '../simulator/index.js';
import { cli as run } from '../test/helpers/cli.js';
import { exampleWorkspace, removeWorkspaces } from '../test/helpers/workspace.js';

afterAll(removeWorkspaces);

let work: string;
let config: string;
beforeEach(() => {
  ({ work, config } = exampleWorkspace('quickstart', 'entrasync-cli-'));
});

function tenantUsers() {
  const store = openTenantStore(join(work, '.entrasync', 'tenant.db'));
  try {
    return store.listUsers();
  } finally {
    store.close();
  }
}

function editCsv(edit: (lines: string[]) => void) {
  const path = join(work, 'employees.csv');
  const lines = readFileSync(path, 'utf8').split('\n');
  edit(lines);
  writeFileSync(path, lines.join('\n'));
}

describe('entrasync CLI', () => {
  it('validate needs no secrets and no network, and exits 0', async () => {
    const r = await run('validate', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid (1 source(s), 9 mapped attribute(s))');
  });

  it('plan exits 2, apply of the saved plan exits 0, re-plan exits 0 with no changes (A4)', async () => {
    const planFile = join(work, 'plan.json');
    const plan = await run('plan', '--config', config, '--out', planFile);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('4 to create, 2 to update, 4 to disable.');
    expect(JSON.parse(readFileSync(planFile, 'utf8'))).toMatchObject({ formatVersion: 1 });

    const apply = await run('apply', planFile, '--config', config);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Applying 10 change(s)...');
    expect(apply.stdout).toContain('10 applied, 0 failed');

    const again = await run('plan', '--config', config);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no changes');

    const twice = await run('apply', '--auto-approve', '--config', config);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain('Nothing to apply.');
  });

  it('A2: a saved plan is refused once the tenant moved (applying an empty-tenant plan twice)', async () => {
    const planFile = join(work, 'plan.json');
    expect((await run('plan', '--config', config, '--out', planFile)).code).toBe(2);
    expect((await run('apply', planFile, '--config', config)).code).toBe(0);
    const before = tenantUsers();
    const second = await run('apply', planFile, '--config', config);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('plan.stale');
    // Refused before any write, so it never said it was applying.
    expect(second.stdout).not.toContain('Applying');
    expect(tenantUsers()).toEqual(before);
  });

  it('plan --format json prints the plan as JSON', async () => {
    const r = await run('plan', '--config', config, '--format', 'json');
    expect(r.code).toBe(2);
    const plan = JSON.parse(r.stdout) as { changes: unknown[]; formatVersion: number };
    expect(plan.formatVersion).toBe(1);
    expect(plan.changes).toHaveLength(10);
  });

  it('P1: accounts without the marker are never touched, and are listed as left alone', async () => {
    await run('plan', '--config', config); // creates the tenant from the seed
    const unmanaged = () =>
      tenantUsers().filter(
        (u) =>
          !(u.onPremisesExtensionAttributes as Record<string, unknown> | undefined)
            ?.extensionAttribute15,
      );
    const before = unmanaged();
    expect(before.map((u) => u.userPrincipalName).sort()).toEqual([
      'breakglass@contoso.onmicrosoft.com',
      'it.admin@contoso.com',
    ]);
    const r = await run('apply', '--auto-approve', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('breakglass@contoso.onmicrosoft.com (unmanaged)');
    expect(unmanaged()).toEqual(before);
  });

  it('S7: an unclosed quote at row 42 fails the source with file:line:col; nobody is disabled (exit 1)', async () => {
    editCsv((lines) => {
      lines[42] = lines[42]!.replace(',Sales,', ',"Sales,');
      lines[42] = lines[42]!.replace(',Engineering,', ',"Engineering,');
      lines[42] = lines[42]!.replace(',Finance,', ',"Finance,');
      lines[42] = lines[42]!.replace(',Marketing,', ',"Marketing,');
      lines[42] = lines[42]!.replace(',People,', ',"People,');
      lines[42] = lines[42]!.replace(',Support,', ',"Support,');
    });
    const plan = await run('plan', '--config', config);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/employees\.csv:43:\d+/);
    expect(plan.stdout).toContain('hr (csv): failed');
    expect(plan.stdout).toContain('Held (51) - not applied; everything else applies');
    expect(plan.stdout).toContain('nothing to apply; 51 held.');

    const before = tenantUsers();
    const apply = await run('apply', '--auto-approve', '--config', config);
    expect(apply.code).toBe(1);
    expect(tenantUsers()).toEqual(before);
  });

  it('S9: a renamed header fails the config check before planning, with did-you-mean and position', async () => {
    editCsv((lines) => {
      lines[0] = lines[0]!.replace('status', 'Status');
    });
    const r = await run('plan', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /entrasync\.yaml:\d+:\d+: field `status` not present in source `hr` \(did you mean `Status`\?\)/,
    );
    expect(r.stdout).toBe('');
  });

  it('exit 3: an incomplete source holds every disable; the new hires are created (issue 20)', async () => {
    editCsv((lines) => {
      lines[5] = lines[5]!.replace(/^\d+,/, ',');
    });
    const plan = await run('plan', '--config', config);
    expect(plan.code).toBe(3);
    expect(plan.stdout).toContain('hr (csv): incomplete');
    expect(plan.stdout).toMatch(/Held \(5\) - not applied; everything else applies/);
    expect(plan.stdout).toContain('source "hr" is incomplete');

    const before = tenantUsers();
    const apply = await run('apply', '--auto-approve', '--config', config);
    expect(apply.code).toBe(3);
    expect(apply.stdout).toMatch(/5 change\(s\) held, not applied\. Held: 5 source-unhealthy;/);
    const after = tenantUsers();
    for (const user of before) {
      const now = after.find((u) => u.id === user.id);
      expect(now?.['accountEnabled'], String(user.userPrincipalName)).toBe(user['accountEnabled']);
    }
    expect(after).toHaveLength(before.length + 4);
    // Re-planned after the apply: only the held part is left.
    const again = await run('plan', '--config', config);
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(/: nothing to apply; 5 held\./);
  });

  it('M6: an unset or empty secret variable fails naming the variable, never a value, before connecting', async () => {
    const secretConfig = readFileSync(config, 'utf8').replace(
      /target:\n(?: {2}.*\n| {4}.*\n)+/,
      [
        'target:',
        '  auth:',
        '    method: secret',
        '    clientSecret: ${env:ENTRASYNC_TEST_CLIENT_SECRET}',
        '  tenantId: 00000000-0000-0000-0000-000000000001',
        '  clientId: 00000000-0000-0000-0000-000000000002',
        '',
      ].join('\n'),
    );
    writeFileSync(config, secretConfig);
    expect((await run('validate', '--config', config)).code).toBe(0);

    const canary = 'canary-value-4f1d9b';
    process.env.ENTRASYNC_TEST_OTHER = canary;
    for (const value of [undefined, '']) {
      if (value === undefined) delete process.env.ENTRASYNC_TEST_CLIENT_SECRET;
      else process.env.ENTRASYNC_TEST_CLIENT_SECRET = value;
      const r = await run('plan', '--config', config);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ENTRASYNC_TEST_CLIENT_SECRET');
      expect(r.stderr + r.stdout).not.toContain(canary);
    }
    delete process.env.ENTRASYNC_TEST_CLIENT_SECRET;
    delete process.env.ENTRASYNC_TEST_OTHER;
  });

  it('reports config errors with file:line:col and exits 1', async () => {
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('anchor: employee_id', 'anchr: employee_id'),
    );
    const r = await run('validate', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/entrasync\.yaml:\d+:\d+: .*anchr.*did you mean `anchor`/);
  });
});
