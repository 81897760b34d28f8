/**
 * `groups[].memberGroups` at load (issue 8): keys of other rules, checked with file:line:col —
 * unknown keys, Microsoft 365 groups on either side, and cycles between rules.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../engine/errors.js';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import { loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-nesting-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function configWith(groups: string[]): string {
  const file = join(dir, `config-${++counter}.yaml`);
  writeFileSync(
    file,
    [
      'version: 1', // 1
      'target:', // 2
      '  auth:', // 3
      '    method: simulator', // 4
      'sources:', // 5
      '  hr: { kind: csv, path: hr.csv, key: id }', // 6
      'users:', // 7
      '  anchor: id', // 8
      '  attributes:', // 9
      '    userPrincipalName: upn', // 10
      '    displayName: name', // 11
      'groups:', // 12
      ...groups, // 13...
    ].join('\n') + '\n',
  );
  return file;
}

async function problems(file: string): Promise<Diagnostic[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.diagnostics];
  }
  throw new Error('expected the config to be rejected');
}

const at = (d: Diagnostic) =>
  `${d.position?.file === undefined ? '' : 'file:'}${d.position?.line}:${d.position?.column} ${d.code}`;

describe('groups[].memberGroups at load', () => {
  it('static and foreach nesting load into the spec', async () => {
    const loaded = await loadConfig(
      configWith([
        '  - { name: All Engineering, key: all-eng, members: "false", memberGroups: [eng-platform, eng-apps] }',
        '  - { name: Eng Platform, key: eng-platform }',
        '  - { name: Eng Apps }',
        '  - { name: "\'Division - \' & $value", key: division, foreach: division, memberGroups: [dept] }',
        '  - { name: "\'Dept - \' & $value", key: dept, foreach: department }',
      ]),
    );
    expect(loaded.spec.groups.map((g) => [g.key, g.memberGroups])).toEqual([
      ['all-eng', ['eng-platform', 'eng-apps']],
      ['eng-platform', undefined],
      ['eng-apps', undefined],
      ['division', ['dept']],
      ['dept', undefined],
    ]);
  });

  it('an absent memberGroups does not change the config digest', async () => {
    const a = await loadConfig(configWith(['  - { name: Eng Apps }']));
    const b = await loadConfig(configWith(['  - name: Eng Apps']));
    expect(a.spec.configDigest).toBe(b.spec.configDigest);
  });

  it('an unknown key is a config error at the entry, naming the keys there are', async () => {
    const ds = await problems(
      configWith([
        '  - name: All Engineering', // 13
        '    key: all-eng', // 14
        '    memberGroups:', // 15
        '      - eng-platform', // 16
        '      - eng-plaform', // 17
        '  - { name: Eng Platform, key: eng-platform }', // 18
      ]),
    );
    expect(ds.map(at)).toEqual(['file:17:9 config.unknown-group']);
    expect(ds[0]?.message).toBe(
      "`groups[0].memberGroups` names `eng-plaform`, which is no rule's key (the keys are `all-eng`, `eng-platform`)",
    );
  });

  it('a cycle between rules is a config error where it closes; so is a rule nesting itself', async () => {
    const ds = await problems(
      configWith([
        '  - { name: A, key: a, memberGroups: [b] }', // 13
        '  - { name: B, key: b, memberGroups: [c] }', // 14
        '  - { name: C, key: c, memberGroups: [a] }', // 15
        '  - { name: "\'Dept - \' & $value", key: dept, foreach: department, memberGroups: [dept] }', // 16
      ]),
    );
    expect(ds.map(at)).toEqual([
      'file:15:39 config.nesting-cycle',
      'file:16:82 config.nesting-cycle',
    ]);
    expect(ds.map((d) => d.message)).toEqual([
      'nested groups form a cycle: `a` contains `b` contains `c` contains `a` (a group cannot contain itself, directly or through other groups)',
      'nested groups form a cycle: `dept` contains `dept` (a group cannot contain itself, directly or through other groups)',
    ]);
  });

  it('Microsoft 365 groups can neither contain groups nor be nested', async () => {
    const ds = await problems(
      configWith([
        '  - { name: Guild, key: guild, type: microsoft365, memberGroups: [eng] }', // 13
        '  - { name: Eng, key: eng }', // 14
        '  - { name: All, key: all, memberGroups: [guild] }', // 15
      ]),
    );
    expect(ds.map(at)).toEqual(['file:13:52 config.nesting', 'file:15:43 config.nesting']);
  });
});
