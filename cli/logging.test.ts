import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Redactor, Secret } from '../engine/secret.js';
import { createLogger, newRunId, runLogger } from './logging.js';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (t: string) => void lines.push(t) } };
}

describe('logging (pino)', () => {
  it('X1: secrets are redacted from messages, fields, errors and stacks, even with JSON-escaped characters', () => {
    const redactor = new Redactor();
    const plain = 'canary-plain-4f1d';
    const quoted = 'canary"with\\quote-9e2a';
    redactor.add(plain);
    redactor.add(quoted);
    const out = capture();
    const log = runLogger(
      createLogger({ redactor, destination: out.destination, pretty: false }),
      'run-1',
    );
    log.info(
      { url: `https://hr.example/api?token=${plain}`, nested: { deep: [quoted] } },
      `bind with ${quoted}`,
    );
    log.error({ err: new Error(`LDAP bind failed for password ${plain}`) }, 'source failed');
    log.warn({ secret: new Secret(plain) }, 'a Secret object logs as [redacted]');
    const text = out.lines.join('');
    expect(text).not.toContain(plain);
    expect(text).not.toContain('canary"with');
    expect(text).not.toContain(JSON.stringify(quoted).slice(1, -1));
    const records = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.every((r) => r.runId === 'run-1')).toBe(true);
    expect(records[0]).toMatchObject({ level: 'info', msg: 'bind with [redacted]' });
    expect(records[1]).toMatchObject({
      level: 'error',
      err: { type: 'Error', message: 'LDAP bind failed for password [redacted]' },
    });
    expect(records[2]).toMatchObject({ secret: '[redacted]' });
  });

  it('honours levels and uses the given clock for time', () => {
    const out = capture();
    const log = createLogger({
      redactor: new Redactor(),
      destination: out.destination,
      level: 'warn',
      pretty: false,
      now: () => Date.UTC(2026, 0, 1),
    });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({
      time: '2026-01-01T00:00:00.000Z',
      msg: 'shown',
    });
    expect(() => createLogger({ redactor: new Redactor(), level: 'loud' })).toThrow(
      /unknown log level/,
    );
  });

  it('pretty-prints for a terminal, redacted as well', async () => {
    const redactor = new Redactor();
    redactor.add('canary-pretty-77aa');
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const log = runLogger(createLogger({ redactor, destination: stream, pretty: true }), 'run-2');
    log.info({ token: 'canary-pretty-77aa' }, 'hello');
    await new Promise((r) => setImmediate(r));
    expect(text).toContain('INFO');
    expect(text).toContain('hello');
    expect(text).toContain('run-2');
    expect(text).not.toContain('canary-pretty-77aa');
  });

  it('run ids sort by start time', () => {
    const a = newRunId(Date.UTC(2026, 0, 1, 0, 0, 0));
    const b = newRunId(Date.UTC(2026, 0, 1, 0, 30, 0));
    expect(a).toMatch(/^20260101T000000Z-[0-9a-f]{8}$/);
    expect([b, a].sort()).toEqual([a, b]);
  });
});
