/**
 * A UPN is chosen once, and only when it is really free (issue 17, class 5): `$selectUnique`
 * sees the recycle bin and proxy addresses (P12), keeps a person's current choice (P13), no two
 * people get one mail and a mail another account holds is a plan error (P14), and a returning
 * leaver whose old UPN was given away is restored under a new one (P15). Literal data, no I/O.
 */
import { describe, expect, it } from 'vitest';
import { createUniquenessContext } from '../expr/functions.js';
import type { Plan } from '../model/plan.js';
import { subjectOf } from '../model/plan.js';
import type { TenantState } from '../model/tenant.js';
import type { SpecOverrides } from '../../test/helpers/builders.js';
import { aPerson, aSnapshot, aSpec, anAccount, ofKind } from '../../test/helpers/builders.js';
import { computePlan, tenantReadRequest } from './plan.js';

const NAME = "$lowercase($foldDiacritics(first & '.' & last))";
const UNIQUE_UPN = `$selectUnique([${NAME}, ${NAME} & '2', ${NAME} & '3'], 'contoso.com')`;

const spec = (attributes: Record<string, string> = {}, match?: SpecOverrides['match']) =>
  aSpec({
    ...(match ? { match } : {}),
    attributes: {
      userPrincipalName: UNIQUE_UPN,
      displayName: "first & ' ' & last",
      department: 'department',
      ...attributes,
    },
    deprovision: { action: 'disable', deleteAfterDays: 30 },
    safety: { minSourceRatio: 0 },
  });

/** A managed account in sync with `spec()` for the person. */
function own(upn: string, id: string, first: string, last: string, extra = {}) {
  return anAccount(upn, {
    employeeId: id,
    displayName: `${first} ${last}`,
    department: 'Sales',
    mailNickname: upn.slice(0, upn.indexOf('@')),
    ...extra,
  });
}

const plan = (rows: Record<string, string>[], tenant: TenantState, s = spec()): Promise<Plan> =>
  computePlan(
    s,
    [aSnapshot(rows, { fields: ['id', 'first', 'last', 'department', 'status', 'email'] })],
    tenant,
    { now: Date.parse('2026-12-07T00:00:00Z') },
  );

const upnsOf = (p: Plan) =>
  p.changes.map((c) => [c.kind, subjectOf(c).userPrincipalName] as const).sort();

const upnWrites = (p: Plan) =>
  p.changes.flatMap((c) =>
    'set' in c ? c.set.filter((s) => s.attribute === 'userPrincipalName') : [],
  );

describe('P12: $selectUnique treats the recycle bin and proxy addresses as taken', () => {
  it("P12: a UPN held by an account in the recycle bin (anyone's) is not handed out", async () => {
    const binned = anAccount('jane.doe@contoso.com', { employeeId: '99' }, { managed: false });
    const p = await plan([aPerson('1', 'Jane', 'Doe')], { users: [], deletedUsers: [binned] });
    expect(upnsOf(p)).toEqual([['createUser', 'jane.doe2@contoso.com']]);
  });

  it('P12: smtp:/SMTP: proxy addresses are taken whatever their case; x500: and sip: are not', async () => {
    const other = anAccount(
      'someone@contoso.com',
      {
        proxyAddresses: [
          'smtp:Jane.Doe@CONTOSO.com',
          'SMTP:jane.doe2@contoso.com',
          'x500:/o=ExchangeLabs/cn=jane.doe3@contoso.com',
          'sip:jane.doe3@contoso.com',
        ],
      },
      { managed: false },
    );
    const p = await plan([aPerson('1', 'Jane', 'Doe')], { users: [other] });
    expect(upnsOf(p)).toEqual([['createUser', 'jane.doe3@contoso.com']]);
  });

  it('P12: the tenant read fetches the recycle bin and proxyAddresses when a mapping uses $selectUnique, proxyAddresses when it writes mail', () => {
    const unique = tenantReadRequest(aSpec({ attributes: { userPrincipalName: UNIQUE_UPN } }));
    expect(unique.deletedUsers).toBe(true);
    expect(unique.userAttributes).toContain('proxyAddresses');
    const mail = tenantReadRequest(aSpec({ attributes: { userPrincipalName: 'upn', mail: 'm' } }));
    expect(mail.deletedUsers).toBeUndefined();
    expect(mail.userAttributes).toContain('proxyAddresses');
    const plain = tenantReadRequest(aSpec({ attributes: { userPrincipalName: 'upn' } }));
    expect(plain.deletedUsers).toBeUndefined();
    expect(plain.userAttributes).not.toContain('proxyAddresses');
  });
});

