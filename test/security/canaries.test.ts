/**
 * X1: canary secrets (the Graph client secret and an HR API bearer token) go through every
 * command, in success and in failure, and none of them may appear in anything entrasync prints
 * or writes: stdout, stderr (errors included), plan text/JSON/markdown, the saved plan file and
 * the simulator's request log. (The LDAP bind password canary is swept in connectors/ldap.)
 *
 * The Temporary Access Pass of a new hire (issue 23) is swept the same way: it is random, so
 * the test reads it from the one place it must be, the mail in the simulator's outbox, and then
 * looks for it everywhere else: output (debug log included), plan, journal and history files,
 * and the request log.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { startFixtureServer } from '../../connectors/http/test-helpers/fixture-server.js';
import type { FixtureServer } from '../../connectors/http/test-helpers/fixture-server.js';
import { DEFAULT_CLIENT_ROLES, startSimulator } from '../../simulator/index.js';
import type { RunningSimulator } from '../../simulator/index.js';

const CLIENT_SECRET = 'canary-client-secret-7Qm2ZpL9x';
const HR_TOKEN = 'canary-hr-token-Vb83kTq0w';

let dir: string;
let sim: RunningSimulator;
let hr: FixtureServer;
const printed: string[] = [];

async function run(...args: string[]) {
  const result = await cli(...args);
  printed.push(result.stdout, result.stderr);
  return result;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'entrasync-canary-'));
  sim = await startSimulator({
    clients: [
      {
        clientId: '11111111-2222-3333-4444-555555555555',
        clientSecret: CLIENT_SECRET,
        roles: [...DEFAULT_CLIENT_ROLES],
      },
    ],
  });
  hr = await startFixtureServer((request) => {
    if (request.headers.authorization !== `Bearer ${HR_TOKEN}`) {
      // A careless server that echoes the credential it was sent.
      return { status: 401, body: { error: `bad token ${request.headers.authorization ?? ''}` } };
    }
    return {
      body: {
        data: [
          { id: '1', first: 'Ada', last: 'Lovelace', status: 'active' },
          { id: '2', first: 'Alan', last: 'Turing', status: 'active' },
        ],
      },
    };
  });
  writeFileSync(
    join(dir, 'entrasync.yaml'),
    `version: 1
target:
  auth: { method: secret, clientSecret: "\${env:CANARY_CLIENT_SECRET}" }
  tenantId: ${sim.tenantId}
  clientId: 11111111-2222-3333-4444-555555555555
  graphUrl: ${sim.origin}
  authorityHost: ${sim.authorityHost}
  caFile: ${sim.caFile}
sources:
  hr:
    kind: http
    url: ${hr.url('/people')}
    key: id
    records: data
    auth: { method: bearer, token: "\${env:CANARY_HR_TOKEN}" }
users:
  anchor: id
  attributes:
    userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'"
    displayName: "first & ' ' & last"
    accountEnabled: "status = 'active'"
`,
  );
});

afterAll(async () => {
  await hr.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env.CANARY_CLIENT_SECRET;
  delete process.env.CANARY_HR_TOKEN;
});

describe('X1: canary secrets never leave entrasync', () => {
  it('through validate, plan (text, JSON, markdown, saved), apply and explain, and through failures', async () => {
    const config = join(dir, 'entrasync.yaml');
    const planFile = join(dir, 'plan.json');
    process.env.CANARY_CLIENT_SECRET = CLIENT_SECRET;
    process.env.CANARY_HR_TOKEN = HR_TOKEN;

    expect((await run('validate', '-c', config)).code).toBe(0);
    expect((await run('plan', '-c', config, '--out', planFile)).code).toBe(2);
    expect((await run('plan', '-c', config, '-f', 'json')).code).toBe(2);
    expect((await run('plan', '-c', config, '-f', 'markdown')).code).toBe(2);
    expect((await run('apply', planFile, '-c', config)).code).toBe(0);
    expect((await run('explain', '1', '-c', config)).code).toBe(0);

    // Failures: the HR API rejects (and echoes) a wrong token; Entra rejects a wrong secret.
    process.env.CANARY_HR_TOKEN = `${HR_TOKEN}-wrong`;
    const badToken = await run('plan', '-c', config);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr + badToken.stdout).toContain('HTTP 401');
    expect(badToken.stderr).toContain('Bearer [redacted]');
    process.env.CANARY_HR_TOKEN = HR_TOKEN;
    process.env.CANARY_CLIENT_SECRET = `${CLIENT_SECRET}-wrong`;
    const badSecret = await run('plan', '-c', config);
    expect(badSecret.code).toBe(1);

    const everything = [
      ...printed,
      readFileSync(planFile, 'utf8'),
      JSON.stringify(sim.requestLog),
    ].join('\n');
    expect(everything).not.toContain(CLIENT_SECRET);
    expect(everything).not.toContain(HR_TOKEN);
    expect(everything.length).toBeGreaterThan(1000);
  });
});

/** Every file under `root`, read as bytes (SQLite journals and history included). */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name)).toString('latin1'));
}

