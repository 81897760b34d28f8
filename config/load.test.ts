import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../engine/errors.js';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import { canonicalJson, loadConfig, type LoadedConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function writeConfig(text: string): string {
  const file = join(dir, `config-${++counter}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function load(text: string): Promise<LoadedConfig> {
  return loadConfig(writeConfig(text));
}

/** Every diagnostic of a config that must fail, as `line:col message`. */
async function problems(text: string): Promise<Diagnostic[]> {
  const file = writeConfig(text);
  try {
    await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const d of err.diagnostics) expect(d.position?.file ?? file).toBe(file);
    return [...err.diagnostics];
  }
  throw new Error('expected the config to be rejected');
}

function at(d: Diagnostic | undefined): string {
  return d?.position ? `${d.position.line}:${d.position.column}` : 'nowhere';
}

function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

// Line numbers matter below: this config is written one line per array element.
const VALID = [
  'version: 1', // 1
  'target:', // 2
  '  auth:', // 3
  '    method: simulator', // 4
  'sources:', // 5
  '  hr: { kind: csv, path: hr.csv, key: employee_id }', // 6
  'users:', // 7
  '  scope: "status != \'terminated\'"', // 8
  '  anchor: employee_id', // 9
  '  attributes:', // 10
  "    userPrincipalName: \"$lowercase(first_name & '.' & last_name) & '@contoso.com'\"", // 11
  '    displayName: "first_name & \' \' & last_name"', // 12
  '    department: department', // 13
];

function validWith(replace: Record<number, string | string[]>): string {
  const out: string[] = [];
  VALID.forEach((line, i) => {
    const r = replace[i + 1];
    if (r === undefined) out.push(line);
    else out.push(...(Array.isArray(r) ? r : [r]));
  });
  return lines(...out);
}

describe('loadConfig: a valid config', () => {
  it('loads the minimal config with every default filled in', async () => {
    const loaded = await load(lines(...VALID));
    expect(loaded.config.target).toEqual({
      auth: { method: 'simulator' },
      graphUrl: 'https://graph.microsoft.com',
      authorityHost: 'https://login.microsoftonline.com',
      marker: { attribute: 'extensionAttribute15', groupPrefix: 'entrasync-', claimLegacy: false },
    });
    expect(loaded.spec.marker.value).toBe('entrasync:hr');
    expect(loaded.config.users.anchorAttribute).toBe('employeeId');
    expect(loaded.config.users.match).toEqual(['anchor', 'userPrincipalName']);
    expect(loaded.config.users.deprovision).toEqual({
      action: 'disable',
      revokeSessions: true,
      removeAccessAfterDays: 0,
      stateAttribute: 'extensionAttribute14',
    });
    expect(loaded.config.groups).toEqual([]);
    expect(loaded.config.licenses).toEqual([]);
    expect(loaded.config.users.attributes.accountEnabled).toBe('true');
    expect(loaded.spec.primarySource).toBe('hr');
    expect(loaded.secretRefs).toEqual([]);
  });

  it('builds the SyncSpec of a full config', async () => {
    const text = lines(
      'version: 1',
      'target:',
      '  auth:',
      '    method: secret',
      '    clientSecret: ${env:ENTRA_CLIENT_SECRET}',
      '  tenantId: ${env:ENTRA_TENANT_ID}',
      '  clientId: ${env:ENTRA_CLIENT_ID}',
      '  graphUrl: https://graph.microsoft.us',
      '  marker: { attribute: extensionAttribute9, value: hr-sync }',
      'sources:',
      "  hr: { kind: csv, path: hr.csv, key: employee_id, delimiter: ';', encoding: latin1 }",
      '  contractors: { kind: csv, path: contractors.csv, key: id }',
      'join:',
      '  primary: hr',
      'users:',
      '  scope: "status != \'terminated\'"',
      '  anchor: "employee_id"',
      '  anchorAttribute: extensionAttribute3',
      '  match: [anchor, mail]',
      '  attributes:',
      "    userPrincipalName: \"$lowercase(first_name & '.' & last_name) & '@contoso.com'\"",
      '    displayName: "first_name & \' \' & last_name"',
      '    accountEnabled: "status = \'active\'"',
      '    department: department',
      '    onPremisesExtensionAttributes.extensionAttribute1: cost_center',
      '  deprovision: { action: none }',
    );
    const loaded = await load(text);
    const { spec } = loaded;
    expect(spec.configDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(spec.primarySource).toBe('hr');
    expect(spec.marker).toEqual({
      attribute: 'onPremisesExtensionAttributes.extensionAttribute9',
      value: 'hr-sync',
      groupPrefix: 'entrasync-',
    });
    expect(spec.users.anchorAttribute).toBe('onPremisesExtensionAttributes.extensionAttribute3');
    expect(spec.users.match).toEqual(['anchor', 'mail']);
    expect(spec.users.deprovision).toEqual({
      action: 'none',
      revokeSessions: true,
      removeAccessAfterDays: 0,
      stateAttribute: 'onPremisesExtensionAttributes.extensionAttribute14',
    });
    expect(spec.users.scope?.text).toBe("status != 'terminated'");
    expect(spec.users.anchor.text).toBe('employee_id');
    expect(spec.users.anchor.configPath).toBe('users.anchor');
    expect(spec.users.anchor.position).toEqual({ file: loaded.path, line: 17, column: 12 });
    expect(Object.keys(spec.users.attributes).sort()).toEqual(
      [
        'accountEnabled',
        'department',
        'displayName',
        'onPremisesExtensionAttributes.extensionAttribute1',
        'userPrincipalName',
      ].sort(),
    );
    expect(spec.users.attributes['displayName']?.position).toEqual({
      file: loaded.path,
      line: 22,
      column: 19,
    });
    const upn = spec.users.attributes['userPrincipalName'];
    expect(await upn?.evaluate({ first_name: 'Ada', last_name: 'Lovelace' }, {})).toBe(
      'ada.lovelace@contoso.com',
    );
    expect(await spec.users.attributes['accountEnabled']?.evaluate({ status: 'active' }, {})).toBe(
      true,
    );

    // Secret references stay references: nothing was resolved.
    expect(loaded.secretRefs.map((r) => [r.path, r.text])).toEqual([
      ['target.auth.clientSecret', '${env:ENTRA_CLIENT_SECRET}'],
      ['target.tenantId', '${env:ENTRA_TENANT_ID}'],
      ['target.clientId', '${env:ENTRA_CLIENT_ID}'],
    ]);
    expect(loaded.config.target.auth).toMatchObject({
      method: 'secret',
      clientSecret: { kind: 'secretRef', scheme: 'env', name: 'ENTRA_CLIENT_SECRET' },
    });
    expect(loaded.config.sources['hr']).toEqual({
      kind: 'csv',
      path: 'hr.csv',
      key: 'employee_id',
      delimiter: ';',
      encoding: 'latin1',
    });
  });

  it('defaults accountEnabled to the expression `true`', async () => {
    const { spec } = await load(lines(...VALID));
    const enabled = spec.users.attributes['accountEnabled'];
    expect(enabled?.text).toBe('true');
    expect(await enabled?.evaluate({}, {})).toBe(true);
  });

  it('digests the effective config: stable across key order and explicit defaults, secret values never involved', async () => {
    const a = await load(lines(...VALID));
    const reordered = await load(
      lines(
        'users:',
        '  attributes:',
        '    department: department',
        '    displayName: "first_name & \' \' & last_name"',
        "    userPrincipalName: \"$lowercase(first_name & '.' & last_name) & '@contoso.com'\"",
        '  anchor: employee_id',
        '  scope: "status != \'terminated\'"',
        '  deprovision: { action: disable }',
        'sources:',
        '  hr: { key: employee_id, path: hr.csv, kind: csv }',
        'target:',
        '  auth: { method: simulator }',
        '  graphUrl: https://graph.microsoft.com',
        'version: 1',
      ),
    );
    expect(reordered.spec.configDigest).toBe(a.spec.configDigest);
    const changed = await load(validWith({ 13: '    department: division' }));
    expect(changed.spec.configDigest).not.toBe(a.spec.configDigest);
  });

  it('keeps secret references as their text in the canonical JSON', async () => {
    const loaded = await load(
      validWith({
        4: ['    method: secret', '    clientSecret: ${file:secret.txt}'],
        5: ['  tenantId: contoso.onmicrosoft.com', '  clientId: ${env:CLIENT_ID}', 'sources:'],
      }),
    );
    const json = canonicalJson(loaded.config);
    expect(json).toContain('"clientSecret":"${file:secret.txt}"');
    expect(json).toContain('"clientId":"${env:CLIENT_ID}"');
    expect(json).toContain('"tenantId":"contoso.onmicrosoft.com"');
  });

  it('maps an offset inside an expression to the file (Expression.positionAt, for field lints)', async () => {
    const loaded = await load(
      validWith({ 12: ['    displayName: >-', '      first_name &', "      ' ' & last_name"] }),
    );
    const upn = loaded.spec.users.attributes['userPrincipalName'];
    const ref = upn?.fieldReferences.find((r) => r.field === 'last_name');
    // line 11: `    userPrincipalName: "$lowercase(first_name & '.' & last_name) ...`
    expect(upn?.positionAt(ref?.offset ?? -1)).toEqual({ file: loaded.path, line: 11, column: 55 });
    const display = loaded.spec.users.attributes['displayName'];
    const last = display?.fieldReferences.find((r) => r.field === 'last_name');
    expect(display?.positionAt(last?.offset ?? -1)).toEqual({
      file: loaded.path,
      line: 14,
      column: 13,
    });
  });

  it('reports an empty file (only comments) as such', async () => {
    const [d] = await problems('# nothing yet\n');
    expect(d?.code).toBe('config.empty');
    expect(at(d)).toBe('1:1');
  });

  it('reports an unreadable file as a ConfigError naming it', async () => {
    const missing = join(dir, 'nope.yaml');
    await expect(loadConfig(missing)).rejects.toThrow(ConfigError);
    await expect(loadConfig(missing)).rejects.toThrow(
      /cannot read config file .*nope\.yaml.*ENOENT/,
    );
  });
});