describe('P13: an existing account keeps its UPN', () => {
  it('P13: another account taking the UPN as mail (or proxy address) does not rename it (was sam.lee@ -> sam.lee3@)', async () => {
    const sam = own('sam.lee@contoso.com', '1', 'Sam', 'Lee');
    const mailTaker = anAccount(
      'samuel.leeds@contoso.com',
      { mail: 'Sam.Lee@contoso.com', proxyAddresses: ['SMTP:sam.lee@contoso.com'] },
      { managed: false },
    );
    const proxyTaker = anAccount(
      'sl@contoso.com',
      { proxyAddresses: ['smtp:sam.lee2@contoso.com'] },
      { managed: false },
    );
    const p = await plan([aPerson('1', 'Sam', 'Lee')], { users: [sam, mailTaker, proxyTaker] });
    expect(p.changes).toEqual([]);
    expect(p.issues).toEqual([]);
  });

  it('P13: an earlier candidate becoming free does not rename it (was john.smith2@ -> john.smith@ once the holder was deleted)', async () => {
    const john = own('john.smith2@contoso.com', '2', 'John', 'Smith');
    // The unmanaged holder of john.smith@ is gone (purged), or in the recycle bin.
    for (const tenant of [
      { users: [john] },
      {
        users: [john],
        deletedUsers: [anAccount('john.smith@contoso.com', {}, { managed: false })],
      },
    ]) {
      const p = await plan([aPerson('2', 'John', 'Smith')], tenant);
      expect(p.changes).toEqual([]);
    }
  });

  it("P13: the UPN changes when the mapping's inputs change (the person's name), to the first free candidate", async () => {
    const john = own('john.smith2@contoso.com', '2', 'John', 'Smith');
    const p = await plan([aPerson('2', 'John', 'Smyth')], { users: [john] });
    expect(upnWrites(p)).toEqual([
      {
        attribute: 'userPrincipalName',
        before: 'john.smith2@contoso.com',
        after: 'john.smyth@contoso.com',
      },
    ]);
  });

  it('P13: a kept UPN is claimed: a new namesake mapped later gets another', async () => {
    const john = own('john.smith2@contoso.com', '2', 'John', 'Smith');
    const p = await plan([aPerson('2', 'John', 'Smith'), aPerson('3', 'John', 'Smith')], {
      users: [john],
    });
    expect(upnsOf(p)).toEqual([['createUser', 'john.smith@contoso.com']]);
  });

  it("P13: a person may not keep a UPN another active account holds as its UPN; claimed ones can't be kept either", () => {
    const ctx = createUniquenessContext(
      new Map(),
      new Map([
        ['a@x.com', 'other'],
        ['b@x.com', 'me'],
      ]),
    );
    expect(ctx.mayKeep('A@x.com', 'me')).toBe(false);
    expect(ctx.mayKeep('b@x.com', 'me')).toBe(true);
    ctx.claim('c@x.com');
    expect(ctx.mayKeep('c@x.com', 'me')).toBe(false);
  });
});

