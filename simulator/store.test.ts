/**
 * The tenant store on its own: a v1 state (users only) migrates to v2 in place, state survives
 * reopening, and change sequences move with every write (what delta relies on).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { openTenantStore } from './index.js';
import { tempDir } from './test-helpers/simulator.js';

describe('openTenantStore', () => {
  test('migrates a v1 state (users table) to v2 without losing users', async () => {
    const dir = await tempDir();
    const statePath = join(dir, 'v1.db');
    const v1 = new Database(statePath);
    v1.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE users (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        upn_lower TEXT NOT NULL UNIQUE, immutable_id TEXT UNIQUE, doc TEXT NOT NULL);
      INSERT INTO meta VALUES ('schemaVersion', '1'), ('tenantId', '0b7e5f9a-0000-4000-8000-00000000abcd');
    `);
    v1.prepare('INSERT INTO users (id, upn_lower, immutable_id, doc) VALUES (?, ?, NULL, ?)').run(
      '00000000-0000-4000-8000-000000000001',
      'ann@contoso.example',
      JSON.stringify({
        id: '00000000-0000-4000-8000-000000000001',
        userPrincipalName: 'Ann@contoso.example',
      }),
    );
    v1.close();

    const store = openTenantStore(statePath);
    try {
      expect(store.tenantId).toBe('0b7e5f9a-0000-4000-8000-00000000abcd');
      expect(store.listUsers().map((u) => u.userPrincipalName)).toEqual(['Ann@contoso.example']);
      expect(store.getUserByUpn('ANN@contoso.example')).toBeDefined();
      const conflict = store.insertUser({
        id: '00000000-0000-4000-8000-000000000002',
        userPrincipalName: 'ann@CONTOSO.example',
      });
      expect(conflict).toEqual({ ok: false, conflict: 'userPrincipalName' });
    } finally {
      store.close();
    }
  });

  test('every write advances the change sequence; links are logged', () => {
    const store = openTenantStore();
    try {
      const start = store.currentCseq();
      store.insertObject('user', {
        id: '00000000-0000-4000-8000-00000000000a',
        userPrincipalName: 'a@x.example',
      });
      store.insertObject('group', { id: '00000000-0000-4000-8000-00000000000b', displayName: 'G' });
      expect(
        store.addLinks(
          'member',
          '00000000-0000-4000-8000-00000000000b',
          ['00000000-0000-4000-8000-00000000000a'],
          0,
        ),
      ).toEqual({ ok: true });
      expect(
        store.addLinks(
          'member',
          '00000000-0000-4000-8000-00000000000b',
          ['00000000-0000-4000-8000-00000000000a'],
          0,
        ),
      ).toEqual({
        ok: false,
        existing: '00000000-0000-4000-8000-00000000000a',
      });
      expect(store.currentCseq()).toBe(start + 3);
      expect(
        store.linkChanges(
          'member',
          ['00000000-0000-4000-8000-00000000000b'],
          start,
          store.currentCseq(),
        ),
      ).toEqual([
        expect.objectContaining({
          targetId: '00000000-0000-4000-8000-00000000000a',
          removed: false,
        }),
      ]);
      store.softDelete('00000000-0000-4000-8000-00000000000a', 0);
      expect(store.getObject('00000000-0000-4000-8000-00000000000a')?.state).toBe('deleted');
      store.purge('00000000-0000-4000-8000-00000000000a', 0);
      expect(store.getObject('00000000-0000-4000-8000-00000000000a')?.state).toBe('purged');
      expect(store.pageLinks('member', '00000000-0000-4000-8000-00000000000b', 0, 10)).toEqual([]);
    } finally {
      store.close();
    }
  });
});
