/**
 * The verified-domain check through the whole pipeline (computePlan): per-person plan errors
 * for UPN and mail values the plan would write outside the tenant's verified domains; the
 * person is held, everyone else is planned. Literal data, no I/O.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import { subjectOf } from '../model/plan.js';
import type { SourceSnapshot } from '../model/source.js';
import type { TenantDomains, TenantState, TenantUser } from '../model/tenant.js';
import type { SpecOverrides } from '../../test/helpers/builders.js';
import { aPerson, aSnapshot, aSpec, anAccount, MARKER } from '../../test/helpers/builders.js';
import { domainOf, writesDomainAttributes } from './domains.js';
import { computePlan, tenantReadRequest } from './plan.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');
type Row = Record<string, string>;

/** UPN and mail in the domain the `domain` column names (contoso.com when empty). */
const MAPPING = {
  userPrincipalName:
    "$lowercase(first & '.' & last) & '@' & ($exists(domain) and domain != '' ? domain : 'contoso.com')",
  displayName: "first & ' ' & last",
  department: 'department',
  accountEnabled: "status = 'active'",
};
const WITH_MAIL = {
  ...MAPPING,
  mail: "$lowercase(first & '.' & last) & '@' & ($exists(maildomain) ? maildomain : 'contoso.com')",
};

const VERIFIED: TenantDomains = {
  status: 'read',
  verified: ['contoso.onmicrosoft.com', 'Contoso.com', 'fabrikam.com'],
};

function snapshot(rows: Row[]): SourceSnapshot {
  const fields = [
    ...new Set([
      'id',
      'first',
      'last',
      'department',
      'status',
      'domain',
      'maildomain',
      ...rows.flatMap(Object.keys),
    ]),
  ];
  return aSnapshot(rows, { fields });
}

function spec(o: SpecOverrides = {}) {
  return aSpec({ attributes: MAPPING, ...o, safety: { minSourceRatio: 0, ...o.safety } });
}

function plan(s: ReturnType<typeof aSpec>, rows: Row[], tenant: TenantState): Promise<Plan> {
  return computePlan(s, [snapshot(rows)], tenant, { now: NOW });
}

/** A managed account in sync with MAPPING for `row`, in `domain`. */
function accountOf(row: Row, domain: string, extra: Record<string, string> = {}): TenantUser {
  const upn = `${row.first}.${row.last}@${domain}`.toLowerCase();
  return anAccount(upn, {
    employeeId: row.id ?? '',
    displayName: `${row.first} ${row.last}`,
    department: row.department ?? null,
    mailNickname: upn.split('@')[0] ?? '',
    ...extra,
  });
}

const summary = (p: Plan) => p.changes.map((c) => `${c.kind} ${subjectOf(c).userPrincipalName}`);
const errors = (p: Plan) =>
  p.issues.filter((i) => i.code === 'domain.unverified').map((i) => i.message);

describe('verified domains: creates', () => {
  it('a new person whose UPN domain is not verified is a plan error; the others are created', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace');
    const bob = aPerson('2', 'Bob', 'Builder', { domain: 'tailspin.example' });
    const cy = aPerson('3', 'Cy', 'Twombly', { domain: 'FABRIKAM.com' });
    const p = await plan(spec(), [ada, bob, cy], { users: [], domains: VERIFIED });
    expect(summary(p)).toEqual([
      'createUser ada.lovelace@contoso.com',
      'createUser cy.twombly@FABRIKAM.com',
    ]);
    expect(p.issues).toEqual([
      {
        severity: 'error',
        code: 'domain.unverified',
        message:
          'hr:2: userPrincipalName "bob.builder@tailspin.example" (users.attributes.userPrincipalName) is in tailspin.example, not a verified domain of the tenant (verified: contoso.com, contoso.onmicrosoft.com, fabrikam.com); no account is created (Graph refuses it)',
        source: 'hr',
        key: 'hr:2',
        location: { file: 'hr.csv', line: 3 },
      },
    ]);
    expect(p.warnings).toEqual([]);
  });

  it('mail is checked only when the config maps it', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { maildomain: 'mail.tailspin.example' });
    const without = await plan(spec(), [ada], { users: [], domains: VERIFIED });
    expect(summary(without)).toEqual(['createUser ada.lovelace@contoso.com']);
    const withMail = await plan(spec({ attributes: WITH_MAIL }), [ada], {
      users: [],
      domains: VERIFIED,
    });
    expect(summary(withMail)).toEqual([]);
    expect(errors(withMail)).toEqual([
      'hr:1: mail "ada.lovelace@mail.tailspin.example" (users.attributes.mail) is in mail.tailspin.example, not a verified domain of the tenant (verified: contoso.com, contoso.onmicrosoft.com, fabrikam.com); no account is created (Graph refuses it)',
    ]);
  });

  it('domains not read: no check; domains unreadable (403): a warning, nobody is held', async () => {
    const bob = aPerson('2', 'Bob', 'Builder', { domain: 'tailspin.example' });
    const notRead = await plan(spec(), [bob], { users: [] });
    expect(summary(notRead)).toEqual(['createUser bob.builder@tailspin.example']);
    expect(notRead.warnings).toEqual([]);
    const unreadable = await plan(spec(), [bob], {
      users: [],
      domains: { status: 'unreadable', reason: '403 on GET /domains' },
    });
    expect(summary(unreadable)).toEqual(['createUser bob.builder@tailspin.example']);
    expect(unreadable.issues).toEqual([]);
    expect(unreadable.warnings).toEqual([
      {
        code: 'domains.unreadable',
        message:
          "verified-domain check skipped: grant Domain.Read.All (403 on GET /domains); a userPrincipalName outside the tenant's verified domains fails only at apply",
        subject: 'domains',
      },
    ]);
  });

  it('no verified domain at all: every create is an error naming "none"', async () => {
    const p = await plan(spec(), [aPerson('1', 'Ada', 'Lovelace')], {
      users: [],
      domains: { status: 'read', verified: [] },
    });
    expect(summary(p)).toEqual([]);
    expect(errors(p)[0]).toContain('(verified: none)');
  });
});

