/**
 * `POST /users/{id}/sendMail` into the simulator's outbox, through the real Graph SDK (catalogue
 * O9–O12, test/catalogue-additions.md): 202 with no body and the mail in `store.outbox()` and
 * `GET /_simulator/outbox`; Exchange's errors for a sender that is no user or has no mailbox and
 * for missing or unresolvable recipients; Mail.Send required; no body in the request log.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CLIENT_ROLES, OUTBOX_PATH } from './index.js';
import { bearer, graphFailure, graphFor, raw, simulator } from './test-helpers/simulator.js';

const HR = {
  accountEnabled: true,
  displayName: 'HR Onboarding',
  mailNickname: 'hr',
  userPrincipalName: 'hr@contoso.example',
  mail: 'onboarding@contoso.example',
};
const NO_MAILBOX = {
  accountEnabled: true,
  displayName: 'No Mailbox',
  mailNickname: 'nomail',
  userPrincipalName: 'nomail@contoso.example',
};

const NO_SEND = {
  clientId: 'b2b2b2b2-0000-4000-8000-000000000001',
  clientSecret: 'no-mail-send-secret-1',
  roles: ['User.ReadWrite.All'],
};

function message(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subject: 'Welcome, Cy',
    body: { contentType: 'HTML', content: '<p>Your pass: K7#pQ2mZ</p>' },
    toRecipients: [{ emailAddress: { address: 'boss@contoso.example', name: 'Boss' } }],
    ...extra,
  };
}

async function simWithMailboxes() {
  const sim = await simulator({
    throttling: false,
    seed: { users: [HR, NO_MAILBOX] },
    clients: [
      {
        clientId: 'b2b2b2b2-0000-4000-8000-00000000000a',
        clientSecret: 'default-mail-secret-1',
        roles: [...DEFAULT_CLIENT_ROLES],
      },
      NO_SEND,
    ],
  });
  return { sim, graph: graphFor(sim) };
}

describe('sendMail', () => {
  test('O9: 202 with no body; the mail is in the outbox with sender, recipients, subject and body', async () => {
    const { sim } = await simWithMailboxes();
    const sent = await raw(sim, '/v1.0/users/hr@contoso.example/sendMail', {
      method: 'POST',
      headers: { Authorization: await bearer(sim), 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: message(), saveToSentItems: 'false' }),
    });
    expect(sent.status).toBe(202);
    expect(sent.text).toBe('');
    // By id and by SMTP address too, through the SDK.
    const hrId = sim.store.getUserByUpn('hr@contoso.example')?.user.id ?? '';
    await graphFor(sim)
      .api(`/users/${hrId}/sendMail`)
      .post({ message: message({ subject: 'Two' }) });
    await graphFor(sim)
      .api('/users/onboarding@contoso.example/sendMail')
      .post({
        message: message({
          subject: 'Three',
          ccRecipients: [{ emailAddress: { address: 'it@contoso.example' } }],
        }),
      });

    const outbox = sim.store.outbox();
    expect(outbox.map((m) => m.subject)).toEqual(['Welcome, Cy', 'Two', 'Three']);
    expect(outbox[0]).toEqual({
      seq: 1,
      sentDateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      senderId: hrId,
      senderAddress: 'onboarding@contoso.example',
      appId: 'b2b2b2b2-0000-4000-8000-00000000000a',
      subject: 'Welcome, Cy',
      body: { contentType: 'html', content: '<p>Your pass: K7#pQ2mZ</p>' },
      toRecipients: [{ address: 'boss@contoso.example', name: 'Boss' }],
      ccRecipients: [],
      bccRecipients: [],
      saveToSentItems: false,
    });
    expect(outbox[2]?.ccRecipients).toEqual([{ address: 'it@contoso.example' }]);
    expect(outbox[1]?.saveToSentItems).toBe(true);

    const listing = await raw(sim, OUTBOX_PATH, { headers: { Authorization: await bearer(sim) } });
    expect(listing.status).toBe(200);
    expect(listing.body).toEqual({ value: outbox });
    const anonymous = await raw(sim, OUTBOX_PATH);
    expect([anonymous.status, (anonymous.body as { error: { code: string } }).error.code]).toEqual([
      401,
      'InvalidAuthenticationToken',
    ]);

    // The request log has paths and statuses only: no subject, body or pass.
    const log = JSON.stringify(sim.requestLog);
    expect(log).toContain('/sendMail');
    expect(log).toContain(OUTBOX_PATH);
    for (const secret of ['K7#pQ2mZ', 'Welcome, Cy', 'boss@contoso.example']) {
      expect(log).not.toContain(secret);
    }
  });

  test('O10: a sender that is no user is 404 ErrorInvalidUser; a user without mail is 404 MailboxNotEnabledForRESTAPI', async () => {
    const { sim, graph } = await simWithMailboxes();
    const nobody = await graphFailure(
      graph.api('/users/ghost@contoso.example/sendMail').post({ message: message() }),
    );
    expect([nobody.statusCode, nobody.code, nobody.message]).toEqual([
      404,
      'ErrorInvalidUser',
      "The requested user 'ghost@contoso.example' is invalid.",
    ]);
    const noMailbox = await graphFailure(
      graph.api('/users/nomail@contoso.example/sendMail').post({ message: message() }),
    );
    expect([noMailbox.statusCode, noMailbox.code, noMailbox.message]).toEqual([
      404,
      'MailboxNotEnabledForRESTAPI',
      'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    ]);
    expect(sim.store.outbox()).toEqual([]);
  });

  test('O11: no recipients, an unresolvable address or no message: 400, nothing sent', async () => {
    const { sim, graph } = await simWithMailboxes();
    const send = (body: Record<string, unknown>) =>
      graphFailure(graph.api('/users/hr@contoso.example/sendMail').post(body));
    const none = await send({ message: message({ toRecipients: [] }) });
    expect([none.statusCode, none.code]).toEqual([400, 'ErrorInvalidRecipients']);
    expect(none.message).toContain('contains no recipients');
    const bad = await send({
      message: message({
        toRecipients: [{ emailAddress: { address: 'a@x.example; b@x.example' } }],
      }),
    });
    expect([bad.statusCode, bad.code]).toEqual([400, 'ErrorInvalidRecipients']);
    expect(bad.message).toContain("Recipient 'a@x.example; b@x.example' is not resolved.");
    const missing = await send({ saveToSentItems: false });
    expect([missing.statusCode, missing.code]).toEqual([400, 'ErrorInvalidRequest']);
    const badType = await send({
      message: message({ body: { contentType: 'markdown', content: 'x' } }),
    });
    expect(badType.statusCode).toBe(400);
    expect(sim.store.outbox()).toEqual([]);
  });

  test('O12: without Mail.Send: 403 Authorization_RequestDenied', async () => {
    const { sim } = await simWithMailboxes();
    const denied = await graphFailure(
      graphFor(sim, sim.clients[1])
        .api('/users/hr@contoso.example/sendMail')
        .post({ message: message() }),
    );
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);
    expect(sim.store.outbox()).toEqual([]);
  });
});
