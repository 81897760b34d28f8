/**
 * Credentials never leave the connector in text (X1). Three layers, because each alone misses
 * something:
 *
 * 1. URLs are shown through `redactUrl`: user info and the values of credential-like query
 *    parameters (by name, plus every parameter whose value came from a secret reference) become
 *    `[redacted]`, and the fragment is dropped. This catches tokens the connector never knew,
 *    e.g. a `sig=` a server put into a next link.
 * 2. Every secret the connector resolves or receives (a resolved reference, the OAuth access
 *    token, the Basic credential) is registered with the run's Redactor, in the encodings it
 *    travels in (URL-encoded, form-encoded, base64), and every message passes through it.
 * 3. Header values are never put into messages at all.
 */
import { REDACTED } from '../../engine/secret.js';
import type { Redactor } from '../../engine/secret.js';

/** Query parameter names whose values are credentials. */
const SENSITIVE_PARAM =
  /^(?:token|access_token|refresh_token|id_token|api[-_]?key|apikey|key|sig|signature|code|password|passwd|pwd|secret|client_secret|auth|session|sessionid|sid)$|(?:token|secret|password|api[-_]?key|signature)$/i;

/** Header names whose values are credentials. */
const SENSITIVE_HEADER =
  /^(?:authorization|proxy-authorization|cookie)$|token|key|secret|password|passwd|session/i;

export function isSensitiveParam(name: string): boolean {
  return SENSITIVE_PARAM.test(name);
}

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/** Registers a secret value with the redactor in every encoding it may travel in. */
export function registerSecret(redactor: Redactor, value: string): void {
  redactor.add(value);
  redactor.add(encodeURIComponent(value));
  redactor.add(new URLSearchParams({ v: value }).toString().slice(2));
}

/**
 * A URL as it may be shown: no user info, no fragment, credential-like query values replaced,
 * and any registered secret removed. `secretParams` names parameters whose values came from a
 * secret reference whatever they are called. Raw encoding of the other parameters is kept, so
 * the shown URL is the one that was requested.
 */
export function redactUrl(
  url: URL | string,
  redactor: Redactor,
  secretParams: ReadonlySet<string> = new Set(),
): string {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    // Not a URL: hide anything after `=` that looks like a credential parameter.
    return redactor.redact(
      String(url).replace(
        /([?&#;]|^)([^=&#;\s]+)=([^&#\s]*)/g,
        (whole, sep: string, name: string) =>
          isSensitiveParam(safeDecode(name)) || secretParams.has(safeDecode(name))
            ? `${sep}${name}=${REDACTED}`
            : whole,
      ),
    );
  }
  const userinfo = u.username !== '' || u.password !== '' ? `${REDACTED}@` : '';
  const query = u.search
    .slice(1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part;
      const name = safeDecode(part.slice(0, eq).replaceAll('+', ' '));
      return isSensitiveParam(name) || secretParams.has(name)
        ? `${part.slice(0, eq)}=${REDACTED}`
        : part;
    })
    .join('&');
  const shown = `${u.protocol}//${userinfo}${u.host}${u.pathname}${query === '' ? '' : `?${query}`}`;
  return redactor.redact(shown);
}

/**
 * Scrubs text a server wrote (an error body, a page snippet) of what looks like a credential
 * even when it is none the connector knows: `token=...`-style parameters and the value after
 * `Bearer` or `Basic`.
 */
export function scrubServerText(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`)
    .replace(
      /([?&#;\s"'{,]|^)([^=&#;\s"'{},:]+)=([^&#\s"',}]*)/g,
      (whole, sep: string, name: string) =>
        isSensitiveParam(safeDecode(name)) ? `${sep}${name}=${REDACTED}` : whole,
    );
}

/**
 * Registers the values of credential-like query parameters of a URL about to be requested (a
 * next link may carry a token the server handed out). The redactor serves the whole run, so only
 * values long enough to be tokens are registered: `key=active` must not blank out every
 * "active" in a plan.
 */
export function registerUrlSecrets(redactor: Redactor, url: URL): void {
  for (const [name, value] of url.searchParams) {
    if (isSensitiveParam(name) && value.length >= MIN_SERVER_TOKEN_LENGTH) {
      registerSecret(redactor, value);
    }
  }
}

const MIN_SERVER_TOKEN_LENGTH = 12;

/** What in a URL would put a credential into config text: user info or a credential parameter. */
export function credentialsInUrl(url: URL): string[] {
  const found: string[] = [];
  if (url.username !== '' || url.password !== '') found.push('user info (`user:password@`)');
  for (const name of new Set(url.searchParams.keys())) {
    if (isSensitiveParam(name)) found.push(`the query parameter \`${name}\``);
  }
  return found;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
