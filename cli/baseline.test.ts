/**
 * `--baseline <git-ref>` / `--baseline-config <file>` (P2, second half) as a user runs them: a
 * real git repository in a temporary directory, the real CSV source and the embedded simulator
 * through the real Graph SDK (as cli/program.test.ts), asserting exit codes, the blocked reason
 * and what the simulated tenant holds afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, EntrasyncError } from '../engine/errors.js';
import { openTenantStore } from '../simulator/index.js';
import { baselineFromFile, baselineFromGit } from './baseline.js';
import { cli as run } from '../test/helpers/cli.js';

const BG = 'breakglass.account@contoso.com';
const LIFTED = 'protection was lifted in this change; lift it in a separate, earlier apply';

const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

let repo: string;
let config: string;

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, env: gitEnv, encoding: 'utf8' });
}

function configYaml(protect: string[]): string {
  return `version: 1
target:
  auth: { method: simulator }
  simulator: { state: .entrasync/tenant.db }
sources:
  hr: { kind: csv, path: employees.csv, key: employee_id }
users:
  anchor: employee_id
  anchorAttribute: employeeId
  match: [anchor, userPrincipalName]
  attributes:
    userPrincipalName: "$lowercase(first_name & '.' & last_name) & '@contoso.com'"
    displayName: "first_name & ' ' & last_name"
    accountEnabled: "status = 'active'"
  deprovision: { action: disable }
safety:
  minSourceRatio: 0.5
  protect: [${protect.join(', ')}]
`;
}

const PEOPLE = [
  '1,Ada,Lovelace,active',
  '2,Alan,Turing,active',
  '3,Grace,Hopper,active',
  '4,Breakglass,Account,active',
];

/** Writes the config (in `entrasync/`, not at the root) and the HR export, and commits both. */
function commit(message: string, protect: string[], people: string[]) {
  writeFileSync(config, configYaml(protect));
  writeFileSync(
    join(repo, 'entrasync', 'employees.csv'),
    ['employee_id,first_name,last_name,status', ...people].join('\n') + '\n',
  );
  git('add', '-A');
  git('commit', '-q', '-m', message);
}

function breakglassEnabled(): unknown {
  const store = openTenantStore(join(repo, 'entrasync', '.entrasync', 'tenant.db'));
  try {
    return store.getUserByUpn(BG)?.user.accountEnabled;
  } finally {
    store.close();
  }
}

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'entrasync-baseline-'));
  temps.push(repo);
  mkdirSync(join(repo, 'entrasync'));
  config = join(repo, 'entrasync', 'entrasync.yaml');
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, '.gitignore'), '.entrasync/\n');
  writeFileSync(join(repo, 'README.md'), 'before entrasync\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'no config yet');
});