describe('P14: no two people get one mail; a mail another account holds is a plan error', () => {
  const withMail = spec({ mail: '$lowercase(email)' });

  it('P14: two people whose mapping gives one mail are both held, with one line each naming the other', async () => {
    const p = await plan(
      [
        aPerson('1', 'Ann', 'Lee', { email: 'team@contoso.com' }),
        aPerson('2', 'Bob', 'Lee', { email: 'TEAM@contoso.com' }),
        aPerson('3', 'Cy', 'Lee', { email: 'cy@contoso.com' }),
      ],
      { users: [] },
      withMail,
    );
    expect(upnsOf(p)).toEqual([['createUser', 'cy.lee@contoso.com']]);
    expect(p.issues.map((i) => [i.code, i.key])).toEqual([
      ['mail.duplicate', 'hr:1'],
      ['mail.duplicate', 'hr:2'],
    ]);
    expect(p.issues[0]?.message).toMatch(
      /^hr:1: mail "team@contoso.com" .* also .* hr:2; .*no account is created$/,
    );
  });

  it('P14: a mail another account holds (as mail or smtp proxy address) holds that person, naming the holder; the others go on', async () => {
    const holder = anAccount(
      'shared@contoso.com',
      { proxyAddresses: ['smtp:Ann@Contoso.com'] },
      { managed: false },
    );
    const bob = own('bob.lee@contoso.com', '2', 'Bob', 'Lee', { mail: 'bob@contoso.com' });
    const mailHolder = anAccount(
      'x@contoso.com',
      { mail: 'robert@contoso.com' },
      { managed: false },
    );
    const p = await plan(
      [
        aPerson('1', 'Ann', 'Lee', { email: 'ann@contoso.com' }),
        aPerson('2', 'Bob', 'Lee', { email: 'robert@contoso.com' }),
        aPerson('3', 'Cy', 'Lee', { email: 'cy@contoso.com' }),
      ],
      { users: [holder, bob, mailHolder] },
      withMail,
    );
    expect(upnsOf(p)).toEqual([['createUser', 'cy.lee@contoso.com']]);
    expect(p.issues.map((i) => i.message)).toEqual([
      'hr:1: mail "ann@contoso.com" (users.attributes.mail) is held by shared@contoso.com as its proxy address (Graph refuses it: ObjectConflict on proxyAddresses); no account is created',
      'hr:2: mail "robert@contoso.com" (users.attributes.mail) is held by x@contoso.com as its mail (Graph refuses it: ObjectConflict on proxyAddresses); bob.lee@contoso.com is not changed',
    ]);
    // Held people are not deprovisioned either.
    expect(ofKind(p, 'disableUser')).toEqual([]);
  });

  it('P14: a mail the account already has is not written, so not checked', async () => {
    const ann = own('ann.lee@contoso.com', '1', 'Ann', 'Lee', { mail: 'ann@contoso.com' });
    const other = anAccount('o@contoso.com', { proxyAddresses: ['smtp:ann@contoso.com'] });
    const p = await plan(
      [aPerson('1', 'Ann', 'Lee', { email: 'Ann@contoso.com' })],
      {
        users: [ann, other],
      },
      withMail,
    );
    expect(p.issues).toEqual([]);
  });
});

describe('P15: a returning leaver whose old UPN was given away is restored under a new one', () => {
  it('P15: restoreUser carries newUserPrincipalName (the next free candidate) and proxy reconciliation; no UPN update after it', async () => {
    const deleted = own('lee.leaver@contoso.com', '2', 'Lee', 'Leaver', {
      accountEnabled: false,
      mail: 'lee.leaver@contoso.com',
    });
    const newcomer = own('lee.leaver@contoso.com', '7', 'Lee', 'Leaver', {
      mail: 'lee.leaver@contoso.com',
    });
    const p = await plan([aPerson('2', 'Lee', 'Leaver'), aPerson('7', 'Lee', 'Leaver')], {
      users: [newcomer],
      deletedUsers: [deleted],
    });
    expect(ofKind(p, 'restoreUser')).toEqual([
      expect.objectContaining({
        user: { id: deleted.id, userPrincipalName: 'lee.leaver2@contoso.com' },
        newUserPrincipalName: 'lee.leaver2@contoso.com',
        autoReconcileProxyConflict: true,
      }),
    ]);
    expect(ofKind(p, 'createUser')).toEqual([]);
    expect(upnWrites(p)).toEqual([]);
  });

  it('P15: a restore whose old UPN is free stays a plain restore (the leaver keeps their name)', async () => {
    const deleted = own('lee.leaver@contoso.com', '2', 'Lee', 'Leaver', { accountEnabled: false });
    const p = await plan([aPerson('2', 'Lee', 'Leaver')], { users: [], deletedUsers: [deleted] });
    const [restore] = ofKind(p, 'restoreUser');
    expect(restore?.user.userPrincipalName).toBe('lee.leaver@contoso.com');
    expect(restore).not.toHaveProperty('newUserPrincipalName');
    expect(restore).not.toHaveProperty('autoReconcileProxyConflict');
  });

  it('P15: a mapping that gives the taken UPN again is a warning, not a restore that Graph refuses on every run', async () => {
    const deleted = own('lee.leaver@contoso.com', '2', 'Lee', 'Leaver', { accountEnabled: false });
    const newcomer = anAccount('lee.leaver@contoso.com', { employeeId: '7' }, { managed: false });
    // Matched by anchor only: the newcomer's account is not the leaver's (class 2 of issue 17).
    const fixed = spec({ userPrincipalName: `${NAME} & '@contoso.com'` }, ['anchor']);
    const p = await plan(
      [aPerson('2', 'Lee', 'Leaver')],
      {
        users: [newcomer],
        deletedUsers: [deleted],
      },
      fixed,
    );
    expect(ofKind(p, 'restoreUser')).toEqual([]);
    expect(p.warnings.map((w) => w.code)).toContain('restore.upn-taken');
  });
});
