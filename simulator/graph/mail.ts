/**
 * `POST /users/{id | userPrincipalName}/sendMail` (user-sendmail, Graph v1.0), JSON form: body
 * `message` (subject, body {contentType, content}, toRecipients, ccRecipients, bccRecipients)
 * and `saveToSentItems`; 202 Accepted with no body. Accepted mails go to the tenant store's
 * outbox (store/outbox.ts), which stands for the recipients' mailboxes: nothing leaves the
 * machine.
 *
 * A mailbox is modelled as: an active, replicated member user (not a guest) with `mail` set.
 * Exchange licensing and mailbox provisioning are not modelled. The path key may be the
 * object id, the userPrincipalName or the mailbox's SMTP address (`mail`), as Exchange resolves
 * it. Errors: a key naming no user is 404 `ErrorInvalidUser`; a user without a mailbox is 404
 * `MailboxNotEnabledForRESTAPI`; a message without any recipient, or with an address that is not
 * one, is 400 `ErrorInvalidRecipients` (texts in ../onboarding-errors.ts).
 *
 * Not modelled: MIME bodies (`Content-Type: text/plain`, 501), attachments, headers, `from` /
 * send-as checks, Sent Items (the flag is kept on the outbox entry, nothing can read the folder),
 * `/me/sendMail` (the simulator issues app-only tokens).
 */
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import { header, jsonObjectBody } from '../http.js';
import { onboardingErrors } from '../onboarding-errors.js';
import type { MailAddress, StoredObject } from '../store.js';
import type { GraphContext } from './context.js';
import { GUID } from './context.js';
import type { PathSegment } from './odata.js';
import { segmentKey } from './odata.js';

/** Application permission for `sendMail` (permissions reference: Mail.Send). */
export const MAIL_SEND = ['Mail.Send'] as const;

// One address, no list separators or spaces: what Exchange can resolve as a single recipient.
const ADDRESS = /^[^\s@;,<>"]+@[^\s@;,<>"]+\.[^\s@;,<>".]+$/;

export function sendMail(ctx: GraphContext, key: PathSegment): SimResponse {
  const sender = findMailbox(ctx, key);
  if (/^text\/plain\b/i.test(header(ctx.request, 'content-type') ?? '')) {
    throw graphErrors.notImplemented('sendMail with a MIME body');
  }
  const body = jsonObjectBody(ctx.request);
  const message = body['message'];
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw onboardingErrors.invalidMessage('"message" is required and must be an object.');
  }
  const fields = message as Record<string, unknown>;
  const toRecipients = recipients(fields['toRecipients'], 'toRecipients');
  const ccRecipients = recipients(fields['ccRecipients'], 'ccRecipients');
  const bccRecipients = recipients(fields['bccRecipients'], 'bccRecipients');
  if (toRecipients.length + ccRecipients.length + bccRecipients.length === 0) {
    throw onboardingErrors.noRecipients();
  }
  const subject = fields['subject'] ?? '';
  if (typeof subject !== 'string') {
    throw graphErrors.cannotConvert('Edm.String', JSON.stringify(subject));
  }
  ctx.store.appendOutbox({
    sentDateTime: new Date(ctx.clock.now()).toISOString(),
    senderId: sender.doc.id,
    senderAddress: String(sender.doc['mail']),
    appId: ctx.principal.appId,
    subject,
    body: itemBody(fields['body']),
    toRecipients,
    ccRecipients,
    bccRecipients,
    saveToSentItems: saveToSentItems(body['saveToSentItems']),
  });
  return { status: 202 };
}

/** The user behind the path key, which must have a mailbox (see the module comment). */
function findMailbox(ctx: GraphContext, segment: PathSegment): StoredObject {
  const key = segmentKey(segment, 'id') ?? segment.name;
  let found: StoredObject | undefined;
  if (GUID.test(key)) found = ctx.store.getObject(key);
  else {
    const byUpn = ctx.store.getUserByUpn(key);
    found =
      byUpn === undefined
        ? ctx.store.queryObjects({
            kind: 'user',
            state: 'active',
            afterSeq: 0,
            limit: 1,
            where: { sql: "lower(json_extract(doc, '$.mail')) = lower(?)", params: [key] },
          })[0]
        : ctx.store.getObject(byUpn.user.id);
  }
  if (
    found === undefined ||
    found.kind !== 'user' ||
    found.state !== 'active' ||
    !ctx.rules.visible(found.doc.id)
  ) {
    throw onboardingErrors.invalidUser(key);
  }
  const mail = found.doc['mail'];
  if (typeof mail !== 'string' || mail === '' || found.doc['userType'] === 'Guest') {
    throw onboardingErrors.mailboxNotEnabled();
  }
  return found;
}

function recipients(raw: unknown, name: string): MailAddress[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw))
    throw graphErrors.cannotConvert('Collection(microsoft.graph.recipient)', name);
  return raw.map((entry: unknown) => {
    const email = (entry as { emailAddress?: unknown } | null)?.emailAddress as
      Record<string, unknown> | undefined;
    const address = email?.['address'];
    if (typeof address !== 'string' || !ADDRESS.test(address.trim())) {
      throw onboardingErrors.unresolvedRecipient(typeof address === 'string' ? address : '');
    }
    const displayName = email?.['name'];
    return typeof displayName === 'string' && displayName !== ''
      ? { address: address.trim(), name: displayName }
      : { address: address.trim() };
  });
}

function itemBody(raw: unknown): { contentType: 'text' | 'html'; content: string } {
  if (raw === undefined || raw === null) return { contentType: 'text', content: '' };
  const fields = raw as Record<string, unknown>;
  const type = String(fields['contentType'] ?? 'text').toLowerCase();
  if (type !== 'text' && type !== 'html') {
    throw graphErrors.cannotConvert('microsoft.graph.bodyType', String(fields['contentType']));
  }
  const content = fields['content'] ?? '';
  if (typeof content !== 'string') throw graphErrors.cannotConvert('Edm.String', undefined);
  return { contentType: type, content };
}

/** Default true; Graph's own example sends the string "false", which it accepts. */
function saveToSentItems(raw: unknown): boolean {
  if (raw === undefined || raw === null) return true;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw graphErrors.cannotConvert('Edm.Boolean', JSON.stringify(raw));
}
