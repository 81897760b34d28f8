/**
 * Write-back to a SCIM 2.0 service provider (connectors/http/test-helpers/scim-server.ts, built
 * on SCIMMY) through `entrasync plan` and `entrasync apply` against the embedded simulator
 * (issue 26): one PATCH per record carrying a SCIM PatchOp, the enterprise extension's attribute
 * by its URN path, with a write token only the apply is given; a 403 names the record key and
 * the status; after the write-back a re-plan is empty.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_PATCH_OP } from '../../connectors/http/writeback.js';
import { SCIM_CORE_USER, SCIM_ENTERPRISE_USER } from '../../connectors/http/scim.js';
import { startScimServer } from '../../connectors/http/test-helpers/scim-server.js';
import type { ScimServer, ScimUser } from '../../connectors/http/test-helpers/scim-server.js';
import { cli } from '../helpers/cli.js';
import { readTenant } from '../examples/helpers.js';

const READ_TOKEN = 'scim-read-token-wb-0001';
const WRITE_TOKEN = 'scim-write-token-wb-0002';
const ENV_READ = 'WB_SCIM_READ_TOKEN';
const ENV_WRITE = 'WB_SCIM_WRITE_TOKEN';

const users: ScimUser[] = ['ada', 'bob'].map((name, i) => ({
  schemas: [SCIM_CORE_USER, SCIM_ENTERPRISE_USER],
  id: `scim-${i + 1}`,
  userName: `${name}@hr.example`,
  name: { givenName: name, familyName: 'Person' },
  displayName: `${name} Person`,
  active: true,
  [SCIM_ENTERPRISE_USER]: { employeeNumber: `E${i + 1}` },
}));

let server: ScimServer;
let dir: string;
let config: string;

beforeAll(async () => {
  server = await startScimServer({ users, token: READ_TOKEN, writeToken: WRITE_TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'entrasync-wb-scim-'));
  config = join(dir, 'entrasync.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'target:',
      '  auth: { method: simulator }',
      '  simulator: { state: .entrasync/tenant.db }',
      'sources:',
      '  hr:',
      '    kind: http',
      '    api: scim',
      `    url: ${server.usersUrl}`,
      '    key: employeeNumber',
      '    auth:',
      '      method: bearer',
      `      token: \${env:${ENV_READ}}`,
      'users:',
      '  anchor: employeeNumber',
      '  attributes:',
      "    userPrincipalName: $substringBefore(userName, '@') & '@contoso.com'",
      '    displayName: displayName',
      '    companyName: "\'Contoso Ltd\'"',
      'writeback:',
      '  hr:',
      '    attributes:',
      '      externalId: id',
      '      organization: companyName',
      `    token: \${env:${ENV_WRITE}}`,
      '',
    ].join('\n'),
  );
  process.env[ENV_READ] = READ_TOKEN;
});

afterAll(async () => {
  delete process.env[ENV_READ];
  delete process.env[ENV_WRITE];
  if (dir) rmSync(dir, { recursive: true, force: true });
  await server?.close();
});

const patches = () => server.requests.filter((r) => r.method === 'PATCH');

describe('write-back to a SCIM service provider through the CLI (issue 26)', () => {
  it('WB11: PATCHes a SCIM PatchOp per record with the write token, only at apply; a 403 names the record and status; then re-plans empty', async () => {
    const created = await cli('apply', '--auto-approve', '--config', config);
    expect(created.stdout).toMatch(/2 applied, 0 failed/);
    expect(created.code).toBe(0);
    const plan = await cli('plan', '--config', config);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('Write-back to the sources, after the changes above (2)');
    expect(plan.stdout).toContain('organization: (none) -> "Contoso Ltd"  (Entra companyName)');
    expect(patches()).toEqual([]);

    // The read token may read but not write: 403, one line per record.
    process.env[ENV_WRITE] = READ_TOKEN;
    const refused = await cli('apply', '--auto-approve', '--config', config);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      `writeback.access-denied: hr:E1: PATCH ${server.usersUrl}/scim-1 answered HTTP 403: SCIM error: status 403, Write access denied`,
    );
    expect(refused.stdout).toContain('Write-back: 0 applied, 2 failed.');

    // A saved plan: apply proves the tenant unchanged (stale-plan check), then writes back.
    process.env[ENV_WRITE] = WRITE_TOKEN;
    const planFile = join(dir, 'plan.json');
    expect((await cli('plan', '--config', config, '--out', planFile)).code).toBe(2);
    const applied = await cli('apply', planFile, '--config', config);
    expect(applied.stdout).toContain('Write-back: 2 applied, 0 failed.');
    expect(applied.code).toBe(0);
    const ada = readTenant({ dir, config, remove: () => {} }).user('ada@contoso.com');
    const sent = patches().filter((r) => r.headers.authorization === `Bearer ${WRITE_TOKEN}`);
    expect(sent.map((r) => r.url).sort()).toEqual([
      '/scim/v2/Users/scim-1',
      '/scim/v2/Users/scim-2',
    ]);
    const first = sent.find((r) => r.url.endsWith('scim-1'));
    expect(first?.headers['content-type']).toBe('application/scim+json');
    expect(JSON.parse(first?.body ?? '{}')).toEqual({
      schemas: [SCIM_PATCH_OP],
      Operations: [
        { op: 'replace', path: 'externalId', value: String(ada?.id) },
        { op: 'replace', path: `${SCIM_ENTERPRISE_USER}:organization`, value: 'Contoso Ltd' },
      ],
    });

    const again = await cli('plan', '--config', config);
    expect(again.stdout).toContain('no changes. The tenant matches the configuration.');
    expect(again.code).toBe(0);
  });
});
