/**
 * Anchors are identities, end to end (P8, P9): the quickstart's tenant was synced from an HR
 * export whose keys had leading zeros (`001001`); the next export lost them (`1001`). Through the
 * real CLI against the simulator: `plan` exits 3 and names the pattern, `apply` exits 3 and no
 * account's anchor (or anything else) is rewritten; nobody is disabled.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTenantStore } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';

const example = join(import.meta.dirname, '..', '..', 'examples', 'quickstart');
const work = mkdtempSync(join(tmpdir(), 'entrasync-anchors-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tenantUsers() {
  const store = openTenantStore(join(work, '.entrasync', 'tenant.db'));
  try {
    return store.listUsers();
  } finally {
    store.close();
  }
}

describe('anchors through the CLI against the simulator', () => {
  it('P8, P9: an HR export whose keys lost their leading zeros reanchors nobody and disables nobody: exit 3, the reason printed', async () => {
    cpSync(example, work, { recursive: true, filter: (p) => !p.includes('.entrasync') });
    const seed = join(work, 'tenant.json');
    // The accounts were made from keys with leading zeros; employees.csv has them without.
    writeFileSync(
      seed,
      readFileSync(seed, 'utf8').replace(/"employeeId": "(\d+)"/g, '"employeeId": "00$1"'),
    );
    const config = join(work, 'entrasync.yaml');

    const plan = await cli('plan', '--config', config);
    expect(plan.code).toBe(3);
    expect(plan.stdout).toContain('source keys lost their leading zeros: 001001 -> 1001');
    expect(plan.stdout).toContain(
      're-anchoring emily.martinez@contoso.com (employeeId "001001" -> "1001", the key lost its leading zeros)',
    );
    expect(plan.stdout).toContain('- { action: reanchors, subject: emily.martinez@contoso.com }');

    const before = tenantUsers();
    const apply = await cli('apply', '--auto-approve', '--config', config);
    expect(apply.code).toBe(3);
    expect(apply.stdout).toMatch(/change\(s\) held, not applied\. Held: .*key-format/);
    const after = tenantUsers();
    // Every existing account is as it was; only the new hires (keys the tenant never had, so
    // independent of the held reanchors) were created (issue 20).
    for (const user of before) expect(after).toContainEqual(user);
    const created = after.filter((u) => !before.some((b) => b.id === u.id));
    expect(created.map((u) => u['employeeId']).sort()).toEqual(['1052', '1053', '1054', '1055']);
    const anchors = before.map((u) => u['employeeId']).filter((a) => typeof a === 'string');
    expect(anchors.length).toBeGreaterThan(40);
    expect(anchors.every((a) => String(a).startsWith('00'))).toBe(true);
  });
});
