/**
 * The global log options (log-options.ts) on a program of their own: where a level comes from,
 * and that the daemon's own `--log-level` gets the global one.
 */
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../engine/secret.js';
import { createCliLogging } from './log-options.js';

function program(env: NodeJS.ProcessEnv = {}) {
  let stderr = '';
  const logging = createCliLogging(new Redactor(), { write: (t: string) => (stderr += t) }, env);
  const seen: Record<string, unknown> = {};
  const root = new Command('entrasync').enablePositionalOptions().exitOverride();
  root.command('plan').action((opts: Record<string, unknown>) => {
    seen['plan'] = opts['logLevel'];
  });
  root.addCommand(
    new Command('daemon')
      .addOption(new Option('--log-level <level>', 'log level'))
      .action((opts: Record<string, unknown>) => {
        seen['daemon'] = opts['logLevel'];
      }),
  );
  logging.install(root);
  return { root, logging, seen, stderr: () => stderr };
}

describe('global --log-level', () => {
  it("the command's own value wins over the global one, which wins over the environment", async () => {
    const p = program({ ENTRASYNC_LOG_LEVEL: 'error' });
    await p.root.parseAsync(['--log-level', 'warn', 'plan', '--log-level', 'debug'], {
      from: 'user',
    });
    expect(p.logging.enabled('debug')).toBe(true);
    const q = program({ ENTRASYNC_LOG_LEVEL: 'error' });
    await q.root.parseAsync(['--log-level', 'debug', 'plan'], { from: 'user' });
    expect(q.logging.enabled('debug')).toBe(true);
    const r = program({ ENTRASYNC_LOG_LEVEL: 'error' });
    await r.root.parseAsync(['plan'], { from: 'user' });
    expect(r.logging.enabled('debug')).toBe(false);
    expect(r.logging.enabled('trace')).toBe(false);
  });

  it('the daemon gets the global level through its own option; its own value stays', async () => {
    const p = program();
    await p.root.parseAsync(['--log-level', 'trace', 'daemon'], { from: 'user' });
    expect(p.seen['daemon']).toBe('trace');
    const q = program();
    await q.root.parseAsync(['--log-level', 'trace', 'daemon', '--log-level', 'warn'], {
      from: 'user',
    });
    expect(q.seen['daemon']).toBe('warn');
    expect(q.root.commands.find((c) => c.name() === 'daemon')?.options.map((o) => o.long)).toEqual([
      '--log-level',
    ]);
  });

  it('a Graph trace is written only at debug, as JSON on a non-terminal', async () => {
    const p = program();
    await p.root.parseAsync(['plan', '--log-level', 'debug'], { from: 'user' });
    p.logging.graphRequest({ method: 'GET', path: '/v1.0/users', status: 200, durationMs: 5 });
    const line = JSON.parse(p.stderr()) as { level: string; msg: string; graph: unknown };
    expect(line).toMatchObject({
      level: 'debug',
      msg: 'graph GET /v1.0/users 200 5ms',
      graph: { method: 'GET', path: '/v1.0/users', status: 200, durationMs: 5 },
    });
    const q = program();
    await q.root.parseAsync(['plan'], { from: 'user' });
    q.logging.graphRequest({ method: 'GET', path: '/v1.0/users', status: 200, durationMs: 5 });
    expect(q.stderr()).toBe('');
  });
});
