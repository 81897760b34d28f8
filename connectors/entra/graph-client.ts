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
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
import type { ClientOptions, FetchOptions, Middleware } from '@microsoft/microsoft-graph-client';
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { Agent } from 'undici';
import type { GraphRequestObserver } from './graph-trace.js';
import { GraphTraceHandler } from './graph-trace.js';

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
  return new ClientSecretCredential(conn.tenantId, clientId, clientSecret, credentialOptions(conn));
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
  sendCertificateChain = false,
): TokenCredential {
  return new ClientCertificateCredential(
    conn.tenantId,
    clientId,
    { certificate: certificatePem },
    { ...credentialOptions(conn), sendCertificateChain },
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

/**
 * A managed identity (Azure VM, App Service, Functions, AKS, Arc): no secret anywhere.
 * `clientId` selects a user-assigned identity; without it the system-assigned one is used.
 * @azure/identity (msal-node) finds the host's endpoint from the environment (App Service:
 * `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`; none set: the VM's IMDS) in `process.env`, once
 * per process: the endpoint and msal's token cache are process-wide. `conn.caPem` is trusted
 * for the endpoint's HTTPS (the simulator's; Azure's own endpoints are plain loopback HTTP).
 */
export function createManagedIdentityCredential(
  clientId?: string,
  conn?: Pick<GraphConnection, 'caPem'>,
): TokenCredential {
  return new ManagedIdentityCredential({
    ...(clientId === undefined ? {} : { clientId }),
    ...tlsOptions(conn ?? {}),
  });
}

/** A credential whose cached tokens can be dropped (see `createRefreshableCredential`). */
export interface RefreshableCredential extends TokenCredential {
  /**
   * Drops every cached token unless a refresh already happened since `generation` was read:
   * concurrent requests that met the same 401 refresh once, not once each.
   */
  refresh(generation: number): void;
  /** Bumped by every refresh; read it before a request to refresh only on a current token. */
  readonly generation: number;
}

/**
 * Wraps a credential factory so a 401 mid-run can force a new token (catalogue G7). msal
 * caches tokens by wall-clock expiry, and a token can be refused before that (consent or keys
 * changed, clock skew, a simulated clock); @azure/identity offers no "forget the cache" call,
 * so a refresh builds a fresh credential, whose empty cache makes the next `getToken` acquire
 * a new token (for workload identity federation: with a freshly fetched assertion).
 */
export function createRefreshableCredential(factory: () => TokenCredential): RefreshableCredential {
  // Built at first use, so a credential that cannot be built fails the first request with
  // its own message rather than the construction of the target.
  let current: TokenCredential | undefined;
  let generation = 0;
  // Tokens are kept here too: ClientAssertionCredential fetches an assertion on every getToken
  // call before consulting its cache, which for GitHub's OIDC would be one request to GitHub
  // per Graph request. A token is reused until 5 minutes before it expires (msal's margin).
  const tokens = new Map<string, Promise<AccessToken | null>>();
  return {
    get generation() {
      return generation;
    },
    refresh(seen: number) {
      if (seen !== generation) return;
      generation += 1;
      current = undefined;
      tokens.clear();
    },
    async getToken(
      scopes: string | string[],
      options?: GetTokenOptions,
    ): Promise<AccessToken | null> {
      const key = [scopes].flat().join(' ');
      const cached = tokens.get(key);
      if (cached !== undefined) {
        const token = await cached.catch(() => null);
        if (token !== null && token.expiresOnTimestamp - 300_000 > Date.now()) return token;
        if (tokens.get(key) === cached) tokens.delete(key);
      }
      current ??= factory();
      const fresh = current.getToken(scopes, options);
      tokens.set(key, fresh);
      return fresh;
    },
  };
}

/**
 * The client assertion of GitHub Actions' OIDC provider for workload identity federation: a
 * fresh token is requested from the runner on every call, because @azure/identity calls this
 * on every token acquisition and GitHub's tokens expire after about 5 minutes (G7). Needs the
 * workflow permission `id-token: write` (which sets both variables).
 */
export function githubActionsAssertion(
  env: NodeJS.ProcessEnv = process.env,
  audience = 'api://AzureADTokenExchange',
): () => Promise<string> {
  return async () => {
    const url = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
    const token = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
    if (!url || !token) {
      throw new Error(
        'workload identity federation with GitHub Actions needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN: give the job `permissions: id-token: write`',
      );
    }
    const requestUrl = new URL(url);
    requestUrl.searchParams.set('audience', audience);
    const response = await fetch(requestUrl, {
      headers: { Authorization: `bearer ${token}`, Accept: 'application/json' },
    });
    if (!response.ok) {
      // The body may echo the request token; it is never included.
      throw new Error(`GitHub's OIDC token endpoint answered ${response.status}`);
    }
    const body = (await response.json()) as { value?: unknown };
    if (typeof body.value !== 'string' || body.value === '') {
      throw new Error("GitHub's OIDC token endpoint returned no token");
    }
    return body.value;
  };
}

/** A federated token read from a file on every call (Kubernetes projected service account tokens). */
export function fileAssertion(
  path: string,
  read: (path: string) => Promise<string>,
): () => Promise<string> {
  return async () => (await read(path)).trim();
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
          // Instance discovery asks login.microsoftonline.com about the authority, which a
          // private authority such as the simulator cannot satisfy.
          disableInstanceDiscovery: !MICROSOFT_AUTHORITY_HOSTS.has(
            new URL(conn.authorityHost).hostname.toLowerCase(),
          ),
        }),
    ...tlsOptions(conn),
  };
}

/** The credential pipeline's trust of `caPem` (see the module comment); none without it. */
function tlsOptions(conn: Pick<GraphConnection, 'caPem'>): { tlsOptions?: { ca: string } } {
  return conn.caPem === undefined ? {} : { tlsOptions: { ca: conn.caPem } };
}

/**
 * A Graph client for `${graphUrl}/v1.0`, authenticated by `credential`.
 *
 * The middleware chain is the SDK's default minus its RetryHandler: that handler caps every
 * Retry-After at 180 s (retrying early on longer ones), retries POSTs blindly (a create whose
 * response was lost would be sent twice) and never looks inside `$batch`. entrasync's own
 * policies (transport.ts, batch-executor.ts) retry instead, honouring every Retry-After in full,
 * so there is exactly one retry loop.
 *
 * `observe` (the CLI's debug trace) is told of each HTTP exchange, just before the SDK's own
 * HTTP handler, so it sees the final request ids and never more than graph-trace.ts allows.
 */
export function createGraphClient(
  conn: GraphConnection,
  credential: TokenCredential,
  observe?: GraphRequestObserver,
): Client {
  const graphUrl = conn.graphUrl.replace(/\/+$/, '');
  const authProvider = new TokenCredentialAuthenticationProvider(credential, {
    scopes: [graphScope(graphUrl)],
  });
  const middleware: Middleware[] = [
    new AuthenticationHandler(authProvider),
    new RedirectHandler(new RedirectHandlerOptions()),
    new TelemetryHandler(),
    ...(observe === undefined ? [] : [new GraphTraceHandler(observe)]),
    new HTTPMessageHandler(),
  ];
  const options: ClientOptions = {
    middleware,
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