describe('X1: the Temporary Access Pass of a new hire never leaves its mail', () => {
  it('through plan, apply (text, JSON, debug log), journal, history and the request log', async () => {
    const work = mkdtempSync(join(tmpdir(), 'entrasync-canary-tap-'));
    const tapSim = await startSimulator({
      clients: [
        {
          clientId: '11111111-2222-3333-4444-555555555555',
          clientSecret: CLIENT_SECRET,
          roles: [...DEFAULT_CLIENT_ROLES],
        },
      ],
      seed: {
        users: [
          {
            accountEnabled: true,
            displayName: 'IT',
            mailNickname: 'it',
            userPrincipalName: 'it@contoso.com',
            mail: 'it@contoso.com',
          },
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
      },
    });
    try {
      writeFileSync(
        join(work, 'hr.csv'),
        'id,first,last,boss\n1,Maria,Boss,\n2,Neil,New,1\n3,Olga,New,\n',
      );
      writeFileSync(join(work, 'tap.txt'), 'Subject: {{name}}\n\nPass: {{credential}}\n');
      writeFileSync(
        join(work, 'entrasync.yaml'),
        `version: 1
target:
  auth: { method: secret, clientSecret: "\${env:CANARY_CLIENT_SECRET}" }
  tenantId: ${tapSim.tenantId}
  clientId: 11111111-2222-3333-4444-555555555555
  graphUrl: ${tapSim.origin}
  authorityHost: ${tapSim.authorityHost}
  caFile: ${tapSim.caFile}
sources:
  hr: { kind: csv, path: hr.csv, key: id }
users:
  anchor: id
  manager: boss
  attributes:
    userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'"
    displayName: "first & ' ' & last"
    mail: "$lowercase(first & '.' & last) & '@contoso.com'"
  onboarding:
    credential: tap
    delivery: { via: email, from: it@contoso.com, to: manager, template: tap.txt }
`,
      );
      process.env.CANARY_CLIENT_SECRET = CLIENT_SECRET;
      const config = join(work, 'entrasync.yaml');
      const out: string[] = [];
      const go = async (...args: string[]) => {
        const result = await cli(...args);
        out.push(result.stdout, result.stderr);
        return result;
      };
      // Olga has no manager: held (a plan error, named in the output).
      expect((await go('plan', '-c', config, '--out', join(work, 'plan.json'))).code).toBe(3);
      const applied = await go(
        'apply',
        join(work, 'plan.json'),
        '-c',
        config,
        '--log-level',
        'debug',
      );
      expect(applied.stdout).toContain('credential delivered to maria.boss@contoso.com');
      expect((await go('plan', '-c', config, '-f', 'json')).code).toBe(3);
      expect((await go('report', '-c', config)).code).toBe(0);

      const mails = tapSim.store.outbox();
      expect(mails).toHaveLength(1);
      const tap = /Pass: (\S+)/.exec(mails[0]?.body.content ?? '')?.[1];
      expect(tap?.length).toBeGreaterThanOrEqual(8);
      const everywhere = [...out, ...filesUnder(work), JSON.stringify(tapSim.requestLog)].join(
        '\n',
      );
      expect(everywhere).toContain('olga.new@contoso.com');
      expect(everywhere).not.toContain(tap);
    } finally {
      await tapSim.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
