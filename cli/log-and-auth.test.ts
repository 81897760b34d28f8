/**
 * Issue 22, item 1: the global `--log-level`/`--log-format` (and ENTRASYNC_LOG_LEVEL), the debug
 * trace of each Graph request, and authentication failures as one line with a hint. Through
 * the CLI, the real @azure/identity and Graph SDK, and the HTTPS simulator.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../test/helpers/cli.js';
import { startSimulator } from '../simulator/index.js';
import type { RunningSimulator } from '../simulator/index.js';
import { simTarget } from '../test/helpers/sim-target.js';

const CLIENT = 'c1c1c1c1-0000-4000-8000-00000000000c';
const SECRET = 'log-test-secret-5f2a9c41d7';
const SECRET_ENV = 'ENTRASYNC_LOG_TEST_SECRET';

let dir: string;
let sim: RunningSimulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'entrasync-log-auth-'));
  sim = await startSimulator({
    throttling: false,
    clients: [
      {
        clientId: CLIENT,
        clientSecret: SECRET,
        roles: ['User.ReadWrite.All', 'GroupMember.Read.All', 'RoleManagement.Read.Directory'],
      },
    ],
    seed: { users: [] },
  });
  writeFileSync(join(dir, 'people.csv'), 'id,name\n1,ada\n');
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  delete process.env[SECRET_ENV];
  delete process.env['ENTRASYNC_LOG_LEVEL'];
});

interface Target {
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly authorityHost?: string;
  readonly secret?: string;
}

function config(name: string, target: Target = {}): string {
  process.env[SECRET_ENV] = target.secret ?? SECRET;
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `version: 1
${simTarget(sim, { secretEnv: SECRET_ENV, tenantId: target.tenantId ?? sim.tenantId, clientId: target.clientId ?? CLIENT, authorityHost: target.authorityHost ?? sim.authorityHost })}
sources:
  hr: { kind: csv, path: people.csv, key: id }
users:
  anchor: id
  attributes:
    userPrincipalName: "name & '@contoso.com'"
    displayName: name
    mailNickname: name
`,
  );
  return path;
}

interface GraphTraceLine {
  level: string;
  msg: string;
  graph: {
    method: string;
    path: string;
    status?: number;
    durationMs: number;
    requestId?: string;
    clientRequestId?: string;
  };
}

function traces(stderr: string): GraphTraceLine[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as GraphTraceLine & { graph?: unknown })
    .filter((l): l is GraphTraceLine => l.graph !== undefined);
}

/** Things that must never reach a log: the secret, a bearer token, a JWT, an auth header. */
function expectNoSecrets(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text.toLowerCase()).not.toContain('bearer');
  expect(text.toLowerCase()).not.toContain('authorization');
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
}

describe('--log-level debug: a trace of each Graph request', () => {
  it('traces method, path, status, duration and request ids of every Graph request of a plan, on stderr, with no token, secret or body', async () => {
    const path = config('trace');
    const before = sim.requestLog.length;
    const result = await cli('plan', '-c', path, '--log-level', 'debug', '--log-format', 'json');
    expect(result.code).toBe(2);
    const lines = traces(result.stderr);
    const graphRequests = sim.requestLog
      .slice(before)
      .filter((e) => e.path.startsWith('/v1.0') && e.batch !== true);
    expect(graphRequests.length).toBeGreaterThan(0);
    expect(lines).toHaveLength(graphRequests.length);
    for (const line of lines) {
      expect(line.level).toBe('debug');
      expect(line.graph.method).toBe('GET');
      expect(line.graph.path).toMatch(/^\/v1\.0\//);
      expect(line.graph.durationMs).toBeGreaterThanOrEqual(0);
      expect(line.msg).toBe(
        `graph GET ${line.graph.path} ${line.graph.status} ${line.graph.durationMs}ms`,
      );
    }
    // Each trace is one request the simulator served: its request-id, path and status.
    const served = (e: { requestId?: string; path: string; status?: number }) =>
      `${e.requestId} ${e.path.split('?')[0]} ${e.status}`;
    expect(lines.map((l) => served(l.graph)).sort()).toEqual(graphRequests.map(served).sort());
    expect(lines.every((l) => /^[0-9a-f-]{36}$/.test(l.graph.clientRequestId ?? ''))).toBe(true);
    expect(lines.some((l) => l.graph.path.startsWith('/v1.0/users'))).toBe(true);
    expectNoSecrets(result.stderr);
    // stdout is the plan only.
    expect(result.stdout).not.toContain('"graph"');
  });

  it('takes the level from before the command and from ENTRASYNC_LOG_LEVEL; without either, no trace', async () => {
    const path = config('levels');
    const global = await cli('--log-level', 'debug', 'plan', '-c', path);
    expect(traces(global.stderr).length).toBeGreaterThan(0);
    process.env['ENTRASYNC_LOG_LEVEL'] = 'debug';
    const fromEnv = await cli('plan', '-c', path);
    expect(traces(fromEnv.stderr).length).toBeGreaterThan(0);
    delete process.env['ENTRASYNC_LOG_LEVEL'];
    const quiet = await cli('plan', '-c', path);
    expect(quiet.code).toBe(2);
    expect(traces(quiet.stderr)).toEqual([]);
    const info = await cli('plan', '-c', path, '--log-level', 'info');
    expect(traces(info.stderr)).toEqual([]);
  });

  it('refuses an unknown level, from the option and from the environment', async () => {
    const path = config('bad-level');
    const option = await cli('plan', '-c', path, '--log-level', 'loud');
    expect(option.code).toBe(1);
    expect(option.stderr).toContain("option '--log-level <level>' argument 'loud' is invalid");
    process.env['ENTRASYNC_LOG_LEVEL'] = 'loud';
    const env = await cli('plan', '-c', path);
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('ENTRASYNC_LOG_LEVEL "loud" is not a log level');
  });

  it('at debug, a failed command also logs its error with the stack', async () => {
    const missing = join(dir, 'missing.yaml');
    const quiet = await cli('plan', '-c', missing);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).not.toContain('the command failed');
    const debug = await cli('plan', '-c', missing, '--log-level', 'debug', '--log-format', 'json');
    expect(debug.code).toBe(1);
    const logged = debug.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; err?: { stack?: string } });
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'the command failed',
        err: expect.objectContaining({ stack: expect.stringMatching(/\n\s+at /) }),
      }),
    );
  });

  it('--log-format pretty writes readable lines, still without secrets', async () => {
    const path = config('pretty');
    const result = await cli('plan', '-c', path, '--log-level', 'debug', '--log-format', 'pretty');
    expect(result.code).toBe(2);
    expect(traces(result.stderr)).toEqual([]);
    expect(result.stderr).toMatch(/DEBUG.*graph GET \/v1\.0\/users.* 200 \d+ms/);
    expectNoSecrets(result.stderr);
  });

  it('every command has the options; the daemon keeps its own --log-level', async () => {
    const help = async (...args: string[]): Promise<string> => {
      const result = await cli(...args, '--help');
      expect(result.code).toBe(0);
      return result.stdout;
    };
    for (const command of ['validate', 'plan', 'apply', 'explain', 'snapshot', 'report']) {
      const text = await help(command);
      expect(text, command).toContain('--log-level <level>');
      expect(text, command).toContain('--log-format <format>');
    }
    expect(await help('simulator', 'seed')).toContain('--log-level <level>');
    const daemon = await help('daemon');
    expect(daemon).toContain('--log-level <level>');
    expect(daemon).not.toContain('--log-format');
  });
});

