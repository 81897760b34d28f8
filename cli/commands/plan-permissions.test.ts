/**
 * X4/X5 in `plan`: the permission check runs before planning and its findings are plan warnings
 * ("missing permission X for action Y (N changes)") in text, markdown and JSON, for the identity
 * the plan ran as (its token's roles) or, with `--apply-roles`, for the apply identity; excess
 * privilege is a warning either way. Through the CLI, the real @azure/identity and Graph SDK,
 * and the simulator with clients holding different roles.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as plan } from '../../test/helpers/cli.js';
import type { Plan } from '../../engine/index.js';
import { DEFAULT_CLIENT_ROLES, startSimulator } from '../../simulator/index.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { simTarget } from '../../test/helpers/sim-target.js';

const PLANNER = 'b2b2b2b2-0000-4000-8000-000000000002';
const BROAD = 'd4d4d4d4-0000-4000-8000-000000000004';
const SECRET_ENV = 'ENTRASYNC_PLAN_PERMISSIONS_SECRET';
const SECRETS: Record<string, string> = {
  [PLANNER]: 'planner-secret-123456',
  [BROAD]: 'broad-secret-1234567',
};
// The pull-request identity of X4: reads only.
const READ_ONLY = ['User.Read.All', 'GroupMember.Read.All', 'RoleManagement.Read.Directory'];

let dir: string;
let sim: RunningSimulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'entrasync-plan-permissions-'));
  const managed = (id: string, name: string, dept: string) => ({
    userPrincipalName: `${name}@contoso.com`,
    displayName: name,
    mailNickname: name,
    accountEnabled: true,
    employeeId: id,
    department: dept,
    onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync:hr' },
  });
  sim = await startSimulator({
    throttling: false,
    clients: [
      { clientId: PLANNER, clientSecret: SECRETS[PLANNER]!, roles: READ_ONLY },
      { clientId: BROAD, clientSecret: SECRETS[BROAD]!, roles: ['Directory.ReadWrite.All'] },
    ],
    // One stays (department changes), one left the source (disable and revoke sessions).
    seed: { users: [managed('1', 'stays', 'Ops'), managed('2', 'leaves', 'Ops')] },
  });
  writeFileSync(
    join(dir, 'people.csv'),
    'id,name,dept\n1,stays,Sales\n3,newone,Ops\n4,newtwo,Ops\n',
  );
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env[SECRET_ENV];
});

function config(clientId: string): string {
  process.env[SECRET_ENV] = SECRETS[clientId];
  const path = join(dir, `${clientId}.yaml`);
  writeFileSync(
    path,
    `version: 1
${simTarget(sim, { secretEnv: SECRET_ENV, clientId })}
sources:
  hr: { kind: csv, path: people.csv, key: id }
users:
  anchor: id
  attributes:
    userPrincipalName: "name & '@contoso.com'"
    displayName: name
    mailNickname: name
    department: dept
  deprovision: { action: disable, revokeSessions: true }
groups:
  - name: Everyone
    key: everyone
safety:
  minSourceRatio: 0
  maxCreates: { count: 100 }
  maxDisables: { count: 100 }
  maxUpdates: { count: 100 }
`,
  );
  return path;
}

function permissionWarnings(out: string): { code: string; message: string; subject?: string }[] {
  return (JSON.parse(out) as Plan).warnings.filter((w) => w.code.startsWith('permission.'));
}

describe('plan: permission check (X4, X5)', () => {
  it('X4/X5: a read-only identity gets "missing permission X for action Y (N changes)" for each action the plan needs, in JSON, text and markdown; the plan and its exit code are unchanged', async () => {
    const path = config(PLANNER);
    const json = await plan('plan', '-c', path, '-f', 'json');
    expect(json.code).toBe(2);
    const kinds = (JSON.parse(json.stdout) as Plan).changes.map((c) => c.kind).sort();
    expect(kinds).toEqual([
      'addMembers',
      'createGroup',
      'createUser',
      'createUser',
      'disableUser',
      'updateUser',
    ]);
    const holds = `the identity this plan ran as holds ${READ_ONLY.join(', ')}`;
    const hint = '; if apply runs as another identity, pass its permissions as --apply-roles';
    expect(permissionWarnings(json.stdout)).toEqual([
      {
        code: 'permission.missing',
        subject: 'create users',
        message: `missing permission User.ReadWrite.All for action "create users" (2 changes): ${holds}${hint}`,
      },
      {
        code: 'permission.missing',
        subject: 'update users',
        message: `missing permission User.ReadWrite.All for action "update users" (1 change): ${holds}${hint}`,
      },
      {
        code: 'permission.missing',
        subject: 'enable and disable users',
        message: `missing permission User.EnableDisableAccount.All + User.Read.All for action "enable and disable users" (1 change): ${holds}${hint}`,
      },
      {
        code: 'permission.missing',
        subject: 'create groups',
        message: `missing permission Group.Create for action "create groups" (1 change): ${holds}${hint}`,
      },
      {
        code: 'permission.missing',
        subject: 'manage group members',
        message: `missing permission GroupMember.ReadWrite.All for action "manage group members" (1 change): ${holds}${hint}`,
      },
      {
        code: 'permission.missing',
        subject: 'revoke sessions',
        message: `missing permission User.RevokeSessions.All for action "revoke sessions" (1 change): ${holds}${hint}`,
      },
      {
        code: 'permission.missing',
        subject: 'read verified domains',
        message: `missing permission Domain.Read.All for action "read verified domains" (every run reads it): ${holds}; the verified-domain check is skipped`,
      },
    ]);

    const text = await plan('plan', '-c', path);
    expect(text.code).toBe(2);
    expect(text.stdout).toContain(
      'permission.missing: missing permission User.ReadWrite.All for action "create users" (2 changes)',
    );
    const markdown = await plan('plan', '-c', path, '-f', 'markdown');
    expect(markdown.stdout).toContain(
      '`permission.missing`: missing permission User.ReadWrite.All for action "create users" (2 changes)',
    );
    // Planning never writes, whatever the identity.
    expect(
      sim.requestLog.filter((e) => e.method !== 'GET' && !e.path.includes('/oauth2/')),
    ).toEqual([]);
  });

  it('--apply-roles checks the apply identity instead: none missing with the least-privileged write set; with User.ReadWrite.All alone, the group actions are', async () => {
    const path = config(PLANNER);
    const full = await plan(
      'plan',
      '-c',
      path,
      '-f',
      'json',
      '--apply-roles',
      DEFAULT_CLIENT_ROLES.join(','),
    );
    expect(full.code).toBe(2);
    expect(permissionWarnings(full.stdout)).toEqual([]);

    const narrow = await plan(
      'plan',
      '-c',
      path,
      '-f',
      'json',
      '--apply-roles',
      ' User.ReadWrite.All ',
    );
    const holds = 'the apply identity holds User.ReadWrite.All';
    expect(permissionWarnings(narrow.stdout).map((w) => w.message)).toEqual([
      `missing permission RoleManagement.Read.Directory for action "find privileged users" (every run reads it): ${holds}; admins cannot be told apart, so apply touches none of them`,
      `missing permission Group.Create for action "create groups" (1 change): ${holds}`,
      `missing permission GroupMember.ReadWrite.All for action "manage group members" (1 change): ${holds}`,
      `missing permission Domain.Read.All for action "read verified domains" (every run reads it): ${holds}; the verified-domain check is skipped`,
    ]);

    const bad = await plan('plan', '-c', path, '--apply-roles', ' , ');
    // A usage error (commander prints it): no plan.
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
  });

  it('X5: excess privilege (Directory.ReadWrite.All) warns for the identity the plan ran as and for the apply identity', async () => {
    const path = config(BROAD);
    const own = await plan('plan', '-c', path, '-f', 'json');
    expect(own.code).toBe(2);
    expect(permissionWarnings(own.stdout)).toEqual([
      {
        code: 'permission.excess',
        message: expect.stringMatching(
          /^the identity this plan ran as: the app holds Directory\.ReadWrite\.All, more than entrasync needs/,
        ),
      },
    ]);
    const both = await plan(
      'plan',
      '-c',
      path,
      '-f',
      'json',
      '--apply-roles',
      'Directory.ReadWrite.All',
    );
    expect(permissionWarnings(both.stdout).map((w) => w.message.split(':')[0])).toEqual([
      'the identity this plan ran as',
      'the apply identity',
    ]);
  });
});
