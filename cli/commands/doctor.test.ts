/**
 * `entrasync doctor` end to end (issue 22): through the CLI, the real @azure/identity and Graph
 * SDK, and two HTTPS simulators: a tenant ready for the config (every check ok) and a
 * misconfigured one (missing permission, unverified domain, clock an hour off, an account of
 * another config holding a person's anchor, a SKU the tenant lacks), whose failures are named.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../test/helpers/cli.js';
import { offsetClock, startSimulator, systemClock } from '../../simulator/index.js';
import type { RunningSimulator } from '../../simulator/index.js';
import type { DoctorFinding } from './doctor-checks.js';
import { simTarget } from '../../test/helpers/sim-target.js';

const CLIENT = 'd0c70000-0000-4000-8000-0000000000d0';
const SECRET = 'doctor-secret-8c1f00aa42';
const SECRET_ENV = 'ENTRASYNC_DOCTOR_TEST_SECRET';
const NO_READ_CLIENT = 'd0c70000-0000-4000-8000-0000000000d1';
const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';

let dir: string;
let good: RunningSimulator;
let bad: RunningSimulator;

const otherConfigsAccount = (id: string, name: string) => ({
  userPrincipalName: `${name}@contoso.com`,
  displayName: name,
  mailNickname: name,
  accountEnabled: true,
  employeeId: id,
  onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync:payroll' },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'entrasync-doctor-'));
  process.env[SECRET_ENV] = SECRET;
  const client = (roles: string[]) => [{ clientId: CLIENT, clientSecret: SECRET, roles }];
  const domains = [{ id: 'contoso.com', isVerified: true, isDefault: true }];
  good = await startSimulator({
    throttling: false,
    clients: client([
      'User.ReadWrite.All',
      'RoleManagement.Read.Directory',
      'Organization.Read.All',
      'Domain.Read.All',
    ]),
    seed: {
      domains,
      subscribedSkus: [{ skuId: E3, skuPartNumber: 'SPE_E3', prepaidUnits: { enabled: 10 } }],
      // Another config's account, whose anchor no person of this config has.
      users: [otherConfigsAccount('900', 'payroll-only')],
    },
  });
  bad = await startSimulator({
    throttling: false,
    // Graph's clock an hour ahead of this machine's.
    clock: offsetClock(systemClock(), 3_600_000),
    clients: [
      ...client([
        'User.Read.All',
        'RoleManagement.Read.Directory',
        'Organization.Read.All',
        'Domain.Read.All',
        'Application.ReadWrite.All',
      ]),
      { clientId: NO_READ_CLIENT, clientSecret: SECRET, roles: ['Domain.Read.All'] },
    ],
    seed: {
      domains,
      subscribedSkus: [{ skuId: E3, skuPartNumber: 'SPE_E3', prepaidUnits: { enabled: 10 } }],
      // Another config's account holding the anchor of person 1.
      users: [otherConfigsAccount('1', 'ada-elsewhere')],
    },
  });
  writeFileSync(join(dir, 'people.csv'), 'id,name\n1,ada\n2,grace\n');
});

afterAll(async () => {
  await good.close();
  await bad.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env[SECRET_ENV];
});

function config(
  name: string,
  sim: RunningSimulator,
  domain: string,
  sku: string,
  clientId = CLIENT,
): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `version: 1
${simTarget(sim, { secretEnv: SECRET_ENV, clientId, extra: [`marker: { id: hr }`] })}
sources:
  hr: { kind: csv, path: people.csv, key: id }
users:
  anchor: id
  attributes:
    userPrincipalName: "name & '@${domain}'"
    mail: "name & '@${domain}'"
    displayName: name
    mailNickname: name
    usageLocation: "'DE'"
licenses:
  - sku: ${sku}
`,
  );
  return path;
}

function statusLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^(ok|warn|fail)\s/.test(l));
}

describe('entrasync doctor', () => {
  it('a tenant ready for the config: one ok line per check, exit 0', async () => {
    const before = good.requestLog.length;
    const result = await cli('doctor', '-c', config('good', good, 'contoso.com', 'SPE_E3'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = statusLines(result.stdout);
    const checks = lines.map((l) => l.split(/\s+/)[1]);
    expect(new Set(checks)).toEqual(
      new Set(['permissions', 'domains', 'clock', 'markers', 'skus', 'sources']),
    );
    expect(lines.every((l) => l.startsWith('ok '))).toBe(true);
    expect(result.stdout).toMatch(
      /domains\s+contoso\.com \(users\.attributes\.userPrincipalName\) is verified/,
    );
    expect(result.stdout).toMatch(/clock\s+the local clock is within 1s of Microsoft Graph's/);
    expect(result.stdout).toContain(
      'accounts of other configs: entrasync:payroll (1); none collides',
    );
    expect(result.stdout).toContain('SPE_E3 (licenses[0]) is subscribed: 0 of 10 seats used');
    expect(result.stdout).toContain('doctor: 6 ok, 0 warn, 0 fail');
    // Doctor never writes.
    const writes = good.requestLog
      .slice(before)
      .filter((e) => e.method !== 'GET' && e.path.startsWith('/v1.0'));
    expect(writes).toEqual([]);
  });

  it('a misconfigured tenant: the missing permission, unverified domain, clock skew, marker collision and missing SKU each fail with a hint; excess privilege warns; exit 1', async () => {
    const result = await cli('doctor', '-c', config('bad', bad, 'fabrikam.com', 'ENTERPRISEPACK'));
    expect(result.code).toBe(1);
    const lines = statusLines(result.stdout);
    const failing = (check: string) =>
      lines.filter((l) => new RegExp(`^fail\\s+${check}\\s`).test(l));
    expect(failing('permissions').join('\n')).toMatch(
      /missing permission User\.ReadWrite\.All for action "create users".*hint: grant the application permission/,
    );
    expect(failing('domains')).toEqual([
      expect.stringMatching(
        /fabrikam\.com \(users\.attributes\.userPrincipalName\) is not a verified domain of the tenant \(verified: .*contoso\.com.*\) \(hint: verify the domain/,
      ),
    ]);
    expect(failing('clock')).toEqual([
      expect.stringMatching(
        /the local clock is (59m 5\ds|1h 0m|1h) behind Microsoft Graph's .*, past safety\.maxClockSkew 5m: .*\(hint: set the clock right \(NTP\)\)/,
      ),
    ]);
    expect(failing('markers')).toEqual([
      expect.stringMatching(
        /1 person\(s\) of this config collide with accounts of another config \(entrasync:payroll \(1\)\): hr:1: ada-elsewhere@contoso\.com is managed by another entrasync config/,
      ),
    ]);
    expect(failing('skus')).toEqual([
      expect.stringMatching(
        /ENTERPRISEPACK \(licenses\[0\]\) is not subscribed in the tenant \(subscribed: SPE_E3\) \(hint: /,
      ),
    ]);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^warn\s+permissions\s+the app holds Application\.ReadWrite\.All, more than entrasync needs/,
      ),
    );
    expect(lines.filter((l) => l.startsWith('fail')).every((l) => l.includes('(hint: '))).toBe(
      true,
    );
  });

  it('an app that cannot read users: the missing permissions and an unreadable tenant fail, exit 1', async () => {
    const path = config('no-read', bad, 'contoso.com', 'SPE_E3', NO_READ_CLIENT);
    const result = await cli('doctor', '-c', path);
    expect(result.code).toBe(1);
    const lines = statusLines(result.stdout);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^fail\s+permissions\s+missing permission User\.Read\.All for action "read users"/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^fail\s+tenant\s+the tenant could not be read, so the other checks did not run: reading users failed .*403/,
      ),
    );
  });

  it('with target.excessPrivilege: refuse, excess privilege fails, since apply would refuse', async () => {
    const path = config('refuse', bad, 'contoso.com', 'SPE_E3');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(
        '  marker: { id: hr }',
        '  marker: { id: hr }\n  excessPrivilege: refuse',
      ),
    );
    const result = await cli('doctor', '-c', path);
    expect(result.code).toBe(1);
    expect(statusLines(result.stdout)).toContainEqual(
      expect.stringMatching(
        /^fail\s+permissions\s+the app holds Application\.ReadWrite\.All, .*\(hint: apply refuses to run/,
      ),
    );
  });

  it('--format json: the same checks as data', async () => {
    const result = await cli(
      'doctor',
      '-c',
      config('bad-json', bad, 'fabrikam.com', 'ENTERPRISEPACK'),
      '--format',
      'json',
    );
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      summary: { ok: number; warn: number; fail: number };
      checks: DoctorFinding[];
    };
    expect(report.ok).toBe(false);
    const failed = new Set(report.checks.filter((c) => c.status === 'fail').map((c) => c.check));
    expect(failed).toEqual(new Set(['permissions', 'domains', 'clock', 'markers', 'skus']));
    expect(report.summary.fail).toBe(report.checks.filter((c) => c.status === 'fail').length);
    expect(report.checks.every((c) => c.status !== 'fail' || typeof c.hint === 'string')).toBe(
      true,
    );
    const ready = await cli(
      'doctor',
      '-c',
      config('good-json', good, 'contoso.com', 'SPE_E3'),
      '-f',
      'json',
    );
    expect(ready.code).toBe(0);
    expect(JSON.parse(ready.stdout)).toMatchObject({ ok: true, summary: { warn: 0, fail: 0 } });
  });
});
