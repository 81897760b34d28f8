/**
 * A token that could not be had, told with what a person needs to act on it (issue 22): the
 * authority host, the tenant, the client id and the identity platform's AADSTS code.
 *
 * @azure/identity's errors name none of the first three, and when msal cannot resolve the
 * authority (an unknown tenant, an unreachable host) it says only `endpoints_resolution_error`.
 * Then one request to the authority's OpenID configuration tells the two apart: an answer
 * carries the AADSTS code (90002: tenant not found), no answer is a network problem. That
 * request carries no credential. Secrets never enter a message here: msal's messages quote the
 * platform's error description, which names the client id but never the secret or assertion.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { Agent } from 'undici';

export interface AuthContext {
  /** `https://login.microsoftonline.com`, or the simulator's. */
  readonly authorityHost: string;
  readonly tenantId: string;
  /** Absent: a system-assigned managed identity. */
  readonly clientId?: string;
  /** `secret`, `certificate`, `workload-identity`, `managed-identity`, `simulator`. */
  readonly method: string;
  readonly caPem?: string;
}

export class AuthenticationFailure extends Error {
  constructor(
    readonly context: Omit<AuthContext, 'caPem'>,
    /** `refused`: the platform answered with an error; `unreachable`: no answer. */
    readonly reason: 'refused' | 'unreachable' | 'unknown',
    /** The AADSTS code, e.g. 7000215; absent when the answer had none. */
    readonly aadsts: number | undefined,
    /** The platform's description (first sentence) or the network error's code. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `authentication failed at ${context.authorityHost} for tenant ${context.tenantId}${aadsts === undefined ? '' : `: AADSTS${aadsts}`}: ${detail}`,
      options,
    );
    this.name = 'AuthenticationFailure';
  }
}

/** `credential`, whose failures to get a token become `AuthenticationFailure`s. */
export function withAuthContext(
  credential: TokenCredential,
  context: AuthContext,
): TokenCredential {
  return {
    async getToken(
      scopes: string | string[],
      options?: GetTokenOptions,
    ): Promise<AccessToken | null> {
      try {
        return await credential.getToken(scopes, options);
      } catch (err) {
        throw await describeFailure(err, context);
      }
    },
  };
}

async function describeFailure(err: unknown, context: AuthContext): Promise<Error> {
  if (err instanceof AuthenticationFailure) return err;
  const { caPem, ...shown } = context;
  const message = err instanceof Error ? err.message : String(err);
  const code = aadstsCode(message);
  if (code !== undefined) {
    return new AuthenticationFailure(shown, 'refused', code, platformDescription(message, code), {
      cause: err,
    });
  }
  const resolvable = context.method !== 'managed-identity';
  if (resolvable && /endpoints_resolution_error|network|ECONN|ENOTFOUND|ETIMEDOUT/i.test(message)) {
    const probe = await probeAuthority(context.authorityHost, context.tenantId, caPem);
    return new AuthenticationFailure(shown, probe.reason, probe.aadsts, probe.detail, {
      cause: err,
    });
  }
  return new AuthenticationFailure(shown, 'unknown', undefined, firstLine(message), { cause: err });
}

interface ProbeResult {
  readonly reason: 'refused' | 'unreachable' | 'unknown';
  readonly aadsts?: number;
  readonly detail: string;
}

/** GET the tenant's OpenID configuration (no credential): what does the authority say? */
export async function probeAuthority(
  authorityHost: string,
  tenantId: string,
  caPem?: string,
  timeoutMs = 10_000,
): Promise<ProbeResult> {
  const url = `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
  const dispatcher = caPem === undefined ? undefined : new Agent({ connect: { ca: caPem } });
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher ? { dispatcher } : {}),
    } as RequestInit);
    if (response.ok) {
      return { reason: 'unknown', detail: 'the authority answers, but msal could not use it' };
    }
    const body = (await response.json().catch(() => ({}))) as { error_description?: unknown };
    const description = typeof body.error_description === 'string' ? body.error_description : '';
    const code = aadstsCode(description);
    return {
      reason: 'refused',
      ...(code === undefined ? {} : { aadsts: code }),
      detail:
        code === undefined
          ? `the authority answered ${response.status}`
          : platformDescription(description, code),
    };
  } catch (err) {
    return { reason: 'unreachable', detail: networkCause(err) };
  } finally {
    await dispatcher?.close().catch(() => {});
  }
}

function aadstsCode(text: string): number | undefined {
  const match = /AADSTS(\d+)/.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The sentence after `AADSTS<code>: `, without trace and correlation ids. */
function platformDescription(text: string, code: number): string {
  const after = text.slice(text.indexOf(`AADSTS${code}`) + `AADSTS${code}`.length);
  const description = after
    .replace(/^[:\s]+/, '')
    .split(/ Trace ID:| Correlation ID:|\r?\n/)[0]
    ?.trim();
  const sentence = /^.*?\.(?=\s|$)/.exec(description ?? '')?.[0] ?? description ?? '';
  return sentence === '' ? `AADSTS${code}` : sentence;
}

function networkCause(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return `no answer (${code})`;
    if (current.name === 'TimeoutError') return 'no answer (timed out)';
    current = (current as { cause?: unknown }).cause;
  }
  return `no answer (${err instanceof Error ? firstLine(err.message) : String(err)})`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
