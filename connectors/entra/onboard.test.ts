/**
 * onboard.ts with a scripted transport (catalogue N13-N15): the exact Graph requests of an
 * onboarding step, the pass deleted and made anew when its delivery fails, the credential
 * registered with the redactor and absent from every result, and webhook notices without the
 * credential unless `includeCredential`.
 */
import { describe, expect, it } from 'vitest';
import type { OnboardUserChange } from '../../engine/model/plan.js';
import { Redactor, Secret } from '../../engine/secret.js';
import { answer, fakeClock, fakeTransport, graphError } from './executor-fakes.js';
import { onboardUser } from './onboard.js';

const STATE = 'onPremisesExtensionAttributes.extensionAttribute13';
const TEMPLATE = {
  subject: 'Welcome {{name}}',
  body: 'Pass for {{upn}}: {{credential}} until {{expiresAt}}',
};

const change: OnboardUserChange = {
  id: 'onboardUser:ann@contoso.com',
  kind: 'onboardUser',
  reason: 'onboarding',
  message: 'onboard ann@contoso.com',
  provenance: [],
  user: { userPrincipalName: 'ann@contoso.com' },
  credential: 'tap',
  delivery: { channel: 'email', to: 'manager', recipient: 'boss@contoso.com' },
  tap: { lifetimeInMinutes: 60, isUsableOnce: true },
  placeholders: { name: 'Ann', upn: 'ann@contoso.com', recipient: 'boss@contoso.com' },
  stateAttribute: STATE,
};

const created = (id: string, pass: string) =>
  answer(201, {
    id,
    temporaryAccessPass: pass,
    startDateTime: '2026-01-01T00:00:00Z',
    lifetimeInMinutes: 60,
  });