describe('loadConfig: each kind of problem, at its line and column', () => {
  it('YAML syntax errors, at their positions, and nothing else', async () => {
    const ds = await problems(
      lines(
        'version: 1', // 1
        'target:', // 2
        '  auth: { method: simulator', // 3 (flow mapping never closed)
        'sources:', // 4
      ),
    );
    expect(ds.map((d) => `${at(d)} ${d.code} ${d.message}`)).toEqual([
      '4:1 config.yaml-syntax YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }',
    ]);

    const [tab] = await problems(lines('version: 1', 'users:', '\tanchor: x'));
    expect(`${at(tab)} ${tab?.message}`).toBe(
      '3:1 YAML syntax error: Tabs are not allowed as indentation',
    );

    const [dup, ...rest] = await problems(
      validWith({ 9: ['  anchor: employee_id', '  anchor: id'] }),
    );
    expect(rest).toEqual([]);
    expect(dup?.code).toBe('config.yaml-syntax');
    expect(dup?.message).toMatch(/unique/i);
    expect(at(dup)).toBe('10:3');

    const [bad] = await problems(lines('version: 1', 'target: x: y'));
    expect(at(bad)).toBe('2:9');
  });

  it('unknown key with did-you-mean, at the key', async () => {
    const ds = await problems(validWith({ 10: '  atributes:' }));
    const unknown = ds.find((d) => d.code === 'config.unknown-key');
    expect(unknown?.message).toBe('unknown key `atributes` in `users`; did you mean `attributes`?');
    expect(at(unknown)).toBe('10:3');
    expect(unknown?.path).toBe('users.atributes');
    const missing = ds.find((d) => d.code === 'config.missing-key');
    expect(missing?.message).toBe('missing required key `attributes` in `users`');
    expect(at(missing)).toBe('7:1');
  });

  it('suggests for transpositions, case slips and top-level keys; lists the keys when nothing is close', async () => {
    const ds = await problems(
      validWith({
        1: ['version: 1', 'sorces: {}'],
        6: '  hr: { kind: csv, path: hr.csv, key: employee_id, delimtier: ";" }',
        9: ['  anchor: employee_id', '  Scope: "true"', '  colour: blue'],
      }),
    );
    const messages = ds.map((d) => `${at(d)} ${d.message}`);
    expect(messages).toContain('2:1 unknown top-level key `sorces`; did you mean `sources`?');
    expect(messages).toContain(
      '7:52 unknown key `delimtier` in `sources.hr`; did you mean `delimiter`?',
    );
    expect(messages).toContain('11:3 unknown key `Scope` in `users`; did you mean `scope`?');
    expect(messages).toContain(
      '12:3 unknown key `colour` in `users`; expected one of `scope`, `anchor`, `anchorAttribute`, `match`, `attributes`, `manager`, `deprovision`, `onboarding`, `create`, `createOnly`',
    );
  });

  it('wrong type: expected string, got number', async () => {
    const [d, ...rest] = await problems(validWith({ 9: '  anchor: 42' }));
    expect(rest).toEqual([]);
    expect(d?.code).toBe('config.type');
    expect(d?.message).toMatch(/^wrong type for `users.anchor`: expected string, got number/);
    expect(at(d)).toBe('9:11');
  });

  it('wrong type on a mapping, and a YAML boolean where an expression goes', async () => {
    const ds = await problems(
      validWith({ 2: 'target: simulator', 3: [], 4: [], 13: '    accountEnabled: true' }),
    );
    const messages = ds.map((d) => `${at(d)} ${d.message}`);
    expect(messages).toContain('2:9 wrong type for `target`: expected mapping, got string');
    expect(messages).toContain(
      '11:21 wrong type for `users.attributes.accountEnabled`: expected string, got boolean (a JSONata expression is a string: quote it, e.g. "true")',
    );
  });

  it('missing required key, at the key of the mapping that lacks it', async () => {
    const [d, ...rest] = await problems(validWith({ 9: [] }));
    expect(rest).toEqual([]);
    expect(d?.message).toBe('missing required key `anchor` in `users`');
    expect(at(d)).toBe('7:1');
    const [upn] = await problems(validWith({ 11: [] }));
    expect(upn?.message).toBe('missing required key `userPrincipalName` in `users.attributes`');
    expect(at(upn)).toBe('10:3');
  });

  it('bad enum value, with the allowed values and a suggestion', async () => {
    const [d] = await problems(
      validWith({ 13: ['    department: department', '  deprovision: { action: disabel }'] }),
    );
    expect(d?.code).toBe('config.invalid-value');
    expect(d?.message).toBe(
      'invalid value `disabel` for `users.deprovision.action`: expected one of `disable`, `delete`, `none` (did you mean `disable`?)',
    );
    expect(at(d)).toBe('14:26');
    const [far] = await problems(
      validWith({ 13: ['    department: department', '  deprovision: { action: archive }'] }),
    );
    expect(far?.message).toBe(
      'invalid value `archive` for `users.deprovision.action`: expected one of `disable`, `delete`, `none`',
    );
  });

  it('a discriminated union reports against the branch its discriminator picks', async () => {
    const [method] = await problems(validWith({ 4: '    method: secrets' }));
    expect(method?.message).toBe(
      'unknown method `secrets` for `target.auth`: expected one of `simulator`, `secret`, `certificate`, `workload-identity`, `managed-identity` (did you mean `secret`?)',
    );
    expect(at(method)).toBe('4:13');

    // method: secret -> only the `secret` branch's complaints, not the simulator's.
    const ds = await problems(
      validWith({
        2: ['target:', '  tenantId: t', '  clientId: c'],
        4: ['    method: secret', '    clientSecet: ${env:S}'],
      }),
    );
    expect(ds.map((d) => `${at(d)} ${d.message}`)).toEqual([
      '5:3 missing required key `clientSecret` in `target.auth`',
      '7:5 unknown key `clientSecet` in `target.auth`; did you mean `clientSecret`?',
    ]);

    const [noMethod] = await problems(validWith({ 3: '  auth: {}', 4: [] }));
    expect(noMethod?.message).toBe(
      'missing required key `method` in `target.auth` (one of `simulator`, `secret`, `certificate`, `workload-identity`, `managed-identity`)',
    );
  });

  it('a literal client secret is refused', async () => {
    const [d] = await problems(
      validWith({
        2: ['target:', '  tenantId: t', '  clientId: c'],
        4: ['    method: secret', '    clientSecret: hunter2-literal'],
      }),
    );
    expect(d?.message).toMatch(
      /^invalid value `hunter2-literal` for `target.auth.clientSecret`: must be a secret reference/,
    );
    expect(at(d)).toBe('7:19');
  });

  it('version missing', async () => {
    const ds = await problems(validWith({ 1: [] }));
    expect(ds).toHaveLength(1);
    expect(ds[0]?.code).toBe('config.version');
    expect(ds[0]?.message).toMatch(/^missing `version: 1`/);
    expect(at(ds[0])).toBe('1:1');
  });

  it('version 2: only the version is reported', async () => {
    const ds = await problems(validWith({ 1: 'version: 2', 9: '  anchor: 42' }));
    expect(ds).toHaveLength(1);
    expect(ds[0]?.message).toBe(
      'unsupported config version 2: this entrasync reads version 1; the file may be written for a newer entrasync',
    );
    expect(at(ds[0])).toBe('1:10');
    const [quoted] = await problems(validWith({ 1: "version: '1'" }));
    expect(quoted?.message).toBe('invalid config version `1`: must be the number 1');
  });

  it('join.primary naming an unknown source', async () => {
    const [d] = await problems(
      validWith({
        6: ['  hr: { kind: csv, path: hr.csv, key: employee_id }', 'join:', '  primary: hrr'],
      }),
    );
    expect(d?.code).toBe('config.unknown-source');
    expect(d?.message).toBe(
      '`join.primary` names `hrr`, which is not a source; did you mean `hr`? (sources: `hr`)',
    );
    expect(at(d)).toBe('8:12');
  });

  it('join.primary is required with several sources', async () => {
    const [d] = await problems(
      validWith({
        6: [
          '  hr: { kind: csv, path: hr.csv, key: employee_id }',
          '  ad: { kind: csv, path: ad.csv, key: id }',
        ],
      }),
    );
    expect(d?.message).toBe(
      '`join.primary` is required with several sources (`hr`, `ad`): it names the source whose records define who exists',
    );
    expect(at(d)).toBe('5:1');
  });

  it('auth method secret needs tenantId and clientId; the simulator block needs the simulator', async () => {
    const ds = await problems(
      validWith({
        4: ['    method: secret', '    clientSecret: ${env:S}', '  simulator: { state: x.db }'],
      }),
    );
    expect(ds.map((d) => `${at(d)} ${d.message}`)).toEqual([
      '2:1 missing required key `tenantId` in `target`: required with `auth.method: secret`',
      '2:1 missing required key `clientId` in `target`: required with `auth.method: secret`',
      '6:3 `target.simulator` applies only with `auth.method: simulator` (the method is `secret`)',
    ]);
  });

  it('the anchor and the marker own their attributes', async () => {
    const ds = await problems(
      validWith({
        4: ['    method: simulator', '  marker: { attribute: extensionAttribute2 }'],
        9: ['  anchor: employee_id', '  anchorAttribute: extensionAttribute2'],
        13: [
          '    department: department',
          '    onPremisesExtensionAttributes.extensionAttribute2: x',
        ],
      }),
    );
    expect(ds.map((d) => `${at(d)} ${d.code}`)).toEqual([
      '11:20 config.conflict',
      '16:5 config.conflict',
      '16:5 config.conflict',
    ]);
    const [employeeId] = await problems(
      validWith({ 13: ['    department: department', '    employeeId: id'] }),
    );
    expect(employeeId?.message).toBe(
      '`employeeId` is written from `users.anchor` (`users.anchorAttribute: employeeId`); remove it from `users.attributes`',
    );
  });

  it('P16: the marker names the config: `entrasync:<id>`, the id defaulting to the primary source', async () => {
    const byDefault = await load(lines(...VALID));
    expect(byDefault.spec.marker).toEqual({
      attribute: 'onPremisesExtensionAttributes.extensionAttribute15',
      value: 'entrasync:hr',
      groupPrefix: 'entrasync-',
    });
    const withId = await load(
      validWith({ 4: ['    method: simulator', '  marker: { id: staff-eu, claimLegacy: true }'] }),
    );
    expect(withId.spec.marker.value).toBe('entrasync:staff-eu');
    expect(withId.spec.marker.claimLegacy).toBe(true);
    // the id is part of the effective config: another id is another digest
    expect(withId.spec.configDigest).not.toBe(byDefault.spec.configDigest);
    const legacy = await load(
      validWith({ 4: ['    method: simulator', '  marker: { value: entrasync }'] }),
    );
    expect(legacy.spec.marker.value).toBe('entrasync');
    const ds = await problems(
      validWith({ 4: ['    method: simulator', '  marker: { id: a, value: b }'] }),
    );
    expect(ds.map((d) => `${at(d)} ${d.code} ${d.message}`)).toEqual([
      '5:20 config.conflict `target.marker.value` is the whole marker value and `target.marker.id` makes it `entrasync:<id>`: set one of them',
    ]);
    const [bad] = await problems(
      validWith({ 4: ['    method: simulator', '  marker: { id: "a b" }'] }),
    );
    expect(bad?.code).toBe('config.invalid-value');
  });

  it('a `__proto__` key is data, never a prototype; reserved names are not source names', async () => {
    const ds = await problems(
      validWith({
        6: [
          '  __proto__: { kind: csv, path: a.csv, key: id }',
          '  hr: { kind: csv, path: hr.csv, key: employee_id }',
        ],
        9: ['  anchor: employee_id', '  __proto__: { polluted: true }'],
      }),
    );
    expect(ds.map((d) => `${at(d)} ${d.code}`)).toEqual([
      '6:3 config.invalid-key',
      '11:3 config.unknown-key',
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('secret references: only where allowed, only as the whole value', async () => {
    const ds = await problems(
      validWith({
        2: ['target:', '  tenantId: tenant-${env:TENANT}', '  caFile: ${env:CA_FILE}'],
        6: '  hr: { kind: csv, path: "${file:path.txt}", key: employee_id }',
        13: '    department: ${env:DEPARTMENT}',
      }),
    );
    expect(ds.map((d) => `${at(d)} ${d.code} ${d.path}`)).toEqual([
      '3:13 config.secret-reference target.tenantId',
      '4:11 config.secret-reference target.caFile',
      '8:26 config.secret-reference sources.hr.path',
      '15:17 config.secret-reference users.attributes.department',
    ]);
    expect(ds[0]?.message).toMatch(/must be the whole value/);
    expect(ds[1]?.message).toMatch(
      /^a secret reference is not allowed in `target\.caFile` \(it would be used as literal text\); references are allowed in `target\.auth\.clientSecret`, `target\.auth\.certificate`, `target\.tenantId`, `target\.clientId`, `sources\.<name>\.password`/,
    );
    expect(ds[3]?.message).toMatch(
      /is a JSONata expression, where a secret reference is not allowed/,
    );
  });
});

describe('loadConfig: deprovision.whenDisabled (P10)', () => {
  it('P10: whenDisabled reaches the spec as written (null: never deleted); absent, it leaves the digest as it was', async () => {
    const plain = await load(lines(...VALID));
    expect(plain.spec.users.deprovision.whenDisabled).toBeUndefined();
    const withStages = await load(
      lines(
        ...VALID,
        '  deprovision:',
        '    deleteAfterDays: 30',
        '    whenDisabled: { removeAccessAfterDays: 3, deleteAfterDays: null }',
      ),
    );
    expect(withStages.spec.users.deprovision.whenDisabled).toEqual({
      removeAccessAfterDays: 3,
      deleteAfterDays: null,
    });
    expect(withStages.spec.configDigest).not.toBe(plain.spec.configDigest);
  });

  it('P10: a delete before the access removal is a conflict at its line and column, inherited days included', async () => {
    const ds = await problems(
      lines(
        ...VALID,
        '  deprovision:',
        '    removeAccessAfterDays: 10',
        '    whenDisabled: { deleteAfterDays: 5 }',
      ),
    );
    expect(ds.map((d) => `${at(d)} ${d.code}`)).toEqual(['16:38 config.conflict']);
    expect(ds[0]?.message).toContain(
      'deleted after 5 day(s), before its access is removed after 10',
    );
    const unknown = await problems(
      lines(...VALID, '  deprovision:', '    whenDisabled: { action: delete }'),
    );
    expect(unknown.map((d) => d.code)).toContain('config.unknown-key');
  });
});

describe('loadConfig: JSONata syntax errors point at the offending character', () => {
  // `& &`: JSONata stops at the second `&` (S0211), a one-character token, so the expected
  // column is that character's.
  it('in a plain scalar', async () => {
    const [d] = await problems(validWith({ 12: '    displayName: first_name & & last_name' }));
    expect(d?.code).toBe('expr.syntax');
    expect(d?.message).toBe(
      'JSONata syntax error in `users.attributes.displayName`: The symbol "&" cannot be used as a unary operator (S0211)',
    );
    expect(d?.path).toBe('users.attributes.displayName');
    // `    displayName: first_name & & last_name`: the second `&` is column 31.
    expect(at(d)).toBe('12:31');
  });

  it('in a single-quoted scalar, after an escaped quote', async () => {
    const [d] = await problems(
      validWith({ 12: "    displayName: 'first_name & '' '' & & last_name'" }),
    );
    // `    displayName: 'first_name & '' '' & & last_name'`: the second `&` is column 40.
    expect(at(d)).toBe('12:40');
  });

  it('in a double-quoted scalar, after escapes', async () => {
    const [d] = await problems(
      validWith({ 12: '    displayName: "first_name & \\"\\u00e9\\" & & last_name"' }),
    );
    // `    displayName: "first_name & \"\u00e9\" & & last_name"`: the second `&` is column 45.
    expect(at(d)).toBe('12:45');
  });

  it('in a literal block scalar', async () => {
    const [d] = await problems(
      validWith({
        12: ['    displayName: |', '      first_name', "        & ' '", '        & & last_name'],
      }),
    );
    expect(at(d)).toBe('15:11');
  });

  it('in a folded block scalar with a chomping indicator and a comment', async () => {
    const [d] = await problems(
      validWith({
        12: ['    displayName: >- # folded', '      first_name &', '', '      last_name = ='],
      }),
    );
    // The value is "first_name &\nlast_name = =": the second `=` is line 15, column 19.
    expect(at(d)).toBe('15:19');
  });

  it('in a multi-line plain scalar', async () => {
    const [d] = await problems(
      validWith({ 12: ['    displayName: first_name', '      & & last_name'] }),
    );
    expect(at(d)).toBe('13:9');
  });

  it('in a multi-line double-quoted scalar with an escaped line break', async () => {
    const [d] = await problems(
      validWith({ 12: ['    displayName: "first_name \\', "      & ' ' & & last_name\""] }),
    );
    expect(at(d)).toBe('13:15');
  });

  it('at the end of the expression when it ends too early', async () => {
    const [d] = await problems(validWith({ 9: '  anchor: "$string(employee_id"' }));
    expect(d?.message).toMatch(/Expected "\)" before end of expression \(S0203\)$/);
    // JSONata reports the end; the position is the last character, `d` at column 30.
    expect(at(d)).toBe('9:30');
  });
});

describe('loadConfig: several problems', () => {
  it('reports every problem in one error, in file order', async () => {
    const file = writeConfig(
      lines(
        'version: 1', // 1
        'target:', // 2
        '  auth: { method: simulator }', // 3
        '  graphUrl: http://graph.example', // 4
        'sources:', // 5
        "  hr: { kind: csv, path: hr.csv, key: employee_id, delimiter: ';;' }", // 6
        'join: { primary: people }', // 7
        'users:', // 8
        '  scope: "status = = \'x\'"', // 9
        '  anchor: 7', // 10
        '  match: [anchor, mail, anchor]', // 11
        '  atributes: {}', // 12
        '  attributes:', // 13
        '    displayName: name', // 14
        '    mail: "a ~ b"', // 15
        '  deprovision: { action: erase }', // 16
      ),
    );
    let error: ConfigError | undefined;
    try {
      await loadConfig(file);
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const summary = error?.diagnostics.map((d) => `${at(d)} ${d.code}`);
    expect(summary).toEqual([
      '4:13 config.invalid-value',
      '6:63 config.invalid-value',
      '7:18 config.unknown-source',
      '9:20 expr.syntax',
      '10:11 config.type',
      '11:25 config.duplicate',
      '12:3 config.unknown-key',
      '13:3 config.missing-key',
      '15:14 expr.syntax',
      '16:26 config.invalid-value',
    ]);
    // The message is one `file:line:col: ...` line per problem.
    const messageLines = error?.message.split('\n') ?? [];
    expect(messageLines).toHaveLength(10);
    expect(messageLines[0]).toMatch(new RegExp(`^${escapeRegExp(file)}:4:13: invalid value`));
    expect(error?.diagnostics[5]?.message).toBe(
      '`anchor` appears twice in `users.match` (items 1 and 3)',
    );
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('loadConfig: the cron schedule', () => {
  it('a schedule node-cron refuses is a config error at its line and column (validate and plan say so)', async () => {
    const found = await problems(
      validWith({ 13: ['    department: department', "schedule: '61 * * * *'"] }),
    );
    expect(found.map((d) => `${d.code} ${at(d)}`)).toEqual(['config.schedule 14:11']);
    expect(found[0]?.message).toMatch(/^`schedule: 61 \* \* \* \*` is not a cron expression \(/);
  });

  it('a valid schedule loads', async () => {
    const loaded = await load(
      validWith({ 13: ['    department: department', "schedule: '*/30 * * * *'"] }),
    );
    expect(loaded.config.schedule).toBe('*/30 * * * *');
  });
});
