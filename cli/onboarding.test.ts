/**
 * Onboarding new hires (issue 23) through the CLI against the embedded simulator: the real
 * config loader, planner, the entra writer with the real Graph SDK, and the simulator's TAP
 * methods, policy and outbox (catalogue N1-N6).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CLIENT_ROLES,
  openTenantStore,
  startSimulator,
  temporaryAccessPassPolicy,
} from '../simulator/index.js';
import { simTarget } from '../test/helpers/sim-target.js';
import { applyRun, planRun } from '../engine/index.js';
import { Redactor } from '../engine/secret.js';
import { Killed, dyingJournal } from '../test/helpers/dying-journal.js';
import { openApplyStore } from './apply-store.js';
import { openRuntime } from './runtime.js';
import { cli } from '../test/helpers/cli.js';

const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

const SEED = {
  users: [
    {
      accountEnabled: true,
      displayName: 'IT Onboarding',
      mailNickname: 'it-onboarding',
      userPrincipalName: 'it-onboarding@contoso.com',
      mail: 'it-onboarding@contoso.com',
    },
    // The manager has an account this config manages already (anchor and marker).
    {
      accountEnabled: true,
      displayName: 'Maria Boss',
      mailNickname: 'maria.boss',
      userPrincipalName: 'maria.boss@contoso.com',
      mail: 'maria.boss@contoso.com',
      employeeId: '1',
      onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync:hr' },
    },
  ],
};

const TEMPLATE = `Subject: {{name}} starts on {{startAt}}

Hello {{manager}},

{{name}} ({{upn}}) signs in for the first time with this Temporary Access Pass:

    {{credential}}

It is valid until {{expiresAt}}.
`;

interface Options {
  readonly rows?: string;
  readonly onboarding?: string;
}

/** A config dir: HR CSV (a manager and new hires), a seed with the sending mailbox, a template. */
function workspace(options: Options = {}): { dir: string; config: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-onboarding-'));
  temps.push(dir);
  writeFileSync(
    join(dir, 'hr.csv'),
    options.rows ??
      [
        'id,first,last,manager_id,hire_date,private_email',
        '1,Maria,Boss,,2020-01-01,',
        '2,Neil,Newhire,1,2020-01-01,neil@example.org',
      ].join('\n') + '\n',
  );
  writeFileSync(join(dir, 'seed.json'), JSON.stringify(SEED));
  writeFileSync(join(dir, 'tap-mail.txt'), TEMPLATE);
  const config = join(dir, 'entrasync.yaml');
  writeFileSync(
    config,
    `version: 1
target:
  auth: { method: simulator }
  simulator: { seed: seed.json }
sources:
  hr: { kind: csv, path: hr.csv, key: id }
users:
  anchor: id
  manager: manager_id
  attributes:
    userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'"
    displayName: "first & ' ' & last"
    mail: "$lowercase(first & '.' & last) & '@contoso.com'"
${
  options.onboarding ??
  `  onboarding:
    credential: tap
    lifetime: 8h
    usableOnce: true
    startAt: hire_date
    delivery:
      via: email
      from: it-onboarding@contoso.com
      to: manager
      template: tap-mail.txt`
}
`,
  );
  return { dir, config, state: join(dir, '.entrasync', 'tenant.db') };
}

function outbox(state: string) {
  const store = openTenantStore(state);
  try {
    return store.outbox();
  } finally {
    store.close();
  }
}

function passOf(body: string): string {
  const match = /^ {4}(\S+)$/m.exec(body);
  if (!match?.[1]) throw new Error(`no pass in ${body}`);
  return match[1];
}

