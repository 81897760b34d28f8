/**
 * Builds the credential and the Microsoft Graph client the entra connector uses, for the real
 * Microsoft cloud or for the embedded simulator. The two differ only in data (authority host,
 * Graph URL, CA); the libraries and their code paths are the same.
 *
 * Trusting a private CA (the simulator's) is done per client, never process-wide: no
 * NODE_EXTRA_CA_CERTS (read once at process start), no NODE_TLS_REJECT_UNAUTHORIZED, no change
 * to `https.globalAgent` or undici's global dispatcher. Two clients need it, and they use
 * different HTTP stacks (verified against @azure/identity 4.13.1 and
 * @microsoft/microsoft-graph-client 3.0.7 on Node 20):
 *
 * - The credential: msal-node sends its requests through @azure/identity's own pipeline
 *   (@azure/core-rest-pipeline, Node's `https`). The pipeline's `tlsOptions: { ca }` makes its
 *   HTTPS agent trust exactly that CA. Without it, msal fails with endpoints_resolution_error
 *   (SELF_SIGNED_CERT_IN_CHAIN underneath).
 * - The Graph client calls the global `fetch` (Node's bundled undici) with our `fetchOptions`.
 *   An undici `Agent({ connect: { ca } })` passed as `dispatcher` is honoured, and undici 7's
 *   Agent works with Node 20's bundled undici 6 fetch. The node-fetch style `agent` option in
 *   the SDK's `FetchOptions` type is ignored by the native fetch, so it cannot be used.
 *
 * Without `caPem` neither option is set and both clients use the system's default trust.
 */
import type { TokenCredential } from '@azure/identity';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
} from '@azure/identity';
import type { ClientOptions, FetchOptions } from '@microsoft/microsoft-graph-client';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { Agent } from 'undici';

export interface GraphConnection {
  /** Graph's origin: `https://graph.microsoft.com`, a national cloud's, or the simulator's. */
  graphUrl: string;
  /** The identity platform's host; default `https://login.microsoftonline.com`. */
  authorityHost?: string;
  tenantId: string;
  /** PEM of a private CA to trust (the simulator's), for both the credential and Graph. */
  caPem?: string;
}

// Hosts of Microsoft's clouds, where msal's instance discovery applies (AzureAuthorityHosts).
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.microsoftonline.de',
]);

export function createClientSecretCredential(
  conn: GraphConnection,
  clientId: string,
  clientSecret: string,
): TokenCredential {
  return new ClientSecretCredential(conn.tenantId, clientId, clientSecret, {
    ...(conn.authorityHost === undefined
      ? {}
      : {
          authorityHost: conn.authorityHost,
          // Instance discovery asks login.microsoftonline.com about the authority, which a
          // private authority such as the simulator cannot satisfy.
          disableInstanceDiscovery: !MICROSOFT_AUTHORITY_HOSTS.has(
            new URL(conn.authorityHost).hostname.toLowerCase(),
          ),
        }),
    ...(conn.caPem === undefined ? {} : { tlsOptions: { ca: conn.caPem } }),
  });
}

/**
 * A certificate credential (recommended over secrets by Microsoft): `certificatePem` holds the
 * certificate and its private key (PEM). @azure/identity signs a short-lived client assertion
 * with the key for each token request; the key never leaves the process.
 */
export function createClientCertificateCredential(
  conn: GraphConnection,
  clientId: string,
  certificatePem: string,
): TokenCredential {
  return new ClientCertificateCredential(
    conn.tenantId,
    clientId,
    { certificate: certificatePem },
    credentialOptions(conn),
  );
}

/**
 * A workload identity federation credential: `getAssertion` returns a token from an external
 * identity provider (e.g. GitHub Actions' OIDC token). @azure/identity calls it on every token
 * acquisition, so it must fetch a fresh token each time, never cache one (catalogue G7).
 */
export function createClientAssertionCredential(
  conn: GraphConnection,
  clientId: string,
  getAssertion: () => Promise<string>,
): TokenCredential {
  return new ClientAssertionCredential(
    conn.tenantId,
    clientId,
    getAssertion,
    credentialOptions(conn),
  );
}

function credentialOptions(conn: GraphConnection): {
  authorityHost?: string;
  disableInstanceDiscovery?: boolean;
  tlsOptions?: { ca: string };
} {
  return {
    ...(conn.authorityHost === undefined
      ? {}
      : {
          authorityHost: conn.authorityHost,
          disableInstanceDiscovery: !MICROSOFT_AUTHORITY_HOSTS.has(
            new URL(conn.authorityHost).hostname.toLowerCase(),
          ),
        }),
    ...(conn.caPem === undefined ? {} : { tlsOptions: { ca: conn.caPem } }),
  };
}

/** A Graph client for `${graphUrl}/v1.0`, authenticated by `credential`. */
export function createGraphClient(conn: GraphConnection, credential: TokenCredential): Client {
  const graphUrl = conn.graphUrl.replace(/\/+$/, '');
  const authProvider = new TokenCredentialAuthenticationProvider(credential, {
    scopes: [graphScope(graphUrl)],
  });
  const options: ClientOptions = {
    authProvider,
    baseUrl: graphUrl,
    defaultVersion: 'v1.0',
    // The SDK attaches the bearer token only to Graph's own hosts and to these; without it,
    // requests to any other host (the simulator) go out unauthenticated.
    customHosts: new Set([new URL(graphUrl).hostname]),
  };
  if (conn.caPem !== undefined) {
    const dispatcher = new Agent({ connect: { ca: conn.caPem } });
    // `dispatcher` is a fetch option of Node's fetch that the SDK's RequestInit typing (from
    // undici-types) describes with its own Dispatcher type.
    options.fetchOptions = { dispatcher } as unknown as FetchOptions;
  }
  return Client.initWithMiddleware(options);
}

/** The `.default` scope of Graph at `graphUrl`: `https://graph.microsoft.com/.default`. */
export function graphScope(graphUrl: string): string {
  return `${graphUrl.replace(/\/+$/, '')}/.default`;
}
