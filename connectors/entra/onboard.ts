/**
 * Carries out an `onboardUser` step (issue 23): the new hire's first credential, made and
 * delivered in one go, never stored. The credential is a local of `onboardUser` below: it is
 * read from Graph's answer, registered with the run's redactor (so no log or error can show it),
 * put into the delivery, and dropped. Nothing returned carries it.
 *
 * Temporary Access Pass: every pass the account has is deleted first, then one is created
 * (`POST /users/{id}/authentication/temporaryAccessPassMethods`); a retry or a resumed run thus
 * always delivers a fresh pass, and never one that may have been seen. A delivery that fails
 * deletes the pass it carried, then tries once more with a new one; if that fails too, the step
 * fails, no pass is left behind and the account keeps its "awaiting" mark, so the next plan
 * onboards it again. Password: a new random password with forced change (`PATCH passwordProfile`).
 *
 * Delivery: Graph `sendMail` from the configured mailbox (not saved to Sent Items), or a webhook
 * that gets the credential only when the config says `includeCredential: true`.
 */
import type { OnboardUserChange } from '../../engine/model/plan.js';
import type { TargetError } from '../../engine/model/report.js';
import type { WriteResult } from '../../engine/ports.js';
import type { Redactor, Secret } from '../../engine/secret.js';
import type { DeliveryTemplate } from '../../engine/render/onboarding-template.js';
import { renderDeliveryTemplate } from '../../engine/render/onboarding-template.js';
import { unflatten } from './attributes.js';
import type { GraphHttpResponse, GraphTransport } from './transport.js';
import { graphErrorOf, graphNow } from './transport.js';

/** Delivery as the writer gets it: secrets resolved, the template read. */
export type OnboardingDelivery =
  | { readonly channel: 'email'; readonly from: string; readonly template: DeliveryTemplate }
  | {
      readonly channel: 'webhook';
      readonly url: Secret;
      readonly includeCredential: boolean;
      /** Posts JSON; default `fetch`. Tests pass a recorder. */
      readonly post?: (url: string, body: unknown) => Promise<{ status: number }>;
    };

export interface OnboardingOptions {
  readonly transport: GraphTransport;
  readonly delivery: OnboardingDelivery;
  /** Every credential is registered here before it goes anywhere. */
  readonly redactor?: Redactor;
  /** Makes a password (`credential: password`). */
  readonly password: () => string;
}

/** Delivery attempts per step, each with a new credential. */
const DELIVERY_ATTEMPTS = 2;

interface Issued {
  readonly value: string;
  /** The pass's method id, to delete it when its delivery fails. */
  readonly methodId?: string;
  readonly startAt?: string;
  readonly expiresAt?: string;
}

type Failure = { readonly ok: false; readonly error: TargetError };

export async function onboardUser(
  change: OnboardUserChange,
  userId: string,
  options: OnboardingOptions,
): Promise<WriteResult> {
  const user = `/users/${encodeURIComponent(userId)}`;
  let lastFailure: Failure | undefined;
  for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS; attempt++) {
    const issued = await issue(change, user, options);
    if (!issued.ok) return issued;
    options.redactor?.add(issued.credential.value);
    const delivered = await deliver(change, issued.credential, options);
    if (delivered.ok) {
      const cleared = await clearPending(change, user, options.transport);
      if (!cleared.ok) return cleared;
      return {
        ok: true,
        targetId: userId,
        note: `credential delivered to ${change.delivery.recipient}`,
      };
    }
    lastFailure = delivered;
    // A credential that did not reach its recipient must not stay valid.
    if (issued.credential.methodId !== undefined) {
      await options.transport
        .send({
          method: 'DELETE',
          url: `${user}/authentication/temporaryAccessPassMethods/${encodeURIComponent(issued.credential.methodId)}`,
        })
        .catch(() => undefined);
    }
  }
  const error = lastFailure?.error ?? { code: 'delivery-failed', message: 'not delivered' };
  return {
    ok: false,
    error: {
      ...error,
      message: `credential not delivered to ${change.delivery.recipient} (${DELIVERY_ATTEMPTS} attempts, each with a new credential, none left valid): ${error.message}; the account stays marked as awaiting its credential, so the next apply tries again`,
    },
  };
}

