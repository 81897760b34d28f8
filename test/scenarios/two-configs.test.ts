/**
 * P16 end to end: two configs with default marker settings keep one tenant in sync, each with its
 * own people (employees from `hr`, contractors from `contractors`). Before per-config markers
 * both wrote `entrasync`, so the second config's plan counted the first config's people as its
 * own leavers and disabled them. Through the CLI, the real @azure/identity and Graph SDK, and the
 * simulator over HTTPS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../engine/index.js';
import { startSimulator } from '../../simulator/index.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';
import { simTarget } from '../helpers/sim-target.js';

const SECRET_ENV = 'ENTRASYNC_TWO_CONFIGS_SECRET';

let dir: string;
let sim: RunningSimulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'entrasync-two-configs-'));
  sim = await startSimulator({ throttling: false });
  process.env[SECRET_ENV] = sim.clients[0]!.clientSecret;
  writeFileSync(
    join(dir, 'employees.csv'),
    'employee_id,name,dept\n1001,ada,Engineering\n1002,alan,Research\n1003,grace,Engineering\n',
  );
  writeFileSync(join(dir, 'contractors.csv'), 'id,name,agency\nC1,edsger,Acme\nC2,barbara,Acme\n');
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env[SECRET_ENV];
});

/** A config as a user writes it: no `target.marker`, default safety; a group both configs name. */
function config(name: string, source: string, file: string, key: string, dept: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `version: 1
${simTarget(sim, { secretEnv: SECRET_ENV })}
sources:
  ${source}: { kind: csv, path: ${file}, key: ${key} }
users:
  anchor: ${key}
  attributes:
    userPrincipalName: "name & '@contoso.com'"
    displayName: name
    mailNickname: name
    department: ${dept}
groups:
  - name: Everyone
    key: everyone
`,
  );
  return path;
}

async function planOf(path: string): Promise<{ code: number; plan: Plan }> {
  const run = await cli('plan', '-c', path, '-f', 'json');
  expect(run.stderr).toBe('');
  return { code: run.code, plan: JSON.parse(run.stdout) as Plan };
}

describe('two configs on one tenant (P16)', () => {
  it('P16: two configs with default settings, each applied in turn, then each re-planned: empty plans, nobody disabled, each lists the other as left alone (another config)', async () => {
    const employees = config('employees', 'hr', 'employees.csv', 'employee_id', 'dept');
    const contractors = config('contractors', 'contractors', 'contractors.csv', 'id', 'agency');

    for (const path of [employees, contractors]) {
      const applied = await cli(
        'apply',
        '--auto-approve',
        '-c',
        path,
        '--no-journal',
        '--no-progress',
      );
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
    }

    const marker = (upn: string) =>
      (
        sim.store.getUserByUpn(upn)?.user['onPremisesExtensionAttributes'] as
          Record<string, unknown> | undefined
      )?.['extensionAttribute15'];
    expect(marker('ada@contoso.com')).toBe('entrasync:hr');
    expect(marker('edsger@contoso.com')).toBe('entrasync:contractors');

    const others = {
      [employees]: ['barbara@contoso.com', 'edsger@contoso.com'],
      [contractors]: ['ada@contoso.com', 'alan@contoso.com', 'grace@contoso.com'],
    };
    for (const path of [employees, contractors]) {
      const { code, plan } = await planOf(path);
      expect(plan.changes.map((c) => `${c.kind} ${c.message}`)).toEqual([]);
      expect(plan.blocked).toEqual([]);
      expect(code).toBe(0);
      expect(
        plan.ignored
          .filter((i) => i.reason === 'other-config')
          .map((i) => i.user.userPrincipalName),
      ).toEqual(others[path]);
      const text = await cli('plan', '-c', path);
      expect(text.stdout).toMatch(/Left alone \(\d+\):.*\(another config: entrasync:/);
    }

    for (const upn of [...others[employees]!, ...others[contractors]!]) {
      expect(sim.store.getUserByUpn(upn)?.user['accountEnabled'], upn).toBe(true);
    }
    // The group both configs name is one group holding both configs' people: neither config
    // takes the other's people out of it.
    const group = sim.store.getGroupByUniqueName('entrasync-everyone');
    expect(group).toBeDefined();
    const members = sim.store
      .pageLinks('member', String(group!.doc['id']), 0, 100)
      .map((l) => l.targetId);
    const upns = members.map((id) => sim.store.getUserById(id)?.user.userPrincipalName).sort();
    expect(upns).toEqual([...others[contractors]!, ...others[employees]!].sort());
  });
});
