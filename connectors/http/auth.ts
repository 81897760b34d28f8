/**
 * Request authentication: a static bearer token, HTTP Basic, or an OAuth 2.0 client credentials
 * grant whose token is cached and fetched again before it expires or after a 401.
 *
 * Secrets arrive resolved (`Secret`, registered with the redactor by the resolver) and are
 * revealed only into the Authorization header or the token request body. The access token the
 * server returns is registered with the redactor as soon as it arrives, so an API that echoes it
 * into an error is scrubbed too. Messages name the token endpoint (redacted) and the OAuth
 * `error` code, never a credential.
 */
import type { Redactor } from '../../engine/secret.js';
import { Secret } from '../../engine/secret.js';
import type { HttpClient } from './http-client.js';
import { registerSecret, scrubServerText } from './redact.js';
import { isObject } from './select.js';

export type ResolvedAuth =
  | { readonly method: 'none' }
  | { readonly method: 'bearer'; readonly token: Secret }
  | { readonly method: 'basic'; readonly username: string; readonly password: Secret }
  | {
      readonly method: 'oauth2';
      readonly tokenUrl: URL;
      readonly clientId: string;
      readonly clientSecret: Secret;
      readonly scope?: string;
      readonly audience?: string;
      readonly clientAuth: 'basic' | 'body';
    };

export type AuthorizationResult =
  | { readonly ok: true; readonly header?: string }
  | { readonly ok: false; readonly message: string };

export interface Authenticator {
  /** The Authorization header value for the next request (none without auth). */
  authorization(): Promise<AuthorizationResult>;
  /**
   * Called after a 401. Drops a cached OAuth token and returns true when asking again with a
   * fresh one may help; false for static credentials, which a retry cannot change.
   */
  invalidate(): boolean;
}

/** Seconds before `expires_in` ends at which a cached token is no longer used. */
const EXPIRY_MARGIN_SECONDS = 60;

export function createAuthenticator(
  auth: ResolvedAuth,
  client: HttpClient,
  redactor: Redactor,
  showUrl: (url: URL) => string,
): Authenticator {
  switch (auth.method) {
    case 'none':
      return { authorization: async () => ({ ok: true }), invalidate: () => false };
    case 'bearer':
      return {
        authorization: async () => ({ ok: true, header: `Bearer ${auth.token.reveal()}` }),
        invalidate: () => false,
      };
    case 'basic': {
      const credential = basicCredential(auth.username, auth.password.reveal());
      registerSecret(redactor, credential);
      return {
        authorization: async () => ({ ok: true, header: `Basic ${credential}` }),
        invalidate: () => false,
      };
    }
    case 'oauth2':
      return createClientCredentials(auth, client, redactor, showUrl);
  }
}

function createClientCredentials(
  auth: Extract<ResolvedAuth, { method: 'oauth2' }>,
  client: HttpClient,
  redactor: Redactor,
  showUrl: (url: URL) => string,
): Authenticator {
  let cached: { readonly token: Secret; readonly expiresAt: number } | undefined;
  const where = `token request POST ${showUrl(auth.tokenUrl)}`;

  async function fetchToken(): Promise<AuthorizationResult> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope !== undefined) form.set('scope', auth.scope);
    if (auth.audience !== undefined) form.set('audience', auth.audience);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'user-agent': 'entrasync',
    };
    if (auth.clientAuth === 'basic') {
      // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and encoded.
      const credential = basicCredential(
        formEncode(auth.clientId),
        formEncode(auth.clientSecret.reveal()),
      );
      registerSecret(redactor, credential);
      headers['authorization'] = `Basic ${credential}`;
    } else {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret.reveal());
    }
    const outcome = await client.send({
      method: 'POST',
      url: auth.tokenUrl,
      headers,
      body: form.toString(),
    });
    if (!outcome.ok) return { ok: false, message: `${where} failed: ${outcome.reason}` };
    const { status, text } = outcome.response;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status < 200 || status > 299) {
      const code = isObject(body) && typeof body['error'] === 'string' ? body['error'] : undefined;
      const description =
        isObject(body) && typeof body['error_description'] === 'string'
          ? scrubServerText(body['error_description'].slice(0, 200))
          : undefined;
      return {
        ok: false,
        message:
          `${where} failed: HTTP ${status}` +
          (code === undefined ? '' : `: ${code}`) +
          (description === undefined ? '' : ` (${description})`),
      };
    }
    const token = isObject(body) ? body['access_token'] : undefined;
    if (typeof token !== 'string' || token === '') {
      return { ok: false, message: `${where}: the answer has no \`access_token\`` };
    }
    registerSecret(redactor, token);
    const type = isObject(body) ? body['token_type'] : undefined;
    if (typeof type === 'string' && type.toLowerCase() !== 'bearer') {
      return {
        ok: false,
        message: `${where}: token_type \`${type.slice(0, 40)}\` is not supported (only bearer)`,
      };
    }
    const expiresIn = isObject(body) ? Number(body['expires_in']) : Number.NaN;
    const lifetime =
      Number.isFinite(expiresIn) && expiresIn > 0
        ? expiresIn > 2 * EXPIRY_MARGIN_SECONDS
          ? expiresIn - EXPIRY_MARGIN_SECONDS
          : expiresIn / 2
        : Number.POSITIVE_INFINITY;
    cached = { token: new Secret(token), expiresAt: Date.now() + lifetime * 1000 };
    return { ok: true, header: `Bearer ${token}` };
  }

  return {
    async authorization() {
      if (cached && Date.now() < cached.expiresAt) {
        return { ok: true, header: `Bearer ${cached.token.reveal()}` };
      }
      cached = undefined;
      return fetchToken();
    },
    invalidate() {
      cached = undefined;
      return true;
    },
  };
}

function basicCredential(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
