import { subjectOf } from '../model/plan.js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { SourceSnapshot } from '../model/source.js';
import type { SyncSpec } from '../model/spec.js';
import { aPerson, aSnapshot, aSpec, anAccount, expr } from '../../test/helpers/builders.js';
import { computePlan } from './plan.js';

function withAd(spec: SyncSpec): SyncSpec {
  return {
    ...spec,
    links: [
      {
        source: 'ad',
        key: expr('employeeID', 'join.link.ad.key'),
        equals: expr('id', 'join.link.ad.equals'),
      },
    ],
  };
}

const spec = withAd(
  aSpec({
    attributes: {
      userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
      displayName: "first & ' ' & last",
      mail: '$ad.mail',
    },
  }),
);

function ad(
  rows: Record<string, string>[],
  overrides: Partial<SourceSnapshot> = {},
): SourceSnapshot {
  return {
    name: 'ad',
    kind: 'ldap',
    status: 'complete',
    fields: ['employeeID', 'mail', 'sAMAccountName', 'physicalDeliveryOfficeName'],
    records: rows.map((r, i) => ({
      source: 'ad',
      key: r.sAMAccountName ?? String(i),
      fields: r,
      location: { dn: `CN=${r.sAMAccountName},OU=Staff,DC=corp,DC=example` },
    })),
    issues: [],
    ...overrides,
  };
}

/** One of two people linked is a shrink at the default ratio (S17); these fixtures mean it. */
const halfLinked: SyncSpec = { ...spec, safety: { ...spec.safety, minSourceRatio: 0.5 } };

const hr = aSnapshot([aPerson('1', 'Ada', 'Lovelace'), aPerson('2', 'Alan', 'Turing')]);

describe('join across sources', () => {
  it('links AD records to HR people by key; attributes and provenance come from both', async () => {
    const plan = await computePlan(
      halfLinked,
      [hr, ad([{ employeeID: '1', mail: 'ada@contoso.com', sAMAccountName: 'ada' }])],
      {
        users: [],
      },
    );
    const ada = plan.changes.find(
      (c) => subjectOf(c).userPrincipalName === 'ada.lovelace@contoso.com',
    );
    expect(ada).toMatchObject({ kind: 'createUser', attributes: { mail: 'ada@contoso.com' } });
    expect(ada?.provenance).toEqual([
      { source: 'hr', key: '1', location: { file: 'hr.csv', line: 2 } },
      { source: 'ad', key: 'ada', location: { dn: 'CN=ada,OU=Staff,DC=corp,DC=example' } },
    ]);
    const alan = plan.changes.find(
      (c) => subjectOf(c).userPrincipalName === 'alan.turing@contoso.com',
    );
    expect(alan).toMatchObject({ kind: 'createUser', attributes: { mail: null } });
  });

  it('a failed linked source holds everyone: no creates or updates from half the data, no disables', async () => {
    const managed = anAccount('grace.hopper@contoso.com', { employeeId: '3' });
    const plan = await computePlan(spec, [hr, ad([], { status: 'failed' })], { users: [managed] });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => b.code)).toEqual(['source-unhealthy']);
    expect(plan.issues.filter((i) => i.code === 'join.held')).toHaveLength(2);
  });

  it('an incomplete linked source holds exactly the people it has no record for', async () => {
    const plan = await computePlan(
      spec,
      [
        hr,
        ad([{ employeeID: '2', mail: 'alan@contoso.com', sAMAccountName: 'alan' }], {
          status: 'incomplete',
        }),
      ],
      { users: [] },
    );
    expect(plan.changes.map((c) => subjectOf(c).userPrincipalName)).toEqual([
      'alan.turing@contoso.com',
    ]);
    expect(plan.issues.find((i) => i.code === 'join.held')?.message).toContain(
      'hr:1 is held (not created, changed or deprovisioned): source "ad" is incomplete and has no record with key "1"',
    );
  });

  it('S11: two AD records with one key are errors and hold the person they would link to', async () => {
    const managed = anAccount('ada.lovelace@contoso.com', { employeeId: '1' });
    const twins = [
      { employeeID: '1', mail: 'ada@contoso.com', sAMAccountName: 'ada' },
      { employeeID: '1', mail: 'ada2@contoso.com', sAMAccountName: 'ada2' },
    ];
    const plan = await computePlan(halfLinked, [hr, ad(twins)], { users: [managed] });
    expect(plan.changes.map((c) => subjectOf(c).userPrincipalName)).toEqual([
      'alan.turing@contoso.com',
    ]);
    expect(plan.issues.filter((i) => i.code === 'source.duplicate-key')).toHaveLength(2);
    expect(plan.warnings.map((w) => w.code)).toContain('deprovision.held');
  });

  it('checks fields against the source each expression reads: `$ad.mial` and the link key', async () => {
    const typo = withAd(
      aSpec({
        attributes: {
          userPrincipalName: "id & '@contoso.com'",
          displayName: 'first',
          mail: '$ad.mial',
        },
      }),
    );
    const badLink = {
      ...typo,
      links: [
        {
          source: 'ad',
          key: expr('employeeId', 'join.link.ad.key'),
          equals: expr('id', 'join.link.ad.equals'),
        },
      ],
    };
    const error = await computePlan(badLink, [hr, ad([])], { users: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).diagnostics.map((d) => [d.path, d.message])).toEqual([
      ['users.attributes.mail', 'field `mial` not present in source `ad` (did you mean `mail`?)'],
      [
        'join.link.ad.key',
        'field `employeeId` not present in source `ad` (did you mean `employeeID`?)',
      ],
    ]);
  });
});