describe('verified domains: existing accounts', () => {
  it('an unchanged account in an old (no longer verified) domain is not flagged, and its other drift is planned', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { domain: 'old.example', department: 'Eng' });
    const account = accountOf(ada, 'old.example', { department: 'Sales' });
    const p = await plan(spec(), [ada], { users: [account], domains: VERIFIED });
    expect(p.issues).toEqual([]);
    expect(summary(p)).toEqual(['updateUser ada.lovelace@old.example']);
  });

  it('an update that moves the UPN into an unverified domain is an error; the person is held, not deprovisioned', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { domain: 'tailspin.example', department: 'Eng' });
    const bob = aPerson('2', 'Bob', 'Builder', { department: 'Eng' });
    const adaAccount = accountOf(ada, 'contoso.com');
    const bobAccount = accountOf(bob, 'contoso.com', { department: 'Sales' });
    const p = await plan(spec(), [ada, bob], {
      users: [adaAccount, bobAccount],
      domains: VERIFIED,
    });
    expect(summary(p)).toEqual(['updateUser bob.builder@contoso.com']);
    expect(errors(p)).toEqual([
      'hr:1: userPrincipalName "ada.lovelace@tailspin.example" (users.attributes.userPrincipalName) is in tailspin.example, not a verified domain of the tenant (verified: contoso.com, contoso.onmicrosoft.com, fabrikam.com); ada.lovelace@contoso.com is not changed (Graph refuses it)',
    ]);
    expect(p.warnings.map((w) => w.code)).toEqual(['deprovision.held']);
  });

  it('a UPN change only in letter case is no change; createOnly UPNs of existing accounts are not written', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { domain: 'OLD.example' });
    const account = accountOf(ada, 'old.example');
    expect((await plan(spec(), [ada], { users: [account], domains: VERIFIED })).issues).toEqual([]);
    const moved = aPerson('1', 'Ada', 'Lovelace', { domain: 'tailspin.example' });
    const createOnly = await plan(spec({ createOnly: ['userPrincipalName'] }), [moved], {
      users: [account],
      domains: VERIFIED,
    });
    expect(createOnly.issues).toEqual([]);
  });

  it('adopting an account writes only what changes: a soft match by UPN in an old domain is fine', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { domain: 'old.example' });
    const unmanaged = anAccount('ada.lovelace@old.example', {}, { managed: false });
    const p = await plan(spec(), [ada], { users: [unmanaged], domains: VERIFIED });
    expect(p.issues).toEqual([]);
    // Planned (and, as a soft match, held for approval: safety.ts), not a domain error.
    expect(
      p.blocked.map((b) => `${b.change.kind} ${subjectOf(b.change).userPrincipalName}`),
    ).toEqual(['adoptUser ada.lovelace@old.example']);
  });

  it('an account the plan leaves alone (a guest) is not checked', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { domain: 'tailspin.example' });
    const guest = anAccount('x@contoso.com', { employeeId: '1', userType: 'Guest' });
    const p = await plan(spec(), [ada], { users: [guest], domains: VERIFIED });
    expect(p.issues).toEqual([]);
    expect(p.warnings.map((w) => w.code)).toEqual(['match.guest']);
  });

  it('a returning person restored from the recycle bin is checked against the deleted account', async () => {
    const ada = aPerson('1', 'Ada', 'Lovelace', { domain: 'tailspin.example' });
    const deleted = accountOf(ada, 'contoso.com', { [MARKER]: 'entrasync' });
    const p = await plan(spec({ deprovision: { action: 'disable', deleteAfterDays: 30 } }), [ada], {
      users: [],
      deletedUsers: [deleted],
      domains: VERIFIED,
    });
    expect(summary(p)).toEqual([]);
    expect(errors(p)[0]).toContain('ada.lovelace@contoso.com is not changed');
  });
});

describe('the read request and helpers', () => {
  it('asks for domains when the config maps userPrincipalName (always) or mail', () => {
    expect(tenantReadRequest(spec()).domains).toBe(true);
    expect(writesDomainAttributes(spec({ attributes: { displayName: 'first' } }))).toBe(false);
    expect(writesDomainAttributes(spec({ attributes: { mail: "'a@b.c'" } }))).toBe(true);
  });

  it('domainOf: after the last @, lowercased', () => {
    expect(domainOf('a@b@Contoso.COM')).toBe('contoso.com');
    expect(domainOf('nodomain')).toBe('');
  });
});
