/**
 * Users' `identities` (objectIdentity: signInType, issuer, issuerAssignedId) through the real
 * Graph SDK: the userPrincipalName identity every user has, returned only on $select; writes
 * checked as the objectIdentity page documents; the issuer + issuerAssignedId pair unique in the
 * tenant; and `identities/any(c:c/issuerAssignedId eq '…' and c/issuer eq '…')` with Graph's
 * filtering rules.
 */
import { describe, expect, test } from 'vitest';
import { INITIAL_DOMAIN } from './index.js';
import { graphFailure, graphFor, newUser, simulator } from './test-helpers/simulator.js';

const LOCAL = { signInType: 'emailAddress', issuer: 'contoso.com' };

async function tenant() {
  const sim = await simulator({
    throttling: false,
    seed: {
      users: [
        {
          accountEnabled: true,
          displayName: 'Ann',
          mailNickname: 'ann',
          userPrincipalName: 'ann@contoso.example',
          identities: [{ ...LOCAL, issuerAssignedId: 'ann@home.example' }],
        },
        {
          accountEnabled: true,
          displayName: 'Bob',
          mailNickname: 'bob',
          userPrincipalName: 'bob@contoso.example',
          identities: [{ signInType: 'federated', issuer: 'facebook.com', issuerAssignedId: '5' }],
        },
      ],
    },
  });
  return { sim, graph: graphFor(sim) };
}

type Identities = { identities: Record<string, string>[] };

describe('user identities', () => {
  test('SIM-ID1 every user has its userPrincipalName identity, returned only on $select', async () => {
    const { graph } = await tenant();
    const ann = (await graph
      .api('/users/ann@contoso.example')
      .select('identities')
      .get()) as Identities;
    expect(ann.identities).toEqual([
      { ...LOCAL, issuerAssignedId: 'ann@home.example' },
      {
        signInType: 'userPrincipalName',
        issuer: INITIAL_DOMAIN,
        issuerAssignedId: 'ann@contoso.example',
      },
    ]);
    const plain = (await graph.api('/users/ann@contoso.example').get()) as Record<string, unknown>;
    expect('identities' in plain).toBe(false);

    const created = (await graph.api('/users').post(newUser(1))) as { id: string };
    await graph
      .api(`/users/${created.id}`)
      .patch({ userPrincipalName: 'renamed1@contoso.example' });
    const renamed = (await graph
      .api(`/users/${created.id}`)
      .select('identities')
      .get()) as Identities;
    expect(renamed.identities).toEqual([
      {
        signInType: 'userPrincipalName',
        issuer: INITIAL_DOMAIN,
        issuerAssignedId: 'renamed1@contoso.example',
      },
    ]);
  });

  test('SIM-ID2 writes are validated and the issuer + issuerAssignedId pair is unique', async () => {
    const { graph } = await tenant();
    const created = (await graph.api('/users').post(
      newUser(2, {
        identities: [{ signInType: 'userName', issuer: 'contoso.com', issuerAssignedId: 'u-2' }],
      }),
    )) as { id: string };
    const read = (await graph.api(`/users/${created.id}`).select('identities').get()) as Identities;
    expect(read.identities[0]).toEqual({
      signInType: 'userName',
      issuer: 'contoso.com',
      issuerAssignedId: 'u-2',
    });

    const invalid = [
      { ...LOCAL, issuerAssignedId: 'not-an-email' },
      { signInType: 'userName', issuer: 'contoso.com', issuerAssignedId: '-starts-with-dash' },
      { signInType: 'federated', issuer: 'x.example', issuerAssignedId: 'a'.repeat(65) },
      { signInType: 'federated', issuer: 'x.example' },
    ];
    for (const identity of invalid) {
      const failure = await graphFailure(
        graph.api(`/users/${created.id}`).patch({ identities: [identity] }),
      );
      expect([failure.statusCode, failure.code, failure.message]).toEqual([
        400,
        'Request_BadRequest',
        "Invalid value specified for property 'identities' of resource 'User'.",
      ]);
    }

    const taken = await graphFailure(
      graph
        .api(`/users/${created.id}`)
        .patch({ identities: [{ ...LOCAL, issuerAssignedId: 'ANN@home.example' }] }),
    );
    expect([taken.statusCode, taken.code, taken.message]).toEqual([
      400,
      'Request_BadRequest',
      'Another object with the same value for property identities already exists.',
    ]);

    // PATCH replaces the collection; the userPrincipalName identity stays.
    await graph.api(`/users/${created.id}`).patch({ identities: [] });
    const cleared = (await graph
      .api(`/users/${created.id}`)
      .select('identities')
      .get()) as Identities;
    expect(cleared.identities.map((i) => i['signInType'])).toEqual(['userPrincipalName']);
  });

  test('SIM-ID3 identities/any filter: issuer and issuerAssignedId both required', async () => {
    const { graph } = await tenant();
    const names = async (filter: string) =>
      (
        (await graph.api('/users').filter(filter).select('displayName').get()) as {
          value: { displayName: string }[];
        }
      ).value.map((u) => u.displayName);

    expect(
      await names("identities/any(c:c/issuerAssignedId eq '5' and c/issuer eq 'facebook.com')"),
    ).toEqual(['Bob']);
    expect(
      await names("identities/any(c:c/issuer eq 'facebook.com' and c/issuerassignedid eq '5')"),
    ).toEqual(['Bob']);
    expect(
      await names("identities/any(c:c/issuerAssignedId eq '5' and c/issuer eq 'google.com')"),
    ).toEqual([]);
    // An emailAddress identity's issuer is ignored ("by design").
    expect(
      await names(
        "identities/any(c:c/issuerAssignedId eq 'ANN@home.example' and c/issuer eq 'other.example')",
      ),
    ).toEqual(['Ann']);
    // userPrincipalName identities are not found this way (filter on userPrincipalName).
    expect(
      await names(
        `identities/any(c:c/issuerAssignedId eq 'bob@contoso.example' and c/issuer eq '${INITIAL_DOMAIN}')`,
      ),
    ).toEqual([]);

    for (const filter of [
      "identities/any(c:c/issuerAssignedId eq '5')",
      "identities/any(c:c/issuer eq 'facebook.com')",
      "identities/any(c:c/signInType eq 'federated' and c/issuer eq 'facebook.com')",
    ]) {
      const failure = await graphFailure(graph.api('/users').filter(filter).get());
      expect([failure.statusCode, failure.code, failure.message]).toEqual([
        400,
        'Request_UnsupportedQuery',
        "Unsupported or invalid query filter clause specified for property 'identities' of resource 'User'.",
      ]);
    }
    // `and` inside other lambdas stays unsupported.
    const other = await graphFailure(
      graph
        .api('/users')
        .filter(
          'assignedLicenses/any(x:x/skuId eq 05e9a617-0261-4cee-bb44-138d3ef5d965 and x/skuId eq 05e9a617-0261-4cee-bb44-138d3ef5d965)',
        )
        .get(),
    );
    expect(other.statusCode).toBe(400);
  });
});
