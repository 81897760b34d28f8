/**
 * Verified domains end to end, through the real CLI runtime against the simulator (the real
 * Graph SDK over HTTPS): the tenant has verified contoso.com and fabrikam.com, and
 * tailspin.example added but not verified. People whose userPrincipalName would be in a domain
 * that is not verified (a new hire, a typo'd domain, and an existing account moved into one)
 * are per-person plan errors, not Graph 400s at apply; everyone else is created; after the
 * apply the re-plan has no changes and only those errors again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../../cli/runtime.js';
import { applyRun, planRun } from '../../engine/index.js';
import type { Plan } from '../../engine/model/plan.js';
import { subjectOf } from '../../engine/model/plan.js';
import { Redactor } from '../../engine/secret.js';
import { openTenantStore } from '../../simulator/index.js';

const work = mkdtempSync(join(tmpdir(), 'entrasync-domains-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const config = join(work, 'entrasync.yaml');

writeFileSync(
  config,
  `version: 1
target:
  auth:
    method: simulator
  simulator:
    state: .entrasync/tenant.db
    seed: tenant.json
sources:
  hr:
    kind: csv
    path: employees.csv
    key: employee_id
users:
  anchor: employee_id
  anchorAttribute: employeeId
  match: [anchor, userPrincipalName]
  attributes:
    userPrincipalName: "$lowercase(first_name & '.' & last_name) & '@' & domain"
    displayName: "first_name & ' ' & last_name"
    department: department
    accountEnabled: "status = 'active'"
  deprovision:
    action: disable
`,
);
writeFileSync(
  join(work, 'employees.csv'),
  [
    'employee_id,first_name,last_name,department,domain,status',
    // Existing account, moved by HR into a domain the tenant has not verified.
    '1001,Emily,Martinez,Marketing,tailspin.example,active',
    '1002,Ava,Kowalski,Finance,fabrikam.com,active',
    '1003,Bob,Builder,Sales,tailspin.example,active',
    '1004,Cy,Twombly,Sales,contoso.cmo,active',
    '1005,Dan,Okafor,Sales,Contoso.com,active',
    '',
  ].join('\n'),
);
writeFileSync(
  join(work, 'tenant.json'),
  JSON.stringify({
    users: [
      {
        userPrincipalName: 'emily.martinez@contoso.com',
        displayName: 'Emily Martinez',
        mailNickname: 'emily.martinez',
        accountEnabled: true,
        department: 'Marketing',
        employeeId: '1001',
        onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync:hr' },
      },
    ],
    domains: [
      { id: 'contoso.com', isDefault: true, supportedServices: ['Email'] },
      { id: 'fabrikam.com' },
      { id: 'tailspin.example', isVerified: false },
    ],
  }),
);

const VERIFIED = 'verified: contoso.com, contoso.onmicrosoft.com, fabrikam.com';
const EXPECTED_ERRORS = [
  `hr:1001: userPrincipalName "emily.martinez@tailspin.example" (users.attributes.userPrincipalName) is in tailspin.example, not a verified domain of the tenant (${VERIFIED}); emily.martinez@contoso.com is not changed (Graph refuses it)`,
  `hr:1003: userPrincipalName "bob.builder@tailspin.example" (users.attributes.userPrincipalName) is in tailspin.example, not a verified domain of the tenant (${VERIFIED}); no account is created (Graph refuses it)`,
  `hr:1004: userPrincipalName "cy.twombly@contoso.cmo" (users.attributes.userPrincipalName) is in contoso.cmo, not a verified domain of the tenant (${VERIFIED}); no account is created (Graph refuses it)`,
];

const domainErrors = (p: Plan) =>
  p.issues
    .filter((i) => i.code === 'domain.unverified')
    .map((i) => i.message)
    .sort();
const labels = (p: Plan) => p.changes.map((c) => `${c.kind} ${subjectOf(c).userPrincipalName}`);

async function plan(): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  try {
    return await planRun(runtime.loaded.spec, {
      sources: runtime.sources,
      target: runtime.target.reader,
    });
  } finally {
    await runtime.close();
  }
}

describe('verified domains against the simulator', () => {
  it('unverified UPN domains are per-person plan errors; the others are created; apply -> re-plan: only the errors again', async () => {
    const runtime = await openRuntime(config, new Redactor());
    let first: Plan;
    try {
      first = await planRun(runtime.loaded.spec, {
        sources: runtime.sources,
        target: runtime.target.reader,
      });
      expect(labels(first)).toEqual([
        'createUser ava.kowalski@fabrikam.com',
        'createUser dan.okafor@Contoso.com',
      ]);
      expect(first.blocked).toEqual([]);
      expect(domainErrors(first)).toEqual(EXPECTED_ERRORS);
      expect(first.issues.every((i) => i.location?.file === 'employees.csv')).toBe(true);
      expect(first.warnings.map((w) => w.code)).toEqual(['deprovision.held']);

      const report = await applyRun(first, runtime.loaded.spec, {
        target: runtime.target.reader,
        writer: runtime.target.writer,
      });
      expect(report.ops.map((op) => op.outcome)).toEqual(['applied', 'applied']);
    } finally {
      await runtime.close();
    }

    const store = openTenantStore(join(work, '.entrasync', 'tenant.db'));
    try {
      expect(
        store
          .listUsers()
          .map((u) => u.userPrincipalName)
          .sort(),
      ).toEqual([
        'ava.kowalski@fabrikam.com',
        'dan.okafor@Contoso.com',
        'emily.martinez@contoso.com',
      ]);
    } finally {
      store.close();
    }

    const again = await plan();
    expect(labels(again)).toEqual([]);
    expect(again.blocked).toEqual([]);
    expect(again.issues.map((i) => i.code)).toEqual([
      'domain.unverified',
      'domain.unverified',
      'domain.unverified',
    ]);
    expect(domainErrors(again)).toEqual(EXPECTED_ERRORS);
  });
});
