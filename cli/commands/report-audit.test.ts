/**
 * `entrasync report --audit` end to end: applies through the CLI against an HTTPS simulator
 * (the real @azure/identity and Graph SDK), then the provisioning report read back from the
 * tenant's directory audit log: this app's creates and updates with their times, another app's
 * writes filtered out, every page followed, and a missing AuditLog.Read.All as one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClientSecretCredential,
  createGraphClient,
} from '../../connectors/entra/graph-client.js';
import { Redactor } from '../../engine/secret.js';
import { startSimulator } from '../../simulator/index.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { cli } from '../../test/helpers/cli.js';
import { simTarget } from '../../test/helpers/sim-target.js';
import { exampleWorkspace, removeWorkspaces } from '../../test/helpers/workspace.js';
import { runAuditReport } from './report-audit.js';
import { parseAction, parseOutcome, parseTime, renderEvents } from './report.js';

const APP = 'a0d17000-0000-4000-8000-0000000000a1';
const OTHER = 'a0d17000-0000-4000-8000-0000000000a2';
const NO_AUDIT = 'a0d17000-0000-4000-8000-0000000000a3';
const SECRET = 'audit-report-secret-5d2e91';
const SECRET_ENV = 'ENTRASYNC_AUDIT_REPORT_TEST_SECRET';
const WRITE_ROLES = [
  'User.ReadWrite.All',
  'RoleManagement.Read.Directory',
  'Organization.Read.All',
  'Domain.Read.All',
];

let dir: string;
let sim: RunningSimulator;
let config: string;
let firstApplyAt: number;

interface JsonReport {
  filters: Record<string, unknown>;
  summary: Record<string, number>;
  events: {
    time: string;
    action: string;
    outcome: string;
    userPrincipalName: string;
    userId: string | null;
    mode: string;
    message: string;
  }[];
}

function writeConfig(name: string, clientId: string): string {
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
    userPrincipalName: "name & '@contoso.com'"
    displayName: title
    mailNickname: name
`,
  );
  return path;
}

async function apply(): Promise<void> {
  const result = await cli('apply', '--auto-approve', '-c', config);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'entrasync-audit-report-'));
  process.env[SECRET_ENV] = SECRET;
  sim = await startSimulator({
    throttling: false,
    clients: [
      { clientId: APP, clientSecret: SECRET, roles: [...WRITE_ROLES, 'AuditLog.Read.All'] },
      { clientId: OTHER, clientSecret: SECRET, roles: ['User.ReadWrite.All'] },
      { clientId: NO_AUDIT, clientSecret: SECRET, roles: WRITE_ROLES },
    ],
    seed: { domains: [{ id: 'contoso.com', isVerified: true, isDefault: true }], users: [] },
  });
  config = writeConfig('app', APP);
  writeFileSync(join(dir, 'people.csv'), 'id,name,title\n1,ada,Ada\n2,grace,Grace\n3,alan,Alan\n');
  firstApplyAt = Date.now();
  await apply();
  writeFileSync(
    join(dir, 'people.csv'),
    'id,name,title\n1,ada,Ada Lovelace\n2,grace,Grace\n3,alan,Alan\n',
  );
  await apply();
  // Another app's write in the same tenant: not this config's, so not in its report.
  const conn = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  await createGraphClient(conn, createClientSecretCredential(conn, OTHER, SECRET))
    .api('/users')
    .post({
      accountEnabled: true,
      displayName: 'Eve',
      mailNickname: 'eve',
      userPrincipalName: 'eve@contoso.com',
      passwordProfile: { password: 'xWwvJ]6NMw+bWH-d', forceChangePasswordNextSignIn: true },
    });
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  removeWorkspaces();
  delete process.env[SECRET_ENV];
});

describe('entrasync report --audit', () => {
  it("lists this app's created and updated users with their times, and nothing of another app", async () => {
    const result = await cli('report', '--audit', '-c', config, '-f', 'json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.filters).toMatchObject({ source: 'audit', appId: APP });
    const rows = report.events.map((e) => [e.action, e.outcome, e.userPrincipalName]);
    // The three creates (in the order the apply made them), then the second apply's update.
    expect(rows.slice(0, 3).sort()).toEqual([
      ['createUser', 'applied', 'ada@contoso.com'],
      ['createUser', 'applied', 'alan@contoso.com'],
      ['createUser', 'applied', 'grace@contoso.com'],
    ]);
    expect(rows.slice(3)).toEqual([['updateUser', 'applied', 'ada@contoso.com']]);
    expect(report.summary).toEqual({ applied: 4 });
    for (const e of report.events) {
      expect(e.mode).toBe('audit');
      expect(Date.parse(e.time)).toBeGreaterThanOrEqual(Math.floor(firstApplyAt / 1000) * 1000);
      expect(Date.parse(e.time)).toBeLessThanOrEqual(Date.now());
    }
    expect(report.events[3]?.message).toContain('displayName');
    expect(result.stdout).not.toContain('eve@contoso.com');

    const text = await cli('report', '--audit', '-c', config, '--action', 'update');
    expect(text.stdout).toMatch(
      /Provisioning report \(source=audit, appId=.*, action=updateUser\): 1 change/,
    );
    expect(text.stdout).toMatch(/updateUser\s+applied\s+ada@contoso\.com/);
    const none = await cli(
      'report',
      '--audit',
      '-c',
      config,
      '--until',
      '2000-01-01',
      '-f',
      'json',
    );
    expect((JSON.parse(none.stdout) as JsonReport).events).toEqual([]);
  });

  it('follows every page of the audit log', async () => {
    const before = sim.requestLog.length;
    let stdout = '';
    const code = await runAuditReport(
      { config, format: 'json' },
      { out: (t) => (stdout += t), err: (t) => (stdout += t) },
      new Redactor(),
      Date.now(),
      { parseTime, parseAction, parseOutcome, renderEvents },
      { pageSize: 2 },
    );
    expect(code).toBe(0);
    const pages = sim.requestLog
      .slice(before)
      .filter((e) => e.path.startsWith('/v1.0/auditLogs/directoryAudits'));
    // Four entries of this app, two a page.
    expect(pages).toHaveLength(2);
    expect(pages.slice(1).every((e) => e.path.includes('$skiptoken='))).toBe(true);
    const paged = JSON.parse(stdout) as JsonReport;
    const whole = JSON.parse((await cli('report', '--audit', '-c', config, '-f', 'json')).stdout);
    expect(paged.events).toEqual((whole as JsonReport).events);
  });

  it('the quickstart on the embedded simulator: apply, then report --audit lists its creates', async () => {
    const { config: quickstart } = exampleWorkspace('quickstart', 'entrasync-audit-qs-');
    const applied = await cli('apply', '--auto-approve', '-c', quickstart, '-f', 'json');
    expect(applied.code).toBe(0);
    const result = await cli('report', '--audit', '-c', quickstart, '-f', 'json');
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as JsonReport;
    const created = report.events.filter((e) => e.action === 'createUser');
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((e) => e.outcome === 'applied' && e.userPrincipalName.includes('@'))).toBe(
      true,
    );
  });

  it('without AuditLog.Read.All: one line naming the permission, exit 1', async () => {
    const result = await cli('report', '--audit', '-c', writeConfig('no-audit', NO_AUDIT));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^error \(permission\.missing\): missing permission AuditLog\.Read\.All for action "read the audit log"/,
      ),
    ]);
  });
});
