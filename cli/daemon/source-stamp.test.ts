import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceStamp } from './source-stamp.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-stamp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('source stamp', () => {
  it('changes when a local CSV export is replaced; none for network sources', () => {
    writeFileSync(join(dir, 'hr.csv'), 'id\n1\n');
    const stamp = sourceStamp({ hr: { kind: 'csv', path: 'hr.csv' }, ad: { kind: 'ldap' } }, dir)!;
    const before = stamp();
    expect(stamp()).toBe(before);
    writeFileSync(join(dir, 'hr.csv'), 'id\n1\n2\n');
    expect(stamp()).not.toBe(before);
    rmSync(join(dir, 'hr.csv'));
    expect(stamp()).toContain(':missing');
    expect(sourceStamp({ ad: { kind: 'ldap' }, api: { kind: 'http' } }, dir)).toBeUndefined();
  });
});