describe('authentication failures: one line with the authority, tenant, client, AADSTS code and a hint', () => {
  function expectOneLine(stderr: string): string {
    const lines = stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
    return lines[0]!;
  }

  it('a wrong secret: AADSTS7000215, "check the client secret", exit 1, no stack', async () => {
    const path = config('wrong-secret', { secret: 'not-the-secret-0000000' });
    const result = await cli('plan', '-c', path);
    expect(result.code).toBe(1);
    const line = expectOneLine(result.stderr);
    expect(line).toContain(`authority ${sim.authorityHost}`);
    expect(line).toContain(`tenant ${sim.tenantId}`);
    expect(line).toContain(`client ${CLIENT}`);
    expect(line).toContain('AADSTS7000215: Invalid client secret provided; hint: check');
    expect(line).toContain('hint: check the client secret');
    expect(line).not.toContain('not-the-secret');
  });

  it('the same line from commands that meet it inside a tenant read (snapshot, explain, apply)', async () => {
    const path = config('wrong-secret-read', { secret: 'not-the-secret-0000000' });
    const out = join(dir, 'snapshot.json');
    for (const args of [
      ['snapshot', '-o', out],
      ['explain', '1'],
      ['apply', '--auto-approve'],
    ]) {
      const result = await cli(...args, '-c', path);
      expect(result.code, args[0]).toBe(1);
      const line = expectOneLine(result.stderr);
      expect(line, args[0]).toContain(`client ${CLIENT}`);
      expect(line, args[0]).toContain('AADSTS7000215');
      expect(line, args[0]).toContain('hint: check the client secret');
    }
  });

  it('with --log-level debug, the same line and then the stack', async () => {
    const path = config('wrong-secret-debug', { secret: 'not-the-secret-0000000' });
    const result = await cli('plan', '-c', path, '--log-level', 'debug', '--log-format', 'json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('AADSTS7000215');
    expect(result.stderr).toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain('not-the-secret');
  });

  it('an app the tenant does not know: AADSTS700016 and a hint about the client id', async () => {
    const other = '0a0a0a0a-0000-4000-8000-0000000000aa';
    const result = await cli('plan', '-c', config('no-app', { clientId: other }));
    expect(result.code).toBe(1);
    const line = expectOneLine(result.stderr);
    expect(line).toContain(`client ${other}`);
    expect(line).toContain('AADSTS700016');
    expect(line).toContain('hint: app not found in this tenant: check target.clientId');
  });

  it('a tenant the authority does not know: AADSTS90002 (msal says only endpoints_resolution_error)', async () => {
    const tenant = '0b0b0b0b-0000-4000-8000-0000000000bb';
    const result = await cli('plan', '-c', config('no-tenant', { tenantId: tenant }));
    expect(result.code).toBe(1);
    const line = expectOneLine(result.stderr);
    expect(line).toContain(`tenant ${tenant}`);
    expect(line).toContain('AADSTS90002');
    expect(line).toContain('hint: tenant not found: check target.tenantId');
  });

  it('an unreachable authority: no answer, with a network hint', async () => {
    const port = await closedPort();
    const authority = `https://127.0.0.1:${port}`;
    const result = await cli('plan', '-c', config('unreachable', { authorityHost: authority }));
    expect(result.code).toBe(1);
    const line = expectOneLine(result.stderr);
    expect(line).toContain(`authority ${authority}`);
    expect(line).toContain('no answer (ECONNREFUSED)');
    expect(line).toContain('hint: the authority cannot be reached: check the network');
  });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
