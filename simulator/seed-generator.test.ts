/**
 * The seed generator (`entrasync simulator seed`): deterministic from its seed, valid by Graph's
 * own rules, and served by the simulator. The scale check (300,000 users, 10,000 groups, pages
 * of 999) is measured by `npm run bench -- simulator-scale`, not asserted here
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateUserWrite } from './graph/user-schema.js';
import { openTenantStore, seedTenant } from './index.js';
import { graphFor, readAll, simulator, tempDir } from './test-helpers/simulator.js';

describe('seedTenant', () => {
  test('the same seed makes the same tenant; entries pass Graph’s validation', () => {
    const make = (seed: number) => {
      const store = openTenantStore();
      try {
        const result = seedTenant(store, { users: 500, groups: 20, seed });
        return { result, users: store.listUsers() };
      } finally {
        store.close();
      }
    };
    const a = make(7);
    const b = make(7);
    const c = make(8);
    expect(b.users).toEqual(a.users);
    expect(c.users.map((u) => u.id)).not.toEqual(a.users.map((u) => u.id));
    expect(a.result).toMatchObject({ users: 500, groups: 20 });
    expect(new Set(a.users.map((u) => u.userPrincipalName)).size).toBe(500);
    for (const user of a.users.slice(0, 25)) {
      const { id: _id, ...properties } = user;
      expect(() => validateUserWrite(properties, 'seed')).not.toThrow();
    }
  });

  test('refuses a tenant that already holds users', () => {
    const store = openTenantStore();
    try {
      seedTenant(store, { users: 10, groups: 1 });
      expect(() => seedTenant(store, { users: 10, groups: 1 })).toThrow(/already holds users/);
    } finally {
      store.close();
    }
  });

  test('a generated tenant is served: users, groups, members, licenses, admins', async () => {
    const dir = await tempDir();
    const statePath = join(dir, 'tenant.db');
    const store = openTenantStore(statePath);
    seedTenant(store, { users: 1200, groups: 30, seed: 3 });
    store.close();

    const sim = await simulator({ statePath, throttling: false });
    const graph = graphFor(sim);
    const users = await readAll(graph, '/users?$top=999&$select=id');
    expect(users).toHaveLength(1200);
    const groups = await readAll(graph, '/groups?$select=id,isAssignableToRole');
    expect(groups).toHaveLength(30);
    const members = await readAll(graph, `/groups/${String(groups[1]?.['id'])}/members?$select=id`);
    expect(members.length).toBeGreaterThanOrEqual(5);
    const skus = (await graph.api('/subscribedSkus').get()) as {
      value: { skuPartNumber: string; consumedUnits: number; prepaidUnits: { enabled: number } }[];
    };
    const e3 = skus.value.find((s) => s.skuPartNumber === 'SPE_E3');
    expect(e3?.consumedUnits).toBeGreaterThan(800);
    expect(e3?.prepaidUnits.enabled).toBeGreaterThan(e3?.consumedUnits ?? 0);
    const admins = (await graph.api('/roleManagement/directory/roleAssignments').get()) as {
      value: unknown[];
    };
    expect(admins.value).toHaveLength(1);
  });
});
