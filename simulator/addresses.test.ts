/**
 * Mail and proxy addresses are unique across the directory, through the real Graph SDK (P14),
 * and a restore whose UPN or addresses were taken fails as Graph's does unless it asks for a new
 * UPN or for proxy reconciliation (P15).
 */
import { describe, expect, test } from 'vitest';
import { graphFailure, graphFor, newUser, simulator } from './test-helpers/simulator.js';

const CONFLICT = 'Another object with the same value for property proxyAddresses already exists.';

async function expectProxyConflict(promise: Promise<unknown>): Promise<void> {
  const error = await graphFailure(promise);
  expect([error.statusCode, error.code, error.message]).toEqual([
    400,
    'Request_BadRequest',
    CONFLICT,
  ]);
  expect(JSON.parse(String(error.body))).toMatchObject({
    details: [{ code: 'ObjectConflict', message: CONFLICT, target: 'proxyAddresses' }],
  });
}

describe('P14: mail and proxy addresses are unique (simulator)', () => {
  test('P14: a mail becomes the primary SMTP: proxy address; a new one keeps the old as an alias', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const { id } = (await graph
      .api('/users')
      .post(newUser(1, { mail: 'Ann@contoso.example' }))) as { id: string };
    const read = async () =>
      (
        (await graph.api(`/users/${id}`).select('mail,proxyAddresses').get()) as {
          proxyAddresses: string[];
        }
      ).proxyAddresses;
    expect(await read()).toEqual(['SMTP:Ann@contoso.example']);
    await graph.api(`/users/${id}`).patch({ mail: 'ann.lee@contoso.example' });
    expect(await read()).toEqual(['SMTP:ann.lee@contoso.example', 'smtp:Ann@contoso.example']);
    const readOnly = await graphFailure(
      graph.api(`/users/${id}`).patch({ proxyAddresses: ['smtp:x@contoso.example'] }),
    );
    expect(readOnly.statusCode).toBe(400);
  });

  test('P14: creating or updating a user with a mail another object holds (mail or proxy, any case) is ObjectConflict on proxyAddresses', async () => {
    const sim = await simulator({
      throttling: false,
      seed: {
        users: [
          {
            accountEnabled: true,
            displayName: 'Shared',
            mailNickname: 'shared',
            userPrincipalName: 'shared@contoso.example',
            proxyAddresses: ['SMTP:shared@contoso.example', 'smtp:Team@Contoso.example'],
          },
        ],
      },
    });
    const graph = graphFor(sim);
    await expectProxyConflict(
      graph.api('/users').post(newUser(1, { mail: 'team@CONTOSO.example' })),
    );
    const { id } = (await graph
      .api('/users')
      .post(newUser(2, { mail: 'two@contoso.example' }))) as { id: string };
    await expectProxyConflict(graph.api(`/users/${id}`).patch({ mail: 'TEAM@contoso.example' }));
    // Refused whole: the user keeps its mail.
    expect(await graph.api(`/users/${id}`).select('mail').get()).toMatchObject({
      mail: 'two@contoso.example',
    });
    // Two new users with one mail: the second is refused.
    await expectProxyConflict(
      graph.api('/users').post(newUser(3, { mail: 'two@contoso.example' })),
    );
  });

  test("P14: a Microsoft 365 group's address is taken for users too", async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const group = (await graph.api('/groups').post({
      displayName: 'Team',
      mailNickname: 'team',
      mailEnabled: true,
      securityEnabled: false,
      groupTypes: ['Unified'],
    })) as { mail: string };
    await expectProxyConflict(graph.api('/users').post(newUser(1, { mail: group.mail })));
  });

  test('P14: a user in the recycle bin holds no address', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const { id } = (await graph
      .api('/users')
      .post(newUser(1, { mail: 'ann@contoso.example' }))) as { id: string };
    await graph.api(`/users/${id}`).delete();
    await expect(
      graph.api('/users').post(newUser(2, { mail: 'ann@contoso.example' })),
    ).resolves.toMatchObject({ mail: 'ann@contoso.example' });
  });
});

describe('P15: restoring a user whose names were taken (simulator)', () => {
  test('P15: a taken UPN fails the restore; newUserPrincipalName restores under the new one', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const { id } = (await graph.api('/users').post(newUser(1))) as { id: string };
    await graph.api(`/users/${id}`).delete();
    await graph.api('/users').post(newUser(1));
    const taken = await graphFailure(graph.api(`/directory/deletedItems/${id}/restore`).post({}));
    expect([taken.statusCode, taken.message]).toEqual([
      400,
      'Another object with the same value for property userPrincipalName already exists.',
    ]);
    // Still taken when asked for by name, and a new name must be a valid, verified UPN.
    const again = await graphFailure(
      graph
        .api(`/directory/deletedItems/${id}/restore`)
        .post({ newUserPrincipalName: 'USER1@contoso.example' }),
    );
    expect(again.statusCode).toBe(400);
    const invalid = await graphFailure(
      graph
        .api(`/directory/deletedItems/${id}/restore`)
        .post({ newUserPrincipalName: 'user 1@contoso.example' }),
    );
    expect(invalid.statusCode).toBe(400);
    const unverified = await graphFailure(
      graph
        .api(`/directory/deletedItems/${id}/restore`)
        .post({ newUserPrincipalName: 'user1b@not-ours.example' }),
    );
    expect(unverified.statusCode).toBe(400);
    const unknown = await graphFailure(
      graph.api(`/directory/deletedItems/${id}/restore`).post({ newName: 'x' }),
    );
    expect(unknown.statusCode).toBe(400);

    const restored = await graph
      .api(`/directory/deletedItems/${id}/restore`)
      .post({ newUserPrincipalName: 'user1b@contoso.example' });
    expect(restored).toMatchObject({ id, userPrincipalName: 'user1b@contoso.example' });
    await expect(graph.api(`/users/${id}`).get()).resolves.toMatchObject({
      userPrincipalName: 'user1b@contoso.example',
    });
  });

  test('P15: an address taken meanwhile fails the restore unless autoReconcileProxyConflict drops it', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const { id } = (await graph
      .api('/users')
      .post(newUser(1, { mail: 'ann@contoso.example' }))) as { id: string };
    await graph.api(`/users/${id}`).patch({ mail: 'ann.lee@contoso.example' });
    await graph.api(`/users/${id}`).delete();
    await graph.api('/users').post(newUser(2, { mail: 'ann@contoso.example' }));
    await expectProxyConflict(graph.api(`/directory/deletedItems/${id}/restore`).post({}));
    await graph
      .api(`/directory/deletedItems/${id}/restore`)
      .post({ autoReconcileProxyConflict: true });
    expect(await graph.api(`/users/${id}`).select('mail,proxyAddresses').get()).toMatchObject({
      mail: 'ann.lee@contoso.example',
      proxyAddresses: ['SMTP:ann.lee@contoso.example'],
    });
  });
});