async function issue(
  change: OnboardUserChange,
  user: string,
  options: OnboardingOptions,
): Promise<{ ok: true; credential: Issued } | Failure> {
  const { transport } = options;
  if (change.credential === 'password') {
    const value = options.password();
    options.redactor?.add(value);
    const response = await send(transport, 'PATCH', user, {
      passwordProfile: { password: value, forceChangePasswordNextSignIn: true },
    });
    if (!response.ok) return response;
    return { ok: true, credential: { value } };
  }
  const methods = `${user}/authentication/temporaryAccessPassMethods`;
  const listed = await send(transport, 'GET', methods);
  if (!listed.ok) return listed;
  const existing =
    (listed.response.body as { value?: { id?: unknown }[] } | undefined)?.value ?? [];
  for (const method of existing) {
    if (typeof method.id !== 'string') continue;
    const deleted = await send(transport, 'DELETE', `${methods}/${encodeURIComponent(method.id)}`);
    if (!deleted.ok && deleted.error.status !== 404) return deleted;
  }
  const tap = change.tap;
  const start =
    tap?.startDateTime !== undefined && Date.parse(tap.startDateTime) > graphNow(transport)
      ? tap.startDateTime
      : undefined;
  const created = await send(transport, 'POST', methods, {
    ...(start ? { startDateTime: start } : {}),
    ...(tap ? { lifetimeInMinutes: tap.lifetimeInMinutes, isUsableOnce: tap.isUsableOnce } : {}),
  });
  if (!created.ok) return created;
  const body = created.response.body as Record<string, unknown> | undefined;
  const value = body?.['temporaryAccessPass'];
  if (typeof value !== 'string' || value === '') {
    return failure(
      'tap-missing',
      'Graph created the pass but returned no temporaryAccessPass',
      created.response.status,
    );
  }
  options.redactor?.add(value);
  const startAt = typeof body?.['startDateTime'] === 'string' ? body['startDateTime'] : start;
  const lifetime =
    typeof body?.['lifetimeInMinutes'] === 'number'
      ? body['lifetimeInMinutes']
      : tap?.lifetimeInMinutes;
  const from = startAt === undefined ? graphNow(transport) : Date.parse(startAt);
  return {
    ok: true,
    credential: {
      value,
      ...(typeof body?.['id'] === 'string' ? { methodId: body['id'] } : {}),
      ...(startAt ? { startAt } : {}),
      ...(lifetime !== undefined && !Number.isNaN(from)
        ? { expiresAt: new Date(from + lifetime * 60_000).toISOString() }
        : {}),
    },
  };
}

async function deliver(
  change: OnboardUserChange,
  credential: Issued,
  options: OnboardingOptions,
): Promise<{ ok: true } | Failure> {
  const { delivery } = options;
  const values = {
    ...change.placeholders,
    credential: credential.value,
    startAt: credential.startAt ?? change.placeholders['startAt'] ?? 'now',
    ...(credential.expiresAt ? { expiresAt: credential.expiresAt } : {}),
  };
  if (delivery.channel === 'email') {
    const mail = renderDeliveryTemplate(delivery.template, values);
    const sent = await send(
      options.transport,
      'POST',
      `/users/${encodeURIComponent(delivery.from)}/sendMail`,
      {
        message: {
          subject: mail.subject,
          body: { contentType: 'Text', content: mail.body },
          toRecipients: [{ emailAddress: { address: change.delivery.recipient } }],
        },
        saveToSentItems: false,
      },
    );
    return sent.ok ? { ok: true } : sent;
  }
  const notice = {
    event: 'entrasync.onboarding',
    user: change.user.userPrincipalName,
    name: change.placeholders['name'] ?? change.user.userPrincipalName,
    credentialKind: change.credential,
    recipient: change.delivery.recipient,
    recipientKind: change.delivery.to,
    ...(change.placeholders['manager'] ? { manager: change.placeholders['manager'] } : {}),
    ...(credential.startAt ? { startAt: credential.startAt } : {}),
    ...(credential.expiresAt ? { expiresAt: credential.expiresAt } : {}),
    ...(delivery.includeCredential ? { credential: credential.value } : {}),
  };
  const post = delivery.post ?? postJson;
  try {
    const { status } = await post(delivery.url.reveal(), notice);
    if (status >= 200 && status < 300) return { ok: true };
    return failure('webhook-failed', `the webhook answered ${status}`, status);
  } catch (err) {
    // The URL is a secret: the message names the failure only.
    return failure(
      'webhook-failed',
      `the webhook could not be reached (${(err as { code?: string }).code ?? (err instanceof Error ? err.name : 'error')})`,
    );
  }
}

/** Clears the account's "awaiting its credential" mark once the credential is delivered. */
async function clearPending(
  change: OnboardUserChange,
  user: string,
  transport: GraphTransport,
): Promise<{ ok: true } | Failure> {
  const cleared = await send(
    transport,
    'PATCH',
    user,
    unflatten({ [change.stateAttribute]: null }),
  );
  if (cleared.ok) return cleared;
  return failure(
    cleared.error.code,
    `credential delivered to ${change.delivery.recipient}, but the account's onboarding mark (${change.stateAttribute}) could not be cleared: ${cleared.error.message}; the next apply delivers a new credential`,
    cleared.error.status,
  );
}

async function postJson(url: string, body: unknown): Promise<{ status: number }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.body?.cancel();
  return { status: response.status };
}

async function send(
  transport: GraphTransport,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<{ ok: true; response: GraphHttpResponse } | Failure> {
  let response: GraphHttpResponse;
  try {
    response = await transport.send({ method, url, ...(body === undefined ? {} : { body }) });
  } catch (err) {
    return failure('network', err instanceof Error ? err.message : String(err));
  }
  if (response.status >= 200 && response.status < 300) return { ok: true, response };
  const graph = graphErrorOf(response.body);
  return failure(
    graph.code ?? `http-${response.status}`,
    `${method} ${url.replace(/\?.*$/, '')}: ${graph.message ?? `Graph answered ${response.status}`}`,
    response.status,
  );
}

function failure(code: string, message: string, status?: number): Failure {
  return {
    ok: false,
    error: {
      code,
      message,
      ...(status === undefined ? {} : { status }),
      class: status !== undefined && (status === 429 || status >= 500) ? 'transient' : 'final',
    },
  };
}
