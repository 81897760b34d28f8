/**
 * Hold the unsafe, apply the rest (issue 20), end to end through the `entrasync` command, the
 * real CSV source and the embedded simulator, on the hr-csv-licenses example (creates with
 * managers, group memberships, direct and group-based licenses):
 *
 * - H4: one SKU short of seats holds only that SKU's assignments; every new hire is created,
 *   with their groups and other licenses;
 * - H5: creates that need approval are held with everything that depends on them (memberships,
 *   licenses, managers), never reaching Graph; everything else applies; the re-plan holds only
 *   that part, and approving the held part's fingerprint releases it;
 * - H6: `safety.onBlocked: hold-plan` applies nothing of a plan that holds anything;
 * - H7: `users.create: false` manages existing accounts and creates nobody, listing who is not
 *   provisioned.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { Plan } from '../../engine/model/plan.js';
import { openTenantStore } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';
import { exampleWorkspace, removeWorkspaces } from '../helpers/workspace.js';

afterAll(removeWorkspaces);

let work: string;
let config: string;
beforeEach(() => {
  ({ work, config } = exampleWorkspace('hr-csv-licenses', 'entrasync-holds-'));
});

function editConfig(edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(config, 'utf8'));
  edit(doc);
  writeFileSync(config, doc.toString());
}

async function planJson(): Promise<{ code: number | null; plan: Plan }> {
  const r = await cli('plan', '--config', config, '--format', 'json');
  return { code: r.code, plan: JSON.parse(r.stdout) as Plan };
}

function tenant() {
  const store = openTenantStore(join(work, '.entrasync', 'tenant.db'));
  try {
    return store.listUsers();
  } finally {
    store.close();
  }
}

const kinds = (changes: readonly { kind: string }[]) => [...new Set(changes.map((c) => c.kind))];

describe('hold the unsafe, apply the rest (issue 20)', () => {
  it('H4: an E3 seat shortfall holds only the E3 assignments; every new hire is created with groups, EMS and managers', async () => {
    const seeded = JSON.parse(readFileSync(join(work, 'tenant.json'), 'utf8')) as {
      subscribedSkus: { skuPartNumber: string; prepaidUnits: { enabled: number } }[];
    };
    seeded.subscribedSkus.find((s) => s.skuPartNumber === 'SPE_E3')!.prepaidUnits.enabled = 2;
    writeFileSync(join(work, 'tenant.json'), JSON.stringify(seeded));

    const { code, plan } = await planJson();
    expect(code).toBe(3);
    expect(new Set(plan.blocked.map((b) => b.code))).toEqual(new Set(['license-shortfall']));
    expect(kinds(plan.blocked.map((b) => b.change))).toEqual(['assignLicenses']);
    const creates = plan.changes.filter((c) => c.kind === 'createUser').length;
    expect(creates).toBeGreaterThan(5);

    const apply = await cli('apply', '--auto-approve', '--config', config);
    expect(apply.code).toBe(3);
    expect(apply.stdout).toMatch(/change\(s\) held, not applied\. Held: \d+ license-shortfall;/);
    expect(apply.stdout).toMatch(/each is released when its reason is resolved/);
    expect(apply.stdout).not.toMatch(/\bfailed\b.*[1-9]/);
    const accounts = tenant();
    expect(accounts.filter((u) => u['employeeId'] !== undefined).length).toBeGreaterThanOrEqual(
      creates,
    );

    const again = await planJson();
    expect(again.code).toBe(3);
    expect(again.plan.changes).toEqual([]);
    expect(kinds(again.plan.blocked.map((b) => b.change))).toEqual(['assignLicenses']);
  });

  it('H5: held creates hold their memberships, licenses and managers, which never reach Graph; the rest applies; approving the held part releases it', async () => {
    editConfig((doc) => doc.setIn(['safety', 'requireApproval'], ['creates']));
    const { code, plan } = await planJson();
    expect(code).toBe(3);
    const heldKinds = kinds(plan.blocked.map((b) => b.change)).sort();
    expect(heldKinds).toEqual(
      expect.arrayContaining(['addMembers', 'assignLicenses', 'createUser', 'setManager']),
    );
    expect(plan.changes.some((c) => c.kind === 'createGroup')).toBe(true);
    const release = plan.releaseFingerprint!.slice(0, 12);
    expect(plan.blocked[0]?.message).toContain(`plans: [${release}]`);

    const apply = await cli('apply', '--auto-approve', '--config', config);
    expect(apply.code).toBe(3);
    // Nothing failed: no membership or manager named an account that was not created.
    expect(apply.stdout).toMatch(/ 0 failed/);
    expect(tenant().filter((u) => u['employeeId'] !== undefined)).toEqual([]);

    const again = await planJson();
    expect(again.code).toBe(3);
    expect(again.plan.changes).toEqual([]);
    expect(again.plan.releaseFingerprint?.slice(0, 12)).toBe(release);

    writeFileSync(join(work, 'approvals.yaml'), `plans: [${release}]\n`);
    const released = await cli('apply', '--auto-approve', '--config', config);
    expect(released.code).toBe(0);
    expect(tenant().filter((u) => u['employeeId'] !== undefined).length).toBe(
      plan.blocked.filter((b) => b.change.kind === 'createUser').length,
    );
    expect((await cli('plan', '--config', config)).code).toBe(0);
  });

  it('H6: safety.onBlocked: hold-plan applies nothing of a plan that holds anything', async () => {
    editConfig((doc) => {
      doc.setIn(['safety', 'requireApproval'], ['creates']);
      doc.setIn(['safety', 'onBlocked'], 'hold-plan');
    });
    const plan = await cli('plan', '--config', config);
    expect(plan.code).toBe(3);
    expect(plan.stdout).toContain('nothing of this plan is applied (safety.onBlocked: hold-plan)');
    const before = tenant();
    const apply = await cli('apply', '--auto-approve', '--config', config);
    expect(apply.code).toBe(3);
    expect(tenant()).toEqual(before);
  });

  it('H7: users.create: false updates the accounts that exist and creates nobody, listing who is not provisioned', async () => {
    // Provision everyone first, then add a new hire and change a department under create: false.
    expect((await cli('apply', '--auto-approve', '--config', config)).code).toBe(0);
    editConfig((doc) => doc.setIn(['users', 'create'], false));
    const csv = join(work, 'people.csv');
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    lines[2] = lines[2]!.replace(',Engineering,', ',Research,');
    lines.push('E9001,Nora,Newhire,Finance,Analyst,GB,Employee,,E1001,active');
    writeFileSync(csv, lines.join('\n') + '\n');

    const { code, plan } = await planJson();
    expect(code).toBe(2);
    expect(plan.changes.some((c) => c.kind === 'createUser')).toBe(false);
    expect(plan.changes.some((c) => c.kind === 'updateUser')).toBe(true);
    expect(plan.notProvisioned).toEqual([
      { personKey: 'hr:E9001', userPrincipalName: 'nora.newhire@contoso.com' },
    ]);
    const text = await cli('plan', '--config', config);
    expect(text.stdout).toContain('Not provisioned (create: false) (1): nora.newhire@contoso.com');
    expect((await cli('apply', '--auto-approve', '--config', config)).code).toBe(0);
    expect(tenant().some((u) => u.userPrincipalName === 'nora.newhire@contoso.com')).toBe(false);
  });
});
