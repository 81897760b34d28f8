import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../config/load.js';
import { targetBlock } from './simulator.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-sim-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('entrasync simulator: the target block it prints', () => {
  it('pastes into a config as valid YAML that loads, even with a path YAML would misread', async () => {
    // The hand-written flow mapping this block once was broke on `${file:…}` itself, and on `: ` or ` #` in a path.
    const weird = join(dir, 'odd dir: #1');
    const secretFile = join(weird, 'client-secret');
    const block = targetBlock(
      {
        tenantId: '11111111-2222-3333-4444-555555555555',
        origin: 'https://127.0.0.1:8443',
        authorityHost: 'https://127.0.0.1:8443',
        caFile: join(weird, 'ca.pem'),
      },
      '2f6c3a51-7d84-4b0e-a9c1-5e1d00e5a1c0',
      secretFile,
    );
    expect(parse(block)).toMatchObject({
      target: {
        auth: { method: 'secret', clientSecret: `\${file:${secretFile}}` },
        caFile: join(weird, 'ca.pem'),
      },
    });
    writeFileSync(join(dir, 'hr.csv'), 'id,name\n1,A\n');
    const config = join(dir, 'entrasync.yaml');
    writeFileSync(
      config,
      `version: 1\n${block}sources:\n  hr: { kind: csv, path: hr.csv, key: id }\nusers:\n  anchor: id\n  attributes:\n    userPrincipalName: "id & '@contoso.com'"\n    displayName: name\n`,
    );
    const loaded = await loadConfig(config);
    expect(loaded.config.target).toMatchObject({
      graphUrl: 'https://127.0.0.1:8443',
      caFile: join(weird, 'ca.pem'),
    });
  });
});

describe('entrasync simulator --latency', () => {
  it('L1: refuses a malformed latency model and names the form it takes', () => {
    const run = spawnSync(
      process.execPath,
      [resolve('dist/cli/main.js'), 'simulator', '--state', join(dir, 't.db'), '--latency', 'fast'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--latency.*not <base>ms\[\+<perObject>ms\]\[~<jitter>ms\]/s);
  });
});
