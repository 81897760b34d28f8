import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TenantReadError } from '../../engine/errors.js';
import type { TenantReadRequest, TenantState } from '../../engine/model/tenant.js';
import type { TargetReader } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import {
  parseTenantSnapshot,
  serveSnapshot,
  takeTenantSnapshot,
  tenantSnapshotReader,
  writeTenantSnapshot,
} from './tenant-snapshot.js';

const GRAPH_TIME = Date.UTC(2026, 0, 1, 8);
const dir = mkdtempSync(join(tmpdir(), 'entrasync-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A reader that returns exactly the requested attributes, as the Graph reader does. */
const live: TargetReader = {
  apiVersion: PORT_API_VERSION,
  read(request: TenantReadRequest): Promise<TenantState> {
    const all: Record<string, string | boolean | null> = {
      userPrincipalName: 'ann@contoso.example',
      accountEnabled: true,
      department: 'Sales',
      employeeId: '1001',
      mail: null,
    };
    const attributes = Object.fromEntries(request.userAttributes.map((a) => [a, all[a] ?? null]));
    return Promise.resolve({
      users: [{ id: 'u1', userPrincipalName: 'ann@contoso.example', attributes }],
      privileged: [{ userId: 'u9', reason: 'active role Global Administrator' }],
      clock: { status: 'read', serverTime: GRAPH_TIME, localTime: GRAPH_TIME + 500 },
    });
  },
};

/** What a snapshot serves of a live read: the same, at the Graph time of that read (A7). */
async function liveAsServed(request: TenantReadRequest): Promise<TenantState> {
  return { ...(await live.read(request)), clock: { status: 'recorded', serverTime: GRAPH_TIME } };
}

describe('tenant snapshots', () => {
  const wide = {
    userAttributes: ['userPrincipalName', 'accountEnabled', 'department', 'employeeId', 'mail'],
  };

  it('serves exactly what a live read of the same request returns', async () => {
    const snapshot = await takeTenantSnapshot(live, wide, Date.UTC(2026, 0, 1));
    const narrow = { userAttributes: ['employeeId', 'accountEnabled', 'userPrincipalName'] };
    expect(serveSnapshot(snapshot, narrow)).toEqual(await liveAsServed(narrow));
    expect(Object.keys(serveSnapshot(snapshot, narrow).users[0]!.attributes)).toEqual(
      narrow.userAttributes,
    );
    expect(serveSnapshot(snapshot, narrow).privileged).toEqual([
      { userId: 'u9', reason: 'active role Global Administrator' },
    ]);
  });

  it("A7: a snapshot's tenant is served at the Graph time it was read at; one without a Graph time says unknown", async () => {
    const snapshot = await takeTenantSnapshot(live, wide);
    expect(serveSnapshot(snapshot, wide).clock).toEqual({
      status: 'recorded',
      serverTime: GRAPH_TIME,
    });
    const { clock: _clock, ...older } = snapshot.tenant;
    expect(serveSnapshot({ ...snapshot, tenant: older }, wide).clock).toMatchObject({
      status: 'unknown',
    });
  });

  it('refuses a request for an attribute the snapshot was taken without', async () => {
    const snapshot = await takeTenantSnapshot(live, { userAttributes: ['userPrincipalName'] });
    expect(() => serveSnapshot(snapshot, wide, 'tenant.json')).toThrow(TenantReadError);
    expect(() => serveSnapshot(snapshot, wide, 'tenant.json')).toThrow(
      /tenant snapshot tenant\.json was taken without accountEnabled, department, employeeId, mail/,
    );
  });

  it('is written with mode 0600 and read back; an edited or foreign file is refused', async () => {
    const file = join(dir, 'tenant.json');
    await writeTenantSnapshot(file, await takeTenantSnapshot(live, wide));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const reader = tenantSnapshotReader(file);
    expect(await reader.read(wide)).toEqual(await liveAsServed(wide));

    const edited = readFileSync(file, 'utf8').replace('"Sales"', '"Marketing"');
    expect(() => parseTenantSnapshot(edited, 'edited.json')).toThrow(/does not match its digest/);
    expect(() => parseTenantSnapshot('{"users": []}', 'x.json')).toThrow(
      /not an entrasync tenant snapshot/,
    );
    expect(() =>
      parseTenantSnapshot('{"kind": "entrasync.tenant-snapshot", "formatVersion": 9}', 'x.json'),
    ).toThrow(/has format 9, not 1/);
    writeFileSync(join(dir, 'half.json'), readFileSync(file, 'utf8').slice(0, 100));
    await expect(tenantSnapshotReader(join(dir, 'half.json')).read(wide)).rejects.toThrow(
      /is not JSON/,
    );
    await expect(tenantSnapshotReader(join(dir, 'none.json')).read(wide)).rejects.toThrow(
      /cannot read tenant snapshot .*ENOENT/,
    );
  });
});