describe('plan/apply --baseline (P2, protection lifted in the same change)', () => {
  it('P2: one commit that lifts protection and drops the person is blocked (exit 3); a separate earlier lift lets the next plan deprovision', async () => {
    // v1: the break-glass account exists, managed, and is protected.
    commit('v1: break-glass protected', [BG], PEOPLE);
    const first = await run('apply', '--auto-approve', '--config', config);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('protect-lift check not run: no baseline');
    expect(breakglassEnabled()).toBe(true);

    // v2: the same commit lifts protection and drops the person from the source.
    commit('v2: lift and deprovision at once', [], PEOPLE.slice(0, 3));
    const blocked = await run('plan', '--config', config, '--baseline', 'HEAD^');
    expect(blocked.code).toBe(3);
    expect(blocked.stdout).toContain(`disable ${BG}`);
    expect(blocked.stdout).toContain(LIFTED);
    expect(blocked.stdout).toContain(
      `Protection lifted by this change (baseline HEAD^:entrasync/entrasync.yaml): ${BG}`,
    );
    const json = await run('plan', '--config', config, '--baseline', 'HEAD^', '-f', 'json');
    expect(json.code).toBe(3);
    const plan = JSON.parse(json.stdout) as {
      changes: unknown[];
      blocked: {
        code: string;
        message: string;
        change: { kind: string; user: { userPrincipalName: string } };
      }[];
      protectLift: unknown;
    };
    expect(plan.changes).toEqual([]);
    expect(
      plan.blocked.map((b) => [b.change.kind, b.change.user.userPrincipalName, b.code]),
    ).toEqual([['disableUser', BG, 'protection-lifted']]);
    expect(plan.protectLift).toMatchObject({
      ran: true,
      baseline: { protect: [BG], from: 'HEAD^:entrasync/entrasync.yaml' },
      lifted: [{ userPrincipalName: BG }],
    });
    // Without the baseline nothing knows protection was just lifted: the disable is planned.
    const blind = await run('plan', '--config', config);
    expect(blind.code).toBe(2);
    expect(blind.stdout).toContain('protect-lift check not run: no baseline');
    // apply refuses the whole plan, and no --allow-* override lets it through.
    const fingerprint = (await run('plan', '--config', config, '--baseline', 'HEAD^', '-f', 'json'))
      .stdout;
    const fp = (JSON.parse(fingerprint) as { fingerprint: string }).fingerprint;
    for (const extra of [[], ['--allow-disables', '5', '--plan', fp]]) {
      const apply = await run(
        'apply',
        '--auto-approve',
        '--config',
        config,
        '--baseline',
        'HEAD^',
        ...extra,
      );
      expect(apply.code).toBe(3);
      expect(apply.stdout).toContain(LIFTED);
    }
    expect(breakglassEnabled()).toBe(true);

    // Instead: v2 lifts protection alone, and is applied.
    git('reset', '-q', '--hard', 'HEAD^');
    commit('v2: lift protection only', [], PEOPLE);
    const lift = await run('apply', '--auto-approve', '--config', config, '--baseline', 'HEAD^');
    expect(lift.code).toBe(0);
    expect(lift.stdout).toContain(`Protection lifted by this change`);
    expect(lift.stdout).toContain('Nothing to apply.');
    expect(breakglassEnabled()).toBe(true);

    // v3: the person leaves the source; the baseline (v2) no longer protects the account.
    commit('v3: deprovision', [], PEOPLE.slice(0, 3));
    const planFile = join(repo, 'plan.json');
    const next = await run('plan', '--config', config, '--baseline', 'HEAD^', '--out', planFile);
    expect(next.code).toBe(2);
    expect(next.stdout).toContain(`disable ${BG}`);
    expect(next.stdout).not.toContain('Blocked');

    // The saved plan's baseline counts: another baseline is a stale plan (exit 1), not a re-plan.
    const other = await run('apply', planFile, '--config', config, '--baseline', 'HEAD~2');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('plan.stale');
    expect(other.stderr).toContain('protects other accounts');
    expect(breakglassEnabled()).toBe(true);

    const applied = await run('apply', planFile, '--config', config, '--baseline', 'HEAD^');
    expect(applied.code).toBe(0);
    expect(breakglassEnabled()).toBe(false);
  });

  it('P2: --baseline-config reads the baseline from a file; a saved plan made without a baseline is refused with one', async () => {
    commit('v1', [BG], PEOPLE);
    expect((await run('apply', '--auto-approve', '--config', config)).code).toBe(0);
    const old = join(repo, 'old.yaml');
    writeFileSync(old, readFileSync(config));
    commit('v2: lift and deprovision at once', [], PEOPLE.slice(0, 3));

    const r = await run('plan', '--config', config, '--baseline-config', old);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(LIFTED);

    const planFile = join(repo, 'plan.json');
    expect((await run('plan', '--config', config, '--out', planFile)).code).toBe(2);
    const refused = await run('apply', planFile, '--config', config, '--baseline', 'HEAD^');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('was made without a baseline');
    expect(breakglassEnabled()).toBe(true);

    const both = await run(
      'plan',
      '--config',
      config,
      '--baseline',
      'HEAD^',
      '--baseline-config',
      old,
    );
    expect(both.code).toBe(1);
  });
});

describe('reading the baseline (cli/baseline.ts)', () => {
  it('P2: a config file that did not exist at the ref is an empty baseline', async () => {
    commit('v1', [BG], PEOPLE);
    expect(await baselineFromGit(config, 'HEAD^')).toEqual({
      protect: [],
      from: 'HEAD^:entrasync/entrasync.yaml',
    });
    expect(await baselineFromGit(config, 'HEAD')).toEqual({
      protect: [BG],
      from: 'HEAD:entrasync/entrasync.yaml',
    });
  });

  it('P2: an unknown ref, an option-like ref and a directory outside git are errors that say so', async () => {
    commit('v1', [BG], PEOPLE);
    await expect(baselineFromGit(config, 'no-such-branch')).rejects.toThrow(
      /--baseline no-such-branch: no such commit/,
    );
    await expect(baselineFromGit(config, '--output=x')).rejects.toBeInstanceOf(EntrasyncError);
    const outside = mkdtempSync(join(tmpdir(), 'entrasync-nogit-'));
    temps.push(outside);
    writeFileSync(join(outside, 'entrasync.yaml'), configYaml([]));
    await expect(baselineFromGit(join(outside, 'entrasync.yaml'), 'HEAD')).rejects.toThrow(
      /not in a git work tree.*--baseline-config/,
    );
  });

  it('P2: an invalid config at the ref fails with diagnostics that name the ref', async () => {
    writeFileSync(
      join(repo, 'entrasync', 'entrasync.yaml'),
      'version: 1\nsafety: { protect: 5 }\n',
    );
    git('add', '-A');
    git('commit', '-q', '-m', 'broken');
    commit('v2', [BG], PEOPLE);
    const err = await baselineFromGit(config, 'HEAD^').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('HEAD^:entrasync/entrasync.yaml');
  });

  it('P2: --baseline-config of a missing file is an error', async () => {
    await expect(baselineFromFile(join(repo, 'missing.yaml'))).rejects.toThrow(/ENOENT/);
  });
});
