/**
 * The Microsoft identity platform endpoints that `@azure/identity` (msal-node) calls for an
 * app-only token with `authorityHost` set to the simulator and instance discovery disabled:
 *
 *   GET  /{tenant}/v2.0/.well-known/openid-configuration
 *   POST /{tenant}/oauth2/v2.0/token   (client_credentials; msal adds ?client-request-id=)
 *
 * Client authentication is one function per method, as `@azure/identity` v4 uses them:
 * - `client_secret` (ClientSecretCredential);
 * - `client_assertion` signed by a registered certificate's private key (ClientCertificate-
 *   Credential: a PS256/RS256 JWT with `x5t#S256` or `x5t`, iss = sub = client id, aud = the
 *   token endpoint, a short lifetime);
 * - `client_assertion` issued by an external identity provider and matched against a
 *   federated identity credential (ClientAssertionCredential, workload identity federation:
 *   issuer, subject and audience must match exactly; the provider's signing keys are given to
 *   the simulator, since it cannot fetch them).
 * Assertions are checked against wall-clock time (they come from real clients), whatever clock
 * the simulator runs on. Errors follow Entra's token error body (`error`, `error_description`
 * starting with the AADSTS code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`);
 * assertions and secrets are never logged or echoed.
 */
import { createHash, createPublicKey, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { AccessTokenService } from './access-token.js';
import { GRAPH_AUDIENCE } from './access-token.js';
import type { SimRequest, SimResponse } from './http.js';
import { header } from './http.js';

/** A federated identity credential: which external tokens may act as the app. */
export interface FederatedCredential {
  /** e.g. `https://token.actions.githubusercontent.com`. */
  readonly issuer: string;
  /** e.g. `repo:contoso/entrasync-config:environment:production`. */
  readonly subject: string;
  /** Default `['api://AzureADTokenExchange']`. */
  readonly audiences?: readonly string[];
  /** The issuer's signing keys (its JWKS document), or one public key as PEM. */
  readonly jwks?: JSONWebKeySet;
  readonly publicKeyPem?: string;
}

/** How a registered app proves its identity. Secrets are held as SHA-256 digests only. */
export type ClientCredential =
  | { readonly kind: 'secret'; readonly sha256: Buffer }
  | {
      readonly kind: 'certificate';
      readonly key: KeyObject;
      /** base64url SHA-1 and SHA-256 thumbprints (x5t, x5t#S256). */
      readonly x5t: string;
      readonly x5tS256: string;
    }
  | { readonly kind: 'federated'; readonly credential: FederatedCredential };

export function certificateCredential(pem: string): ClientCredential {
  const certificate = new X509Certificate(pem);
  const thumbprint = (hex: string): string =>
    Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64url');
  return {
    kind: 'certificate',
    key: createPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' })),
    x5t: thumbprint(certificate.fingerprint),
    x5tS256: thumbprint(certificate.fingerprint256),
  };
}

export function federatedCredential(credential: FederatedCredential): ClientCredential {
  if (credential.jwks === undefined && credential.publicKeyPem === undefined) {
    throw new Error(`Federated credential for ${credential.issuer} needs jwks or publicKeyPem.`);
  }
  return { kind: 'federated', credential };
}

export interface RegisteredClient {
  readonly clientId: string;
  readonly roles: readonly string[];
  readonly credentials: readonly ClientCredential[];
}

export function secretCredential(secret: string): ClientCredential {
  return { kind: 'secret', sha256: sha256(secret) };
}

export interface IdentityEndpointContext {
  readonly origin: string;
  readonly tenantId: string;
  readonly clients: ReadonlyMap<string, RegisteredClient>;
  readonly tokens: AccessTokenService;
}

/** A token-endpoint outcome, with the client it authenticated (for the request log). */
export interface TokenOutcome {
  readonly response: SimResponse;
  readonly clientId?: string;
}

const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// The resource ids Entra accepts for Microsoft Graph, plus the simulator's own origin.
const GRAPH_RESOURCE_IDS = [GRAPH_AUDIENCE, '00000003-0000-0000-c000-000000000000'];

/**
 * Whether `resource` (without `/.default`) names Microsoft Graph: one of its resource ids or
 * the simulator's origin, in any case, trailing slashes ignored. The token endpoint's scope and
 * the managed identity endpoint's `resource` are checked alike.
 */
export function isGraphResource(resource: string, origin: string): boolean {
  const id = resource.toLowerCase().replace(/\/+$/, '');
  return [...GRAPH_RESOURCE_IDS, origin.toLowerCase()].includes(id);
}

export function openIdConfiguration(
  tenantSegment: string,
  req: SimRequest,
  ctx: IdentityEndpointContext,
): SimResponse {
  if (tenantSegment.toLowerCase() !== ctx.tenantId) return tenantNotFound(tenantSegment, req, ctx);
  // msal-node rejects the document unless `issuer` has the authority's scheme and host:port.
  const base = `${ctx.origin}/${ctx.tenantId}`;
  return {
    status: 200,
    body: {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: null,
      cloud_instance_name: new URL(ctx.origin).host,
      msgraph_host: new URL(ctx.origin).host,
    },
  };
}

/** The signing keys document. Simulator tokens are HS256 with a private key: none to publish. */
export function jsonWebKeySet(
  tenantSegment: string,
  req: SimRequest,
  ctx: IdentityEndpointContext,
): SimResponse {
  if (tenantSegment.toLowerCase() !== ctx.tenantId) return tenantNotFound(tenantSegment, req, ctx);
  return { status: 200, body: { keys: [] } };
}

export async function tokenRequest(
  tenantSegment: string,
  req: SimRequest,
  ctx: IdentityEndpointContext,
): Promise<TokenOutcome> {
  const fail = (
    status: number,
    error: string,
    code: number,
    description: string,
  ): TokenOutcome => ({
    response: aadError(status, error, code, description, req, ctx),
  });
  if (req.method !== 'POST') {
    return fail(
      400,
      'invalid_request',
      900561,
      `The endpoint only accepts POST, OPTIONS requests. Received a ${req.method} request.`,
    );
  }
  if (tenantSegment.toLowerCase() !== ctx.tenantId) {
    return { response: tenantNotFound(tenantSegment, req, ctx) };
  }
  const form = new URLSearchParams(req.body.toString('utf8'));
  const missing = ['grant_type', 'client_id', 'scope'].find((name) => !form.get(name));
  if (missing !== undefined) {
    return fail(
      400,
      'invalid_request',
      900144,
      `The request body must contain the following parameter: '${missing}'.`,
    );
  }
  const grantType = form.get('grant_type') ?? '';
  if (grantType !== 'client_credentials') {
    return fail(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grantType}'.`,
    );
  }
  const requestedClientId = form.get('client_id') ?? '';
  const client = ctx.clients.get(requestedClientId.toLowerCase());
  if (client === undefined) {
    return fail(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${requestedClientId}' was not found in the directory '${ctx.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  const clientId = client.clientId;
  const authError = await authenticateClient(
    client,
    form,
    `${ctx.origin}/${ctx.tenantId}/oauth2/v2.0/token`,
  );
  if (authError !== undefined) {
    return {
      ...fail(
        authError.status ?? 401,
        authError.error ?? 'invalid_client',
        authError.code,
        authError.description,
      ),
      clientId,
    };
  }

  const scope = form.get('scope') ?? '';
  const scopeError = checkScope(scope, ctx);
  if (scopeError !== undefined) {
    return { ...fail(400, scopeError.error, scopeError.code, scopeError.description), clientId };
  }

  const issued = await ctx.tokens.issue({
    appId: client.clientId,
    tenantId: ctx.tenantId,
    roles: client.roles,
  });
  return {
    clientId,
    response: {
      status: 200,
      headers: { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
      body: {
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        ext_expires_in: issued.expiresIn,
        access_token: issued.accessToken,
      },
    },
  };
}

interface AuthFailure {
  readonly code: number;
  readonly description: string;
  /** Entra answers some assertion failures with 400 invalid_request rather than 401. */
  readonly error?: string;
  readonly status?: number;
}

type ClientAuthentication =
  | { readonly method: 'client_secret'; readonly secret: string }
  | {
      readonly method: 'client_assertion';
      readonly assertionType: string;
      readonly assertion: string;
    };

function readClientAuthentication(form: URLSearchParams): ClientAuthentication | undefined {
  const secret = form.get('client_secret');
  if (secret) return { method: 'client_secret', secret };
  const assertion = form.get('client_assertion');
  if (assertion) {
    return {
      method: 'client_assertion',
      assertionType: form.get('client_assertion_type') ?? '',
      assertion,
    };
  }
  return undefined;
}

/** Undefined when `form` proves it is `client`; otherwise Entra's invalid_client reason. */
async function authenticateClient(
  client: RegisteredClient,
  form: URLSearchParams,
  tokenUrl: string,
): Promise<AuthFailure | undefined> {
  const auth = readClientAuthentication(form);
  if (auth === undefined) {
    return {
      code: 7000218,
      description:
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    };
  }
  switch (auth.method) {
    case 'client_secret':
      return verifySecret(client, auth.secret);
    case 'client_assertion':
      return verifyAssertion(client, auth.assertionType, auth.assertion, tokenUrl);
  }
}

function verifySecret(client: RegisteredClient, secret: string): AuthFailure | undefined {
  const digest = sha256(secret);
  const matches = client.credentials.some(
    (c) => c.kind === 'secret' && timingSafeEqual(c.sha256, digest),
  );
  if (matches) return undefined;
  return {
    code: 7000215,
    description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`,
  };
}

const CLOCK_SKEW_SECONDS = 300;

/** Certificate (private_key_jwt) and federated (workload identity) assertions. */
async function verifyAssertion(
  client: RegisteredClient,
  assertionType: string,
  assertion: string,
  tokenUrl: string,
): Promise<AuthFailure | undefined> {
  if (assertionType !== JWT_BEARER_ASSERTION) {
    return {
      code: 7000219,
      description:
        "'client_assertion_type' must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
    };
  }
  let claims: Record<string, unknown>;
  let protectedHeader: Record<string, unknown>;
  try {
    claims = decodeJwt(assertion);
    protectedHeader = decodeProtectedHeader(assertion);
  } catch {
    return {
      code: 50027,
      description: 'JWT token is invalid or malformed.',
      status: 400,
      error: 'invalid_request',
    };
  }
  if (claims['iss'] === client.clientId || claims['sub'] === client.clientId) {
    return verifyCertificateAssertion(client, assertion, claims, protectedHeader, tokenUrl);
  }
  return verifyFederatedAssertion(client, assertion, claims);
}

async function verifyCertificateAssertion(
  client: RegisteredClient,
  assertion: string,
  claims: Record<string, unknown>,
  protectedHeader: Record<string, unknown>,
  tokenUrl: string,
): Promise<AuthFailure | undefined> {
  if (claims['iss'] !== client.clientId || claims['sub'] !== client.clientId) {
    return {
      code: 700021,
      description: "Client assertion application identifier doesn't match 'client_id' parameter.",
    };
  }
  const certificate = client.credentials.find(
    (c): c is Extract<ClientCredential, { kind: 'certificate' }> =>
      c.kind === 'certificate' &&
      (c.x5tS256 === protectedHeader['x5t#S256'] || c.x5t === protectedHeader['x5t']),
  );
  if (certificate === undefined) {
    return {
      code: 700027,
      description: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${client.clientId}'.]`,
    };
  }
  try {
    await jwtVerify(assertion, certificate.key, {
      algorithms: ['PS256', 'RS256'],
      audience: [tokenUrl, tokenUrl.toLowerCase()],
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'aud', 'iss', 'sub'],
    });
    return undefined;
  } catch (error) {
    return assertionFailure(error, true);
  }
}

async function verifyFederatedAssertion(
  client: RegisteredClient,
  assertion: string,
  claims: Record<string, unknown>,
): Promise<AuthFailure | undefined> {
  const issuer = String(claims['iss'] ?? '');
  const subject = String(claims['sub'] ?? '');
  const audiences = Array.isArray(claims['aud'])
    ? claims['aud'].map(String)
    : [String(claims['aud'] ?? '')];
  const federated = client.credentials.filter(
    (c): c is Extract<ClientCredential, { kind: 'federated' }> => c.kind === 'federated',
  );
  const forIssuer = federated.filter((c) => c.credential.issuer === issuer);
  if (forIssuer.length === 0) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 700211,
      description: `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
    };
  }
  const match = forIssuer.find(
    (c) =>
      c.credential.subject === subject &&
      (c.credential.audiences ?? ['api://AzureADTokenExchange']).some((a) => audiences.includes(a)),
  );
  if (match === undefined) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 70021,
      description: `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audiences.join(',')}'.`,
    };
  }
  try {
    const { credential } = match;
    const options = {
      issuer,
      subject,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp'],
    };
    if (credential.jwks !== undefined) {
      await jwtVerify(assertion, createLocalJWKSet(credential.jwks), options);
    } else {
      await jwtVerify(assertion, createPublicKey(credential.publicKeyPem ?? ''), options);
    }
    return undefined;
  } catch (error) {
    return assertionFailure(error, false);
  }
}

