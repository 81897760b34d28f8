/**
 * An authentication failure as one line a person can act on (issue 22): the authority host,
 * the tenant, the client id, the AADSTS code and a hint of what to check; exit 1. The stack
 * (and msal's full message) only with `--log-level debug`.
 */
import { graphScope } from '../connectors/entra/graph-client.js';
import { AuthenticationFailure } from '../connectors/entra/index.js';
import type { ExitCode } from './exit-codes.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';
import type { Runtime } from './runtime.js';

/**
 * Gets a token before a command reads anything, so a credential that cannot get one fails as
 * an `AuthenticationFailure` (the Graph SDK would turn it into a GraphError that keeps only its
 * message). The token is cached: the command's first request uses it.
 */
export async function ensureToken(runtime: Pick<Runtime, 'target' | 'connection'>): Promise<void> {
  await runtime.target.credential.getToken(graphScope(runtime.connection.graphUrl));
}

/** What to check for an AADSTS code (the common ones of app-only sign-in). */
const HINTS: Readonly<Record<number, string>> = {
  7000215:
    'check the client secret (target.auth.clientSecret): use the secret value, not its id, of a secret of this app',
  7000222: 'the client secret has expired: add a new one to the app and update the config',
  700016:
    'app not found in this tenant: check target.clientId and target.tenantId, and that the app is consented in the tenant',
  90002: 'tenant not found: check target.tenantId, and target.authorityHost for a national cloud',
  900023: 'the tenant id is not a valid tenant: check target.tenantId',
  700024:
    "the client assertion is outside its valid time: check this machine's clock and the federated token's lifetime",
  700027:
    "the client assertion's signature or audience was refused: check the certificate registered on the app (or the federated credential)",
  70021:
    "no federated credential matches the token: check the federated credential's issuer, subject and audience",
  7000112: 'the app is disabled in this tenant: enable its service principal',
  500011:
    'Microsoft Graph is not a resource of this tenant: check target.graphUrl and admin consent',
  1002012: 'the scope was refused: check target.graphUrl',
};

/** Reports an authentication failure found in `err`'s cause chain; undefined: none. */
export function reportAuthFailure(
  err: unknown,
  output: Output,
  withStack: boolean,
): ExitCode | undefined {
  const failure = findFailure(err);
  if (failure === undefined) return undefined;
  output.err(`${authFailureLine(failure)}\n`);
  if (withStack && err instanceof Error && err.stack) output.err(`${causeChain(err)}\n`);
  return EXIT.error;
}

export function authFailureLine(failure: AuthenticationFailure): string {
  const { authorityHost, tenantId, clientId, method } = failure.context;
  const who = [
    `authority ${authorityHost}`,
    `tenant ${tenantId}`,
    clientId === undefined ? `${method}` : `client ${clientId}`,
  ].join(', ');
  const code = failure.aadsts === undefined ? '' : `AADSTS${failure.aadsts}: `;
  const detail = failure.detail.replace(/\.$/, '');
  return `error: authentication failed (${who}): ${code}${detail}; hint: ${hintOf(failure)}`;
}

function hintOf(failure: AuthenticationFailure): string {
  if (failure.aadsts !== undefined) {
    return (
      HINTS[failure.aadsts] ??
      `look up AADSTS${failure.aadsts} at https://login.microsoftonline.com/error?code=${failure.aadsts}`
    );
  }
  if (failure.context.method === 'managed-identity') {
    return 'no managed identity answered: run on an Azure host with one assigned, or check auth.clientId';
  }
  if (failure.reason === 'unreachable') {
    return `the authority cannot be reached: check the network, proxy and DNS, and target.authorityHost`;
  }
  return 'run again with --log-level debug to see the full error';
}

function findFailure(err: unknown): AuthenticationFailure | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    if (current instanceof AuthenticationFailure) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function causeChain(err: Error): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    parts.push(current.stack ?? `${current.name}: ${current.message}`);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\ncaused by: ');
}
