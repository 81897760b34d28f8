/**
 * Shared by the example tests: copy an example into a temp dir, run the real `entrasync` command
 * (cli/program.ts `main`, in-process: the embedded simulator over HTTPS, the real Graph SDK and
 * @azure/identity), and read the simulated tenant's state directly to prove what was written.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cli } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import type { Plan } from '../../engine/model/plan.js';
import { subjectOf } from '../../engine/model/plan.js';
import { label } from '../helpers/converge.js';
import { openTenantStore } from '../../simulator/index.js';
import type { UserDocument } from '../../simulator/store.js';

export { convergeAt, label, planAt } from '../helpers/converge.js';
export { cli } from '../helpers/cli.js';
export type { CliResult } from '../helpers/cli.js';

export const examplesDir = join(import.meta.dirname, '..', '..', 'examples');

export interface ExampleCopy {
  readonly dir: string;
  readonly config: string;
  remove(): void;
}

/** A fresh copy of `examples/<name>` without its `.entrasync/` state. */
export function copyExample(name: string): ExampleCopy {
  const dir = mkdtempSync(join(tmpdir(), `entrasync-example-${name}-`));
  cpSync(join(examplesDir, name), dir, {
    recursive: true,
    filter: (p) => !p.includes('.entrasync'),
  });
  return {
    dir,
    config: join(dir, 'entrasync.yaml'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * validate -> plan --out -> apply <plan> -> plan: the first plan has changes (exit 2), every one
 * applies (exit 0), and the re-plan is empty (exit 0). Returns the first plan's output.
 */
export async function validatePlanApplyReplan(example: ExampleCopy): Promise<CliResult> {
  const validate = await cli('validate', '--config', example.config);
  expect(validate.stderr).toBe('');
  expect(validate.code).toBe(0);
  expect(validate.stdout).toContain('valid');

  const { plan, apply } = await planApplyReplan(example);
  expect(plan.stderr).not.toContain('error');
  expect(apply.stderr).not.toContain('error');
  return plan;
}

/**
 * plan --out <planFile> (changes, exit 2) -> apply <planFile> (every change applied, exit 0) ->
 * plan (nothing left, exit 0). The saved plan stays in `planFile` for the caller to inspect.
 */
export async function planApplyReplan(
  example: ExampleCopy,
  planName = 'plan.json',
): Promise<{ plan: CliResult; apply: CliResult; planFile: string }> {
  const planFile = join(example.dir, planName);
  const plan = await cli('plan', '--config', example.config, '--out', planFile);
  expect(plan.code).toBe(2);

  const apply = await cli('apply', planFile, '--config', example.config);
  expect(apply.stdout).toMatch(/ 0 failed, 0 skipped, 0 not run\./);
  expect(apply.code).toBe(0);

  const again = await cli('plan', '--config', example.config);
  expect(again.stdout).toContain('no changes. The tenant matches the configuration.');
  expect(again.code).toBe(0);
  return { plan, apply, planFile };
}

/** Labels of the changes about one account: its own, and group changes naming it as a member. */
export function changesFor(plan: Plan, upn: string): string[] {
  return plan.changes
    .filter(
      (c) =>
        subjectOf(c).userPrincipalName === upn ||
        ('members' in c && c.members.some((m) => m.userPrincipalName === upn)),
    )
    .map(label)
    .sort();
}

export interface TenantView {
  readonly users: readonly UserDocument[];
  user(upn: string): UserDocument | undefined;
  /** UPNs of the user members of the group with this uniqueName, sorted; undefined: no group. */
  members(uniqueName: string): string[] | undefined;
  /** Display names of the groups the user is a direct member of, sorted. */
  groupsOf(upn: string): string[];
  /** skuPartNumber of every license the user holds (direct or inherited), sorted. */
  licensesOf(upn: string): string[];
  /** disabledPlans (service plan names) of the user's direct license for this SKU. */
  disabledPlansOf(upn: string, skuPartNumber: string): string[];
  managerOf(upn: string): string | undefined;
}

/** Reads the example's simulated tenant (default `.entrasync/tenant.db`) once. */
export function readTenant(
  example: ExampleCopy,
  statePath = join(example.dir, '.entrasync', 'tenant.db'),
): TenantView {
  const store = openTenantStore(statePath);
  try {
    const users = store.listUsers();
    const byUpn = new Map(users.map((u) => [String(u.userPrincipalName).toLowerCase(), u]));
    const byId = new Map(users.map((u) => [u.id, u]));
    const skus = store.listSkus();
    const skuName = new Map(skus.map((s) => [s.skuId, String(s.doc['skuPartNumber'])]));
    const planName = new Map<string, string>();
    for (const s of skus) {
      for (const p of (s.doc['servicePlans'] ?? []) as {
        servicePlanId: string;
        servicePlanName: string;
      }[]) {
        planName.set(p.servicePlanId, p.servicePlanName);
      }
    }
    const groupNames = new Map<string, string>();
    const memberships = new Map<string, string[]>();
    const groupsByUnique = new Map<string, string[]>();
    let after = 0;
    for (;;) {
      const page = store.queryObjects({
        kind: 'group',
        state: 'active',
        afterSeq: after,
        limit: 500,
      });
      if (page.length === 0) break;
      for (const g of page) {
        after = g.seq;
        const id = String(g.doc['id']);
        groupNames.set(id, String(g.doc['displayName']));
        const members = store
          .pageLinks('member', id, 0, 10_000)
          .map((l) => byId.get(l.targetId))
          .filter((u): u is UserDocument => u !== undefined)
          .map((u) => String(u.userPrincipalName));
        if (typeof g.doc['uniqueName'] === 'string') {
          groupsByUnique.set(String(g.doc['uniqueName']), [...members].sort());
        }
        for (const upn of members) {
          memberships.set(upn, [...(memberships.get(upn) ?? []), String(g.doc['displayName'])]);
        }
      }
    }
    const managers = new Map<string, string | undefined>();
    for (const u of users) {
      const managerId = store.getManagerId(u.id);
      managers.set(
        String(u.userPrincipalName),
        managerId === undefined ? undefined : String(byId.get(managerId)?.userPrincipalName),
      );
    }
    const licenses = (u: UserDocument | undefined) =>
      ((u?.['assignedLicenses'] ?? []) as { skuId: string; disabledPlans?: string[] }[]).map(
        (l) => ({ sku: skuName.get(l.skuId) ?? l.skuId, disabledPlans: l.disabledPlans ?? [] }),
      );
    return {
      users,
      user: (upn) => byUpn.get(upn.toLowerCase()),
      members: (uniqueName) => groupsByUnique.get(uniqueName),
      groupsOf: (upn) => [...(memberships.get(upn) ?? [])].sort(),
      licensesOf: (upn) =>
        licenses(byUpn.get(upn.toLowerCase()))
          .map((l) => l.sku)
          .sort(),
      disabledPlansOf: (upn, sku) =>
        (licenses(byUpn.get(upn.toLowerCase())).find((l) => l.sku === sku)?.disabledPlans ?? [])
          .map((id) => planName.get(id) ?? id)
          .sort(),
      managerOf: (upn) => managers.get(upn),
    };
  } finally {
    store.close();
  }
}