function assertionFailure(error: unknown, certificate: boolean): AuthFailure {
  if (error instanceof joseErrors.JWTExpired) {
    return { code: 700024, description: 'Client assertion is not within its valid time range.' };
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') {
      return { code: 700024, description: 'Client assertion is not within its valid time range.' };
    }
    if (error.claim === 'aud') {
      return {
        code: 700027,
        description: `Client assertion contains an invalid audience; the simulator expects the token endpoint URL.`,
      };
    }
  }
  return {
    code: 700027,
    description: certificate
      ? 'Client assertion failed signature validation.'
      : 'Client assertion failed signature validation against the federated issuer keys.',
  };
}

function checkScope(
  scope: string,
  ctx: IdentityEndpointContext,
): { error: string; code: number; description: string } | undefined {
  const scopes = scope.split(' ').filter((s) => s !== '');
  const resources = scopes.map((s) =>
    s.endsWith('/.default') ? s.slice(0, -'/.default'.length) : undefined,
  );
  if (scopes.length !== 1 || resources[0] === undefined) {
    return {
      error: 'invalid_scope',
      code: 1002012,
      description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    };
  }
  if (!isGraphResource(resources[0], ctx.origin)) {
    return {
      error: 'invalid_resource',
      code: 500011,
      description: `The resource principal named ${resources[0]} was not found in the tenant named ${ctx.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    };
  }
  return undefined;
}

function tenantNotFound(
  tenant: string,
  req: SimRequest,
  ctx: IdentityEndpointContext,
): SimResponse {
  return aadError(
    400,
    'invalid_tenant',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    req,
    ctx,
  );
}

function aadError(
  status: number,
  error: string,
  code: number,
  description: string,
  req: SimRequest,
  ctx: IdentityEndpointContext,
): SimResponse {
  const correlationId =
    req.url.searchParams.get('client-request-id') ??
    header(req, 'client-request-id') ??
    req.clientRequestId;
  const timestamp = `${new Date().toISOString().slice(0, 19).replace('T', ' ')}Z`;
  return {
    status,
    headers: { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${req.requestId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: req.requestId,
      correlation_id: correlationId,
      error_uri: `${ctx.origin}/error?code=${code}`,
    },
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