describe('onboarding new hires (issue 23)', () => {
  it('N1: a new hire with a manager gets a TAP, mailed to the manager with the template; apply says so; re-plan is empty', async () => {
    const { dir, config, state } = workspace();
    const plan = await cli('plan', '--config', config);
    expect(plan.stderr + plan.stdout).toContain('Plan');
    expect(plan.code, plan.stdout + plan.stderr).toBe(2); // changes to apply
    expect(plan.stdout).toContain('onboard neil.newhire@contoso.com');
    expect(plan.stdout).toContain('delivered by email to maria.boss@contoso.com (manager)');
    // The hire date is in the past: valid at once, and the plan says so.
    expect(plan.stdout).toContain('valid at once: start 2020-01-01 is not in the future');

    const markdown = await cli('plan', '--config', config, '-f', 'markdown');
    expect(markdown.stdout).toContain('delivered by email to maria.boss@contoso.com (manager)');
    const json = JSON.parse((await cli('plan', '--config', config, '-f', 'json')).stdout) as {
      changes: { kind: string; delivery?: { recipient: string } }[];
    };
    expect(json.changes.find((c) => c.kind === 'onboardUser')?.delivery?.recipient).toBe(
      'maria.boss@contoso.com',
    );

    const apply = await cli('apply', '--config', config, '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(
      /applied +onboard +neil\.newhire@contoso\.com: credential delivered to maria\.boss@contoso\.com/,
    );

    const mails = outbox(state);
    const toManager = mails.filter((m) =>
      m.toRecipients.some((r) => r.address === 'maria.boss@contoso.com'),
    );
    expect(toManager).toHaveLength(1);
    const mail = toManager[0]!;
    expect(mail.senderAddress).toBe('it-onboarding@contoso.com');
    expect(mail.saveToSentItems).toBe(false);
    expect(mail.subject).toMatch(/^Neil Newhire starts on \d{4}-\d{2}-\d{2}T/);
    expect(mail.body.content).toContain('Hello Maria Boss,');
    expect(mail.body.content).toContain('Neil Newhire (neil.newhire@contoso.com)');
    expect(mail.body.content).toMatch(/valid until \d{4}-\d{2}-\d{2}T/);
    const pass = passOf(mail.body.content);

    // Nothing written on disk by entrasync carries the pass.
    for (const file of ['entrasync.yaml', 'hr.csv']) {
      expect(readFileSync(join(dir, file), 'utf8')).not.toContain(pass);
    }
    expect(apply.stdout).not.toContain(pass);

    const again = await cli('plan', '--config', config);
    expect(again.stdout).toContain('no changes');
    expect(again.code, again.stdout).toBe(0);
  });

  it('N2: a new hire without a manager is held with the reason; the rest applies; no account is made for them', async () => {
    const { config, state } = workspace({
      rows:
        [
          'id,first,last,manager_id,hire_date,private_email',
          '1,Maria,Boss,,2020-01-01,',
          '2,Neil,Newhire,1,2020-01-01,',
          '3,Olga,Orphan,,2020-01-01,',
        ].join('\n') + '\n',
    });
    const plan = await cli('plan', '--config', config);
    expect(plan.code, plan.stdout + plan.stderr).toBe(3); // something is held
    expect(plan.stdout).toContain('olga.orphan@contoso.com');
    expect(plan.stdout + plan.stderr).toContain(
      'hr:3: no manager to deliver the credential to (users.manager gave nothing)',
    );
    expect(plan.stdout).toContain('1 onboarding');

    const apply = await cli('apply', '--config', config, '--auto-approve');
    expect(apply.code, apply.stdout + apply.stderr).toBe(3);
    expect(apply.stdout).toMatch(
      /applied +onboard +neil\.newhire@contoso\.com: credential delivered/,
    );
    const store = openTenantStore(state);
    try {
      expect(store.getUserByUpn('olga.orphan@contoso.com')).toBeUndefined();
      expect(store.getUserByUpn('neil.newhire@contoso.com')).toBeDefined();
    } finally {
      store.close();
    }
  });

  it('N3: Temporary Access Pass disabled in the tenant policy is a plan-time error that holds every new hire', async () => {
    const { config, state } = workspace();
    await cli('plan', '--config', config); // makes the simulated tenant from the seed
    const store = openTenantStore(state);
    try {
      store.setTemporaryAccessPassPolicy(temporaryAccessPassPolicy({ state: 'disabled' }));
    } finally {
      store.close();
    }
    const plan = await cli('plan', '--config', config);
    expect(plan.code, plan.stdout + plan.stderr).toBe(3);
    expect(plan.stdout + plan.stderr).toContain(
      "Temporary Access Pass is not enabled in the tenant's authentication methods policy",
    );
    const apply = await cli('apply', '--config', config, '--auto-approve');
    expect(apply.code).toBe(3);
    const after = openTenantStore(state);
    try {
      expect(after.getUserByUpn('neil.newhire@contoso.com')).toBeUndefined();
    } finally {
      after.close();
    }
    expect(outbox(state)).toHaveLength(0);
  });

  it('N4: a delivery that fails leaves no pass behind and the account awaiting; the next apply makes a new pass and delivers it', async () => {
    const onboarding = `  onboarding:
    credential: tap
    delivery:
      via: email
      from: it-onboarding@contoso.com
      to: personal
      address: private_email
      template: tap-mail.txt`;
    const header = 'id,first,last,manager_id,hire_date,private_email';
    // Exchange refuses this address (a list); the plan's own check lets it through.
    const { dir, config, state } = workspace({
      onboarding,
      rows: `${header}\n1,Maria,Boss,,2020-01-01,maria@example.org\n2,Neil,Newhire,1,2020-01-01,neil;x@example.org\n`,
    });
    const first = await cli('apply', '--config', config, '--auto-approve', '--format', 'json');
    expect(first.code, first.stderr + first.stdout).toBe(1);
    expect(first.stdout, first.stderr).not.toBe('');
    const result = JSON.parse(first.stdout) as {
      changes: { id: string; outcome: string; note?: string; error?: { message: string } }[];
    };
    const failed = result.changes.find((c) => c.id.startsWith('onboardUser:'));
    expect(failed?.outcome).toBe('failed');
    expect(failed?.error?.message).toContain(
      'credential not delivered to neil;x@example.org (2 attempts, each with a new credential, none left valid)',
    );
    expect(outbox(state)).toHaveLength(0);
    const store = openTenantStore(state);
    let neilId: string;
    try {
      const neil = store.getUserByUpn('neil.newhire@contoso.com');
      expect(neil).toBeDefined();
      neilId = String(neil!.user.id);
      expect(store.getTemporaryAccessPass(neilId)).toBeUndefined();
    } finally {
      store.close();
    }

    // HR fixes the address: the account still awaits its credential, so the plan onboards it.
    writeFileSync(
      join(dir, 'hr.csv'),
      `${header}\n1,Maria,Boss,,2020-01-01,maria@example.org\n2,Neil,Newhire,1,2020-01-01,neil@example.org\n`,
    );
    const plan = await cli('plan', '--config', config);
    expect(plan.stdout).toContain(
      'the account still awaits its credential (none was delivered): a new one is made',
    );
    const second = await cli('apply', '--config', config, '--auto-approve');
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('credential delivered to neil@example.org');
    const mails = outbox(state);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.toRecipients[0]?.address).toBe('neil@example.org');
    const after = openTenantStore(state);
    try {
      expect(after.getTemporaryAccessPass(neilId)).toBeDefined();
    } finally {
      after.close();
    }
    const again = await cli('plan', '--config', config);
    expect(again.stdout).toContain('no changes');
  });

  it('N5: the permission check of plan and doctor names UserAuthenticationMethod.ReadWrite.All, Mail.Send and Policy.Read.All; an unreadable policy holds the hires', async () => {
    const onboardingRoles = [
      'UserAuthenticationMethod.ReadWrite.All',
      'Mail.Send',
      'Policy.Read.All',
    ];
    const without = (...roles: string[]) => DEFAULT_CLIENT_ROLES.filter((r) => !roles.includes(r));
    const NONE = 'a0a0a0a0-0000-4000-8000-0000000000a0';
    const POLICY_ONLY = 'a0a0a0a0-0000-4000-8000-0000000000a1';
    const sim = await startSimulator({
      clients: [
        {
          clientId: NONE,
          clientSecret: 'onboarding-test-secret-1',
          roles: without(...onboardingRoles),
        },
        {
          clientId: POLICY_ONLY,
          clientSecret: 'onboarding-test-secret-1',
          roles: without('UserAuthenticationMethod.ReadWrite.All', 'Mail.Send'),
        },
      ],
      seed: SEED,
    });
    process.env.ENTRASYNC_ONBOARDING_SECRET = 'onboarding-test-secret-1';
    const configFor = (clientId: string): string => {
      const { dir, config } = workspace();
      const text = readFileSync(config, 'utf8').replace(
        /target:\n( {2}.*\n)+/,
        simTarget(sim, { secretEnv: 'ENTRASYNC_ONBOARDING_SECRET', clientId }),
      );
      writeFileSync(join(dir, 'entrasync.yaml'), text);
      return config;
    };
    try {
      // No policy read: every hire held with the reason, and the permission named.
      const blind = await cli('plan', '--config', configFor(NONE));
      expect(blind.code).toBe(3);
      expect(blind.stdout).toContain(
        'missing permission Policy.Read.All for action "read authentication methods policy"',
      );
      expect(blind.stdout).toContain(
        'held: the app may not read the authentication methods policy (403',
      );

      const config = configFor(POLICY_ONLY);
      const plan = await cli('plan', '--config', config);
      expect(plan.stdout).toContain(
        'missing permission UserAuthenticationMethod.ReadWrite.All for action "issue temporary access passes" (1 change)',
      );
      expect(plan.stdout).toContain(
        'missing permission Mail.Send for action "send mail" (1 change)',
      );

      const doctor = await cli('doctor', '--config', configFor(NONE), '--format', 'json');
      for (const action of [
        'issue temporary access passes',
        'send mail',
        'read authentication methods policy',
      ]) {
        expect(doctor.stdout).toContain(`for action \\"${action}\\"`);
      }
      expect(doctor.code).toBe(1);
    } finally {
      delete process.env.ENTRASYNC_ONBOARDING_SECRET;
      await sim.close();
    }
  });

  it('N19: an apply killed after the create and the manager, before the credential: the next apply (no journal) delivers a fresh pass', async () => {
    const { dir, config, state } = workspace();
    const first = await openRuntime(config, new Redactor());
    const store = openApplyStore(join(dir, 'crashed-runner', 'apply.db'));
    try {
      const plan = await planRun(first.loaded.spec, {
        sources: first.sources,
        target: first.target.reader,
      });
      expect(plan.changes.map((c) => c.kind)).toEqual(['createUser', 'setManager', 'onboardUser']);
      // Dies once the setManager's outcome is journaled (intent + outcome of two changes).
      await expect(
        applyRun(
          plan,
          first.loaded.spec,
          { target: first.target.reader, writer: first.target.writer },
          { journal: dyingJournal(store.journal, 4), lock: store.lock },
        ),
      ).rejects.toThrow(Killed);
    } finally {
      store.close();
      await first.close();
    }
    expect(outbox(state)).toHaveLength(0);
    const crashed = openTenantStore(state);
    try {
      const neil = crashed.getUserByUpn('neil.newhire@contoso.com');
      expect(neil?.user['onPremisesExtensionAttributes']).toMatchObject({
        extensionAttribute13: 'entrasync:onboarding-pending',
      });
      expect(crashed.getTemporaryAccessPass(String(neil?.user.id))).toBeUndefined();
    } finally {
      crashed.close();
    }

    // Another runner (its own journal, nothing of the crashed one): the account's mark is enough.
    const plan = await cli('plan', '--config', config);
    expect(plan.stdout).toContain('the account still awaits its credential');
    const apply = await cli('apply', '--config', config, '--auto-approve');
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain('credential delivered to maria.boss@contoso.com');
    const mails = outbox(state);
    expect(mails).toHaveLength(1);
    expect(passOf(mails[0]!.body.content)).toMatch(/^\S{8,}$/);
    expect((await cli('plan', '--config', config)).stdout).toContain('no changes');
  });

  it('N22: validate reads the onboarding template: a template without {{credential}} is an error before any plan', async () => {
    const { dir, config } = workspace();
    expect((await cli('validate', '--config', config)).code).toBe(0);
    writeFileSync(join(dir, 'tap-mail.txt'), 'Subject: Welcome\n\nno pass in here\n');
    const result = await cli('validate', '--config', config);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'onboarding template `tap-mail.txt`: the body must contain {{credential}}',
    );
  });
});