describe('a linked source that shrank (S17)', () => {
  const office = withAd(
    aSpec({
      attributes: {
        userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
        displayName: "first & ' ' & last",
        officeLocation: '$ad.physicalDeliveryOfficeName',
      },
    }),
  );
  const people = Array.from({ length: 10 }, (_, i) => aPerson(String(i + 1), 'P', `N${i + 1}`));
  const accounts = people.map((p) =>
    anAccount(`p.n${p.id}@contoso.com`, {
      employeeId: p.id,
      displayName: `P N${p.id}`,
      officeLocation: 'Paris',
      mailNickname: `p.n${p.id}`,
    }),
  );
  const adRow = (id: string) => ({
    employeeID: id,
    physicalDeliveryOfficeName: 'Paris',
    sAMAccountName: `p${id}`,
  });

  it('S17: a linked source answering Success with 0 records clears nothing and blocks deprovisioning', async () => {
    const leaver = anAccount('grace.hopper@contoso.com', { employeeId: '99' });
    const plan = await computePlan(office, [aSnapshot(people), ad([])], {
      users: [...accounts, leaver],
    });
    expect(plan.changes).toEqual([]);
    expect(plan.blocked.map((b) => `${b.change.kind} ${b.code}`)).toEqual([
      'disableUser source-unhealthy',
    ]);
    expect(plan.blocked[0]?.message).toContain(
      'linked source "ad" has records for 0 of the 10 people it links to',
    );
    expect(plan.issues.filter((i) => i.code === 'join.held')).toHaveLength(10);
  });

  it('S17: a linked source below minSourceRatio holds the people it lacks; above it, it does not', async () => {
    const most = people.slice(0, 8).map((p) => adRow(p.id));
    const shrunk = await computePlan(office, [aSnapshot(people), ad(most)], { users: accounts });
    // 8 of 10 < 0.9: the two without a record are held, not cleared.
    expect(shrunk.changes).toEqual([]);
    expect(shrunk.issues.filter((i) => i.code === 'join.held').map((i) => i.key)).toEqual([
      '9',
      '10',
    ]);
    const lenient = await computePlan(
      { ...office, safety: { ...office.safety, minSourceRatio: 0.8 } },
      [aSnapshot(people), ad(most)],
      { users: accounts },
    );
    expect(lenient.changes.map((c) => (c.kind === 'updateUser' ? c.set : c.kind))).toEqual([
      [{ attribute: 'officeLocation', before: 'Paris', after: null }],
      [{ attribute: 'officeLocation', before: 'Paris', after: null }],
    ]);
  });

  it('S17: people without a link key value are not counted as expected', async () => {
    const spec = {
      ...office,
      links: [{ ...office.links[0]!, equals: expr("id = '1' ? id : null", 'equals') }],
    };
    const plan = await computePlan(spec, [aSnapshot(people), ad([adRow('1')])], {
      users: accounts,
    });
    expect(plan.issues.filter((i) => i.code === 'join.held')).toEqual([]);
  });
});
