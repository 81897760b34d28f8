/**
 * X1: canary secrets (the Graph client secret and an HR API bearer token) go through every
 * command, in success and in failure, and none of them may appear in anything entrasync prints
 * or writes: stdout, stderr (errors included), plan text/JSON/markdown, the saved plan file and
 * the simulator's request log. (The LDAP bind password canary is swept in connectors/ldap.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
