/**
 * What `users.onboarding` rests on, read with the tenant at plan time (issue 23): the Temporary
 * Access Pass method policy (`GET /policies/authenticationMethodsPolicy`) and the sending
 * mailbox (`GET /users/{from}`). A 403 is `unreadable` (the plan holds onboarding with the
 * reason); a mailbox that is not there is `missing`; anything else fails the read (G8).
 */
import { TenantReadError } from '../../engine/errors.js';
import type { TenantOnboarding, TenantReadRequest } from '../../engine/model/tenant.js';
import type { GraphTransport } from './transport.js';

const TAP_CONFIGURATION_ID = 'temporaryaccesspass';

export async function readOnboarding(
  transport: GraphTransport,
  request: NonNullable<TenantReadRequest['onboarding']>,
): Promise<TenantOnboarding> {
  return {
    ...(request.credential === 'tap' ? { tapPolicy: await readTapPolicy(transport) } : {}),
    ...(request.mailbox === undefined
      ? {}
      : { mailbox: await readMailbox(transport, request.mailbox) }),
  };
}

async function readTapPolicy(transport: GraphTransport): Promise<TenantOnboarding['tapPolicy']> {
  const response = await transport.get('/policies/authenticationMethodsPolicy');
  if (response.status === 403) {
    return {
      status: 'unreadable',
      reason:
        'the app may not read the authentication methods policy (403 on GET /policies/authenticationMethodsPolicy; it needs Policy.Read.All)',
    };
  }
  if (response.status !== 200) {
    throw new TenantReadError(
      `reading the authentication methods policy: Graph answered ${response.status}`,
    );
  }
  const configurations = (response.body as { authenticationMethodConfigurations?: unknown })
    ?.authenticationMethodConfigurations;
  const tap = (Array.isArray(configurations) ? configurations : []).find(
    (c: unknown): c is Record<string, unknown> =>
      typeof c === 'object' &&
      c !== null &&
      String((c as Record<string, unknown>)['id'] ?? '').toLowerCase() === TAP_CONFIGURATION_ID,
  );
  if (!tap) return { status: 'read', enabled: false, allUsers: false };
  const targets = Array.isArray(tap['includeTargets']) ? tap['includeTargets'] : [];
  const number = (key: string) =>
    typeof tap[key] === 'number' ? { [key]: tap[key] as number } : {};
  return {
    status: 'read',
    enabled: tap['state'] === 'enabled',
    allUsers: targets.some(
      (t: unknown) =>
        typeof t === 'object' && t !== null && (t as Record<string, unknown>)['id'] === 'all_users',
    ),
    ...number('minimumLifetimeInMinutes'),
    ...number('maximumLifetimeInMinutes'),
    ...(typeof tap['isUsableOnce'] === 'boolean' ? { isUsableOnce: tap['isUsableOnce'] } : {}),
  };
}

async function readMailbox(
  transport: GraphTransport,
  upn: string,
): Promise<TenantOnboarding['mailbox']> {
  const response = await transport.get(
    `/users/${encodeURIComponent(upn)}?$select=id,mail,accountEnabled`,
  );
  if (response.status === 404) {
    return { status: 'missing', reason: `no account ${upn} in the tenant` };
  }
  if (response.status === 403) {
    return { status: 'unreadable', reason: `the app may not read ${upn} (403)` };
  }
  if (response.status !== 200) {
    throw new TenantReadError(
      `reading the sending mailbox ${upn}: Graph answered ${response.status}`,
    );
  }
  const mail = (response.body as { mail?: unknown } | undefined)?.mail;
  if (typeof mail !== 'string' || mail === '') {
    return { status: 'missing', reason: `${upn} has no mailbox (no mail address)` };
  }
  return { status: 'found' };
}
