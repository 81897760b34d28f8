/**
 * LDAP result codes (RFC 4511 section 4.1.9, plus the ones RFC 4370/3909/4533 and servers add),
 * and one function that turns anything an LDAP operation throws into a message that names the
 * code: `sizeLimitExceeded (4)`. Messages never carry request contents, so never a password.
 */
import { ResultCodeError } from 'ldapts';

const NAMES: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  4: 'sizeLimitExceeded',
  5: 'compareFalse',
  6: 'compareTrue',
  7: 'authMethodNotSupported',
  8: 'strongerAuthRequired',
  10: 'referral',
  11: 'adminLimitExceeded',
  12: 'unavailableCriticalExtension',
  13: 'confidentialityRequired',
  14: 'saslBindInProgress',
  16: 'noSuchAttribute',
  17: 'undefinedAttributeType',
  18: 'inappropriateMatching',
  19: 'constraintViolation',
  20: 'attributeOrValueExists',
  21: 'invalidAttributeSyntax',
  32: 'noSuchObject',
  33: 'aliasProblem',
  34: 'invalidDNSyntax',
  36: 'aliasDereferencingProblem',
  48: 'inappropriateAuthentication',
  49: 'invalidCredentials',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  54: 'loopDetect',
  64: 'namingViolation',
  65: 'objectClassViolation',
  66: 'notAllowedOnNonLeaf',
  67: 'notAllowedOnRDN',
  68: 'entryAlreadyExists',
  69: 'objectClassModsProhibited',
  71: 'affectsMultipleDSAs',
  80: 'other',
  112: 'tlsNotSupported',
  118: 'canceled',
};

/** Result codes after which the server stopped early: what came back is only part of the answer. */
export const LIMIT_CODES: ReadonlySet<number> = new Set([3, 4, 11]);

export function resultCodeName(code: number): string {
  return `${NAMES[code] ?? 'unknown'} (${code})`;
}

/** What kind of thing went wrong, which decides the issue code. */
export type FailureKind = 'ldap' | 'tls' | 'network' | 'timeout' | 'connection-lost' | 'other';

export interface LdapFailure {
  readonly kind: FailureKind;
  /** The LDAP result code, when the server answered with one. */
  readonly resultCode?: number;
  /** One line: `sizeLimitExceeded (4): server text` or `TLS: ... (CODE)`. */
  readonly text: string;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed by the server',
};

export function describeFailure(err: unknown): LdapFailure {
  if (err instanceof ResultCodeError) {
    // ldapts appends " Code: 0x4" to the server's text; the name and number replace it.
    const serverText = err.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim();
    return {
      kind: 'ldap',
      resultCode: err.code,
      text: `${resultCodeName(err.code)}${serverText ? `: ${oneLine(serverText)}` : ''}`,
    };
  }
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = oneLine(String(e?.message ?? err));
  if (
    code !== undefined &&
    (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))
  ) {
    return { kind: 'tls', text: `TLS: ${message} (${code})` };
  }
  if (/certificate|handshake|SSL routines|TLS/i.test(message) && code !== 'ECONNREFUSED') {
    return { kind: 'tls', text: `TLS: ${message}${code ? ` (${code})` : ''}` };
  }
  if (code !== undefined && NETWORK_CODES[code] !== undefined) {
    const where = e.address ? ` at ${e.address}${e.port ? `:${e.port}` : ''}` : '';
    return { kind: 'network', text: `${NETWORK_CODES[code]}${where} (${code})` };
  }
  if (/Connection timeout|Operation timed out/i.test(message)) {
    return { kind: 'timeout', text: message };
  }
  if (
    /Connection closed|Socket error|Socket connection not established|connection lost/i.test(
      message,
    )
  ) {
    return { kind: 'connection-lost', text: message };
  }
  return { kind: 'other', text: message };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
