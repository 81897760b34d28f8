import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../engine/errors.js';
import { parseApprovals } from './approvals.js';
import { loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-approvals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(text: string): string[] {
  try {
    parseApprovals(text, 'approvals.yaml');
  } catch (err) {
    if (err instanceof ConfigError)
      return err.diagnostics.map((d) => `${d.position?.line}:${d.position?.column} ${d.message}`);
    throw err;
  }
  return [];
}

const config = (extra = '') => `version: 1
target: { auth: { method: simulator } }
sources: { hr: { kind: csv, path: hr.csv, key: id } }
users:
  anchor: id
  attributes: { userPrincipalName: "id & '@contoso.com'", displayName: id }
${extra}`;

describe('approvals.yaml', () => {
  it('reads plans and per-account approvals', () => {
    expect(
      parseApprovals(
        'plans: [3F2A9C1D5E7B00]\nchanges:\n  - { action: adoptions, subject: jane@contoso.com, by: alice }\n',
        'approvals.yaml',
      ),
    ).toEqual({
      plans: ['3f2a9c1d5e7b00'],
      changes: [{ action: 'adoptions', subject: 'jane@contoso.com' }],
    });
  });

  it('reports every problem with its line and column', () => {
    expect(
      problems(
        'plans: [abc]\nchanges:\n  - { action: adopt, subject: x }\n  - { action: disables }\nextra: 1\n',
      ),
    ).toEqual([
      '1:9 a plan fingerprint is 12 to 64 hexadecimal characters, as `plan` prints it',
      '3:15 `action` must be one of `creates`, `adoptions`, `updates`, `enables`, `disables`, `reanchors`',
      '4:5 `subject` must name the account: a UPN, an object id or a person key such as `hr:1001`',
      '5:1 unknown key `extra`: expected `plans` or `changes`',
    ]);
  });

  it('is picked up beside the config; a missing default file means no approvals; a named one must exist', async () => {
    writeFileSync(join(dir, 'entrasync.yaml'), config());
    expect((await loadConfig(join(dir, 'entrasync.yaml'))).spec.approvals).toEqual({
      plans: [],
      changes: [],
    });

    writeFileSync(join(dir, 'approvals.yaml'), 'plans: [0123456789ab]\n');
    const loaded = await loadConfig(join(dir, 'entrasync.yaml'));
    expect(loaded.spec.approvals.plans).toEqual(['0123456789ab']);

    writeFileSync(join(dir, 'named.yaml'), config('safety: { approvals: reviews/approved.yaml }'));
    await expect(loadConfig(join(dir, 'named.yaml'))).rejects.toThrow(
      /cannot read approvals file .*reviews\/approved\.yaml/,
    );
  });

  it('does not change the config digest, so approving a plan keeps its fingerprint', async () => {
    writeFileSync(join(dir, 'digest.yaml'), config());
    rmSync(join(dir, 'approvals.yaml'), { force: true });
    const before = (await loadConfig(join(dir, 'digest.yaml'))).spec.configDigest;
    writeFileSync(join(dir, 'approvals.yaml'), 'plans: [0123456789ab]\n');
    expect((await loadConfig(join(dir, 'digest.yaml'))).spec.configDigest).toBe(before);
  });
});
