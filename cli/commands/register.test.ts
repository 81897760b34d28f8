/**
 * The commands as `program.ts` will mount them (`register<Name>Command(program, context)`): they
 * inherit the program's exitOverride, so a usage error is thrown to `main`, never a process exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { Redactor } from '../../engine/secret.js';
import type { ExitCode } from '../exit-codes.js';
import { openHistoryStore } from '../history/history-store.js';
import type { CommandContext } from './command-context.js';
import { registerDaemonCommand } from './daemon.js';
import { registerImportCommand } from './import.js';
import { registerReportCommand } from './report.js';
import { registerSnapshotCommand } from './snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-register-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program() {
  let stdout = '';
  let exitCode: ExitCode | undefined;
  const context: CommandContext = {
    output: { out: (t) => (stdout += t), err: (t) => (stdout += t) },
    redactor: new Redactor(),
    setExitCode: (code) => (exitCode = code),
    withRuntime: () => Promise.reject(new Error('not in this test')),
  };
  const root = new Command('entrasync')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerDaemonCommand(root, context);
  registerReportCommand(root, context);
  registerSnapshotCommand(root, context);
  registerImportCommand(root, context);
  return { root, stdout: () => stdout, exitCode: () => exitCode };
}

describe('registered commands', () => {
  it('mount daemon, report, snapshot and import, and throw usage errors to main', async () => {
    const p = program();
    expect(p.root.commands.map((c) => c.name())).toEqual([
      'daemon',
      'report',
      'snapshot',
      'import',
    ]);
    await expect(
      p.root.parseAsync(['report', '--format', 'xml'], { from: 'user' }),
    ).rejects.toBeInstanceOf(CommanderError);
    await expect(p.root.parseAsync(['snapshot'], { from: 'user' })).rejects.toThrow(/--out/);
    await expect(p.root.parseAsync(['daemon', '--port', 'x'], { from: 'user' })).rejects.toThrow(
      /not a port number/,
    );
  });

  it('report --runs --format csv reads the history file', async () => {
    const path = join(dir, 'history.db');
    const store = openHistoryStore(path, new Redactor());
    store.startRun({
      id: 'r1',
      startedAt: Date.UTC(2026, 0, 1),
      trigger: 'schedule',
      mode: 'plan',
    });
    store.finishRun('r1', { finishedAt: Date.UTC(2026, 0, 1, 0, 1), outcome: 'no-changes' });
    store.close();
    const p = program();
    await p.root.parseAsync(['report', '--history', path, '--runs', '--format', 'csv'], {
      from: 'user',
    });
    expect(p.exitCode()).toBe(0);
    expect(p.stdout().split('\n')[1]).toBe(
      'r1,2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,schedule,plan,no-changes,,0,0,0,0,,,',
    );
  });

  it('the GitOps example config loads (workload identity, no secret)', async () => {
    const loaded = await loadConfig(
      join(
        import.meta.dirname,
        '..',
        '..',
        'examples',
        'github-actions',
        'entrasync',
        'entrasync.yaml',
      ),
    );
    expect(loaded.config.target.auth.method).toBe('workload-identity');
    expect(loaded.secretRefs.map((r) => r.text)).toEqual([
      '${env:ENTRA_TENANT_ID}',
      '${env:ENTRA_CLIENT_ID}',
    ]);
  });
});
