/**
 * The daemon applies write-backs too (issue 26, invariant 8: one apply path): `entrasync daemon
 * --mode apply` against a SCIM source, ticks by hand. Run 1 creates the accounts, run 2 writes
 * their object ids back with one PATCH per record, run 3 has nothing to do.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_CORE_USER, SCIM_ENTERPRISE_USER } from '../../connectors/http/scim.js';
import { startScimServer } from '../../connectors/http/test-helpers/scim-server.js';
import type { ScimServer } from '../../connectors/http/test-helpers/scim-server.js';
import { Redactor } from '../../engine/secret.js';
import type { Daemon } from '../../cli/daemon/daemon.js';
import { runDaemon } from '../../cli/daemon/run-daemon.js';
import { createManualScheduler } from '../../cli/daemon/scheduler.js';
import { captureLog } from '../../cli/daemon/test-helpers.js';

const TOKEN = 'scim-token-daemon-wb-01';
let server: ScimServer;
let dir: string;

beforeAll(async () => {
  server = await startScimServer({
    token: TOKEN,
    users: ['ada', 'bob'].map((name, i) => ({
      schemas: [SCIM_CORE_USER, SCIM_ENTERPRISE_USER],
      id: `scim-${i + 1}`,
      userName: `${name}@hr.example`,
      displayName: `${name} Person`,
      active: true,
      [SCIM_ENTERPRISE_USER]: { employeeNumber: `E${i + 1}` },
    })),
  });
  dir = mkdtempSync(join(tmpdir(), 'entrasync-wb-daemon-'));
  writeFileSync(
    join(dir, 'entrasync.yaml'),
    [
      'version: 1',
      'target:',
      '  auth: { method: simulator }',
      '  simulator: { state: .entrasync/tenant.db }',
      'sources:',
      '  hr:',
      '    kind: http',
      '    api: scim',
      `    url: ${server.usersUrl}`,
      '    key: employeeNumber',
      '    auth:',
      '      method: bearer',
      '      token: ${env:WB_DAEMON_TOKEN}',
      'users:',
      '  anchor: employeeNumber',
      '  attributes:',
      "    userPrincipalName: $substringBefore(userName, '@') & '@contoso.com'",
      '    displayName: displayName',
      'writeback:',
      '  hr:',
      '    attributes: { externalId: id }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await server?.close();
});

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('write-back in the daemon (issue 26)', () => {
  it('WB15: daemon --mode apply writes back in the run after the creates, and the next run has nothing to do', async () => {
    const signals = new EventEmitter();
    const scheduler = createManualScheduler();
    const log = captureLog();
    let daemon: Daemon | undefined;
    const done = runDaemon(
      {
        config: join(dir, 'entrasync.yaml'),
        mode: 'apply',
        schedule: '*/30 * * * *',
        port: 0,
        runOnStart: false,
      },
      {
        redactor: new Redactor(),
        env: { WB_DAEMON_TOKEN: TOKEN },
        signals,
        logDestination: log.destination,
        scheduler: () => scheduler,
        onStarted: (s) => (daemon = s.daemon),
      },
    );
    await until(() => daemon !== undefined, 'start');
    const outcomes = () =>
      log
        .records()
        .filter((r) => String(r['msg']).startsWith('run finished: '))
        .map((r) => String(r['msg']).slice('run finished: '.length));
    const patches = () => server.requests.filter((r) => r.method === 'PATCH');
    for (let run = 1; run <= 3; run++) {
      expect(scheduler.fire()).toBe(true);
      await until(() => outcomes().length === run, `run ${run}`);
      if (run === 1) expect(patches()).toHaveLength(0);
    }
    expect(outcomes()).toEqual(['applied', 'applied', 'no-changes']);
    expect(
      patches()
        .map((r) => r.url)
        .sort(),
    ).toEqual(['/scim/v2/Users/scim-1', '/scim/v2/Users/scim-2']);
    expect(log.text()).toContain('Write-back: 2 applied, 0 failed.');
    signals.emit('SIGTERM');
    expect(await done).toBe(0);
  });
});
