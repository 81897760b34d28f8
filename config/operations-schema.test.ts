import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from './load.js';
import { DaemonConfig, HistoryConfig, ScheduleConfig } from './operations-schema.js';

const example = join(import.meta.dirname, '..', 'examples', 'daemon', 'entrasync.yaml');

function validator() {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
  return {
    daemon: ajv.compile(DaemonConfig),
    history: ajv.compile(HistoryConfig),
    schedule: ajv.compile(ScheduleConfig),
  };
}

describe('schedule, daemon and history config', () => {
  it('the daemon example is valid, and so is the rest of it without those keys', () => {
    const data = parse(readFileSync(example, 'utf8')) as Record<string, unknown>;
    const v = validator();
    expect(v.schedule(data.schedule)).toBe(true);
    expect(v.daemon(data.daemon)).toBe(true);
    expect(v.history(data.history)).toBe(true);
    const rest = { ...data };
    delete rest.schedule;
    delete rest.daemon;
    delete rest.history;
    expect(() => parseConfig(stringify(rest), { file: example })).not.toThrow();
  });

  it('fills defaults and rejects bad durations and unknown keys', () => {
    const v = validator();
    const daemon: Record<string, unknown> = { backoff: {} };
    expect(v.daemon(daemon)).toBe(true);
    expect(daemon).toMatchObject({
      mode: 'plan',
      fullReadEvery: '24h',
      failureRatio: 0.5,
      backoff: { initial: '10m', max: '24h' },
    });
    expect(v.daemon({ backoff: { max: '1 day' } })).toBe(false);
    expect(v.daemon({ mode: 'write' })).toBe(false);
    expect(v.daemon({ listen: { port: 70000 } })).toBe(false);
    expect(v.daemon({ alertWebhook: 'https://hooks.example/T0/B0/secret' })).toBe(false);
    expect(v.history({ path: 'h.db', keep: 3 })).toBe(false);
  });
});