describe('onboardUser (entra writer)', () => {
  it('N13: deletes any pass the account has, creates one, mails it from the mailbox, clears the mark; the result names the recipient only', async () => {
    const transport = fakeTransport(fakeClock(), [
      answer(200, { value: [{ id: 'old-pass' }] }),
      answer(204),
      created('p1', 'TapValue1234'),
      answer(202),
      answer(204),
    ]);
    const redactor = new Redactor();
    const result = await onboardUser(change, 'u-1', {
      transport,
      redactor,
      password: () => 'unused',
      delivery: { channel: 'email', from: 'it@contoso.com', template: TEMPLATE },
    });
    expect(result).toEqual({
      ok: true,
      targetId: 'u-1',
      note: 'credential delivered to boss@contoso.com',
    });
    expect(transport.sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /users/u-1/authentication/temporaryAccessPassMethods',
      'DELETE /users/u-1/authentication/temporaryAccessPassMethods/old-pass',
      'POST /users/u-1/authentication/temporaryAccessPassMethods',
      'POST /users/it%40contoso.com/sendMail',
      'PATCH /users/u-1',
    ]);
    expect(transport.sent[2]?.body).toEqual({ lifetimeInMinutes: 60, isUsableOnce: true });
    expect(transport.sent[3]?.body).toEqual({
      message: {
        subject: 'Welcome Ann',
        body: {
          contentType: 'Text',
          content: 'Pass for ann@contoso.com: TapValue1234 until 2026-01-01T01:00:00.000Z',
        },
        toRecipients: [{ emailAddress: { address: 'boss@contoso.com' } }],
      },
      saveToSentItems: false,
    });
    expect(transport.sent[4]?.body).toEqual({
      onPremisesExtensionAttributes: { extensionAttribute13: null },
    });
    expect(redactor.redact('x TapValue1234 y')).toBe('x [redacted] y');
    expect(JSON.stringify(result)).not.toContain('TapValue1234');
  });

  it('N14: a failed delivery deletes that pass and retries with a new one; a second failure deletes it too and keeps the mark', async () => {
    const transport = fakeTransport(fakeClock(), [
      answer(200, { value: [] }),
      created('p1', 'FirstPass111'),
      answer(503, graphError('ServiceUnavailable', 'try later')),
      answer(204), // DELETE p1
      answer(200, { value: [] }),
      created('p2', 'SecondPass22'),
      answer(202),
      answer(204),
    ]);
    const delivered = await onboardUser(change, 'u-1', {
      transport,
      password: () => 'unused',
      delivery: { channel: 'email', from: 'it@contoso.com', template: TEMPLATE },
    });
    expect(delivered.ok).toBe(true);
    const requests = transport.sent.map((r) => `${r.method} ${r.url}`);
    expect(requests[3]).toBe('DELETE /users/u-1/authentication/temporaryAccessPassMethods/p1');
    const mails = transport.sent.filter((r) => r.url.endsWith('/sendMail'));
    expect(JSON.stringify(mails[0]?.body)).toContain('FirstPass111');
    expect(JSON.stringify(mails[1]?.body)).toContain('SecondPass22');

    const failing = fakeTransport(fakeClock(), [
      answer(200, { value: [] }),
      created('p1', 'FirstPass111'),
      answer(
        404,
        graphError('ErrorInvalidUser', "The requested user 'it@contoso.com' is invalid."),
      ),
      answer(204),
      answer(200, { value: [] }),
      created('p2', 'SecondPass22'),
      answer(
        404,
        graphError('ErrorInvalidUser', "The requested user 'it@contoso.com' is invalid."),
      ),
      answer(204),
    ]);
    const failed = await onboardUser(change, 'u-1', {
      transport: failing,
      password: () => 'unused',
      delivery: { channel: 'email', from: 'it@contoso.com', template: TEMPLATE },
    });
    expect(failed.ok).toBe(false);
    expect(JSON.stringify(failed)).not.toMatch(/FirstPass111|SecondPass22/);
    expect(!failed.ok && 'error' in failed && failed.error.message).toContain(
      'credential not delivered to boss@contoso.com (2 attempts, each with a new credential, none left valid)',
    );
    const last = failing.sent.at(-1);
    expect(`${last?.method} ${last?.url}`).toBe(
      'DELETE /users/u-1/authentication/temporaryAccessPassMethods/p2',
    );
    expect(failing.sent.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('N15: a webhook gets the notice without the credential unless includeCredential; a password step sets a new forced-change password', async () => {
    const posted: unknown[] = [];
    const post = async (_url: string, body: unknown) => {
      posted.push(body);
      return { status: 200 };
    };
    for (const includeCredential of [false, true]) {
      const transport = fakeTransport(fakeClock(), [
        answer(200, { value: [] }),
        created('p1', 'HookPass5678'),
        answer(204),
      ]);
      const result = await onboardUser(change, 'u-1', {
        transport,
        password: () => 'unused',
        delivery: {
          channel: 'webhook',
          url: new Secret('https://hooks.example/x?token=s3cr3t'),
          includeCredential,
          post,
        },
      });
      expect(result.ok).toBe(true);
    }
    expect(posted[0]).toMatchObject({
      user: 'ann@contoso.com',
      recipient: 'boss@contoso.com',
      credentialKind: 'tap',
    });
    expect(JSON.stringify(posted[0])).not.toContain('HookPass5678');
    expect(posted[1]).toMatchObject({ credential: 'HookPass5678' });

    const transport = fakeTransport(fakeClock(), [answer(204), answer(202), answer(204)]);
    const password = await onboardUser({ ...change, credential: 'password' }, 'u-1', {
      transport,
      password: () => 'Pw-Generated-1',
      delivery: { channel: 'email', from: 'it@contoso.com', template: TEMPLATE },
    });
    expect(password.ok).toBe(true);
    expect(transport.sent[0]).toMatchObject({
      method: 'PATCH',
      url: '/users/u-1',
      body: {
        passwordProfile: { password: 'Pw-Generated-1', forceChangePasswordNextSignIn: true },
      },
    });
  });
});
